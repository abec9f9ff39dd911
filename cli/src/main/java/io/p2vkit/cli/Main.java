package io.p2vkit.cli;

import io.p2vkit.cli.agent.CaptureCommand;
import io.p2vkit.cli.agent.DisksCommand;
import io.p2vkit.cli.image.ImageArgs;
import io.p2vkit.cli.image.ImageCommand;
import io.p2vkit.cli.migrate.DemoCommand;
import io.p2vkit.cli.migrate.MigrateCommand;
import io.p2vkit.cli.vm.VmCommand;
import io.p2vkit.image.io.Libc;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;

/** {@code p2v}: the one command of p2vkit. */
@Command(name = "p2v", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Move physical machines into virtual ones and prove the move worked.",
                ""},
        footer = {"", "Run 'p2v COMMAND --help' for a command's options."})
public final class Main {

    /** The subcommands, in the order help lists them, each with the name its {@code @Command} gives. */
    static final List<Subcommand> SUBCOMMANDS = List.of(
            new Subcommand("disks", DisksCommand.class),
            new Subcommand("capture", CaptureCommand.class),
            new Subcommand("image", ImageCommand.class),
            new Subcommand("vm", VmCommand.class),
            new Subcommand("migrate", MigrateCommand.class),
            new Subcommand("demo", DemoCommand.class),
            new Subcommand("help", CommandLine.HelpCommand.class));

    record Subcommand(String name, Class<?> type) {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("image")) {
            linkNativeCallsAside();
        }
        P2vCommand plain = ImageArgs.parse(args);
        if (plain == null) {
            System.exit(runPicocli(args));
        }
        int code = ErrorHandler.execute(plain);
        // System.exit first asks for the System.Logger of java.lang.Runtime (JDK 21+ logs exits),
        // and finding a logger provider makes the service loader open every jar on the class
        // path: ~20 ms. A plain image command registers no shutdown hooks and has written its
        // files with positional writes; only System.out and System.err hold buffers.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(code);
    }

    /**
     * Links the native calls (~30 ms) on a second thread, while the command line is parsed and
     * the output created. A failure shows again, with its cause, where the class is first used.
     * The AOT training calls this too, so that the cache holds what it runs.
     */
    public static void linkNativeCallsAside() {
        Thread.ofPlatform().daemon().name("p2v-link").start(() -> {
            try {
                Libc.link();
            } catch (Throwable ignored) {
                // reported by the command that needs the calls
            }
        });
    }

    /** Runs {@code p2v args...} and returns the exit code (tests call this). */
    public static int run(String... args) {
        P2vCommand plain = ImageArgs.parse(args);
        return plain != null ? ErrorHandler.execute(plain) : runPicocli(args);
    }

    /** Runs {@code p2v args...} through picocli: help, errors, and every command but plain image lines. */
    private static int runPicocli(String... args) {
        CommandLine cl = new CommandLine(new Main());
        // picocli reads every command's annotations when it is added (~40 ms for the whole tree at
        // start-up): a command line that names a subcommand gets only that one. Anything else
        // (no argument, an option, 'help', a misspelt name) gets them all, for help and suggestions.
        String first = args.length > 0 ? args[0] : "";
        boolean named = !first.equals("help") && SUBCOMMANDS.stream().anyMatch(c -> c.name().equals(first));
        for (Subcommand c : SUBCOMMANDS) {
            if (!named || c.name().equals(first)) {
                cl.addSubcommand(c.name(), c.type());
            }
        }
        cl.setExecutionExceptionHandler(new ErrorHandler());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl.execute(args);
    }

    /** Prints the version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"p2v " + (v == null ? "dev" : v)};
        }
    }
}
