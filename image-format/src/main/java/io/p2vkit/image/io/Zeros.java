package io.p2vkit.image.io;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/** Fast all-zero tests, used to skip writing blocks that hold nothing. */
public final class Zeros {

    private static final int ZERO_BLOCK = 1 << 20;
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(ZERO_BLOCK).asReadOnlyBuffer();
    private static final MemorySegment ZERO_SEGMENT = MemorySegment.ofBuffer(ZERO);

    private Zeros() {
    }

    /** Whether {@code buf[from, from + length)} is all zero bytes (positions are absolute). */
    public static boolean isZero(ByteBuffer buf, int from, int length) {
        int base = buf.position();
        if (from >= base && length <= buf.limit() - from) {
            // A segment over [position, limit) compared in place: no slice objects per call (the
            // converter asks once per 4 KiB), and twice the speed of ByteBuffer.mismatch under C1.
            return isZero(MemorySegment.ofBuffer(buf), from - base, length);
        }
        int pos = from;
        int left = length;
        while (left > 0) {
            int n = Math.min(left, ZERO_BLOCK);
            // ByteBuffer.mismatch is vectorised by the JIT.
            if (buf.slice(pos, n).mismatch(ZERO.slice(0, n)) >= 0) {
                return false;
            }
            pos += n;
            left -= n;
        }
        return true;
    }

    /** Whether {@code segment[from, from + length)} is all zero bytes. */
    public static boolean isZero(MemorySegment segment, long from, long length) {
        long pos = from;
        long left = length;
        while (left > 0) {
            long n = Math.min(left, ZERO_BLOCK);
            if (MemorySegment.mismatch(segment, pos, pos + n, ZERO_SEGMENT, 0, n) >= 0) {
                return false;
            }
            pos += n;
            left -= n;
        }
        return true;
    }

    /** Whether {@code buf} from its position to its limit is all zero bytes. */
    public static boolean isZero(ByteBuffer buf) {
        return isZero(buf, buf.position(), buf.remaining());
    }

    /** Fills {@code dst} from its position to its limit with zeros and advances it. */
    public static void fill(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), ZERO_BLOCK);
            dst.put(ZERO.slice(0, n));
        }
    }
}
