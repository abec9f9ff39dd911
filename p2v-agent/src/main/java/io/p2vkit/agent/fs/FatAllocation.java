package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Used clusters of a FAT12/16/32 volume from its first FAT: a cluster whose entry is not zero is
 * in use (allocated, end of chain, or bad). The reserved area, the FATs and the FAT12/16 root
 * directory are always used.
 */
final class FatAllocation {

    private static final long MAX_FAT_BYTES = 64L << 20;

    private FatAllocation() {
    }

    static ByteRanges usedRanges(VirtualDisk disk, long start, long length) throws IOException {
        ByteBuffer head = Bytes.read(disk, start, length, 0, 512);
        FatBootSector bs = head == null ? null : FatBootSector.parse(head, length);
        if (bs == null) {
            throw new AllocationException("FAT boot sector is damaged");
        }
        long sector = bs.bytesPerSector();
        long fatBytes = bs.fatSectors() * sector;
        long needed = switch (bs.type()) {
            case "fat12" -> (bs.clusterCount() + 2) * 3 / 2 + 1;
            case "fat16" -> (bs.clusterCount() + 2) * 2;
            default -> (bs.clusterCount() + 2) * 4;
        };
        if (fatBytes > MAX_FAT_BYTES || needed > fatBytes) {
            throw new AllocationException("FAT of " + fatBytes + " bytes cannot map " + bs.clusterCount() + " clusters");
        }
        ByteBuffer fat = Bytes.read(disk, start, length, bs.reservedSectors() * sector, (int) needed);
        if (fat == null) {
            throw new AllocationException("FAT lies outside the partition");
        }
        if ((fat.get(0) & 0xFF) < 0xF0 && (fat.get(0) & 0xFF) != 0) {
            throw new AllocationException("FAT's first entry does not hold a media byte");
        }
        long dataStart = bs.dataStartSector() * sector;
        long clusterBytes = (long) bs.sectorsPerCluster() * sector;
        ByteRanges used = new ByteRanges().add(0, dataStart);
        for (long c = 2; c < bs.clusterCount() + 2; c++) {
            if (entry(fat, bs.type(), c) != 0) {
                long off = dataStart + (c - 2) * clusterBytes;
                used.add(off, off + clusterBytes);
            }
        }
        used.add(dataStart + bs.clusterCount() * clusterBytes, length);
        return used;
    }

    private static long entry(ByteBuffer fat, String type, long c) {
        return switch (type) {
            case "fat12" -> {
                int off = (int) (c * 3 / 2);
                int v = (fat.get(off) & 0xFF) | (fat.get(off + 1) & 0xFF) << 8;
                yield (c & 1) == 0 ? v & 0xFFF : v >>> 4;
            }
            case "fat16" -> fat.getShort((int) (c * 2)) & 0xFFFF;
            default -> fat.getInt((int) (c * 4)) & 0x0FFF_FFFFL;
        };
    }
}
