package io.p2vkit.hv.device.vga;

/**
 * Draws a text screen as the VGA's character generator does: each glyph row from the font in
 * plane 2 (32 bytes per character, map chosen by attribute bit 3), foreground and background
 * through the attribute palette and the DAC, the ninth column of 9-dot characters repeating the
 * eighth for the line-drawing codes 0xC0-0xDF when line graphics are enabled, the underline row,
 * and the cursor (both the full cell wide, as QEMU draws them). Blinking characters and the
 * cursor are drawn in their visible phase.
 */
public final class TextRenderer {

    static final int GLYPH_BYTES = 32;
    static final int LINE_CHARS_FIRST = 0xC0;
    static final int LINE_CHARS_LAST = 0xDF;

    private TextRenderer() {
    }

    /** An image of {@code cols x cellWidth} by {@code rows x cellHeight} pixels. */
    public record Image(int width, int height, int[] rgb) {
        public int pixel(int x, int y) {
            return rgb[y * width + x];
        }
    }

    public static Image render(VgaSnapshot s, TextScreen t) {
        int cw = t.cellWidth();
        int ch = t.cellHeight();
        int width = t.cols() * cw;
        int height = t.rows() * ch;
        int[] out = new int[width * height];
        int mode = s.attr(AttributeController.MODE_CONTROL);
        boolean blink = (mode & AttributeController.MODE_BLINK) != 0;
        boolean lineGraphics = (mode & AttributeController.MODE_LINE_GRAPHICS) != 0;
        int underline = s.crtc(VgaSnapshot.CR_UNDERLINE) & 0x1F;
        int[] palette = new int[16];
        for (int i = 0; i < 16; i++) {
            palette[i] = s.rgb(i);
        }
        for (int r = 0; r < t.rows(); r++) {
            for (int c = 0; c < t.cols(); c++) {
                int code = t.charAt(r, c);
                int a = t.attrAt(r, c);
                int fg = palette[a & 0x0F];
                int bg = palette[blink ? (a >> 4) & 0x07 : (a >> 4) & 0x0F];
                int glyph = s.fontBase(a) + code * GLYPH_BYTES;
                boolean extend = cw == 9 && lineGraphics && code >= LINE_CHARS_FIRST && code <= LINE_CHARS_LAST;
                boolean cursorCell = r == t.cursorRow() && c == t.cursorCol();
                for (int y = 0; y < ch; y++) {
                    int bits = s.plane(2, glyph + y);
                    int ninth = extend && (bits & 1) != 0 ? fg : bg;
                    // Underline and cursor lines cover the whole cell, ninth column included.
                    if (y == underline && (a & 0x77) == 0x01
                            || cursorCell && y >= t.cursorFirstLine() && y <= t.cursorLastLine()) {
                        bits = 0xFF;
                        ninth = fg;
                    }
                    int base = (r * ch + y) * width + c * cw;
                    for (int x = 0; x < 8; x++) {
                        out[base + x] = (bits & (0x80 >> x)) != 0 ? fg : bg;
                    }
                    if (cw == 9) {
                        out[base + 8] = ninth;
                    }
                }
            }
        }
        return new Image(width, height, out);
    }
}
