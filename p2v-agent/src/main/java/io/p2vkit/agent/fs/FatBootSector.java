package io.p2vkit.agent.fs;

import java.nio.ByteBuffer;

/**
 * A FAT12/16/32 boot sector (Microsoft's FAT specification, "BPB"). The type follows from the
 * cluster count, as the specification says, not from the type string.
 */
record FatBootSector(String type, int bytesPerSector, int sectorsPerCluster, int reservedSectors, int fatCount,
                     long fatSectors, long rootDirSectors, long totalSectors, long clusterCount, int volumeId,
                     String label) {

    static FatBootSector parse(ByteBuffer h, long partLength) {
        if ((h.get(510) & 0xFF) != 0x55 || (h.get(511) & 0xFF) != 0xAA) {
            return null;
        }
        int jump = h.get(0) & 0xFF;
        if (jump != 0xEB && jump != 0xE9) {
            return null;
        }
        int bps = h.getShort(11) & 0xFFFF;
        int spc = h.get(13) & 0xFF;
        int reserved = h.getShort(14) & 0xFFFF;
        int fats = h.get(16) & 0xFF;
        int rootEntries = h.getShort(17) & 0xFFFF;
        long total = h.getShort(19) & 0xFFFF;
        if (total == 0) {
            total = h.getInt(32) & 0xFFFF_FFFFL;
        }
        long fatSize = h.getShort(22) & 0xFFFF;
        boolean fat32Layout = fatSize == 0;
        if (fat32Layout) {
            fatSize = h.getInt(36) & 0xFFFF_FFFFL;
        }
        if (bps < 512 || bps > 4096 || Integer.bitCount(bps) != 1 || spc == 0 || Integer.bitCount(spc) != 1
                || reserved == 0 || fats == 0 || fats > 4 || fatSize == 0 || total == 0
                || total * bps > partLength + bps) {
            return null;
        }
        long rootSectors = ((long) rootEntries * 32 + bps - 1) / bps;
        long dataStart = reserved + fats * fatSize + rootSectors;
        if (dataStart >= total) {
            return null;
        }
        long clusters = (total - dataStart) / spc;
        String type = clusters < 4085 ? "fat12" : clusters < 65525 ? "fat16" : "fat32";
        int idOff = fat32Layout ? 67 : 39;
        int labelOff = fat32Layout ? 71 : 43;
        return new FatBootSector(type, bps, spc, reserved, fats, fatSize, rootSectors, total, clusters,
                h.getInt(idOff), Bytes.ascii(h, labelOff, 11));
    }

    long dataStartSector() {
        return reservedSectors + fatCount * fatSectors + rootDirSectors;
    }
}
