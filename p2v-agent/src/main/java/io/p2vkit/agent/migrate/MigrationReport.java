package io.p2vkit.agent.migrate;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The result of one migration, as plain data: {@link ReportJson} and {@link ReportHtml} render it.
 *
 * @param result   MIGRATED when the captured image booted to the expected text, FAILED otherwise
 * @param reason   one line: what matched, or why the boot failed
 * @param started  when the migration began
 * @param source   what was captured
 * @param image    what was written
 * @param expect   the text that meant success
 * @param timings  how long each phase took
 * @param boot     what the verification boot saw
 * @param warnings the capture's warnings (a mounted source, a partition copied whole)
 */
public record MigrationReport(Result result, String reason, Instant started, Source source, Image image,
                              Expectation expect, Timings timings, BootOutcome boot, List<String> warnings) {

    /** The verdict. */
    public enum Result { MIGRATED, FAILED }

    /**
     * @param path           the block device or image file captured
     * @param size           its size in bytes
     * @param partitionTable "mbr", "gpt" or "none"
     */
    public record Source(String path, long size, String partitionTable) {
    }

    /**
     * @param path          the image written
     * @param format        its format's name ("vmdk", "vpc", ...)
     * @param virtualSize   the disk size the guest sees
     * @param fileSize      the image file's size on the host
     * @param copiedBytes   bytes of the source that were copied (used blocks and what is always copied)
     * @param contentSha256 SHA-256 of the virtual disk's contents (the manifest's)
     * @param fileSha256    SHA-256 of the image file itself ({@code sha256sum IMAGE})
     * @param manifest      the capture manifest beside the image
     */
    public record Image(Path path, String format, long virtualSize, long fileSize, long copiedBytes,
                        String contentSha256, String fileSha256, Path manifest) {
    }

    /**
     * @param pattern  the regular expression watched for
     * @param defaults true when it is {@link BootMarkers#DEFAULTS} because none was given
     */
    public record Expectation(String pattern, boolean defaults) {
    }

    /**
     * @param capture  planning, copying and (with --verify) reading back
     * @param checksum hashing the image file
     * @param boot     the verification boot, machine set-up included
     * @param total    the whole migration
     */
    public record Timings(Duration capture, Duration checksum, Duration boot, Duration total) {
    }

    public boolean migrated() {
        return result == Result.MIGRATED;
    }
}
