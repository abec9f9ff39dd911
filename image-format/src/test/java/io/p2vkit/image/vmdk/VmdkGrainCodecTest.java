package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Grain compression: round trips, short last grains, damaged and oversized streams. */
class VmdkGrainCodecTest {

    private static final int GRAIN = 65536;

    private static byte[] text(int n) {
        byte[] b = new byte[n];
        Random r = new Random(1);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) "etaoin shrdlu\n".charAt(r.nextInt(14));
        }
        return b;
    }

    private static byte[] compress(byte[] in, int level) {
        byte[] out = new byte[GrainCodec.maxCompressed(GRAIN) + 12];
        int n = GrainCodec.deflate(new Deflater(level), in, in.length, out, 0);
        return Arrays.copyOf(out, n);
    }

    @Test
    void roundTripAtEveryLevelWeUse() throws ImageFormatException {
        byte[] in = text(GRAIN);
        for (int level : new int[]{Deflater.NO_COMPRESSION, Deflater.BEST_SPEED, Deflater.DEFAULT_COMPRESSION}) {
            byte[] c = compress(in, level);
            byte[] out = new byte[GRAIN];
            GrainCodec.inflate(c, c.length, out, 0);
            assertArrayEquals(in, out, "level " + level);
        }
    }

    @Test
    void shortLastGrainReadsAsZerosAfterItsData() throws ImageFormatException {
        byte[] c = compress(text(512), Deflater.BEST_SPEED);
        byte[] out = new byte[GRAIN];
        Arrays.fill(out, (byte) 9);
        GrainCodec.inflate(c, c.length, out, 0);
        assertArrayEquals(text(512), Arrays.copyOf(out, 512));
        for (int i = 512; i < GRAIN; i++) {
            assertEquals(0, out[i]);
        }
    }

    @Test
    void refusesDamage() {
        byte[] c = compress(text(GRAIN), Deflater.BEST_SPEED);
        assertThrows(ImageFormatException.class, () -> GrainCodec.inflate(c, c.length / 2, new byte[GRAIN], 0), "cut short");
        byte[] bad = c.clone();
        bad[0] = 0x13;
        assertThrows(ImageFormatException.class, () -> GrainCodec.inflate(bad, bad.length, new byte[GRAIN], 0), "bad header");
        byte[] big = new byte[GRAIN * 2];
        byte[] cb = new byte[GRAIN * 3];
        int n = GrainCodec.deflate(new Deflater(1), big, big.length, cb, 0);
        assertThrows(ImageFormatException.class, () -> GrainCodec.inflate(cb, n, new byte[GRAIN], 0), "more than a grain");
    }

    @Test
    void randomDataIsStoredTextIsDeflated() {
        byte[] random = new byte[GRAIN];
        new Random(2).nextBytes(random);
        assertTrue(GrainCodec.looksIncompressible(random, GRAIN));
        assertFalse(GrainCodec.looksIncompressible(text(GRAIN), GRAIN));
        assertFalse(GrainCodec.looksIncompressible(new byte[GRAIN], GRAIN));
    }
}
