package io.p2vkit.image.vhd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * The dynamic disk header (spec "Dynamic Disk Header Format"): 1024 bytes at the footer's data
 * offset in dynamic and differencing disks. Parsed and encoded here only; {@link VhdLayout}
 * checks its values against the file.
 *
 * @param maxTableEntries BAT entries (unsigned 32-bit, as a long)
 * @param blockSize       bytes of data per block (unsigned 32-bit, as a long)
 * @param parentName      the parent's file name (UTF-16BE in the file), for differencing disks
 * @param locators        the eight parent locator entries, unused ones included
 */
record VhdDynamicHeader(long dataOffset, long tableOffset, int headerVersion, long maxTableEntries, long blockSize,
                        int storedChecksum, boolean checksumValid, UUID parentUniqueId, int parentTimestamp,
                        String parentName, List<Locator> locators) {

    /**
     * A parent locator entry: where in the file the platform-specific parent path is stored.
     *
     * @param dataSpace  as found: the spec says sectors, Windows writes bytes; only reported
     * @param dataLength bytes of path data
     */
    record Locator(int platform, long dataSpace, long dataLength, long dataOffset) {

        boolean isUsed() {
            return platform != PLATFORM_NONE;
        }

        String platformName() {
            byte[] code = ByteBuffer.allocate(4).putInt(platform).array();
            return new String(code, StandardCharsets.ISO_8859_1);
        }
    }

    static boolean hasCookie(byte[] b) {
        return b.length >= HEADER_COOKIE.length
                && java.util.Arrays.equals(b, 0, HEADER_COOKIE.length, HEADER_COOKIE, 0, HEADER_COOKIE.length);
    }

    /** Parses 1024 bytes; the caller has checked the cookie. */
    static VhdDynamicHeader parse(byte[] b) {
        if (b.length != DYNAMIC_HEADER_SIZE) {
            throw new IllegalArgumentException("a VHD dynamic header is 1024 bytes, not " + b.length);
        }
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        int stored = buf.getInt(H_CHECKSUM);
        List<Locator> locators = new ArrayList<>(LOCATOR_COUNT);
        for (int i = 0; i < LOCATOR_COUNT; i++) {
            int at = H_LOCATORS + i * H_LOCATOR_SIZE;
            locators.add(new Locator(buf.getInt(at), Integer.toUnsignedLong(buf.getInt(at + 4)),
                    Integer.toUnsignedLong(buf.getInt(at + 8)), buf.getLong(at + 16)));
        }
        return new VhdDynamicHeader(
                buf.getLong(H_DATA_OFFSET),
                buf.getLong(H_TABLE_OFFSET),
                buf.getInt(H_VERSION),
                Integer.toUnsignedLong(buf.getInt(H_MAX_TABLE_ENTRIES)),
                Integer.toUnsignedLong(buf.getInt(H_BLOCK_SIZE)),
                stored,
                VhdFooter.checksum(b, H_CHECKSUM) == stored,
                new UUID(buf.getLong(H_PARENT_ID), buf.getLong(H_PARENT_ID + 8)),
                buf.getInt(H_PARENT_TIMESTAMP),
                utf16beUntilNul(b, H_PARENT_NAME, H_PARENT_NAME_BYTES),
                List.copyOf(locators));
    }

    /** The 1024 bytes of this header, with a freshly computed checksum. */
    byte[] encode() {
        byte[] b = new byte[DYNAMIC_HEADER_SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        buf.put(H_COOKIE, HEADER_COOKIE);
        buf.putLong(H_DATA_OFFSET, dataOffset);
        buf.putLong(H_TABLE_OFFSET, tableOffset);
        buf.putInt(H_VERSION, headerVersion);
        buf.putInt(H_MAX_TABLE_ENTRIES, (int) maxTableEntries);
        buf.putInt(H_BLOCK_SIZE, (int) blockSize);
        buf.putLong(H_PARENT_ID, parentUniqueId.getMostSignificantBits());
        buf.putLong(H_PARENT_ID + 8, parentUniqueId.getLeastSignificantBits());
        buf.putInt(H_PARENT_TIMESTAMP, parentTimestamp);
        byte[] name = parentName.getBytes(StandardCharsets.UTF_16BE);
        buf.put(H_PARENT_NAME, name, 0, Math.min(name.length, H_PARENT_NAME_BYTES) & ~1);
        for (int i = 0; i < locators.size() && i < LOCATOR_COUNT; i++) {
            Locator l = locators.get(i);
            int at = H_LOCATORS + i * H_LOCATOR_SIZE;
            buf.putInt(at, l.platform());
            buf.putInt(at + 4, (int) l.dataSpace());
            buf.putInt(at + 8, (int) l.dataLength());
            buf.putLong(at + 16, l.dataOffset());
        }
        buf.putInt(H_CHECKSUM, VhdFooter.checksum(b, H_CHECKSUM));
        return b;
    }

    /** Bytes of the sector bitmap in front of each block, padded to a whole sector. */
    long bitmapSize() {
        return bitmapSize(blockSize);
    }

    static long bitmapSize(long blockSize) {
        long bytes = Math.ceilDiv(blockSize / SECTOR, 8);
        return Math.ceilDiv(bytes, SECTOR) * SECTOR;
    }

    private static String utf16beUntilNul(byte[] b, int from, int length) {
        int end = from;
        while (end + 1 < from + length && (b[end] != 0 || b[end + 1] != 0)) {
            end += 2;
        }
        return new String(b, from, end - from, StandardCharsets.UTF_16BE);
    }
}
