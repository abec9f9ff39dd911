package io.p2vkit.image.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Makes damaged copies of a good image for mutation tests: bit flips and overwritten fields in
 * the regions that hold headers and tables, and truncations.
 */
public final class Mutator {

    private final byte[] original;
    private final long[][] hotRanges;
    private final Random rnd;

    /**
     * @param hotRanges {@code {offset, length}} pairs where the structures live (headers, tables,
     *                  descriptors); most mutations land there
     */
    public Mutator(Path good, long seed, long[]... hotRanges) throws IOException {
        this.original = Files.readAllBytes(good);
        this.hotRanges = hotRanges;
        this.rnd = new Random(seed);
    }

    /** Writes mutation number {@code i} of the good image to {@code out} and describes it. */
    public String mutate(int i, Path out) throws IOException {
        byte[] b = original.clone();
        String what;
        int kind = rnd.nextInt(10);
        if (kind == 0) {
            int len = rnd.nextInt(b.length + 1);
            Files.write(out, java.util.Arrays.copyOf(b, len));
            return "#" + i + " truncated to " + len;
        }
        int pos = hotOffset(b.length);
        if (kind < 5) {
            int bit = rnd.nextInt(8);
            b[pos] ^= (byte) (1 << bit);
            what = "#" + i + " flipped bit " + bit + " at " + pos;
        } else if (kind < 8) {
            int width = 1 << rnd.nextInt(4);
            long value = switch (rnd.nextInt(4)) {
                case 0 -> 0;
                case 1 -> -1;
                case 2 -> 0x7FFF_FFFFL;
                default -> rnd.nextLong();
            };
            for (int k = 0; k < width && pos + k < b.length; k++) {
                b[pos + k] = (byte) (value >>> (8 * k));
            }
            what = "#" + i + " overwrote " + width + " bytes at " + pos + " with " + Long.toHexString(value);
        } else {
            int src = hotOffset(b.length);
            int len = Math.min(8 + rnd.nextInt(56), Math.min(b.length - pos, b.length - src));
            System.arraycopy(original, src, b, pos, Math.max(0, len));
            what = "#" + i + " copied " + len + " bytes from " + src + " to " + pos;
        }
        Files.write(out, b);
        return what;
    }

    private int hotOffset(int length) {
        if (length == 0) {
            return 0;
        }
        if (hotRanges.length > 0 && rnd.nextInt(10) < 9) {
            long[] r = hotRanges[rnd.nextInt(hotRanges.length)];
            long off = r[0] + (r[1] > 0 ? (long) (rnd.nextDouble() * r[1]) : 0);
            return (int) Math.min(Math.max(off, 0), length - 1);
        }
        return rnd.nextInt(length);
    }
}
