package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Child (differencing) disks: unallocated grains read through to the parent named by
 * parentFileNameHint, partial writes copy the rest of the grain up from it, and the parent is a
 * reference like any extent.
 */
class VmdkChildDiskTest {

    private static final long SIZE = 8L * 1024 * 1024 + 512;

    /** base.vmdk (mixed data) and child.vmdk over it with a few qemu-io writes; returns the child. */
    private static Path chain(Path dir) throws Exception {
        Tools.require("qemu-io");
        Path raw = TestDisks.mixed(dir.resolve("base.raw"), SIZE, 48 * 1024, 5);
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw.toString(), dir.resolve("base.vmdk").toString());
        Path child = dir.resolve("child.vmdk");
        Tools.ok("qemu-img", "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", child.toString());
        Tools.ok("qemu-io", "-f", "vmdk", "-c", "write -P 0xab 1024 3072", "-c", "write -P 0xcd 5242880 65536",
                "-c", "write -z 7340032 131072", child.toString());
        return child;
    }

    private static Path flatten(Path dir, Path child, String name) throws Exception {
        Path raw = dir.resolve(name);
        Tools.ok("qemu-img", "convert", "-f", "vmdk", "-O", "raw", child.toString(), raw.toString());
        return raw;
    }

    @Test
    void readsThroughToTheParent(@TempDir Path dir) throws Exception {
        Path child = chain(dir);
        Path expected = flatten(dir, child, "expected.raw");
        try (VirtualDisk disk = Formats.get().open(child, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(expected, disk);
            List<Extent> runs = disk.extents(0, disk.size());
            assertEquals(Extent.Kind.DATA, runs.get(0).kind(), "the child's own grain");
            assertTrue(runs.stream().anyMatch(r -> r.kind() == Extent.Kind.UNALLOCATED), "the rest is the parent's");
            assertTrue(disk.info().references().stream()
                    .anyMatch(r -> r.kind().equals("parent") && r.target().equals("base.vmdk")));
        }
        try (VirtualDisk alone = Formats.get().open(child, OpenOptions.READ_ONLY.withFollowReferences(false))) {
            ByteBuffer b = ByteBuffer.allocate(512);
            alone.read(1 << 20, b);
            assertEquals(ByteBuffer.allocate(512), b.flip(), "without its parent a child reads zeros where it holds nothing");
        }
    }

    @Test
    void partialWritesCopyTheParentUp(@TempDir Path dir) throws Exception {
        Path child = chain(dir);
        Path expected = flatten(dir, child, "expected.raw");
        long[][] writes = {{100, 700}, {2 * 65536 + 4000, 10}, {3 * 1024 * 1024 - 5, 70000}};
        try (VirtualDisk disk = Formats.get().open(child, OpenOptions.READ_WRITE);
             FileChannel raw = FileChannel.open(expected, StandardOpenOption.WRITE)) {
            for (long[] w : writes) {
                byte[] data = new byte[(int) w[1]];
                java.util.Arrays.fill(data, (byte) 0x77);
                disk.write(w[0], ByteBuffer.wrap(data));
                raw.write(ByteBuffer.wrap(data), w[0]);
            }
        }
        try (VirtualDisk disk = Formats.get().open(child, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(expected, disk);
        }
        Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "vmdk", expected.toString(), child.toString());
        Tools.Result check = Tools.ok("qemu-img", "check", "-f", "vmdk", child.toString());
        assertTrue(check.out().contains("No errors were found"), check.all());
    }

    @Test
    void aChangedParentIsRefused(@TempDir Path dir) throws Exception {
        Path child = chain(dir);
        try (VirtualDisk base = Formats.get().open(dir.resolve("base.vmdk"), OpenOptions.READ_WRITE)) {
            base.write(0, ByteBuffer.wrap(new byte[]{9}));
        }
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("changed"), e.getMessage());
    }

    @Test
    void parentIsAReference(@TempDir Path dir) throws Exception {
        Path outer = chain(dir);
        Path inner = Files.createDirectories(dir.resolve("inner"));
        Path child = inner.resolve("child.vmdk");
        Files.move(outer, child);
        // The child now names base.vmdk, which is not in its folder; point it outside explicitly.
        rewriteHint(child, "../base.vmdk");
        UnsafeReferenceException e = assertThrows(UnsafeReferenceException.class,
                () -> Formats.get().open(child, OpenOptions.READ_ONLY));
        assertEquals("../base.vmdk", e.reference());
        try (VirtualDisk disk = Formats.get().open(child, OpenOptions.READ_ONLY.withAllowExternal(true))) {
            VmdkTestSupport.readAll(disk);
        }
    }

    @Test
    void parentLoopsEnd(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("data.bin"), new byte[4096]);
        for (String[] pair : new String[][]{{"a.vmdk", "b.vmdk"}, {"b.vmdk", "a.vmdk"}, {"self.vmdk", "self.vmdk"}}) {
            Files.writeString(dir.resolve(pair[0]), "# Disk DescriptorFile\nversion=1\nCID=11111111\n"
                    + "parentCID=11111111\nparentFileNameHint=\"" + pair[1] + "\"\ncreateType=\"monolithicFlat\"\n"
                    + "RW 8 FLAT \"data.bin\" 0\n");
        }
        assertThrows(ImageFormatException.class, () -> Formats.get().open(dir.resolve("a.vmdk"), OpenOptions.READ_ONLY));
        assertThrows(ImageFormatException.class, () -> Formats.get().open(dir.resolve("self.vmdk"), OpenOptions.READ_ONLY));
    }

    /** Replaces the parentFileNameHint in the child's embedded descriptor, keeping its size. */
    private static void rewriteHint(Path child, String hint) throws IOException {
        byte[] b = Files.readAllBytes(child);
        String text = new String(b, 512, 20 * 512, java.nio.charset.StandardCharsets.ISO_8859_1);
        String updated = text.replaceFirst("parentFileNameHint=\"[^\"]*\"", "parentFileNameHint=\"" + hint + "\"");
        byte[] u = updated.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        System.arraycopy(u, 0, b, 512, Math.min(u.length, 20 * 512));
        Files.write(child, b);
    }
}
