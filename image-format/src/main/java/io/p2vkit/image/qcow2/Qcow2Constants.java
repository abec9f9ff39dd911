package io.p2vkit.image.qcow2;

/**
 * Numbers fixed by the qcow2 specification (QEMU docs/interop/qcow2.txt). Field offsets are
 * those of the header; all on-disk integers are big-endian.
 */
final class Qcow2Constants {

    private Qcow2Constants() {
    }

    /** "QFI\xfb": the first four bytes of every qcow2 file. */
    static final int MAGIC = 0x514649FB;

    /** Header length of version 2 (fields up to snapshots_offset). */
    static final int V2_HEADER_LENGTH = 72;
    /** Header length of version 3 without the optional compression_type byte. */
    static final int V3_HEADER_LENGTH = 104;
    /** Header length of version 3 with compression_type, padded to 8 bytes, as QEMU writes it. */
    static final int V3_HEADER_LENGTH_WITH_COMPRESSION = 112;

    // Header field offsets (spec "Header").
    static final int OFF_MAGIC = 0;
    static final int OFF_VERSION = 4;
    static final int OFF_BACKING_FILE_OFFSET = 8;
    static final int OFF_BACKING_FILE_SIZE = 16;
    static final int OFF_CLUSTER_BITS = 20;
    static final int OFF_SIZE = 24;
    static final int OFF_CRYPT_METHOD = 32;
    static final int OFF_L1_SIZE = 36;
    static final int OFF_L1_TABLE_OFFSET = 40;
    static final int OFF_REFCOUNT_TABLE_OFFSET = 48;
    static final int OFF_REFCOUNT_TABLE_CLUSTERS = 56;
    static final int OFF_NB_SNAPSHOTS = 60;
    static final int OFF_SNAPSHOTS_OFFSET = 64;
    static final int OFF_INCOMPATIBLE_FEATURES = 72;
    static final int OFF_COMPATIBLE_FEATURES = 80;
    static final int OFF_AUTOCLEAR_FEATURES = 88;
    static final int OFF_REFCOUNT_ORDER = 96;
    static final int OFF_HEADER_LENGTH = 100;
    static final int OFF_COMPRESSION_TYPE = 104;

    /** Cluster sizes QEMU accepts: 512 B (bits 9) to 2 MiB (bits 21). */
    static final int MIN_CLUSTER_BITS = 9;
    static final int MAX_CLUSTER_BITS = 21;
    static final int DEFAULT_CLUSTER_BITS = 16;

    /** QEMU's limit on the L1 table (QCOW_MAX_L1_SIZE): 32 MiB, 4 Mi entries. */
    static final long MAX_L1_BYTES = 32L << 20;
    /** QEMU's limit on the refcount table (QCOW_MAX_REFTABLE_SIZE): 8 MiB. */
    static final long MAX_REFTABLE_BYTES = 8L << 20;
    /** The backing file name is at most 1023 bytes (QEMU's limit). */
    static final int MAX_BACKING_NAME = 1023;
    /** Guest and host offsets are limited to 56 bits by the entry layout (2^56 = 64 PiB). */
    static final long MAX_OFFSET = 1L << 56;

    // Incompatible feature bits (spec "Header", bytes 72-79).
    static final long INCOMPAT_DIRTY = 1L;
    static final long INCOMPAT_CORRUPT = 1L << 1;
    static final long INCOMPAT_DATA_FILE = 1L << 2;
    static final long INCOMPAT_COMPRESSION = 1L << 3;
    static final long INCOMPAT_EXTL2 = 1L << 4;
    /** The incompatible bits this reader understands. */
    static final long INCOMPAT_KNOWN = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION;

    // Compatible and autoclear feature bits.
    static final long COMPAT_LAZY_REFCOUNTS = 1L;
    static final long AUTOCLEAR_BITMAPS = 1L;
    static final long AUTOCLEAR_DATA_FILE_RAW = 1L << 1;

    static final int COMPRESSION_DEFLATE = 0;
    static final int COMPRESSION_ZSTD = 1;

    /** The refcount width our writer uses: 2^4 = 16 bits, QEMU's default. */
    static final int DEFAULT_REFCOUNT_ORDER = 4;

    // Header extension types (spec "Header extensions").
    static final int EXT_END = 0;
    static final int EXT_BACKING_FORMAT = 0xE2792ACA;
    static final int EXT_FEATURE_NAMES = 0x6803F857;
    static final int EXT_BITMAPS = 0x23852875;
    static final int EXT_CRYPTO = 0x0537BE77;
    static final int EXT_DATA_FILE = 0x44415441;

    // L1 and L2 entries (spec "Cluster mapping").
    /** Bit 63: the cluster's refcount is exactly one, so it may be written in place. */
    static final long OFLAG_COPIED = 1L << 63;
    /** Bit 62 of an L2 entry: the cluster is compressed. */
    static final long OFLAG_COMPRESSED = 1L << 62;
    /** Bit 0 of a standard L2 entry (v3): the cluster reads as zeros. */
    static final long OFLAG_ZERO = 1L;
    /** Bits 9-55 of an L1 or standard L2 entry: the host offset. */
    static final long OFFSET_MASK = 0x00FF_FFFF_FFFF_FE00L;
    /** Bits of a standard L2 entry that must be zero: 1-8 and 56-61. */
    static final long L2_STANDARD_RESERVED = 0x3F00_0000_0000_01FEL;
    /** Bits of an L1 entry that must be zero: 0-8 and 56-62. */
    static final long L1_RESERVED = 0x7F00_0000_0000_01FFL;

    /** Compressed data is measured in 512-byte sectors. */
    static final int SECTOR = 512;
}
