package io.p2vkit.image.vhd;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static io.p2vkit.image.vhd.VhdConstants.BAT_UNUSED;
import static io.p2vkit.image.vhd.VhdConstants.SECTOR;

/**
 * The Block Allocation Table (spec "Block Allocation Table and Data Blocks"): one big-endian
 * 32-bit sector number per block, {@code 0xFFFFFFFF} for a block not stored. Held in memory;
 * changed entries are written back as one run.
 */
final class VhdBat {

    private static final int READ_CHUNK = 1 << 20;

    private final int[] entries;
    private final long tableOffset;
    private int dirtyFrom = Integer.MAX_VALUE;
    private int dirtyTo = -1;

    private VhdBat(int[] entries, long tableOffset) {
        this.entries = entries;
        this.tableOffset = tableOffset;
    }

    /** A table of {@code count} unused entries at {@code tableOffset}. */
    static VhdBat empty(long tableOffset, int count) {
        int[] e = new int[count];
        Arrays.fill(e, BAT_UNUSED);
        return new VhdBat(e, tableOffset);
    }

    /**
     * Reads the table and checks that every block it names lies inside the file (a block past
     * the end means the image was truncated).
     */
    static VhdBat load(ImageFile file, VhdDynamicHeader header, long fileSize) throws IOException {
        VhdBat bat = read(file, header);
        int[] e = bat.entries;
        long span = header.bitmapSize() + header.blockSize();
        for (int k = 0; k < e.length; k++) {
            if (e[k] != BAT_UNUSED) {
                long start = Integer.toUnsignedLong(e[k]) * SECTOR;
                if (start + span > fileSize) {
                    throw new ImageFormatException("VHD block " + k + " at file offset " + start
                            + " ends past the end of the file (" + fileSize + " bytes): the image is truncated"
                            + " or its block allocation table is damaged", header.tableOffset() + 4L * k);
                }
            }
        }
        return bat;
    }

    /** Reads the table as it is, unchecked (for the checker, which reports what is wrong). */
    static VhdBat read(ImageFile file, VhdDynamicHeader header) throws IOException {
        int count = (int) header.maxTableEntries(); // bounded by VhdLayout
        int[] e = new int[count];
        ByteBuffer buf = ByteBuffer.allocate(Math.min(READ_CHUNK, count * 4)).order(ByteOrder.BIG_ENDIAN);
        int i = 0;
        while (i < count) {
            int n = Math.min(buf.capacity() / 4, count - i);
            buf.clear().limit(n * 4);
            file.readFully(header.tableOffset() + 4L * i, buf, "VHD block allocation table");
            buf.flip();
            for (int k = 0; k < n; k++) {
                e[i + k] = buf.getInt();
            }
            i += n;
        }
        return new VhdBat(e, header.tableOffset());
    }

    int size() {
        return entries.length;
    }

    boolean isAllocated(long block) {
        return block < entries.length && entries[(int) block] != BAT_UNUSED;
    }

    /** File offset of the block's sector bitmap; the block must be allocated. */
    long bitmapOffset(long block) {
        return Integer.toUnsignedLong(entries[(int) block]) * SECTOR;
    }

    void set(long block, long fileOffset) {
        int i = (int) block;
        entries[i] = (int) (fileOffset / SECTOR);
        dirtyFrom = Math.min(dirtyFrom, i);
        dirtyTo = Math.max(dirtyTo, i);
    }

    /** Writes the entries changed since the last call. */
    void writeDirty(ImageFile file) throws IOException {
        if (dirtyTo < 0) {
            return;
        }
        int from = dirtyFrom;
        while (from <= dirtyTo) {
            int n = Math.min(READ_CHUNK / 4, dirtyTo - from + 1);
            ByteBuffer buf = ByteBuffer.allocate(n * 4).order(ByteOrder.BIG_ENDIAN);
            for (int k = 0; k < n; k++) {
                buf.putInt(entries[from + k]);
            }
            file.writeFully(tableOffset + 4L * from, buf.flip());
            from += n;
        }
        dirtyFrom = Integer.MAX_VALUE;
        dirtyTo = -1;
    }

    /** Bytes the table takes in the file, padded to whole sectors. */
    static long byteSize(long entries) {
        return Math.ceilDiv(entries * 4, SECTOR) * SECTOR;
    }
}
