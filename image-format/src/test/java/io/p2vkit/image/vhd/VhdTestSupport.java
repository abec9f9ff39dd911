package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.io.Zeros;
import io.p2vkit.image.raw.RawFormat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Writes raw files into disks the way the conversion engine does, compares contents, patches bytes. */
final class VhdTestSupport {

    static final int CHUNK = 4 << 20;

    private VhdTestSupport() {
    }

    /**
     * Creates {@code out} from the raw file as the conversion engine does: the source's data
     * extents only (holes skipped), in ascending chunks of up to 4 MiB, all-zero chunks skipped.
     */
    static void convert(Path raw, Path out, CreateOptions options) throws IOException {
        try (VirtualDisk in = new RawFormat().open(raw, OpenOptions.READ_ONLY, Formats.get());
             VirtualDisk disk = new VhdFormat().create(out, in.size(), options)) {
            copyInto(in, disk);
        }
    }

    static void copyInto(VirtualDisk in, VirtualDisk disk) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        for (Extent e : in.extents(0, in.size())) {
            if (!e.holdsData()) {
                continue;
            }
            for (long pos = e.offset(); pos < e.end(); pos += CHUNK) {
                int n = (int) Math.min(CHUNK, e.end() - pos);
                buf.clear().limit(n);
                in.read(pos, buf);
                buf.flip();
                if (!Zeros.isZero(buf)) {
                    disk.write(pos, buf);
                }
            }
        }
    }

    /**
     * Asserts that {@code disk} reads as the raw file, followed by zeros up to
     * {@code expectedSize} (a VHD's size may be rounded up to a geometry).
     */
    static void assertSameContent(Path raw, VirtualDisk disk, long expectedSize) throws IOException {
        assertEquals(expectedSize, disk.size(), "virtual size");
        try (FileChannel in = FileChannel.open(raw, StandardOpenOption.READ)) {
            long rawSize = in.size();
            ByteBuffer a = ByteBuffer.allocate(CHUNK);
            ByteBuffer b = ByteBuffer.allocate(CHUNK);
            for (long pos = 0; pos < expectedSize; pos += CHUNK) {
                int n = (int) Math.min(CHUNK, expectedSize - pos);
                a.clear().limit(n);
                if (pos < rawSize) {
                    a.limit((int) Math.min(n, rawSize - pos));
                    while (a.hasRemaining() && in.read(a, pos + a.position()) >= 0) {
                        // fill
                    }
                    a.limit(n);
                }
                Zeros.fill(a);
                a.flip();
                b.clear().limit(n);
                disk.read(pos, b);
                b.flip();
                int at = a.mismatch(b);
                if (at >= 0) {
                    fail("content differs at byte " + (pos + at));
                }
            }
        }
    }

    /** Reads the whole disk (to prove every read path works on it). */
    static void readAll(VirtualDisk disk) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (long pos = 0; pos < disk.size(); pos += b.capacity()) {
            b.clear().limit((int) Math.min(b.capacity(), disk.size() - pos));
            disk.read(pos, b);
        }
    }

    /** Entry {@code i} of the BAT at its usual place (1536). */
    static int batEntry(Path f, int i) throws IOException {
        try (ImageFile file = ImageFile.openRead(f)) {
            return file.read(1536 + 4L * i, 4, "bat").order(ByteOrder.BIG_ENDIAN).getInt();
        }
    }

    static void setBatEntry(Path f, int i, int value) throws IOException {
        write(f, 1536 + 4L * i, ByteBuffer.allocate(4).putInt(value).array());
    }

    static void flip(Path f, long at) throws IOException {
        try (ImageFile file = ImageFile.open(f, false)) {
            ByteBuffer b = file.read(at, 1, "byte");
            file.writeFully(at, ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x40)}));
        }
    }

    static void write(Path f, long at, byte[] bytes) throws IOException {
        if (!Files.exists(f)) {
            Files.createFile(f);
        }
        try (ImageFile file = ImageFile.open(f, false)) {
            file.writeFully(at, ByteBuffer.wrap(bytes));
        }
    }
}
