package io.p2vkit.hv.verify;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.machine.MachineConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Boots a machine and decides whether the guest came up: the serial console or the VGA text
 * screen must show the expected pattern before any failure pattern, before the timeout, and
 * before the guest stops (triple fault, engine error, reset). The screen is read every
 * {@link #SCREEN_POLL_MS} ms and once more when the guest stops. The engine is whatever
 * {@link Engine} the caller passes — KVM, or the emulator through {@code EmuEngine} and its vCPU
 * factory.
 */
public final class BootVerifier {

    /** SeaBIOS's banner ("SeaBIOS (version 1.16.2-debian-1.16.2-1)"). */
    public static final Pattern FIRMWARE_BANNER = Pattern.compile("SeaBIOS \\(version");
    /** SeaBIOS's last words before it jumps to a boot sector. */
    public static final Pattern BOOTLOADER_HANDOFF = Pattern.compile("Booting from (Hard Disk|DVD/CD|Floppy|ROM)");
    /**
     * Console text that means the boot failed, whatever the caller expects. SeaBIOS's per-device
     * "Boot failed: not a bootable disk" is not among them: it goes on to the next device.
     */
    public static final List<Pattern> DEFAULT_FAILURES = List.of(
            Pattern.compile("No bootable device"),
            Pattern.compile("Kernel panic"),
            // The kernel's real-mode stub refusing the CPU (a 64-bit kernel on a CPU without long mode).
            Pattern.compile("Unable to boot - please use a kernel appropriate for your CPU"));

    /** How often the text screen is read while the guest runs. */
    static final long SCREEN_POLL_MS = 200;

    private final Engine engine;
    private Path screenshot;
    private Path failureScreenshot;
    private Pattern expect = Pattern.compile("login:");
    private final List<Pattern> failures = new ArrayList<>(DEFAULT_FAILURES);
    private Duration timeout = Duration.ofSeconds(60);
    private Progress progress = (elapsed, phase) -> { };

    /** Told about once a second how long the guest has run and the last milestone it reached. */
    @FunctionalInterface
    public interface Progress {
        void waiting(Duration elapsed, String lastMilestone);

        /** Something happened to the display worth a line in the log (a switch to graphics). */
        default void display(String event) {
        }
    }

    public BootVerifier(Engine engine) {
        this.engine = engine;
    }

    public BootVerifier expect(Pattern p) {
        this.expect = p;
        return this;
    }

    /** Adds a failure pattern to the defaults. */
    public BootVerifier failOn(Pattern p) {
        failures.add(p);
        return this;
    }

    public BootVerifier progress(Progress p) {
        this.progress = p;
        return this;
    }

    /** Writes a PNG of the final text screen to {@code file}, whatever the outcome. */
    public BootVerifier screenshot(Path file) {
        this.screenshot = file;
        return this;
    }

    /** Writes a PNG of the final text screen to {@code file} only when the boot fails. */
    public BootVerifier failureScreenshot(Path file) {
        this.failureScreenshot = file;
        return this;
    }

    public BootVerifier timeout(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        this.timeout = d;
        return this;
    }

    /**
     * Builds a machine from {@code config} (its serial and debug sinks are replaced), boots it and
     * returns the report. Host failures (no firmware, KVM refusing) are exceptions; everything the
     * guest does is in the report.
     */
    public BootReport verify(MachineConfig config) throws IOException, InterruptedException {
        ConsoleWatcher console = new ConsoleWatcher();
        StringBuilder firmwareLog = new StringBuilder();
        ConsoleWatcher.Watch banner = console.milestone("firmware banner", FIRMWARE_BANNER);
        ConsoleWatcher.Watch handoff = console.milestone("bootloader", BOOTLOADER_HANDOFF);
        ConsoleWatcher.Watch expected = console.terminal("expected", expect);
        for (Pattern f : failures) {
            console.terminal("failure", f);
        }
        config.engine(engine).serialSink(console).debugSink(b -> {
            synchronized (firmwareLog) {
                if (firmwareLog.length() < ConsoleWatcher.MAX_LOG) {
                    firmwareLog.append((char) b);
                }
            }
        });
        long t0 = System.nanoTime();
        Machine.StopInfo stop;
        String detail;
        String gaps;
        ScreenWatcher screen = null;
        ConsoleWatcher.Watch screenBanner = null;
        ConsoleWatcher.Watch screenHandoff = null;
        ConsoleWatcher.Watch screenExpected = null;
        try (Machine m = Machine.create(config)) {
            detail = m.engineDescription();
            if (m.vga() != null) {
                screen = new ScreenWatcher(m.vga());
                screenBanner = screen.milestone("firmware banner", FIRMWARE_BANNER);
                screenHandoff = screen.milestone("bootloader", BOOTLOADER_HANDOFF);
                screenExpected = screen.terminal("expected", expect);
                for (Pattern f : failures) {
                    screen.terminal("failure", f);
                }
            }
            m.start();
            long deadline = t0 + timeout.toNanos();
            long nextProgress = t0 + 1_000_000_000L;
            long nextPoll = t0 + SCREEN_POLL_MS * 1_000_000L;
            stop = null;
            while (console.firstTerminal() == null && (screen == null || screen.firstTerminal() == null)) {
                long now = System.nanoTime();
                if (screen != null && now >= nextPoll) {
                    pollScreen(screen, now);
                    nextPoll = now + SCREEN_POLL_MS * 1_000_000L;
                }
                if (now >= nextProgress) {
                    progress.waiting(Duration.ofNanos(now - t0),
                            seen(handoff, screenHandoff) ? "bootloader started"
                                    : seen(banner, screenBanner) ? "firmware banner seen" : "starting");
                    nextProgress = now + 1_000_000_000L;
                }
                stop = m.awaitStop(Duration.ofMillis(20));
                if (stop != null) {
                    // Give a console line written just before the stop a chance to count.
                    console.done().await(50, TimeUnit.MILLISECONDS);
                    break;
                }
                if (System.nanoTime() > deadline) {
                    break;
                }
            }
            if (stop == null) {
                m.stop("verification finished");
            }
            if (screen != null) {
                pollScreen(screen, System.nanoTime());   // what the screen shows at the end counts too
            }
            gaps = m.vcpus().stream().map(Vcpu::missingFeatures).filter(g -> !g.isEmpty())
                    .findFirst().orElse("");
        }
        long end = System.nanoTime();
        ConsoleWatcher.Watch serialHit = console.firstTerminal();
        ConsoleWatcher.Watch screenHit = screen == null ? null : screen.firstTerminal();
        boolean onScreen = screenHit != null && (serialHit == null || screenHit.seenAt < serialHit.seenAt);
        ConsoleWatcher.Watch hit = onScreen ? screenHit : serialHit;
        String where = onScreen ? "on the screen" : "on the serial console";
        boolean passed = hit != null && (hit == expected || hit == screenExpected);
        String graphics = screen == null ? null : screen.graphicsMode();
        String reason;
        if (passed) {
            reason = "matched /" + expect.pattern() + "/ " + where + " in \"" + hit.matchedLine + "\"";
        } else if (hit != null) {
            reason = "failure text " + where + ": \"" + hit.matchedLine + "\"";
        } else if (stop != null) {
            reason = switch (stop.stop()) {
                case TRIPLE_FAULT -> "guest stopped: " + stop.reason();
                case ERROR -> "engine stopped the guest: " + stop.reason();
                case SHUTDOWN -> "guest shut down before /" + expect.pattern() + "/ appeared: " + stop.reason();
                case REQUESTED -> "guest stopped: " + stop.reason();
            };
        } else {
            reason = "timeout after " + timeout.toMillis() + " ms without /" + expect.pattern() + "/"
                    + (seen(banner, screenBanner) ? "" : " (no firmware banner either)")
                    + (graphics == null ? "" : " (the guest switched the display to " + graphics
                    + ", which is not read)");
        }
        String fwLog;
        synchronized (firmwareLog) {
            fwLog = firmwareLog.toString();
        }
        String display = "none";
        String screenText = "";
        Path shot = null;
        if (screen != null) {
            display = screen.lastMode().describe();
            screenText = screen.lastText();
            Path target = screenshot != null ? screenshot : passed ? null : failureScreenshot;
            if (target != null) {
                shot = Screenshots.write(screen.lastSnapshot(), target) ? target : null;
            }
        }
        return new BootReport(passed, reason, engine.name(), detail,
                since(t0, first(banner, screenBanner)), since(t0, first(handoff, screenHandoff)),
                since(t0, first(expected, screenExpected)), Duration.ofNanos(end - t0),
                console.log(), fwLog, gaps, hit == null ? null : onScreen ? BootReport.SCREEN : BootReport.SERIAL,
                display, graphics, screenText, shot);
    }

    /** Reads the screen; the first time it shows graphics, says so through the progress listener. */
    private void pollScreen(ScreenWatcher screen, long now) {
        String before = screen.graphicsMode();
        screen.poll(now);
        if (before == null && screen.graphicsMode() != null) {
            progress.display("the guest switched the display to " + screen.graphicsMode()
                    + "; text can no longer be read from the screen");
        }
    }

    private static boolean seen(ConsoleWatcher.Watch serial, ConsoleWatcher.Watch onScreen) {
        return first(serial, onScreen) >= 0;
    }

    /** The earlier of the two sightings (nanoTime), or -1 when neither saw it. */
    private static long first(ConsoleWatcher.Watch serial, ConsoleWatcher.Watch onScreen) {
        long a = serial.seenAt;
        long b = onScreen == null ? -1 : onScreen.seenAt;
        return a < 0 ? b : b < 0 ? a : Math.min(a, b);
    }

    private static Duration since(long t0, long t) {
        return t < 0 ? null : Duration.ofNanos(t - t0);
    }
}
