package io.p2vkit.cli.migrate;

import io.p2vkit.agent.discovery.Posix;
import io.p2vkit.agent.migrate.BootCheck;
import io.p2vkit.agent.migrate.Migration;
import io.p2vkit.agent.migrate.MigrationReport;
import io.p2vkit.cli.Failing;
import io.p2vkit.cli.vm.Durations;
import io.p2vkit.cli.vm.MachineOptions;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.Sizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/** {@code p2v demo}: the whole job on a sample disk, with nothing prepared. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show what p2vkit does on a sample machine: build (or take from build/test-guest/) a small "
                + "\"physical\" Linux disk from Debian packages (scripts/build-test-guest.sh: SYSLINUX, the Debian "
                + "kernel, a BusyBox userland that prints " + DemoCommand.MARKER + "), put it on a read-only loop "
                + "device when run as root (the file itself otherwise), and migrate it twice with the same code as "
                + "'p2v migrate': to VMDK and to VHD, each booted in p2vkit's machine and checked for "
                + DemoCommand.MARKER + ". Prints a table and where the reports are.",
                "",
                "Needs Debian's seabios package and the tools the script names; as root it installs them with "
                        + "apt-get, otherwise it prints the command. Exit 0 when both migrations are MIGRATED, 1 when "
                        + "one FAILED, 2 on an error before booting."},
        footer = {"", "Examples:", "  bin/p2v demo", "  sudo bin/p2v demo -o /tmp/p2v-demo --accel emu"})
public final class DemoCommand implements Callable<Integer>, Failing {

    /** The line the sample disk's /init prints once Linux is up. */
    static final String MARKER = "P2V-GUEST-OK";

    /** The formats the demo migrates to: the option value and the file extension. */
    static final List<String> FORMATS = List.of("vmdk", "vhd");

    @Option(names = "-o", paramLabel = "DIR", defaultValue = "p2v-demo",
            description = "Folder for the images and reports, one subfolder per format; overwritten on every run (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "6m",
            description = "How long each boot may take; Linux on the emulator takes minutes (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--no-loop", description = "Capture the disk file even when root (no loop device).")
    boolean noLoop;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;

    @Mixin
    MachineOptions machine;

    @Override
    public Integer call() throws Exception {
        Duration limit = Durations.parse("--timeout", timeout);
        boolean root = Posix.isRoot();
        Path repo = SampleDisk.repoRoot();
        Prerequisites.ensureFirmware(root);
        System.err.println("demo: building the sample physical disk with " + SampleDisk.SCRIPT + " (cached after the first build)");
        Path disk = SampleDisk.build(repo);
        HypervisorBootCheck check = new HypervisorBootCheck(machine, false);
        List<MigrationReport> reports = new ArrayList<>();
        boolean loop = root && !noLoop;
        try (LoopDevice dev = loop ? LoopDevice.attachReadOnly(disk) : null) {
            Path source = dev == null ? disk : dev.device();
            System.err.println("demo: source " + source + (dev == null
                    ? " (a plain file" + (root ? ", --no-loop" : "; as root it would be a loop device") + ")"
                    : " (a read-only loop device over " + disk + ")"));
            // The two migrations run side by side: each boot is one emulated CPU, and the
            // machine has a core for each.
            List<Future<MigrationReport>> jobs = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(FORMATS.size());
            try {
                for (String fmt : FORMATS) {
                    Migration.Request r = new Migration.Request(source, Formats.get().require(fmt),
                            "sample-server." + fmt, outDir.resolve(fmt), CreateOptions.none(), Pattern.compile(MARKER),
                            limit, false, true);
                    BootCheck boot = check.labelled("demo " + fmt + " boot");
                    jobs.add(pool.submit(() -> Migration.run(r, MigrateCommand.captureProgress(false, false),
                            MigrateCommand.lines("demo " + fmt, false), boot)));
                }
                for (Future<MigrationReport> job : jobs) {
                    reports.add(result(job));
                }
            } finally {
                pool.shutdownNow();
            }
        }
        System.out.print(table(reports));
        return reports.stream().allMatch(MigrationReport::migrated) ? 0 : 1;
    }

    /** A migration's report, or the exception it ended with as it would have been thrown. */
    private static MigrationReport result(Future<MigrationReport> job) throws Exception {
        try {
            return job.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** One row per migration, in the order of {@link #FORMATS}; then why the failed ones failed. */
    static String table(List<MigrationReport> reports) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-6s  %10s  %8s  %-8s  %s%n", "format", "image", "time", "result", "report"));
        for (int i = 0; i < reports.size(); i++) {
            MigrationReport r = reports.get(i);
            sb.append(String.format(Locale.ROOT, "%-6s  %10s  %8s  %-8s  %s%n", FORMATS.get(i),
                    Sizes.human(r.image().fileSize()), Summary.seconds(r.timings().total()), r.result().name(),
                    r.image().path().resolveSibling(Migration.REPORT_HTML)));
        }
        for (int i = 0; i < reports.size(); i++) {
            if (!reports.get(i).migrated()) {
                sb.append(FORMATS.get(i)).append(": ").append(reports.get(i).reason()).append('\n');
            }
        }
        return sb.toString();
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
