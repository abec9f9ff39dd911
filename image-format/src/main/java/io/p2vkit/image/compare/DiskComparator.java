package io.p2vkit.image.compare;

import io.p2vkit.image.Extent;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Compares the content of two disks of any formats, as {@code qemu-img compare} does: runs both
 * disks know to be empty are skipped, the rest is read and compared. Disks of different sizes
 * are equal when the larger one holds only zeros past the smaller one's end.
 */
public final class DiskComparator {

    private static final int CHUNK = 4 << 20;
    private static final long WINDOW = 1L << 30;

    /**
     * The outcome.
     *
     * @param identical       whether the contents match
     * @param firstDifference the first differing byte offset, or -1
     * @param sizeMismatch    whether the virtual sizes differ
     */
    public record Result(boolean identical, long firstDifference, boolean sizeMismatch) {
    }

    private DiskComparator() {
    }

    public static Result compare(VirtualDisk a, VirtualDisk b, ProgressListener progress) throws IOException {
        long common = Math.min(a.size(), b.size());
        long total = Math.max(a.size(), b.size());
        ByteBuffer bufA = ByteBuffer.allocateDirect(CHUNK);
        ByteBuffer bufB = ByteBuffer.allocateDirect(CHUNK);
        for (long w = 0; w < common; w += WINDOW) {
            long wEnd = Math.min(common, w + WINDOW);
            for (long[] run : runsToRead(a, b, w, wEnd)) {
                for (long pos = run[0]; pos < run[1]; pos += CHUNK) {
                    int n = (int) Math.min(CHUNK, run[1] - pos);
                    a.read(pos, bufA.clear().limit(n));
                    b.read(pos, bufB.clear().limit(n));
                    int m = bufA.flip().mismatch(bufB.flip());
                    if (m >= 0) {
                        return new Result(false, pos + m, a.size() != b.size());
                    }
                    progress.progress(pos + n, total);
                }
            }
            progress.progress(wEnd, total);
        }
        VirtualDisk larger = a.size() > b.size() ? a : b;
        long diff = firstNonZero(larger, common, larger.size(), bufA, progress, total);
        progress.progress(total, total);
        return new Result(diff < 0, diff, a.size() != b.size());
    }

    /** Runs of {@code [from, to)} where at least one disk may hold data. */
    static List<long[]> runsToRead(VirtualDisk a, VirtualDisk b, long from, long to) throws IOException {
        List<long[]> runs = new ArrayList<>();
        List<Extent> ea = a.extents(from, to);
        List<Extent> eb = b.extents(from, to);
        int i = 0;
        int j = 0;
        long pos = from;
        while (pos < to && i < ea.size() && j < eb.size()) {
            Extent x = ea.get(i);
            Extent y = eb.get(j);
            long end = Math.min(x.end(), y.end());
            boolean read = mayHoldData(x, a) || mayHoldData(y, b);
            if (read) {
                if (!runs.isEmpty() && runs.getLast()[1] == pos) {
                    runs.getLast()[1] = end;
                } else {
                    runs.add(new long[] {pos, end});
                }
            }
            pos = end;
            if (x.end() == end) {
                i++;
            }
            if (y.end() == end) {
                j++;
            }
        }
        if (pos < to) {
            // A driver that reported fewer runs than asked: read what is left.
            runs.add(new long[] {pos, to});
        }
        return runs;
    }

    private static boolean mayHoldData(Extent e, VirtualDisk d) {
        return e.kind() == Extent.Kind.DATA || (e.kind() == Extent.Kind.UNALLOCATED && d.hasBacking());
    }

    private static long firstNonZero(VirtualDisk d, long from, long to, ByteBuffer buf, ProgressListener progress,
                                     long total) throws IOException {
        for (long w = from; w < to; w += WINDOW) {
            for (Extent e : d.extents(w, Math.min(to, w + WINDOW))) {
                if (!mayHoldData(e, d)) {
                    continue;
                }
                for (long pos = e.offset(); pos < e.end(); pos += CHUNK) {
                    int n = (int) Math.min(CHUNK, e.end() - pos);
                    d.read(pos, buf.clear().limit(n));
                    buf.flip();
                    for (int k = 0; k < n; k += 512) {
                        int len = Math.min(512, n - k);
                        if (!Zeros.isZero(buf, k, len)) {
                            for (int q = k; q < k + len; q++) {
                                if (buf.get(q) != 0) {
                                    return pos + q;
                                }
                            }
                        }
                    }
                    progress.progress(pos + n, total);
                }
            }
        }
        return -1;
    }
}
