package io.p2vkit.agent.discovery;

import io.p2vkit.agent.fs.AllocationMaps;
import io.p2vkit.agent.fs.ByteRanges;
import io.p2vkit.agent.fs.Filesystem;
import io.p2vkit.agent.fs.FilesystemProbe;
import io.p2vkit.agent.partition.Partition;
import io.p2vkit.agent.partition.PartitionTable;
import io.p2vkit.agent.partition.PartitionTables;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds the machine's disks and describes each: geometry, identity, table, filesystems, mounts. */
public final class BlockDevices {

    private BlockDevices() {
    }

    /** Every disk under /sys/block with a non-zero size (empty loop devices and the like are skipped). */
    public static List<BlockDevice> list() throws IOException {
        List<BlockDevice> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
            for (Path p : s.sorted().toList()) {
                String name = p.getFileName().toString();
                SysBlock sys = SysBlock.named(name);
                if (sys.number("size", 0) == 0 || name.startsWith("ram") || name.startsWith("zram")) {
                    continue;
                }
                out.add(describe(Path.of("/dev", name)));
            }
        }
        return out;
    }

    /** Describes one disk (a block device or a raw image file). */
    public static BlockDevice describe(Path path) throws IOException {
        Optional<SysBlock> sys = SysBlock.of(path).map(SysBlock::disk);
        int logical = (int) sys.map(s -> s.number("queue/logical_block_size", 512)).orElse(512L).longValue();
        int physical = (int) sys.map(s -> s.number("queue/physical_block_size", logical)).orElse((long) logical)
                .longValue();
        String model = sys.map(s -> s.text("device/model")).orElse("");
        String vendor = sys.map(s -> s.text("device/vendor")).orElse("");
        String serial = sys.map(s -> firstNonEmpty(s.text("device/serial"), s.text("serial"), s.text("wwid"),
                s.text("device/wwid"))).orElse("");
        boolean rotational = sys.map(s -> s.number("queue/rotational", 0) == 1).orElse(false);
        boolean removable = sys.map(s -> s.number("removable", 0) == 1).orElse(false);
        List<Mounts.Mount> mounts = Mounts.read();
        try (VirtualDisk disk = new RawFormat().open(path, OpenOptions.READ_ONLY, null)) {
            PartitionTable table = PartitionTables.read(disk, logical);
            List<Volume> volumes = new ArrayList<>();
            if (table.partitions().isEmpty()) {
                volumes.add(volume(disk, path.toString(), null, 0, disk.size(), sys, mounts));
            }
            for (Partition part : table.partitions()) {
                if (part.container()) {
                    volumes.add(new Volume(partitionDevice(path, sys, part.number()), part, null, List.of(), false, -1));
                    continue;
                }
                long len = Math.min(part.end(), disk.size()) - part.offset();
                volumes.add(volume(disk, partitionDevice(path, sys, part.number()), part, part.offset(), len,
                        sys.flatMap(s -> SysBlock.of(Path.of(partitionDevice(path, sys, part.number())))), mounts));
            }
            return new BlockDevice(path.toString(), disk.size(), logical, physical, model, vendor, serial, rotational,
                    removable, table, volumes, "");
        } catch (AccessDeniedException e) {
            return unreadable(path, sys, logical, physical, model, vendor, serial, rotational, removable,
                    "permission denied (run as root to read partition tables)");
        } catch (java.nio.file.FileSystemException e) {
            if (!Files.exists(path)) {
                throw e;
            }
            return unreadable(path, sys, logical, physical, model, vendor, serial, rotational, removable,
                    "cannot read: " + (e.getReason() == null ? e.getMessage() : e.getReason()));
        }
    }

    private static BlockDevice unreadable(Path path, Optional<SysBlock> sys, int logical, int physical, String model,
                                          String vendor, String serial, boolean rotational, boolean removable,
                                          String why) {
        long size = sys.map(s -> s.number("size", 0) * 512).orElse(0L);
        return new BlockDevice(path.toString(), size, logical, physical, model, vendor, serial, rotational,
                removable, null, List.of(), why);
    }

    private static Volume volume(VirtualDisk disk, String device, Partition part, long start, long length,
                                 Optional<SysBlock> sys, List<Mounts.Mount> mounts) throws IOException {
        if (length <= 0) {
            return new Volume(device, part, null, List.of(), false, -1);
        }
        Filesystem fs = FilesystemProbe.probe(disk, start, length).orElse(null);
        List<Mounts.Mount> here = sys.map(s -> Mounts.of(mounts, s.text("dev"))).orElse(List.of());
        long used = fs == null ? -1 : fs.usedBytes();
        if (fs != null && used < 0) {
            try {
                used = AllocationMaps.usedRanges(disk, start, length, fs).map(ByteRanges::bytes).orElse(-1L);
            } catch (IOException e) {
                used = -1;
            }
        }
        return new Volume(device, part, fs, here.stream().map(Mounts.Mount::mountPoint).toList(),
                here.stream().anyMatch(Mounts.Mount::readWrite), used);
    }

    /** /dev/sda → /dev/sda1; /dev/loop0, /dev/nvme0n1 → /dev/loop0p1 (a digit ends the name). */
    private static String partitionDevice(Path disk, Optional<SysBlock> sys, int number) {
        String name = disk.getFileName().toString();
        String dev = Character.isDigit(name.charAt(name.length() - 1)) ? name + "p" + number : name + number;
        return sys.isPresent() ? "/dev/" + dev : disk + "#" + number;
    }

    private static String firstNonEmpty(String... values) {
        for (String v : values) {
            if (!v.isEmpty()) {
                return v;
            }
        }
        return "";
    }
}
