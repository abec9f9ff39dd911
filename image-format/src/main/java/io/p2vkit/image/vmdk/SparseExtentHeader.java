package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Fields;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * The 512-byte header of a hosted sparse extent (spec, "Hosted Sparse Extent Header"), also used
 * as the footer of a stream-optimized extent. All fields little-endian, packed:
 *
 * <pre>
 *   0 magic u32    4 version u32    8 flags u32        12 capacity u64 (sectors)
 *  20 grainSize u64               28 descriptorOffset u64    36 descriptorSize u64
 *  44 numGTEsPerGT u32            48 rgdOffset u64           56 gdOffset u64
 *  64 overHead u64                72 uncleanShutdown u8      73..76 "\n", " ", "\r", "\n"
 *  77 compressAlgorithm u16       79 pad to 512
 * </pre>
 */
record SparseExtentHeader(int version, int flags, long capacity, long grainSize, long descriptorOffset,
                          long descriptorSize, int gtesPerGt, long rgdOffset, long gdOffset, long overHead,
                          boolean uncleanShutdown, int compressAlgorithm) {

    static final int SIZE = 512;

    private static final int OFF_VERSION = 4;
    private static final int OFF_FLAGS = 8;
    private static final int OFF_CAPACITY = 12;
    private static final int OFF_GRAIN_SIZE = 20;
    private static final int OFF_DESCRIPTOR_OFFSET = 28;
    private static final int OFF_DESCRIPTOR_SIZE = 36;
    private static final int OFF_GTES_PER_GT = 44;
    private static final int OFF_RGD = 48;
    private static final int OFF_GD = 56;
    private static final int OFF_OVERHEAD = 64;
    private static final int OFF_UNCLEAN = 72;
    private static final int OFF_NEWLINES = 73;
    private static final int OFF_COMPRESS = 77;
    /** The end of the defined fields; the rest is padding. */
    static final int FIELDS_END = 79;

    private static final byte[] NEWLINE_TEST = {'\n', ' ', '\r', '\n'};

    boolean compressed() {
        return (flags & FLAG_COMPRESSED) != 0;
    }

    boolean hasMarkers() {
        return (flags & FLAG_MARKERS) != 0;
    }

    boolean zeroGrainEntries() {
        return (flags & FLAG_ZERO_GRAIN_GTE) != 0;
    }

    boolean redundantGd() {
        return (flags & FLAG_REDUNDANT_GD) != 0;
    }

    long grainBytes() {
        return grainSize * SECTOR;
    }

    /** Grains needed to cover the capacity. */
    long grainCount() {
        return ceilDiv(capacity, grainSize);
    }

    /** Grain tables (and so grain-directory entries) needed to cover the capacity. */
    long gtCount() {
        return ceilDiv(grainCount(), gtesPerGt);
    }

    /** Bytes of one grain table, rounded up to whole sectors as stored. */
    long gtBytes() {
        return ceilDiv((long) gtesPerGt * 4, SECTOR) * SECTOR;
    }

    long gdBytes() {
        return ceilDiv(gtCount() * 4, SECTOR) * SECTOR;
    }

    SparseExtentHeader withGdOffset(long gd) {
        return new SparseExtentHeader(version, flags, capacity, grainSize, descriptorOffset, descriptorSize,
                gtesPerGt, rgdOffset, gd, overHead, uncleanShutdown, compressAlgorithm);
    }

    /** Whether the first four bytes are "KDMV". */
    static boolean hasMagic(ByteBuffer head) {
        return head.remaining() >= 4 && head.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt(head.position()) == SPARSE_MAGIC;
    }

    /**
     * Parses and checks a header read at {@code fileOffset}; every size it gives is bounded here so
     * that callers can allocate from it.
     */
    static SparseExtentHeader parse(ByteBuffer raw, long fileOffset) throws ImageFormatException {
        if (raw.remaining() < SIZE) {
            throw new ImageFormatException("VMDK sparse header is cut short", fileOffset);
        }
        ByteBuffer b = raw.slice(raw.position(), SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic == COWD_MAGIC) {
            throw new ImageFormatException("VMDK ESX sparse extent (COWD) is not supported", fileOffset);
        }
        Fields.require(magic == SPARSE_MAGIC, "VMDK sparse header has no KDMV magic", fileOffset);
        int version = (int) Fields.inRange("VMDK header version", fileOffset + OFF_VERSION,
                Fields.u32(b.getInt(OFF_VERSION)), VERSION_1, VERSION_STREAM);
        int flags = b.getInt(OFF_FLAGS);
        if ((flags & INCOMPATIBLE_FLAGS_MASK & ~KNOWN_FLAGS) != 0) {
            throw new ImageFormatException("VMDK header flags 0x" + Integer.toHexString(flags)
                    + " hold an unknown incompatible feature", fileOffset + OFF_FLAGS);
        }
        long capacity = Fields.inRange("VMDK header capacity (sectors)", fileOffset + OFF_CAPACITY,
                b.getLong(OFF_CAPACITY), 0, MAX_CAPACITY_SECTORS);
        long grainSize = Fields.powerOfTwo("VMDK header grainSize (sectors)", fileOffset + OFF_GRAIN_SIZE,
                b.getLong(OFF_GRAIN_SIZE), 1, MAX_GRAIN_SECTORS);
        long descriptorOffset = Fields.inRange("VMDK header descriptorOffset", fileOffset + OFF_DESCRIPTOR_OFFSET,
                b.getLong(OFF_DESCRIPTOR_OFFSET), 0, MAX_CAPACITY_SECTORS);
        long descriptorSize = Fields.inRange("VMDK header descriptorSize (sectors)",
                fileOffset + OFF_DESCRIPTOR_SIZE, b.getLong(OFF_DESCRIPTOR_SIZE), 0, MAX_DESCRIPTOR_BYTES / SECTOR);
        int gtes = (int) Fields.powerOfTwo("VMDK header numGTEsPerGT", fileOffset + OFF_GTES_PER_GT,
                Fields.u32(b.getInt(OFF_GTES_PER_GT)), MIN_GTES_PER_GT, MAX_GTES_PER_GT);
        long rgd = b.getLong(OFF_RGD);
        long gd = b.getLong(OFF_GD);
        if (gd != GD_AT_END) {
            Fields.inRange("VMDK header gdOffset", fileOffset + OFF_GD, gd, 0, MAX_CAPACITY_SECTORS);
        }
        if ((flags & FLAG_REDUNDANT_GD) != 0) {
            Fields.inRange("VMDK header rgdOffset", fileOffset + OFF_RGD, rgd, 1, MAX_CAPACITY_SECTORS);
        }
        long overHead = Fields.inRange("VMDK header overHead (sectors)", fileOffset + OFF_OVERHEAD,
                b.getLong(OFF_OVERHEAD), 0, MAX_CAPACITY_SECTORS);
        if ((flags & FLAG_NEWLINE_TEST) != 0) {
            for (int i = 0; i < NEWLINE_TEST.length; i++) {
                if (b.get(OFF_NEWLINES + i) != NEWLINE_TEST[i]) {
                    throw new ImageFormatException("VMDK header newline test bytes are damaged"
                            + " (the file went through a text-mode transfer)", fileOffset + OFF_NEWLINES);
                }
            }
        }
        int compress = Short.toUnsignedInt(b.getShort(OFF_COMPRESS));
        boolean compressed = (flags & FLAG_COMPRESSED) != 0;
        if (compressed && compress != COMPRESSION_DEFLATE) {
            throw new ImageFormatException("VMDK header compressAlgorithm " + compress
                    + " is not deflate (1)", fileOffset + OFF_COMPRESS);
        }
        if (!compressed && compress != COMPRESSION_NONE && compress != COMPRESSION_DEFLATE) {
            throw new ImageFormatException("VMDK header compressAlgorithm " + compress + " is unknown",
                    fileOffset + OFF_COMPRESS);
        }
        SparseExtentHeader h = new SparseExtentHeader(version, flags, capacity, grainSize, descriptorOffset,
                descriptorSize, gtes, rgd, gd, overHead, b.get(OFF_UNCLEAN) != 0, compress);
        if (h.gtCount() > MAX_GD_ENTRIES) {
            throw new ImageFormatException("VMDK header asks for " + h.gtCount()
                    + " grain tables, more than the " + MAX_GD_ENTRIES + " we hold", fileOffset + OFF_CAPACITY);
        }
        return h;
    }

    /** The 512 bytes of this header, with the magic and newline test. */
    ByteBuffer toBytes() {
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, SPARSE_MAGIC);
        b.putInt(OFF_VERSION, version);
        b.putInt(OFF_FLAGS, flags);
        b.putLong(OFF_CAPACITY, capacity);
        b.putLong(OFF_GRAIN_SIZE, grainSize);
        b.putLong(OFF_DESCRIPTOR_OFFSET, descriptorOffset);
        b.putLong(OFF_DESCRIPTOR_SIZE, descriptorSize);
        b.putInt(OFF_GTES_PER_GT, gtesPerGt);
        b.putLong(OFF_RGD, rgdOffset);
        b.putLong(OFF_GD, gdOffset);
        b.putLong(OFF_OVERHEAD, overHead);
        b.put(OFF_UNCLEAN, (byte) (uncleanShutdown ? 1 : 0));
        b.put(OFF_NEWLINES, NEWLINE_TEST);
        b.putShort(OFF_COMPRESS, (short) compressAlgorithm);
        return b.position(0);
    }
}
