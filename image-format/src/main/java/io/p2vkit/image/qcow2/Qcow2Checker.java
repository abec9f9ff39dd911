package io.p2vkit.image.qcow2;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * {@code check}: rebuilds every host cluster's refcount from the metadata and compares it with
 * the stored refcounts, as qemu-img check does (block/qcow2-refcount.c, qcow2_check_refcounts).
 * A stored count below the references is a corruption (the cluster could be freed while still
 * in use), above it a leak. Structural faults found on the way (entries beyond the end of the
 * file, unaligned entries, malformed refcount table entries) are corruptions too.
 */
final class Qcow2Checker {

    private final ImageFile file;
    private final Qcow2Header header;
    private final CheckReport report;
    private final long fileClusters;
    private final long[] reftable;
    private final boolean[] usableBlock;
    private final ByteBuffer block;
    private long loadedBlock = -1;

    private Qcow2Checker(ImageFile file, Qcow2Header header, CheckReport report) throws IOException {
        this.file = file;
        this.header = header;
        this.report = report;
        this.fileClusters = (file.size() + header.clusterSize() - 1) >>> header.clusterBits();
        int entries = (int) (((long) header.refcountTableClusters() << header.clusterBits()) / 8);
        this.reftable = new long[entries];
        file.read(header.refcountTableOffset(), entries * 8, "qcow2 refcount table")
                .order(ByteOrder.BIG_ENDIAN).asLongBuffer().get(reftable);
        this.usableBlock = new boolean[entries];
        this.block = ByteBuffer.allocate(header.clusterSize()).order(ByteOrder.BIG_ENDIAN);
    }

    static CheckReport check(Path path) throws IOException {
        CheckReport report = new CheckReport("qcow2");
        try (ImageFile f = ImageFile.openRead(path)) {
            Qcow2Open.Start s = Qcow2Open.readStart(f);
            Qcow2Header h = s.header();
            long unsupported = h.incompatibleFeatures() & (INCOMPAT_DATA_FILE | INCOMPAT_EXTL2);
            if (unsupported != 0 || (h.incompatibleFeatures() & ~INCOMPAT_KNOWN) != 0) {
                Qcow2Open.checkFeatures(h, s.extensions());
            }
            new Qcow2Checker(f, h, report).run(s);
        }
        return report;
    }

    private void run(Qcow2Open.Start s) throws IOException {
        long[] l1 = Qcow2ClusterMap.readL1(file, header.l1TableOffset(), header.l1Size());
        Qcow2Snapshots.Table snapshots = Qcow2Snapshots.read(file, header);
        List<long[]> bitmaps = Qcow2Bitmaps.ranges(file, header, s.extensions());
        Qcow2ReferenceWalker walker = new Qcow2ReferenceWalker(file, header, l1, snapshots, bitmaps, file.size(),
                report::corruption);
        checkReftableEntries();
        long max = Qcow2Refcounts.maxRefcount(header.refcountOrder());
        boolean first = true;
        for (long start = 0; start < fileClusters || first; start += Qcow2Refcounts.WINDOW_CLUSTERS) {
            int[] counts = new int[(int) Math.min(Qcow2Refcounts.WINDOW_CLUSTERS, fileClusters - start)];
            walker.count(start, counts, first);
            first = false;
            addRefcountStructure(start, counts);
            for (int i = 0; i < counts.length; i++) {
                long cluster = start + i;
                long stored = stored(cluster);
                long computed = counts[i];
                if (computed > max) {
                    report.corruption("cluster " + cluster + " has " + computed + " references, more than "
                            + header.refcountBits() + "-bit refcounts hold");
                } else if (stored < computed) {
                    report.corruption("cluster " + cluster + " refcount=" + stored + " reference=" + computed);
                } else if (stored > computed) {
                    report.leak("leaked cluster " + cluster + " refcount=" + stored + " reference=" + computed);
                }
            }
        }
        checkCopiedFlags(l1);
        long guestClusters = (header.size() + header.clusterSize() - 1) >>> header.clusterBits();
        report.allocation(walker.allocatedGuestClusters(), guestClusters);
    }

    /**
     * Bit 63 of active L1 and L2 entries promises a refcount of exactly one (spec "copied");
     * QEMU writes in place on that promise, so a wrong flag is a corruption, as in qemu-img check.
     */
    private void checkCopiedFlags(long[] l1) throws IOException {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        ByteBuffer l2 = ByteBuffer.allocate(header.clusterSize()).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < l1.length; i++) {
            long offset = l1[i] & OFFSET_MASK;
            if (offset == 0 || (l1[i] & L1_RESERVED) != 0 || (offset & (header.clusterSize() - 1)) != 0
                    || (offset >>> header.clusterBits()) >= fileClusters) {
                continue; // reported by the walk
            }
            checkCopied(l1[i], offset, "L1 entry " + i);
            if (!seen.add(offset)) {
                continue;
            }
            l2.clear();
            file.readFully(offset, l2, "qcow2 L2 table");
            for (int k = 0; k < header.l2Entries(); k++) {
                long e = l2.getLong(k * 8);
                Qcow2Entry.Kind kind = Qcow2Entry.kind(e);
                long data = Qcow2Entry.hostOffset(e);
                if ((kind == Qcow2Entry.Kind.DATA || kind == Qcow2Entry.Kind.ZERO) && data != 0
                        && (e & L2_STANDARD_RESERVED) == 0 && (data & (header.clusterSize() - 1)) == 0
                        && (data >>> header.clusterBits()) < fileClusters) {
                    checkCopied(e, data, "L2 entry at file offset " + (offset + k * 8L));
                }
            }
        }
    }

    private void checkCopied(long entry, long target, String where) throws IOException {
        long refcount = stored(target >>> header.clusterBits());
        if ((refcount == 1) != ((entry & OFLAG_COPIED) != 0)) {
            report.corruption(where + " has the copied flag " + ((entry & OFLAG_COPIED) != 0 ? "set" : "clear")
                    + " but its cluster's refcount is " + refcount);
        }
    }

    /** Refcount table entries must be cluster-aligned block offsets inside the file. */
    private void checkReftableEntries() throws ImageFormatException {
        for (int i = 0; i < reftable.length; i++) {
            long e = reftable[i];
            if (e == 0) {
                continue;
            }
            if ((e & (header.clusterSize() - 1)) != 0 || e >= MAX_OFFSET) {
                report.corruption("refcount table entry " + i + " is not a cluster-aligned offset: 0x"
                        + Long.toHexString(e));
            } else if ((e >>> header.clusterBits()) >= fileClusters) {
                report.corruption("refcount block " + i + " at " + e + " lies beyond the end of the file");
            } else if (e < header.clusterSize()) {
                report.corruption("refcount block " + i + " overlaps the header");
            } else {
                usableBlock[i] = true;
            }
        }
    }

    /** The refcount table and the blocks it names are references too. */
    private void addRefcountStructure(long start, int[] counts) {
        long end = start + counts.length;
        long tableFirst = header.refcountTableOffset() >>> header.clusterBits();
        for (long c = tableFirst; c < tableFirst + header.refcountTableClusters(); c++) {
            if (c >= start && c < end) {
                counts[(int) (c - start)]++;
            }
        }
        for (int i = 0; i < reftable.length; i++) {
            if (usableBlock[i]) {
                long c = reftable[i] >>> header.clusterBits();
                if (c >= start && c < end) {
                    counts[(int) (c - start)]++;
                }
            }
        }
    }

    private long stored(long cluster) throws IOException {
        long perBlock = Qcow2Refcounts.entriesPerBlock(header.clusterBits(), header.refcountOrder());
        long index = cluster / perBlock;
        if (index >= reftable.length || !usableBlock[(int) index]) {
            return 0;
        }
        if (index != loadedBlock) {
            block.clear();
            file.readFully(reftable[(int) index], block, "qcow2 refcount block " + index);
            loadedBlock = index;
        }
        return Qcow2Refcounts.get(block, cluster % perBlock, header.refcountOrder());
    }
}
