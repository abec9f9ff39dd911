package io.p2vkit.hv.verify;

import io.p2vkit.hv.device.vga.DisplayMode;
import io.p2vkit.hv.device.vga.TextScreen;
import io.p2vkit.hv.device.vga.VgaCard;
import io.p2vkit.hv.device.vga.VgaSnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Watches the VGA text screen: each {@link #poll} reads the visible page and matches the patterns
 * against every row (a pattern does not span rows, as on the serial console it does not span
 * lines). Polling, not write tracking, because the screen is what a person would see: text that
 * scrolled away between two polls is not seen, text that stays is. A graphics mode is noted
 * (when first seen, and its geometry), since no text can be read from it.
 */
final class ScreenWatcher {

    private final VgaCard card;
    private final List<ConsoleWatcher.Watch> milestones = new ArrayList<>();
    private final List<ConsoleWatcher.Watch> terminal = new ArrayList<>();
    private ConsoleWatcher.Watch firstTerminal;
    private VgaSnapshot last;
    private DisplayMode lastMode;
    private String lastText = "";
    private String graphicsMode;
    private long graphicsSeenAt = -1;

    ScreenWatcher(VgaCard card) {
        this.card = card;
    }

    ConsoleWatcher.Watch milestone(String name, Pattern p) {
        ConsoleWatcher.Watch w = new ConsoleWatcher.Watch(name, p);
        milestones.add(w);
        return w;
    }

    ConsoleWatcher.Watch terminal(String name, Pattern p) {
        ConsoleWatcher.Watch w = new ConsoleWatcher.Watch(name, p);
        terminal.add(w);
        return w;
    }

    /** Reads the screen now and matches it; {@code now} is System.nanoTime(). */
    void poll(long now) {
        last = card.snapshot();
        lastMode = last.displayMode();
        if (lastMode.isGraphics() || card.graphicsEntered()) {
            noteGraphics(now);
        }
        TextScreen screen = last.textScreen();
        if (screen == null) {
            return;
        }
        lastText = screen.text();
        List<String> lines = screen.lines();
        for (String line : lines) {
            for (ConsoleWatcher.Watch w : milestones) {
                check(w, line, now);
            }
        }
        if (firstTerminal == null) {
            for (ConsoleWatcher.Watch w : terminal) {
                for (String line : lines) {
                    if (check(w, line, now)) {
                        firstTerminal = w;
                        return;
                    }
                }
            }
        }
    }

    private void noteGraphics(long now) {
        if (graphicsMode != null) {
            return;
        }
        graphicsSeenAt = now;
        graphicsMode = lastMode.isGraphics() ? lastMode.describe() : "graphics (left again before it could be read)";
    }

    private static boolean check(ConsoleWatcher.Watch w, String line, long now) {
        if (w.seenAt >= 0) {
            return false;
        }
        if (w.pattern.matcher(line).find()) {
            w.seenAt = now;
            w.matchedLine = line.strip();
            return true;
        }
        return false;
    }

    ConsoleWatcher.Watch firstTerminal() {
        return firstTerminal;
    }

    /** The last snapshot taken, or null before the first poll. */
    VgaSnapshot lastSnapshot() {
        return last;
    }

    /** The display mode at the last poll. */
    DisplayMode lastMode() {
        return lastMode;
    }

    /** The last text screen read ("" if none was). */
    String lastText() {
        return lastText;
    }

    /** The first graphics mode seen, or null. */
    String graphicsMode() {
        return graphicsMode;
    }

    long graphicsSeenAt() {
        return graphicsSeenAt;
    }
}
