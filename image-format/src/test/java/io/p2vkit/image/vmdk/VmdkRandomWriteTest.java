package io.p2vkit.image.vmdk;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writable subformats take random writes (the VM's disk): unaligned, overlapping, zeros over
 * data, across extent boundaries, in two sessions; the result matches a raw file written alike.
 */
class VmdkRandomWriteTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "monolithicSparse, , 16777728",
            "monolithicSparse, zeroed_grain=on, 16777728",
            "monolithicFlat, , 16777728",
            // Two extents: 2047 MiB and 64 MiB + 512 B; writes straddle the boundary.
            "twoGbMaxExtentSparse, , 2213544448"})
    void randomWritesMatchRaw(String subformat, String extra, long size, @TempDir Path dir) throws Exception {
        Path vmdk = dir.resolve("w.vmdk");
        Path raw = dir.resolve("w.raw");
        String options = "subformat=" + subformat + (extra == null ? "" : "," + extra);
        Random rnd = new Random(size ^ subformat.hashCode());
        long boundary = VmdkConstants.SPLIT_EXTENT_SECTORS * VmdkConstants.SECTOR;
        try (FileChannel rawCh = FileChannel.open(raw, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            rawCh.write(ByteBuffer.allocate(1), size - 1);
            try (VirtualDisk disk = new VmdkFormat().create(vmdk, size, CreateOptions.parse(options))) {
                session(disk, rawCh, rnd, size, boundary, 150);
            }
            try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_WRITE)) {
                session(disk, rawCh, rnd, size, boundary, 150);
                disk.flush();
            }
        }
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(raw, disk);
            assertThrows(ImageFormatException.class, () -> disk.write(0, ByteBuffer.allocate(512)));
        }
        assertTrue(new VmdkFormat().check(vmdk, OpenOptions.READ_ONLY, Formats.get()).isClean());
        if (Tools.available("qemu-img")) {
            Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "vmdk", raw.toString(), vmdk.toString());
            Tools.Result check = Tools.ok("qemu-img", "check", "-f", "vmdk", vmdk.toString());
            assertTrue(check.out().contains("No errors were found"), check.all());
        }
    }

    private static void session(VirtualDisk disk, FileChannel raw, Random rnd, long size, long boundary, int writes)
            throws IOException {
        for (int i = 0; i < writes; i++) {
            int len = 1 + rnd.nextInt(200_000);
            long at;
            if (size > boundary && rnd.nextBoolean()) {
                long edge = boundary * (1 + rnd.nextInt((int) (size / boundary)));
                at = Math.max(0, Math.min(size - len, edge - rnd.nextInt(len)));
            } else {
                at = (long) (rnd.nextDouble() * (size - len));
            }
            byte[] data = new byte[len];
            if (rnd.nextInt(4) != 0) {
                rnd.nextBytes(data);
            }
            disk.write(at, ByteBuffer.wrap(data));
            raw.write(ByteBuffer.wrap(data), at);
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"monolithicSparse", "monolithicFlat"})
    void firstWriteOfASessionRenewsTheContentId(String subformat, @TempDir Path dir) throws Exception {
        Path vmdk = dir.resolve("c.vmdk");
        new VmdkFormat().create(vmdk, 1 << 20, CreateOptions.parse("subformat=" + subformat)).close();
        String cid0 = cid(vmdk);
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_WRITE)) {
            disk.read(0, ByteBuffer.allocate(512));
        }
        assertEquals(cid0, cid(vmdk), "reading leaves the CID alone");
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_WRITE)) {
            disk.write(0, ByteBuffer.wrap(new byte[]{1}));
            disk.write(4096, ByteBuffer.wrap(new byte[]{2}));
        }
        String cid1 = cid(vmdk);
        assertTrue(!cid1.equals(cid0) && cid1.matches("[0-9a-f]{8}"), cid0 + " -> " + cid1);
        assertTrue(new VmdkFormat().check(vmdk, OpenOptions.READ_ONLY, Formats.get()).isClean());
        if (Tools.available("qemu-img")) {
            Tools.Result check = Tools.ok("qemu-img", "check", "-f", "vmdk", vmdk.toString());
            assertTrue(check.out().contains("No errors were found"), check.all());
        }
    }

    private static String cid(Path vmdk) throws IOException {
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_ONLY)) {
            return (String) disk.info().details().get("cid");
        }
    }

    @Test
    void streamOptimizedRefusesDescendingWrites(@TempDir Path dir) throws IOException {
        Path vmdk = dir.resolve("s.vmdk");
        try (VirtualDisk disk = new VmdkFormat().create(vmdk, 1 << 20, CreateOptions.parse("subformat=streamOptimized"))) {
            disk.write(65536, ByteBuffer.wrap(new byte[]{1, 2, 3}));
            ImageFormatException e = assertThrows(ImageFormatException.class,
                    () -> disk.write(0, ByteBuffer.allocate(512)));
            assertTrue(e.getMessage().contains("ascend"), e.getMessage());
            assertThrows(ImageFormatException.class, () -> disk.read(0, ByteBuffer.allocate(512)));
        }
        try (VirtualDisk disk = Formats.get().open(vmdk, OpenOptions.READ_WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(4);
            disk.read(65535, b);
            assertEquals(ByteBuffer.wrap(new byte[]{0, 1, 2, 3}), b.flip());
            assertThrows(ImageFormatException.class, () -> disk.write(0, ByteBuffer.allocate(512)),
                    "compressed grains cannot be rewritten");
        }
    }

    @Test
    void zeroAndTinySizes(@TempDir Path dir) throws IOException {
        VmdkFormat f = new VmdkFormat();
        assertThrows(ImageFormatException.class, () -> f.create(dir.resolve("z.vmdk"), 0, CreateOptions.none()));
        try (VirtualDisk disk = f.create(dir.resolve("t.vmdk"), 1000, CreateOptions.none())) {
            assertEquals(1024, disk.size(), "rounded up to whole sectors, as qemu-img does");
        }
    }
}
