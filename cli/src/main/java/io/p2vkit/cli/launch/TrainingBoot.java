package io.p2vkit.cli.launch;

import io.p2vkit.hv.verify.BootReport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tells {@code bin/p2v} whether the run it is recording for the booting commands' AOT cache is
 * worth keeping. The launcher records a {@code vm verify}, {@code migrate} or {@code demo} when
 * there is no cache yet and names a marker file in {@value #MARKER_PROPERTY}; the marker is
 * written once a boot on the emulator passed, so the cache holds the JIT's profiles of a guest
 * that came up on {@code emu}, never those of a failed boot or of a KVM run (where the emulator's
 * code is not run at all).
 */
public final class TrainingBoot {

    /** The system property naming the marker file; absent when the run records nothing. */
    public static final String MARKER_PROPERTY = "p2v.aot.passedMarker";

    private TrainingBoot() {
    }

    /** Notes {@code report}'s boot: writes the marker when it passed on the emulator. */
    public static void finished(BootReport report) {
        String marker = System.getProperty(MARKER_PROPERTY);
        if (marker == null || !report.passed() || !"emu".equals(report.engine())) {
            return;
        }
        try {
            Files.writeString(Path.of(marker), report.engine() + System.lineSeparator());
        } catch (IOException e) {
            // The cache only speeds later runs up: without the marker the launcher keeps none.
        }
    }
}
