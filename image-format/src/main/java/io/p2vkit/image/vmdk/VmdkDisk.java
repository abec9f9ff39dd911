package io.p2vkit.image.vmdk;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A VMDK disk: its descriptor and the extents it lists, one after the other in the disk's address
 * space. Reads and writes are split at extent boundaries and handed to the extents.
 */
final class VmdkDisk implements VirtualDisk {

    private final Path path;
    private final Descriptor descriptor;
    private final List<VmdkExtent> extents;
    private final List<Path> extentFiles;
    private final long[] starts;
    private final long size;
    private final boolean readOnly;
    private boolean closed;
    private ContentIdRenewer renewer;
    private VirtualDisk parent;

    VmdkDisk(Path path, Descriptor descriptor, List<VmdkExtent> extents, List<Path> extentFiles, boolean readOnly) {
        this.path = path;
        this.descriptor = descriptor;
        this.extents = List.copyOf(extents);
        this.extentFiles = extentFiles;
        this.readOnly = readOnly;
        this.starts = new long[extents.size() + 1];
        long pos = 0;
        for (int i = 0; i < extents.size(); i++) {
            starts[i] = pos;
            pos += extents.get(i).sectors() * VmdkConstants.SECTOR;
        }
        starts[extents.size()] = pos;
        this.size = pos;
    }

    /**
     * Makes this child disk read its unallocated grains from {@code p} (and copy them up on a
     * partial write); the disk closes {@code p} when it closes.
     */
    VmdkDisk withParent(VirtualDisk p) {
        this.parent = p;
        for (int i = 0; i < extents.size(); i++) {
            if (extents.get(i) instanceof SparseExtent s) {
                long base = starts[i];
                s.setBacking((off, dst) -> readParent(base + off, dst));
            }
        }
        return this;
    }

    /** Reads the parent at {@code offset}; what lies past the parent's end reads as zeros. */
    private void readParent(long offset, ByteBuffer dst) throws IOException {
        long available = Math.max(0, Math.min(dst.remaining(), parent.size() - offset));
        if (available > 0) {
            int limit = dst.limit();
            dst.limit(dst.position() + (int) available);
            parent.read(offset, dst);
            dst.limit(limit);
        }
        Zeros.fill(dst);
    }

    /** Renews the CID on the first write of this session (for disks opened, not created). */
    VmdkDisk renewContentIdOnWrite(ContentIdRenewer r) {
        this.renewer = r;
        return this;
    }

    Descriptor descriptor() {
        return descriptor;
    }

    List<VmdkExtent> extentList() {
        return extents;
    }

    @Override
    public long size() {
        return size;
    }

    private void checkRange(long offset, long length) throws ImageFormatException {
        if (closed) {
            throw new ImageFormatException("VMDK disk is closed");
        }
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new ImageFormatException("access " + offset + "+" + length + " outside the disk's " + size + " bytes");
        }
    }

    /** The index of the extent holding byte {@code offset}. */
    private int extentAt(long offset) {
        int lo = 0;
        int hi = extents.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= offset) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        long pos = offset;
        while (dst.hasRemaining()) {
            int i = extentAt(pos);
            int n = (int) Math.min(dst.remaining(), starts[i + 1] - pos);
            int limit = dst.limit();
            dst.limit(dst.position() + n);
            extents.get(i).read(pos - starts[i], dst);
            dst.limit(limit);
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new ImageFormatException("VMDK disk is open read-only");
        }
        checkRange(offset, src.remaining());
        if (renewer != null) {
            renewer.renew();
        }
        long pos = offset;
        while (src.hasRemaining()) {
            int i = extentAt(pos);
            int n = (int) Math.min(src.remaining(), starts[i + 1] - pos);
            int limit = src.limit();
            src.limit(src.position() + n);
            extents.get(i).write(pos - starts[i], src);
            src.limit(limit);
            pos += n;
        }
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        long end = Math.min(to, size);
        RunBuilder out = new RunBuilder();
        long pos = Math.max(0, from);
        while (pos < end) {
            int i = extentAt(pos);
            long stop = Math.min(end, starts[i + 1]);
            extents.get(i).map(pos - starts[i], stop - starts[i], starts[i], out);
            pos = stop;
        }
        return out.build();
    }

    @Override
    public void flush() throws IOException {
        for (VmdkExtent e : extents) {
            e.flush();
        }
    }

    /** A child disk's unallocated grains are its parent's (a descriptor's parentFileNameHint). */
    @Override
    public boolean hasBacking() {
        return parent != null || descriptor.parentFileNameHint() != null;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public ImageInfo info() throws IOException {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("create type", descriptor.createType());
        String adapter = descriptor.ddb().get("ddb.adapterType");
        if (adapter != null) {
            details.put("adapter type", adapter);
        }
        String hw = descriptor.ddb().get("ddb.virtualHWVersion");
        if (hw != null) {
            details.put("hardware version", hw);
        }
        details.put("cid", String.format("%08x", descriptor.cid()));
        details.put("parent cid", String.format("%08x", descriptor.parentCid()));
        SparseExtent firstSparse = null;
        List<Map<String, Object>> extentLines = new ArrayList<>();
        for (VmdkExtent e : extents) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("type", e.type());
            one.put("size", e.sectors() * VmdkConstants.SECTOR);
            if (e.fileName() != null) {
                one.put("file", e.fileName());
            }
            extentLines.add(one);
            if (firstSparse == null && e instanceof SparseExtent s) {
                firstSparse = s;
            }
        }
        if (firstSparse != null) {
            SparseExtentHeader h = firstSparse.header();
            details.put("header version", h.version());
            details.put("grain size", h.grainBytes());
            details.put("compressed", h.compressed());
        }
        details.put("extents", extentLines);
        List<ImageInfo.Reference> refs = new ArrayList<>();
        for (Path p : extentFiles) {
            if (!p.equals(path)) {
                refs.add(new ImageInfo.Reference("extent", p.toString(), "vmdk"));
            }
        }
        if (descriptor.parentFileNameHint() != null) {
            refs.add(new ImageInfo.Reference("parent", descriptor.parentFileNameHint(), "vmdk"));
        }
        long fileSize = 0;
        for (Path p : new java.util.LinkedHashSet<>(withSelf())) {
            fileSize += allocated(p);
        }
        return new ImageInfo("vmdk", size, fileSize, details, refs);
    }

    private List<Path> withSelf() {
        List<Path> all = new ArrayList<>();
        all.add(path);
        all.addAll(extentFiles);
        return all;
    }

    private static long allocated(Path p) throws IOException {
        return io.p2vkit.image.raw.SparseFiles.allocatedBytes(p);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        IOException first = null;
        for (VmdkExtent e : extents) {
            try {
                e.close();
            } catch (IOException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        if (parent != null) {
            try {
                parent.close();
            } catch (IOException ex) {
                if (first == null) {
                    first = ex;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
