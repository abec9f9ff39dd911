package io.p2vkit.image.qcow2;

import io.p2vkit.image.io.AppendReservation;
import io.p2vkit.image.io.ImageFile;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Hands out space at the end of the file, the only place our writer allocates: whole clusters
 * for L2 tables and data, and byte runs for compressed clusters, which QEMU packs back to back
 * (qcow2_alloc_bytes). Byte runs are gathered in a buffer and written in large sequential
 * writes; any cluster allocation writes the buffer out first so that the file stays in order.
 *
 * <p>For a new image, where everything handed out is written in full, the file's blocks are
 * allocated ahead of the writes ({@link AppendReservation}); {@link #close} ends that, and the
 * image's owner truncates the file to {@link #end} and what it writes after.
 */
final class Qcow2Allocator implements AutoCloseable {

    private static final int BUFFER_BYTES = 1 << 20;

    private final ImageFile file;
    private final long clusterSize;
    private long end;
    private final ByteBuffer pending = ByteBuffer.allocate(BUFFER_BYTES);
    private long pendingStart = -1;
    private AppendReservation reservation;

    Qcow2Allocator(ImageFile file, int clusterBits, long end) {
        this.file = file;
        this.clusterSize = 1L << clusterBits;
        this.end = end;
    }

    /** Allocates the file's blocks ahead of what is handed out: only for a new image. */
    void reserveAhead() {
        reservation = new AppendReservation(file.path(), end);
    }

    /** The first byte after everything allocated so far. */
    long end() {
        return end;
    }

    /** A new cluster after everything allocated; its content is whatever is written to it. */
    long newCluster() throws IOException {
        flushBytes();
        end = (end + clusterSize - 1) & -clusterSize;
        long offset = end;
        end += clusterSize;
        reserve();
        return offset;
    }

    /** Places {@code data[0, length)} right after the last allocated byte; returns its offset. */
    long appendBytes(byte[] data, int length) throws IOException {
        if (pendingStart >= 0 && pending.remaining() < length) {
            flushBytes();
        }
        long offset = end;
        if (length > pending.capacity()) {
            file.writeFully(offset, ByteBuffer.wrap(data, 0, length));
        } else {
            if (pendingStart < 0) {
                pendingStart = offset;
            }
            pending.put(data, 0, length);
        }
        end += length;
        reserve();
        return offset;
    }

    private void reserve() throws IOException {
        if (reservation != null) {
            reservation.cover(end);
        }
    }

    /** Writes the gathered byte runs to the file. */
    void flushBytes() throws IOException {
        if (pendingStart >= 0) {
            pending.flip();
            file.writeFully(pendingStart, pending);
            pending.clear();
            pendingStart = -1;
        }
    }

    /** Ends the reserving (the bytes gathered are written by {@link #flushBytes}, not here). */
    @Override
    public void close() throws IOException {
        if (reservation != null) {
            reservation.close();
        }
    }
}
