package io.p2vkit.image.io;

import io.p2vkit.image.ImageFormatException;

/**
 * Checks for numbers read from an image, applied where they are parsed and before they size an
 * allocation or a loop. Each names the field so that the error tells the user what is damaged.
 */
public final class Fields {

    private Fields() {
    }

    /** Returns {@code value} if it lies in {@code [min, max]}. */
    public static long inRange(String field, long fileOffset, long value, long min, long max)
            throws ImageFormatException {
        if (value < min || value > max) {
            throw new ImageFormatException(field + " is " + Long.toUnsignedString(value)
                    + ", outside [" + min + ", " + max + "]", fileOffset);
        }
        return value;
    }

    /** An unsigned 32-bit field read as int, as a long. */
    public static long u32(int raw) {
        return raw & 0xFFFF_FFFFL;
    }

    /** Returns {@code value} as an int if it fits in {@code [min, max]}. */
    public static int intInRange(String field, long fileOffset, long value, int min, int max)
            throws ImageFormatException {
        return (int) inRange(field, fileOffset, value, min, max);
    }

    /** Requires a power of two in {@code [min, max]}. */
    public static long powerOfTwo(String field, long fileOffset, long value, long min, long max)
            throws ImageFormatException {
        inRange(field, fileOffset, value, min, max);
        if (Long.bitCount(value) != 1) {
            throw new ImageFormatException(field + " is " + value + ", not a power of two", fileOffset);
        }
        return value;
    }

    /** Requires {@code value} to be a multiple of {@code unit}. */
    public static long aligned(String field, long fileOffset, long value, long unit) throws ImageFormatException {
        if (value % unit != 0) {
            throw new ImageFormatException(field + " " + value + " is not a multiple of " + unit, fileOffset);
        }
        return value;
    }

    /** Fails unless {@code condition} holds. */
    public static void require(boolean condition, String message, long fileOffset) throws ImageFormatException {
        if (!condition) {
            throw new ImageFormatException(message, fileOffset);
        }
    }
}
