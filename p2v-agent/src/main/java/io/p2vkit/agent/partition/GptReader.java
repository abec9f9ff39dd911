package io.p2vkit.agent.partition;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The GUID partition table (UEFI 2.x §5.3): a header at LBA 1 and its backup in the last LBA,
 * each with a CRC32 of itself and of the entry array. Both copies are checked; a damaged primary
 * falls back to the backup with a warning.
 */
final class GptReader {

    private static final long SIGNATURE = 0x5452415020494645L; // "EFI PART"
    private static final int MIN_HEADER = 92;
    private static final int MAX_ENTRIES = 4096;
    private static final int MAX_ENTRY_SIZE = 4096;

    private GptReader() {
    }

    /** Whether a GPT header signature is at LBA 1 for this sector size. */
    static boolean present(VirtualDisk disk, int sectorSize) throws IOException {
        if (disk.size() < 2L * sectorSize) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(sectorSize, b);
        return b.getLong(0) == SIGNATURE;
    }

    static PartitionTable read(VirtualDisk disk, int sectorSize) throws IOException {
        List<String> warnings = new ArrayList<>();
        long lastLba = disk.size() / sectorSize - 1;
        Header primary = null;
        String primaryError = null;
        try {
            primary = Header.read(disk, 1, sectorSize);
        } catch (PartitionTableException e) {
            primaryError = e.getMessage();
        }
        long backupLba = primary != null ? primary.alternateLba : lastLba;
        Header backup = null;
        try {
            backup = Header.read(disk, backupLba, sectorSize);
        } catch (PartitionTableException e) {
            warnings.add("backup GPT header: " + e.getMessage());
        }
        if (primary == null) {
            if (backup == null) {
                throw new PartitionTableException("both GPT headers are damaged: " + primaryError);
            }
            warnings.add("primary GPT header: " + primaryError + "; using the backup");
        } else if (backup != null && backup.entriesCrc != primary.entriesCrc) {
            warnings.add("the backup GPT's partition entries differ from the primary's");
        }
        if (primary != null && primary.alternateLba != lastLba) {
            warnings.add("the backup GPT header is not in the last sector (disk grown or shrunk?)");
        }
        Header h = primary != null ? primary : backup;
        List<Partition> parts = new ArrayList<>();
        ByteBuffer entries = h.entries;
        for (int i = 0; i < h.entryCount; i++) {
            int off = i * h.entrySize;
            String type = Guid.format(entries, off);
            if (type.equals(Guid.ZERO)) {
                continue;
            }
            long first = entries.getLong(off + 32);
            long last = entries.getLong(off + 40);
            if (first < h.firstUsable || last > h.lastUsable || last < first) {
                warnings.add("partition " + (i + 1) + " lies outside the usable sectors; ignored");
                continue;
            }
            byte[] nameBytes = new byte[72];
            entries.get(off + 56, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_16LE);
            int nul = name.indexOf('\0');
            parts.add(new Partition(i + 1, first * sectorSize, (last - first + 1) * sectorSize, type,
                    PartitionTypes.gptName(type), nul >= 0 ? name.substring(0, nul) : name,
                    Guid.format(entries, off + 16), false));
        }
        return new PartitionTable("gpt", h.diskGuid, parts, warnings);
    }

    /** One GPT header with its entry array, both CRC-checked. */
    private record Header(long alternateLba, long firstUsable, long lastUsable, String diskGuid, int entryCount,
                          int entrySize, int entriesCrc, ByteBuffer entries) {

        static Header read(VirtualDisk disk, long lba, int sectorSize) throws IOException {
            if (lba < 1 || (lba + 1) * sectorSize > disk.size()) {
                throw new PartitionTableException("header sector " + lba + " is outside the disk");
            }
            ByteBuffer b = ByteBuffer.allocate(sectorSize).order(ByteOrder.LITTLE_ENDIAN);
            disk.read(lba * sectorSize, b);
            if (b.getLong(0) != SIGNATURE) {
                throw new PartitionTableException("no 'EFI PART' signature at sector " + lba);
            }
            int size = b.getInt(12);
            if (size < MIN_HEADER || size > sectorSize) {
                throw new PartitionTableException("header size " + size + " is invalid");
            }
            int crc = b.getInt(16);
            ByteBuffer copy = ByteBuffer.allocate(size);
            copy.put(b.duplicate().limit(size).position(0)).flip();
            copy.putInt(16, 0);
            if (crc32(copy) != crc) {
                throw new PartitionTableException("header CRC32 mismatch at sector " + lba);
            }
            long entriesLba = b.getLong(72);
            long count = b.getInt(80) & 0xFFFF_FFFFL;
            long entrySize = b.getInt(84) & 0xFFFF_FFFFL;
            if (count > MAX_ENTRIES || entrySize < 128 || entrySize > MAX_ENTRY_SIZE || entrySize % 8 != 0) {
                throw new PartitionTableException("entry array of " + count + " × " + entrySize + " bytes is invalid");
            }
            long bytes = count * entrySize;
            if (entriesLba < 1 || entriesLba > disk.size() / sectorSize
                    || entriesLba * sectorSize + bytes > disk.size()) {
                throw new PartitionTableException("the entry array lies outside the disk");
            }
            ByteBuffer entries = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            disk.read(entriesLba * sectorSize, entries);
            int entriesCrc = b.getInt(88);
            if (crc32(entries.flip()) != entriesCrc) {
                throw new PartitionTableException("partition entry array CRC32 mismatch");
            }
            return new Header(b.getLong(32), b.getLong(40), b.getLong(48), Guid.format(b, 56), (int) count,
                    (int) entrySize, entriesCrc, entries);
        }
    }

    static int crc32(ByteBuffer b) {
        CRC32 c = new CRC32();
        c.update(b.duplicate());
        return (int) c.getValue();
    }
}
