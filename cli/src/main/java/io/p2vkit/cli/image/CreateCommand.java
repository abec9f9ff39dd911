package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.convert.AtomicOutput;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/** {@code p2v image create}: a new, empty image. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create a new empty image of SIZE bytes (suffixes K, M, G, T: powers of 1024).",
        footer = {"", "Example:", "  p2v image create -f vpc -o subformat=dynamic disk.vhd 20G"})
public final class CreateCommand extends P2vCommand {

    @Option(names = "-f", paramLabel = "FMT", required = true, description = "Format: raw, vpc (alias vhd), vmdk, qcow2.")
    String format;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Format options, key=value,... (see 'p2v image convert --help').")
    String options;

    @Option(names = "--force", description = "Overwrite FILE if it exists.")
    boolean force;

    @Parameters(index = "0", paramLabel = "FILE")
    Path file;

    @Parameters(index = "1", paramLabel = "SIZE", arity = "0..1",
            description = "Virtual size; may be left out with -o backing_file=..., which gives the size.")
    String size;

    @Override
    public Integer call() throws Exception {
        ImageFormat f = Formats.get().require(format);
        long bytes = 0;
        if (size != null) {
            try {
                bytes = Sizes.parse(size);
            } catch (IllegalArgumentException e) {
                throw new ImageFormatException(e.getMessage());
            }
        } else if (!CreateOptions.parse(options).has("backing_file")) {
            throw new ImageFormatException("SIZE is required (unless -o backing_file=... gives it)");
        }
        try (AtomicOutput out = AtomicOutput.begin(file, force)) {
            try (VirtualDisk d = f.create(out.stagedPath(), bytes, CreateOptions.parse(options).inFolder(out.folder()))) {
                d.flush();
                bytes = d.size();
            }
            out.commit();
        }
        System.out.println("Formatting '" + file + "', fmt=" + f.name() + " size=" + bytes);
        return 0;
    }
}
