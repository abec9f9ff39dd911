package io.p2vkit.hv.verify;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.Machine;
import io.p2vkit.hv.machine.MachineConfig;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Boots a machine and decides whether the guest came up: the serial console must show the
 * expected pattern before any failure pattern, before the timeout, and before the guest stops
 * (triple fault, engine error, reset). The engine is whatever {@link Engine} the caller passes —
 * KVM, or the emulator through {@code EmuEngine} and its vCPU factory.
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

    private final Engine engine;
    private Pattern expect = Pattern.compile("login:");
    private final List<Pattern> failures = new ArrayList<>(DEFAULT_FAILURES);
    private Duration timeout = Duration.ofSeconds(60);
    private Progress progress = (elapsed, phase) -> { };

    /** Told about once a second how long the guest has run and the last milestone it reached. */
    @FunctionalInterface
    public interface Progress {
        void waiting(Duration elapsed, String lastMilestone);
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
        try (Machine m = Machine.create(config)) {
            detail = m.engineDescription();
            m.start();
            long deadline = t0 + timeout.toNanos();
            long nextProgress = t0 + 1_000_000_000L;
            stop = null;
            while (console.firstTerminal() == null) {
                long now = System.nanoTime();
                if (now >= nextProgress) {
                    progress.waiting(Duration.ofNanos(now - t0), handoff.seenAt >= 0 ? "bootloader started"
                            : banner.seenAt >= 0 ? "firmware banner seen" : "starting");
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
            gaps = m.vcpus().stream().map(Vcpu::missingFeatures).filter(g -> !g.isEmpty())
                    .findFirst().orElse("");
        }
        long end = System.nanoTime();
        ConsoleWatcher.Watch hit = console.firstTerminal();
        boolean passed = hit == expected;
        String reason;
        if (passed) {
            reason = "matched /" + expect.pattern() + "/ in \"" + hit.matchedLine + "\"";
        } else if (hit != null) {
            reason = "failure text on the console: \"" + hit.matchedLine + "\"";
        } else if (stop != null) {
            reason = switch (stop.stop()) {
                case TRIPLE_FAULT -> "guest stopped: " + stop.reason();
                case ERROR -> "engine stopped the guest: " + stop.reason();
                case SHUTDOWN -> "guest shut down before /" + expect.pattern() + "/ appeared: " + stop.reason();
                case REQUESTED -> "guest stopped: " + stop.reason();
            };
        } else {
            reason = "timeout after " + timeout.toMillis() + " ms without /" + expect.pattern() + "/"
                    + (banner.seenAt < 0 ? " (no firmware banner either)" : "");
        }
        String fwLog;
        synchronized (firmwareLog) {
            fwLog = firmwareLog.toString();
        }
        return new BootReport(passed, reason, engine.name(), detail, since(t0, banner.seenAt),
                since(t0, handoff.seenAt), since(t0, expected.seenAt), Duration.ofNanos(end - t0),
                console.log(), fwLog, gaps);
    }

    private static Duration since(long t0, long t) {
        return t < 0 ? null : Duration.ofNanos(t - t0);
    }
}
