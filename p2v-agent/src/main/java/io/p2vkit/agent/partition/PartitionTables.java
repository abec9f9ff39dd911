package io.p2vkit.agent.partition;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Reads whichever partition table a disk carries: GPT (behind its protective MBR), MBR, or none. */
public final class PartitionTables {

    private PartitionTables() {
    }

    /**
     * Reads the table of {@code disk}, whose logical sector size is {@code sectorSize} (512 or
     * 4096; GPT places its header at LBA 1 in those units).
     */
    public static PartitionTable read(VirtualDisk disk, int sectorSize) throws IOException {
        if (disk.size() < 512) {
            return PartitionTable.none();
        }
        ByteBuffer sector0 = ByteBuffer.allocate(512);
        disk.read(0, sector0);
        if (GptReader.present(disk, sectorSize)) {
            return GptReader.read(disk, sectorSize);
        }
        if (!MbrReader.hasSignature(sector0) || looksLikeFilesystemBootSector(sector0)) {
            return PartitionTable.none();
        }
        return MbrReader.read(disk, sector0, sectorSize);
    }

    /**
     * A FAT or NTFS volume boot sector also ends in 55AA; an unpartitioned filesystem must not be
     * read as a partition table.
     */
    private static boolean looksLikeFilesystemBootSector(ByteBuffer s) {
        byte[] oem = new byte[8];
        s.get(3, oem);
        String id = new String(oem, java.nio.charset.StandardCharsets.US_ASCII);
        byte[] fat = new byte[8];
        s.get(82, fat);
        byte[] fat16 = new byte[8];
        s.get(54, fat16);
        return id.startsWith("NTFS") || id.startsWith("EXFAT")
                || new String(fat, java.nio.charset.StandardCharsets.US_ASCII).startsWith("FAT32")
                || new String(fat16, java.nio.charset.StandardCharsets.US_ASCII).startsWith("FAT1");
    }
}
