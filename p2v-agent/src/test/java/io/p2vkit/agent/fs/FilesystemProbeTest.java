package io.p2vkit.agent.fs;

import io.p2vkit.agent.testing.Sh;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each filesystem made by its own mkfs, recognised by its superblock, label and UUID checked against blkid. */
class FilesystemProbeTest {

    @TempDir
    Path dir;

    private Filesystem probe(Path image) throws Exception {
        try (VirtualDisk d = new RawFormat().open(image, OpenOptions.READ_ONLY, null)) {
            Optional<Filesystem> fs = FilesystemProbe.probe(d, 0, d.size());
            assertTrue(fs.isPresent(), "nothing recognised in " + image);
            return fs.get();
        }
    }

    private Path blank(String name, String size) throws Exception {
        Path f = dir.resolve(name);
        Sh.run("truncate", "-s", size, f.toString());
        return f;
    }

    /** blkid's view of the same file, the independent oracle for type, label and UUID. */
    private static String blkid(Path f, String tag) throws Exception {
        return Sh.run("blkid", "-p", "-o", "value", "-s", tag, f.toString()).strip();
    }

    private void check(Path f, String type) throws Exception {
        Filesystem fs = probe(f);
        assertEquals(type, fs.type());
        if (Sh.has("blkid")) {
            String label = blkid(f, "LABEL");
            if (!label.isEmpty() && !fs.label().isEmpty()) {
                assertEquals(label, fs.label());
            }
            String uuid = blkid(f, "UUID");
            if (!uuid.isEmpty() && !fs.uuid().isEmpty()) {
                assertEquals(uuid.toLowerCase(java.util.Locale.ROOT), fs.uuid().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    @Test
    void ext2ext3ext4() throws Exception {
        Sh.require("mke2fs");
        for (String t : new String[] {"ext2", "ext3", "ext4"}) {
            Path f = blank(t + ".img", "32M");
            Sh.run("mke2fs", "-q", "-F", "-t", t, "-L", "lbl-" + t, f.toString());
            check(f, t);
            assertEquals("lbl-" + t, probe(f).label());
        }
    }

    @Test
    void fat12fat16fat32() throws Exception {
        Sh.require("mkfs.vfat");
        Path f12 = blank("f12.img", "2M");
        Sh.run("mkfs.vfat", "-F", "12", "-n", "SMALL", f12.toString());
        check(f12, "fat12");
        Path f16 = blank("f16.img", "64M");
        Sh.run("mkfs.vfat", "-F", "16", "-n", "MID", f16.toString());
        check(f16, "fat16");
        Path f32 = blank("f32.img", "300M");
        Sh.run("mkfs.vfat", "-F", "32", "-n", "BIG", f32.toString());
        check(f32, "fat32");
        assertEquals("BIG", probe(f32).label());
    }

    @Test
    void ntfsExfatXfsBtrfsSwap() throws Exception {
        if (Sh.has("mkntfs")) {
            Path f = blank("ntfs.img", "64M");
            Sh.run("mkntfs", "-q", "-F", "-f", "-L", "Windows", f.toString());
            check(f, "ntfs");
            assertEquals("Windows", probe(f).label());
        }
        if (Sh.has("mkfs.exfat")) {
            Path f = blank("exfat.img", "64M");
            Sh.run("mkfs.exfat", "-L", "USBKEY", f.toString());
            check(f, "exfat");
            assertEquals("USBKEY", probe(f).label());
        }
        if (Sh.has("mkfs.xfs")) {
            Path f = blank("xfs.img", "320M");
            Sh.run("mkfs.xfs", "-q", "-L", "xlabel", f.toString());
            check(f, "xfs");
            assertEquals("xlabel", probe(f).label());
        }
        if (Sh.has("mkfs.btrfs")) {
            Path f = blank("btrfs.img", "128M");
            Sh.run("mkfs.btrfs", "-q", "-L", "blabel", f.toString());
            check(f, "btrfs");
        }
        Sh.require("mkswap");
        Path s = blank("swap.img", "8M");
        Sh.run("mkswap", "-L", "swp", s.toString());
        check(s, "swap");
        assertEquals("swp", probe(s).label());
    }

    @Test
    void luks() throws Exception {
        Sh.require("cryptsetup");
        Path f = blank("luks.img", "32M");
        Path key = Files.writeString(dir.resolve("key"), "secret");
        Sh.run("cryptsetup", "luksFormat", "-q", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations",
                "1000", "--label", "vault", "--key-file", key.toString(), f.toString());
        check(f, "crypto_luks");
        assertEquals("vault", probe(f).label());
    }

    @Test
    void lvmPhysicalVolume() throws Exception {
        Sh.requireRoot();
        Sh.require("pvcreate", "losetup");
        Path f = blank("pv.img", "16M");
        try (io.p2vkit.agent.testing.Loop loop = new io.p2vkit.agent.testing.Loop()) {
            String dev = loop.attach(f);
            Sh.run("pvcreate", "-q", "-ff", "-y", dev);
        }
        check(f, "lvm2_member");
    }

    @Test
    void randomBytesAreNotAFilesystem() throws Exception {
        Path f = dir.resolve("noise.img");
        byte[] b = new byte[1 << 20];
        new java.util.Random(5).nextBytes(b);
        Files.write(f, b);
        try (VirtualDisk d = new RawFormat().open(f, OpenOptions.READ_ONLY, null)) {
            assertTrue(FilesystemProbe.probe(d, 0, d.size()).isEmpty());
        }
    }
}
