package io.p2vkit.agent.capture;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Feeds a {@link ContentDigest} with what a single ascending pass of reads sees (the conversion
 * engine's pass); the gaps it skips are zeros by the extents' word. Reads out of order make
 * the digest meaningless, so they are refused.
 */
final class DigestingDisk implements VirtualDisk {

    private final VirtualDisk inner;
    private final ContentDigest sha256;
    private long next;

    DigestingDisk(VirtualDisk inner, ContentDigest sha256) {
        this.inner = inner;
        this.sha256 = sha256;
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset < next) {
            throw new ImageFormatException("capture read " + offset + " after " + next + ": not one ascending pass");
        }
        int start = dst.position();
        inner.read(offset, dst);
        sha256.data(offset, dst.duplicate().flip().position(start));
        next = offset + (dst.position() - start);
    }

    /** The SHA-256 of the whole disk, the zeros after the last read included; call once the pass is over. */
    String finish() throws IOException {
        return sha256.finish(inner.size());
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        throw new ImageFormatException("the capture source is read-only");
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        return inner.extents(from, to);
    }

    @Override
    public void flush() {
        // read-only
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public ImageInfo info() throws IOException {
        return inner.info();
    }

    @Override
    public void close() {
        // the inner disk belongs to the caller
    }
}
