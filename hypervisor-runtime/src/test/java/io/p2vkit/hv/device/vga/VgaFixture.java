package io.p2vkit.hv.device.vga;

import java.util.Random;

/**
 * Drives a {@link VgaCard} through its ports and memory window the way a VGA BIOS does: mode 3
 * register tables (the standard IBM VGA values), a DAC loaded with the 64 EGA colours, and a
 * font written into plane 2 in planar mode.
 */
final class VgaFixture {

    static final int[] MODE3_SEQ = {0x03, 0x00, 0x03, 0x00, 0x02};
    static final int[] MODE3_CRTC = {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E,
        0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF};
    static final int[] MODE3_GC = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x0F, 0xFF};
    static final int[] MODE3_ATTR = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B,
        0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00};

    final VgaCard card;
    long now;

    VgaFixture() {
        card = new VgaCard(() -> now);
    }

    void out(int port, int value) {
        card.ports().write(port - 0x3B0, 1, value);
    }

    void outw(int port, int value) {
        card.ports().write(port - 0x3B0, 2, value);
    }

    int in(int port) {
        return card.ports().read(port - 0x3B0, 1);
    }

    void poke(long physical, int value) {
        card.memoryWindow().write(physical - 0xA0000, 1, value);
    }

    int peek(long physical) {
        return (int) card.memoryWindow().read(physical - 0xA0000, 1);
    }

    void seq(int index, int value) {
        outw(0x3C4, index | value << 8);
    }

    void gc(int index, int value) {
        outw(0x3CE, index | value << 8);
    }

    void crtc(int index, int value) {
        outw(0x3D4, index | value << 8);
    }

    int crtcRead(int index) {
        out(0x3D4, index);
        return in(0x3D5);
    }

    void attr(int index, int value) {
        in(0x3DA);
        out(0x3C0, index);
        out(0x3C0, value);
        out(0x3C0, 0x20);   // palette source back on
    }

    /** Mode 3 (80x25, 9x16 cells) with the EGA palette in the DAC. */
    VgaFixture mode3() {
        out(0x3C2, 0x67);
        for (int i = 0; i < MODE3_SEQ.length; i++) {
            seq(i, MODE3_SEQ[i]);
        }
        crtc(0x11, 0x0E);   // unlock CRTC 0-7
        for (int i = 0; i < MODE3_CRTC.length; i++) {
            crtc(i, MODE3_CRTC[i]);
        }
        for (int i = 0; i < MODE3_GC.length; i++) {
            gc(i, MODE3_GC[i]);
        }
        in(0x3DA);
        for (int i = 0; i < MODE3_ATTR.length; i++) {
            out(0x3C0, i);
            out(0x3C0, MODE3_ATTR[i]);
        }
        out(0x3C0, 0x20);
        out(0x3C8, 0);
        for (int i = 0; i < 64; i++) {
            out(0x3C9, ((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
            out(0x3C9, ((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
            out(0x3C9, (i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
        }
        return this;
    }

    /** The DAC colour (0xRRGGBB) of EGA colour {@code i} as the renderer should show it. */
    static int egaRgb(int i) {
        int r = ((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15;
        int g = ((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15;
        int b = (i & 1) * 0x2A + ((i >> 3) & 1) * 0x15;
        return expand(r) << 16 | expand(g) << 8 | expand(b);
    }

    private static int expand(int v) {
        return v << 2 | v >> 4;
    }

    /** A random font of 256 glyphs of {@code height} lines, stored 32 bytes per glyph. */
    static byte[] randomFont(long seed, int height) {
        Random r = new Random(seed);
        byte[] font = new byte[256 * 32];
        for (int c = 0; c < 256; c++) {
            for (int y = 0; y < height; y++) {
                font[c * 32 + y] = (byte) r.nextInt(256);
            }
        }
        return font;
    }

    /** Loads {@code font} into plane 2 at map 0 as a BIOS does: planar, plane 2 only, back to text after. */
    void loadFont(byte[] font) {
        seq(2, 0x04);
        seq(4, 0x07);
        gc(4, 0x02);
        gc(5, 0x00);
        gc(6, 0x04);
        for (int i = 0; i < font.length; i++) {
            poke(0xA0000 + i, font[i] & 0xFF);
        }
        seq(2, 0x03);
        seq(4, 0x02);
        gc(4, 0x00);
        gc(5, 0x10);
        gc(6, 0x0E);
    }

    /** Writes {@code text} at (row, col) of an 80-column page at 0xB8000 with attribute {@code attr}. */
    void print(int row, int col, String text, int attr) {
        for (int i = 0; i < text.length(); i++) {
            long at = 0xB8000 + 2L * (row * 80 + col + i);
            poke(at, text.charAt(i));
            poke(at + 1, attr);
        }
    }
}
