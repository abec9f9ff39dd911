package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

import static io.p2vkit.image.vmdk.VmdkConstants.SECTOR;

/**
 * The two-level grain map of a sparse extent (spec, "Grain Directory and Grain Tables"): the grain
 * directory (GD) lists the sector of each grain table (GT); each GT entry is the sector of one
 * grain, 0 when unallocated. The GD is held in memory; GTs are loaded on demand into a small
 * cache and written back (to both the GT and its redundant copy) when evicted or flushed.
 */
final class GrainDirectory {

    private static final int CACHED_TABLES = 64;

    private final ImageFile file;
    private final SparseExtentHeader header;
    private final int[] gd;
    private final int[] rgd;
    private final int gtes;
    private final long gtBytes;
    private final Map<Integer, int[]> cache = new LinkedHashMap<>(CACHED_TABLES * 2, 0.75f, true);
    private final TreeSet<Integer> dirty = new TreeSet<>();

    private GrainDirectory(ImageFile file, SparseExtentHeader header, int[] gd, int[] rgd) {
        this.file = file;
        this.header = header;
        this.gd = gd;
        this.rgd = rgd;
        this.gtes = header.gtesPerGt();
        this.gtBytes = header.gtBytes();
    }

    /**
     * Loads the grain directory (and, when {@code withRedundant}, the redundant one). Both must lie
     * inside the file, which also bounds the memory they take.
     */
    static GrainDirectory load(ImageFile file, SparseExtentHeader h, long fileSize, boolean withRedundant)
            throws IOException {
        int[] gd = readDirectory(file, h, h.gdOffset(), fileSize, "grain directory");
        int[] rgd = withRedundant && h.redundantGd()
                ? readDirectory(file, h, h.rgdOffset(), fileSize, "redundant grain directory") : null;
        return new GrainDirectory(file, h, gd, rgd);
    }

    /** A directory that exists only in memory yet (the writer fills it before saving it). */
    static GrainDirectory fresh(ImageFile file, SparseExtentHeader h, int[] gd, int[] rgd) {
        return new GrainDirectory(file, h, gd, rgd);
    }

    static int[] readDirectory(ImageFile file, SparseExtentHeader h, long sector, long fileSize, String what)
            throws IOException {
        long count = h.gtCount();
        long bytes = count * 4;
        if (sector == 0 || sector > fileSize / SECTOR || bytes > fileSize - sector * SECTOR) {
            throw new ImageFormatException("VMDK " + what + " at sector " + Long.toUnsignedString(sector)
                    + " (" + count + " entries) lies outside the file's " + fileSize + " bytes");
        }
        ByteBuffer buf = file.read(sector * SECTOR, (int) bytes, "VMDK " + what);
        int[] entries = new int[(int) count];
        buf.asIntBuffer().get(entries);
        return entries;
    }

    int tableCount() {
        return gd.length;
    }

    /** The sector of grain table {@code index}, 0 when it is not allocated. */
    long tableSector(int index) {
        return Integer.toUnsignedLong(gd[index]);
    }

    long redundantTableSector(int index) {
        return rgd == null ? 0 : Integer.toUnsignedLong(rgd[index]);
    }

    boolean hasRedundant() {
        return rgd != null;
    }

    /** The grain table entry of {@code grain}: the grain's sector, 0 (none) or 1 (zero grain). */
    synchronized long entry(long grain) throws IOException {
        int[] gt = table((int) (grain / gtes), false);
        return gt == null ? 0 : Integer.toUnsignedLong(gt[(int) (grain % gtes)]);
    }

    /** The (cached) table holding {@code grain}, or null when that table is not allocated. */
    synchronized int[] tableOf(long grain) throws IOException {
        return table((int) (grain / gtes), false);
    }

    /** Sets the entry of {@code grain}; the table is written back later. */
    synchronized void set(long grain, long sector) throws IOException {
        int index = (int) (grain / gtes);
        int[] gt = table(index, true);
        gt[(int) (grain % gtes)] = (int) sector;
        dirty.add(index);
    }

    /** Makes sure the table holding {@code grain} exists, appending it to the file if needed. */
    synchronized void ensureTable(long grain) throws IOException {
        table((int) (grain / gtes), true);
    }

    /** Reads grain table {@code index} as stored at {@code sector} (for check). */
    int[] readTableAt(long sector, long fileSize, String what) throws IOException {
        if (sector > fileSize / SECTOR || gtBytes > fileSize - sector * SECTOR) {
            throw new ImageFormatException("VMDK " + what + " at sector " + sector
                    + " lies beyond the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer buf = file.read(sector * SECTOR, gtes * 4, "VMDK " + what);
        int[] gt = new int[gtes];
        buf.asIntBuffer().get(gt);
        return gt;
    }

    private int[] table(int index, boolean forWrite) throws IOException {
        int[] gt = cache.get(index);
        if (gt != null) {
            return gt;
        }
        long sector = tableSector(index);
        if (sector == 0) {
            if (!forWrite) {
                return null;
            }
            sector = allocateTable(index);
            gt = new int[gtes];
        } else {
            gt = readTableAt(sector, file.size(), "grain table " + index);
        }
        if (cache.size() >= CACHED_TABLES) {
            evictOne();
        }
        cache.put(index, gt);
        return gt;
    }

    private void evictOne() throws IOException {
        Map.Entry<Integer, int[]> eldest = cache.entrySet().iterator().next();
        if (dirty.remove(eldest.getKey())) {
            writeTable(eldest.getKey(), eldest.getValue());
        }
        cache.remove(eldest.getKey());
    }

    /** Appends a zeroed table (and its redundant copy) at the end of the file and records it. */
    private long allocateTable(int index) throws IOException {
        long end = ceilSectors(file.size());
        gd[index] = (int) end;
        file.extendTo((end * SECTOR) + gtBytes);
        writeDirectoryEntry(header.gdOffset(), index, end);
        if (rgd != null) {
            long rend = end + gtBytes / SECTOR;
            rgd[index] = (int) rend;
            file.extendTo(rend * SECTOR + gtBytes);
            writeDirectoryEntry(header.rgdOffset(), index, rend);
        }
        return end;
    }

    private void writeDirectoryEntry(long dirSector, int index, long value) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, (int) value);
        file.writeFully(dirSector * SECTOR + index * 4L, b);
    }

    private void writeTable(int index, int[] gt) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(gtes * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(gt);
        file.writeFully(tableSector(index) * SECTOR, b.duplicate());
        if (rgd != null && rgd[index] != 0) {
            file.writeFully(redundantTableSector(index) * SECTOR, b.duplicate());
        }
    }

    /** Writes every changed table back, in file order. */
    synchronized void flush() throws IOException {
        for (Integer index : dirty) {
            writeTable(index, cache.get(index));
        }
        dirty.clear();
    }

    /** Writes both directories whole (used when creating an extent). */
    void writeDirectories() throws IOException {
        file.writeFully(header.gdOffset() * SECTOR, toBytes(gd));
        if (rgd != null) {
            file.writeFully(header.rgdOffset() * SECTOR, toBytes(rgd));
        }
    }

    static ByteBuffer toBytes(int[] entries) {
        ByteBuffer b = ByteBuffer.allocate(entries.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(entries);
        return b;
    }

    private static long ceilSectors(long bytes) {
        return (bytes + SECTOR - 1) / SECTOR;
    }
}
