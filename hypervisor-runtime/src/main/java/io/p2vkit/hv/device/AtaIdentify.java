package io.p2vkit.hv.device;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 256-word IDENTIFY DEVICE block of our ATA disk (ATA/ATAPI-6 §8.15.8, table 27): a fixed
 * disk with LBA28 and LBA48, READ/WRITE MULTIPLE up to {@link Ide#MAX_MULTIPLE}, PIO modes 3-4
 * and no DMA, so guests choose PIO.
 */
final class AtaIdentify {

    private AtaIdentify() {
    }

    /** Writes the block for a disk of {@code sectors} 512-byte sectors into {@code b[0..512)}. */
    static void fill(byte[] b, long sectors, int multiple, String serial) {
        Arrays.fill(b, 0, Ide.SECTOR, (byte) 0);
        long cyl = Math.min(sectors / (Ide.HEADS * Ide.SECTORS_PER_TRACK), 16383);
        long lba28 = Math.min(sectors, 0x0FFF_FFFF);
        long chs = cyl * Ide.HEADS * Ide.SECTORS_PER_TRACK;
        word(b, 0, 0x0040);                 // fixed disk
        word(b, 1, (int) cyl);
        word(b, 3, Ide.HEADS);
        word(b, 6, Ide.SECTORS_PER_TRACK);
        text(b, 10, 20, serial);
        text(b, 23, 8, "1.0");
        text(b, 27, 40, "P2VKIT HARDDISK");
        word(b, 47, 0x8000 | Ide.MAX_MULTIPLE);
        word(b, 49, 0x0200);                // LBA supported; no DMA
        word(b, 50, 0x4000);
        word(b, 53, 0x0007);                // words 54-58, 64-70 and 88 are valid
        word(b, 54, (int) cyl);
        word(b, 55, Ide.HEADS);
        word(b, 56, Ide.SECTORS_PER_TRACK);
        word(b, 57, (int) chs);
        word(b, 58, (int) (chs >> 16));
        word(b, 59, 0x0100 | multiple);     // current READ/WRITE MULTIPLE setting is valid
        word(b, 60, (int) lba28);
        word(b, 61, (int) (lba28 >> 16));
        word(b, 64, 0x0003);                // PIO modes 3 and 4
        for (int w = 65; w <= 68; w++) {
            word(b, w, 120);                // cycle times, ns
        }
        word(b, 80, 0x007E);                // ATA-1 .. ATA-6
        word(b, 82, 0x4000);
        word(b, 83, 0x7400);                // LBA48, FLUSH CACHE (EXT)
        word(b, 84, 0x4000);
        word(b, 85, 0x4000);
        word(b, 86, 0x3400);
        word(b, 87, 0x4000);
        for (int i = 0; i < 4; i++) {
            word(b, 100 + i, (int) (sectors >> (16 * i)));   // LBA48 capacity
        }
    }

    private static void word(byte[] b, int index, int v) {
        b[2 * index] = (byte) v;
        b[2 * index + 1] = (byte) (v >> 8);
    }

    /** ATA strings: space padded, two characters per word, first character in the high byte. */
    private static void text(byte[] b, int word, int len, String s) {
        byte[] t = String.format("%-" + len + "s", s).substring(0, len).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < len; i += 2) {
            b[2 * word + i] = t[i + 1];
            b[2 * word + i + 1] = t[i];
        }
    }
}
