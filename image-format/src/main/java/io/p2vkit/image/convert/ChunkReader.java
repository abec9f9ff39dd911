package io.p2vkit.image.convert;

import io.p2vkit.image.Extent;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads the runs of a disk that may hold data, in order, on its own thread, finds which of their
 * blocks are not all zero, and hands the filled chunks to the consumer through a small queue:
 * reading and scanning the source overlap writing the output (the consumer only writes), and
 * memory stays bounded by {@code buffers × chunkSize} whatever the disk size.
 */
final class ChunkReader implements AutoCloseable {

    /**
     * A filled buffer of disk bytes at {@code offset}, with its non-zero runs
     * ({@link NonZeroRuns#find}); {@code last} marks the end.
     */
    record Chunk(long offset, ByteBuffer data, int[] runs, boolean last) {
    }

    private static final long WINDOW = 1L << 30;

    private final VirtualDisk disk;
    private final int chunkSize;
    private final BlockingQueue<Chunk> filled;
    private final BlockingQueue<ByteBuffer> free;
    private final Thread thread;
    private volatile IOException failure;
    private volatile boolean closed;

    ChunkReader(VirtualDisk disk, int chunkSize, int buffers) {
        this.disk = disk;
        this.chunkSize = chunkSize;
        this.filled = new ArrayBlockingQueue<>(buffers + 1);
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(ByteBuffer.allocateDirect(chunkSize));
        }
        this.thread = Thread.ofPlatform().name("p2v-reader").daemon().unstarted(this::readAll);
        thread.start();
    }

    /** Whether {@code e} must be read: DATA always, UNALLOCATED only through a backing disk. */
    static boolean needsRead(Extent e, boolean hasBacking) {
        return e.kind() == Extent.Kind.DATA || (e.kind() == Extent.Kind.UNALLOCATED && hasBacking);
    }

    private void readAll() {
        try {
            NonZeroRuns.warmUp();
            boolean backing = disk.hasBacking();
            for (long w = 0; w < disk.size() && !closed; w += WINDOW) {
                List<Extent> extents = disk.extents(w, Math.min(disk.size(), w + WINDOW));
                for (Extent e : extents) {
                    if (!needsRead(e, backing)) {
                        continue;
                    }
                    for (long pos = e.offset(); pos < e.end() && !closed; pos += chunkSize) {
                        ByteBuffer buf = free.take();
                        buf.clear().limit((int) Math.min(chunkSize, e.end() - pos));
                        disk.read(pos, buf);
                        buf.flip();
                        filled.put(new Chunk(pos, buf, NonZeroRuns.find(pos, buf), false));
                    }
                }
            }
        } catch (IOException e) {
            failure = e;
        } catch (InterruptedException e) {
            failure = new InterruptedIOException("reader interrupted");
        } catch (RuntimeException e) {
            failure = new IOException("reading the source failed: " + e, e);
        } finally {
            try {
                filled.put(new Chunk(disk.size(), ByteBuffer.allocate(0), new int[0], true));
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The next chunk, or one with {@code last} set at the end. */
    Chunk next() throws IOException {
        try {
            Chunk c = filled.take();
            if (c.last() && failure != null) {
                throw failure;
            }
            return c;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** Returns a chunk's buffer for reuse. */
    void recycle(Chunk c) {
        if (!c.last()) {
            free.offer(c.data());
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
