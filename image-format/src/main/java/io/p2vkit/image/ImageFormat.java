package io.p2vkit.image;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One on-disk format: what QEMU calls a block driver, as a Java interface. Implementations live
 * in their own package ({@code io.p2vkit.image.vhd}, ...) and are listed in {@link Formats}.
 */
public interface ImageFormat {

    /** The name qemu-img uses ({@code raw}, {@code vpc}, {@code vmdk}, {@code qcow2}). */
    String name();

    /** Other accepted names ({@code vhd} for {@code vpc}). */
    default List<String> aliases() {
        return List.of();
    }

    /**
     * How sure this format is that the file is one of its own, from 0 (not mine) to 100 (a
     * checksummed signature matched). Must not throw on any input.
     */
    int probe(Probe probe);

    /** Opens an existing image. References to other files are resolved through {@code opener}. */
    VirtualDisk open(Path file, OpenOptions options, DiskOpener opener) throws IOException;

    /**
     * Creates a new, empty image of {@code size} bytes and returns it open for writing. Formats
     * written in one pass accept ascending writes only. {@link VirtualDisk#close()} finishes it.
     */
    VirtualDisk create(Path file, long size, CreateOptions options) throws IOException;

    /** Checks the image's structure without changing it. */
    CheckReport check(Path file, OpenOptions options, DiskOpener opener) throws IOException;

    /**
     * The options that make {@link #create} keep exactly the requested size, for callers that
     * need it (a captured disk's backup GPT header lives in its last sector). Formats that round
     * sizes by default (VHD's CHS geometry) add their option; most need nothing.
     */
    default CreateOptions exactSize(CreateOptions options) {
        return options;
    }

    /** The {@code -o} keys {@link #create} understands, with one line each, for {@code --help}. */
    default List<String> createOptionsHelp() {
        return List.of();
    }
}
