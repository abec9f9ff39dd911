package io.p2vkit.agent.capture;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The plain SHA-256 of a whole virtual disk — what {@code sha256sum} prints for a raw copy of it —
 * computed on its own thread while the copy runs. Data arrives in ascending runs; the gaps between
 * them are zeros, which still have to be hashed (SHA-256 has no shortcut for them), so this costs
 * about one core at ~1.8 GB/s whatever the disk holds.
 */
final class ContentDigest implements AutoCloseable {

    private static final byte[] ZEROS = new byte[1 << 20];
    private static final int QUEUE = 8;

    /** A run of data at an offset; a null data marks the end at {@code offset}. */
    private record Run(long offset, byte[] data, int length) {
    }

    private final BlockingQueue<Run> runs = new ArrayBlockingQueue<>(QUEUE);
    /** Buffers handed back by the hasher: the copy path allocates only until the pipe is full. */
    private final BlockingQueue<byte[]> spare = new ArrayBlockingQueue<>(QUEUE + 2);
    private final MessageDigest sha = sha256();
    private final Thread hasher;
    private volatile Throwable failure;
    private String result;

    ContentDigest() {
        hasher = Thread.ofPlatform().name("p2v-sha256").daemon().start(this::hashAll);
    }

    /** Adds the bytes of {@code data} (position to limit) found at {@code offset}. */
    void data(long offset, ByteBuffer data) throws IOException {
        int n = data.remaining();
        byte[] copy = spare.poll();
        if (copy == null || copy.length < n) {
            copy = new byte[n];
        }
        data.duplicate().get(copy, 0, n);
        put(new Run(offset, copy, n));
    }

    /** Ends the disk at {@code size} and returns the hex digest. */
    String finish(long size) throws IOException {
        put(new Run(size, null, 0));
        try {
            hasher.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        }
        if (failure != null) {
            throw new IOException("hashing failed: " + failure, failure);
        }
        return result;
    }

    private void put(Run r) throws IOException {
        try {
            runs.put(r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        }
    }

    private void hashAll() {
        long next = 0;
        try {
            for (;;) {
                Run r = runs.take();
                for (long gap = r.offset() - next; gap > 0; ) {
                    int n = (int) Math.min(gap, ZEROS.length);
                    sha.update(ZEROS, 0, n);
                    gap -= n;
                }
                if (r.data() == null) {
                    result = HexFormat.of().formatHex(sha.digest());
                    return;
                }
                sha.update(r.data(), 0, r.length());
                next = r.offset() + r.length();
                spare.offer(r.data());
            }
        } catch (InterruptedException e) {
            failure = e;
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    @Override
    public void close() {
        hasher.interrupt();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
