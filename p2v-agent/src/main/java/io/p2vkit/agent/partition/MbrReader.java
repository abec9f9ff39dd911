package io.p2vkit.agent.partition;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The DOS partition table: four primary entries in sector 0, and logical partitions in a chain
 * of extended boot records (EBRs) inside an extended partition. The chain comes from the disk,
 * so it is bounded and checked for loops.
 */
final class MbrReader {

    static final int ENTRY_TABLE = 446;
    private static final int ENTRY_SIZE = 16;
    private static final int MAX_LOGICAL = 256;
    static final int TYPE_GPT_PROTECTIVE = 0xEE;

    private MbrReader() {
    }

    /** Whether sector 0 ends in the 0x55AA boot signature. */
    static boolean hasSignature(ByteBuffer sector0) {
        return sector0.limit() >= 512 && (sector0.get(510) & 0xFF) == 0x55 && (sector0.get(511) & 0xFF) == 0xAA;
    }

    static PartitionTable read(VirtualDisk disk, ByteBuffer sector0, int sectorSize) throws IOException {
        List<Partition> parts = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long diskSectors = disk.size() / sectorSize;
        long extendedStart = -1;
        long extendedLength = 0;
        for (int i = 0; i < 4; i++) {
            Entry e = Entry.at(sector0, ENTRY_TABLE + i * ENTRY_SIZE);
            if (e.type == 0 || e.sectors == 0) {
                continue;
            }
            if (e.start + e.sectors > diskSectors) {
                warnings.add("partition " + (i + 1) + " ends past the end of the disk");
            }
            boolean extended = isExtended(e.type);
            parts.add(new Partition(i + 1, e.start * sectorSize, e.sectors * sectorSize, hex(e.type),
                    PartitionTypes.mbrName(e.type), "", "", extended));
            if (extended && extendedStart < 0) {
                extendedStart = e.start;
                extendedLength = e.sectors;
            }
        }
        if (extendedStart >= 0) {
            readLogical(disk, sectorSize, extendedStart, extendedLength, parts, warnings);
        }
        String diskId = String.format(Locale.ROOT, "%08x", sector0.order(ByteOrder.LITTLE_ENDIAN).getInt(440));
        return new PartitionTable("mbr", diskId, parts, warnings);
    }

    /** Walks the EBR chain; each link is relative to the extended partition's start. */
    private static void readLogical(VirtualDisk disk, int sectorSize, long extStart, long extLength,
                                    List<Partition> parts, List<String> warnings) throws IOException {
        Set<Long> seen = new HashSet<>();
        long ebr = extStart;
        int number = 5;
        ByteBuffer sector = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        while (ebr >= 0) {
            if (!seen.add(ebr) || seen.size() > MAX_LOGICAL) {
                warnings.add("the chain of logical partitions loops or is too long; stopped at sector " + ebr);
                return;
            }
            if (ebr < extStart || ebr >= extStart + extLength || (ebr + 1) * sectorSize > disk.size()) {
                warnings.add("an extended boot record at sector " + ebr + " lies outside the extended partition");
                return;
            }
            disk.read(ebr * sectorSize, sector.clear());
            if (!hasSignature(sector)) {
                warnings.add("the extended boot record at sector " + ebr + " has no 55AA signature");
                return;
            }
            Entry logical = Entry.at(sector, ENTRY_TABLE);
            Entry next = Entry.at(sector, ENTRY_TABLE + ENTRY_SIZE);
            if (logical.type != 0 && logical.sectors != 0) {
                long start = ebr + logical.start;
                if (start + logical.sectors > extStart + extLength) {
                    warnings.add("logical partition " + number + " ends past its extended partition");
                }
                parts.add(new Partition(number++, start * sectorSize, logical.sectors * sectorSize,
                        hex(logical.type), PartitionTypes.mbrName(logical.type), "", "", false));
            }
            ebr = isExtended(next.type) && next.sectors != 0 ? extStart + next.start : -1;
        }
    }

    static boolean isExtended(int type) {
        return type == 0x05 || type == 0x0F || type == 0x85;
    }

    private static String hex(int type) {
        return String.format(Locale.ROOT, "%02x", type);
    }

    /** One 16-byte table entry: status, CHS (ignored: LBA is what counts), type, start LBA, count. */
    private record Entry(int type, long start, long sectors) {
        static Entry at(ByteBuffer b, int off) {
            ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            return new Entry(le.get(off + 4) & 0xFF, le.getInt(off + 8) & 0xFFFF_FFFFL, le.getInt(off + 12) & 0xFFFF_FFFFL);
        }
    }
}
