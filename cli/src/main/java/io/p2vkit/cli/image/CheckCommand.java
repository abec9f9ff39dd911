package io.p2vkit.cli.image;

import io.p2vkit.cli.P2vCommand;
import io.p2vkit.image.CheckReport;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code p2v image check}: structural check with qemu-img's exit codes. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Check an image's structure: table entries beyond the end of the file, entries "
                + "sharing data, tables overlapping headers, bad checksums, refcount errors, sizes "
                + "the format cannot hold.",
                "Exit 0 clean, 1 could not check, 2 corrupt, 3 leaks only."},
        footer = {"", "Example:", "  p2v image check --output json disk.qcow2"})
public final class CheckCommand extends P2vCommand {

    @Option(names = "-f", paramLabel = "FMT", description = "Image format (default: probe).")
    String format;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
        ImageFormat f = format == null ? Formats.get().detect(file) : Formats.get().require(format);
        CheckReport r = f.check(file, common.readOnly(), Formats.get());
        if (common.json()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("filename", file.toString());
            m.put("format", r.format());
            m.put("check-errors", r.corruptionCount());
            m.put("leaks", r.leakCount());
            m.put("corruptions-list", r.corruptions());
            m.put("leaks-list", r.leaks());
            m.put("allocated-clusters", r.allocatedClusters());
            m.put("total-clusters", r.totalClusters());
            System.out.println(Json.write(m));
        } else {
            r.corruptions().forEach(c -> System.out.println("ERROR " + c));
            r.leaks().forEach(l -> System.out.println("Leaked: " + l));
            if (r.isClean()) {
                System.out.println("No errors were found on the image.");
            } else {
                System.out.println();
                if (r.corruptionCount() > 0) {
                    System.out.println(r.corruptionCount() + " errors were found on the image."
                            + System.lineSeparator() + "Data may be corrupted, or further writes to the image may corrupt it.");
                }
                if (r.leakCount() > 0) {
                    System.out.println(r.leakCount() + " leaked clusters were found on the image."
                            + System.lineSeparator() + "This means waste of disk space, but no harm to data.");
                }
            }
            if (r.totalClusters() > 0) {
                System.out.printf("%d/%d = %.2f%% allocated%n", r.allocatedClusters(), r.totalClusters(),
                        100.0 * r.allocatedClusters() / r.totalClusters());
            }
        }
        return r.exitCode();
    }

    @Override
    public int errorExitCode() {
        return CheckReport.EXIT_CANNOT_CHECK;
    }
}
