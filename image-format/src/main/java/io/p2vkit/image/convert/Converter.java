package io.p2vkit.image.convert;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Copies one disk into a new image: the runs that may hold data are read (or mapped) and scanned
 * on one thread, blocks of zeros are dropped, and the rest is written on the caller's thread in
 * ascending order, which every format's writer accepts (even the one-pass ones). The output
 * appears only when complete ({@link AtomicOutput}).
 */
public final class Converter {

    private static final int CHUNK = 2 << 20;
    private static final int BUFFERS = 6;

    /** What a conversion did. */
    public record Result(Path output, long virtualSize, long bytesRead, long bytesWritten, long millis) {
    }

    private Converter() {
    }

    /**
     * Converts {@code source} into a new {@code format} image at {@code destination}.
     *
     * @param overwrite replace an existing destination (otherwise it is refused)
     */
    public static Result convert(VirtualDisk source, ImageFormat format, Path destination, CreateOptions options,
                                 boolean overwrite, ProgressListener progress) throws IOException {
        long start = System.nanoTime();
        try (AtomicOutput out = AtomicOutput.begin(destination, overwrite)) {
            long[] counts;
            try (VirtualDisk target = format.create(out.stagedPath(), source.size(), options.inFolder(out.folder()))) {
                counts = copy(source, target, progress);
            }
            out.commit();
            return new Result(destination, source.size(), counts[0], counts[1],
                    (System.nanoTime() - start) / 1_000_000);
        }
    }

    /** Copies every non-zero block of {@code source} into {@code target} in ascending order. */
    public static long[] copy(VirtualDisk source, VirtualDisk target, ProgressListener progress) throws IOException {
        if (target.size() < source.size()) {
            throw new ImageFormatException("the output holds " + target.size() + " bytes, less than the source's "
                    + source.size());
        }
        long read = 0;
        long written = 0;
        long total = source.size();
        try (ChunkReader reader = new ChunkReader(source, CHUNK, BUFFERS)) {
            for (ChunkReader.Chunk c = reader.next(); !c.last(); c = reader.next()) {
                ByteBuffer data = c.data();
                read += data.remaining();
                written += writeRuns(target, c);
                reader.recycle(c);
                progress.progress(c.offset() + data.limit(), total);
            }
        }
        progress.progress(total, total);
        return new long[] {read, written};
    }

    /** Writes the chunk's non-zero runs (found by the reader); returns the bytes written. */
    private static long writeRuns(VirtualDisk target, ChunkReader.Chunk c) throws IOException {
        int[] runs = c.runs();
        long written = 0;
        for (int i = 0; i < runs.length; i += 2) {
            int length = runs[i + 1] - runs[i];
            target.write(c.offset() + runs[i], c.data().slice(runs[i], length));
            written += length;
        }
        return written;
    }
}
