package io.p2vkit.cli.agent;

import io.p2vkit.agent.capture.Capture;
import io.p2vkit.cli.P2vCommand;
import io.p2vkit.cli.Progress;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Map;

/** {@code p2v capture}: image a source disk, copying only used blocks. */
@Command(name = "capture", mixinStandardHelpOptions = true,
        description = {"Capture SOURCE (a block device or a raw image file) into an image. The source is "
                + "opened read-only and never written. Only blocks in use by ext2/3/4, FAT and NTFS "
                + "are copied (free blocks, including deleted files, become zeros); unknown or "
                + "damaged filesystems are copied whole; partition tables, boot loader gaps and "
                + "space outside partitions are always copied. A manifest with the disk's SHA-256 "
                + "is written next to the image (FILE.manifest.json)."},
        footer = {"", "Example:", "  p2v capture /dev/sda -O vmdk -o sda.vmdk -p --verify"})
public final class CaptureCommand extends P2vCommand {

    @Option(names = "-O", paramLabel = "FMT", defaultValue = "vmdk", description = "Image format (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "-o", paramLabel = "FILE", required = true, description = "The image to write.")
    Path output;

    @Option(names = "--format-options", paramLabel = "OPTIONS", description = "Format options, key=value,... as for 'p2v image convert -o'.")
    String formatOptions;

    @Option(names = "--all", description = "Copy every sector, used or not.")
    boolean all;

    @Option(names = "--verify", description = "Read the image back and compare it with the source's copied regions.")
    boolean verify;

    @Option(names = "--freeze", description = "Freeze the source's mounted writable filesystems during the copy (FIFREEZE); never the one holding the output.")
    boolean freeze;

    @Option(names = "-p", description = "Show progress.")
    boolean progress;

    @Option(names = "--force", description = "Overwrite an existing image and manifest.")
    boolean force;

    @Parameters(paramLabel = "SOURCE")
    Path source;

    @Override
    public Integer call() throws Exception {
        Capture.Request req = new Capture.Request(source, Formats.get().require(format), output,
                CreateOptions.parse(formatOptions), all, verify, force, freeze);
        ProgressListener listener = progress || common.json()
                ? new Progress(System.err, Progress.styleFor(common.json()), "capture") : ProgressListener.NONE;
        Capture.Result r = Capture.run(req, listener, w -> System.err.println("p2v: warning: " + w));
        Map<String, Object> m = r.manifestData().content();
        if (common.json()) {
            System.out.println(Json.write(m));
        } else {
            @SuppressWarnings("unchecked")
            Map<String, Object> img = (Map<String, Object>) m.get("image");
            System.out.println("captured " + source + " -> " + output + " (" + format + ")");
            System.out.println("  copied " + Sizes.human((Long) m.get("copied_regions_bytes")) + " of "
                    + Sizes.human((Long) img.get("virtual_size")) + ", wrote " + Sizes.human((Long) img.get("bytes_written")));
            System.out.println("  sha256 " + r.manifestData().sha256() + (verify ? " (verified)" : ""));
            System.out.println("  manifest " + r.manifest());
        }
        return 0;
    }
}
