package io.p2vkit.image.convert;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Copies one disk into a new image: the runs that may hold data are read on one thread, blocks
 * of zeros are dropped, and the rest is written in ascending order, which every format's writer
 * accepts (even the one-pass ones). The output appears only when complete ({@link AtomicOutput}).
 */
public final class Converter {

    /** Zero detection granularity: runs of zeros this size and aligned are not written. */
    static final int ZERO_BLOCK = 4096;
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
                written += writeNonZero(target, c.offset(), data);
                reader.recycle(c);
                progress.progress(c.offset() + data.limit(), total);
            }
        }
        progress.progress(total, total);
        return new long[] {read, written};
    }

    /** Writes the runs of {@code data} that are not all zero; returns the bytes written. */
    private static long writeNonZero(VirtualDisk target, long offset, ByteBuffer data) throws IOException {
        int limit = data.limit();
        int runStart = -1;
        long written = 0;
        // Blocks are aligned to the disk, not the chunk, so holes line up with the output's.
        int first = (int) Math.min(limit, ZERO_BLOCK - Math.floorMod(offset, ZERO_BLOCK));
        for (int pos = 0; pos < limit; ) {
            int len = pos == 0 ? first : Math.min(ZERO_BLOCK, limit - pos);
            boolean zero = Zeros.isZero(data, pos, len);
            if (!zero && runStart < 0) {
                runStart = pos;
            } else if (zero && runStart >= 0) {
                target.write(offset + runStart, data.slice(runStart, pos - runStart));
                written += pos - runStart;
                runStart = -1;
            }
            pos += len;
        }
        if (runStart >= 0) {
            target.write(offset + runStart, data.slice(runStart, limit - runStart));
            written += limit - runStart;
        }
        return written;
    }
}
