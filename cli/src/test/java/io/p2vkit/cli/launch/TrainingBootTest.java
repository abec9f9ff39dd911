package io.p2vkit.cli.launch;

import io.p2vkit.hv.verify.BootReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingBootTest {

    @TempDir
    Path dir;

    @AfterEach
    void forgetTheMarker() {
        System.clearProperty(TrainingBoot.MARKER_PROPERTY);
    }

    private static BootReport boot(boolean passed, String engine) {
        return new BootReport(passed, passed ? "matched" : "timeout", engine, "", null, null, null,
                Duration.ofSeconds(1), "", "", "");
    }

    @Test
    void aBootThatCameUpOnTheEmulatorWritesTheMarker() {
        Path marker = dir.resolve("passed");
        System.setProperty(TrainingBoot.MARKER_PROPERTY, marker.toString());
        TrainingBoot.finished(boot(true, "emu"));
        assertTrue(Files.isRegularFile(marker));
    }

    @Test
    void failedBootsAndKvmBootsLeaveNoMarker() {
        Path marker = dir.resolve("passed");
        System.setProperty(TrainingBoot.MARKER_PROPERTY, marker.toString());
        TrainingBoot.finished(boot(false, "emu"));
        TrainingBoot.finished(boot(true, "kvm"));
        assertFalse(Files.exists(marker));
    }

    @Test
    void aRunThatRecordsNothingWritesNothing() throws Exception {
        TrainingBoot.finished(boot(true, "emu"));
        try (var files = Files.list(dir)) {
            assertFalse(files.findAny().isPresent());
        }
    }
}
