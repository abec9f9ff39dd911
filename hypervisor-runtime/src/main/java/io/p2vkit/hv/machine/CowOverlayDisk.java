package io.p2vkit.hv.machine;

import io.p2vkit.image.Extent;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A copy-on-write layer over a disk that must not change: guest writes land in 64 KiB blocks of
 * a temporary file (deleted on close), reads come from the overlay where a block was written and
 * from the base disk elsewhere. The base is only ever read, so verifying a boot leaves the image
 * byte-identical. Memory use is one map entry per written block.
 */
public final class CowOverlayDisk implements VirtualDisk {

    static final int BLOCK = 64 * 1024;

    private final VirtualDisk base;
    private final Path file;
    private final FileChannel overlay;
    private final Map<Long, Long> blocks = new HashMap<>();   // block index → offset in the overlay file
    private long overlayEnd;
    private long writes;

    public CowOverlayDisk(VirtualDisk base) throws IOException {
        this.base = base;
        this.file = Files.createTempFile("p2vkit-overlay-", ".cow");
        this.overlay = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE);
    }

    @Override
    public long size() {
        return base.size();
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        check(offset, dst.remaining());
        while (dst.hasRemaining()) {
            long block = offset / BLOCK;
            int inBlock = (int) (offset % BLOCK);
            int n = Math.min(dst.remaining(), BLOCK - inBlock);
            ByteBuffer part = dst.slice(dst.position(), n);
            Long at = blocks.get(block);
            if (at == null) {
                base.read(offset, part);
            } else {
                readFully(at + inBlock, part);
            }
            dst.position(dst.position() + n);
            offset += n;
        }
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        check(offset, src.remaining());
        while (src.hasRemaining()) {
            long block = offset / BLOCK;
            int inBlock = (int) (offset % BLOCK);
            int n = Math.min(src.remaining(), BLOCK - inBlock);
            Long at = blocks.get(block);
            if (at == null) {
                at = allocate(block);
            }
            ByteBuffer part = src.slice(src.position(), n);
            long pos = at + inBlock;
            while (part.hasRemaining()) {
                pos += overlay.write(part, pos);
            }
            src.position(src.position() + n);
            offset += n;
            writes++;
        }
    }

    /** Copies the base block into a fresh overlay block (the guest may write only part of it). */
    private long allocate(long block) throws IOException {
        long start = block * BLOCK;
        int len = (int) Math.min(BLOCK, base.size() - start);
        ByteBuffer copy = ByteBuffer.allocate(BLOCK);
        copy.limit(len);
        base.read(start, copy);
        copy.clear();
        long at = overlayEnd;
        long pos = at;
        while (copy.hasRemaining()) {
            pos += overlay.write(copy, pos);
        }
        overlayEnd += BLOCK;
        blocks.put(block, at);
        return at;
    }

    private void readFully(long pos, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            int r = overlay.read(dst, pos);
            if (r < 0) {
                throw new IOException("overlay file shorter than its map");
            }
            pos += r;
        }
    }

    private void check(long offset, long len) throws IOException {
        if (offset < 0 || len < 0 || offset > size() - len) {
            throw new IOException("access " + offset + "+" + len + " outside a disk of " + size() + " bytes");
        }
    }

    @Override
    public List<Extent> extents(long from, long to) throws IOException {
        if (blocks.isEmpty()) {
            return base.extents(from, to);
        }
        return List.of(new Extent(from, to - from, Extent.Kind.DATA));   // conservative once written
    }

    @Override
    public void flush() {
        // Nothing to make durable: the overlay is thrown away with the machine.
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public ImageInfo info() throws IOException {
        return base.info();
    }

    /** Blocks the guest has written. */
    public synchronized int dirtyBlocks() {
        return blocks.size();
    }

    public synchronized long writes() {
        return writes;
    }

    /** Drops the overlay; the base disk stays open (its owner closes it). */
    @Override
    public synchronized void close() throws IOException {
        overlay.close();
        Files.deleteIfExists(file);
    }
}
