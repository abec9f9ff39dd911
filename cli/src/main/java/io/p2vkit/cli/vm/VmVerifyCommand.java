package io.p2vkit.cli.vm;

import io.p2vkit.cli.Failing;
import io.p2vkit.cli.launch.TrainingBoot;
import io.p2vkit.hv.verify.BootReport;
import io.p2vkit.hv.verify.BootVerifier;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code p2v vm verify}: boot and decide whether the guest came up. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Boot DISK and watch the serial console and the VGA text screen for --expect. Exit 0 when it appears, 1 "
                + "on timeout, triple fault, a --fail match or a firmware/kernel failure (No "
                + "bootable device, Kernel panic), 2 on an error before the boot (bad image, no "
                + "firmware)."},
        footer = {"", "Examples:", "  p2v vm verify disk.vmdk --expect 'login:' --timeout 120s --report report.json --screenshot screen.png",
                "  p2v vm verify --accel emu --disk-bus virtio disk.qcow2 --expect 'P2V-GUEST-OK'"})
public final class VmVerifyCommand implements Callable<Integer>, Failing {

    @Mixin
    VmOptions vm;

    @Option(names = "--expect", paramLabel = "REGEX", required = true, description = "Text (a regular expression) that means the guest came up.")
    String expect;

    @Option(names = "--fail", paramLabel = "REGEX", description = "Text that means the boot failed (repeatable).")
    List<String> fail = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", description = "How long to wait (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--report", paramLabel = "FILE", description = "Write the report as JSON.")
    Path report;

    @Option(names = "--log", paramLabel = "FILE", description = "Write the console log.")
    Path log;

    @Option(names = "--screenshot", paramLabel = "FILE.png",
            description = "Write a PNG of the final text screen, whatever the outcome. Without it, a failed boot "
                    + "with --report leaves one beside the report (REPORT.png).")
    Path screenshot;

    @Option(names = "--output", paramLabel = "human|json", defaultValue = "human", description = "Result on stdout as text or JSON.")
    String output;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        Pattern expected = compile("--expect", expect);
        Duration limit = Durations.parse("--timeout", timeout);
        BootVerifier verifier = new BootVerifier(vm.engine()).expect(expected).timeout(limit);
        for (String f : fail) {
            verifier.failOn(compile("--fail", f));
        }
        if (screenshot != null) {
            Path parent = screenshot.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new io.p2vkit.image.ImageFormatException("--screenshot: no such directory: " + parent);
            }
            verifier.screenshot(screenshot);
        } else if (report != null) {
            verifier.failureScreenshot(failureScreenshotBeside(report));
        }
        BootProgressLines lines = new BootProgressLines(System.err, "verify", limit, expected.pattern(),
                output.equalsIgnoreCase("json"));
        verifier.progress(lines);
        List<VirtualDisk> disks = vm.openDisks();
        BootReport r;
        try {
            r = verifier.verify(vm.config(disks));
        } finally {
            for (VirtualDisk d : disks) {
                d.close();
            }
        }
        lines.finish();
        TrainingBoot.finished(r);
        if (log != null) {
            Files.writeString(log, r.consoleLog());
        }
        if (screenshot != null && r.screenshot() == null) {
            System.err.println("p2v: no screenshot written: the display is " + r.display());
        }
        Map<String, Object> json = reportJson(r);
        if (report != null) {
            Files.writeString(report, Json.write(json) + System.lineSeparator());
        }
        if (output.equalsIgnoreCase("json")) {
            System.out.println(Json.write(json));
        } else {
            System.out.println(r.summary());
        }
        return r.passed() ? 0 : 1;
    }

    private Map<String, Object> reportJson(BootReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("passed", r.passed());
        m.put("reason", r.reason());
        m.put("engine", r.engine());
        m.put("engine_detail", r.engineDetail());
        m.put("disks", vm.disks.stream().map(Path::toString).toList());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("firmware_banner_ms", ms(r.firmwareBanner()));
        t.put("bootloader_started_ms", ms(r.bootloaderStarted()));
        t.put("expected_seen_ms", ms(r.expectedSeen()));
        t.put("elapsed_ms", ms(r.elapsed()));
        m.put("timings", t);
        m.put("engine_gaps", r.engineGaps());
        m.put("matched_on", r.matchedOn());
        m.put("display", r.display());
        m.put("graphics_mode", r.graphicsMode());
        m.put("screenshot", r.screenshot() == null ? null : r.screenshot().toString());
        m.put("screen_text", r.screenText());
        m.put("console_log", r.consoleLog());
        return m;
    }

    /** report.json → report.png next to it. */
    static Path failureScreenshotBeside(Path report) {
        String name = report.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return report.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".png");
    }

    private static Long ms(Duration d) {
        return d == null ? null : d.toMillis();
    }

    private static Pattern compile(String option, String regex) throws io.p2vkit.image.ImageFormatException {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new io.p2vkit.image.ImageFormatException(option + ": bad regular expression: " + e.getDescription());
        }
    }

    @Override
    public int errorExitCode() {
        return 2;
    }

    @Override
    public boolean debug() {
        return debug;
    }
}
