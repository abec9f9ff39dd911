package io.p2vkit.image;

import java.util.ArrayList;
import java.util.List;

/**
 * The result of checking an image's structure, as {@code qemu-img check} reports it: corruptions
 * (data would be read wrong) and leaks (space allocated but unused; harmless).
 */
public final class CheckReport {

    /** Exit codes of {@code p2v image check}, the same as qemu-img's. */
    public static final int EXIT_CLEAN = 0;
    public static final int EXIT_CANNOT_CHECK = 1;
    public static final int EXIT_CORRUPT = 2;
    public static final int EXIT_LEAKS = 3;

    private static final int MAX_LISTED = 1000;

    private final String format;
    private final List<String> corruptions = new ArrayList<>();
    private final List<String> leaks = new ArrayList<>();
    private long corruptionCount;
    private long leakCount;
    private long allocatedClusters;
    private long totalClusters;

    public CheckReport(String format) {
        this.format = format;
    }

    /** Records data that would be read wrong (an entry beyond EOF, two entries sharing data...). */
    public void corruption(String message) {
        corruptionCount++;
        if (corruptions.size() < MAX_LISTED) {
            corruptions.add(message);
        }
    }

    /** Records space allocated but referenced by nothing. */
    public void leak(String message) {
        leakCount++;
        if (leaks.size() < MAX_LISTED) {
            leaks.add(message);
        }
    }

    /** How many of the image's allocation units hold data, out of how many it could hold. */
    public void allocation(long allocated, long total) {
        this.allocatedClusters = allocated;
        this.totalClusters = total;
    }

    public String format() {
        return format;
    }

    /** The first messages (at most 1000 of each kind are kept; the counts are exact). */
    public List<String> corruptions() {
        return List.copyOf(corruptions);
    }

    public List<String> leaks() {
        return List.copyOf(leaks);
    }

    public long corruptionCount() {
        return corruptionCount;
    }

    public long leakCount() {
        return leakCount;
    }

    public long allocatedClusters() {
        return allocatedClusters;
    }

    public long totalClusters() {
        return totalClusters;
    }

    public boolean isClean() {
        return corruptionCount == 0 && leakCount == 0;
    }

    public int exitCode() {
        if (corruptionCount > 0) {
            return EXIT_CORRUPT;
        }
        return leakCount > 0 ? EXIT_LEAKS : EXIT_CLEAN;
    }
}
