package io.p2vkit.hv.device.vga;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The renderer on a synthetic screen: a random font loaded into plane 2, text in several
 * attributes; the PNG is decoded with ImageIO (an independent decoder) and every glyph cell is
 * compared with the font bitmap in the colours the DAC holds.
 */
class TextRendererTest {

    static BufferedImage decode(byte[] png) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img, "ImageIO could not decode the PNG");
        return img;
    }

    /** Compares cell (row, col) of {@code img} with the glyph in {@code font}; returns mismatching pixels. */
    static int cellMismatches(BufferedImage img, TextScreen t, byte[] font, int row, int col, int fg, int bg,
                              boolean lineGraphics) {
        int bad = 0;
        int code = t.charAt(row, col);
        for (int y = 0; y < t.cellHeight(); y++) {
            int bits = font[code * 32 + y] & 0xFF;
            for (int x = 0; x < t.cellWidth(); x++) {
                boolean on = x < 8 ? (bits & (0x80 >> x)) != 0
                        : lineGraphics && code >= 0xC0 && code <= 0xDF && (bits & 1) != 0;
                int want = on ? fg : bg;
                int got = img.getRGB(col * t.cellWidth() + x, row * t.cellHeight() + y) & 0xFFFFFF;
                if (got != want) {
                    bad++;
                }
            }
        }
        return bad;
    }

    @Test
    void pngCellsMatchTheFontInPlaneTwoAndTheDacColours() throws Exception {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = VgaFixture.randomFont(437, 16);
        v.loadFont(font);
        v.print(0, 0, "Hello, VGA", 0x07);
        v.print(3, 10, "yellow on blue", 0x1E);
        StringBuilder all = new StringBuilder();
        for (int c = 0; c < 256; c++) {
            all.append((char) c);
        }
        v.print(5, 0, all.substring(0, 80), 0x4A);
        v.print(6, 0, all.substring(80, 160), 0x70);
        v.print(7, 0, all.substring(160, 240), 0x2F);
        v.print(8, 0, all.substring(240, 256), 0x0C);
        v.crtc(0x0A, 0x20);          // no cursor in this test
        VgaSnapshot s = v.card.snapshot();
        TextScreen t = s.textScreen();
        BufferedImage img = decode(PngEncoder.encode(TextRenderer.render(s, t)));
        assertEquals(720, img.getWidth());
        assertEquals(400, img.getHeight());
        // Mode 3's palette: 0-5 and 7 are themselves, 6 is 0x14 (brown), 8-15 are 0x38-0x3F.
        int[] egaOf = {0, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F};
        for (int row = 0; row < 25; row++) {
            for (int col = 0; col < 80; col++) {
                int a = t.attrAt(row, col);
                int fg = VgaFixture.egaRgb(egaOf[a & 0x0F]);
                int bg = VgaFixture.egaRgb(egaOf[(a >> 4) & 0x07]);   // mode 3 blinks: bit 7 is not colour
                assertEquals(0, cellMismatches(img, t, font, row, col, fg, bg, true),
                        "cell " + row + "," + col + " char 0x" + Integer.toHexString(t.charAt(row, col)));
            }
        }
    }

    @Test
    void eightDotCellsAndTheCursor() throws Exception {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = VgaFixture.randomFont(80, 8);
        v.loadFont(font);
        v.seq(1, 0x01);              // 8-dot characters
        v.crtc(0x09, 0x47);          // 8 lines: 80x50
        v.crtc(0x0A, 0x06);
        v.crtc(0x0B, 0x07);
        v.crtc(0x0E, 0);
        v.crtc(0x0F, 2);             // cursor on row 0, column 2
        v.print(0, 0, "ab\u00C4d", 0x07);
        VgaSnapshot s = v.card.snapshot();
        TextScreen t = s.textScreen();
        assertEquals(50, t.rows());
        BufferedImage img = decode(PngEncoder.encode(TextRenderer.render(s, t)));
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        int fg = VgaFixture.egaRgb(7);
        int bg = VgaFixture.egaRgb(0);
        assertEquals(0, cellMismatches(img, t, font, 0, 0, fg, bg, false));
        assertEquals(0, cellMismatches(img, t, font, 0, 3, fg, bg, false));
        // Cursor cell: glyph lines 0-5, solid foreground on lines 6-7.
        for (int x = 0; x < 8; x++) {
            assertEquals(fg, img.getRGB(2 * 8 + x, 6) & 0xFFFFFF);
            assertEquals(fg, img.getRGB(2 * 8 + x, 7) & 0xFFFFFF);
        }
    }

    @Test
    void ninthColumnRepeatsOnlyForLineDrawingCharacters() {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = new byte[256 * 32];
        for (int y = 0; y < 16; y++) {
            font[0xC4 * 32 + y] = (byte) 0xFF;   // a horizontal bar (line drawing range)
            font['A' * 32 + y] = (byte) 0xFF;    // the same bitmap outside the range
        }
        v.loadFont(font);
        v.print(0, 0, "\u00C4A", 0x07);
        v.crtc(0x0A, 0x20);
        VgaSnapshot s = v.card.snapshot();
        TextRenderer.Image img = TextRenderer.render(s, s.textScreen());
        assertEquals(VgaFixture.egaRgb(7), img.pixel(8, 0), "0xC4 joins its neighbour");
        assertEquals(VgaFixture.egaRgb(0), img.pixel(9 + 8, 0), "'A' keeps a gap");
        v.attr(0x10, 0x08);          // line graphics off
        s = v.card.snapshot();
        img = TextRenderer.render(s, s.textScreen());
        assertEquals(VgaFixture.egaRgb(0), img.pixel(8, 0));
    }

    @Test
    void secondCharacterMapIsChosenByAttributeBitThree() {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = new byte[256 * 32];
        font['X' * 32] = (byte) 0x80;
        v.loadFont(font);
        // A second font at map 1 (plane 2 offset 16 KiB) with a different 'X'.
        v.seq(2, 0x04);
        v.seq(4, 0x07);
        v.gc(4, 0x02);
        v.gc(5, 0x00);
        v.gc(6, 0x04);
        v.poke(0xA4000 + 'X' * 32, 0x01);
        v.seq(2, 0x03);
        v.seq(4, 0x02);
        v.gc(4, 0x00);
        v.gc(5, 0x10);
        v.gc(6, 0x0E);
        v.seq(3, 0x04);              // map A (attribute bit 3 set) = 1, map B = 0
        v.print(0, 0, "X", 0x07);
        v.print(0, 1, "X", 0x0F);
        v.crtc(0x0A, 0x20);
        VgaSnapshot s = v.card.snapshot();
        TextRenderer.Image img = TextRenderer.render(s, s.textScreen());
        assertEquals(VgaFixture.egaRgb(7), img.pixel(0, 0));
        assertEquals(VgaFixture.egaRgb(0), img.pixel(7, 0));
        assertEquals(VgaFixture.egaRgb(0), img.pixel(9, 0));
        assertEquals(VgaFixture.egaRgb(0x3F), img.pixel(9 + 7, 0));
    }
}
