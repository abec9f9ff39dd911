package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.cli.Progress;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.convert.Converter;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code p2v image convert}: copy a disk into a new image of any format. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert SRC into a new image DST of format -O. Only blocks holding data are read "
                + "and written; the output is written under a temporary name and appears only when "
                + "complete."},
        footer = {"", "Options by format (-o key=value,...):",
                "  vpc:   subformat=dynamic|fixed, force_size=on, azure=on (fixed, whole MiB)",
                "vmdk:  "
                        + "subformat=monolithicSparse|streamOptimized|monolithicFlat|twoGbMaxExtentSparse, "
                        + "adapter_type=ide|lsilogic|buslogic",
                "  qcow2: cluster_size=65536, compat=1.1|0.10, compress=on (same as -c)",
                "", "Examples:", "  p2v image convert -p -O vmdk -o subformat=streamOptimized disk.raw disk.vmdk",
                "  p2v image convert -O vpc -o subformat=fixed,azure=on disk.qcow2 azure.vhd"})
public final class ConvertCommand extends P2vCommand {

    @Option(names = "-f", paramLabel = "FMT", description = "Source format (default: probe).")
    String sourceFormat;

    @Option(names = "-O", paramLabel = "FMT", required = true, description = "Output format: raw, vpc (alias vhd), vmdk, qcow2.")
    String outputFormat;

    @Option(names = "-o", paramLabel = "OPTIONS", description = "Output format options, key=value,...")
    String options;

    @Option(names = "-c", description = "Compress the output (qcow2, vmdk streamOptimized compresses always).")
    boolean compress;

    @Option(names = "-p", description = "Show progress.")
    boolean progress;

    @Option(names = "--force", description = "Overwrite DST if it exists.")
    boolean force;

    @Parameters(index = "0", paramLabel = "SRC")
    Path source;

    @Parameters(index = "1", paramLabel = "DST")
    Path destination;

    @Override
    public Integer call() throws Exception {
        ImageFormat format = Formats.get().require(outputFormat);
        CreateOptions opts = CreateOptions.parse(options);
        if (compress) {
            opts = opts.with("compress", "on");
        }
        if (Files.exists(destination) && Files.exists(source) && Files.isSameFile(source, destination)) {
            throw new ImageFormatException("SRC and DST are the same file");
        }
        ProgressListener listener = progress || common.json()
                ? new Progress(System.err, Progress.styleFor(common.json()), "convert") : ProgressListener.NONE;
        Converter.Result r;
        try (VirtualDisk src = Formats.get().open(source, sourceFormat, common.readOnly())) {
            r = Converter.convert(src, format, destination, opts, force, listener);
        }
        if (common.json()) {
            System.out.println(Json.write(r));
        }
        return 0;
    }
}
