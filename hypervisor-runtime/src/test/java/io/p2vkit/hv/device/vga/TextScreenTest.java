package io.p2vkit.hv.device.vga;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Reading the visible text page from the registers and planes. */
class TextScreenTest {

    @Test
    void mode3Reads80By25WithTheCursor() {
        VgaFixture v = new VgaFixture().mode3();
        v.print(0, 0, "SeaBIOS (version test)", 0x07);
        v.print(24, 70, "bottom", 0x1F);
        v.crtc(0x0E, 0x00);
        v.crtc(0x0F, 81);            // row 1, column 1
        TextScreen t = v.card.snapshot().textScreen();
        assertEquals("text 80x25", v.card.snapshot().displayMode().describe());
        assertEquals(80, t.cols());
        assertEquals(25, t.rows());
        assertEquals(9, t.cellWidth());
        assertEquals(16, t.cellHeight());
        assertEquals("SeaBIOS (version test)", t.line(0));
        assertEquals(" ".repeat(70) + "bottom", t.line(24));
        assertEquals(0x1F, t.attrAt(24, 70));
        assertEquals(1, t.cursorRow());
        assertEquals(1, t.cursorCol());
        assertEquals(0x0D, t.cursorFirstLine());
        assertEquals(0x0E, t.cursorLastLine());
        assertTrue(t.text().startsWith("SeaBIOS (version test)\n"));
    }

    @Test
    void eightLineCharactersGiveFiftyRows() {
        VgaFixture v = new VgaFixture().mode3();
        v.crtc(0x09, 0x47);          // 8 scan lines per row, as vgacon sets for 80x50
        v.crtc(0x0A, 0x06);
        v.crtc(0x0B, 0x07);
        v.print(49, 0, "last row", 0x07);
        TextScreen t = v.card.snapshot().textScreen();
        assertEquals(80, t.cols());
        assertEquals(50, t.rows());
        assertEquals(8, t.cellHeight());
        assertEquals("last row", t.line(49));
        v.crtc(0x09, 0x48);          // 9 lines (EGA-style 350 would be 43 rows; 400 lines give 44)
        assertEquals(44, v.card.snapshot().textScreen().rows());
    }

    @Test
    void otherGeometriesFollowTheCrtc() {
        VgaFixture v = new VgaFixture().mode3();
        v.crtc(0x11, 0x0E);          // unlock to change horizontal display end
        v.crtc(0x01, 89);            // 90 columns
        v.crtc(0x13, 45);            // 90 characters per row in memory
        v.crtc(0x12, 0xDF);          // 480 lines: VDE 479 = 0x1DF
        v.crtc(0x07, 0x1F | 0x02);   // bit 8 set, bit 9 clear
        TextScreen t = v.card.snapshot().textScreen();
        assertEquals(90, t.cols());
        assertEquals(30, t.rows());
        long at = 0xB8000 + 2L * (29 * 90 + 89);
        v.poke(at, 'Z');
        assertEquals('Z', v.card.snapshot().textScreen().charAt(29, 89));
    }

    @Test
    void startAddressScrollsThePage() {
        VgaFixture v = new VgaFixture().mode3();
        v.print(0, 0, "row zero", 0x07);
        v.print(1, 0, "row one", 0x07);
        v.crtc(0x0C, 0);
        v.crtc(0x0D, 80);
        TextScreen t = v.card.snapshot().textScreen();
        assertEquals("row one", t.line(0));
        assertEquals(-1, t.cursorRow(), "cursor at 0 is above the visible page");
    }

    @Test
    void hiddenCursorIsNotReported() {
        VgaFixture v = new VgaFixture().mode3();
        v.crtc(0x0A, 0x20);
        assertEquals(-1, v.card.snapshot().textScreen().cursorRow());
    }

    @Test
    void graphicsModeIsReportedAndNotRead() {
        VgaFixture v = new VgaFixture().mode3();
        assertFalse(v.card.graphicsEntered());
        // Mode 12h's essentials: 640x480, 16 colours, planar.
        v.seq(1, 0x01);
        v.gc(5, 0x00);
        v.gc(6, 0x05);
        v.attr(0x10, 0x01);
        v.crtc(0x09, 0x40);
        v.crtc(0x12, 0xDF);
        v.crtc(0x07, 0x3E);          // VDE bit 8 set (bit 1), bit 9 clear
        VgaSnapshot s = v.card.snapshot();
        DisplayMode m = s.displayMode();
        assertTrue(m.isGraphics());
        assertEquals("graphics 640x480, 16 colours", m.describe());
        assertNull(s.textScreen());
        assertTrue(v.card.graphicsEntered());
    }

    @Test
    void monochromeModeSevenReadsThroughB0000AndUnderlines() {
        VgaFixture v = new VgaFixture().mode3();
        v.out(0x3C2, 0x66);                      // mono: CRTC at 0x3B4
        v.out(0x3B4, 0x14);
        v.out(0x3B5, 0x0D);                      // underline on scan line 13
        v.out(0x3B4, 0x0A);
        v.out(0x3B5, 0x20);                      // cursor off
        v.gc(6, 0x0A);                           // B0000, 32 KiB, odd/even
        v.poke(0xB0000, 'M');
        v.poke(0xB0001, 0x01);                   // underlined
        v.poke(0xB0002, 'D');
        v.poke(0xB0003, 0x07);
        VgaSnapshot s = v.card.snapshot();
        TextScreen t = s.textScreen();
        assertEquals("MD", t.line(0));
        TextRenderer.Image img = TextRenderer.render(s, t);
        int fg = VgaFixture.egaRgb(1);
        for (int x = 0; x < 9; x++) {
            assertEquals(fg, img.pixel(x, 13), "underline row of the underlined cell");
        }
        assertEquals(VgaFixture.egaRgb(0), img.pixel(9, 13), "no underline under attribute 0x07");
        v.out(0x3D4, 0x0E);
        assertEquals(0xFF, v.in(0x3D5), "the colour CRTC floats in mono mode");
    }

    @Test
    void mode13hIs320By200With256Colours() {
        VgaFixture v = new VgaFixture().mode3();
        v.seq(1, 0x01);
        v.seq(4, 0x0E);              // chain-4
        v.gc(5, 0x40);               // 256-colour shift
        v.gc(6, 0x05);
        v.attr(0x10, 0x41);
        v.crtc(0x09, 0x41);          // each pixel row twice
        assertEquals("graphics 320x200, 256 colours", v.card.snapshot().displayMode().describe());
    }

    @Test
    void blankedScreenIsNeitherTextNorGraphics() {
        VgaFixture v = new VgaFixture().mode3();
        v.in(0x3DA);
        v.out(0x3C0, 0x00);          // palette source off, as while a BIOS loads the palette
        assertEquals(DisplayMode.Kind.BLANK, v.card.snapshot().displayMode().kind());
        v.out(0x3C0, 0x00);
        v.out(0x3C0, 0x20);
        assertNotNull(v.card.snapshot().textScreen());
    }

    @Test
    void hostileGeometriesStayBounded() {
        VgaFixture v = new VgaFixture().mode3();
        v.crtc(0x11, 0x0E);
        int[][] cases = {
            {0x09, 0x00}, {0x09, 0x1F}, {0x09, 0xFF}, {0x01, 0xFF}, {0x12, 0xFF}, {0x07, 0xFF},
            {0x0C, 0xFF}, {0x0D, 0xFF}, {0x13, 0x00}, {0x13, 0xFF}, {0x0E, 0xFF}, {0x0F, 0xFF},
            {0x0A, 0x1F}, {0x0B, 0x00}, {0x17, 0x00}, {0x14, 0x40}, {0x17, 0xFF},
        };
        for (int[] c : cases) {
            v.crtc(c[0], c[1]);
            VgaSnapshot s = v.card.snapshot();
            TextScreen t = s.textScreen();
            assertNotNull(t);
            assertTrue(t.cols() <= 256 && t.rows() <= 1024 && t.cellHeight() <= 32);
            if (t.cols() > 0 && t.rows() > 0) {
                TextRenderer.Image img = TextRenderer.render(s, t);
                assertEquals(t.cols() * t.cellWidth() * t.rows() * t.cellHeight(), img.rgb().length);
            }
        }
        Random r = new Random(32);
        for (int i = 0; i < 2000; i++) {
            v.crtc(r.nextInt(0x20), r.nextInt(256));
            v.seq(r.nextInt(8), r.nextInt(256));
            v.gc(r.nextInt(16), r.nextInt(256));
            v.attr(r.nextInt(32), r.nextInt(256));
            v.card.memoryWindow().write(r.nextInt(0x20000), 1 << r.nextInt(4), r.nextLong());
            v.card.memoryWindow().read(r.nextInt(0x20000), 1 << r.nextInt(4));
            if (i % 50 == 0) {
                VgaSnapshot s = v.card.snapshot();
                s.displayMode().describe();
                TextScreen t = s.textScreen();
                if (t != null && t.cols() > 0 && t.rows() > 0) {
                    TextRenderer.render(s, t);
                    t.text();
                }
            }
        }
        assertEquals(0xFF, (int) v.card.memoryWindow().read(-1, 1), "an offset outside the window floats");
    }
}
