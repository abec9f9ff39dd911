package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * A hosted sparse extent (spec, "Hosted Sparse Extents"), plain or stream-optimized: a header, an
 * optional embedded descriptor, the grain directory and tables, and the grains. Plain extents
 * accept random writes (new grains are appended to the file); compressed ones are read-only.
 */
final class SparseExtent implements VmdkExtent {

    private final ImageFile file;
    private final String name;
    private final SparseExtentHeader header;
    private final GrainDirectory directory;
    private final long sectors;
    private final int grainBytes;
    /** Where the bytes of unallocated grains come from in a child disk; null: zeros. */
    private Backing backing;
    /** The last grain inflated, so that small sequential reads of compressed grains inflate once. */
    private long cachedGrain = -1;
    private byte[] cachedData;

    private SparseExtent(ImageFile file, String name, SparseExtentHeader header, GrainDirectory directory,
                         long sectors) {
        this.file = file;
        this.name = name;
        this.header = header;
        this.directory = directory;
        this.sectors = sectors;
        this.grainBytes = (int) header.grainBytes();
    }

    /** Opens a sparse extent file as large as its header says; on failure the file is closed. */
    static SparseExtent open(ImageFile file, String name) throws IOException {
        return open(file, name, -1);
    }

    /**
     * Opens a sparse extent file that a descriptor line gives {@code sectors} (-1: its capacity);
     * the extent may hold more than the line uses, never less. On failure the file is closed.
     */
    static SparseExtent open(ImageFile file, String name, long sectors) throws IOException {
        try {
            long size = file.size();
            SparseExtentHeader h = effectiveHeader(file, size);
            if (sectors > h.capacity()) {
                throw new ImageFormatException("VMDK extent '" + name + "' holds " + h.capacity()
                        + " sectors; the descriptor gives it " + sectors);
            }
            GrainDirectory gd = GrainDirectory.load(file, h, size, !file.isReadOnly());
            return new SparseExtent(file, name, h, gd, sectors < 0 ? h.capacity() : sectors);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** A new extent made by {@link SparseExtentWriter}. */
    static SparseExtent created(ImageFile file, String name, SparseExtentHeader h, GrainDirectory gd) {
        return new SparseExtent(file, name, h, gd, h.capacity());
    }

    /**
     * The header to use: the one at offset 0, or for a stream-optimized extent whose header says
     * {@code GD_AT_END}, the footer in the file's last sectors (spec, "The Footer").
     */
    static SparseExtentHeader effectiveHeader(ImageFile file, long size) throws IOException {
        if (size < SparseExtentHeader.SIZE) {
            throw new ImageFormatException("VMDK sparse extent is only " + size + " bytes, shorter than its header");
        }
        SparseExtentHeader h = SparseExtentHeader.parse(file.read(0, SECTOR, "VMDK sparse header"), 0);
        if (h.gdOffset() != GD_AT_END) {
            return h;
        }
        requireMarkers(h);
        long footerAt = size - 2L * SECTOR;
        if (size < 4L * SECTOR || size % SECTOR != 0) {
            throw new ImageFormatException("VMDK stream-optimized extent has no footer: the file is "
                    + size + " bytes");
        }
        StreamMarkers.Marker eos = StreamMarkers.read(file, size - SECTOR);
        if (!eos.isMetadata(MARKER_EOS)) {
            throw new ImageFormatException("VMDK stream-optimized extent does not end with an end-of-stream marker",
                    size - SECTOR);
        }
        StreamMarkers.Marker fm = StreamMarkers.read(file, footerAt - SECTOR);
        if (!fm.isMetadata(MARKER_FOOTER)) {
            throw new ImageFormatException("VMDK stream-optimized footer marker is missing", footerAt - SECTOR);
        }
        SparseExtentHeader footer = SparseExtentHeader.parse(file.read(footerAt, SECTOR, "VMDK footer"), footerAt);
        if (footer.gdOffset() == GD_AT_END) {
            throw new ImageFormatException("VMDK footer does not give the grain directory's offset", footerAt);
        }
        if (footer.capacity() != h.capacity() || footer.grainSize() != h.grainSize()
                || footer.gtesPerGt() != h.gtesPerGt() || footer.flags() != h.flags()) {
            throw new ImageFormatException("VMDK footer disagrees with the header (capacity, grain size,"
                    + " table size or flags)", footerAt);
        }
        return footer;
    }

    private static void requireMarkers(SparseExtentHeader h) throws ImageFormatException {
        if (!h.hasMarkers()) {
            throw new ImageFormatException("VMDK header has gdOffset GD_AT_END but no stream markers", 56);
        }
    }

    /** Reads what lies under this extent in the parent disk (offsets are this extent's). */
    @FunctionalInterface
    interface Backing {
        void read(long extentOffset, ByteBuffer dst) throws IOException;
    }

    /** Makes unallocated grains read from, and be copied up from, {@code b}. */
    void setBacking(Backing b) {
        this.backing = b;
    }

    SparseExtentHeader header() {
        return header;
    }

    GrainDirectory directory() {
        return directory;
    }

    ImageFile file() {
        return file;
    }

    /** The embedded descriptor text, or null when the extent has none. */
    String embeddedDescriptor() throws IOException {
        return readEmbeddedDescriptor(file, header);
    }

    static String readEmbeddedDescriptor(ImageFile file, SparseExtentHeader h) throws IOException {
        if (h.descriptorOffset() == 0 || h.descriptorSize() == 0) {
            return null;
        }
        long size = file.size();
        long bytes = h.descriptorSize() * SECTOR;   // bounded to 1 MiB by the header parser
        if (h.descriptorOffset() > size / SECTOR || bytes > size - h.descriptorOffset() * SECTOR) {
            throw new ImageFormatException("VMDK embedded descriptor at sector " + h.descriptorOffset()
                    + " lies beyond the end of the file", 28);
        }
        ByteBuffer b = file.read(h.descriptorOffset() * SECTOR, (int) bytes, "VMDK embedded descriptor");
        int len = 0;
        while (len < bytes && b.get(len) != 0) {
            len++;
        }
        return new String(b.array(), 0, len, StandardCharsets.UTF_8);
    }

    @Override
    public long sectors() {
        return sectors;
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            long grain = pos / grainBytes;
            int inGrain = (int) (pos % grainBytes);
            long entry = directory.entry(grain);
            if (entry == 0 || isZeroEntry(entry)) {
                int n = (int) Math.min(dst.remaining(), grainBytes - inGrain);
                int oldLimit = dst.limit();
                dst.limit(dst.position() + n);
                if (entry == 0 && backing != null) {
                    backing.read(pos, dst);
                } else {
                    Zeros.fill(dst);
                }
                dst.limit(oldLimit);
                pos += n;
                continue;
            }
            if (header.compressed()) {
                byte[] data = inflateGrain(grain, entry);
                int n = (int) Math.min(dst.remaining(), grainBytes - inGrain);
                dst.put(data, inGrain, n);
                pos += n;
                continue;
            }
            // Coalesce grains that follow each other in the file into one read.
            long fileStart = entry * SECTOR + inGrain;
            long runBytes = grainBytes - inGrain;
            long next = grain + 1;
            while (runBytes < dst.remaining() && directory.entry(next) == entry + (next - grain) * header.grainSize()) {
                runBytes += grainBytes;
                next++;
            }
            int n = (int) Math.min(dst.remaining(), runBytes);
            checkInFile(grain, fileStart, n);
            int oldLimit = dst.limit();
            dst.limit(dst.position() + n);
            file.readFully(fileStart, dst, "VMDK grain " + grain + " of '" + name + "'");
            dst.limit(oldLimit);
            pos += n;
        }
    }

    private boolean isZeroEntry(long entry) {
        return entry == GTE_ZERO && header.zeroGrainEntries();
    }

    private void checkInFile(long grain, long fileStart, long n) throws IOException {
        long size = file.size();
        if (fileStart > size || n > size - fileStart) {
            throw new ImageFormatException("VMDK grain " + grain + " of '" + name + "' lies beyond the end of"
                    + " the file (" + size + " bytes)", fileStart);
        }
    }

    /** Reads and inflates one compressed grain (spec, "Compressed Grains"), checking its marker. */
    private byte[] inflateGrain(long grain, long sector) throws IOException {
        if (grain == cachedGrain) {
            return cachedData;
        }
        long at = sector * SECTOR;
        long size = file.size();
        int max = GrainCodec.maxCompressed(grainBytes);
        int dataLen;
        long dataAt;
        if (header.hasMarkers()) {
            if (at > size - GRAIN_MARKER_HEADER) {
                throw new ImageFormatException("VMDK grain marker of grain " + grain + " lies beyond the end of the file", at);
            }
            ByteBuffer m = file.read(at, GRAIN_MARKER_HEADER, "VMDK grain marker");
            long lba = m.getLong(0);
            long len = Integer.toUnsignedLong(m.getInt(8));
            if (lba != grain * header.grainSize()) {
                throw new ImageFormatException("VMDK grain marker says LBA " + Long.toUnsignedString(lba)
                        + " but the grain table places grain " + grain + " (LBA " + grain * header.grainSize()
                        + ") there", at);
            }
            if (len == 0 || len > max || len > size - at - GRAIN_MARKER_HEADER) {
                throw new ImageFormatException("VMDK compressed grain size " + len + " is out of range", at + 8);
            }
            dataLen = (int) len;
            dataAt = at + GRAIN_MARKER_HEADER;
        } else {
            if (at >= size) {
                throw new ImageFormatException("VMDK compressed grain " + grain + " lies beyond the end of the file", at);
            }
            dataLen = (int) Math.min(max, size - at);
            dataAt = at;
        }
        byte[] in = new byte[dataLen];
        file.readFully(dataAt, ByteBuffer.wrap(in), "VMDK compressed grain " + grain);
        byte[] out = cachedData != null && cachedData.length == grainBytes ? cachedData : new byte[grainBytes];
        cachedGrain = -1;
        GrainCodec.inflate(in, dataLen, out, at);
        cachedData = out;
        cachedGrain = grain;
        return out;
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        if (file.isReadOnly()) {
            throw new ImageFormatException("VMDK extent '" + name + "' is open read-only");
        }
        if (header.compressed()) {
            throw new ImageFormatException("VMDK extent '" + name + "' is stream-optimized (compressed):"
                    + " it cannot be changed after it is written");
        }
        long firstGrain = offset / grainBytes;
        long lastGrain = (offset + src.remaining() - 1) / grainBytes;
        for (long g = firstGrain; g <= lastGrain; g += header.gtesPerGt()) {
            directory.ensureTable(g);
        }
        directory.ensureTable(lastGrain);
        long pos = offset;
        long appendAt = roundUpToSector(file.size());
        List<ByteBuffer> appended = new ArrayList<>();
        long appendStart = appendAt;
        while (src.hasRemaining()) {
            long grain = pos / grainBytes;
            int inGrain = (int) (pos % grainBytes);
            int n = Math.min(src.remaining(), grainBytes - inGrain);
            ByteBuffer piece = src.slice(src.position(), n);
            src.position(src.position() + n);
            pos += n;
            long entry = directory.entry(grain);
            if (entry != 0 && !isZeroEntry(entry)) {
                if (entry < header.overHead()) {
                    throw new ImageFormatException("VMDK grain table entry of grain " + grain + " points at sector "
                            + entry + ", inside the metadata; refusing to write there");
                }
                file.writeFully(entry * SECTOR + inGrain, piece);
                continue;
            }
            boolean fromParent = entry == 0 && backing != null;
            if (!fromParent && Zeros.isZero(piece)) {
                continue; // an absent or zero grain already reads as zeros
            }
            ByteBuffer grainData = piece;
            if (n != grainBytes) {
                grainData = ByteBuffer.allocate(grainBytes);
                if (fromParent) {
                    // Copy-on-write: the rest of the grain keeps what the parent holds there.
                    backing.read(grain * grainBytes, grainData);
                    grainData.clear();
                }
                grainData.position(inGrain).put(piece).clear();
            }
            if (appendAt / SECTOR + header.grainSize() > 0xFFFF_FFFFL) {
                throw new ImageFormatException("VMDK sparse extent '" + name + "' is full: grain offsets are"
                        + " 32-bit sectors, so one extent file holds at most 2 TiB");
            }
            directory.set(grain, appendAt / SECTOR);
            appended.add(grainData);
            appendAt += grainBytes;
        }
        if (!appended.isEmpty()) {
            writeGathered(appendStart, appended);
        }
    }

    private void writeGathered(long at, List<ByteBuffer> buffers) throws IOException {
        ByteBuffer[] array = buffers.toArray(ByteBuffer[]::new);
        var channel = file.channel();
        long expected = 0;
        for (ByteBuffer b : array) {
            expected += b.remaining();
        }
        channel.position(at);
        long done = 0;
        while (done < expected) {
            done += channel.write(array);
        }
    }

    private static long roundUpToSector(long bytes) {
        return (bytes + SECTOR - 1) / SECTOR * SECTOR;
    }

    @Override
    public synchronized void map(long from, long to, long base, RunBuilder out) throws IOException {
        long pos = from;
        long tableSpan = (long) grainBytes * header.gtesPerGt();
        while (pos < to) {
            long grain = pos / grainBytes;
            int[] table = directory.tableOf(grain);
            if (table == null) {
                // A whole table is absent: skip its span at once.
                long end = Math.min(to, (pos / tableSpan + 1) * tableSpan);
                out.add(base + pos, end - pos, Extent.Kind.UNALLOCATED);
                pos = end;
                continue;
            }
            if (allZero(table)) {
                long end = Math.min(to, (pos / tableSpan + 1) * tableSpan);
                out.add(base + pos, end - pos, Extent.Kind.UNALLOCATED);
                pos = end;
                continue;
            }
            long end = Math.min(to, (grain + 1) * grainBytes);
            long entry = Integer.toUnsignedLong(table[(int) (grain % header.gtesPerGt())]);
            Extent.Kind kind = entry == 0 ? Extent.Kind.UNALLOCATED
                    : isZeroEntry(entry) ? Extent.Kind.ZERO : Extent.Kind.DATA;
            out.add(base + pos, end - pos, kind);
            pos = end;
        }
    }

    private static boolean allZero(int[] table) {
        for (int e : table) {
            if (e != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void flush() throws IOException {
        if (!file.isReadOnly()) {
            directory.flush();
            file.force();
        }
    }

    @Override
    public String type() {
        return "SPARSE";
    }

    @Override
    public String fileName() {
        return name;
    }

    @Override
    public synchronized void close() throws IOException {
        try {
            if (!file.isReadOnly()) {
                directory.flush();
            }
        } finally {
            file.close();
        }
    }
}
