package io.p2vkit.cli;

import io.p2vkit.image.OpenOptions;
import picocli.CommandLine.Option;

/** Options shared by the commands that open images ({@code @Mixin}). */
public final class CommonOptions {

    /** Output style of a command's result. */
    public enum OutputFormat { HUMAN, JSON }

    @Option(names = "--output", paramLabel = "human|json", description = "Result as text for people (default) or JSON for scripts.")
    public OutputFormat output = OutputFormat.HUMAN;

    @Option(names = "--allow-external", description = "Follow references (backing files, extents, parents) that are absolute or leave the image's folder. Off by default: a hostile image could otherwise pull any host file into the output.")
    public boolean allowExternal;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    public boolean debug;

    public boolean json() {
        return output == OutputFormat.JSON;
    }

    public OpenOptions readOnly() {
        return OpenOptions.READ_ONLY.withAllowExternal(allowExternal);
    }
}
