package io.p2vkit.hv.device;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/** A disk in a byte array, for device tests. */
final class MemoryDisk implements VirtualDisk {

    final byte[] data;
    int flushes;

    MemoryDisk(int sectors) {
        data = new byte[sectors * 512];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i / 512 * 7 + i % 512);
        }
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset < 0 || offset + dst.remaining() > data.length) {
            throw new IOException("out of range");
        }
        dst.put(data, (int) offset, dst.remaining());
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (offset < 0 || offset + src.remaining() > data.length) {
            throw new IOException("out of range");
        }
        src.get(data, (int) offset, src.remaining());
    }

    @Override
    public List<Extent> extents(long from, long to) {
        return List.of(new Extent(from, to - from, Extent.Kind.DATA));
    }

    @Override
    public void flush() {
        flushes++;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public ImageInfo info() {
        return new ImageInfo("memory", data.length, data.length, Map.of(), List.of());
    }

    @Override
    public void close() {
    }
}
