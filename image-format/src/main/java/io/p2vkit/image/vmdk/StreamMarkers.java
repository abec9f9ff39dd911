package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.p2vkit.image.vmdk.VmdkConstants.*;

/**
 * The markers of a stream-optimized extent (spec, "Stream-Optimized Compressed Sparse Extents").
 * Every marker starts a sector with {@code value u64, size u32}. A grain marker has size > 0: value
 * is the grain's LBA and size the compressed bytes that follow. A metadata marker has size 0:
 * value is the sectors of metadata that follow the marker's sector, and {@code type u32} at byte
 * 12 says what they are (EOS, GT, GD, footer); the rest of the sector is zero.
 */
final class StreamMarkers {

    private StreamMarkers() {
    }

    /** One marker as read. */
    record Marker(long value, long size, int type) {

        boolean isGrain() {
            return size != 0;
        }

        boolean isMetadata(int wanted) {
            return size == 0 && type == wanted;
        }
    }

    /** Reads the marker at byte {@code at} (a whole sector must be there). */
    static Marker read(ImageFile file, long at) throws IOException {
        ByteBuffer b = file.read(at, 16, "VMDK stream marker");
        return new Marker(b.getLong(0), Integer.toUnsignedLong(b.getInt(8)), b.getInt(12));
    }

    /** A metadata marker sector: {@code sectors} of metadata of {@code type} follow. */
    static ByteBuffer metadata(long sectors, int type) {
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, sectors);
        b.putInt(8, 0);
        b.putInt(12, type);
        return b;
    }

    static String typeName(int type) {
        return switch (type) {
            case MARKER_EOS -> "end-of-stream";
            case MARKER_GT -> "grain table";
            case MARKER_GD -> "grain directory";
            case MARKER_FOOTER -> "footer";
            default -> "unknown (" + type + ")";
        };
    }

    static void require(boolean ok, String message, long at) throws ImageFormatException {
        if (!ok) {
            throw new ImageFormatException(message, at);
        }
    }
}
