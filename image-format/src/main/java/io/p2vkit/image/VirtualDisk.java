package io.p2vkit.image;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A virtual disk of {@link #size()} bytes, whatever its on-disk format.
 *
 * <p>Reads and writes are positional and must lie inside {@code [0, size())}. A read fills
 * {@code dst} completely (from its position to its limit) or throws. Every consumer — convert,
 * capture, compare, the VM's disk devices — asks {@link #extents} first so that it can skip what
 * holds nothing.
 */
public interface VirtualDisk extends Closeable {

    /** Virtual size in bytes, as the guest sees it. */
    long size();

    /** Reads {@code dst.remaining()} bytes at {@code offset}; advances {@code dst} to its limit. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code src.remaining()} bytes at {@code offset}; advances {@code src} to its limit.
     * Formats that can only be written in one pass (VMDK streamOptimized, compressed qcow2)
     * accept writes in ascending, non-overlapping order only and say so with an exception.
     */
    void write(long offset, ByteBuffer src) throws IOException;

    /**
     * The runs covering {@code [from, to)}, in order, without gaps, each tagged DATA, ZERO or
     * UNALLOCATED (reads through to the backing disk, or zeros when there is none). Adjacent runs
     * of the same kind are merged. Formats report what their tables say; DATA may still hold
     * zeros.
     */
    List<Extent> extents(long from, long to) throws IOException;

    /**
     * Whether UNALLOCATED runs read from a backing or parent disk. When false they read as
     * zeros, so a consumer may skip them without reading.
     */
    default boolean hasBacking() {
        return false;
    }

    /** Makes every completed write durable in the image file(s). */
    void flush() throws IOException;

    /** Whether writes are refused. */
    boolean isReadOnly();

    /** What {@code p2v image info} shows for this disk. */
    ImageInfo info() throws IOException;

    /** Finishes the image (footers, tables, end-of-stream markers) and releases its files. */
    @Override
    void close() throws IOException;
}
