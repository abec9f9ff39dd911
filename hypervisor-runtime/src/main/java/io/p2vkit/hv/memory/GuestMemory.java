package io.p2vkit.hv.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The guest's physical memory: RAM and ROM regions backed by page-aligned native segments (so
 * KVM can map the same bytes). Every access names a guest-physical range that is checked with
 * exact arithmetic against the region's end before any byte moves; addresses no region covers
 * are MMIO, which the caller routes to the {@code Bus}.
 */
public final class GuestMemory implements AutoCloseable {

    /** One contiguous range of guest-physical memory. */
    public record Region(String name, long base, long size, boolean readOnly, MemorySegment segment) {
        public long end() {
            return base + size;
        }

        boolean contains(long gpa, long len) {
            return gpa >= base && len >= 0 && gpa - base <= size - len;
        }
    }

    private static final long PAGE = 4096;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Told of every write the host side (a device's DMA, firmware loading) makes into guest RAM. */
    @FunctionalInterface
    public interface HostWriteListener {
        void written(long gpa, long length);
    }

    private final Arena arena = Arena.ofShared();
    private volatile HostWriteListener hostWrites;
    private final List<Region> regions = new ArrayList<>();
    /** The regions by base, as an array: {@link #find} runs on every page walk and TLB fill. */
    private volatile Region[] byBase = new Region[0];
    /** The region {@link #find} found last (nearly every walk and fill is in main RAM); any thread may replace it. */
    private Region lastFound;

    /** Adds a region of fresh zeroed memory at {@code base}; regions must not overlap. */
    public synchronized Region add(String name, long base, long size, boolean readOnly) {
        if (size <= 0 || base < 0 || base % PAGE != 0 || size % PAGE != 0 || base + size < base) {
            throw new IllegalArgumentException(name + ": bad region " + base + "+" + size);
        }
        for (Region r : regions) {
            if (base < r.end() && r.base() < base + size) {
                throw new IllegalArgumentException(name + " overlaps " + r.name());
            }
        }
        Region r = new Region(name, base, size, readOnly, arena.allocate(size, PAGE));
        regions.add(r);
        regions.sort((a, b) -> Long.compare(a.base(), b.base()));
        byBase = regions.toArray(Region[]::new);
        return r;
    }

    public List<Region> regions() {
        return Collections.unmodifiableList(regions);
    }

    /** The region holding all of {@code [gpa, gpa + len)}, or null (MMIO or unmapped). */
    public Region find(long gpa, long len) {
        Region last = lastFound;
        if (last != null && last.contains(gpa, len)) {
            return last;
        }
        for (Region r : byBase) {
            if (r.contains(gpa, len)) {
                lastFound = r;
                return r;
            }
        }
        return null;
    }

    private Region require(long gpa, long len) {
        Math.addExact(gpa, len);
        Region r = find(gpa, len);
        if (r == null) {
            throw new GuestMemoryException(gpa, len);
        }
        return r;
    }

    public byte readByte(long gpa) {
        Region r = require(gpa, 1);
        return r.segment().get(ValueLayout.JAVA_BYTE, gpa - r.base());
    }

    public short readShort(long gpa) {
        Region r = require(gpa, 2);
        return r.segment().get(SHORT, gpa - r.base());
    }

    public int readInt(long gpa) {
        Region r = require(gpa, 4);
        return r.segment().get(INT, gpa - r.base());
    }

    public long readLong(long gpa) {
        Region r = require(gpa, 8);
        return r.segment().get(LONG, gpa - r.base());
    }

    public void writeByte(long gpa, byte v) {
        writable(gpa, 1).set(ValueLayout.JAVA_BYTE, gpa - find(gpa, 1).base(), v);
    }

    public void writeShort(long gpa, short v) {
        writable(gpa, 2).set(SHORT, gpa - find(gpa, 2).base(), v);
    }

    public void writeInt(long gpa, int v) {
        writable(gpa, 4).set(INT, gpa - find(gpa, 4).base(), v);
    }

    public void writeLong(long gpa, long v) {
        writable(gpa, 8).set(LONG, gpa - find(gpa, 8).base(), v);
    }

    /** Copies {@code len} guest bytes at {@code gpa} into {@code dst[off..]}. */
    public void read(long gpa, byte[] dst, int off, int len) {
        Region r = require(gpa, len);
        MemorySegment.copy(r.segment(), ValueLayout.JAVA_BYTE, gpa - r.base(), dst, off, len);
    }

    /** Copies {@code src[off..off+len)} into guest memory at {@code gpa}. */
    public void write(long gpa, byte[] src, int off, int len) {
        MemorySegment seg = writable(gpa, len);
        MemorySegment.copy(src, off, seg, ValueLayout.JAVA_BYTE, gpa - find(gpa, len).base(), len);
    }

    /** Loads firmware or a boot image into any region, ROM included (host-side setup only). */
    public void load(long gpa, byte[] data) {
        Region r = require(gpa, data.length);
        MemorySegment.copy(data, 0, r.segment(), ValueLayout.JAVA_BYTE, gpa - r.base(), data.length);
    }

    /**
     * Registers who must hear of host-side writes: an emulated CPU caches decoded code per page
     * and must drop what a device overwrites behind its back.
     */
    public void setHostWriteListener(HostWriteListener listener) {
        this.hostWrites = listener;
    }

    private MemorySegment writable(long gpa, long len) {
        Region r = require(gpa, len);
        if (r.readOnly()) {
            throw new GuestMemoryException(gpa, len);
        }
        HostWriteListener l = hostWrites;
        if (l != null) {
            l.written(gpa, len);
        }
        return r.segment();
    }

    @Override
    public void close() {
        arena.close();
    }
}
