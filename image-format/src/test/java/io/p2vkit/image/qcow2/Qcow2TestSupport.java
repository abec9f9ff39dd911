package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.SparseFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared steps of the qcow2 tests: writing a raw file through our writer, comparing reads. */
final class Qcow2TestSupport {

    static final int CHUNK = 4 << 20;

    private Qcow2TestSupport() {
    }

    /**
     * Writes {@code raw} into a new qcow2 image as the conversion engine does: the file's data
     * regions only, ascending, in chunks of up to 4 MiB.
     */
    static void writeImage(Path raw, Path image, CreateOptions options) throws IOException {
        long size = Files.size(raw);
        try (FileChannel in = FileChannel.open(raw);
             VirtualDisk disk = new Qcow2Format().create(image, size, options)) {
            // Direct, as an engine moving data between files should: no copies through the heap.
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            for (long[] r : SparseFiles.dataRegions(in, raw, 0, size).data()) {
                for (long pos = r[0]; pos < r[1]; pos += CHUNK) {
                    int n = (int) Math.min(CHUNK, r[1] - pos);
                    buf.clear().limit(n);
                    while (buf.hasRemaining()) {
                        if (in.read(buf, pos + buf.position()) < 0) {
                            throw new IOException("short raw file");
                        }
                    }
                    buf.flip();
                    disk.write(pos, buf);
                }
            }
        }
    }

    /** Opens with the probing opener (backing files resolved through Formats). */
    static VirtualDisk open(Path image, OpenOptions options) throws IOException {
        return new Qcow2Format().open(image, options, Formats.get());
    }

    /** Fails unless {@code disk} reads exactly the bytes of {@code raw}. */
    static void assertSameBytes(Path raw, VirtualDisk disk) throws IOException {
        long size = Files.size(raw);
        assertEquals(size, disk.size(), "virtual size");
        ByteBuffer a = ByteBuffer.allocate(CHUNK);
        ByteBuffer b = ByteBuffer.allocate(CHUNK);
        try (FileChannel in = FileChannel.open(raw)) {
            for (long pos = 0; pos < size; pos += CHUNK) {
                int n = (int) Math.min(CHUNK, size - pos);
                a.clear().limit(n);
                while (a.hasRemaining() && in.read(a, pos + a.position()) >= 0) {
                    // fill
                }
                a.flip();
                b.clear().limit(n);
                disk.read(pos, b);
                b.flip();
                int at = a.mismatch(b);
                if (at >= 0) {
                    fail("bytes differ at offset " + (pos + at));
                }
            }
        }
    }

    /** Extents cover [0, size) without gaps; non-DATA runs read as zeros (no backing disk). */
    static void assertExtentsConsistent(VirtualDisk disk) throws IOException {
        List<Extent> ex = disk.extents(0, disk.size());
        long pos = 0;
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        for (Extent e : ex) {
            assertEquals(pos, e.offset(), "extents leave a gap");
            if (e.kind() != Extent.Kind.DATA) {
                for (long p = e.offset(); p < e.end(); p += buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), e.end() - p));
                    disk.read(p, buf);
                    buf.flip();
                    if (!io.p2vkit.image.io.Zeros.isZero(buf)) {
                        fail(e + " does not read as zeros");
                    }
                }
            }
            pos = e.end();
        }
        assertEquals(disk.size(), pos, "extents end");
    }
}
