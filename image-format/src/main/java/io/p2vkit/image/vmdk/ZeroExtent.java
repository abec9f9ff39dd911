package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Zeros;

import java.nio.ByteBuffer;

/** A ZERO extent (spec, "Extent Descriptions"): no file, reads as zeros, cannot be written. */
final class ZeroExtent implements VmdkExtent {

    private final long sectors;

    ZeroExtent(long sectors) {
        this.sectors = sectors;
    }

    @Override
    public long sectors() {
        return sectors;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        Zeros.fill(dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws ImageFormatException {
        throw new ImageFormatException("VMDK ZERO extent cannot be written");
    }

    @Override
    public void map(long from, long to, long base, RunBuilder out) {
        out.add(base + from, to - from, Extent.Kind.ZERO);
    }

    @Override
    public void flush() {
    }

    @Override
    public String type() {
        return "ZERO";
    }

    @Override
    public String fileName() {
        return null;
    }

    @Override
    public void close() {
    }
}
