package io.p2vkit.image.vmdk;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.Zeros;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared steps of the VMDK tests: writing a raw disk the way the conversion engine does, comparing. */
final class VmdkTestSupport {

    static final int CHUNK = 4 << 20;
    static final int GRAIN = 64 << 10;

    private VmdkTestSupport() {
    }

    /**
     * Copies {@code raw} into a new VMDK as the conversion engine does: ascending chunks of up to
     * 4 MiB, skipping all-zero grains and the raw file's holes, then close().
     */
    static void convert(Path raw, Path vmdk, String options) throws IOException {
        try (VirtualDisk src = Formats.get().open(raw, "raw", OpenOptions.READ_ONLY);
             VirtualDisk dst = new VmdkFormat().create(vmdk, src.size(), CreateOptions.parse(options))) {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            for (Extent e : src.extents(0, src.size())) {
                if (e.kind() != Extent.Kind.DATA) {
                    continue;
                }
                for (long pos = e.offset(); pos < e.end(); pos += CHUNK) {
                    int n = (int) Math.min(CHUNK, e.end() - pos);
                    buf.clear().limit(n);
                    src.read(pos, buf);
                    writeNonZeroRuns(dst, pos, buf.flip());
                }
            }
        }
    }

    /** Writes the runs of {@code buf} (disk offset {@code at}) that are not all-zero grains. */
    static void writeNonZeroRuns(VirtualDisk dst, long at, ByteBuffer buf) throws IOException {
        int n = buf.remaining();
        int runStart = -1;
        int p = 0;
        while (p < n) {
            long abs = at + p;
            int len = (int) Math.min(n - p, GRAIN - abs % GRAIN);
            boolean zero = Zeros.isZero(buf, p, len);
            if (!zero && runStart < 0) {
                runStart = p;
            }
            if (zero && runStart >= 0) {
                dst.write(at + runStart, buf.slice(runStart, p - runStart));
                runStart = -1;
            }
            p += len;
        }
        if (runStart >= 0) {
            dst.write(at + runStart, buf.slice(runStart, n - runStart));
        }
    }

    /** Asserts that {@code disk} reads exactly as the raw file does. */
    static void assertSameAsRaw(Path raw, VirtualDisk disk) throws IOException {
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
            assertEquals(ch.size(), disk.size(), "virtual size");
            ByteBuffer a = ByteBuffer.allocateDirect(CHUNK);
            ByteBuffer b = ByteBuffer.allocateDirect(CHUNK);
            for (long pos = 0; pos < ch.size(); pos += CHUNK) {
                int n = (int) Math.min(CHUNK, ch.size() - pos);
                a.clear().limit(n);
                b.clear().limit(n);
                while (a.hasRemaining()) {
                    if (ch.read(a, pos + a.position()) < 0) {
                        fail("raw file ended early");
                    }
                }
                disk.read(pos, b);
                int mismatch = a.flip().mismatch(b.flip());
                if (mismatch >= 0) {
                    fail("content differs at byte " + (pos + mismatch));
                }
            }
        }
    }

    /** Reads the whole disk, discarding the bytes (for damaged images). */
    static void readAll(VirtualDisk disk) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (Extent e : disk.extents(0, disk.size())) {
            for (long pos = e.offset(); pos < e.end(); pos += b.capacity()) {
                b.clear().limit((int) Math.min(b.capacity(), e.end() - pos));
                disk.read(pos, b);
            }
        }
    }
}
