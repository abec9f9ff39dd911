package io.p2vkit.cli;

import io.p2vkit.image.Sizes;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.json.Json;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds
 * otherwise, or one JSON object per line with {@code --output json}.
 */
public final class Progress implements ProgressListener {

    /** How progress is shown. */
    public enum Style { BAR, LINES, JSON }

    private static final long BAR_EVERY_NANOS = 200_000_000L;
    private static final long LINE_EVERY_NANOS = 5_000_000_000L;

    private final PrintStream out;
    private final Style style;
    private final String label;
    private final long start = System.nanoTime();
    private long lastShown;
    private boolean finished;

    public Progress(PrintStream out, Style style, String label) {
        this.out = out;
        this.style = style;
        this.label = label;
        this.lastShown = start; // the first plain line after a few seconds, when the rate means something
    }

    /** The style that suits where stderr goes: a bar on a terminal, lines otherwise. */
    public static Style styleFor(boolean json) {
        if (json) {
            return Style.JSON;
        }
        return System.console() != null && System.console().isTerminal() ? Style.BAR : Style.LINES;
    }

    @Override
    public void progress(long done, long total) {
        long now = System.nanoTime();
        boolean end = done >= total;
        if (finished || (!end && now - lastShown < (style == Style.BAR ? BAR_EVERY_NANOS : LINE_EVERY_NANOS))) {
            return;
        }
        lastShown = now;
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = done / seconds;
        double pct = total == 0 ? 100 : 100.0 * done / total;
        long eta = rate > 0 ? (long) ((total - done) / rate) : -1;
        switch (style) {
            case BAR -> {
                int width = 30;
                int filled = (int) (width * pct / 100);
                out.printf(Locale.ROOT, "\r%s [%s%s] %5.1f%% %s/s ETA %s ", label, "#".repeat(filled),
                        "-".repeat(width - filled), pct, Sizes.human((long) rate), clock(eta));
                if (end) {
                    out.println();
                }
            }
            case LINES -> out.printf(Locale.ROOT, "%s: %.1f%% (%s of %s, %s/s, ETA %s)%n", label, pct,
                    Sizes.human(done), Sizes.human(total), Sizes.human((long) rate), clock(eta));
            case JSON -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("progress", label);
                m.put("done", done);
                m.put("total", total);
                m.put("bytes_per_second", (long) rate);
                m.put("eta_seconds", eta);
                out.println(Json.write(m).replaceAll("\\s*\\n\\s*", " "));
            }
        }
        finished = end;
        out.flush();
    }

    private static String clock(long seconds) {
        if (seconds < 0) {
            return "--:--";
        }
        return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                seconds % 60) : String.format(Locale.ROOT, "%02d:%02d", seconds / 60, seconds % 60);
    }
}
