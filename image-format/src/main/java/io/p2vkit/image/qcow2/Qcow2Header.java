package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Fields;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * The fixed part of a qcow2 header (spec "Header"): 72 bytes in version 2, 104 or more in
 * version 3. Parsed and written here only; every field is checked against the file size and
 * the format's limits before anything is sized from it.
 */
record Qcow2Header(
        int version,
        long backingFileOffset,
        int backingFileSize,
        int clusterBits,
        long size,
        int cryptMethod,
        int l1Size,
        long l1TableOffset,
        long refcountTableOffset,
        int refcountTableClusters,
        int nbSnapshots,
        long snapshotsOffset,
        long incompatibleFeatures,
        long compatibleFeatures,
        long autoclearFeatures,
        int refcountOrder,
        int headerLength,
        int compressionType) {

    int clusterSize() {
        return 1 << clusterBits;
    }

    /** Entries in one L2 table (one cluster of 8-byte entries). */
    int l2Entries() {
        return 1 << (clusterBits - 3);
    }

    /** Guest bytes one L2 table maps. */
    long bytesPerL2() {
        return 1L << (2 * clusterBits - 3);
    }

    int refcountBits() {
        return 1 << refcountOrder;
    }

    boolean isDirty() {
        return (incompatibleFeatures & INCOMPAT_DIRTY) != 0;
    }

    boolean isCorrupt() {
        return (incompatibleFeatures & INCOMPAT_CORRUPT) != 0;
    }

    boolean hasLazyRefcounts() {
        return (compatibleFeatures & COMPAT_LAZY_REFCOUNTS) != 0;
    }

    /** L1 entries needed to map {@code size} guest bytes with {@code clusterBits} clusters. */
    static long l1EntriesFor(long size, int clusterBits) {
        long perL2 = 1L << (2 * clusterBits - 3);
        return (size + perL2 - 1) / perL2;
    }

    Qcow2Header withIncompatible(long bits) {
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                bits, compatibleFeatures, autoclearFeatures, refcountOrder, headerLength, compressionType);
    }

    Qcow2Header withRefcountTable(long offset, int clusters) {
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                l1Size, l1TableOffset, offset, clusters, nbSnapshots, snapshotsOffset,
                incompatibleFeatures, compatibleFeatures, autoclearFeatures, refcountOrder, headerLength,
                compressionType);
    }

    Qcow2Header withAutoclear(long bits) {
        return new Qcow2Header(version, backingFileOffset, backingFileSize, clusterBits, size, cryptMethod,
                l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
                incompatibleFeatures, compatibleFeatures, bits, refcountOrder, headerLength, compressionType);
    }

    /**
     * Parses and checks the header at the start of {@code head} (big-endian, at least 72 bytes or
     * the whole file). {@code fileSize} bounds every offset.
     */
    static Qcow2Header parse(ByteBuffer head, long fileSize) throws ImageFormatException {
        ByteBuffer b = head.duplicate().order(ByteOrder.BIG_ENDIAN);
        Fields.require(b.remaining() >= V2_HEADER_LENGTH,
                "qcow2 header is cut short: the file holds " + b.remaining() + " of its 72 bytes", 0);
        Fields.require(b.getInt(OFF_MAGIC) == MAGIC, "qcow2 header has no QFI\\xfb magic", 0);
        int version = b.getInt(OFF_VERSION);
        if (version != 2 && version != 3) {
            throw new ImageFormatException("qcow2 version " + Integer.toUnsignedString(version)
                    + " is not supported (only versions 2 and 3 exist)", OFF_VERSION);
        }
        int clusterBits = Fields.intInRange("qcow2 cluster_bits", OFF_CLUSTER_BITS,
                Fields.u32(b.getInt(OFF_CLUSTER_BITS)), MIN_CLUSTER_BITS, MAX_CLUSTER_BITS);
        long clusterSize = 1L << clusterBits;
        long size = b.getLong(OFF_SIZE);
        Fields.inRange("qcow2 virtual size", OFF_SIZE, size, 0, MAX_OFFSET);
        int cryptMethod = b.getInt(OFF_CRYPT_METHOD);
        if (cryptMethod != 0) {
            throw new ImageFormatException("qcow2 encryption (crypt_method " + Integer.toUnsignedString(cryptMethod)
                    + ", " + (cryptMethod == 1 ? "AES" : cryptMethod == 2 ? "LUKS" : "unknown")
                    + ") is not supported", OFF_CRYPT_METHOD);
        }

        long incompatible = 0;
        long compatible = 0;
        long autoclear = 0;
        int refcountOrder = DEFAULT_REFCOUNT_ORDER;
        int headerLength = V2_HEADER_LENGTH;
        int compressionType = COMPRESSION_DEFLATE;
        if (version == 3) {
            Fields.require(b.remaining() >= V3_HEADER_LENGTH,
                    "qcow2 v3 header is cut short: the file holds " + b.remaining() + " of its 104 bytes", 0);
            incompatible = b.getLong(OFF_INCOMPATIBLE_FEATURES);
            compatible = b.getLong(OFF_COMPATIBLE_FEATURES);
            autoclear = b.getLong(OFF_AUTOCLEAR_FEATURES);
            refcountOrder = Fields.intInRange("qcow2 refcount_order", OFF_REFCOUNT_ORDER,
                    Fields.u32(b.getInt(OFF_REFCOUNT_ORDER)), 0, 6);
            headerLength = Fields.intInRange("qcow2 header_length", OFF_HEADER_LENGTH,
                    Fields.u32(b.getInt(OFF_HEADER_LENGTH)), V3_HEADER_LENGTH, (int) clusterSize);
            Fields.aligned("qcow2 header_length", OFF_HEADER_LENGTH, headerLength, 8);
            if (headerLength > V3_HEADER_LENGTH) {
                Fields.require(b.remaining() > OFF_COMPRESSION_TYPE, "qcow2 header is cut short before"
                        + " compression_type", OFF_COMPRESSION_TYPE);
                compressionType = b.get(OFF_COMPRESSION_TYPE) & 0xFF;
            }
            Fields.require((autoclear & AUTOCLEAR_DATA_FILE_RAW) == 0 || (incompatible & INCOMPAT_DATA_FILE) != 0,
                    "qcow2 raw external data bit is set without an external data file", OFF_AUTOCLEAR_FEATURES);
            boolean flagged = (incompatible & INCOMPAT_COMPRESSION) != 0;
            Fields.require(flagged == (compressionType != COMPRESSION_DEFLATE),
                    "qcow2 compression_type " + compressionType + " disagrees with the compression-type"
                            + " incompatible feature bit", OFF_COMPRESSION_TYPE);
        }

        // As QEMU: the offset must lie in the first cluster; it also ends the header extensions.
        // A name is read only when the offset is set; an empty name means no backing file.
        long backingOffset = Fields.inRange("qcow2 backing_file_offset", OFF_BACKING_FILE_OFFSET,
                b.getLong(OFF_BACKING_FILE_OFFSET), 0, clusterSize);
        int backingSize = 0;
        if (backingOffset != 0) {
            backingSize = (int) Fields.inRange("qcow2 backing_file_size", OFF_BACKING_FILE_SIZE,
                    Fields.u32(b.getInt(OFF_BACKING_FILE_SIZE)), 0,
                    Math.min(MAX_BACKING_NAME, clusterSize - backingOffset));
            Fields.require(backingOffset + backingSize <= fileSize, "qcow2 backing file name lies beyond"
                    + " the end of the file", OFF_BACKING_FILE_OFFSET);
        }

        long l1Size = Fields.u32(b.getInt(OFF_L1_SIZE));
        Fields.inRange("qcow2 l1_size", OFF_L1_SIZE, l1Size, 0, MAX_L1_BYTES / 8);
        long l1Needed = l1EntriesFor(size, clusterBits);
        if (l1Size < l1Needed) {
            throw new ImageFormatException("qcow2 l1_size " + l1Size + " cannot map the virtual size "
                    + size + " (needs " + l1Needed + " entries)", OFF_L1_SIZE);
        }
        long l1Offset = b.getLong(OFF_L1_TABLE_OFFSET);
        checkTable("qcow2 L1 table", OFF_L1_TABLE_OFFSET, l1Offset, l1Size * 8, clusterSize, fileSize);

        long reftableOffset = b.getLong(OFF_REFCOUNT_TABLE_OFFSET);
        long reftableClusters = Fields.u32(b.getInt(OFF_REFCOUNT_TABLE_CLUSTERS));
        if (reftableOffset == 0 && reftableClusters == 0) {
            // What our writer leaves until close, and what a crash mid-write leaves behind.
            throw new ImageFormatException("qcow2 image has no refcount table: it was not finished (a write"
                    + " cut short?)", OFF_REFCOUNT_TABLE_OFFSET);
        }
        Fields.inRange("qcow2 refcount_table_clusters", OFF_REFCOUNT_TABLE_CLUSTERS, reftableClusters, 0,
                MAX_REFTABLE_BYTES >> clusterBits);
        checkTable("qcow2 refcount table", OFF_REFCOUNT_TABLE_OFFSET, reftableOffset,
                reftableClusters << clusterBits, clusterSize, fileSize);

        long nbSnapshots = Fields.u32(b.getInt(OFF_NB_SNAPSHOTS));
        // QEMU's QCOW_MAX_SNAPSHOTS; each snapshot table entry is at least 40 bytes.
        Fields.inRange("qcow2 nb_snapshots", OFF_NB_SNAPSHOTS, nbSnapshots, 0, 65536);
        long snapshotsOffset = b.getLong(OFF_SNAPSHOTS_OFFSET);
        // QEMU requires the offset aligned even when there are no snapshots.
        Fields.require(snapshotsOffset >= 0 && snapshotsOffset % clusterSize == 0, "qcow2 snapshot table offset "
                + Long.toUnsignedString(snapshotsOffset) + " is not a cluster-aligned offset", OFF_SNAPSHOTS_OFFSET);
        if (nbSnapshots > 0) {
            checkTable("qcow2 snapshot table", OFF_SNAPSHOTS_OFFSET, snapshotsOffset, nbSnapshots * 40,
                    clusterSize, fileSize);
        }

        return new Qcow2Header(version, backingOffset, backingSize, clusterBits, size, cryptMethod, (int) l1Size,
                l1Offset, reftableOffset, (int) reftableClusters, (int) nbSnapshots, snapshotsOffset, incompatible,
                compatible, autoclear, refcountOrder, headerLength, compressionType);
    }

    /** A table must be cluster-aligned, not in the header cluster, and inside the file. */
    private static void checkTable(String what, int field, long offset, long bytes, long clusterSize, long fileSize)
            throws ImageFormatException {
        if (bytes == 0 && offset == 0) {
            return;
        }
        Fields.require(offset > 0 && offset % clusterSize == 0, what + " offset " + Long.toUnsignedString(offset)
                + " is not a cluster-aligned offset after the header", field);
        Fields.require(offset < fileSize && bytes <= fileSize - offset, what + " at " + offset + " ("
                + bytes + " bytes) lies beyond the end of the file (" + fileSize + " bytes)", field);
    }

    /** The header's bytes ({@link #headerLength} of them). */
    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(headerLength).order(ByteOrder.BIG_ENDIAN);
        b.putInt(OFF_MAGIC, MAGIC);
        b.putInt(OFF_VERSION, version);
        b.putLong(OFF_BACKING_FILE_OFFSET, backingFileOffset);
        b.putInt(OFF_BACKING_FILE_SIZE, backingFileSize);
        b.putInt(OFF_CLUSTER_BITS, clusterBits);
        b.putLong(OFF_SIZE, size);
        b.putInt(OFF_CRYPT_METHOD, cryptMethod);
        b.putInt(OFF_L1_SIZE, l1Size);
        b.putLong(OFF_L1_TABLE_OFFSET, l1TableOffset);
        b.putLong(OFF_REFCOUNT_TABLE_OFFSET, refcountTableOffset);
        b.putInt(OFF_REFCOUNT_TABLE_CLUSTERS, refcountTableClusters);
        b.putInt(OFF_NB_SNAPSHOTS, nbSnapshots);
        b.putLong(OFF_SNAPSHOTS_OFFSET, snapshotsOffset);
        if (version >= 3) {
            b.putLong(OFF_INCOMPATIBLE_FEATURES, incompatibleFeatures);
            b.putLong(OFF_COMPATIBLE_FEATURES, compatibleFeatures);
            b.putLong(OFF_AUTOCLEAR_FEATURES, autoclearFeatures);
            b.putInt(OFF_REFCOUNT_ORDER, refcountOrder);
            b.putInt(OFF_HEADER_LENGTH, headerLength);
            if (headerLength > V3_HEADER_LENGTH) {
                b.put(OFF_COMPRESSION_TYPE, (byte) compressionType);
            }
        }
        return b;
    }
}
