package io.p2vkit.hv.machine;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/** A zero-filled in-memory disk. */
final class TestDisk implements VirtualDisk {

    private final byte[] data;

    TestDisk(int size) {
        data = new byte[size];
    }

    @Override
    public long size() {
        return data.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        dst.put(data, (int) offset, dst.remaining());
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        src.get(data, (int) offset, src.remaining());
    }

    @Override
    public List<Extent> extents(long from, long to) {
        return List.of(new Extent(from, to - from, Extent.Kind.DATA));
    }

    @Override
    public void flush() {
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
