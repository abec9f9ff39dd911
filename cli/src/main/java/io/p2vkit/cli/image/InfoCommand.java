package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code p2v image info}: format, sizes and structure of an image; references are only reported. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show an image's format, virtual size, space used and format details. Files the "
                + "image refers to are listed, not opened.",
        footer = {"", "Example:", "  p2v image info --output json disk.vmdk"})
public final class InfoCommand extends P2vCommand {

    @Option(names = "-f", paramLabel = "FMT", description = "Image format (default: probe).")
    String format;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
        ImageInfo info;
        try (VirtualDisk d = Formats.get().open(file, format, common.readOnly().withFollowReferences(false))) {
            info = d.info();
        }
        if (common.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("filename", file.toString());
            m.put("format", info.format());
            m.put("virtual-size", info.virtualSize());
            m.put("actual-size", info.fileSize());
            m.put("format-specific", info.details());
            m.put("references", info.references());
            System.out.println(Json.write(m));
        } else {
            System.out.println("image: " + file);
            System.out.println("file format: " + info.format());
            System.out.println("virtual size: " + Sizes.human(info.virtualSize()) + " (" + info.virtualSize() + " bytes)");
            System.out.println("disk size: " + Sizes.human(info.fileSize()));
            for (Map.Entry<String, Object> e : info.details().entrySet()) {
                System.out.println(e.getKey() + ": " + show(e.getValue()));
            }
            for (ImageInfo.Reference r : info.references()) {
                System.out.println(r.kind() + ": " + r.target() + (r.format() == null ? "" : " (" + r.format() + ")"));
            }
        }
        return 0;
    }

    private static String show(Object v) {
        if (v instanceof List<?> l) {
            return String.join(", ", l.stream().map(String::valueOf).toList());
        }
        return String.valueOf(v);
    }
}
