package io.p2vkit.agent.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds a "physical" test disk in a file: a partition table made by sfdisk, filesystems made by
 * their own mkfs, files written, and files deleted so that their old blocks hold data that is no
 * longer in use (capture must not copy it).
 */
public final class TestDisk {

    /** A partition as sfdisk reports it. */
    public record Part(int number, long offset, long length, String type) {
    }

    private TestDisk() {
    }

    /** Partitions of {@code disk} from {@code sfdisk -J}. */
    public static List<Part> partitions(Path disk) throws IOException, InterruptedException {
        String json = Sh.run("sfdisk", "-J", disk.toString());
        List<Part> out = new ArrayList<>();
        // {"node": "x1", "start": 2048, "size": 131072, "type": "83"} — read the few fields we need.
        var m = java.util.regex.Pattern.compile("\"node\":\\s*\"[^\"]*?(\\d+)\",\\s*\"start\":\\s*(\\d+),\\s*"
                + "\"size\":\\s*(\\d+),\\s*\"type\":\\s*\"([^\"]+)\"").matcher(json);
        while (m.find()) {
            out.add(new Part(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)) * 512,
                    Long.parseLong(m.group(3)) * 512, m.group(4)));
        }
        return out;
    }

    /** Writes {@code mib} MiB of seeded random bytes to a new file. */
    public static Path randomFile(Path file, int mib, long seed) throws IOException {
        byte[] b = new byte[mib << 20];
        new Random(seed).nextBytes(b);
        return Files.write(file, b);
    }

    /**
     * An MBR disk of 256 MiB: 1 ext4 "rootfs", 2 FAT32 "BOOT", 3 extended holding 5 NTFS "data"
     * and 6 swap; each filesystem holds files, and ext4 and NTFS also deleted ones.
     */
    public static Path mbr(Path dir, Loop loop) throws Exception {
        Path disk = dir.resolve("mbr.img");
        Sh.run("truncate", "-s", "256M", disk.toString());
        Sh.runWithInput("label: dos\n,64M,83\n,48M,c\n,,5\n,64M,7\n,16M,82\n", "sfdisk", "-q", disk.toString());
        fill(dir, disk, loop);
        return disk;
    }

    /** A GPT disk of 256 MiB with the same filesystems as {@link #mbr} (no extended partition). */
    public static Path gpt(Path dir, Loop loop) throws Exception {
        Path disk = dir.resolve("gpt.img");
        Sh.run("truncate", "-s", "256M", disk.toString());
        Sh.runWithInput("label: gpt\nsize=64M, type=L, name=root\nsize=48M, type=U, name=esp\n"
                + "size=64M, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=data\nsize=16M, type=S, name=swap\n", "sfdisk", "-q", disk.toString());
        fill(dir, disk, loop);
        return disk;
    }

    private static void fill(Path dir, Path disk, Loop loop) throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        for (Part p : partitions(disk)) {
            String type = p.type().toLowerCase(java.util.Locale.ROOT);
            if (type.equals("5")) {
                continue;
            }
            String dev = loop.attach(disk, p.offset(), p.length());
            try {
                if (type.equals("83") || type.startsWith("0fc63daf")) {
                    Sh.run("mkfs.ext4", "-q", "-L", "rootfs", dev);
                    populateMounted(dir, dev, mnt, p.number(), "ext4");
                } else if (type.equals("c") || type.startsWith("c12a7328")) {
                    Sh.run("mkfs.vfat", "-F", "32", "-n", "BOOT", dev);
                    Path f = randomFile(dir.resolve("fat-" + p.number()), 3, p.number());
                    Sh.run("mcopy", "-i", dev, f.toString(), "::/kernel.bin");
                    Path g = randomFile(dir.resolve("fat-del-" + p.number()), 4, 100 + p.number());
                    Sh.run("mcopy", "-i", dev, g.toString(), "::/deleted.bin");
                    Sh.run("mdel", "-i", dev, "::/deleted.bin");
                } else if (type.equals("7") || type.startsWith("ebd0a0a2")) {
                    Sh.run("mkntfs", "-q", "-f", "-F", "-L", "data", dev);
                    populateMounted(dir, dev, mnt, p.number(), "ntfs");
                } else if (type.equals("82") || type.startsWith("0657fd6d")) {
                    Sh.run("mkswap", "-L", "swp", dev);
                }
            } finally {
                loop.detach(dev);
            }
        }
    }

    private static void populateMounted(Path dir, String dev, Path mnt, int number, String fs) throws Exception {
        Sh.run("mount", "-t", fs.equals("ntfs") ? "ntfs-3g" : fs, dev, mnt.toString());
        try {
            Files.createDirectories(mnt.resolve("etc"));
            Files.writeString(mnt.resolve("etc/hostname"), "server-" + number + "\n");
            randomFile(mnt.resolve("etc/blob.bin"), 4, number);
            randomFile(mnt.resolve("deleted.bin"), 8, 1000 + number);
            Sh.run("sync");
            Files.delete(mnt.resolve("deleted.bin"));
        } finally {
            Sh.run("umount", mnt.toString());
        }
    }
}
