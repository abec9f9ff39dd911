package io.p2vkit.image.vhd;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.p2vkit.image.vhd.VhdConstants.SECTOR;

/**
 * The data of a dynamic or differencing disk: blocks found through the BAT, each a sector
 * bitmap followed by the block's data. Sectors whose bit is clear, and blocks the BAT does not
 * list, read from the {@link Base} (zeros for a dynamic disk, the parent for a differencing one).
 *
 * <p>New blocks go at the end of the file, where the trailing footer was; the footer is written
 * again after the last block by {@link VhdDisk#flush}. Bitmaps and BAT entries are kept in
 * memory and written in bulk, so a block costs one data write plus a 512-byte bitmap write.
 */
final class VhdBlocks {

    /** Where sectors that this file does not hold come from. */
    @FunctionalInterface
    interface Base {
        void read(long offset, ByteBuffer dst) throws IOException;
    }

    /** Bitmap bytes kept in memory; dirty ones are written when they leave. */
    private static final int CACHE_BYTES = 4 << 20;

    private final ImageFile file;
    private final DataWriter writer;
    private final VhdBat bat;
    private final long blockSize;
    private final int sectorsPerBlock;
    private final int bitmapBytes;
    private final boolean differencing;
    private final Base base;
    /** File offsets from here on were allocated by this session and may still be holes past EOF. */
    private final long sessionStart;
    private long nextFree;
    private final Map<Long, SectorBitmap> cache = new LinkedHashMap<>(64, 0.75f, true);
    private final int cacheLimit;

    VhdBlocks(ImageFile file, DataWriter writer, VhdBat bat, long blockSize, boolean differencing, Base base,
              long nextFree) {
        this.file = file;
        this.writer = writer;
        this.bat = bat;
        this.blockSize = blockSize;
        this.sectorsPerBlock = (int) (blockSize / SECTOR);
        this.bitmapBytes = (int) VhdDynamicHeader.bitmapSize(blockSize);
        this.differencing = differencing;
        this.base = base;
        this.sessionStart = nextFree;
        this.nextFree = nextFree;
        this.cacheLimit = Math.max(16, CACHE_BYTES / bitmapBytes);
        // New blocks go past the end of the file: their data areas are holes until written.
        writer.markFresh(nextFree);
    }

    /** Where the next block (and so the trailing footer) goes. */
    long nextFree() {
        return nextFree;
    }

    boolean grew() {
        return nextFree != sessionStart;
    }

    long allocatedBlocks() {
        long n = 0;
        for (int i = 0; i < bat.size(); i++) {
            if (bat.isAllocated(i)) {
                n++;
            }
        }
        return n;
    }

    void read(long offset, ByteBuffer dst) throws IOException {
        long off = offset;
        while (dst.hasRemaining()) {
            long block = off / blockSize;
            int inBlock = (int) (off % blockSize);
            int n = (int) Math.min(dst.remaining(), blockSize - inBlock);
            ByteBuffer part = dst.slice(dst.position(), n);
            if (!bat.isAllocated(block)) {
                base.read(off, part);
            } else {
                readBlock(block, inBlock, part);
            }
            dst.position(dst.position() + n);
            off += n;
        }
    }

    private void readBlock(long block, int inBlock, ByteBuffer part) throws IOException {
        SectorBitmap bm = bitmap(block);
        long data = bat.bitmapOffset(block) + bitmapBytes;
        int n = part.remaining();
        if (bm.allSet()) {
            readData(data + inBlock, part);
            return;
        }
        long blockStart = block * blockSize;
        int pos = 0;
        while (pos < n) {
            int at = inBlock + pos;
            int sector = at / SECTOR;
            int runEnd = (int) Math.min((long) bm.runEnd(sector, sectorsPerBlock) * SECTOR, inBlock + n);
            ByteBuffer piece = part.slice(pos, runEnd - at);
            if (bm.get(sector)) {
                readData(data + at, piece);
            } else {
                base.read(blockStart + at, piece);
            }
            pos = runEnd - inBlock;
        }
    }

    /** Reads stored data; blocks this session added may end in a hole past the end of the file. */
    private void readData(long position, ByteBuffer dst) throws IOException {
        if (position >= sessionStart) {
            file.readUpTo(position, dst);
            Zeros.fill(dst);
        } else {
            file.readFully(position, dst, "VHD data block");
        }
    }

    void write(long offset, ByteBuffer src) throws IOException {
        long off = offset;
        while (src.hasRemaining()) {
            long block = off / blockSize;
            int inBlock = (int) (off % blockSize);
            int n = (int) Math.min(src.remaining(), blockSize - inBlock);
            ByteBuffer part = src.slice(src.position(), n);
            if (bat.isAllocated(block)) {
                writeBlock(block, inBlock, part);
            } else if (differencing || !Zeros.isZero(part)) {
                // Zeros need no block in a dynamic disk: an absent block reads as zeros.
                allocate(block);
                writeBlock(block, inBlock, part);
            }
            src.position(src.position() + n);
            off += n;
        }
    }

    /**
     * Puts a new block at the end of the file. A dynamic disk's new block has every bit set:
     * its data area lies past the old end of the file, so what is not written reads as zeros
     * (as qemu does). A differencing disk's starts clear: unwritten sectors stay the parent's.
     */
    private void allocate(long block) throws IOException {
        long at = nextFree;
        if (at / SECTOR > 0xFFFF_FFFEL) {
            throw new ImageFormatException("the VHD file would grow past the 2 TiB that a block allocation"
                    + " table entry can address");
        }
        bat.set(block, at);
        nextFree = at + bitmapBytes + blockSize;
        remember(block, SectorBitmap.fresh(bitmapBytes, sectorsPerBlock, !differencing));
    }

    private void writeBlock(long block, int inBlock, ByteBuffer part) throws IOException {
        SectorBitmap bm = bitmap(block);
        long data = bat.bitmapOffset(block) + bitmapBytes;
        int end = inBlock + part.remaining();
        if (bm.allSet()) {
            writer.write(data + inBlock, part);
            return;
        }
        int alignedStart = Math.ceilDiv(inBlock, SECTOR) * SECTOR;
        int alignedEnd = end / SECTOR * SECTOR;
        if (alignedStart >= alignedEnd) {
            // Inside one sector, or across one sector boundary without a whole sector.
            int firstEnd = Math.min(end, (inBlock / SECTOR + 1) * SECTOR);
            writePartialSector(block, bm, data, inBlock, part.slice(0, firstEnd - inBlock));
            if (firstEnd < end) {
                writePartialSector(block, bm, data, firstEnd, part.slice(firstEnd - inBlock, end - firstEnd));
            }
        } else {
            if (inBlock < alignedStart) {
                writePartialSector(block, bm, data, inBlock, part.slice(0, alignedStart - inBlock));
            }
            writer.write(data + alignedStart, part.slice(alignedStart - inBlock, alignedEnd - alignedStart));
            if (alignedEnd < end) {
                writePartialSector(block, bm, data, alignedEnd, part.slice(alignedEnd - inBlock, end - alignedEnd));
            }
        }
        bm.setRange(inBlock / SECTOR, Math.ceilDiv(end, SECTOR));
    }

    /** Writes part of one sector; a sector not yet held is first filled from the base. */
    private void writePartialSector(long block, SectorBitmap bm, long data, int at, ByteBuffer bytes)
            throws IOException {
        int sector = at / SECTOR;
        if (bm.get(sector)) {
            writer.write(data + at, bytes);
            return;
        }
        ByteBuffer whole = ByteBuffer.allocate(SECTOR);
        base.read(block * blockSize + (long) sector * SECTOR, whole);
        whole.put(at - sector * SECTOR, bytes, bytes.position(), bytes.remaining());
        writer.write(data + (long) sector * SECTOR, whole.clear());
    }

    /** Runs of DATA (held here) and UNALLOCATED (from the base) over {@code [from, to)}. */
    List<Extent> extents(long from, long to) throws IOException {
        List<Extent> out = new ArrayList<>();
        long pos = from;
        while (pos < to) {
            long block = pos / blockSize;
            long blockStart = block * blockSize;
            long end = Math.min(blockStart + blockSize, to);
            if (!bat.isAllocated(block)) {
                add(out, pos, end, Extent.Kind.UNALLOCATED);
            } else {
                SectorBitmap bm = bitmap(block);
                if (bm.allSet()) {
                    add(out, pos, end, Extent.Kind.DATA);
                } else {
                    long p = pos;
                    while (p < end) {
                        int sector = (int) ((p - blockStart) / SECTOR);
                        long runEnd = Math.min(blockStart + (long) bm.runEnd(sector, sectorsPerBlock) * SECTOR, end);
                        add(out, p, runEnd, bm.get(sector) ? Extent.Kind.DATA : Extent.Kind.UNALLOCATED);
                        p = runEnd;
                    }
                }
            }
            pos = end;
        }
        return out;
    }

    private static void add(List<Extent> out, long from, long to, Extent.Kind kind) {
        if (!out.isEmpty()) {
            Extent last = out.getLast();
            if (last.kind() == kind && last.end() == from) {
                out.set(out.size() - 1, new Extent(last.offset(), to - last.offset(), kind));
                return;
            }
        }
        out.add(new Extent(from, to - from, kind));
    }

    /** Writes dirty bitmaps and BAT entries. */
    void flush() throws IOException {
        List<Map.Entry<Long, SectorBitmap>> dirty = new ArrayList<>();
        for (Map.Entry<Long, SectorBitmap> e : cache.entrySet()) {
            if (e.getValue().isDirty()) {
                dirty.add(e);
            }
        }
        dirty.sort(Map.Entry.comparingByKey());
        for (Map.Entry<Long, SectorBitmap> e : dirty) {
            writeBitmap(e.getKey(), e.getValue());
        }
        bat.writeDirty(file);
    }

    private SectorBitmap bitmap(long block) throws IOException {
        SectorBitmap bm = cache.get(block);
        if (bm == null) {
            ByteBuffer buf = ByteBuffer.allocate(bitmapBytes);
            file.readFully(bat.bitmapOffset(block), buf, "VHD sector bitmap of block " + block);
            bm = new SectorBitmap(buf.array(), sectorsPerBlock);
            remember(block, bm);
        }
        return bm;
    }

    private void remember(long block, SectorBitmap bm) throws IOException {
        cache.put(block, bm);
        if (cache.size() > cacheLimit) {
            Iterator<Map.Entry<Long, SectorBitmap>> it = cache.entrySet().iterator();
            Map.Entry<Long, SectorBitmap> eldest = it.next();
            it.remove();
            if (eldest.getValue().isDirty()) {
                writeBitmap(eldest.getKey(), eldest.getValue());
            }
        }
    }

    private void writeBitmap(long block, SectorBitmap bm) throws IOException {
        file.writeFully(bat.bitmapOffset(block), ByteBuffer.wrap(bm.bytes()));
        bm.clean();
    }
}
