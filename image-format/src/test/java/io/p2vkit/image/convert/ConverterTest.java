package io.p2vkit.image.convert;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.compare.DiskComparator;
import io.p2vkit.image.raw.RawFormat;
import io.p2vkit.image.raw.SparseFiles;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConverterTest {

    @TempDir
    Path dir;

    @Test
    void rawToRawIsIdenticalAndSparse() throws Exception {
        Path src = TestDisks.mixed(dir.resolve("src.raw"), TestDisks.ODD_SIZE, 1 << 20, 42);
        Path dst = dir.resolve("dst.raw");
        AtomicLong last = new AtomicLong();
        try (VirtualDisk s = Formats.get().open(src, OpenOptions.READ_ONLY)) {
            Converter.Result r = Converter.convert(s, new RawFormat(), dst, CreateOptions.none(), false,
                    (done, total) -> last.set(done));
            assertEquals(TestDisks.ODD_SIZE, r.virtualSize());
            assertTrue(r.bytesWritten() < r.bytesRead(), "written zeros must be dropped: " + r);
        }
        assertEquals(TestDisks.ODD_SIZE, last.get());
        assertEquals(TestDisks.ODD_SIZE, Files.size(dst));
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(dst));
        assertTrue(SparseFiles.allocatedBytes(dst) < SparseFiles.allocatedBytes(src),
                "zero chunks become holes in the output");
        if (Tools.available("qemu-img")) {
            assertEquals(0, Tools.qemuImg("compare", "-f", "raw", "-F", "raw", src.toString(), dst.toString()).exit());
        }
    }

    @Test
    void existingOutputIsRefusedAndKept() throws Exception {
        Path src = TestDisks.mixed(dir.resolve("s.raw"), 3 << 20, 1 << 20, 7);
        Path dst = dir.resolve("d.raw");
        Files.writeString(dst, "precious");
        try (VirtualDisk s = Formats.get().open(src, OpenOptions.READ_ONLY)) {
            assertThrows(FileAlreadyExistsException.class, () -> Converter.convert(s, new RawFormat(), dst,
                    CreateOptions.none(), false, ProgressListener.NONE));
            assertEquals("precious", Files.readString(dst));
            Converter.convert(s, new RawFormat(), dst, CreateOptions.none(), true, ProgressListener.NONE);
        }
        assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(dst));
        assertEquals(List.of("d.raw", "s.raw"), listing());
    }

    @Test
    void failedConversionLeavesNothingBehind() throws Exception {
        Path src = TestDisks.mixed(dir.resolve("s.raw"), 3 << 20, 1 << 20, 9);
        try (VirtualDisk s = Formats.get().open(src, OpenOptions.READ_ONLY)) {
            VirtualDisk failing = new FailingReads(s);
            assertThrows(IOException.class, () -> Converter.convert(failing, new RawFormat(),
                    dir.resolve("out.raw"), CreateOptions.none(), false, ProgressListener.NONE));
        }
        assertEquals(List.of("s.raw"), listing());
    }

    @Test
    void hugeSparseDiskConvertsInTimeProportionalToData() throws Exception {
        Path src = dir.resolve("huge.raw");
        long size = 4L << 40; // 4 TiB, one MiB of data
        try (VirtualDisk d = new RawFormat().create(src, size, CreateOptions.none())) {
            byte[] data = new byte[1 << 20];
            java.util.Arrays.fill(data, (byte) 0x5A);
            d.write(size / 2, ByteBuffer.wrap(data));
        }
        Path dst = dir.resolve("huge-out.raw");
        try (VirtualDisk s = Formats.get().open(src, OpenOptions.READ_ONLY)) {
            Converter.Result r = Converter.convert(s, new RawFormat(), dst, CreateOptions.none(), false,
                    ProgressListener.NONE);
            assertTrue(r.bytesRead() <= 2 << 20, "read only the data: " + r);
        }
        try (VirtualDisk a = Formats.get().open(src, OpenOptions.READ_ONLY);
             VirtualDisk b = Formats.get().open(dst, OpenOptions.READ_ONLY)) {
            assertTrue(DiskComparator.compare(a, b, ProgressListener.NONE).identical());
        }
    }

    private List<String> listing() throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A disk whose reads fail past its first MiB, to test clean-up after a failure. */
    private record FailingReads(VirtualDisk inner) implements VirtualDisk {
        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            if (offset >= 1 << 20) {
                throw new IOException("simulated read error");
            }
            inner.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            inner.write(offset, src);
        }

        @Override
        public List<io.p2vkit.image.Extent> extents(long from, long to) throws IOException {
            return inner.extents(from, to);
        }

        @Override
        public void flush() throws IOException {
            inner.flush();
        }

        @Override
        public boolean isReadOnly() {
            return true;
        }

        @Override
        public io.p2vkit.image.ImageInfo info() throws IOException {
            return inner.info();
        }

        @Override
        public void close() {
            // the wrapped disk is closed by the test's try-with-resources
        }
    }
}
