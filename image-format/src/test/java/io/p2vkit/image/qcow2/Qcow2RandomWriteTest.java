package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random-access writes (the VM's writable disk): any offset and length, overwrites, zeros over
 * data, reads between writes, then reopening the image for writing. A byte array is the model.
 */
class Qcow2RandomWriteTest {

    private static final int SIZE = 24 << 20;

    @TempDir
    Path dir;

    private static void randomWrites(VirtualDisk d, byte[] model, Random rnd, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            int len = switch (rnd.nextInt(4)) {
                case 0 -> 1 + rnd.nextInt(700);
                case 1 -> 512 * (1 + rnd.nextInt(300));
                case 2 -> 65536 * (1 + rnd.nextInt(5));
                default -> 1 + rnd.nextInt(400_000);
            };
            int off = rnd.nextInt(SIZE - len);
            byte[] data = new byte[len];
            if (rnd.nextInt(5) > 0) {
                rnd.nextBytes(data);
            }
            d.write(off, ByteBuffer.wrap(data));
            System.arraycopy(data, 0, model, off, len);
            if (i % 10 == 0) {
                int rlen = 1 + rnd.nextInt(300_000);
                int roff = rnd.nextInt(SIZE - rlen);
                ByteBuffer got = ByteBuffer.allocate(rlen);
                d.read(roff, got);
                assertEquals(-1, got.flip().mismatch(ByteBuffer.wrap(model, roff, rlen)), "read after write " + i);
            }
        }
    }

    @ParameterizedTest(name = "cluster_size={0}")
    @ValueSource(strings = {"512", "65536", "2M"})
    void randomWritesThenReopen(String clusterSize) throws Exception {
        Path img = dir.resolve("vm.qcow2");
        byte[] model = new byte[SIZE];
        Random rnd = new Random(clusterSize.hashCode());
        try (VirtualDisk d = new Qcow2Format().create(img, SIZE, CreateOptions.parse("cluster_size=" + clusterSize))) {
            randomWrites(d, model, rnd, 150);
            d.flush();
        }
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_WRITE)) {
            randomWrites(d, model, rnd, 150);
        }
        Path raw = Files.write(dir.resolve("model.raw"), model);
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(raw, d);
            assertEquals(false, d.info().details().get("dirty"));
        }
        assertTrue(new Qcow2Format().check(img, OpenOptions.READ_ONLY, null).isClean());
        if (Tools.available("qemu-img")) {
            Qcow2InteropTest.assertQemuClean(img);
            Tools.Result cmp = Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", raw.toString(), img.toString());
            assertEquals(0, cmp.exit(), cmp.all());
        }
    }

    @Test
    void zeroClusterBetweenDataInOneWriteOverBacking() throws Exception {
        Path base = dir.resolve("base.raw");
        byte[] fill = new byte[1 << 20];
        java.util.Arrays.fill(fill, (byte) 0x55);
        Files.write(base, fill);
        Path child = dir.resolve("child.qcow2");
        ByteBuffer data = ByteBuffer.allocate(3 * 65536);
        for (int i = 0; i < 65536; i++) {
            data.put(i, (byte) 1);
            data.put(2 * 65536 + i, (byte) 2);
        }
        try (VirtualDisk d = new Qcow2Format().create(child, 1 << 20,
                CreateOptions.parse("backing_file=base.raw,backing_fmt=raw"))) {
            d.write(65536, data.duplicate());
        }
        byte[] expected = fill.clone();
        System.arraycopy(data.array(), 0, expected, 65536, data.capacity());
        Path model = Files.write(dir.resolve("model.raw"), expected);
        try (VirtualDisk d = Qcow2TestSupport.open(child, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(model, d);
        }
        if (Tools.available("qemu-img")) {
            Qcow2InteropTest.assertQemuClean(child);
            assertEquals(0, Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", model.toString(),
                    child.toString()).exit());
        }
    }

    @Test
    void compressedImagesAreWrittenInOnePass() throws Exception {
        Path img = dir.resolve("c.qcow2");
        try (VirtualDisk d = new Qcow2Format().create(img, SIZE, CreateOptions.parse("compress=on"))) {
            d.write(1 << 20, ByteBuffer.wrap(new byte[4096]).put(0, (byte) 1));
            ImageFormatException e = assertThrows(ImageFormatException.class,
                    () -> d.write(0, ByteBuffer.wrap(new byte[512])));
            assertTrue(e.getMessage().contains("ascending"), e.getMessage());
            ByteBuffer got = ByteBuffer.allocate(8192);
            d.read((1 << 20) - 4096, got);
            assertEquals(1, got.get(4096), "a read sees the cluster still being gathered");
        }
        if (Tools.available("qemu-img")) {
            Qcow2InteropTest.assertQemuClean(img);
        }
    }

    @Test
    void readOnlyDiskRefusesWrites() throws Exception {
        Path img = dir.resolve("r.qcow2");
        new Qcow2Format().create(img, SIZE, CreateOptions.none()).close();
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            assertThrows(ImageFormatException.class, () -> d.write(0, ByteBuffer.allocate(512)));
        }
        if (Tools.available("qemu-img")) {
            Qcow2InteropTest.assertQemuClean(img);
        }
    }
}
