package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Used blocks of an ext2/3/4 filesystem from its block group bitmaps (ext4 documentation,
 * "Block Group Descriptors" and "Block and inode Bitmaps"). Group metadata (superblock backups,
 * descriptor tables, bitmaps, inode tables) is always used, wherever flex_bg placed it; groups
 * whose bitmap was never initialised (BLOCK_UNINIT) hold no data. Each bitmap is checked against
 * its checksum (metadata_csum) and against the group's free-block count; any mismatch fails the
 * whole map so that the caller copies the partition whole.
 */
final class ExtAllocation {

    private static final int BG_BLOCK_UNINIT = 0x2;
    private static final long MAX_GDT_BYTES = 256L << 20;

    private ExtAllocation() {
    }

    static ByteRanges usedRanges(VirtualDisk disk, long start, long length) throws IOException {
        ByteBuffer raw = Bytes.read(disk, start, length, 1024, 1024);
        ExtSuperblock sb = raw == null ? null : ExtSuperblock.parse(raw);
        if (sb == null) {
            throw new AllocationException("ext superblock is damaged");
        }
        if ((sb.incompat() & ExtSuperblock.INCOMPAT_META_BG) != 0) {
            throw new AllocationException("ext meta_bg layout is not read by p2vkit");
        }
        long bs = sb.blockSize();
        if (sb.blocksCount() > length / bs) {
            throw new AllocationException("ext filesystem (" + sb.blocksCount() * bs + " bytes) is larger than its "
                    + length + "-byte partition");
        }
        long groups = sb.groupCount();
        long gdtBytes = groups * sb.descSize();
        if (gdtBytes > MAX_GDT_BYTES) {
            throw new AllocationException("ext group descriptor table of " + gdtBytes + " bytes is implausible");
        }
        long gdtBlocks = (gdtBytes + bs - 1) / bs;
        long gdtStart = (sb.firstDataBlock() + 1) * bs;
        ByteBuffer gdt = Bytes.read(disk, start, length, gdtStart, (int) gdtBytes);
        if (gdt == null) {
            throw new AllocationException("ext group descriptors lie outside the partition");
        }
        boolean metadataCsum = (sb.roCompat() & ExtSuperblock.RO_COMPAT_METADATA_CSUM) != 0;
        int csumSeed = checksumSeed(sb);
        boolean wide = sb.descSize() >= 64;
        long inodeTableBlocks = (sb.inodesPerGroup() * sb.inodeSize() + bs - 1) / bs;

        ByteRanges used = new ByteRanges();
        ByteRanges metadata = new ByteRanges();
        metadata.add(0, gdtStart + (gdtBlocks + sb.reservedGdtBlocks()) * bs);
        ByteBuffer bitmap = ByteBuffer.allocate((int) bs);
        for (long g = 0; g < groups; g++) {
            int d = (int) (g * sb.descSize());
            long blockBitmap = u32(gdt, d) | (wide ? u32(gdt, d + 0x20) << 32 : 0);
            long inodeBitmap = u32(gdt, d + 4) | (wide ? u32(gdt, d + 0x24) << 32 : 0);
            long inodeTable = u32(gdt, d + 8) | (wide ? u32(gdt, d + 0x28) << 32 : 0);
            long free = u16(gdt, d + 0x0C) | (wide ? u16(gdt, d + 0x2C) << 16 : 0);
            int flags = u16(gdt, d + 0x12);
            for (long b : new long[] {blockBitmap, inodeBitmap, inodeTable}) {
                if (b == 0 || b >= sb.blocksCount()) {
                    throw new AllocationException("ext group " + g + " points outside the filesystem");
                }
            }
            metadata.add(blockBitmap * bs, (blockBitmap + 1) * bs);
            metadata.add(inodeBitmap * bs, (inodeBitmap + 1) * bs);
            metadata.add(inodeTable * bs, Math.min(sb.blocksCount(), inodeTable + inodeTableBlocks) * bs);
            long groupStart = sb.firstDataBlock() + g * sb.blocksPerGroup();
            long groupBlocks = Math.min(sb.blocksPerGroup(), sb.blocksCount() - groupStart);
            if (hasSuperblockBackup(sb, g)) {
                metadata.add(groupStart * bs, (groupStart + 1 + gdtBlocks + sb.reservedGdtBlocks()) * bs);
            }
            if ((flags & BG_BLOCK_UNINIT) != 0) {
                continue; // nothing allocated here but the metadata marked above
            }
            disk.read(start + blockBitmap * bs, bitmap.clear());
            if (metadataCsum) {
                int stored = u16(gdt, d + 0x18) | (wide ? u16(gdt, d + 0x38) << 16 : 0);
                int calc = bitmapChecksum(csumSeed, bitmap, (int) (sb.blocksPerGroup() / 8));
                if ((wide ? calc : calc & 0xFFFF) != stored) {
                    throw new AllocationException("ext block bitmap of group " + g + " fails its checksum");
                }
            }
            long usedInGroup = 0;
            long runStart = -1;
            for (long i = 0; i < groupBlocks; i++) {
                boolean set = (bitmap.get((int) (i >>> 3)) & (1 << (i & 7))) != 0;
                if (set) {
                    usedInGroup++;
                    if (runStart < 0) {
                        runStart = i;
                    }
                } else if (runStart >= 0) {
                    used.add((groupStart + runStart) * bs, (groupStart + i) * bs);
                    runStart = -1;
                }
            }
            if (runStart >= 0) {
                used.add((groupStart + runStart) * bs, (groupStart + groupBlocks) * bs);
            }
            if (usedInGroup != groupBlocks - free) {
                throw new AllocationException("ext block bitmap of group " + g + " disagrees with its free count ("
                        + (groupBlocks - usedInGroup) + " free in the bitmap, " + free + " in the descriptor)");
            }
        }
        used.addAll(metadata, 0);
        // Whatever lies past the filesystem's last block is not the filesystem's: keep it.
        used.add(sb.blocksCount() * bs, length);
        return used;
    }

    /** Groups 0 and 1 and powers of 3, 5 and 7 carry backups under sparse_super; all do otherwise. */
    private static boolean hasSuperblockBackup(ExtSuperblock sb, long g) {
        if (g <= 1 || (sb.roCompat() & ExtSuperblock.RO_COMPAT_SPARSE_SUPER) == 0) {
            return true;
        }
        for (long p : new long[] {3, 5, 7}) {
            long v = p;
            while (v < g) {
                v *= p;
            }
            if (v == g) {
                return true;
            }
        }
        return false;
    }

    /** crc32c seed: of the UUID, unless the csum_seed feature stores it (ext4 "Checksums"). */
    private static int checksumSeed(ExtSuperblock sb) {
        if ((sb.incompat() & ExtSuperblock.INCOMPAT_CSUM_SEED) != 0) {
            return sb.checksumSeed();
        }
        return rawCrc32c(~0, sb.uuidBytes(), 0, 16);
    }

    private static int bitmapChecksum(int seed, ByteBuffer bitmap, int bytes) {
        byte[] b = new byte[bytes];
        bitmap.get(0, b);
        return rawCrc32c(seed, b, 0, bytes);
    }

    /**
     * Linux's crc32c(seed, data): no inversion on entry or exit, which java.util.zip.CRC32C
     * always applies, so the table is run directly.
     */
    static int rawCrc32c(int seed, byte[] data, int off, int len) {
        int crc = seed;
        for (int i = off; i < off + len; i++) {
            crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]) & 0xFF];
        }
        return crc;
    }

    private static final int[] TABLE = new int[256];

    static {
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
            }
            TABLE[n] = c;
        }
    }

    private static long u32(ByteBuffer b, int off) {
        return b.getInt(off) & 0xFFFF_FFFFL;
    }

    private static int u16(ByteBuffer b, int off) {
        return b.getShort(off) & 0xFFFF;
    }
}
