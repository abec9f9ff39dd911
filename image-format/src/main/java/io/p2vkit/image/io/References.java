package io.p2vkit.image.io;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.UnsafeReferenceException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Resolves a reference from one image to another file (VMDK extent, qcow2 backing file, VHD
 * parent). By default only files inside the referring image's own folder are allowed, so that a
 * hostile image cannot pull {@code /etc/shadow} into a conversion's output.
 */
public final class References {

    private References() {
    }

    /**
     * Resolves {@code reference} (as written in {@code image}) to a path, enforcing the folder
     * rule unless {@code options.allowExternal()}.
     *
     * @param kind what the reference is, for the error ("backing file", "VMDK extent")
     */
    public static Path resolve(Path image, String reference, String kind, OpenOptions options)
            throws IOException {
        if (reference.isEmpty() || reference.indexOf('\0') >= 0) {
            throw new ImageFormatException(kind + " name is empty or holds a NUL byte");
        }
        Path ref;
        try {
            ref = Path.of(reference);
        } catch (InvalidPathException e) {
            throw new ImageFormatException(kind + " '" + reference + "' is not a valid path");
        }
        Path folder = image.toAbsolutePath().getParent();
        Path resolved = folder.resolve(ref).normalize();
        if (options.allowExternal()) {
            return resolved;
        }
        if (ref.isAbsolute() || ref.getRoot() != null || reference.contains(":")
                || !resolved.startsWith(folder.normalize())) {
            throw new UnsafeReferenceException(kind, reference);
        }
        // A symbolic link inside the folder may still point out of it.
        if (Files.exists(resolved)) {
            Path real = resolved.toRealPath();
            if (!real.startsWith(folder.toRealPath())) {
                throw new UnsafeReferenceException(kind, reference);
            }
            return real;
        }
        return resolved;
    }
}
