package io.p2vkit.agent.fs;

import java.util.Arrays;

/**
 * A set of byte ranges {@code [start, end)}, built in any order and then sorted and merged.
 * Stored as two primitive arrays: a fragmented multi-TiB filesystem can have millions of runs.
 */
public final class ByteRanges {

    private long[] starts = new long[64];
    private long[] ends = new long[64];
    private int size;
    private boolean normalized = true;

    /** Adds {@code [start, end)}; empty ranges are ignored. */
    public ByteRanges add(long start, long end) {
        if (end <= start) {
            return this;
        }
        if (size > 0 && normalized && start == ends[size - 1]) {
            ends[size - 1] = end; // the common case: bitmaps are scanned in order
            return this;
        }
        if (size == starts.length) {
            starts = Arrays.copyOf(starts, size * 2);
            ends = Arrays.copyOf(ends, size * 2);
        }
        if (size > 0 && start < ends[size - 1]) {
            normalized = false;
        }
        starts[size] = start;
        ends[size] = end;
        size++;
        return this;
    }

    public ByteRanges addAll(ByteRanges other, long shift) {
        other.normalize();
        for (int i = 0; i < other.size; i++) {
            add(other.starts[i] + shift, other.ends[i] + shift);
        }
        return this;
    }

    /** Sorts and merges overlapping or touching ranges. */
    private void normalize() {
        if (normalized) {
            return;
        }
        Integer[] idx = new Integer[size];
        for (int i = 0; i < size; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Long.compare(starts[a], starts[b]));
        long[] s = new long[Math.max(1, size)];
        long[] e = new long[Math.max(1, size)];
        int n = 0;
        for (int k : idx) {
            if (n > 0 && starts[k] <= e[n - 1]) {
                e[n - 1] = Math.max(e[n - 1], ends[k]);
            } else {
                s[n] = starts[k];
                e[n] = ends[k];
                n++;
            }
        }
        starts = s;
        ends = e;
        size = n;
        normalized = true;
    }

    public int count() {
        normalize();
        return size;
    }

    public long start(int i) {
        normalize();
        return starts[i];
    }

    public long end(int i) {
        normalize();
        return ends[i];
    }

    /** Total bytes covered. */
    public long bytes() {
        normalize();
        long sum = 0;
        for (int i = 0; i < size; i++) {
            sum += ends[i] - starts[i];
        }
        return sum;
    }

    /** Index of the first range whose end is after {@code pos}, or {@link #count()}. */
    public int firstEndingAfter(long pos) {
        normalize();
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= pos) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
