package io.p2vkit.image.raw;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RawDiskTest {

    @TempDir
    Path dir;

    @Test
    void newImageIsOneHoleAndReadsZeros() throws Exception {
        Path f = dir.resolve("a.raw");
        try (VirtualDisk d = new RawFormat().create(f, 8 << 20, CreateOptions.none())) {
            assertEquals(8 << 20, d.size());
            assertEquals(List.of(new Extent(0, 8 << 20, Extent.Kind.ZERO)), d.extents(0, d.size()));
            ByteBuffer b = ByteBuffer.allocate(4096);
            d.read(4096, b);
            b.flip();
            assertTrue(java.util.stream.IntStream.range(0, 4096).allMatch(i -> b.get(i) == 0));
        }
        assertEquals(8 << 20, Files.size(f));
        assertTrue(SparseFiles.allocatedBytes(f) < 64 * 1024, "a new raw image must stay sparse");
    }

    @Test
    void writtenDataIsReadBackAndReportedAsData() throws Exception {
        Path f = dir.resolve("b.raw");
        byte[] data = new byte[1 << 20];
        new java.util.Random(1).nextBytes(data);
        try (VirtualDisk d = new RawFormat().create(f, 16 << 20, CreateOptions.none())) {
            d.write(4 << 20, ByteBuffer.wrap(data));
        }
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            ByteBuffer b = ByteBuffer.allocate(data.length);
            d.read(4 << 20, b);
            assertArrayEquals(data, b.array());
            List<Extent> ext = d.extents(0, d.size());
            assertEquals(Extent.Kind.ZERO, ext.get(0).kind());
            Extent mid = ext.stream().filter(Extent::holdsData).findFirst().orElseThrow();
            assertTrue(mid.offset() <= 4 << 20 && mid.end() >= (5 << 20), mid.toString());
            assertThrows(ImageFormatException.class, () -> d.write(0, ByteBuffer.allocate(1)));
        }
    }

    @Test
    void accessesOutsideTheDiskAreRefused() throws Exception {
        Path f = dir.resolve("c.raw");
        try (VirtualDisk d = new RawFormat().create(f, 1024, CreateOptions.none())) {
            assertThrows(ImageFormatException.class, () -> d.read(1000, ByteBuffer.allocate(100)));
            assertThrows(ImageFormatException.class, () -> d.read(-1, ByteBuffer.allocate(1)));
            assertThrows(ImageFormatException.class, () -> d.write(Long.MAX_VALUE - 1, ByteBuffer.allocate(4)));
        }
    }

    @Test
    void unknownCreateOptionIsAnError() {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> new RawFormat().create(dir.resolve("d.raw"), 1024, CreateOptions.parse("bogus=1")));
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
    }
}
