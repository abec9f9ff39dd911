package io.p2vkit.hv.verify;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleWatcherTest {

    private static void feed(ConsoleWatcher w, String s) {
        for (char c : s.toCharArray()) {
            w.put(c);
        }
    }

    @Test
    void stripsEscapeSequencesAndCarriageReturns() {
        ConsoleWatcher w = new ConsoleWatcher();
        feed(w, "\u001b[2J\u001b[0mSeaBIOS (version 1.16)\r\nnext");
        assertEquals("SeaBIOS (version 1.16)\nnext", w.log());
    }

    @Test
    void promptWithoutNewlineMatchesAsItArrives() {
        ConsoleWatcher w = new ConsoleWatcher();
        ConsoleWatcher.Watch login = w.terminal("expected", Pattern.compile("login: $"));
        feed(w, "Debian GNU/Linux 12 host ttyS0\n\nhost login: ");
        assertSame(login, w.firstTerminal());
        assertEquals(0, w.done().getCount());
        assertEquals("host login:", login.matchedLine);
    }

    @Test
    void firstTerminalWinsAndMilestonesKeepTheirTime() {
        ConsoleWatcher w = new ConsoleWatcher();
        ConsoleWatcher.Watch banner = w.milestone("banner", BootVerifier.FIRMWARE_BANNER);
        ConsoleWatcher.Watch fail = w.terminal("failure", Pattern.compile("No bootable device"));
        ConsoleWatcher.Watch ok = w.terminal("expected", Pattern.compile("login:"));
        feed(w, "SeaBIOS (version x)\nNo bootable device.\nlogin:");
        assertTrue(banner.seenAt > 0);
        assertSame(fail, w.firstTerminal());
        assertTrue(ok.seenAt < 0, "nothing after the first terminal match counts");
    }

    @Test
    void patternsDoNotSpanLines() {
        ConsoleWatcher w = new ConsoleWatcher();
        w.terminal("expected", Pattern.compile("a\nb"));
        feed(w, "a\nb\n");
        assertNull(w.firstTerminal());
    }
}
