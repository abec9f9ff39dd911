package io.p2vkit.hv.device.vga;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The register sequences Linux's vgacon (drivers/video/console/vgacon.c) uses after the BIOS set
 * mode 3: loading its font into plane 2 through the 128 KiB window at 0xA0000 + 32 KiB, choosing
 * that font with the character map select, an 8-line font giving 80x50, 512-character fonts with
 * attribute bit 3 picking the second half, and hardware scrolling through the start address.
 */
class VgaconSequenceTest {

    static final int CMAPSZ = 8192;

    /** vgacon_do_font_op(set): plane 2 through 0xA0000 (GC misc 0), then back to text at 0xB8000. */
    static void vgaconLoadFont(VgaFixture v, byte[] font, boolean ch512) {
        v.seq(0, 0x01);
        v.seq(2, 0x04);
        v.seq(4, 0x07);
        v.seq(0, 0x03);
        v.gc(4, 0x02);
        v.gc(5, 0x00);
        v.gc(6, 0x00);
        long charmap = 0xA0000 + 4 * CMAPSZ;
        for (int i = 0; i < CMAPSZ; i++) {
            v.poke(charmap + i, font[i] & 0xFF);
        }
        if (ch512) {
            for (int i = 0; i < CMAPSZ; i++) {
                v.poke(charmap + 2 * CMAPSZ + i, font[CMAPSZ + i] & 0xFF);
            }
        }
        v.seq(0, 0x01);
        v.seq(2, 0x03);
        v.seq(4, 0x03);
        v.seq(3, ch512 ? 0x0E : 0x0A);
        v.seq(0, 0x03);
        v.gc(4, 0x00);
        v.gc(5, 0x10);
        v.gc(6, 0x0E);
        if (ch512) {
            v.attr(0x12, 0x07);     // colour plane enable: bit 3 chooses the font, not the colour
        }
    }

    /** vgacon_adjust_height: character height and vertical display end for rows of {@code height} lines. */
    static void vgaconAdjustHeight(VgaFixture v, int scanLines, int height) {
        int rows = scanLines / height;
        int maxscan = rows * height - 1;
        int ovr = v.crtcRead(0x07);
        int fsr = v.crtcRead(0x09);
        ovr = (ovr & 0xBD) + ((maxscan & 0x100) >> 7) + ((maxscan & 0x200) >> 3);
        fsr = (fsr & 0xE0) + (height - 1);
        v.crtc(0x07, ovr);
        v.crtc(0x09, fsr);
        v.crtc(0x12, maxscan & 0xFF);
    }

    @Test
    void eightLineFontFromThe32KiBMapGives80x50AndScrollsByStartAddress() {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = VgaFixture.randomFont(1991, 8);
        vgaconLoadFont(v, font, false);
        vgaconAdjustHeight(v, 400, 8);
        for (int row = 0; row < 60; row++) {
            v.print(row, 0, "line " + row, 0x07);
        }
        v.crtc(0x0C, (80 * 10) >> 8);    // vga_set_mem_top after scrolling ten rows
        v.crtc(0x0D, (80 * 10) & 0xFF);
        VgaSnapshot s = v.card.snapshot();
        TextScreen t = s.textScreen();
        assertEquals(80, t.cols());
        assertEquals(50, t.rows());
        assertEquals("line 10", t.line(0));
        assertEquals("line 59", t.line(49));
        for (int y = 0; y < 8; y++) {
            assertEquals(font['l' * 32 + y] & 0xFF, s.glyphLine(0x07, 'l', y), "glyph from plane 2 at 32 KiB");
        }
        TextRenderer.Image img = TextRenderer.render(s, t);
        assertEquals(400, img.height());
        int fg = VgaFixture.egaRgb(7);
        int bg = VgaFixture.egaRgb(0);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                int want = (font['l' * 32 + y] & (0x80 >> x)) != 0 ? fg : bg;
                assertEquals(want, img.pixel(x, y), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void fiveHundredTwelveCharacterFontsUseAttributeBitThree() {
        VgaFixture v = new VgaFixture().mode3();
        byte[] font = new byte[2 * CMAPSZ];
        font['Q' * 32] = (byte) 0xF0;                 // first half: 'Q' row 0 = left half lit
        font[CMAPSZ + 'Q' * 32] = (byte) 0x0F;        // second half: right half lit
        vgaconLoadFont(v, font, true);
        v.print(0, 0, "Q", 0x07);                     // bit 3 clear: map B (first 256)
        v.print(0, 1, "Q", 0x0F);                     // bit 3 set: map A (second 256)
        v.crtc(0x0A, 0x20);
        VgaSnapshot s = v.card.snapshot();
        TextRenderer.Image img = TextRenderer.render(s, s.textScreen());
        int grey = VgaFixture.egaRgb(7);
        int black = VgaFixture.egaRgb(0);
        assertEquals(grey, img.pixel(0, 0));
        assertEquals(black, img.pixel(7, 0));
        assertEquals(black, img.pixel(9, 0));
        assertEquals(grey, img.pixel(9 + 7, 0), "colour plane enable 7 keeps attribute 0x0F grey");
    }
}
