package io.p2vkit.cli.migrate;

import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compares a text-mode screenshot with the text buffer the report gives, cell by cell: every
 * cell holding the same character shows the same glyph (its ink pattern against the cell's
 * background), different characters show different glyphs, blanks show no ink and letters do.
 * One cell may differ: the one under the cursor. The font itself is the guest's (the VGA BIOS's
 * in plane 2); the hypervisor's own tests compare it with plane 2 directly.
 */
final class ScreenCells {

    private ScreenCells() {
    }

    /** Asserts that {@code png} shows {@code text} on a {@code cols} x {@code rows} screen; returns the cells with ink. */
    static int assertShows(BufferedImage png, String text, int cols, int rows) {
        assertEquals(0, png.getWidth() % cols, "width " + png.getWidth() + " is whole cells");
        assertEquals(0, png.getHeight() % rows, "height " + png.getHeight() + " is whole cells");
        int cw = png.getWidth() / cols;
        int ch = png.getHeight() / rows;
        List<String> lines = List.of(text.split("\n", -1));
        assertTrue(lines.size() <= rows, "the text has at most " + rows + " rows");
        Map<Character, Map<String, Integer>> seen = new HashMap<>();
        int inkCells = 0;
        for (int r = 0; r < rows; r++) {
            String line = r < lines.size() ? lines.get(r) : "";
            for (int c = 0; c < cols; c++) {
                char k = c < line.length() ? line.charAt(c) : ' ';
                String ink = inkPattern(png, c * cw, r * ch, cw, ch);
                seen.computeIfAbsent(k, x -> new HashMap<>()).merge(ink, 1, Integer::sum);
                if (ink.indexOf('#') >= 0) {
                    inkCells++;
                }
            }
        }
        int deviants = 0;
        Map<String, Character> glyphOwner = new HashMap<>();
        for (var e : seen.entrySet()) {
            String usual = e.getValue().entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            deviants += e.getValue().values().stream().mapToInt(Integer::intValue).sum() - e.getValue().get(usual);
            char k = e.getKey();
            if (k == ' ') {
                assertTrue(usual.indexOf('#') < 0, "blank cells show no ink");
                continue;
            }
            assertTrue(usual.indexOf('#') >= 0, "'" + k + "' is drawn with ink");
            Character other = glyphOwner.put(usual, k);
            if (other != null) {
                assertNotEquals(other, k, "'" + other + "' and '" + k + "' are drawn alike");
            }
        }
        assertTrue(deviants <= 1, deviants + " cells show another glyph than the same character elsewhere (only the cursor's may)");
        return inkCells;
    }

    /** The cell's pixels as '#' (not the background) and '.', the background being its commonest colour. */
    private static String inkPattern(BufferedImage png, int x0, int y0, int w, int h) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                counts.merge(png.getRGB(x0 + x, y0 + y) & 0xFFFFFF, 1, Integer::sum);
            }
        }
        int bg = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        StringBuilder sb = new StringBuilder(w * h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                sb.append((png.getRGB(x0 + x, y0 + y) & 0xFFFFFF) == bg ? '.' : '#');
            }
        }
        return sb.toString();
    }
}
