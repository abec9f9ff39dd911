package io.p2vkit.image.compare;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.raw.RawFormat;
import io.p2vkit.image.testing.TestDisks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskComparatorTest {

    @TempDir
    Path dir;

    private DiskComparator.Result compare(Path a, Path b) throws Exception {
        try (VirtualDisk da = Formats.get().open(a, OpenOptions.READ_ONLY);
             VirtualDisk db = Formats.get().open(b, OpenOptions.READ_ONLY)) {
            return DiskComparator.compare(da, db, ProgressListener.NONE);
        }
    }

    @Test
    void findsTheFirstDifferingByte() throws Exception {
        Path a = TestDisks.mixed(dir.resolve("a.raw"), 5 << 20, 1 << 20, 3);
        Path b = Files.copy(a, dir.resolve("b.raw"), StandardCopyOption.COPY_ATTRIBUTES);
        assertTrue(compare(a, b).identical());
        long where = (3 << 20) + 12345;
        try (RandomAccessFile f = new RandomAccessFile(b.toFile(), "rw")) {
            f.seek(where);
            int old = f.read();
            f.seek(where);
            f.write(old ^ 0x10);
        }
        DiskComparator.Result r = compare(a, b);
        assertFalse(r.identical());
        assertEquals(where, r.firstDifference());
    }

    @Test
    void sizesDifferButTheTailIsZero() throws Exception {
        Path a = TestDisks.mixed(dir.resolve("a.raw"), 2 << 20, 1 << 20, 5);
        Path b = dir.resolve("b.raw");
        try (VirtualDisk d = new RawFormat().create(b, 3 << 20, CreateOptions.none());
             VirtualDisk src = Formats.get().open(a, OpenOptions.READ_ONLY)) {
            ByteBuffer all = ByteBuffer.allocate(2 << 20);
            src.read(0, all);
            d.write(0, all.flip());
        }
        DiskComparator.Result r = compare(a, b);
        assertTrue(r.identical());
        assertTrue(r.sizeMismatch());
        try (VirtualDisk d = Formats.get().open(b, OpenOptions.READ_WRITE)) {
            d.write((3 << 20) - 1, ByteBuffer.wrap(new byte[] {1}));
        }
        r = compare(a, b);
        assertFalse(r.identical());
        assertEquals((3 << 20) - 1, r.firstDifference());
    }
}
