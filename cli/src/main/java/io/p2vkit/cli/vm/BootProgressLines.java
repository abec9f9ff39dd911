package io.p2vkit.cli.vm;

import io.p2vkit.hv.verify.BootVerifier;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * A verification boot's progress on stderr: a live line on a terminal, a plain line every ten
 * seconds in logs, and a line of its own for display events.
 */
public final class BootProgressLines implements BootVerifier.Progress {

    private final PrintStream err;
    private final String prefix;
    private final Duration limit;
    private final String expected;
    private final boolean terminal;

    public BootProgressLines(PrintStream err, String prefix, Duration limit, String expected) {
        this.err = err;
        this.prefix = prefix;
        this.limit = limit;
        this.expected = expected;
        this.terminal = System.console() != null && System.console().isTerminal();
    }

    @Override
    public void waiting(Duration elapsed, String milestone) {
        if (!terminal && elapsed.toSeconds() % 10 != 0) {
            return;
        }
        String line = String.format(Locale.ROOT, "%s: %ds of %ds, %s, waiting for /%s/", prefix, elapsed.toSeconds(),
                limit.toSeconds(), milestone, expected);
        err.print(terminal ? "\r" + line + " " : line + System.lineSeparator());
    }

    @Override
    public void display(String event) {
        err.print((terminal ? "\r" : "") + prefix + ": " + event + System.lineSeparator());
    }

    /** Ends the live line so that what follows starts on its own. */
    public void finish() {
        if (terminal) {
            err.println();
        }
    }
}
