package io.p2vkit.image.convert;

import io.p2vkit.image.io.Zeros;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Where a chunk of disk bytes holds anything but zeros, in blocks of {@link #BLOCK} bytes aligned
 * to the disk (not to the chunk), so that the holes of every output line up whatever the chunking.
 */
final class NonZeroRuns {

    /** Zero detection granularity: runs of zeros this size and aligned are not written. */
    static final int BLOCK = 4096;

    private static final int[] NONE = new int[0];

    /** Enough calls for the JIT to compile the scan (C1 compiles a method after 200). */
    private static final int WARM_UP_CALLS = 300;
    private static final int WARM_UP_BYTES = 512;

    private NonZeroRuns() {
    }

    /**
     * The runs of {@code data} (absolute positions {@code [0, limit)}, disk offset {@code offset})
     * that are not all zero: {@code [start0, end0, start1, end1, ...]}, ascending.
     */
    static int[] find(long offset, ByteBuffer data) {
        int limit = data.limit();
        int[] runs = NONE;
        int count = 0;
        int runStart = -1;
        MemorySegment bytes = MemorySegment.ofBuffer(data.duplicate().position(0));
        int first = (int) Math.min(limit, BLOCK - Math.floorMod(offset, BLOCK));
        for (int pos = 0; pos < limit; ) {
            int len = pos == 0 ? first : Math.min(BLOCK, limit - pos);
            boolean zero = Zeros.isZero(bytes, pos, len);
            if (!zero && runStart < 0) {
                runStart = pos;
            } else if (zero && runStart >= 0) {
                runs = append(runs, count, runStart, pos);
                count += 2;
                runStart = -1;
            }
            pos += len;
        }
        if (runStart >= 0) {
            runs = append(runs, count, runStart, limit);
            count += 2;
        }
        return runs.length == count ? runs : Arrays.copyOf(runs, count);
    }

    /**
     * Scans a small zero buffer a few hundred times (~1 ms) so that the JIT compiles the scan and
     * the JDK's mismatch under it before the first chunk arrives. Interpreted, the scan of the
     * first 2 MiB took 15-200 ms on the build machine (a plain loop over 8-byte words); compiled,
     * 0.2 ms. The reader runs this while it waits for the source's first extents.
     */
    static void warmUp() {
        ByteBuffer zeros = ByteBuffer.allocateDirect(WARM_UP_BYTES);
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            find(0, zeros.clear());
        }
    }

    private static int[] append(int[] runs, int count, int start, int end) {
        int[] out = count + 2 <= runs.length ? runs : Arrays.copyOf(runs, Math.max(8, runs.length * 2));
        out[count] = start;
        out[count + 1] = end;
        return out;
    }
}
