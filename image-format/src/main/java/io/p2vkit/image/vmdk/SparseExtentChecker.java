package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * Checks one sparse extent without changing it: grain directory and tables inside the file and
 * clear of each other, grains inside the file and not shared, the redundant directory equal to
 * the primary one, stream markers where the tables say grains are, and space nothing refers to
 * (leaks).
 */
final class SparseExtentChecker {

    private static final String[] KIND_NAMES = {"header", "embedded descriptor", "grain directory",
            "redundant grain directory", "grain table", "redundant grain table", "grain", "footer"};
    private static final int HEADER = 0;
    private static final int DESCRIPTOR = 1;
    private static final int GD = 2;
    private static final int RGD = 3;
    private static final int GT = 4;
    private static final int RGT = 5;
    private static final int GRAIN = 6;
    private static final int FOOTER = 7;

    private final ImageFile file;
    private final String name;
    private final CheckReport report;
    private long fileSize;
    private SparseExtentHeader h;
    /** Used sector ranges: start, end, kind and index packed in parallel arrays. */
    private long[] starts = new long[256];
    private long[] ends = new long[256];
    private long[] tags = new long[256];
    private int count;
    private final Map<Integer, int[]> tables = new HashMap<>();
    private long allocated;
    private long totalGrains;
    /** Table sectors already examined: a table shared by two directory entries is looked at once. */
    private final java.util.Set<Long> seenTables = new java.util.HashSet<>();
    /** Grain ranges recorded; more than the file can hold means tables share grains. */
    private long grainRanges;
    private long maxGrainRanges;
    private boolean tooManyGrains;

    SparseExtentChecker(ImageFile file, String name, CheckReport report) {
        this.file = file;
        this.name = name;
        this.report = report;
    }

    long allocatedGrains() {
        return allocated;
    }

    long totalGrains() {
        return totalGrains;
    }

    /** Runs every check; a structure too damaged to follow is reported and ends the check. */
    void run(long declaredSectors) throws IOException {
        try {
            fileSize = file.size();
            h = SparseExtent.effectiveHeader(file, fileSize);
        } catch (ImageFormatException e) {
            report.corruption(name + ": " + e.getMessage());
            return;
        }
        totalGrains = h.grainCount();
        if (declaredSectors > h.capacity()) {
            report.corruption(name + ": the descriptor gives it " + declaredSectors + " sectors but its header holds "
                    + h.capacity());
        }
        add(0, 1, HEADER, 0);
        if (h.descriptorOffset() > 0 && h.descriptorSize() > 0) {
            add(h.descriptorOffset(), h.descriptorOffset() + h.descriptorSize(), DESCRIPTOR, 0);
        }
        long fileSectors = ceilDiv(fileSize, SECTOR);
        // Each grain takes at least one sector (compressed) or a whole grain (plain) of the file.
        maxGrainRanges = h.compressed() ? fileSectors : fileSectors / h.grainSize() + 1;
        if (h.hasMarkers() && h.gdOffset() != readHeaderGd()) {
            // The footer, its marker and the end-of-stream marker close the file.
            add(fileSectors - 3, fileSectors, FOOTER, 0);
        }
        int[] gd;
        int[] rgd = null;
        try {
            gd = GrainDirectory.readDirectory(file, h, h.gdOffset(), fileSize, "grain directory");
            add(h.gdOffset(), h.gdOffset() + h.gdBytes() / SECTOR, GD, 0);
            if (h.redundantGd()) {
                rgd = GrainDirectory.readDirectory(file, h, h.rgdOffset(), fileSize, "redundant grain directory");
                add(h.rgdOffset(), h.rgdOffset() + h.gdBytes() / SECTOR, RGD, 0);
            }
        } catch (ImageFormatException e) {
            report.corruption(name + ": " + e.getMessage());
            return;
        }
        for (int i = 0; i < gd.length; i++) {
            int[] gt = table(gd[i], i, GT);
            if (gt != null) {
                if (h.hasMarkers()) {
                    tables.put(i, gt);
                }
                checkEntries(i, gt);
            }
            if (rgd != null) {
                int[] rgt = table(rgd[i], i, RGT);
                if ((gt == null) != (rgt == null) || (gt != null && !Arrays.equals(gt, rgt))) {
                    report.corruption(name + ": grain table " + i + " differs from its redundant copy");
                }
            }
        }
        if (h.hasMarkers()) {
            new StreamWalk().run();
        }
        findOverlapsAndLeaks(fileSectors);
    }

    private long readHeaderGd() throws IOException {
        return SparseExtentHeader.parse(file.read(0, SECTOR, "VMDK sparse header"), 0).gdOffset();
    }

    private int[] table(int rawSector, int index, int kind) throws IOException {
        long sector = Integer.toUnsignedLong(rawSector);
        if (sector == 0) {
            return null;
        }
        long gtSectors = h.gtBytes() / SECTOR;
        if (!seenTables.add(sector * 2 + (kind == RGT ? 1 : 0))) {
            report.corruption(name + ": " + KIND_NAMES[kind] + " " + index + " is at sector " + sector
                    + ", where an earlier table already is");
            return null;
        }
        if (sector > fileSize / SECTOR || h.gtBytes() > fileSize - sector * SECTOR) {
            report.corruption(name + ": " + KIND_NAMES[kind] + " " + index + " at sector " + sector
                    + " lies beyond the end of the file");
            return null;
        }
        add(sector, sector + gtSectors, kind, index);
        ByteBuffer b = file.read(sector * SECTOR, h.gtesPerGt() * 4, "VMDK grain table");
        int[] gt = new int[h.gtesPerGt()];
        b.asIntBuffer().get(gt);
        return gt;
    }

    private void checkEntries(int tableIndex, int[] gt) throws IOException {
        for (int j = 0; j < gt.length; j++) {
            long entry = Integer.toUnsignedLong(gt[j]);
            long grain = (long) tableIndex * h.gtesPerGt() + j;
            if (entry == 0) {
                continue;
            }
            if (grain >= totalGrains) {
                report.corruption(name + ": grain table " + tableIndex + " has an entry for grain " + grain
                        + ", beyond the disk's capacity");
                continue;
            }
            if (entry == GTE_ZERO && h.zeroGrainEntries()) {
                continue;
            }
            allocated++;
            long sectors = h.grainSize();
            if (h.compressed() && h.hasMarkers()) {
                if (entry * SECTOR > fileSize - GRAIN_MARKER_HEADER) {
                    report.corruption(name + ": grain " + grain + " at sector " + entry + " lies beyond the end of the file");
                    continue;
                }
                ByteBuffer m = file.read(entry * SECTOR, GRAIN_MARKER_HEADER, "VMDK grain marker");
                long lba = m.getLong(0);
                long size = Integer.toUnsignedLong(m.getInt(8));
                if (lba != grain * h.grainSize()) {
                    report.corruption(name + ": grain " + grain + " points at a grain marker for LBA "
                            + Long.toUnsignedString(lba));
                }
                if (size == 0 || size > GrainCodec.maxCompressed((int) h.grainBytes())) {
                    report.corruption(name + ": grain " + grain + " has a compressed size of " + size);
                    continue;
                }
                sectors = ceilDiv(GRAIN_MARKER_HEADER + size, SECTOR);
            } else if (h.compressed()) {
                sectors = 1;
            }
            if (entry * SECTOR > fileSize || sectors * SECTOR > fileSize - entry * SECTOR) {
                report.corruption(name + ": grain " + grain + " at sector " + entry + " lies beyond the end of the file");
                continue;
            }
            if (grainRanges++ >= maxGrainRanges) {
                if (!tooManyGrains) {
                    tooManyGrains = true;
                    report.corruption(name + ": the grain tables refer to more grains than the file can hold"
                            + " (entries share grains); the rest are not compared");
                }
                continue;
            }
            add(entry, entry + sectors, GRAIN, grain);
        }
    }

    private void add(long start, long end, int kind, long index) {
        if (count == starts.length) {
            starts = Arrays.copyOf(starts, count * 2);
            ends = Arrays.copyOf(ends, count * 2);
            tags = Arrays.copyOf(tags, count * 2);
        }
        starts[count] = start;
        ends[count] = end;
        tags[count] = (index << 3) | kind;
        count++;
    }

    private String describe(int i) {
        int kind = (int) (tags[i] & 7);
        long index = tags[i] >>> 3;
        return KIND_NAMES[kind] + (kind == GT || kind == RGT || kind == GRAIN ? " " + index : "");
    }

    /** Sorts the used ranges: any two that share a sector are a corruption; large gaps are leaks. */
    private void findOverlapsAndLeaks(long fileSectors) {
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(starts[a], starts[b]));
        long reach = 0;
        int reachBy = -1;
        long leakStart = -1;
        for (int k = 0; k < count; k++) {
            int i = order[k];
            if (starts[i] < reach) {
                report.corruption(name + ": " + describe(i) + " at sector " + starts[i] + " overlaps "
                        + describe(reachBy));
            } else if (!h.hasMarkers() && reach >= h.overHead() && starts[i] - reach >= h.grainSize()) {
                leakStart = reach;
                report.leak(name + ": sectors " + leakStart + " to " + starts[i] + " are used by nothing");
            }
            if (ends[i] > reach) {
                reach = ends[i];
                reachBy = i;
            }
        }
        if (!h.hasMarkers() && reach >= h.overHead() && fileSectors - reach >= h.grainSize()) {
            report.leak(name + ": sectors " + reach + " to " + fileSectors + " at the end are used by nothing");
        }
    }

    /** Walks a stream-optimized extent's markers from overHead to the end (spec, "Markers"). */
    private final class StreamWalk {

        void run() throws IOException {
            long fileSectors = fileSize / SECTOR;
            long pos = h.overHead();
            long previousLba = -1;
            while (pos < fileSectors) {
                StreamMarkers.Marker m = StreamMarkers.read(file, pos * SECTOR);
                if (m.isGrain()) {
                    long lba = m.value();
                    if (Long.compareUnsigned(lba, h.capacity()) >= 0 || lba % h.grainSize() != 0) {
                        report.corruption(name + ": grain marker at sector " + pos + " has LBA "
                                + Long.toUnsignedString(lba) + ", not a grain of the disk");
                        return;
                    }
                    long grain = lba / h.grainSize();
                    int[] gt = tables.get((int) (grain / h.gtesPerGt()));
                    if (gt == null || Integer.toUnsignedLong(gt[(int) (grain % h.gtesPerGt())]) != pos) {
                        report.leak(name + ": grain marker at sector " + pos + " (LBA " + lba
                                + ") is not referenced by its grain table");
                    }
                    if (lba <= previousLba) {
                        report.leak(name + ": grain marker at sector " + pos + " is out of LBA order");
                    }
                    previousLba = lba;
                    if (m.size() > GrainCodec.maxCompressed((int) h.grainBytes())) {
                        report.corruption(name + ": grain marker at sector " + pos + " has size " + m.size());
                        return;
                    }
                    pos += ceilDiv(GRAIN_MARKER_HEADER + m.size(), SECTOR);
                    continue;
                }
                long following = m.value();
                if (Long.compareUnsigned(following, fileSectors - pos - 1) > 0) {
                    report.corruption(name + ": " + StreamMarkers.typeName(m.type()) + " marker at sector " + pos
                            + " announces " + Long.toUnsignedString(following) + " sectors, past the end of the file");
                    return;
                }
                switch (m.type()) {
                    case MARKER_EOS -> {
                        if (pos != fileSectors - 1) {
                            report.corruption(name + ": end-of-stream marker at sector " + pos
                                    + " is not the file's last sector");
                        }
                        return;
                    }
                    case MARKER_GT -> {
                        if (following != h.gtBytes() / SECTOR) {
                            report.corruption(name + ": grain table marker at sector " + pos + " announces "
                                    + following + " sectors");
                        }
                    }
                    case MARKER_GD -> {
                        if (pos + 1 != h.gdOffset()) {
                            report.corruption(name + ": grain directory marker at sector " + pos
                                    + " is not where the footer places the directory (" + h.gdOffset() + ")");
                        }
                    }
                    case MARKER_FOOTER -> {
                        if (following != 1) {
                            report.corruption(name + ": footer marker at sector " + pos + " announces "
                                    + following + " sectors");
                        }
                    }
                    default -> {
                        report.corruption(name + ": marker at sector " + pos + " has unknown type " + m.type());
                        return;
                    }
                }
                pos += 1 + following;
            }
        }
    }
}
