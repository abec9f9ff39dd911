package io.p2vkit.image.vhd;

import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Bulk data writes done on a second thread, so that the caller reads its next chunk while the
 * kernel copies this one into the page cache (qemu-img overlaps the two the same way with its
 * I/O threads). Each write is copied into one of a few pooled buffers first, so the caller owns
 * its buffer again on return. All of a disk's data writes go through here, so it also knows
 * which file space has never been written. Writes complete in submission order; anything that reads the file
 * or writes it directly calls {@link #drain} first. An I/O error surfaces at the next call.
 */
final class WriteBehind {

    /** Writes smaller than this go straight to the file: the copy would cost more than it saves. */
    private static final int MIN_ASYNC = 64 * 1024;
    private static final int BUFFER = 4 << 20;
    private static final int BUFFERS = 4;

    /** Granularity of zero skipping in never-written space (qemu-img skips zeros at 4 KiB). */
    private static final int ZERO_PIECE = 64 * 1024;

    /**
     * Buffers of closed disks, for the next disk to use: direct memory is freed only by the
     * garbage collector, so converting many images in a row should not allocate anew each time.
     */
    private static final ConcurrentLinkedQueue<ByteBuffer> SPARE = new ConcurrentLinkedQueue<>();
    private static final int MAX_SPARE = 8;

    private final ImageFile file;
    /** File offsets from here on have never been written: they are a hole, and read as zeros. */
    private long freshFrom = Long.MAX_VALUE;
    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final ArrayDeque<Future<ByteBuffer>> pending = new ArrayDeque<>();
    private ExecutorService thread;
    private int allocated;

    WriteBehind(ImageFile file) {
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
     * Writes {@code src} at {@code position}, now or soon; advances {@code src} to its limit.
     * Runs of zeros that land in never-written space are not written: the file stays sparse.
     */
    void write(long position, ByteBuffer src) throws IOException {
        long end = position + src.remaining();
        if (position >= freshFrom) {
            writeNonZeroRuns(position, src);
        } else {
            put(position, src);
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
                put(position + runStart, src.slice(base + runStart, at - runStart));
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            put(position + runStart, src.slice(base + runStart, len - runStart));
        }
        src.position(base + len);
    }

    private void put(long position, ByteBuffer src) throws IOException {
        if (src.remaining() < MIN_ASYNC) {
            drain();
            file.writeFully(position, src);
            return;
        }
        long pos = position;
        while (src.hasRemaining()) {
            int n = Math.min(BUFFER, src.remaining());
            ByteBuffer buf = buffer();
            buf.clear().put(src.slice(src.position(), n)).flip();
            src.position(src.position() + n);
            long at = pos;
            pending.add(executor().submit(() -> {
                try {
                    file.writeFully(at, buf);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return buf;
            }));
            pos += n;
        }
    }

    /** Waits for every queued write; rethrows the first failure. */
    void drain() throws IOException {
        while (!pending.isEmpty()) {
            free.add(await(pending.poll()));
        }
    }

    /** Stops the thread; the caller has drained (or is giving up after an error). */
    void close() {
        if (thread != null) {
            pending.forEach(f -> f.cancel(false));
            boolean quiet = pending.isEmpty();
            pending.clear();
            thread.shutdownNow();
            thread = null;
            if (quiet) {
                // Only buffers no write can still be using go back for reuse.
                for (ByteBuffer b : free) {
                    if (SPARE.size() < MAX_SPARE) {
                        SPARE.add(b);
                    }
                }
            }
            free.clear();
        }
    }

    private ByteBuffer buffer() throws IOException {
        // Reap what is done without waiting, so errors show early.
        while (!pending.isEmpty() && pending.peek().isDone()) {
            free.add(await(pending.poll()));
        }
        if (!free.isEmpty()) {
            return free.poll();
        }
        if (allocated < BUFFERS) {
            allocated++;
            ByteBuffer spare = SPARE.poll();
            return spare != null ? spare : ByteBuffer.allocateDirect(BUFFER);
        }
        return await(pending.poll());
    }

    private ExecutorService executor() {
        if (thread == null) {
            thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "p2v-vhd-writer");
                t.setDaemon(true);
                return t;
            });
        }
        return thread;
    }

    private static ByteBuffer await(Future<ByteBuffer> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("write failed", c);
        }
    }
}
