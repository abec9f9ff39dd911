package io.p2vkit.hv.device.vga;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;

/**
 * The visible page of a text mode: {@code cols} x {@code rows} character codes and attribute
 * bytes (row-major), the character cell size, and the cursor ({@code cursorRow} -1 when hidden).
 */
public record TextScreen(int cols, int rows, byte[] chars, byte[] attrs, int cellWidth, int cellHeight,
                         int cursorRow, int cursorCol, int cursorFirstLine, int cursorLastLine) {

    /** Code page 437, the VGA BIOS font's character set; NUL, control codes and 0xFF read as spaces. */
    private static final char[] CP437 = cp437();

    public int charAt(int row, int col) {
        return chars[row * cols + col] & 0xFF;
    }

    public int attrAt(int row, int col) {
        return attrs[row * cols + col] & 0xFF;
    }

    /** One row as text, trailing blanks removed. */
    public String line(int row) {
        char[] s = new char[cols];
        int end = 0;
        for (int c = 0; c < cols; c++) {
            s[c] = CP437[charAt(row, c)];
            if (s[c] != ' ') {
                end = c + 1;
            }
        }
        return new String(s, 0, end);
    }

    public List<String> lines() {
        List<String> l = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            l.add(line(r));
        }
        return l;
    }

    /** The rows joined with newlines, trailing empty rows removed. */
    public String text() {
        List<String> l = lines();
        int last = l.size();
        while (last > 0 && l.get(last - 1).isEmpty()) {
            last--;
        }
        return String.join("\n", l.subList(0, last));
    }

    private static char[] cp437() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        char[] t = new String(all, Charset.forName("IBM437")).toCharArray();
        for (int i = 0; i < 0x20; i++) {
            t[i] = ' ';
        }
        t[0x7F] = '\u2302';
        t[0xFF] = ' ';     // a no-break space in CP437: a plain space to patterns
        return t;
    }
}
