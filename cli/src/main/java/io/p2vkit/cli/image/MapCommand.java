package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** {@code p2v image map}: which runs of the disk hold data, zeros, or nothing. */
@Command(name = "map", mixinStandardHelpOptions = true,
        description = {"List the runs of the virtual disk: data (stored), zero (stored as zeros), "
                + "unallocated (not stored here: zeros, or the backing disk's data)."},
        footer = {"", "Example:", "  p2v image map --output json disk.qcow2"})
public final class MapCommand extends P2vCommand {

    private static final long WINDOW = 1L << 30;

    @Option(names = "-f", paramLabel = "FMT", description = "Image format (default: probe).")
    String format;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        try (VirtualDisk d = Formats.get().open(file, format, common.readOnly())) {
            boolean json = common.json();
            out.println(json ? "[" : String.format(Locale.ROOT, "%-20s %-20s %s", "Offset", "Length", "Kind"));
            Extent pending = null;
            boolean first = true;
            // Windows keep memory bounded on huge disks; runs that cross a window are joined.
            for (long w = 0; w < d.size(); w += WINDOW) {
                for (Extent e : d.extents(w, Math.min(d.size(), w + WINDOW))) {
                    if (pending != null && pending.kind() == e.kind() && pending.end() == e.offset()) {
                        pending = new Extent(pending.offset(), pending.length() + e.length(), e.kind());
                        continue;
                    }
                    if (pending != null) {
                        print(out, pending, json, first);
                        first = false;
                    }
                    pending = e;
                }
            }
            if (pending != null) {
                print(out, pending, json, first);
            }
            if (json) {
                out.println(System.lineSeparator() + "]");
            }
        }
        return 0;
    }

    private static void print(PrintStream out, Extent e, boolean json, boolean first) {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", e.offset());
            m.put("length", e.length());
            m.put("kind", e.kind());
            m.put("data", e.kind() == Extent.Kind.DATA);
            m.put("zero", e.kind() == Extent.Kind.ZERO);
            out.print((first ? "" : "," + System.lineSeparator()) + "  " + Json.write(m).replaceAll("\\s*\\n\\s*", " "));
        } else {
            out.printf(Locale.ROOT, "0x%-18x 0x%-18x %s%n", e.offset(), e.length(),
                    e.kind().name().toLowerCase(Locale.ROOT));
        }
    }
}
