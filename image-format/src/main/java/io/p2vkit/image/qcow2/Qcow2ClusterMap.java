package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * The two-level map from guest clusters to L2 entries (spec "Cluster mapping"): the L1 table,
 * held whole in memory (bounded by the header check to 32 MiB), and a write-back cache of L2
 * tables bounded in bytes, so that a 2 MiB-cluster image uses as little heap as a 64 KiB one.
 */
final class Qcow2ClusterMap {

    /** Gives a fresh cluster at the end of the file for a new L2 table. */
    @FunctionalInterface
    interface ClusterSource {
        long newCluster() throws IOException;
    }

    private static final long CACHE_BYTES = 8L << 20;

    private final ImageFile file;
    private final int clusterBits;
    private final int l2Bits;
    private final long[] l1;
    private final long l1Offset;
    private final long usableL1;
    private boolean l1Dirty;
    /** The L2 table offsets, sorted; rebuilt after the L1 table changes. */
    private long[] tableOffsets;
    private final int capacity;
    private final Map<Long, long[]> cache = new LinkedHashMap<>(16, 0.75f, true);
    private final Set<Long> dirty = new HashSet<>();

    private Qcow2ClusterMap(ImageFile file, Qcow2Header h, long[] l1) {
        this.file = file;
        this.clusterBits = h.clusterBits();
        this.l2Bits = h.clusterBits() - 3;
        this.l1 = l1;
        this.l1Offset = h.l1TableOffset();
        this.usableL1 = Qcow2Header.l1EntriesFor(h.size(), h.clusterBits());
        this.capacity = (int) Math.max(4, CACHE_BYTES >> h.clusterBits());
    }

    /** Reads the L1 table the header names (its size and place were checked by the header). */
    static Qcow2ClusterMap load(ImageFile file, Qcow2Header h) throws IOException {
        Qcow2ClusterMap map = new Qcow2ClusterMap(file, h, readL1(file, h.l1TableOffset(), h.l1Size()));
        map.checkTables(file.size());
        return map;
    }

    /**
     * Every L2 table lies inside the file and serves one L1 entry only. Besides naming damage
     * early, this bounds the work of a walk over the map by the file's size: a damaged L1 whose
     * entries all name one table would otherwise map petabytes for the cost of one cluster.
     */
    private void checkTables(long fileSize) throws ImageFormatException {
        long[] sorted = new long[l1.length];
        int n = 0;
        for (int i = 0; i < l1.length; i++) {
            long offset = l1[i] & OFFSET_MASK;
            if (offset == 0) {
                continue;
            }
            if (offset >= fileSize) {
                throw new ImageFormatException("qcow2 L1 entry " + i + " points to an L2 table at " + offset
                        + ", beyond the end of the file", l1Offset + i * 8L);
            }
            sorted[n++] = offset;
        }
        Arrays.sort(sorted, 0, n);
        for (int i = 1; i < n; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new ImageFormatException("qcow2 L1 table names the L2 table at " + sorted[i]
                        + " more than once", l1Offset);
            }
        }
        tableOffsets = null;
    }

    /** A map for a new image whose L1 table (all zero) lives at {@code h.l1TableOffset()}. */
    static Qcow2ClusterMap empty(ImageFile file, Qcow2Header h) {
        Qcow2ClusterMap m = new Qcow2ClusterMap(file, h, new long[h.l1Size()]);
        m.l1Dirty = true;
        return m;
    }

    static long[] readL1(ImageFile file, long offset, int entries) throws IOException {
        long[] table = new long[entries];
        if (entries > 0) {
            ByteBuffer b = file.read(offset, entries * 8, "qcow2 L1 table").order(ByteOrder.BIG_ENDIAN);
            b.asLongBuffer().get(table);
        }
        return table;
    }

    int l1Size() {
        return l1.length;
    }

    long l1Entry(int index) {
        return l1[index];
    }

    /** The L2 entry for guest cluster {@code guestCluster}, or 0 when its L2 table is absent. */
    long entry(long guestCluster) throws IOException {
        long l2 = l2Offset(guestCluster);
        if (l2 == 0) {
            return 0;
        }
        return table(l2)[(int) (guestCluster & ((1 << l2Bits) - 1))];
    }

    /** Whether the L2 table covering {@code guestCluster} exists. */
    boolean hasTable(long guestCluster) throws ImageFormatException {
        return l2Offset(guestCluster) != 0;
    }

    /** Guest clusters to skip from {@code guestCluster} to the next L2 boundary. */
    long clustersToTableEnd(long guestCluster) {
        return (1L << l2Bits) - (guestCluster & ((1L << l2Bits) - 1));
    }

    /** Whether {@code hostOffset} is where one of the L1 table's L2 tables lives. */
    boolean isTable(long hostOffset) {
        if (tableOffsets == null) {
            tableOffsets = new long[l1.length];
            for (int i = 0; i < l1.length; i++) {
                tableOffsets[i] = l1[i] & OFFSET_MASK;
            }
            Arrays.sort(tableOffsets);
        }
        return hostOffset != 0 && Arrays.binarySearch(tableOffsets, hostOffset) >= 0;
    }

    /** Creates the L2 table for {@code guestCluster} if it is absent. */
    void ensureTable(long guestCluster, ClusterSource source) throws IOException {
        if (l2Offset(guestCluster) != 0) {
            return;
        }
        long offset = source.newCluster();
        int index = (int) (guestCluster >>> l2Bits);
        l1[index] = OFLAG_COPIED | offset;
        l1Dirty = true;
        tableOffsets = null;
        put(offset, new long[1 << l2Bits]);
        dirty.add(offset);
    }

    /** Sets the entry of {@code guestCluster}; its L2 table must exist. */
    void set(long guestCluster, long entry) throws IOException {
        long l2 = l2Offset(guestCluster);
        if (l2 == 0) {
            throw new IllegalStateException("no L2 table for guest cluster " + guestCluster);
        }
        table(l2)[(int) (guestCluster & ((1 << l2Bits) - 1))] = entry;
        dirty.add(l2);
    }

    private long l2Offset(long guestCluster) throws ImageFormatException {
        long index = guestCluster >>> l2Bits;
        if (index >= usableL1) {
            throw new ImageFormatException("guest cluster " + guestCluster + " is beyond the L1 table");
        }
        long e = l1[(int) index];
        if ((e & L1_RESERVED) != 0) {
            throw new ImageFormatException("qcow2 L1 entry " + index + " has reserved bits set (0x"
                    + Long.toHexString(e) + ")", l1Offset + index * 8);
        }
        long offset = e & OFFSET_MASK;
        if (offset != 0 && (offset & ((1L << clusterBits) - 1)) != 0) {
            throw new ImageFormatException("qcow2 L1 entry " + index + " points to an unaligned L2 table at "
                    + offset, l1Offset + index * 8);
        }
        return offset;
    }

    private long[] table(long offset) throws IOException {
        long[] t = cache.get(offset);
        if (t != null) {
            return t;
        }
        if (offset < (1L << clusterBits)) {
            throw new ImageFormatException("qcow2 L2 table at " + offset + " overlaps the header");
        }
        ByteBuffer b = file.read(offset, 1 << clusterBits, "qcow2 L2 table").order(ByteOrder.BIG_ENDIAN);
        t = new long[1 << l2Bits];
        b.asLongBuffer().get(t);
        put(offset, t);
        return t;
    }

    private void put(long offset, long[] table) throws IOException {
        while (cache.size() >= capacity) {
            Iterator<Map.Entry<Long, long[]>> it = cache.entrySet().iterator();
            Map.Entry<Long, long[]> eldest = it.next();
            if (dirty.remove(eldest.getKey())) {
                writeTable(eldest.getKey(), eldest.getValue());
            }
            it.remove();
        }
        cache.put(offset, table);
    }

    private void writeTable(long offset, long[] table) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(table.length * 8).order(ByteOrder.BIG_ENDIAN);
        b.asLongBuffer().put(table);
        file.writeFully(offset, b);
    }

    /** Writes every changed L2 table, then the L1 table if it changed. */
    void flush() throws IOException {
        for (Long offset : dirty) {
            writeTable(offset, cache.get(offset));
        }
        dirty.clear();
        if (l1Dirty && l1.length > 0) {
            writeTable(l1Offset, l1);
        }
        l1Dirty = false;
    }
}
