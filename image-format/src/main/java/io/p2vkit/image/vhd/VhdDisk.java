package io.p2vkit.image.vhd;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;
import io.p2vkit.image.raw.SparseFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.p2vkit.image.vhd.VhdConstants.FOOTER_SIZE;

/**
 * An open VHD: fixed (the data, then the footer), dynamic (blocks through a BAT) or
 * differencing (a dynamic disk over a parent VHD). Thread-safe: every access takes the disk's
 * lock, since block allocation and the bitmap cache are shared state.
 */
public final class VhdDisk implements VirtualDisk {

    private final Path path;
    private final ImageFile file;
    private final VhdLayout layout;
    /** Null for a fixed disk. */
    private final VhdBlocks blocks;
    /** The parent of a differencing disk, or null (not a differencing disk, or not followed). */
    private final VhdDisk parent;
    private final List<ImageInfo.Reference> references;
    private final DataWriter writer;
    private boolean modified;
    private boolean closed;

    private VhdDisk(Path path, ImageFile file, VhdLayout layout, VhdBat bat, long nextFree, VhdDisk parent,
                    List<ImageInfo.Reference> references) {
        this.path = path;
        this.file = file;
        this.layout = layout;
        this.parent = parent;
        this.references = List.copyOf(references);
        this.writer = new DataWriter(file);
        if (layout.isFixed()) {
            this.blocks = null;
        } else {
            VhdBlocks.Base base = layout.isDifferencing() ? this::readParent : (off, dst) -> Zeros.fill(dst);
            this.blocks = new VhdBlocks(file, writer, bat, layout.header.blockSize(), layout.isDifferencing(), base,
                    nextFree);
        }
    }

    /** Wraps an opened, checked file; {@code bat} is null for a fixed disk. */
    static VhdDisk of(Path path, ImageFile file, VhdLayout layout, VhdBat bat, long nextFree, VhdDisk parent,
                      List<ImageInfo.Reference> references) {
        return new VhdDisk(path, file, layout, bat, nextFree, parent, references);
    }

    /** Called by create(): the data area of a new fixed disk is one hole. */
    void markNew() {
        if (blocks == null) {
            writer.markFresh(0);
        }
    }

    /** The footer's unique id, which a differencing child records as its parent's. */
    public UUID uniqueId() {
        return layout.footer.uniqueId();
    }

    @Override
    public long size() {
        return layout.virtualSize;
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        if (blocks == null) {
            file.readFully(offset, dst, "fixed VHD data");
        } else {
            blocks.read(offset, dst);
        }
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        if (file.isReadOnly()) {
            throw new ImageFormatException("disk is open read-only");
        }
        checkRange(offset, src.remaining());
        modified = true;
        if (blocks == null) {
            writer.write(offset, src);
        } else {
            blocks.write(offset, src);
        }
    }

    private void readParent(long offset, ByteBuffer dst) throws IOException {
        if (parent == null) {
            throw new ImageFormatException("differencing VHD " + path + " was opened without its parent");
        }
        // A parent smaller than its child reads as zeros past its end.
        long have = Math.max(0, Math.min(dst.remaining(), parent.size() - offset));
        if (have > 0) {
            ByteBuffer part = dst.slice(dst.position(), (int) have);
            parent.read(offset, part);
            dst.position(dst.position() + (int) have);
        }
        Zeros.fill(dst);
    }

    private void checkRange(long offset, int length) throws ImageFormatException {
        if (closed) {
            throw new ImageFormatException("disk " + path + " is closed");
        }
        if (offset < 0 || length < 0 || offset > size() - length) {
            throw new ImageFormatException("access " + offset + "+" + length + " outside the disk's " + size()
                    + " bytes");
        }
    }

    @Override
    public synchronized List<Extent> extents(long from, long to) throws IOException {
        long end = Math.min(to, size());
        if (from >= end) {
            return List.of();
        }
        if (blocks != null) {
            return blocks.extents(from, end);
        }
        List<Extent> out = new ArrayList<>();
        long pos = from;
        for (long[] r : SparseFiles.dataRegions(file.channel(), file.path(), from, end).data()) {
            if (r[0] > pos) {
                out.add(new Extent(pos, r[0] - pos, Extent.Kind.ZERO));
            }
            out.add(new Extent(r[0], r[1] - r[0], Extent.Kind.DATA));
            pos = r[1];
        }
        if (pos < end) {
            out.add(new Extent(pos, end - pos, Extent.Kind.ZERO));
        }
        return out;
    }

    /** Writes what changed (see {@link #writeMetadata}) and makes it durable. */
    @Override
    public synchronized void flush() throws IOException {
        if (file.isReadOnly() || !modified) {
            return;
        }
        writeMetadata();
        file.force();
        modified = false;
    }

    /**
     * Writes bitmaps, BAT entries and, when the file grew, the footer after the last block (and
     * its copy at offset 0 if that was damaged), so that the file is a complete VHD again.
     */
    private void writeMetadata() throws IOException {
        if (blocks != null) {
            blocks.flush();
            if (blocks.grew() || layout.usingCopy) {
                long at = blocks.nextFree();
                file.writeFully(at, ByteBuffer.wrap(layout.footerBytes));
                if (file.size() > at + FOOTER_SIZE) {
                    file.truncate(at + FOOTER_SIZE);
                }
                if (layout.copyState != VhdLayout.FooterState.VALID) {
                    file.writeFully(0, ByteBuffer.wrap(layout.footerBytes));
                }
            }
        }
    }

    /** A differencing disk's unallocated blocks are its parent's. */
    @Override
    public boolean hasBacking() {
        return layout.isDifferencing();
    }

    @Override
    public boolean isReadOnly() {
        return file.isReadOnly();
    }

    @Override
    public synchronized ImageInfo info() throws IOException {
        VhdFooter f = layout.footer;
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("subformat", f.diskTypeText());
        d.put("creator application", f.creatorAppText());
        d.put("creator version", f.creatorVersionText());
        d.put("creator host os", f.creatorOsText());
        d.put("disk geometry (c/h/s)", f.geometry().toString());
        d.put("size from", VhdSizeRule.describe(f));
        d.put("current size", f.currentSize());
        d.put("original size", f.originalSize());
        d.put("uuid", f.uniqueId().toString());
        d.put("saved state", f.savedState());
        if (blocks != null) {
            d.put("block size", layout.header.blockSize());
            d.put("allocated blocks", blocks.allocatedBlocks());
            d.put("footer copy", layout.usingCopy ? "used: the footer at the end is damaged"
                    : layout.copyMatches() ? "matches" : switch (layout.copyState) {
                        case VALID -> "differs from the footer";
                        case BAD_CHECKSUM -> "bad checksum";
                        case ABSENT -> "absent";
                    });
        }
        if (layout.isDifferencing()) {
            d.put("parent uuid", layout.header.parentUniqueId().toString());
            d.put("parent name", layout.header.parentName());
        }
        return new ImageInfo("vpc", size(), SparseFiles.allocatedBytes(path), d, references);
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            // Like the raw driver, close leaves durability to flush(): the conversion engine
            // flushes once before it renames its output, and an fsync per image is its call.
            if (!file.isReadOnly() && modified) {
                writeMetadata();
            }
        } finally {
            closed = true;
            try {
                file.close();
            } finally {
                if (parent != null) {
                    parent.close();
                }
            }
        }
    }
}
