package io.p2vkit.image.vmdk;

import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.testing.TestDisks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.vmdk.VmdkConstants.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our streamOptimized output has VMware's canonical layout: walks the file marker by marker, with
 * no help from our reader, and checks every rule of the layout.
 */
class VmdkStreamLayoutTest {

    @Test
    void layoutIsVmwaresCanonicalOne(@TempDir Path dir) throws IOException {
        Path raw = TestDisks.mixed(dir.resolve("d.raw"), 48L * 1024 * 1024 + 512, 96 * 1024, 7);
        Path vmdk = dir.resolve("s.vmdk");
        VmdkTestSupport.convert(raw, vmdk, "subformat=streamOptimized,adapter_type=lsilogic");
        try (ImageFile f = ImageFile.openRead(vmdk)) {
            long size = f.size();
            assertEquals(0, size % SECTOR, "the file is whole sectors");
            ByteBuffer h = f.read(0, SECTOR, "header");
            assertEquals(SPARSE_MAGIC, h.getInt(0));
            assertEquals(3, h.getInt(4), "header version 3");
            int flags = h.getInt(8);
            assertEquals(FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS, flags,
                    "compressed grains + markers, no redundant-GD flag");
            long capacity = h.getLong(12);
            assertEquals(ceilDiv(48L * 1024 * 1024 + 512, SECTOR), capacity);
            assertEquals(128, h.getLong(20), "64 KiB grains");
            assertEquals(1, h.getLong(28), "descriptor at sector 1");
            assertEquals(0, h.getLong(48), "no redundant grain directory");
            assertEquals(GD_AT_END, h.getLong(56), "gdOffset = GD_AT_END in the leading header");
            long overHead = h.getLong(64);
            assertEquals(1, h.getShort(77), "deflate");
            String descriptor = new String(f.read(SECTOR, (int) (h.getLong(36) * SECTOR), "d").array(),
                    StandardCharsets.UTF_8);
            assertTrue(descriptor.contains("createType=\"streamOptimized\""), descriptor);
            assertTrue(descriptor.contains("ddb.adapterType = \"lsilogic\""), descriptor);

            long pos = overHead;
            long lastLba = -1;
            int grainsInTable = 0;
            long currentTable = -1;
            List<Long> tablesSeen = new ArrayList<>();
            long gdAt = -1;
            boolean footer = false;
            boolean eos = false;
            int grains = 0;
            while (pos * SECTOR < size) {
                ByteBuffer m = f.read(pos * SECTOR, 16, "marker");
                long value = m.getLong(0);
                int len = m.getInt(8);
                if (len != 0) {
                    assertFalse(footer || gdAt >= 0, "grains come before the directory and footer");
                    assertTrue(value > lastLba, "grains in ascending LBA order");
                    assertEquals(0, value % 128);
                    long table = value / 128 / 512;
                    if (currentTable >= 0 && table != currentTable) {
                        assertEquals(0, grainsInTable, "a table's marker follows its grains before the next table's");
                    }
                    currentTable = table;
                    grainsInTable++;
                    lastLba = value;
                    grains++;
                    pos += ceilDiv(12 + len, SECTOR);
                    continue;
                }
                int type = m.getInt(12);
                switch (type) {
                    case MARKER_GT -> {
                        assertEquals(4, value, "a GT of 512 entries is 4 sectors");
                        assertTrue(grainsInTable > 0, "a table follows its grains");
                        int[] gt = new int[512];
                        f.read((pos + 1) * SECTOR, 2048, "gt").asIntBuffer().get(gt);
                        int used = 0;
                        for (int e : gt) {
                            if (e != 0) {
                                used++;
                                ByteBuffer gm = f.read(Integer.toUnsignedLong(e) * SECTOR, 12, "grain");
                                assertEquals(currentTable, gm.getLong(0) / 128 / 512, "entry points into its own table's grains");
                            }
                        }
                        assertEquals(grainsInTable, used, "every grain of the table is referenced");
                        tablesSeen.add(currentTable);
                        grainsInTable = 0;
                    }
                    case MARKER_GD -> {
                        assertEquals(0, grainsInTable, "last table written before the directory");
                        gdAt = pos + 1;
                    }
                    case MARKER_FOOTER -> {
                        assertTrue(gdAt > 0, "directory before footer");
                        assertEquals(1, value);
                        ByteBuffer foot = f.read((pos + 1) * SECTOR, SECTOR, "footer");
                        assertEquals(gdAt, foot.getLong(56), "footer gives the directory's offset");
                        ByteBuffer copy = foot.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                        copy.putLong(56, GD_AT_END);
                        assertEquals(h.rewind(), copy.rewind(), "footer is the header with gdOffset filled in");
                        footer = true;
                    }
                    case MARKER_EOS -> {
                        assertTrue(footer, "footer before end-of-stream");
                        assertEquals(size / SECTOR - 1, pos, "end-of-stream is the last sector");
                        eos = true;
                    }
                    default -> throw new AssertionError("unknown marker type " + type + " at sector " + pos);
                }
                if (eos) {
                    break;
                }
                pos += 1 + value;
            }
            assertTrue(eos, "the stream ends with an end-of-stream marker");
            assertTrue(grains > 100, "the disk's data is there: " + grains + " grains");
            int[] gd = new int[(int) ceilDiv(ceilDiv(capacity, 128), 512)];
            f.read(gdAt * SECTOR, gd.length * 4, "gd").asIntBuffer().get(gd);
            int nonEmpty = 0;
            for (int i = 0; i < gd.length; i++) {
                if (gd[i] != 0) {
                    nonEmpty++;
                    assertTrue(tablesSeen.contains((long) i), "directory points only at written tables");
                }
            }
            assertEquals(tablesSeen.size(), nonEmpty);
        }
    }
}
