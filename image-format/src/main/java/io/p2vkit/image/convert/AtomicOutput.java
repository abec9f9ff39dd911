package io.p2vkit.image.convert;

import io.p2vkit.image.ImageFormatException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output that appears only when complete. The format writes into a hidden staging folder
 * beside the destination (so multi-file formats keep their relative names), and {@link #commit}
 * moves every file into place; anything else removes the staging folder and leaves the
 * destination untouched.
 */
public final class AtomicOutput implements AutoCloseable {

    private final Path destination;
    private final Path staging;
    private final boolean overwrite;

    private AtomicOutput(Path destination, Path staging, boolean overwrite) {
        this.destination = destination;
        this.staging = staging;
        this.overwrite = overwrite;
    }

    /** Starts an output at {@code destination}; refuses an existing one unless {@code overwrite}. */
    public static AtomicOutput begin(Path destination, boolean overwrite) throws IOException {
        Path dst = destination.toAbsolutePath().normalize();
        if (Files.exists(dst) && !overwrite) {
            throw new FileAlreadyExistsException(dst + " exists (use --force to overwrite)");
        }
        if (Files.isDirectory(dst)) {
            throw new ImageFormatException(dst + " is a folder");
        }
        Path folder = dst.getParent();
        if (!Files.isDirectory(folder)) {
            throw new ImageFormatException("folder " + folder + " does not exist");
        }
        String name = "." + dst.getFileName() + ".p2v-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path staging = Files.createDirectory(folder.resolve(name));
        return new AtomicOutput(dst, staging, overwrite);
    }

    /** The folder the output will be moved into. */
    public Path folder() {
        return destination.getParent();
    }

    /** Where the format should create its (main) file. */
    public Path stagedPath() {
        return staging.resolve(destination.getFileName());
    }

    /** Moves every staged file into the destination's folder. */
    public void commit() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(staging)) {
            ds.forEach(files::add);
        }
        Path folder = destination.getParent();
        if (!overwrite) {
            for (Path f : files) {
                if (Files.exists(folder.resolve(f.getFileName()))) {
                    throw new FileAlreadyExistsException(folder.resolve(f.getFileName())
                            + " exists (use --force to overwrite)");
                }
            }
        }
        // The main file last: a reader that sees it also sees the files it refers to.
        files.sort((a, b) -> Boolean.compare(a.getFileName().equals(destination.getFileName()),
                b.getFileName().equals(destination.getFileName())));
        for (Path f : files) {
            Files.move(f, folder.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }

    @Override
    public void close() throws IOException {
        if (!Files.exists(staging)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(staging)) {
            for (Path f : ds) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(staging);
    }
}
