package io.p2vkit.agent.capture;

import io.p2vkit.image.io.Libc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Freezes mounted filesystems for the duration of a capture (Linux FIFREEZE/FITHAW ioctls on the
 * mount point), so that a live capture is consistent rather than only crash-consistent. Thawing
 * happens in {@link #close()}, whatever happened in between.
 */
final class Freezer implements AutoCloseable {

    private static final long FIFREEZE = 0xC0045877L; // _IOWR('X', 119, int)
    private static final long FITHAW = 0xC0045878L;   // _IOWR('X', 120, int)

    private final List<Path> frozen = new ArrayList<>();

    /** Freezes the filesystem mounted at {@code mountPoint}. */
    void freeze(Path mountPoint) throws IOException {
        ioctl(mountPoint, FIFREEZE);
        frozen.add(mountPoint);
    }

    List<Path> frozen() {
        return List.copyOf(frozen);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Path p : frozen.reversed()) {
            try {
                ioctl(p, FITHAW);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        frozen.clear();
        if (first != null) {
            throw first;
        }
    }

    private static void ioctl(Path dir, long request) throws IOException {
        int fd = Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open mount point " + dir + ": " + Libc.error(-fd));
        }
        try {
            int rc = Libc.ioctl(fd, request, 0);
            if (rc < 0) {
                throw new IOException((request == FIFREEZE ? "cannot freeze " : "cannot thaw ") + dir + ": "
                        + Libc.error(-rc));
            }
        } finally {
            Libc.close(fd);
        }
    }
}
