package io.p2vkit.image.raw;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A raw image file. Writes of all-zero blocks beyond what the file holds are skipped, so output
 * written by the conversion engine stays sparse; {@link #extents} reports holes from the
 * filesystem (SEEK_DATA/SEEK_HOLE).
 */
public final class RawDisk implements VirtualDisk {

    private final ImageFile file;
    private long size;

    RawDisk(ImageFile file) throws IOException {
        this.file = file;
        this.size = file.size();
    }

    void setLength(long newSize) throws IOException {
        file.truncate(Math.min(newSize, file.size()));
        file.extendTo(newSize);
        this.size = newSize;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        int n = file.readUpTo(offset, dst);
        if (dst.hasRemaining()) {
            // The file shrank under us; what is missing reads as zeros, as a hole would.
            Zeros.fill(dst);
        }
        assert n >= 0;
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (file.isReadOnly()) {
            throw new ImageFormatException("disk is open read-only");
        }
        checkRange(offset, src.remaining());
        file.writeFully(offset, src);
    }

    private void checkRange(long offset, int length) throws ImageFormatException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new ImageFormatException("access " + offset + "+" + length + " outside the disk's "
                    + size + " bytes");
        }
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        List<Extent> out = new ArrayList<>();
        long end = Math.min(to, size);
        if (from >= end) {
            return out;
        }
        SparseFiles.Regions regions = SparseFiles.dataRegions(file.channel(), file.path(), from, end);
        long pos = from;
        for (long[] r : regions.data()) {
            if (r[0] > pos) {
                out.add(new Extent(pos, r[0] - pos, Extent.Kind.ZERO));
            }
            out.add(new Extent(r[0], r[1] - r[0], Extent.Kind.DATA));
            pos = r[1];
        }
        if (pos < end) {
            out.add(new Extent(pos, end - pos, Extent.Kind.ZERO));
        }
        return out;
    }

    @Override
    public void flush() throws IOException {
        if (!file.isReadOnly()) {
            file.force();
        }
    }

    @Override
    public boolean isReadOnly() {
        return file.isReadOnly();
    }

    @Override
    public ImageInfo info() throws IOException {
        Map<String, Object> details = new LinkedHashMap<>();
        return new ImageInfo("raw", size, SparseFiles.allocatedBytes(file.path()), details, List.of());
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
