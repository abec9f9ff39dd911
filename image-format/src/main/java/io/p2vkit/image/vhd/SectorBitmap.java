package io.p2vkit.image.vhd;

/**
 * The sector bitmap in front of a block (spec "Block Allocation Table and Data Blocks"): bit 7
 * of byte 0 is the block's first sector. A set bit means the block holds the sector; a clear
 * bit means it was never written (zeros in a dynamic disk, the parent's data in a
 * differencing disk).
 */
final class SectorBitmap {

    private final byte[] bits;
    private final int sectors;
    private int setCount;
    private boolean dirty;

    /** Wraps {@code bits} as read from the file, for a block of {@code sectors} sectors. */
    SectorBitmap(byte[] bits, int sectors) {
        this.bits = bits;
        this.sectors = sectors;
        for (int s = 0; s < sectors; s++) {
            if (get(s)) {
                setCount++;
            }
        }
    }

    /** A new bitmap for a block just allocated: all set or all clear, to be written. */
    static SectorBitmap fresh(int bytes, int sectors, boolean allSet) {
        byte[] b = new byte[bytes];
        if (allSet) {
            java.util.Arrays.fill(b, (byte) 0xFF);
        }
        SectorBitmap m = new SectorBitmap(b, sectors);
        m.dirty = true;
        return m;
    }

    boolean get(int sector) {
        return (bits[sector >>> 3] & (0x80 >>> (sector & 7))) != 0;
    }

    boolean allSet() {
        return setCount == sectors;
    }

    /** Sets the bits of sectors {@code [from, to)}. */
    void setRange(int from, int to) {
        if (allSet()) {
            return;
        }
        for (int s = from; s < to; s++) {
            int mask = 0x80 >>> (s & 7);
            if ((bits[s >>> 3] & mask) == 0) {
                bits[s >>> 3] |= (byte) mask;
                setCount++;
                dirty = true;
            }
        }
    }

    /** The first sector in {@code [from, limit)} whose bit differs from {@code from}'s, or {@code limit}. */
    int runEnd(int from, int limit) {
        if (allSet()) {
            return limit;
        }
        boolean v = get(from);
        int s = from + 1;
        while (s < limit && get(s) == v) {
            s++;
        }
        return s;
    }

    byte[] bytes() {
        return bits;
    }

    boolean isDirty() {
        return dirty;
    }

    void clean() {
        dirty = false;
    }
}
