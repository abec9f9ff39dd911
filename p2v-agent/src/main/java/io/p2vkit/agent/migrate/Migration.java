package io.p2vkit.agent.migrate;

import io.p2vkit.agent.capture.Capture;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.convert.ProgressListener;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The migration job: capture a source disk into an image with its manifest, boot the image through
 * a {@link BootCheck}, decide MIGRATED or FAILED, and write report.json and report.html beside the
 * image. Errors before the boot (unreadable source, existing output) are exceptions; a guest that
 * does not come up is a FAILED report.
 */
public final class Migration {

    public static final String REPORT_JSON = "report.json";
    public static final String REPORT_HTML = "report.html";
    public static final String SCREENSHOT = "screen.png";

    /**
     * @param source    the block device or image file to capture
     * @param format    the image format to write
     * @param imageName the image's file name inside {@code outDir}
     * @param outDir    where the image, its manifest, the reports and the screenshot go (created)
     * @param options   the format's creation options
     * @param expect    the text that means the guest came up, or null for {@link BootMarkers}
     * @param timeout   how long the boot may take
     * @param verify    read the image back after the copy and compare it with the source
     * @param force     overwrite what an earlier migration left in {@code outDir}
     */
    public record Request(Path source, ImageFormat format, String imageName, Path outDir, CreateOptions options,
                          Pattern expect, Duration timeout, boolean verify, boolean force) {
    }

    /** Told when a phase begins and about the capture's warnings. */
    public interface Listener {
        void phase(String line);

        void warning(String line);
    }

    private Migration() {
    }

    /** {@code /dev/sda} → {@code sda.vmdk}; {@code server.img} → {@code server.vhd}. */
    public static String imageName(Path source, String extension) {
        String name = source.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name) + "." + extension;
    }

    public static MigrationReport run(Request r, ProgressListener captureProgress, Listener listener, BootCheck check)
            throws IOException, InterruptedException {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        if (!Files.exists(r.source())) {
            throw new NoSuchFileException(r.source().toString());   // before any output folder is made
        }
        Files.createDirectories(r.outDir());
        Path image = r.outDir().resolve(r.imageName());
        Path screenshot = r.outDir().resolve(SCREENSHOT);
        for (String name : List.of(REPORT_JSON, REPORT_HTML, SCREENSHOT)) {
            Path p = r.outDir().resolve(name);
            if (Files.exists(p) && !r.force()) {
                throw new FileAlreadyExistsException(p + " exists (use --force to overwrite)");
            }
        }
        // An old screenshot must not pass for this boot's when this machine has no screen.
        Files.deleteIfExists(screenshot);

        listener.phase("capturing " + r.source() + " -> " + image + " (" + r.format().name() + ")");
        Capture.Result captured = Capture.run(new Capture.Request(r.source(), r.format(), image, r.options(), false,
                r.verify(), r.force(), false), captureProgress, listener::warning);
        long tCapture = System.nanoTime();
        String fileSha256 = sha256Of(image);
        long tChecksum = System.nanoTime();

        boolean defaults = r.expect() == null;
        Pattern expect = defaults ? BootMarkers.defaultPattern() : r.expect();
        listener.phase("booting " + image + ", waiting up to " + r.timeout().toSeconds() + " s for /" + expect.pattern() + "/");
        BootOutcome boot = check.boot(image, expect, r.timeout(), screenshot);
        long tBoot = System.nanoTime();

        Map<String, Object> m = captured.manifestData().content();
        Map<?, ?> src = (Map<?, ?>) m.get("source");
        Map<?, ?> img = (Map<?, ?>) m.get("image");
        MigrationReport report = new MigrationReport(
                boot.passed() ? MigrationReport.Result.MIGRATED : MigrationReport.Result.FAILED,
                boot.reason(), started,
                new MigrationReport.Source(String.valueOf(src.get("path")), (Long) src.get("size"),
                        String.valueOf(src.get("partition_table"))),
                new MigrationReport.Image(image, r.format().name(), (Long) img.get("virtual_size"), Files.size(image),
                        (Long) m.get("copied_regions_bytes"), captured.manifestData().sha256(), fileSha256,
                        captured.manifest()),
                new MigrationReport.Expectation(expect.pattern(), defaults),
                new MigrationReport.Timings(Duration.ofNanos(tCapture - t0), Duration.ofNanos(tChecksum - tCapture),
                        Duration.ofNanos(tBoot - tChecksum), Duration.ofNanos(System.nanoTime() - t0)),
                boot, warnings(m));
        writeAtomically(r.outDir().resolve(REPORT_JSON), ReportJson.write(report) + System.lineSeparator());
        writeAtomically(r.outDir().resolve(REPORT_HTML), ReportHtml.write(report));
        return report;
    }

    private static List<String> warnings(Map<String, Object> manifest) {
        return manifest.get("warnings") instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    /** SHA-256 of a file's bytes, as sha256sum prints it. */
    static String sha256Of(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf.clear()) >= 0) {
                md.update(buf.flip());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Writes UTF-8 under a temporary name and renames it into place. getBytes replaces what UTF-8
     * cannot encode (a lone surrogate) where writeString would throw.
     */
    private static void writeAtomically(Path path, String text) throws IOException {
        Path tmp = path.resolveSibling("." + path.getFileName() + ".tmp");
        Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
