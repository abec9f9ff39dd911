package io.p2vkit.image.qcow2;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * Decoding of one L2 entry (spec "Cluster mapping", "Standard Cluster Descriptor" and
 * "Compressed Clusters Descriptor"). An entry is one of: unallocated (reads from the backing
 * file), zero, standard data at a host offset, or compressed data at a byte offset.
 */
final class Qcow2Entry {

    enum Kind { UNALLOCATED, ZERO, DATA, COMPRESSED }

    private Qcow2Entry() {
    }

    static Kind kind(long entry) {
        if ((entry & OFLAG_COMPRESSED) != 0) {
            return Kind.COMPRESSED;
        }
        if ((entry & OFLAG_ZERO) != 0) {
            return Kind.ZERO;
        }
        return (entry & OFFSET_MASK) == 0 ? Kind.UNALLOCATED : Kind.DATA;
    }

    /** Host offset of a standard entry (data, or a zero cluster with preallocated space). */
    static long hostOffset(long entry) {
        return entry & OFFSET_MASK;
    }

    /** Bit where the compressed sector count starts: x = 62 - (cluster_bits - 8). */
    static int compressedShift(int clusterBits) {
        return 62 - (clusterBits - 8);
    }

    /** Byte offset of a compressed cluster's data in the file. */
    static long compressedOffset(long entry, int clusterBits) {
        return entry & ((1L << compressedShift(clusterBits)) - 1);
    }

    /**
     * Bytes to read for a compressed cluster: the sectors the entry names, less the part of the
     * first sector before the data. The data may end before; deflate finds its own end.
     */
    static long compressedLength(long entry, int clusterBits) {
        int x = compressedShift(clusterBits);
        long sectors = ((entry & ~OFLAG_COPIED & ~OFLAG_COMPRESSED) >>> x) + 1;
        return sectors * SECTOR - (compressedOffset(entry, clusterBits) & (SECTOR - 1));
    }

    /** Encodes a compressed entry for {@code length} bytes of data at byte {@code offset}. */
    static long compressed(long offset, int length, int clusterBits) {
        long extraSectors = ((offset + length - 1) / SECTOR) - (offset / SECTOR);
        return OFLAG_COMPRESSED | (extraSectors << compressedShift(clusterBits)) | offset;
    }

    /** A standard entry for a cluster of our own with refcount one. */
    static long data(long hostOffset) {
        return OFLAG_COPIED | hostOffset;
    }
}
