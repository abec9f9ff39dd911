package io.p2vkit.agent.capture;

import io.p2vkit.agent.fs.AllocationException;
import io.p2vkit.agent.fs.AllocationMaps;
import io.p2vkit.agent.fs.ByteRanges;
import io.p2vkit.agent.fs.Filesystem;
import io.p2vkit.agent.fs.FilesystemProbe;
import io.p2vkit.agent.partition.Partition;
import io.p2vkit.agent.partition.PartitionTable;
import io.p2vkit.agent.partition.PartitionTables;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decides which bytes of a source disk are copied: everything outside partitions (the table, the
 * gap where GRUB lives, the tail), and inside each partition only what its filesystem uses, or
 * all of it when the filesystem is unknown or its maps look damaged.
 *
 * @param used       the byte ranges to copy, relative to the disk
 * @param table      the partition table read
 * @param partitions one decision per partition
 */
public record CapturePlan(ByteRanges used, PartitionTable table, List<PartitionPlan> partitions) {

    /** Plans a capture of {@code disk}; with {@code all}, every byte is copied. */
    public static CapturePlan of(VirtualDisk disk, int sectorSize, boolean all) throws IOException {
        PartitionTable table = PartitionTables.read(disk, sectorSize);
        long size = disk.size();
        ByteRanges used = new ByteRanges();
        List<PartitionPlan> plans = new ArrayList<>();
        List<Partition> parts = new ArrayList<>(table.partitions().stream()
                .filter(p -> !p.container() && p.offset() < size).toList());
        parts.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long pos = 0;
        for (Partition p : parts) {
            long start = Math.max(p.offset(), pos);
            long end = Math.min(p.end(), size);
            used.add(pos, start); // the table, the boot loader gap, space between partitions
            if (end <= start) {
                continue; // lies inside the previous partition: copied with it
            }
            Planned x = planPartition(disk, p, start, end - start, all);
            used.addAll(x.ranges(), start);
            plans.add(x.plan());
            pos = end;
        }
        used.add(pos, size);
        table.partitions().stream().filter(Partition::container).forEach(c -> plans.add(
                new PartitionPlan(c, null, "container", "extended partition: holds the logical ones", 0)));
        return new CapturePlan(used, table, plans);
    }

    /** A decision and the ranges it copies, relative to the partition's start. */
    private record Planned(PartitionPlan plan, ByteRanges ranges) {
        static Planned whole(Partition p, Filesystem fs, String reason, long length) {
            return new Planned(new PartitionPlan(p, fs, "whole", reason, length), new ByteRanges().add(0, length));
        }
    }

    private static Planned planPartition(VirtualDisk disk, Partition p, long start, long length, boolean all)
            throws IOException {
        Optional<Filesystem> fs = FilesystemProbe.probe(disk, start, length);
        if (all) {
            return Planned.whole(p, fs.orElse(null), "--all", length);
        }
        if (fs.isEmpty()) {
            return Planned.whole(p, null, "no filesystem recognised", length);
        }
        try {
            Optional<ByteRanges> map = AllocationMaps.usedRanges(disk, start, length, fs.get());
            if (map.isEmpty()) {
                return Planned.whole(p, fs.get(), fs.get().type() + " free space is not mapped by p2vkit", length);
            }
            ByteRanges ranges = clip(map.get(), length);
            String mode = fs.get().type().equals("swap") ? "swap-header" : "used-blocks";
            return new Planned(new PartitionPlan(p, fs.get(), mode, "", ranges.bytes()), ranges);
        } catch (AllocationException e) {
            return Planned.whole(p, fs.get(), e.getMessage() + "; copying the partition whole", length);
        }
    }

    private static ByteRanges clip(ByteRanges r, long length) {
        ByteRanges out = new ByteRanges();
        for (int i = 0; i < r.count(); i++) {
            out.add(Math.max(0, r.start(i)), Math.min(length, r.end(i)));
        }
        return out;
    }

    /** Bytes that the plan copies. */
    public long copiedBytes() {
        return used.bytes();
    }
}
