package io.p2vkit.image.vhd;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static io.p2vkit.image.vhd.VhdTestSupport.batEntry;
import static io.p2vkit.image.vhd.VhdTestSupport.flip;
import static io.p2vkit.image.vhd.VhdTestSupport.setBatEntry;
import static io.p2vkit.image.vhd.VhdTestSupport.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code check} and the footer copy: each finding made on purpose, then looked for. */
class VhdCheckerTest {

    @TempDir
    Path dir;

    private final VhdFormat vhd = new VhdFormat();

    // ---- footers ----

    @Test
    void damagedFooterFallsBackToTheCopyAndCheckSaysSo() throws IOException {
        Path f = dir.resolve("copy.vhd");
        byte[] data = new byte[1 << 20];
        new Random(3).nextBytes(data);
        try (VirtualDisk d = vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on"))) {
            d.write(1 << 20, ByteBuffer.wrap(data));
        }
        assertTrue(vhd.check(f, OpenOptions.READ_ONLY, Formats.get()).isClean());
        flip(f, Files.size(f) - 512 + 200);
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            byte[] back = new byte[data.length];
            d.read(1 << 20, ByteBuffer.wrap(back));
            assertArrayEquals(data, back);
            assertTrue(((String) d.info().details().get("footer copy")).startsWith("used"));
        }
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertEquals(1, r.corruptionCount(), r.corruptions().toString());
        assertTrue(r.corruptions().getFirst().contains("copy at offset 0 is good and is used"));
        // Both damaged: refused, naming the checksum.
        flip(f, 100);
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Formats.get().open(f, "vpc", OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void copyThatDiffersIsReported() throws IOException {
        Path f = dir.resolve("differs.vhd");
        vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on")).close();
        VhdFooter copy;
        try (ImageFile file = ImageFile.openRead(f)) {
            copy = VhdFooter.parse(VhdLayout.bytes(file, 0, 512, "copy"));
        }
        VhdFooter other = new VhdFooter(copy.features(), copy.formatVersion(), copy.dataOffset(), copy.timestamp() + 1,
                copy.creatorApp(), copy.creatorVersion(), copy.creatorOs(), copy.originalSize(), copy.currentSize(),
                copy.geometry(), copy.diskType(), 0, copy.uniqueId(), false, true);
        write(f, 0, other.encode());
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("differs"), r.corruptions().toString());
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertEquals("differs from the footer", d.info().details().get("footer copy"));
        }
    }

    // ---- check ----

    /** A dynamic disk of 4 MiB in 512 KiB blocks with blocks 0, 1 and 2 written. */
    private Path threeBlocks(String name) throws IOException {
        Path f = dir.resolve(name);
        try (VirtualDisk d = vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on,block_size=512K"))) {
            byte[] b = new byte[3 * (512 << 10)];
            java.util.Arrays.fill(b, (byte) 1);
            d.write(0, ByteBuffer.wrap(b));
        }
        return f;
    }



    @Test
    void checkFindsBlocksPastTheEndAndOpenRefusesThem() throws IOException {
        Path f = threeBlocks("eof.vhd");
        setBatEntry(f, 5, (int) (Files.size(f) / 512 + 10));
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("ends past the end of the file"), r.corruptions().toString());
        assertEquals(CheckReport.EXIT_CORRUPT, r.exitCode());
        assertThrows(ImageFormatException.class, () -> Formats.get().open(f, OpenOptions.READ_ONLY));
    }

    @Test
    void checkFindsTwoEntriesSharingABlock() throws IOException {
        Path f = threeBlocks("dup.vhd");
        setBatEntry(f, 6, batEntry(f, 1));
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("share file space"), r.corruptions().toString());
        assertTrue(r.leaks().toString().contains("past the virtual size") || r.corruptionCount() >= 1);
    }

    @Test
    void checkFindsABlockOverTheTable() throws IOException {
        Path f = threeBlocks("overlap.vhd");
        setBatEntry(f, 3, 3); // sector 3 = offset 1536: the BAT itself
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("overlaps the block allocation table"),
                r.corruptions().toString());
    }

    @Test
    void checkCountsAllocationAndLeaks() throws IOException {
        Path f = threeBlocks("leak.vhd");
        CheckReport clean = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(clean.isClean());
        assertEquals(3, clean.allocatedClusters());
        assertEquals(8, clean.totalClusters());
        setBatEntry(f, 1, -1); // block 1's space is now used by nothing
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertEquals(0, r.corruptionCount(), r.corruptions().toString());
        assertEquals(CheckReport.EXIT_LEAKS, r.exitCode(), r.leaks().toString());
    }

    @Test
    void checkReportsSizesBeyondTheFormat() throws IOException {
        // A well-formed dynamic disk of 3 TiB in 256 MiB blocks: readable, but not a legal VHD.
        Path f = dir.resolve("3t.vhd");
        long size = 3L << 40;
        long block = 256L << 20;
        int entries = (int) (size / block);
        VhdFooter footer = new VhdFooter(2, 0x10000, 512, 0, "win ", 0, VhdConstants.OS_WINDOWS, size, size,
                VhdGeometry.MAXIMUM, VhdConstants.TYPE_DYNAMIC, 0, UUID.randomUUID(), false, true);
        List<VhdDynamicHeader.Locator> none = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            none.add(new VhdDynamicHeader.Locator(0, 0, 0, 0));
        }
        VhdDynamicHeader h = new VhdDynamicHeader(-1, 1536, 0x10000, entries, block, 0, true, new UUID(0, 0), 0, "",
                none);
        byte[] bat = new byte[entries * 4];
        java.util.Arrays.fill(bat, (byte) 0xFF);
        write(f, 0, footer.encode());
        write(f, 512, h.encode());
        write(f, 1536, bat);
        write(f, 1536 + bat.length, footer.encode());
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("2040 GiB"), r.corruptions().toString());
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertEquals(size, d.size());
        }
    }
}
