package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;

import java.util.ArrayList;
import java.util.List;

/** Collects runs in ascending order and merges neighbours of the same kind. */
final class RunBuilder {

    private final List<Extent> runs = new ArrayList<>();
    private long start = -1;
    private long end;
    private Extent.Kind kind;

    void add(long offset, long length, Extent.Kind k) {
        if (length <= 0) {
            return;
        }
        if (kind == k && offset == end) {
            end += length;
            return;
        }
        close();
        start = offset;
        end = offset + length;
        kind = k;
    }

    private void close() {
        if (start >= 0) {
            runs.add(new Extent(start, end - start, kind));
            start = -1;
        }
    }

    List<Extent> build() {
        close();
        return runs;
    }
}
