package io.p2vkit.image.qcow2;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;
import io.p2vkit.image.raw.SparseFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * An open qcow2 image: reads through the cluster map (and the backing disk for unallocated
 * clusters), writes by allocating clusters at the end of the file, and on close stores fresh
 * refcounts and clears the dirty bit. Opening and creating are in {@link Qcow2Open} and
 * {@link Qcow2Create}.
 */
final class Qcow2Disk implements VirtualDisk {

    private final ImageFile file;
    private Qcow2Header header;
    private final Qcow2Extensions extensions;
    private final Qcow2ClusterMap map;
    private final VirtualDisk backing;
    private final String backingName;
    private final int clusterBits;
    private final int clusterSize;
    private final long size;
    private final Qcow2Allocator allocator;
    private final Qcow2CompressedWriter compressedWriter;
    private final Inflater inflater = new Inflater(true);
    private final byte[] inflated;
    private long inflatedEntry = -1;
    private boolean modified;
    /** Created by us in this session: a crash leaves no refcount table, so no ordering syncs. */
    private boolean created;
    private boolean closed;

    Qcow2Disk(ImageFile file, Qcow2Header header, Qcow2Extensions extensions, Qcow2ClusterMap map,
              VirtualDisk backing, String backingName, boolean compress) throws IOException {
        this.file = file;
        this.header = header;
        this.extensions = extensions;
        this.map = map;
        this.backing = backing;
        this.backingName = backingName;
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.size = header.size();
        this.inflated = new byte[clusterSize];
        if (file.isReadOnly()) {
            this.allocator = null;
            this.compressedWriter = null;
        } else {
            long end = (file.size() + clusterSize - 1) & -(long) clusterSize;
            end = Math.max(end, header.l1TableOffset() + ((header.l1Size() * 8L + clusterSize - 1)
                    & -(long) clusterSize));
            this.allocator = new Qcow2Allocator(file, clusterBits, Math.max(end, clusterSize));
            this.compressedWriter = compress ? new Qcow2CompressedWriter(file, map, allocator, clusterBits, size,
                    backing == null ? null : this::fillFromBacking, header.version() >= 3) : null;
        }
    }

    /**
     * A new image's header already carries the dirty bit and no refcounts: it must be finished.
     * Uncompressed, every cluster appended to it is written in full, so its blocks are allocated
     * ahead; compressed, the space between packed data and the next whole cluster stays a hole.
     */
    void markCreated() {
        modified = true;
        created = true;
        if (compressedWriter == null) {
            allocator.reserveAhead();
        }
    }

    Qcow2Header header() {
        return header;
    }

    @Override
    public long size() {
        return size;
    }

    /** Unallocated clusters read through the backing file, when the image names one. */
    @Override
    public boolean hasBacking() {
        return backing != null || backingName != null;
    }

    @Override
    public boolean isReadOnly() {
        return file.isReadOnly();
    }

    // ---- reading -------------------------------------------------------------------------

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        checkOpen();
        checkRange(offset, dst.remaining());
        long start = offset;
        ByteBuffer whole = dst.duplicate();
        if (compressedWriter != null) {
            compressedWriter.drain();
        }
        long pos = offset;
        while (dst.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inCluster = (int) (pos & (clusterSize - 1));
            int n = Math.min(dst.remaining(), clusterSize - inCluster);
            long e = map.entry(cluster);
            switch (Qcow2Entry.kind(e)) {
                case UNALLOCATED -> readBacking(pos, dst, n);
                case ZERO -> Zeros.fill(dst.slice(dst.position(), n));
                case COMPRESSED -> {
                    byte[] data = inflate(e, cluster);
                    dst.put(dst.position(), data, inCluster, n);
                }
                case DATA -> {
                    // Gather following clusters that lie right after this one in the file.
                    long host = dataOffset(e, cluster) + inCluster;
                    int run = n;
                    while (run < dst.remaining()) {
                        long next = map.entry(cluster + (run + inCluster) / clusterSize);
                        if (Qcow2Entry.kind(next) != Qcow2Entry.Kind.DATA
                                || dataOffset(next, cluster) != host + run) {
                            break;
                        }
                        run += Math.min(clusterSize, dst.remaining() - run);
                    }
                    ByteBuffer part = dst.slice(dst.position(), run);
                    file.readUpTo(host, part);
                    if (part.hasRemaining()) {
                        Zeros.fill(part); // QEMU ends the file mid-cluster after a partial last cluster
                    }
                    n = run;
                }
            }
            dst.position(dst.position() + n);
            pos += n;
        }
        if (compressedWriter != null) {
            whole.limit(whole.position() + (int) (pos - start));
            compressedWriter.overlayPending(start, whole);
        }
    }

    private void readBacking(long pos, ByteBuffer dst, int n) throws IOException {
        ByteBuffer part = dst.slice(dst.position(), n);
        long fromBacking = backing == null ? 0 : Math.max(0, Math.min(n, backing.size() - pos));
        if (fromBacking > 0) {
            backing.read(pos, part.slice(0, (int) fromBacking));
        }
        Zeros.fill(part.position((int) fromBacking));
    }

    /** What a cluster of a new child image reads as before it is written: the backing disk's bytes. */
    private void fillFromBacking(long cluster, byte[] buf) throws IOException {
        long start = cluster << clusterBits;
        int n = (int) Math.max(0, Math.min(clusterSize, Math.min(size, backing.size()) - start));
        if (n > 0) {
            backing.read(start, ByteBuffer.wrap(buf, 0, n));
        }
    }

    /** The host offset of a standard entry, checked to be aligned and inside the file. */
    private long dataOffset(long e, long cluster) throws IOException {
        long host = Qcow2Entry.hostOffset(e);
        if ((e & L2_STANDARD_RESERVED) != 0 || (host & (clusterSize - 1)) != 0) {
            throw new ImageFormatException("qcow2 L2 entry for guest cluster " + cluster
                    + " is malformed or unaligned (0x" + Long.toHexString(e) + ")");
        }
        if (host < clusterSize) {
            throw new ImageFormatException("qcow2 L2 entry for guest cluster " + cluster
                    + " points into the header");
        }
        if (host >= fileEnd()) {
            throw new ImageFormatException("qcow2 L2 entry for guest cluster " + cluster + " points to " + host
                    + ", beyond the end of the file");
        }
        return host;
    }

    /**
     * The host offset of a data cluster about to be written in place, refused if a damaged
     * entry makes it the header, the L1 table, the refcount table or an L2 table (QEMU's
     * qcow2_pre_write_overlap_check does the same, against more structures).
     */
    private long writableOffset(long e, long cluster) throws IOException {
        long host = dataOffset(e, cluster);
        long l1End = header.l1TableOffset() + header.l1Size() * 8L;
        long rtEnd = header.refcountTableOffset() + ((long) header.refcountTableClusters() << clusterBits);
        if ((host >= header.l1TableOffset() && host < l1End)
                || (host >= header.refcountTableOffset() && host < rtEnd) || map.isTable(host)) {
            throw new ImageFormatException("qcow2 L2 entry for guest cluster " + cluster + " points at "
                    + host + ", which holds metadata; refusing to write there (check the image)");
        }
        return host;
    }

    private long fileEnd() throws IOException {
        return allocator != null ? Math.max(allocator.end(), file.size()) : file.size();
    }

    /** Inflates a compressed cluster (spec "Compressed Clusters Descriptor"); caches the last one. */
    private byte[] inflate(long e, long cluster) throws IOException {
        if (e == inflatedEntry) {
            return inflated;
        }
        long offset = Qcow2Entry.compressedOffset(e, clusterBits);
        long length = Qcow2Entry.compressedLength(e, clusterBits);
        long end = file.size();
        if (offset < clusterSize || offset >= end) {
            throw new ImageFormatException("qcow2 compressed cluster for guest cluster " + cluster + " lies at "
                    + offset + ", outside the file's data area");
        }
        // The sector count may overstate the data; the field caps it at twice the cluster size.
        int toRead = (int) Math.min(length, end - offset);
        ByteBuffer in = file.read(offset, toRead, "qcow2 compressed cluster");
        inflater.reset();
        inflater.setInput(in.array(), 0, toRead);
        int produced = 0;
        try {
            while (produced < clusterSize) {
                int n = inflater.inflate(inflated, produced, clusterSize - produced);
                produced += n;
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
            }
        } catch (DataFormatException ex) {
            inflatedEntry = -1;
            throw new ImageFormatException("qcow2 compressed cluster for guest cluster " + cluster
                    + " does not inflate: " + ex.getMessage(), offset);
        }
        if (produced < clusterSize) {
            inflatedEntry = -1;
            throw new ImageFormatException("qcow2 compressed cluster for guest cluster " + cluster
                    + " inflates to " + produced + " of its " + clusterSize + " bytes", offset);
        }
        inflatedEntry = e;
        return inflated;
    }

    // ---- writing -------------------------------------------------------------------------

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        checkOpen();
        if (file.isReadOnly()) {
            throw new ImageFormatException("disk is open read-only");
        }
        checkRange(offset, src.remaining());
        markDirty();
        if (compressedWriter != null) {
            compressedWriter.write(offset, src);
            return;
        }
        inflatedEntry = -1;
        Run run = new Run(src);
        try {
            writeClusters(offset, src, run);
        } finally {
            // Entries already point at the run's clusters: its data goes out even if a later
            // cluster failed.
            run.flush();
        }
    }

    /** Full clusters allocated back to back, written with one call. */
    private final class Run {
        private final ByteBuffer src;
        private long host = -1;
        private int start;
        private int length;

        Run(ByteBuffer src) {
            this.src = src;
        }

        /** Adds a cluster at {@code clusterHost} holding {@code src[at, at + n)}. */
        void add(long clusterHost, int at, int n) throws IOException {
            if (length > 0 && clusterHost == host + length && at == start + length) {
                length += n;
                return;
            }
            flush();
            host = clusterHost;
            start = at;
            length = n;
        }

        void flush() throws IOException {
            if (length > 0) {
                file.writeFully(host, src.slice(start, length));
                length = 0;
            }
        }
    }

    private void writeClusters(long offset, ByteBuffer src, Run run) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            long cluster = pos >>> clusterBits;
            int inCluster = (int) (pos & (clusterSize - 1));
            int n = Math.min(src.remaining(), clusterSize - inCluster);
            long e = map.entry(cluster);
            Qcow2Entry.Kind kind = Qcow2Entry.kind(e);
            ByteBuffer part = src.slice(src.position(), n);
            if (kind == Qcow2Entry.Kind.DATA) {
                run.flush();
                file.writeFully(writableOffset(e, cluster) + inCluster, part);
            } else if (Zeros.isZero(part) && readsAsZero(kind)) {
                run.flush();
            } else if (n == clusterSize && Zeros.isZero(part) && header.version() >= 3) {
                // Zeros over backing data: a zero cluster hides it without taking space.
                run.flush();
                map.ensureTable(cluster, allocator::newCluster);
                map.set(cluster, OFLAG_ZERO);
            } else if (n == clusterSize && kind != Qcow2Entry.Kind.ZERO) {
                map.ensureTable(cluster, allocator::newCluster);
                long host = allocator.newCluster();
                map.set(cluster, Qcow2Entry.data(host));
                run.add(host, src.position(), n);
            } else {
                run.flush();
                writePartial(cluster, e, inCluster, part);
            }
            src.position(src.position() + n);
            pos += n;
        }
    }

    private boolean readsAsZero(Qcow2Entry.Kind kind) {
        return kind == Qcow2Entry.Kind.ZERO || (kind == Qcow2Entry.Kind.UNALLOCATED && backing == null);
    }

    /**
     * Writes part of a cluster that holds no data of its own yet (unallocated, zero or
     * compressed): the rest comes from what the cluster reads as now, then the whole cluster is
     * stored (copy-on-write, as QEMU's handle_copied/perform_cow).
     */
    private void writePartial(long cluster, long e, int inCluster, ByteBuffer part) throws IOException {
        byte[] whole = new byte[clusterSize];
        long start = cluster << clusterBits;
        int valid = (int) Math.min(clusterSize, size - start);
        read(start, ByteBuffer.wrap(whole, 0, valid));
        part.get(part.position(), whole, inCluster, part.remaining());
        map.ensureTable(cluster, allocator::newCluster);
        long host = Qcow2Entry.kind(e) == Qcow2Entry.Kind.ZERO && Qcow2Entry.hostOffset(e) != 0
                ? writableOffset(e & ~OFLAG_ZERO, cluster) : allocator.newCluster();
        file.writeFully(host, ByteBuffer.wrap(whole));
        map.set(cluster, Qcow2Entry.data(host));
        inflatedEntry = -1;
    }

    /** Before the first change: set the dirty bit (v3) so that a crash leaves a marked image. */
    private void markDirty() throws IOException {
        if (modified) {
            return;
        }
        if (header.version() >= 3) {
            // Autoclear bits name extensions we do not keep up to date (spec: clear them).
            header = header.withIncompatible(header.incompatibleFeatures() | INCOMPAT_DIRTY).withAutoclear(0);
            file.writeFully(0, header.encode());
            file.force();
        }
        modified = true;
    }

    @Override
    public synchronized List<Extent> extents(long from, long to) throws IOException {
        checkOpen();
        List<Extent> out = new ArrayList<>();
        long end = Math.min(to, size);
        if (compressedWriter != null) {
            compressedWriter.drain();
        }
        long pos = Math.max(0, from);
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            long runEnd;
            Extent.Kind kind;
            if (!map.hasTable(cluster)) {
                runEnd = (cluster + map.clustersToTableEnd(cluster)) << clusterBits;
                kind = Extent.Kind.UNALLOCATED;
            } else {
                runEnd = (cluster + 1) << clusterBits;
                kind = switch (Qcow2Entry.kind(map.entry(cluster))) {
                    case UNALLOCATED -> Extent.Kind.UNALLOCATED;
                    case ZERO -> Extent.Kind.ZERO;
                    default -> Extent.Kind.DATA;
                };
            }
            runEnd = Math.min(runEnd, end);
            Extent last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.kind() == kind) {
                out.set(out.size() - 1, new Extent(last.offset(), runEnd - last.offset(), kind));
            } else {
                out.add(new Extent(pos, runEnd - pos, kind));
            }
            pos = runEnd;
        }
        return out;
    }

    // ---- info, flush, close --------------------------------------------------------------

    @Override
    public synchronized ImageInfo info() throws IOException {
        checkOpen();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("compat", header.version() >= 3 ? "1.1" : "0.10");
        d.put("cluster size", clusterSize);
        d.put("refcount bits", header.refcountBits());
        d.put("compression type", header.compressionType() == COMPRESSION_DEFLATE ? "zlib" : "zstd");
        d.put("compressed clusters", hasCompressedClusters());
        d.put("lazy refcounts", header.hasLazyRefcounts());
        d.put("dirty", header.isDirty());
        d.put("corrupt", header.isCorrupt());
        List<String> features = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((header.incompatibleFeatures() & (1L << bit)) != 0) {
                features.add(extensions.incompatibleName(bit));
            }
        }
        d.put("incompatible features", features);
        d.put("snapshots", header.nbSnapshots());
        if (extensions.backingFormat() != null) {
            d.put("backing format", extensions.backingFormat());
        }
        List<ImageInfo.Reference> refs = new ArrayList<>();
        if (backingName != null) {
            refs.add(new ImageInfo.Reference("backing file", backingName, extensions.backingFormat()));
        }
        if (extensions.dataFile() != null) {
            refs.add(new ImageInfo.Reference("data file", extensions.dataFile(), "raw"));
        }
        return new ImageInfo("qcow2", size, SparseFiles.allocatedBytes(file.path()), d, refs);
    }

    /** Whether any L2 entry of the active layer is compressed (reads only the L2 tables). */
    private boolean hasCompressedClusters() throws IOException {
        if (compressedWriter != null) {
            compressedWriter.drain();
        }
        long clusters = (size + clusterSize - 1) >>> clusterBits;
        long c = 0;
        while (c < clusters) {
            if (!map.hasTable(c)) {
                c += map.clustersToTableEnd(c);
                continue;
            }
            if (Qcow2Entry.kind(map.entry(c)) == Qcow2Entry.Kind.COMPRESSED) {
                return true;
            }
            c++;
        }
        return false;
    }

    @Override
    public synchronized void flush() throws IOException {
        checkOpen();
        if (file.isReadOnly() || !modified) {
            return;
        }
        if (compressedWriter != null) {
            compressedWriter.drain();
        }
        map.flush();
        allocator.flushBytes();
        file.force();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!file.isReadOnly() && modified) {
                finish();
            }
        } catch (IOException | RuntimeException | Error e) {
            Qcow2Open.closeAfter(e, compressedWriter, allocator, backing, file);
            throw e;
        } finally {
            inflater.end();
        }
        IOException late = new IOException("closing qcow2 image " + file.path());
        Qcow2Open.closeAfter(late, compressedWriter, allocator, backing, file);
        if (late.getSuppressed().length > 0) {
            throw late;
        }
    }

    /** Stores all tables, then fresh refcounts, then the header that makes them current. */
    private void finish() throws IOException {
        if (compressedWriter != null) {
            compressedWriter.finish();
        }
        map.flush();
        allocator.flushBytes();
        long end = allocator.end();
        long[] l1 = new long[map.l1Size()];
        for (int i = 0; i < l1.length; i++) {
            l1[i] = map.l1Entry(i);
        }
        Qcow2ReferenceWalker walker = new Qcow2ReferenceWalker(file, header, l1, Qcow2Snapshots.Table.NONE, List.of(), end,
                message -> {
                    throw new ImageFormatException("qcow2 writer bug: " + message);
                });
        Qcow2Refcounts.Layout layout = Qcow2Refcounts.write(file, header, walker, end);
        long tableEnd = layout.tableOffset() + ((long) layout.tableClusters() << clusterBits);
        if (created && file.size() > tableEnd) {
            file.truncate(tableEnd); // blocks allocated ahead of the writes and not filled
        }
        // An existing image keeps its dirty bit until the refcounts are on disk. A new one is
        // unusable until its header is written, so it needs no ordering; like qemu-img convert
        // (cache=unsafe) we leave durability to the caller, who syncs the file before renaming it.
        if (!created) {
            file.force();
        }
        header = header.withRefcountTable(layout.tableOffset(), layout.tableClusters())
                .withIncompatible(header.incompatibleFeatures() & ~INCOMPAT_DIRTY);
        file.writeFully(0, header.encode());
        if (!created) {
            file.force();
        }
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException("qcow2 disk is closed");
        }
    }

    private void checkRange(long offset, int length) throws ImageFormatException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new ImageFormatException("access " + offset + "+" + length + " outside the disk's "
                    + size + " bytes");
        }
    }
}
