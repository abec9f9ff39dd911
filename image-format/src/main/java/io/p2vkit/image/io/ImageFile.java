package io.p2vkit.image.io;

import io.p2vkit.image.ImageFormatException;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file channel with the checks every format needs: positional reads that either fill the
 * buffer or say which structure was cut short, and writes that always complete.
 */
public final class ImageFile implements Closeable {

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;

    private ImageFile(Path path, FileChannel channel, boolean readOnly) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
    }

    public static ImageFile openRead(Path path) throws IOException {
        return new ImageFile(path, FileChannel.open(path, StandardOpenOption.READ), true);
    }

    public static ImageFile open(Path path, boolean readOnly) throws IOException {
        return readOnly ? openRead(path)
                : new ImageFile(path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), false);
    }

    /** Creates a new file; fails if it exists. */
    public static ImageFile create(Path path) throws IOException {
        return new ImageFile(path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.CREATE_NEW), false);
    }

    public Path path() {
        return path;
    }

    public FileChannel channel() {
        return channel;
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    public long size() throws IOException {
        return channel.size();
    }

    /**
     * Fills {@code dst} from {@code position}; a file that ends first is damaged, and the message
     * names {@code what} was being read.
     */
    public void readFully(long position, ByteBuffer dst, String what) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new ImageFormatException(what + " is cut short: the file ends at " + channel.size()
                        + " bytes", position);
            }
            pos += n;
        }
    }

    /** Reads {@code length} bytes at {@code position} into a new little-endian buffer. */
    public ByteBuffer read(long position, int length, String what) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(position, buf, what);
        return buf.flip();
    }

    /** Reads what there is at {@code position}, up to {@code dst.remaining()}; returns the count. */
    public int readUpTo(long position, ByteBuffer dst) throws IOException {
        int total = 0;
        long pos = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                break;
            }
            pos += n;
            total += n;
        }
        return total;
    }

    public void writeFully(long position, ByteBuffer src) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    public void truncate(long size) throws IOException {
        channel.truncate(size);
    }

    /** Grows the file to {@code size} without writing data (the tail stays a hole). */
    public void extendTo(long size) throws IOException {
        if (channel.size() < size) {
            // RandomAccessFile.setLength extends with a hole; a FileChannel write would allocate a block.
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(size);
            }
        }
    }

    public void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
