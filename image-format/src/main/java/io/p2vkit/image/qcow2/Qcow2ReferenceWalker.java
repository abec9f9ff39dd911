package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * Counts how many times each host cluster is referenced by the image's metadata: the header,
 * the L1 tables (active and snapshots), the L2 tables they point to and the data those point
 * to. This is the "computed" side of a refcount check, and the source of the refcounts our
 * writer stores at close (QEMU block/qcow2-refcount.c, check_refcounts_l1/l2).
 *
 * <p>Counting is done over a window of host clusters at a time, so the memory used is bounded
 * whatever the file size; each L2 table is read once per window however many L1 entries name it.
 */
final class Qcow2ReferenceWalker {

    /** Where structural problems go: the checker reports them, the writer treats them as bugs. */
    @FunctionalInterface
    interface Problems {
        void corruption(String message) throws ImageFormatException;
    }

    private final ImageFile file;
    private final Qcow2Header header;
    private final long[] activeL1;
    private final Qcow2Snapshots.Table snapshots;
    private final long fileClusters;
    private final java.util.List<long[]> otherMetadata;
    private final Problems problems;
    private final int clusterBits;
    private long allocatedGuestClusters;

    Qcow2ReferenceWalker(ImageFile file, Qcow2Header header, long[] activeL1, Qcow2Snapshots.Table snapshots,
                         java.util.List<long[]> otherMetadata, long fileEnd, Problems problems) {
        this.file = file;
        this.otherMetadata = otherMetadata;
        this.header = header;
        this.activeL1 = activeL1;
        this.snapshots = snapshots;
        this.clusterBits = header.clusterBits();
        this.fileClusters = (fileEnd + header.clusterSize() - 1) >>> clusterBits;
        this.problems = problems;
    }

    long fileClusters() {
        return fileClusters;
    }

    /** Guest clusters of the active layer that hold data (known after a counting pass). */
    long allocatedGuestClusters() {
        return allocatedGuestClusters;
    }

    /**
     * Adds to {@code counts[i]} the references to host cluster {@code first + i}. Problems are
     * reported only when {@code report} is set, so that a multi-window pass reports each once.
     */
    void count(long first, int[] counts, boolean report) throws IOException {
        Window w = new Window(first, counts);
        Problems p = report ? problems : m -> { };
        w.add(0, header.clusterSize());
        if (header.l1Size() > 0) {
            w.add(header.l1TableOffset(), header.l1Size() * 8L);
        }
        for (long[] range : otherMetadata) {
            w.add(range[0], range[1]);
        }
        if (snapshots.bytes() > 0) {
            w.add(header.snapshotsOffset(), snapshots.bytes());
        }
        // L2 table offset -> how many L1 entries name it (its data is counted that many times).
        Map<Long, Integer> l2Tables = new LinkedHashMap<>();
        Set<Long> activeTables = new HashSet<>();
        collect(activeL1, header.l1TableOffset(), "active", l2Tables, activeTables, p);
        for (int s = 0; s < snapshots.snapshots().size(); s++) {
            Qcow2Snapshots.Snapshot snap = snapshots.snapshots().get(s);
            w.add(snap.l1Offset(), snap.l1Size() * 8L);
            long[] l1 = Qcow2ClusterMap.readL1(file, snap.l1Offset(), snap.l1Size());
            collect(l1, snap.l1Offset(), "snapshot " + s, l2Tables, null, p);
        }
        long allocated = 0;
        ByteBuffer raw = ByteBuffer.allocate(header.clusterSize()).order(ByteOrder.BIG_ENDIAN);
        for (Map.Entry<Long, Integer> t : l2Tables.entrySet()) {
            long offset = t.getKey();
            int times = t.getValue();
            w.addTimes(offset, header.clusterSize(), times);
            raw.clear();
            file.readFully(offset, raw, "qcow2 L2 table");
            boolean active = activeTables.contains(offset);
            for (int i = 0; i < header.l2Entries(); i++) {
                long e = raw.getLong(i * 8);
                if (countEntry(e, offset + i * 8L, w, times, p) && active) {
                    allocated++;
                }
            }
        }
        allocatedGuestClusters = allocated;
    }

    private void collect(long[] l1, long l1Offset, String which, Map<Long, Integer> tables, Set<Long> active,
                         Problems p) throws ImageFormatException {
        for (int i = 0; i < l1.length; i++) {
            long e = l1[i];
            if (e == 0) {
                continue;
            }
            long offset = e & OFFSET_MASK;
            if ((e & L1_RESERVED) != 0 || (offset & (header.clusterSize() - 1)) != 0) {
                p.corruption("L1 entry " + i + " (" + which + ") is malformed: 0x" + Long.toHexString(e)
                        + " at file offset " + (l1Offset + i * 8L));
                continue;
            }
            if (offset == 0) {
                // Flags without a table: QEMU's check walks cluster 0 as if it were the L2 table.
                p.corruption("L1 entry " + i + " (" + which + ") has flags but no L2 table: 0x"
                        + Long.toHexString(e));
                continue;
            }
            if ((offset >>> clusterBits) >= fileClusters) {
                p.corruption("L1 entry " + i + " (" + which + ") points to an L2 table at " + offset
                        + ", beyond the end of the file");
                continue;
            }
            tables.merge(offset, 1, Integer::sum);
            if (active != null) {
                active.add(offset);
            }
        }
    }

    /** Counts one L2 entry's data; returns whether it is allocated guest data. */
    private boolean countEntry(long e, long where, Window w, int times, Problems p) throws ImageFormatException {
        switch (Qcow2Entry.kind(e)) {
            case COMPRESSED -> {
                long off = Qcow2Entry.compressedOffset(e, clusterBits);
                long len = Qcow2Entry.compressedLength(e, clusterBits);
                if ((e & OFLAG_COPIED) != 0) {
                    p.corruption("compressed L2 entry at file offset " + where + " has the copied flag set");
                }
                if (((off + len - 1) >>> clusterBits) >= fileClusters) {
                    p.corruption("compressed cluster at " + off + " (L2 entry at file offset " + where
                            + ") lies beyond the end of the file");
                    return false;
                }
                w.addTimes(off, len, times);
                return true;
            }
            default -> {
                long off = Qcow2Entry.hostOffset(e);
                if ((e & L2_STANDARD_RESERVED) != 0) {
                    p.corruption("L2 entry at file offset " + where + " has reserved bits set: 0x"
                            + Long.toHexString(e));
                    return false;
                }
                if (off == 0) {
                    return false;
                }
                if ((off & (header.clusterSize() - 1)) != 0) {
                    p.corruption("L2 entry at file offset " + where + " is malformed or unaligned: 0x"
                            + Long.toHexString(e));
                    return false;
                }
                if ((off >>> clusterBits) >= fileClusters) {
                    p.corruption("L2 entry at file offset " + where + " points to " + off
                            + ", beyond the end of the file");
                    return false;
                }
                w.addTimes(off, header.clusterSize(), times);
                return Qcow2Entry.kind(e) == Qcow2Entry.Kind.DATA;
            }
        }
    }

    /** Counts into {@code counts} for host clusters {@code [first, first + counts.length)}. */
    private final class Window {
        private final long first;
        private final int[] counts;

        Window(long first, int[] counts) {
            this.first = first;
            this.counts = counts;
        }

        void add(long offset, long bytes) {
            addTimes(offset, bytes, 1);
        }

        /** Every cluster touched by {@code [offset, offset + bytes)} gains {@code times}. */
        void addTimes(long offset, long bytes, int times) {
            if (bytes <= 0) {
                return;
            }
            long from = Math.max(offset >>> clusterBits, first);
            long to = Math.min((offset + bytes - 1) >>> clusterBits, first + counts.length - 1);
            for (long c = from; c <= to; c++) {
                int i = (int) (c - first);
                counts[i] = (int) Math.min(Integer.MAX_VALUE, (long) counts[i] + times);
            }
        }
    }
}
