package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.OrderedPipeline;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Writes a compressed image in one ascending pass: whole clusters are deflated on all cores
 * ({@link OrderedPipeline}) and stored in guest order, packed back to back after the last
 * allocation. A cluster that does not shrink is stored uncompressed, an all-zero one not at
 * all. A cluster written in pieces is gathered in memory until it is complete or the writes
 * move past it (the rest is then zeros).
 */
final class Qcow2CompressedWriter implements AutoCloseable {

    /**
     * Fills a new cluster buffer with what the cluster reads as before this write: the backing
     * disk's bytes for a child image, so that a cluster written in part keeps the rest.
     */
    @FunctionalInterface
    interface Underneath {
        void fill(long guestCluster, byte[] cluster) throws IOException;
    }

    /** What a worker hands back for one cluster: nothing (all zero), deflated or raw bytes. */
    private record Packed(long guestCluster, byte[] data, int length, boolean compressed) {
    }

    private final ImageFile file;
    private final Qcow2ClusterMap map;
    private final Qcow2Allocator allocator;
    private final int clusterBits;
    private final int clusterSize;
    private final long diskSize;
    private final Underneath underneath;
    private final boolean zeroClusters;
    private final OrderedPipeline<Packed> pipeline;
    private final ConcurrentLinkedQueue<Qcow2Deflate> deflaters = new ConcurrentLinkedQueue<>();
    private long nextOffset;
    private long pendingCluster = -1;
    private byte[] pending;

    /**
     * @param underneath   null without a backing disk (untouched bytes are zeros)
     * @param zeroClusters the image can flag zero clusters (v3): needed to hide backing data
     */
    Qcow2CompressedWriter(ImageFile file, Qcow2ClusterMap map, Qcow2Allocator allocator, int clusterBits,
                          long diskSize, Underneath underneath, boolean zeroClusters) {
        this.underneath = underneath;
        this.zeroClusters = zeroClusters;
        this.file = file;
        this.map = map;
        this.allocator = allocator;
        this.clusterBits = clusterBits;
        this.clusterSize = 1 << clusterBits;
        this.diskSize = diskSize;
        this.pipeline = OrderedPipeline.onAllCores(this::store);
    }

    void write(long offset, ByteBuffer src) throws IOException {
        if (offset < nextOffset) {
            throw new ImageFormatException("a compressed qcow2 image is written in one ascending pass: write at "
                    + offset + " comes after one ending at " + nextOffset);
        }
        long pos = offset;
        while (src.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inCluster = (int) (pos & (clusterSize - 1));
            int n = Math.min(src.remaining(), clusterSize - inCluster);
            if (cluster != pendingCluster) {
                submitPending();
                pendingCluster = cluster;
                pending = new byte[clusterSize];
                if (underneath != null) {
                    underneath.fill(cluster, pending);
                }
            }
            src.get(pending, inCluster, n);
            pos += n;
            long clusterEnd = Math.min((cluster + 1) << clusterBits, diskSize);
            if (pos == clusterEnd) {
                submitPending();
            }
        }
        nextOffset = pos;
    }

    /** Copies what pending data overlaps {@code [offset, offset + dst.remaining())} into {@code dst}. */
    void overlayPending(long offset, ByteBuffer dst) {
        if (pending == null) {
            return;
        }
        long start = pendingCluster << clusterBits;
        long from = Math.max(offset, start);
        long to = Math.min(offset + dst.remaining(), start + clusterSize);
        if (from < to) {
            dst.put(dst.position() + (int) (from - offset), pending, (int) (from - start), (int) (to - from));
        }
    }

    private void submitPending() throws IOException {
        if (pending == null) {
            return;
        }
        byte[] data = pending;
        long cluster = pendingCluster;
        pending = null;
        pendingCluster = -1;
        pipeline.submit(() -> pack(cluster, data));
    }

    /** Runs on a worker: zero test and deflate. */
    private Packed pack(long cluster, byte[] data) {
        // Zeros over a backing disk must be stored: as a zero cluster (v3) or deflated (v2).
        if (Zeros.isZero(ByteBuffer.wrap(data)) && (underneath == null || zeroClusters)) {
            return new Packed(cluster, null, 0, false);
        }
        if (Qcow2Deflate.looksRandom(data, clusterSize)) {
            return new Packed(cluster, data, clusterSize, false);
        }
        Qcow2Deflate d = deflaters.poll();
        if (d == null) {
            d = new Qcow2Deflate(clusterSize);
        }
        try {
            byte[] out = new byte[clusterSize];
            // QEMU stores a cluster compressed only if it shrinks below the cluster size.
            int n = d.compress(data, out, clusterSize - 1);
            return n < 0 ? new Packed(cluster, data, clusterSize, false) : new Packed(cluster, out, n, true);
        } finally {
            deflaters.add(d);
        }
    }

    /** Runs on the writing thread, in guest order. */
    private void store(Packed p) throws IOException {
        if (p.data() == null) {
            if (underneath != null) {
                map.ensureTable(p.guestCluster(), allocator::newCluster);
                map.set(p.guestCluster(), Qcow2Constants.OFLAG_ZERO);
            }
            return;
        }
        map.ensureTable(p.guestCluster(), allocator::newCluster);
        if (p.compressed()) {
            long offset = allocator.appendBytes(p.data(), p.length());
            map.set(p.guestCluster(), Qcow2Entry.compressed(offset, p.length(), clusterBits));
        } else {
            long offset = allocator.newCluster();
            file.writeFully(offset, ByteBuffer.wrap(p.data(), 0, p.length()));
            map.set(p.guestCluster(), Qcow2Entry.data(offset));
        }
    }

    /** Stores every complete cluster queued so far (the pending partial one stays). */
    void drain() throws IOException {
        pipeline.finish();
        allocator.flushBytes();
    }

    /** Stores everything, the pending partial cluster included (its rest is zeros). */
    void finish() throws IOException {
        submitPending();
        drain();
    }

    @Override
    public void close() {
        pipeline.close();
        Qcow2Deflate d;
        while ((d = deflaters.poll()) != null) {
            d.close();
        }
    }
}
