package io.p2vkit.hv.device.vga;

/**
 * A copy of the card's planes and registers at one instant, and what can be read from it: the
 * display mode and, in a text mode, the visible page ({@link #textScreen()}). Everything here is
 * derived from guest-written registers, so each value is masked to its field width and every
 * plane access wraps at 64 KiB: no guest value can make this throw or allocate more than the
 * largest geometry the registers can express (256 columns by 1024 rows).
 */
public final class VgaSnapshot {

    // CRTC registers.
    static final int CR_HDISPLAY_END = 0x01;
    static final int CR_OVERFLOW = 0x07;
    static final int CR_MAX_SCAN_LINE = 0x09;
    static final int CR_CURSOR_START = 0x0A;
    static final int CR_CURSOR_END = 0x0B;
    static final int CR_START_HIGH = 0x0C;
    static final int CR_START_LOW = 0x0D;
    static final int CR_CURSOR_HIGH = 0x0E;
    static final int CR_CURSOR_LOW = 0x0F;
    static final int CR_VDISPLAY_END = 0x12;
    static final int CR_OFFSET = 0x13;
    static final int CR_UNDERLINE = 0x14;
    static final int CR_MODE_CONTROL = 0x17;
    static final int SCAN_DOUBLE = 0x80;
    static final int CURSOR_OFF = 0x20;
    static final int UNDERLINE_DWORD = 0x40;
    static final int MODE_BYTE = 0x40;       // CRTC 0x17 bit 6: byte mode (clear: word mode)
    static final int MODE_ADDRESS_WRAP = 0x20; // word mode puts MA15 (set) or MA13 (clear) in bit 0
    // Sequencer.
    static final int SR_CLOCKING = 1;
    static final int SR_CHAR_MAP = 3;
    static final int CLOCK_8_DOT = 0x01;
    static final int CLOCK_SCREEN_OFF = 0x20;
    // Graphics controller mode (5) bits.
    static final int GC_MODE_SHIFT_256 = 0x40;
    static final int GC_MODE_SHIFT_INTERLEAVE = 0x20;

    final byte[] planes;
    final byte[] seq;
    final byte[] crtc;
    final byte[] gc;
    final byte[] attr;
    final boolean paletteSource;
    final byte[] dac;
    final int pixelMask;
    final int misc;

    VgaSnapshot(byte[] planes, byte[] seq, byte[] crtc, byte[] gc, byte[] attr, boolean paletteSource,
                byte[] dac, int pixelMask, int misc) {
        this.planes = planes;
        this.seq = seq;
        this.crtc = crtc;
        this.gc = gc;
        this.attr = attr;
        this.paletteSource = paletteSource;
        this.dac = dac;
        this.pixelMask = pixelMask;
        this.misc = misc;
    }

    int crtc(int i) {
        return crtc[i] & 0xFF;
    }

    int seq(int i) {
        return seq[i] & 0xFF;
    }

    int attr(int i) {
        return attr[i] & 0xFF;
    }

    int plane(int plane, int offset) {
        return planes[plane * VgaMemory.PLANE_SIZE + (offset & 0xFFFF)] & 0xFF;
    }

    /** Characters are 9 pixels wide unless the sequencer's clocking mode selects 8-dot clocks. */
    int cellWidth() {
        return (seq(SR_CLOCKING) & CLOCK_8_DOT) != 0 ? 8 : 9;
    }

    /** Scan lines per character row, 1 to 32 (maximum scan line + 1). */
    int cellHeight() {
        return (crtc(CR_MAX_SCAN_LINE) & 0x1F) + 1;
    }

    /** Displayed scan lines: vertical display end (10 bits over registers 0x12 and 0x07) + 1. */
    int displayedLines() {
        int overflow = crtc(CR_OVERFLOW);
        int end = crtc(CR_VDISPLAY_END) | (overflow & 0x02) << 7 | (overflow & 0x40) << 3;
        return (end + 1) / ((crtc(CR_MAX_SCAN_LINE) & SCAN_DOUBLE) != 0 ? 2 : 1);
    }

    public DisplayMode displayMode() {
        boolean graphics = (gc[VgaRegisters.GC_MISC] & VgaRegisters.GC_MISC_GRAPHICS) != 0
                || (attr(AttributeController.MODE_CONTROL) & AttributeController.MODE_GRAPHICS) != 0;
        int columns = crtc(CR_HDISPLAY_END) + 1;
        if (!graphics) {
            return (seq(SR_CLOCKING) & CLOCK_SCREEN_OFF) != 0 || !paletteSource
                    ? new DisplayMode(DisplayMode.Kind.BLANK, 0, 0, 0)
                    : new DisplayMode(DisplayMode.Kind.TEXT, columns, displayedLines() / cellHeight(), 16);
        }
        int mode = gc[VgaMemory.GC_MODE];
        int dotsPerClock = cellWidth();
        int width = columns * dotsPerClock;
        int colours = 16;
        if ((mode & GC_MODE_SHIFT_256) != 0) {
            width /= 2;     // two dot clocks per 8-bit pixel
            colours = 256;
        } else if ((mode & GC_MODE_SHIFT_INTERLEAVE) != 0) {
            colours = 4;
        }
        int lines = displayedLines() / ((crtc(CR_MAX_SCAN_LINE) & 0x1F) + 1);
        return new DisplayMode(DisplayMode.Kind.GRAPHICS, width, lines, colours);
    }

    /** The memory address the CRTC fetches for address counter {@code ma} (word, dword or byte mode). */
    int fetchAddress(int ma) {
        if ((crtc(CR_UNDERLINE) & UNDERLINE_DWORD) != 0) {
            return (ma << 2) & 0xFFFF;
        }
        if ((crtc(CR_MODE_CONTROL) & MODE_BYTE) == 0) {
            int wrapBit = (crtc(CR_MODE_CONTROL) & MODE_ADDRESS_WRAP) != 0 ? 15 : 13;
            return ((ma << 1) | ((ma >> wrapBit) & 1)) & 0xFFFF;
        }
        return ma & 0xFFFF;
    }

    /**
     * The visible page: characters from plane 0 and attributes from plane 1 starting at the CRTC
     * start address, {@code 2 x offset} characters per row; null unless a text mode is showing.
     */
    public TextScreen textScreen() {
        DisplayMode m = displayMode();
        if (!m.isText()) {
            return null;
        }
        int cols = m.width();
        int rows = m.height();
        int stride = crtc(CR_OFFSET) * 2;
        int start = crtc(CR_START_HIGH) << 8 | crtc(CR_START_LOW);
        byte[] chars = new byte[cols * rows];
        byte[] attrs = new byte[cols * rows];
        for (int r = 0; r < rows; r++) {
            int rowMa = start + r * stride;
            for (int c = 0; c < cols; c++) {
                int at = fetchAddress(rowMa + c);
                chars[r * cols + c] = (byte) plane(0, at);
                attrs[r * cols + c] = (byte) plane(1, at);
            }
        }
        int cursorRow = -1;
        int cursorCol = -1;
        int first = crtc(CR_CURSOR_START) & 0x1F;
        int last = Math.min(crtc(CR_CURSOR_END) & 0x1F, cellHeight() - 1);
        int pos = (crtc(CR_CURSOR_HIGH) << 8 | crtc(CR_CURSOR_LOW)) - start;
        if ((crtc(CR_CURSOR_START) & CURSOR_OFF) == 0 && first <= last && pos >= 0 && stride > 0
                && pos / stride < rows && pos % stride < cols) {
            cursorRow = pos / stride;
            cursorCol = pos % stride;
        } else if (stride == 0 && pos >= 0 && pos < cols && rows > 0
                && (crtc(CR_CURSOR_START) & CURSOR_OFF) == 0 && first <= last) {
            cursorRow = 0;          // every row shows the same memory; the cursor is on the first
            cursorCol = pos;
        }
        return new TextScreen(cols, rows, chars, attrs, cellWidth(), cellHeight(), cursorRow, cursorCol, first, last);
    }

    /** Plane 2 offset of the font a character uses: map A when attribute bit 3 is set, else map B. */
    int fontBase(int attribute) {
        int sel = seq(SR_CHAR_MAP);
        int map = (attribute & 0x08) != 0
                ? ((sel >> 5) & 1) << 2 | (sel >> 2) & 3
                : ((sel >> 4) & 1) << 2 | sel & 3;
        return (map & 3) * 0x4000 + (map >> 2) * 0x2000;
    }

    /** Row {@code line} (0-31) of the glyph the character generator draws for {@code code} in {@code attribute}. */
    public int glyphLine(int attribute, int code, int line) {
        return plane(2, fontBase(attribute) + (code & 0xFF) * TextRenderer.GLYPH_BYTES + (line & 0x1F));
    }

    /** The RGB colour (0xRRGGBB) the screen shows for 4-bit attribute colour {@code colour}. */
    public int colour(int colour) {
        return rgb(colour);
    }

    /** The RGB colour (0xRRGGBB) of a 4-bit attribute colour: palette register, colour select, DAC. */
    int rgb(int colour) {
        int pal = attr(colour & attr(AttributeController.COLOR_PLANE_ENABLE) & 0x0F);
        int select = attr(AttributeController.COLOR_SELECT);
        int index = (attr(AttributeController.MODE_CONTROL) & AttributeController.MODE_P54_SELECT) != 0
                ? (pal & 0x0F) | (select & 0x03) << 4
                : pal & 0x3F;
        index = (index | (select & 0x0C) << 4) & pixelMask;
        return expand(dac[index * 3]) << 16 | expand(dac[index * 3 + 1]) << 8 | expand(dac[index * 3 + 2]);
    }

    private static int expand(byte sixBits) {
        int v = sixBits & 0x3F;
        return v << 2 | v >> 4;
    }
}
