package io.p2vkit.agent.capture;

import io.p2vkit.agent.fs.ByteRanges;
import io.p2vkit.image.Extent;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class UsedRegionsDiskTest {

    @TempDir
    Path dir;

    private Path noise(int size) throws Exception {
        byte[] b = new byte[size];
        new Random(11).nextBytes(b);
        return Files.write(dir.resolve("noise.raw"), b);
    }

    @Test
    void freeBytesReadAsZerosAndAreZeroExtents() throws Exception {
        Path f = noise(64 * 1024);
        ByteRanges used = new ByteRanges().add(4096, 8192).add(20000, 30000).add(60000, 65536);
        byte[] original = Files.readAllBytes(f);
        try (VirtualDisk d = new UsedRegionsDisk(new RawFormat().open(f, OpenOptions.READ_ONLY, null), used)) {
            ByteBuffer all = ByteBuffer.allocate(65536);
            d.read(0, all);
            byte[] expect = new byte[65536];
            for (int i = 0; i < used.count(); i++) {
                System.arraycopy(original, (int) used.start(i), expect, (int) used.start(i),
                        (int) (used.end(i) - used.start(i)));
            }
            assertArrayEquals(expect, all.array());
            // An unaligned read in the middle sees the same.
            ByteBuffer part = ByteBuffer.allocate(15000);
            d.read(7000, part);
            assertArrayEquals(Arrays.copyOfRange(expect, 7000, 22000), part.array());
            assertEquals(List.of(new Extent(0, 4096, Extent.Kind.ZERO), new Extent(4096, 4096, Extent.Kind.DATA),
                    new Extent(8192, 11808, Extent.Kind.ZERO), new Extent(20000, 10000, Extent.Kind.DATA),
                    new Extent(30000, 30000, Extent.Kind.ZERO), new Extent(60000, 5536, Extent.Kind.DATA)),
                    d.extents(0, 65536));
        }
    }

    @Test
    void contentDigestIsThePlainSha256WithGapsAsZeros() throws Exception {
        byte[] disk = new byte[3 * (1 << 20) + 1234];
        new Random(3).nextBytes(disk);
        Arrays.fill(disk, 1 << 20, (2 << 20) + 77, (byte) 0);
        Arrays.fill(disk, disk.length - 500, disk.length, (byte) 0); // the tail after the last run
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(disk));
        try (ContentDigest d = new ContentDigest()) {
            d.data(0, ByteBuffer.wrap(disk, 0, 1000));
            d.data(1000, ByteBuffer.wrap(disk, 1000, (1 << 20) - 1000));
            d.data((2 << 20) + 77, ByteBuffer.wrap(disk, (2 << 20) + 77, disk.length - (2 << 20) - 77 - 500));
            assertEquals(expected, d.finish(disk.length));
        }
    }
}
