package io.p2vkit.agent.capture;

import io.p2vkit.agent.discovery.BlockDevice;
import io.p2vkit.agent.discovery.BlockDevices;
import io.p2vkit.agent.discovery.Volume;
import io.p2vkit.agent.testing.Loop;
import io.p2vkit.agent.testing.Sh;
import io.p2vkit.agent.testing.TestDisk;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.convert.ProgressListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Captures of real filesystems on loop devices, judged by independent tools: qemu-img converts
 * the image back, e2fsck / fsck.fat / ntfsfix check each filesystem, diff -r compares every file,
 * sfdisk compares the tables, and SHA-256 shows the source unchanged.
 */
class CaptureLoopDeviceTest {

    @TempDir
    static Path dir;

    private static Loop loop;
    private static Path mbr;
    private static Path gpt;

    @BeforeAll
    static void buildDisks() throws Exception {
        Sh.requireRoot();
        Sh.require("sfdisk", "losetup", "mkfs.ext4", "mkfs.vfat", "mkntfs", "mkswap", "mcopy", "ntfs-3g", "e2fsck",
                "fsck.fat", "ntfsfix", "qemu-img");
        loop = new Loop();
        mbr = TestDisk.mbr(Files.createDirectories(dir.resolve("m")), loop);
        gpt = TestDisk.gpt(Files.createDirectories(dir.resolve("g")), loop);
    }

    @AfterAll
    static void detach() throws Exception {
        if (loop != null) {
            loop.close();
        }
    }

    @ParameterizedTest(name = "{0} disk to {1}")
    @CsvSource({"mbr, raw", "mbr, vpc", "mbr, vmdk", "mbr, qcow2", "gpt, raw", "gpt, vpc", "gpt, vmdk", "gpt, qcow2"})
    void capturedFilesystemsAreIdenticalAndClean(String table, String format) throws Exception {
        Assumptions.assumeTrue(Formats.get().byName(format).isPresent(), "format " + format + " not built yet");
        Path disk = table.equals("mbr") ? mbr : gpt;
        String source = loop.attachReadOnly(disk);
        String before = sha256(Path.of(source));
        Path image = dir.resolve(table + "." + format);
        Capture.Result r = Capture.run(new Capture.Request(Path.of(source), Formats.get().require(format), image,
                CreateOptions.none(), false, true, true, false), ProgressListener.NONE, w -> { });
        assertEquals(before, sha256(Path.of(source)), "the source changed");
        assertTrue(Files.exists(r.manifest()));

        Path back = dir.resolve(table + "-" + format + ".raw");
        Files.deleteIfExists(back);
        Sh.run("qemu-img", "convert", "-f", format, "-O", "raw", image.toString(), back.toString());
        assertEquals(sfdiskDump(disk), sfdiskDump(back), "partition tables differ");
        assertEquals(Sh.run("sha256sum", back.toString()).substring(0, 64), r.manifestData().sha256(),
                "the manifest's SHA-256 is sha256sum of the disk converted back");
        for (TestDisk.Part p : TestDisk.partitions(disk)) {
            checkPartition(disk, back, p);
        }
        assertTrue(r.manifestData().content().get("copied_regions_bytes") instanceof Long copied
                && copied < Files.size(disk) / 2, "only used blocks are copied");
    }

    private void checkPartition(Path source, Path copy, TestDisk.Part p) throws Exception {
        String type = p.type().toLowerCase(java.util.Locale.ROOT);
        if (type.equals("5")) {
            return;
        }
        String src = loop.attach(source, p.offset(), p.length());
        String dst = loop.attach(copy, p.offset(), p.length());
        try {
            if (type.equals("83") || type.startsWith("0fc63daf")) {
                Sh.run("e2fsck", "-fn", dst);
                assertSameFiles(src, dst, "ext4", "ro,noload");
                assertNoDeletedData(copy, p, 1000 + p.number());
            } else if (type.equals("c") || type.startsWith("c12a7328")) {
                Sh.run("fsck.fat", "-n", dst);
                Path a = dir.resolve("fat-a.bin");
                Path b = dir.resolve("fat-b.bin");
                Files.deleteIfExists(a);
                Files.deleteIfExists(b);
                Sh.run("mcopy", "-i", src, "::/kernel.bin", a.toString());
                Sh.run("mcopy", "-i", dst, "::/kernel.bin", b.toString());
                assertEquals(-1, Files.mismatch(a, b), "FAT file differs");
                assertEquals(Sh.run("mdir", "-i", src, "-b", "::/"), Sh.run("mdir", "-i", dst, "-b", "::/"));
            } else if (type.equals("7") || type.startsWith("ebd0a0a2")) {
                Sh.run("ntfsfix", "-n", dst);
                assertSameFiles(src, dst, "ntfs-3g", "ro");
                assertNoDeletedData(copy, p, 1000 + p.number());
            } else if (type.equals("82") || type.startsWith("0657fd6d")) {
                assertTrue(Sh.run("blkid", "-p", dst).contains("LABEL=\"swp\""));
            }
        } finally {
            loop.detach(src);
            loop.detach(dst);
        }
    }

    private void assertSameFiles(String src, String dst, String fs, String options) throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        Sh.run("mount", "-t", fs, "-o", options, src, a.toString());
        try {
            Sh.run("mount", "-t", fs, "-o", options, dst, b.toString());
            try {
                Sh.run("diff", "-r", a.toString(), b.toString());
                assertTrue(Files.exists(b.resolve("etc/blob.bin")));
            } finally {
                Sh.run("umount", b.toString());
            }
        } finally {
            Sh.run("umount", a.toString());
        }
    }

    /** The deleted file's 8 MiB of random bytes must not be anywhere in the copied partition. */
    private void assertNoDeletedData(Path copy, TestDisk.Part p, long seed) throws Exception {
        byte[] deleted = new byte[8 << 20];
        new Random(seed).nextBytes(deleted);
        byte[] probe = java.util.Arrays.copyOfRange(deleted, 0, 4096);
        byte[] block = new byte[4096];
        try (InputStream in = Files.newInputStream(copy)) {
            in.skipNBytes(p.offset());
            for (long pos = 0; pos < p.length(); pos += 4096) {
                in.readNBytes(block, 0, 4096);
                assertFalse(java.util.Arrays.equals(block, probe), "a deleted file's data was copied at " + pos);
            }
        }
    }

    @Test
    void disksReportsTablesTypesLabelsAndUse() throws Exception {
        String dev = loop.attachReadOnly(mbr);
        BlockDevice d = BlockDevices.describe(Path.of(dev));
        assertEquals("mbr", d.table().scheme());
        List<String> seen = new ArrayList<>();
        for (Volume v : d.volumes()) {
            seen.add(v.partition().number() + ":" + v.partition().typeName() + ":"
                    + (v.filesystem() == null ? "-" : v.filesystem().type() + "/" + v.filesystem().label()));
        }
        assertEquals(List.of("1:Linux:ext4/rootfs", "2:W95 FAT32 (LBA):fat32/BOOT", "3:Extended:-",
                "5:HPFS/NTFS/exFAT:ntfs/data", "6:Linux swap:swap/swp"), seen);
        Volume ext = d.volumes().get(0);
        assertTrue(ext.usedBytes() > 4 << 20 && ext.usedBytes() < 24 << 20, "ext4 use " + ext.usedBytes());
        Volume fat = d.volumes().get(1);
        assertTrue(fat.usedBytes() > 3 << 20 && fat.usedBytes() < 5 << 20, "fat use " + fat.usedBytes());

        BlockDevice g = BlockDevices.describe(Path.of(loop.attachReadOnly(gpt)));
        assertEquals("gpt", g.table().scheme());
        assertEquals(List.of("root", "esp", "data", "swap"), g.volumes().stream().map(v -> v.partition().name()).toList());
        assertTrue(g.table().warnings().isEmpty(), g.table().warnings().toString());
    }

    @Test
    void damagedFilesystemsAreCopiedWholeAndSaySo() throws Exception {
        Path damaged = Files.copy(mbr, dir.resolve("damaged.img"));
        TestDisk.Part ext = TestDisk.partitions(damaged).get(0);
        String dev = loop.attach(damaged, ext.offset(), ext.length());
        String dump = Sh.run("dumpe2fs", dev);
        loop.detach(dev);
        var m = java.util.regex.Pattern.compile("Block bitmap at (\\d+)").matcher(dump);
        assertTrue(m.find());
        long bitmapBlock = Long.parseLong(m.group(1));
        var bs = java.util.regex.Pattern.compile("Block size:\\s+(\\d+)").matcher(dump);
        assertTrue(bs.find());
        long blockSize = Long.parseLong(bs.group(1));
        try (var ch = java.nio.channels.FileChannel.open(damaged, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0x00, 0x00, 0x00, 0x00}), ext.offset() + bitmapBlock * blockSize + 2);
        }
        // A truncated NTFS: its boot sector claims more sectors than the partition holds.
        TestDisk.Part ntfs = TestDisk.partitions(damaged).stream().filter(p -> p.type().equals("7")).findFirst()
                .orElseThrow();
        try (var ch = java.nio.channels.FileChannel.open(damaged, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                    .putLong(0, ntfs.length() / 512 * 2), ntfs.offset() + 40);
        }
        List<String> notices = new ArrayList<>();
        String source = loop.attachReadOnly(damaged);
        Path image = dir.resolve("damaged.raw");
        Capture.Result r = Capture.run(new Capture.Request(Path.of(source), Formats.get().require("raw"), image,
                CreateOptions.none(), false, true, true, false), ProgressListener.NONE, notices::add);
        assertTrue(notices.stream().anyMatch(n -> n.startsWith("partition 1:") && n.contains("bitmap")), notices.toString());
        assertTrue(notices.stream().anyMatch(n -> n.startsWith("partition 5:") && n.contains("NTFS")), notices.toString());
        assertTrue(r.manifestData().content().toString().contains("copying the partition whole"));
        String a = loop.attach(damaged, ext.offset(), ext.length());
        String b = loop.attach(image, ext.offset(), ext.length());
        assertEquals(sha256(Path.of(a)), sha256(Path.of(b)), "a partition copied whole must be identical");
        loop.detach(a);
        loop.detach(b);
    }

    @Test
    void failedCaptureLeavesTheSourceAndOutputAlone() throws Exception {
        String source = loop.attachReadOnly(mbr);
        String before = sha256(Path.of(source));
        Path taken = Files.writeString(dir.resolve("taken.vmdk"), "someone else's file");
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> Capture.run(new Capture.Request(
                Path.of(source), Formats.get().require("raw"), taken, CreateOptions.none(), false, false, false, false),
                ProgressListener.NONE, w -> { }));
        assertEquals("someone else's file", Files.readString(taken));
        assertEquals(before, sha256(Path.of(source)));
    }

    @Test
    void mountedFilesystemIsReportedAndFrozenOnRequest() throws Exception {
        Path disk = dir.resolve("live.img");
        Sh.run("truncate", "-s", "64M", disk.toString());
        Sh.runWithInput("label: dos\n,,83\n", "sfdisk", "-q", disk.toString());
        String dev = loop.attachPartitioned(disk);
        Sh.run("mkfs.ext4", "-q", dev + "p1");
        Path mnt = Files.createDirectories(dir.resolve("live"));
        Sh.run("mount", dev + "p1", mnt.toString());
        try {
            Files.writeString(mnt.resolve("hello"), "world");
            List<String> notices = new ArrayList<>();
            Capture.run(new Capture.Request(Path.of(dev), Formats.get().require("raw"), dir.resolve("live1.raw"),
                    CreateOptions.none(), false, false, true, false), ProgressListener.NONE, notices::add);
            assertTrue(notices.stream().anyMatch(n -> n.contains("crash-consistent")), notices.toString());

            notices.clear();
            Capture.Result r = Capture.run(new Capture.Request(Path.of(dev), Formats.get().require("raw"),
                    dir.resolve("live2.raw"), CreateOptions.none(), false, true, true, true), ProgressListener.NONE,
                    notices::add);
            assertTrue(notices.stream().anyMatch(n -> n.contains("frozen during the copy")), notices.toString());
            assertEquals(List.of(mnt.toString()), r.manifestData().content().get("frozen"));
            Files.writeString(mnt.resolve("after"), "thawed"); // would block if still frozen
        } finally {
            Sh.run("umount", mnt.toString());
        }
    }

    private static String sfdiskDump(Path disk) throws Exception {
        return Sh.run("sfdisk", "-d", disk.toString()).replace(disk.toString(), "DISK");
    }

    static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
