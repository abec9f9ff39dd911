package io.p2vkit.image.vmdk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One extent of a VMDK disk as its descriptor lists it: a flat file, a sparse file or zeros.
 * Offsets are bytes from the start of this extent.
 */
interface VmdkExtent extends Closeable {

    /** Size in sectors, as the descriptor line (or the sparse header) says. */
    long sectors();

    void read(long offset, ByteBuffer dst) throws IOException;

    void write(long offset, ByteBuffer src) throws IOException;

    /** Adds the runs of {@code [from, to)} to {@code out}, shifted by {@code base}. */
    void map(long from, long to, long base, RunBuilder out) throws IOException;

    void flush() throws IOException;

    /** The extent's type (SPARSE, FLAT, ZERO). */
    String type();

    /** The file name as the descriptor gives it, or null for a ZERO extent. */
    String fileName();
}
