package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A FLAT (or VMFS) extent: a plain file whose bytes from {@code offset} sectors are the disk's. */
final class FlatExtent implements VmdkExtent {

    private final ImageFile file;
    private final String name;
    private final long sectors;
    private final long base;

    /** Opens a flat extent; the file must hold every sector the descriptor gives it. */
    static FlatExtent open(ImageFile file, String name, long sectors, long offsetSectors) throws IOException {
        long need = (offsetSectors + sectors) * VmdkConstants.SECTOR;
        if (file.size() < need) {
            long have = file.size();
            file.close();
            throw new ImageFormatException("VMDK flat extent '" + name + "' holds " + have
                    + " bytes; its descriptor line needs " + need);
        }
        return new FlatExtent(file, name, sectors, offsetSectors * VmdkConstants.SECTOR);
    }

    FlatExtent(ImageFile file, String name, long sectors, long baseBytes) {
        this.file = file;
        this.name = name;
        this.sectors = sectors;
        this.base = baseBytes;
    }

    @Override
    public long sectors() {
        return sectors;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        file.readFully(base + offset, dst, "VMDK flat extent '" + name + "'");
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (file.isReadOnly()) {
            throw new ImageFormatException("VMDK extent '" + name + "' is read-only");
        }
        file.writeFully(base + offset, src);
    }

    @Override
    public void map(long from, long to, long runBase, RunBuilder out) {
        out.add(runBase + from, to - from, Extent.Kind.DATA);
    }

    @Override
    public void flush() throws IOException {
        if (!file.isReadOnly()) {
            file.force();
        }
    }

    @Override
    public String type() {
        return "FLAT";
    }

    @Override
    public String fileName() {
        return name;
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
