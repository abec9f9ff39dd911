package io.p2vkit.image.vmdk;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.SparseFiles;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 4 TiB disk with a few MiB of data writes, maps and reads back in time that depends on the
 * data, not on the virtual size (the run would take hours otherwise), and stays small on disk.
 */
class VmdkHugeDiskTest {

    private static final long SIZE = 4L << 40;
    private static final long[] AT = {0, 1L << 40, (3L << 40) + 12345 * 512L, SIZE - (1 << 20)};

    @ParameterizedTest
    @ValueSource(strings = {"monolithicSparse", "streamOptimized"})
    void fourTiB(String subformat, @TempDir Path dir) throws Exception {
        Path vmdk = dir.resolve("huge.vmdk");
        byte[][] data = new byte[AT.length][1 << 20];
        Random rnd = new Random(4);
        try (VirtualDisk disk = new VmdkFormat().create(vmdk, SIZE, CreateOptions.parse("subformat=" + subformat))) {
            assertEquals(SIZE, disk.size());
            for (int i = 0; i < AT.length; i++) {
                rnd.nextBytes(data[i]);
                disk.write(AT[i], ByteBuffer.wrap(data[i]));
            }
        }
        assertTrue(Files.size(vmdk) < (subformat.equals("streamOptimized") ? 16L << 20 : 1L << 30));
        assertTrue(SparseFiles.allocatedBytes(vmdk) < 64L << 20,
                "the tables of a sparse extent stay holes");
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            assertEquals(SIZE, disk.size());
            for (int i = 0; i < AT.length; i++) {
                ByteBuffer b = ByteBuffer.allocate(1 << 20);
                disk.read(AT[i], b);
                assertEquals(ByteBuffer.wrap(data[i]), b.flip(), "data at " + AT[i]);
            }
            List<Extent> runs = disk.extents(0, SIZE);
            long dataBytes = runs.stream().filter(Extent::holdsData).mapToLong(Extent::length).sum();
            assertTrue(dataBytes >= 4L << 20 && dataBytes <= 5L << 20, "data runs cover the writes: " + dataBytes);
            assertEquals(SIZE, runs.get(runs.size() - 1).end());
        }
        if (Tools.available("qemu-img")) {
            Tools.Result info = Tools.ok("qemu-img", "info", "--output=json", vmdk.toString());
            assertTrue(info.out().contains("\"virtual-size\": " + SIZE), info.out());
        }
    }
}
