package io.p2vkit.agent.capture;

import io.p2vkit.agent.fs.ByteRanges;
import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A read-only view of a source disk in which the bytes outside {@code used} read as zeros and are
 * reported as ZERO extents: free filesystem blocks, including the old contents of deleted files,
 * never reach the image. The view is what gets copied, hashed and verified.
 */
public final class UsedRegionsDisk implements VirtualDisk {

    private final VirtualDisk source;
    private final ByteRanges used;

    public UsedRegionsDisk(VirtualDisk source, ByteRanges used) {
        this.source = source;
        this.used = used;
    }

    @Override
    public long size() {
        return source.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int base = dst.position();
        long end = offset + dst.remaining();
        source.read(offset, dst);
        long pos = offset;
        for (int i = used.firstEndingAfter(offset); pos < end; i++) {
            long nextUsed = i < used.count() ? Math.max(used.start(i), pos) : end;
            if (nextUsed > pos) {
                long zeroEnd = Math.min(nextUsed, end);
                ByteBuffer hole = dst.duplicate().limit(base + (int) (zeroEnd - offset)).position(base + (int) (pos - offset));
                Zeros.fill(hole);
                pos = zeroEnd;
            }
            if (i < used.count()) {
                pos = Math.max(pos, Math.min(used.end(i), end));
            }
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        throw new ImageFormatException("the capture source is read-only");
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        List<Extent> out = new ArrayList<>();
        for (Extent e : source.extents(from, to)) {
            if (e.kind() != Extent.Kind.DATA) {
                append(out, e.offset(), e.end(), e.kind());
                continue;
            }
            long pos = e.offset();
            for (int i = used.firstEndingAfter(pos); pos < e.end(); i++) {
                long us = i < used.count() ? Math.max(used.start(i), pos) : e.end();
                long ue = i < used.count() ? Math.min(used.end(i), e.end()) : e.end();
                if (us >= e.end()) {
                    append(out, pos, e.end(), Extent.Kind.ZERO);
                    break;
                }
                append(out, pos, us, Extent.Kind.ZERO);
                append(out, us, ue, Extent.Kind.DATA);
                pos = ue;
            }
        }
        return out;
    }

    private static void append(List<Extent> out, long start, long end, Extent.Kind kind) {
        if (end <= start) {
            return;
        }
        if (!out.isEmpty() && out.getLast().kind() == kind && out.getLast().end() == start) {
            Extent last = out.removeLast();
            out.add(new Extent(last.offset(), end - last.offset(), kind));
        } else {
            out.add(new Extent(start, end - start, kind));
        }
    }

    @Override
    public void flush() {
        // nothing is ever written
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public ImageInfo info() throws IOException {
        return source.info();
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
