package io.p2vkit.image.raw;

import io.p2vkit.image.io.Libc;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a file holds data and where it has holes, from Linux's {@code lseek(SEEK_DATA/SEEK_HOLE)}
 * (the JDK has no API for it). Where the filesystem or the file type cannot say, everything counts
 * as data.
 */
public final class SparseFiles {

    private SparseFiles() {
    }

    /** Data runs {@code [start, end)} within {@code [from, to)}, in order. */
    public record Regions(List<long[]> data) {
    }

    /** The data runs of {@code path} within {@code [from, to)}. */
    public static Regions dataRegions(FileChannel channel, Path path, long from, long to) throws IOException {
        List<long[]> out = new ArrayList<>();
        int fd = Files.isRegularFile(path) ? Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC) : -1;
        if (fd < 0) {
            out.add(new long[] {from, to});
            return new Regions(out);
        }
        try {
            long pos = from;
            while (pos < to) {
                long data = Libc.lseek(fd, pos, Libc.SEEK_DATA);
                if (data == -Libc.ENXIO) {
                    break; // only a hole from pos to the end of the file
                }
                if (data < 0) {
                    out.clear();
                    out.add(new long[] {from, to}); // the filesystem cannot tell: all data
                    break;
                }
                if (data >= to) {
                    break;
                }
                long hole = Libc.lseek(fd, data, Libc.SEEK_HOLE);
                hole = hole < 0 ? to : Math.min(hole, to);
                out.add(new long[] {data, hole});
                pos = hole;
            }
        } finally {
            Libc.close(fd);
        }
        return new Regions(out);
    }

    /** Bytes of {@code path} that hold data (its size less its holes). */
    public static long allocatedBytes(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return 0;
        }
        long size = Files.size(path);
        try (FileChannel ch = FileChannel.open(path)) {
            long sum = 0;
            for (long[] r : dataRegions(ch, path, 0, size).data()) {
                sum += r[1] - r[0];
            }
            return sum;
        }
    }
}
