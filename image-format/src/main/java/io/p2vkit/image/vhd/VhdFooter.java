package io.p2vkit.image.vhd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;

import static io.p2vkit.image.vhd.VhdConstants.*;

/**
 * The hard disk footer (spec "Hard Disk Footer Format"): 512 bytes at the end of every VHD, and
 * a copy at offset 0 of dynamic and differencing disks. This is the one place it is parsed and
 * encoded; what its values mean for the disk is decided by {@link VhdLayout} and
 * {@link VhdSizeRule}.
 *
 * @param creatorApp    four bytes naming the program that made the disk ("vpc ", "win ", ...)
 * @param storedChecksum the checksum field as found
 * @param checksumValid whether the stored checksum matches the bytes
 */
record VhdFooter(int features, int formatVersion, long dataOffset, int timestamp, String creatorApp,
                 int creatorVersion, int creatorOs, long originalSize, long currentSize, VhdGeometry geometry,
                 int diskType, int storedChecksum, UUID uniqueId, boolean savedState, boolean checksumValid) {

    /** Whether {@code bytes[offset, offset + 8)} holds the "conectix" cookie. */
    static boolean hasCookie(byte[] bytes, int offset) {
        return offset >= 0 && offset + FOOTER_COOKIE.length <= bytes.length
                && Arrays.equals(bytes, offset, offset + FOOTER_COOKIE.length, FOOTER_COOKIE, 0, FOOTER_COOKIE.length);
    }

    /**
     * Parses a footer of 512 bytes, or of 511 (old Virtual PC: the last reserved byte is
     * missing and counts as zero). The caller has checked the cookie.
     */
    static VhdFooter parse(byte[] raw) {
        if (raw.length != FOOTER_SIZE && raw.length != OLD_FOOTER_SIZE) {
            throw new IllegalArgumentException("a VHD footer is 512 bytes, not " + raw.length);
        }
        byte[] b = Arrays.copyOf(raw, FOOTER_SIZE);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        int stored = buf.getInt(F_CHECKSUM);
        return new VhdFooter(
                buf.getInt(F_FEATURES),
                buf.getInt(F_VERSION),
                buf.getLong(F_DATA_OFFSET),
                buf.getInt(F_TIMESTAMP),
                new String(b, F_CREATOR_APP, 4, StandardCharsets.ISO_8859_1),
                buf.getInt(F_CREATOR_VERSION),
                buf.getInt(F_CREATOR_OS),
                buf.getLong(F_ORIGINAL_SIZE),
                buf.getLong(F_CURRENT_SIZE),
                new VhdGeometry(Short.toUnsignedInt(buf.getShort(F_GEOMETRY)), Byte.toUnsignedInt(b[F_GEOMETRY + 2]),
                        Byte.toUnsignedInt(b[F_GEOMETRY + 3])),
                buf.getInt(F_DISK_TYPE),
                stored,
                new UUID(buf.getLong(F_UNIQUE_ID), buf.getLong(F_UNIQUE_ID + 8)),
                b[F_SAVED_STATE] != 0,
                checksum(b, F_CHECKSUM) == stored);
    }

    /** The 512 bytes of this footer, with a freshly computed checksum. */
    byte[] encode() {
        byte[] b = new byte[FOOTER_SIZE];
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
        buf.put(F_COOKIE, FOOTER_COOKIE);
        buf.putInt(F_FEATURES, features);
        buf.putInt(F_VERSION, formatVersion);
        buf.putLong(F_DATA_OFFSET, dataOffset);
        buf.putInt(F_TIMESTAMP, timestamp);
        buf.put(F_CREATOR_APP, creatorApp.getBytes(StandardCharsets.ISO_8859_1), 0, 4);
        buf.putInt(F_CREATOR_VERSION, creatorVersion);
        buf.putInt(F_CREATOR_OS, creatorOs);
        buf.putLong(F_ORIGINAL_SIZE, originalSize);
        buf.putLong(F_CURRENT_SIZE, currentSize);
        buf.putShort(F_GEOMETRY, (short) geometry.cylinders());
        b[F_GEOMETRY + 2] = (byte) geometry.heads();
        b[F_GEOMETRY + 3] = (byte) geometry.sectorsPerTrack();
        buf.putInt(F_DISK_TYPE, diskType);
        buf.putLong(F_UNIQUE_ID, uniqueId.getMostSignificantBits());
        buf.putLong(F_UNIQUE_ID + 8, uniqueId.getLeastSignificantBits());
        b[F_SAVED_STATE] = (byte) (savedState ? 1 : 0);
        buf.putInt(F_CHECKSUM, checksum(b, F_CHECKSUM));
        return b;
    }

    /**
     * Spec "Checksum": the one's complement of the byte sum of the structure, its own four
     * checksum bytes left out.
     */
    static int checksum(byte[] b, int checksumOffset) {
        int sum = 0;
        for (int i = 0; i < b.length; i++) {
            if (i < checksumOffset || i >= checksumOffset + 4) {
                sum += b[i] & 0xFF;
            }
        }
        return ~sum;
    }

    /** The creator application as printable text ("tap\0" shows as "tap"). */
    String creatorAppText() {
        return creatorApp.replace('\0', ' ').strip();
    }

    /** "major.minor" of the creator version. */
    String creatorVersionText() {
        return (creatorVersion >>> 16) + "." + (creatorVersion & 0xFFFF);
    }

    String creatorOsText() {
        return switch (creatorOs) {
            case OS_WINDOWS -> "Windows";
            case OS_MAC -> "Macintosh";
            default -> "0x" + Integer.toHexString(creatorOs);
        };
    }

    String diskTypeText() {
        return switch (diskType) {
            case TYPE_FIXED -> "fixed";
            case TYPE_DYNAMIC -> "dynamic";
            case TYPE_DIFFERENCING -> "differencing";
            default -> "unknown type " + diskType;
        };
    }
}
