package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.cli.Progress;
import io.p2vkit.image.Formats;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.compare.DiskComparator;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code p2v image compare}: do two images of any formats hold the same disk? */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare the contents of two images of any formats.",
                "Exit 0 identical, 1 different (the first differing offset is printed), 2 error.",
                "Images of different sizes are identical when the larger one holds only zeros "
                        + "past the smaller's end."},
        footer = {"", "Example:", "  p2v image compare -p disk.raw disk.vhd"})
public final class CompareCommand extends P2vCommand {

    @Option(names = "-f", paramLabel = "FMT", description = "Format of A (default: probe).")
    String formatA;

    @Option(names = "-F", paramLabel = "FMT", description = "Format of B (default: probe).")
    String formatB;

    @Option(names = "-p", description = "Show progress.")
    boolean progress;

    @Parameters(index = "0", paramLabel = "A")
    Path a;

    @Parameters(index = "1", paramLabel = "B")
    Path b;

    @Override
    public Integer call() throws Exception {
        ProgressListener listener = progress ? new Progress(System.err, Progress.styleFor(common.json()), "compare")
                : ProgressListener.NONE;
        DiskComparator.Result r;
        try (VirtualDisk da = Formats.get().open(a, formatA, common.readOnly());
             VirtualDisk db = Formats.get().open(b, formatB, common.readOnly())) {
            r = DiskComparator.compare(da, db, listener);
        }
        if (common.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("identical", r.identical());
            m.put("first-difference", r.firstDifference());
            m.put("size-mismatch", r.sizeMismatch());
            System.out.println(Json.write(m));
        } else if (r.identical()) {
            System.out.println(r.sizeMismatch() ? "Warning: image sizes differ; the extra part is all zeros."
                    + System.lineSeparator() + "Images are identical." : "Images are identical.");
        } else {
            System.out.println("Content mismatch at offset " + r.firstDifference() + "!");
        }
        return r.identical() ? 0 : 1;
    }

    @Override
    public int errorExitCode() {
        return 2;
    }
}
