package io.p2vkit.cli.image;

import io.p2vkit.cli.CommonOptions;
import io.p2vkit.cli.P2vCommand;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The image verbs' plain command lines, parsed without picocli. Building picocli's model of a
 * command means reading its annotations through proxies generated at run time, which the AOT
 * cache cannot hold: ~50 ms of a conversion that qemu-img finishes in ~300 ms.
 *
 * <p>A line is plain when every token after the verb is one of the verb's options, spelt exactly
 * as declared and given at most once, with its value as the next token (not starting with
 * {@code -}), or a positional parameter not starting with {@code -} or {@code @}, and the
 * required options and number of positionals are there. Anything else — help and version
 * options, attached values ({@code -Oqcow2}, {@code --output=json}), clustered flags, argument
 * files, {@code --}, a repeated or unknown option, a missing parameter — gets {@code null}, and
 * picocli parses the line with its own messages and exit codes. {@code ImageArgsTest} holds both
 * parsers to the same result.
 */
public final class ImageArgs {

    private static final Set<String> COMMON_VALUES = Set.of("--output");
    private static final Set<String> COMMON_FLAGS = Set.of("--allow-external", "--debug");

    private ImageArgs() {
    }

    /** The command {@code args} ({@code image VERB ...}) names, ready to call, or null for picocli. */
    public static P2vCommand parse(String... args) {
        if (args.length < 2 || !args[0].equals("image")) {
            return null;
        }
        try {
            return switch (args[1]) {
                case "convert" -> convert(Line.scan(args, Set.of("-f", "-O", "-o"), Set.of("-c", "-p", "--force"), 2, 2));
                case "info" -> info(Line.scan(args, Set.of("-f"), Set.of(), 1, 1));
                case "compare" -> compare(Line.scan(args, Set.of("-f", "-F"), Set.of("-p"), 2, 2));
                case "check" -> check(Line.scan(args, Set.of("-f"), Set.of(), 1, 1));
                case "map" -> map(Line.scan(args, Set.of("-f"), Set.of(), 1, 1));
                case "create" -> create(Line.scan(args, Set.of("-f", "-o"), Set.of("--force"), 1, 2));
                default -> null;
            };
        } catch (InvalidPathException e) {
            return null; // picocli reports the parameter it cannot convert
        }
    }

    private static P2vCommand convert(Line l) {
        if (l == null || !l.has("-O")) {
            return null;
        }
        ConvertCommand c = new ConvertCommand();
        c.sourceFormat = l.value("-f");
        c.outputFormat = l.value("-O");
        c.options = l.value("-o");
        c.compress = l.flag("-c");
        c.progress = l.flag("-p");
        c.force = l.flag("--force");
        c.source = l.path(0);
        c.destination = l.path(1);
        return l.withCommon(c);
    }

    private static P2vCommand info(Line l) {
        if (l == null) {
            return null;
        }
        InfoCommand c = new InfoCommand();
        c.format = l.value("-f");
        c.file = l.path(0);
        return l.withCommon(c);
    }

    private static P2vCommand compare(Line l) {
        if (l == null) {
            return null;
        }
        CompareCommand c = new CompareCommand();
        c.formatA = l.value("-f");
        c.formatB = l.value("-F");
        c.progress = l.flag("-p");
        c.a = l.path(0);
        c.b = l.path(1);
        return l.withCommon(c);
    }

    private static P2vCommand check(Line l) {
        if (l == null) {
            return null;
        }
        CheckCommand c = new CheckCommand();
        c.format = l.value("-f");
        c.file = l.path(0);
        return l.withCommon(c);
    }

    private static P2vCommand map(Line l) {
        if (l == null) {
            return null;
        }
        MapCommand c = new MapCommand();
        c.format = l.value("-f");
        c.file = l.path(0);
        return l.withCommon(c);
    }

    private static P2vCommand create(Line l) {
        if (l == null || !l.has("-f")) {
            return null;
        }
        CreateCommand c = new CreateCommand();
        c.format = l.value("-f");
        c.options = l.value("-o");
        c.force = l.flag("--force");
        c.file = l.path(0);
        c.size = l.positionals.size() > 1 ? l.positionals.get(1) : null;
        return l.withCommon(c);
    }

    /** The options and positionals of a plain line. */
    private static final class Line {
        private final Map<String, String> values = new HashMap<>();
        private final Set<String> flags = new HashSet<>();
        private final List<String> positionals = new ArrayList<>();

        /** Splits {@code args[2..]}, or null when the line is not plain. */
        static Line scan(String[] args, Set<String> valueOptions, Set<String> flagOptions, int minPositionals,
                         int maxPositionals) {
            Line l = new Line();
            for (int i = 2; i < args.length; i++) {
                String a = args[i];
                if (valueOptions.contains(a) || COMMON_VALUES.contains(a)) {
                    if (i + 1 >= args.length || !plainValue(args[i + 1]) || l.values.put(a, args[++i]) != null) {
                        return null;
                    }
                } else if (flagOptions.contains(a) || COMMON_FLAGS.contains(a)) {
                    if (!l.flags.add(a)) {
                        return null;
                    }
                } else if (plainValue(a) && !a.startsWith("@")) {
                    l.positionals.add(a);
                } else {
                    return null;
                }
            }
            int n = l.positionals.size();
            return n >= minPositionals && n <= maxPositionals ? l : null;
        }

        private static boolean plainValue(String token) {
            return !token.isEmpty() && !token.startsWith("-");
        }

        boolean has(String option) {
            return values.containsKey(option);
        }

        String value(String option) {
            return values.get(option);
        }

        boolean flag(String option) {
            return flags.contains(option);
        }

        Path path(int index) {
            return Path.of(positionals.get(index));
        }

        /** {@code cmd} with the common options set, or null when {@code --output} names no style. */
        P2vCommand withCommon(P2vCommand cmd) {
            CommonOptions common = new CommonOptions();
            String output = values.get("--output");
            if (output != null) {
                common.output = null;
                for (CommonOptions.OutputFormat f : CommonOptions.OutputFormat.values()) {
                    if (f.name().equalsIgnoreCase(output)) { // as picocli with case-insensitive enums
                        common.output = f;
                    }
                }
                if (common.output == null) {
                    return null;
                }
            }
            common.allowExternal = flags.contains("--allow-external");
            common.debug = flags.contains("--debug");
            cmd.setCommonOptions(common);
            return cmd;
        }
    }
}
