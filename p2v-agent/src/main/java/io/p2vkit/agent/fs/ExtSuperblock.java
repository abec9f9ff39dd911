package io.p2vkit.agent.fs;

import java.nio.ByteBuffer;

/**
 * The fields of the ext2/3/4 superblock that capture needs (Linux Documentation/filesystems/ext4,
 * "Super Block"). {@link #parse} returns null when the numbers cannot describe a real filesystem.
 */
record ExtSuperblock(long blocksCount, long freeBlocks, int blockSize, long blocksPerGroup, long firstDataBlock,
                     int compat, int incompat, int roCompat, int descSize, String uuid, String label,
                     byte[] uuidBytes, int reservedGdtBlocks, long inodesPerGroup, int inodeSize,
                     int checksumSeed) {

    static final int COMPAT_HAS_JOURNAL = 0x4;
    static final int INCOMPAT_EXTENTS = 0x40;
    static final int INCOMPAT_64BIT = 0x80;
    static final int INCOMPAT_FLEX_BG = 0x200;
    static final int RO_COMPAT_SPARSE_SUPER = 0x1;
    static final int RO_COMPAT_GDT_CSUM = 0x10;
    static final int RO_COMPAT_METADATA_CSUM = 0x400;
    static final int INCOMPAT_META_BG = 0x10;
    static final int INCOMPAT_CSUM_SEED = 0x2000;

    static ExtSuperblock parse(ByteBuffer s) {
        long logBlock = s.getInt(24) & 0xFFFF_FFFFL;
        if (logBlock > 6) { // 1 KiB .. 64 KiB
            return null;
        }
        int blockSize = 1024 << logBlock;
        int incompat = s.getInt(96);
        boolean is64 = (incompat & INCOMPAT_64BIT) != 0;
        long blocks = (s.getInt(4) & 0xFFFF_FFFFL) | (is64 ? (s.getInt(0x150) & 0xFFFF_FFFFL) << 32 : 0);
        long free = (s.getInt(12) & 0xFFFF_FFFFL) | (is64 ? (s.getInt(0x158) & 0xFFFF_FFFFL) << 32 : 0);
        long perGroup = s.getInt(32) & 0xFFFF_FFFFL;
        long first = s.getInt(20) & 0xFFFF_FFFFL;
        int descSize = is64 ? s.getShort(0xFE) & 0xFFFF : 32;
        if (blocks == 0 || free > blocks || perGroup == 0 || perGroup > 8L * blockSize || first > 1
                || descSize < 32 || descSize > 1024 || Integer.bitCount(descSize) != 1) {
            return null;
        }
        byte[] uuid = new byte[16];
        s.get(104, uuid);
        return new ExtSuperblock(blocks, free, blockSize, perGroup, first, s.getInt(92), incompat, s.getInt(100),
                descSize, Bytes.uuid(s, 104), Bytes.ascii(s, 120, 16), uuid, s.getShort(206) & 0xFFFF,
                s.getInt(40) & 0xFFFF_FFFFL, s.getShort(88) & 0xFFFF, s.getInt(0x270));
    }

    boolean isExt4() {
        return (incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG)) != 0;
    }

    boolean hasJournal() {
        return (compat & COMPAT_HAS_JOURNAL) != 0;
    }

    long groupCount() {
        return (blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup;
    }
}
