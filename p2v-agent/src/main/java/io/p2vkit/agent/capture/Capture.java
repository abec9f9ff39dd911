package io.p2vkit.agent.capture;

import io.p2vkit.agent.discovery.BlockDevice;
import io.p2vkit.agent.discovery.BlockDevices;
import io.p2vkit.agent.discovery.Posix;
import io.p2vkit.agent.discovery.Volume;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormat;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.compare.DiskComparator;
import io.p2vkit.image.convert.Converter;
import io.p2vkit.image.convert.ProgressListener;
import io.p2vkit.image.raw.RawFormat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Captures a source disk (a block device or a raw image file) into an image: plans which bytes
 * are used, copies them with the conversion engine, digests what was copied, optionally reads the
 * image back to verify it, and writes a manifest beside it. The source is opened read-only, once,
 * and never written, flushed or locked for writing.
 */
public final class Capture {

    /**
     * What to capture and how.
     *
     * @param all    copy every sector, not only used blocks
     * @param verify read the written image back and compare it with the copied regions
     * @param force  overwrite an existing image and manifest
     * @param freeze freeze the source's mounted writable filesystems while copying
     */
    public record Request(Path source, ImageFormat format, Path output, CreateOptions options, boolean all,
                          boolean verify, boolean force, boolean freeze) {
    }

    /** What a capture did. */
    public record Result(Path image, Path manifest, Manifest manifestData) {
    }

    private Capture() {
    }

    /**
     * Runs a capture. {@code notices} receives one-line warnings (a mounted writable filesystem,
     * a partition copied whole and why) before the copy starts.
     */
    public static Result run(Request r, ProgressListener progress, Consumer<String> notices) throws IOException {
        if (!Files.exists(r.source())) {
            throw new java.nio.file.NoSuchFileException(r.source().toString());
        }
        if (Files.isDirectory(r.source())) {
            throw new ImageFormatException(r.source() + " is a folder, not a disk");
        }
        Path manifestPath = manifestPath(r.output());
        if (Files.exists(manifestPath) && !r.force()) {
            throw new java.nio.file.FileAlreadyExistsException(manifestPath + " exists (use --force to overwrite)");
        }
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        BlockDevice described = BlockDevices.describe(r.source());
        if (Posix.isBlockDevice(r.source()) && !Files.isReadable(r.source())) {
            throw new ImageFormatException("cannot read " + r.source() + (Posix.isRoot() ? "" : ": run as root"));
        }
        List<String> warnings = new ArrayList<>();
        try (Freezer freezer = new Freezer();
             ContentDigest sha256 = new ContentDigest();
             VirtualDisk source = new RawFormat().open(r.source(), OpenOptions.READ_ONLY, null)) {
            freezeOrWarn(described, r, freezer, warnings);
            CapturePlan plan = CapturePlan.of(source, described.logicalSector(), r.all());
            for (PartitionPlan p : plan.partitions()) {
                if (p.mode().equals("whole") && !p.reason().equals("--all")) {
                    warnings.add("partition " + p.partition().number() + ": " + p.reason());
                }
            }
            plan.table().warnings().forEach(w -> warnings.add("partition table: " + w));
            warnings.forEach(notices);
            long tPlan = System.nanoTime();

            UsedRegionsDisk view = new UsedRegionsDisk(source, plan.used());
            DigestingDisk digesting = new DigestingDisk(view, sha256);
            // The exact size keeps a backup GPT header in the last sector where it belongs.
            Converter.Result copy = Converter.convert(digesting, r.format(), r.output(),
                    r.format().exactSize(r.options()), r.force(),
                    progress);
            String digest = digesting.finish();
            long tCopy = System.nanoTime();

            Boolean verified = null;
            if (r.verify()) {
                try (VirtualDisk image = Formats.get().open(r.output(), r.format().name(), OpenOptions.READ_ONLY)) {
                    DiskComparator.Result cmp = DiskComparator.compare(view, image, ProgressListener.NONE);
                    verified = cmp.identical();
                    if (!cmp.identical()) {
                        throw new ImageFormatException("verification failed: the image differs from the source at byte "
                                + cmp.firstDifference());
                    }
                }
            }
            long tVerify = System.nanoTime();
            Manifest m = Manifest.of(described, plan, r, copy, digest, verified, warnings, freezer.frozen(), started,
                    new long[] {ms(tPlan - t0), ms(tCopy - tPlan), ms(tVerify - tCopy)});
            m.writeTo(manifestPath);
            return new Result(r.output(), manifestPath, m);
        }
    }

    /**
     * A writable mounted filesystem on the source makes the copy only crash-consistent: say so, or
     * freeze it when asked — never the filesystem the image is being written to, which would hang.
     */
    private static void freezeOrWarn(BlockDevice source, Request r, Freezer freezer, List<String> warnings)
            throws IOException {
        long outputDevice = Posix.deviceOf(r.output().toAbsolutePath().getParent());
        for (Volume v : source.volumes()) {
            if (!v.readWrite()) {
                continue;
            }
            String where = v.device() + " is mounted read-write at " + String.join(", ", v.mountPoints());
            if (!r.freeze()) {
                warnings.add(where + ": the copy is only crash-consistent (use --freeze)");
                continue;
            }
            Path mountPoint = Path.of(v.mountPoints().getFirst());
            if (Posix.deviceOf(mountPoint) == outputDevice) {
                warnings.add(where + ", which also holds the output: not frozen, the copy is only crash-consistent");
                continue;
            }
            freezer.freeze(mountPoint);
            warnings.add(where + ": frozen during the copy");
        }
    }

    /** {@code disk.vmdk} → {@code disk.vmdk.manifest.json}. */
    public static Path manifestPath(Path image) {
        return image.resolveSibling(image.getFileName() + ".manifest.json");
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
