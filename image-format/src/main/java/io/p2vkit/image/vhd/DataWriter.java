package io.p2vkit.image.vhd;

import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a VHD's data writes go. All of a disk's data writes pass through here, so it knows which
 * file space has never been written, and zero runs that land there are not written: the file
 * stays sparse. Writes are synchronous: the conversion engine reads and scans the source on its
 * own thread, so a copy into a second buffer for a writer thread would only add a memory copy.
 */
final class DataWriter {

    /** Granularity of zero skipping in never-written space (qemu-img skips zeros at 4 KiB). */
    private static final int ZERO_PIECE = 64 * 1024;

    private final ImageFile file;
    /** File offsets from here on have never been written: they are a hole, and read as zeros. */
    private long freshFrom = Long.MAX_VALUE;

    DataWriter(ImageFile file) {
        this.file = file;
    }

    /**
     * Declares that the file holds nothing from {@code offset} on (a new fixed disk's data area,
     * the space past the end where new blocks go), so that zeros written there can be skipped.
     */
    void markFresh(long offset) {
        freshFrom = offset;
    }

    /**
     * Writes {@code src} at {@code position}; advances {@code src} to its limit. Runs of zeros that
     * land in never-written space are not written.
     */
    void write(long position, ByteBuffer src) throws IOException {
        long end = position + src.remaining();
        if (position >= freshFrom) {
            writeNonZeroRuns(position, src);
        } else {
            file.writeFully(position, src);
        }
        freshFrom = Math.max(freshFrom, end);
    }

    private void writeNonZeroRuns(long position, ByteBuffer src) throws IOException {
        int base = src.position();
        int len = src.remaining();
        int runStart = -1;
        for (int at = 0; at < len; at += ZERO_PIECE) {
            int n = Math.min(ZERO_PIECE, len - at);
            boolean zero = Zeros.isZero(src, base + at, n);
            if (!zero && runStart < 0) {
                runStart = at;
            } else if (zero && runStart >= 0) {
                file.writeFully(position + runStart, src.slice(base + runStart, at - runStart));
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            file.writeFully(position + runStart, src.slice(base + runStart, len - runStart));
        }
        src.position(base + len);
    }
}
