package io.p2vkit.cli;

import io.p2vkit.cli.agent.CaptureCommand;
import io.p2vkit.cli.agent.DisksCommand;
import io.p2vkit.cli.image.ImageCommand;
import io.p2vkit.cli.migrate.DemoCommand;
import io.p2vkit.cli.migrate.MigrateCommand;
import io.p2vkit.cli.vm.VmCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code p2v}: the one command of p2vkit. */
@Command(name = "p2v", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Move physical machines into virtual ones and prove the move worked.",
                ""},
        subcommands = {DisksCommand.class, CaptureCommand.class, ImageCommand.class, VmCommand.class,
                MigrateCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'p2v COMMAND --help' for a command's options."})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs {@code p2v args...} and returns the exit code (tests call this). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
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
