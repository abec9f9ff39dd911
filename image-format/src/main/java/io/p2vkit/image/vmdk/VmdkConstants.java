package io.p2vkit.image.vmdk;

/**
 * Numbers of the VMDK format. "Spec" below is VMware's "Virtual Disk Format 5.0" technical note.
 */
final class VmdkConstants {

    private VmdkConstants() {
    }

    /** Everything in a sparse extent is addressed in 512-byte sectors. */
    static final int SECTOR = 512;

    /** "KDMV" read as a little-endian uint32 (spec, "Hosted Sparse Extent Header"). */
    static final int SPARSE_MAGIC = 0x564d444b;
    /** "COWD" as a little-endian uint32: the ESX (VMFS) sparse format, which we do not read. */
    static final int COWD_MAGIC = 0x44574f43;

    /** Header versions: 1 plain, 2 zeroed-grain GTEs, 3 stream-optimized (spec, header notes). */
    static final int VERSION_1 = 1;
    static final int VERSION_ZEROED_GRAIN = 2;
    static final int VERSION_STREAM = 3;

    /** Header flags (spec, "flags"). */
    static final int FLAG_NEWLINE_TEST = 1;
    static final int FLAG_REDUNDANT_GD = 1 << 1;
    static final int FLAG_ZERO_GRAIN_GTE = 1 << 2;
    static final int FLAG_COMPRESSED = 1 << 16;
    static final int FLAG_MARKERS = 1 << 17;
    /** Flags we understand; an unknown bit in the upper (incompatible) half makes us refuse. */
    static final int KNOWN_FLAGS = FLAG_NEWLINE_TEST | FLAG_REDUNDANT_GD | FLAG_ZERO_GRAIN_GTE
            | FLAG_COMPRESSED | FLAG_MARKERS;
    static final int INCOMPATIBLE_FLAGS_MASK = 0xFFFF_0000;

    static final int COMPRESSION_NONE = 0;
    static final int COMPRESSION_DEFLATE = 1;

    /** gdOffset of a stream-optimized header whose grain directory is found through the footer. */
    static final long GD_AT_END = 0xFFFF_FFFF_FFFF_FFFFL;

    /** A grain table entry of 1 means "reads as zeros" when FLAG_ZERO_GRAIN_GTE is set. */
    static final int GTE_ZERO = 1;

    /** Metadata marker types (spec, "Stream-Optimized Compressed Sparse Extents"). */
    static final int MARKER_EOS = 0;
    static final int MARKER_GT = 1;
    static final int MARKER_GD = 2;
    static final int MARKER_FOOTER = 3;

    /** A grain marker is lba (u64) + compressed size (u32), then the deflate stream. */
    static final int GRAIN_MARKER_HEADER = 12;

    /** What we create: 64 KiB grains, 512 entries per table, as VMware and qemu do. */
    static final int DEFAULT_GRAIN_SECTORS = 128;
    static final int DEFAULT_GTES_PER_GT = 512;
    /** Sectors kept for the embedded descriptor (qemu and VMware both reserve 20). */
    static final int EMBEDDED_DESCRIPTOR_SECTORS = 20;
    /** VMware's split extents hold 2047 MiB each, so every file stays under 2 GiB. */
    static final long SPLIT_EXTENT_SECTORS = 4_192_256L;

    /** Limits applied when parsing, so a damaged header cannot size an allocation or a loop. */
    static final long MAX_GRAIN_SECTORS = 2048;          // 1 MiB grains
    static final long MIN_GTES_PER_GT = 128;
    static final long MAX_GTES_PER_GT = 8192;
    static final long MAX_DESCRIPTOR_BYTES = 1 << 20;   // 1 MiB of descriptor text
    static final int MAX_EXTENTS = 4096;
    /** 2^32 sectors of grain offsets is 2 TiB of extent file; the capacity may be larger. */
    static final long MAX_CAPACITY_SECTORS = 1L << 47;   // 64 PiB virtual
    /** At most this many grain-directory entries are held in memory (64 MiB of u32). */
    static final long MAX_GD_ENTRIES = 16L << 20;

    /** How the format's default size unit reads in messages. */
    static long sectorsToBytes(long sectors) {
        return sectors * SECTOR;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
