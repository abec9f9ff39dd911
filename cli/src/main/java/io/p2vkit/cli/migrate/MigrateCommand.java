package io.p2vkit.cli.migrate;

import io.p2vkit.agent.migrate.Migration;
import io.p2vkit.agent.migrate.MigrationReport;
import io.p2vkit.agent.migrate.ReportJson;
import io.p2vkit.cli.Failing;
import io.p2vkit.cli.Progress;
import io.p2vkit.cli.vm.BootProgressLines;
import io.p2vkit.cli.vm.Durations;
import io.p2vkit.cli.vm.MachineOptions;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.convert.ProgressListener;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** {@code p2v migrate}: capture a disk, boot the image, and report whether the machine moved. */
@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Migrate SOURCE (a block device or a raw image file) into a virtual machine image and prove "
                + "that it boots: capture SOURCE into DIR/NAME.FMT with its manifest (as 'p2v capture' does: "
                + "used blocks only, the source never written), boot the image in p2vkit's own machine "
                + "(SeaBIOS, VGA text screen, the emulator or KVM) and watch its serial console and screen for "
                + "--expect. Without --expect, the default boot markers count: " + "a login prompt ('login:'), "
                + "systemd's 'Reached target Multi-User System' or 'Graphical Interface', and the p2vkit test "
                + "guest's 'P2V-GUEST-OK'.",
                "",
                "Writes DIR/NAME.FMT, DIR/NAME.FMT.manifest.json, DIR/report.json (docs/migrate.md), "
                        + "DIR/report.html (a page to read: source, image, sizes, checksums, timings, the console "
                        + "log and the screenshot) and DIR/screen.png (the last screen).",
                "",
                "Exit codes: 0 MIGRATED, 1 FAILED (the guest did not come up: timeout, 'No bootable device', "
                        + "kernel panic...), 2 an error before the boot (unreadable source, existing output "
                        + "without --force, no firmware)."},
        footer = {"", "Examples:",
                "  sudo p2v migrate /dev/sda -O vmdk -o /srv/sda-migrated -p",
                "  p2v migrate server.img -O vhd -o out --expect 'login:' --timeout 5m --accel emu"})
public final class MigrateCommand implements Callable<Integer>, Failing {

    @Parameters(paramLabel = "SOURCE", description = "The disk to migrate: a block device or a raw image file.")
    Path source;

    @Option(names = "-O", paramLabel = "FMT", defaultValue = "vmdk", description = "Image format: vmdk, vhd (vpc), qcow2, raw (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "-o", paramLabel = "DIR", required = true, description = "Folder for the image and the reports (created).")
    Path outDir;

    @Option(names = "--expect", paramLabel = "REGEX", description = "Text (a regular expression) that means the guest came up (default: the boot markers above).")
    String expect;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "120s", description = "How long the boot may take (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--format-options", paramLabel = "OPTIONS", description = "Format options, key=value,... as for 'p2v image convert -o'.")
    String formatOptions;

    @Option(names = "--verify", description = "Read the image back after the copy and compare it with the source.")
    boolean verify;

    @Option(names = "--force", description = "Overwrite the image, manifest and reports an earlier run left in DIR.")
    boolean force;

    @Option(names = "-p", description = "Show the capture's progress (the boot's is always shown).")
    boolean progress;

    @Option(names = "--output", paramLabel = "human|json", defaultValue = "human",
            description = "Result on stdout as text or as report.json; with json, progress on stderr is JSON lines too.")
    String output;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;

    @Mixin
    MachineOptions machine;

    @Override
    public Integer call() throws Exception {
        boolean json = switch (output.toLowerCase(Locale.ROOT)) {
            case "json" -> true;
            case "human" -> false;
            default -> throw new ImageFormatException("--output must be human or json, not " + output);
        };
        Migration.Request request = new Migration.Request(source, Formats.get().require(format),
                Migration.imageName(source, format.toLowerCase(Locale.ROOT)), outDir, CreateOptions.parse(formatOptions),
                expect == null ? null : regex("--expect", expect), Durations.parse("--timeout", timeout), verify, force);
        MigrationReport r = Migration.run(request, captureProgress(progress, json), lines("migrate", json),
                new HypervisorBootCheck(machine, json));
        if (json) {
            System.out.println(ReportJson.write(r));
        } else {
            System.out.print(Summary.of(r, outDir));
        }
        return r.migrated() ? 0 : 1;
    }

    static ProgressListener captureProgress(boolean progress, boolean json) {
        return progress || json ? new Progress(System.err, Progress.styleFor(json), "capture") : ProgressListener.NONE;
    }

    /** Phase lines and warnings on stderr, prefixed with the command's name, or as JSON objects. */
    static Migration.Listener lines(String prefix, boolean json) {
        return new Migration.Listener() {
            @Override
            public void phase(String line) {
                System.err.println(json ? jsonLine("phase", line) : prefix + ": " + line);
            }

            @Override
            public void warning(String line) {
                System.err.println(json ? jsonLine("warning", line) : "p2v: warning: " + line);
            }

            private String jsonLine(String kind, String text) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put(kind, prefix);
                m.put("message", text);
                return BootProgressLines.oneLine(m);
            }
        };
    }

    static Pattern regex(String option, String text) throws ImageFormatException {
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw new ImageFormatException(option + ": bad regular expression: " + e.getDescription());
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
