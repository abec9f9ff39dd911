package io.p2vkit.cli.vm;

import io.p2vkit.hv.verify.BootVerifier;
import io.p2vkit.image.json.Json;

import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A verification boot's progress on stderr: a live line on a terminal, a plain line every ten
 * seconds in logs (or one JSON object per line, for scripts), and a line of its own for display
 * events.
 */
public final class BootProgressLines implements BootVerifier.Progress {

    private final PrintStream err;
    private final String prefix;
    private final Duration limit;
    private final String expected;
    private final boolean terminal;
    private final boolean json;

    public BootProgressLines(PrintStream err, String prefix, Duration limit, String expected) {
        this(err, prefix, limit, expected, false);
    }

    /** With {@code json}, every line is a JSON object ({@code --output json}). */
    public BootProgressLines(PrintStream err, String prefix, Duration limit, String expected, boolean json) {
        this.err = err;
        this.prefix = prefix;
        this.limit = limit;
        this.expected = expected;
        this.json = json;
        this.terminal = !json && System.console() != null && System.console().isTerminal();
    }

    @Override
    public void waiting(Duration elapsed, String milestone) {
        if (!terminal && elapsed.toSeconds() % 10 != 0) {
            return;
        }
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("progress", prefix);
            m.put("elapsed_seconds", elapsed.toSeconds());
            m.put("timeout_seconds", limit.toSeconds());
            m.put("milestone", milestone);
            m.put("expect", expected);
            err.println(oneLine(m));
            return;
        }
        String line = String.format(Locale.ROOT, "%s: %ds of %ds, %s, waiting for /%s/", prefix, elapsed.toSeconds(),
                limit.toSeconds(), milestone, expected);
        err.print(terminal ? "\r" + line + " " : line + System.lineSeparator());
    }

    @Override
    public void display(String event) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", prefix);
            m.put("display", event);
            err.println(oneLine(m));
            return;
        }
        err.print((terminal ? "\r" : "") + prefix + ": " + event + System.lineSeparator());
    }

    /** A JSON object on one line (Json writes it indented). */
    public static String oneLine(Map<String, Object> m) {
        return Json.write(m).replaceAll("\\s*\\n\\s*", " ");
    }

    /** Ends the live line so that what follows starts on its own. */
    public void finish() {
        if (terminal) {
            err.println();
        }
    }
}
