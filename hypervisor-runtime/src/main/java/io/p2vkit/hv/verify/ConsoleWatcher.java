package io.p2vkit.hv.verify;

import io.p2vkit.hv.device.ByteSink;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;

/**
 * Watches the serial console as bytes arrive: keeps the log (ANSI escape sequences and carriage
 * returns dropped) and matches patterns against the current line, so a prompt without a newline
 * ("login: ") is seen at once. Patterns do not span lines. The log is capped so a chatty guest
 * cannot exhaust memory; the cap keeps the beginning and the most recent output.
 */
final class ConsoleWatcher implements ByteSink {

    static final int MAX_LOG = 4 << 20;
    static final int MAX_LINE = 4096;

    /** A pattern and when it first matched (nanoTime), or -1. */
    static final class Watch {
        final String name;
        final Pattern pattern;
        volatile long seenAt = -1;
        volatile String matchedLine;

        Watch(String name, Pattern pattern) {
            this.name = name;
            this.pattern = pattern;
        }
    }

    private final StringBuilder log = new StringBuilder();
    private final StringBuilder line = new StringBuilder();
    private final List<Watch> milestones = new ArrayList<>();
    private final List<Watch> terminal = new ArrayList<>();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile Watch firstTerminal;
    private int escape;   // 0 = text, 1 = after ESC, 2 = inside a CSI sequence
    private long dropped;

    /** Recorded when first seen; does not end the boot. */
    Watch milestone(String name, Pattern p) {
        Watch w = new Watch(name, p);
        milestones.add(w);
        return w;
    }

    /** Ends the watch when seen (the expected text, or a failure pattern). */
    Watch terminal(String name, Pattern p) {
        Watch w = new Watch(name, p);
        terminal.add(w);
        return w;
    }

    @Override
    public synchronized void put(int b) {
        char c = (char) (b & 0xFF);
        if (escape == 1) {
            escape = c == '[' ? 2 : 0;
            return;
        }
        if (escape == 2) {
            if (c >= 0x40 && c <= 0x7E) {
                escape = 0;
            }
            return;
        }
        if (c == 0x1B) {
            escape = 1;
            return;
        }
        if (c == '\r' || c == 0) {
            return;
        }
        if (log.length() < MAX_LOG) {
            log.append(c);
        } else {
            dropped++;
        }
        if (c == '\n') {
            line.setLength(0);
            return;
        }
        if (line.length() >= MAX_LINE) {
            line.delete(0, MAX_LINE / 2);
        }
        line.append(c);
        long now = System.nanoTime();
        for (Watch w : milestones) {
            check(w, now);
        }
        if (firstTerminal == null) {
            for (Watch w : terminal) {
                if (check(w, now)) {
                    firstTerminal = w;
                    done.countDown();
                    break;
                }
            }
        }
    }

    private boolean check(Watch w, long now) {
        if (w.seenAt >= 0) {
            return false;
        }
        if (w.pattern.matcher(line).find()) {
            w.seenAt = now;
            w.matchedLine = line.toString().strip();
            return true;
        }
        return false;
    }

    CountDownLatch done() {
        return done;
    }

    Watch firstTerminal() {
        return firstTerminal;
    }

    synchronized String log() {
        return dropped == 0 ? log.toString() : log + "\n[" + dropped + " bytes of console output not kept]\n";
    }
}
