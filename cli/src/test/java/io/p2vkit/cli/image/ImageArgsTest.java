package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain-line parser fills every option and parameter exactly as picocli does, and hands
 * every other line to picocli.
 */
class ImageArgsTest {

    /** Lines the plain parser takes; each must give the fields picocli gives. */
    private static final String[][] PLAIN = {
            {"image", "convert", "-O", "qcow2", "a.raw", "b.qcow2"},
            {"image", "convert", "a.raw", "-O", "vmdk", "-o", "subformat=streamOptimized", "b.vmdk"},
            {"image", "convert", "-f", "raw", "-O", "qcow2", "-c", "-p", "--force", "a", "b"},
            {"image", "convert", "-c", "-O", "qcow2", "a", "b"},
            {"image", "convert", "-O", "qcow2", "-p", "a", "b"},
            {"image", "convert", "-O", "raw", "--force", "--debug", "a", "b"},
            {"image", "convert", "--output", "JSON", "--allow-external", "--debug", "-O", "vpc", "a", "b"},
            {"image", "convert", "-O", "vpc", "--output", "human", "x/y z.raw", "../b.vhd"},
            {"image", "info", "disk.vmdk"},
            {"image", "info", "--debug", "disk.vmdk"},
            {"image", "info", "-f", "vmdk", "--output", "json", "disk.vmdk"},
            {"image", "compare", "-f", "raw", "-F", "vpc", "-p", "a.raw", "b.vhd"},
            {"image", "compare", "a", "b", "--output", "json"},
            {"image", "check", "--output", "json", "disk.qcow2"},
            {"image", "check", "-f", "qcow2", "--allow-external", "disk.qcow2"},
            {"image", "map", "--output", "Json", "disk.qcow2"},
            {"image", "map", "-f", "raw", "disk.raw"},
            {"image", "create", "-f", "qcow2", "disk.qcow2", "20G"},
            {"image", "create", "-f", "qcow2", "-o", "backing_file=base.qcow2", "--force", "child.qcow2"},
    };

    /** Lines the plain parser must leave to picocli (help, attached values, errors ...). */
    private static final String[][] NOT_PLAIN = {
            {"image"},
            {"image", "convert"},
            {"image", "convert", "--help"},
            {"image", "convert", "-h", "-O", "qcow2", "a", "b"},
            {"image", "convert", "-V"},
            {"image", "convert", "-Oqcow2", "a", "b"},
            {"image", "convert", "-O", "qcow2", "-cp", "a", "b"},
            {"image", "convert", "--output=json", "-O", "qcow2", "a", "b"},
            {"image", "convert", "-O", "qcow2", "a"},
            {"image", "convert", "-O", "qcow2", "a", "b", "c"},
            {"image", "convert", "a", "b"},
            {"image", "convert", "-O", "qcow2", "-O", "vpc", "a", "b"},
            {"image", "convert", "-O", "qcow2", "-p", "-p", "a", "b"},
            {"image", "convert", "-O", "-c", "a", "b"},
            {"image", "convert", "-O", "qcow2", "--", "a", "b"},
            {"image", "convert", "-O", "qcow2", "@args.txt", "b"},
            {"image", "convert", "-O", "qcow2", "-", "b"},
            {"image", "convert", "-O", "qcow2", "", "b"},
            {"image", "convert", "-O", "qcow2", "a\0", "b"},
            {"image", "convert", "-O", "qcow2", "--output", "yaml", "a", "b"},
            {"image", "convert", "-O", "qcow2", "--nosuch", "a", "b"},
            {"image", "convert", "-F", "raw", "-O", "qcow2", "a", "b"},
            {"image", "info"},
            {"image", "info", "a", "b"},
            {"image", "info", "-F", "raw", "a"},
            {"image", "compare", "a"},
            {"image", "create", "disk.qcow2", "1G"},
            {"image", "create", "-f", "raw", "a", "1G", "extra"},
            {"image", "resize", "a", "1G"},
            {"image", "frobnicate", "a"},
            {"vm", "verify", "disk.raw"},
            {"--version"},
            {},
    };

    @Test
    void plainLinesGiveTheFieldsPicocliGives() throws Exception {
        for (String[] line : PLAIN) {
            P2vCommand plain = ImageArgs.parse(line);
            assertNotNull(plain, String.join(" ", line));
            P2vCommand parsed = plain.getClass().getDeclaredConstructor().newInstance();
            CommandLine cl = new CommandLine(parsed);
            cl.setCaseInsensitiveEnumValuesAllowed(true);
            cl.parseArgs(Arrays.copyOfRange(line, 2, line.length));
            assertEquals(fields(parsed), fields(plain), String.join(" ", line));
        }
    }

    @Test
    void otherLinesAreLeftToPicocli() {
        for (String[] line : NOT_PLAIN) {
            assertNull(ImageArgs.parse(line), String.join(" ", line));
        }
    }

    /** Every option an image verb declares is one the plain parser knows, so none forces picocli. */
    @Test
    void everyDeclaredOptionIsKnown() {
        for (Class<?> verb : ImageCommand.class.getAnnotation(CommandLine.Command.class).subcommands()) {
            CommandLine cl = new CommandLine(verb);
            String name = cl.getCommandName();
            List<String> positionals = new ArrayList<>();
            for (int i = 0; i < cl.getCommandSpec().positionalParameters().size(); i++) {
                positionals.add("p" + i);
            }
            Set<String> help = Set.of("-h", "--help", "-V", "--version");
            for (CommandLine.Model.OptionSpec o : cl.getCommandSpec().options()) {
                for (String option : o.names()) {
                    if (help.contains(option)) {
                        continue;
                    }
                    List<String> line = new ArrayList<>(List.of("image", name, option));
                    if (o.arity().max() > 0) {
                        line.add(o.type().isEnum() ? "json" : "value");
                    }
                    for (CommandLine.Model.OptionSpec required : cl.getCommandSpec().requiredArgs().stream()
                            .filter(a -> a instanceof CommandLine.Model.OptionSpec)
                            .map(a -> (CommandLine.Model.OptionSpec) a).toList()) {
                        if (required != o) {
                            line.addAll(List.of(required.longestName(), "value"));
                        }
                    }
                    line.addAll(positionals);
                    assertNotNull(ImageArgs.parse(line.toArray(String[]::new)), String.join(" ", line));
                }
            }
        }
    }

    /** The option, parameter and mixin fields of a command, by name, mixins flattened. */
    private static Set<String> fields(Object cmd) throws IllegalAccessException {
        Set<String> out = new TreeSet<>();
        for (Class<?> c = cmd.getClass(); c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                f.setAccessible(true);
                if (f.isAnnotationPresent(CommandLine.Mixin.class)) {
                    Object mixin = f.get(cmd);
                    assertNotNull(mixin, f.getName());
                    for (String inner : fields(mixin)) {
                        out.add(f.getName() + "." + inner);
                    }
                } else if (f.isAnnotationPresent(CommandLine.Option.class)
                        || f.isAnnotationPresent(CommandLine.Parameters.class)) {
                    out.add(f.getName() + "=" + Objects.toString(f.get(cmd)));
                }
            }
        }
        assertTrue(out.size() > 0, cmd.getClass().getName());
        return out;
    }
}
