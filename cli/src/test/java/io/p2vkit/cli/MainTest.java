package io.p2vkit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The top-level command: which subcommands it registers, and that help still shows them all. */
class MainTest {

    @RegisterExtension
    final StdStreams std = new StdStreams();

    @Test
    void eachSubcommandIsListedUnderItsOwnName() {
        for (Main.Subcommand c : Main.SUBCOMMANDS) {
            assertEquals(c.name(), c.type().getAnnotation(CommandLine.Command.class).name(), c.type().getName());
        }
    }

    @Test
    void helpListsEverySubcommand() {
        assertEquals(0, Main.run("--help"));
        String help = std.out.toString();
        for (Main.Subcommand c : Main.SUBCOMMANDS) {
            assertTrue(help.contains("\n  " + c.name() + " "), c.name() + " missing from:\n" + help);
        }
    }

    @Test
    void helpCommandStillReachesEverySubcommand() {
        assertEquals(0, Main.run("help", "image"));
        assertTrue(std.out.toString().startsWith("Usage: p2v image"), std.out.toString());
    }

    @Test
    void aNamedSubcommandKeepsItsQualifiedUsage() {
        assertEquals(0, Main.run("image", "convert", "--help"));
        assertTrue(std.out.toString().startsWith("Usage: p2v image convert"), std.out.toString());
    }

    @Test
    void aMisspeltSubcommandIsStillSuggested() {
        assertEquals(2, Main.run("imag"));
        assertTrue(std.err.toString().contains("Did you mean: p2v image?"), std.err.toString());
    }
}
