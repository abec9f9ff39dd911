package io.p2vkit.image.raw;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.DiskOpener;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.Probe;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A raw disk: the file's bytes are the disk's bytes; holes in a sparse file are zero extents. */
public final class RawFormat implements ImageFormat {

    @Override
    public String name() {
        return "raw";
    }

    @Override
    public List<String> aliases() {
        return List.of("img");
    }

    /** Raw has no signature: it is what a file is when no other format claims it. */
    @Override
    public int probe(Probe probe) {
        return 1;
    }

    @Override
    public VirtualDisk open(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        return new RawDisk(ImageFile.open(file, options.readOnly()));
    }

    @Override
    public VirtualDisk create(Path file, long size, CreateOptions options) throws IOException {
        options.rejectUnknown(name());
        if (size < 0) {
            throw new ImageFormatException("size must not be negative");
        }
        ImageFile f = ImageFile.create(file);
        f.truncate(0);
        // Grows as a hole: a new raw image takes no space until data is written.
        f.channel().position(0);
        RawDisk disk = new RawDisk(f);
        disk.setLength(size);
        return disk;
    }

    @Override
    public CheckReport check(Path file, OpenOptions options, DiskOpener opener) throws IOException {
        throw new ImageFormatException("raw images have no structure to check");
    }
}
