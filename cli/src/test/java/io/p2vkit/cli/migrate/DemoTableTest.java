package io.p2vkit.cli.migrate;

import io.p2vkit.agent.migrate.BootOutcome;
import io.p2vkit.agent.migrate.MigrationReport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The demo's table: one row per format as the user names it, then why a failed one failed. */
class DemoTableTest {

    private static MigrationReport report(String dir, String format, long fileSize, long millis, boolean ok) {
        BootOutcome boot = new BootOutcome(ok, ok ? "matched" : "timeout after 360000 ms", "emu", "", null, "text 80x25",
                null, "", null, null, null, Duration.ofMillis(millis), "", "", null);
        return new MigrationReport(ok ? MigrationReport.Result.MIGRATED : MigrationReport.Result.FAILED, boot.reason(),
                Instant.EPOCH, new MigrationReport.Source("/dev/loop0", 1 << 20, "mbr"),
                new MigrationReport.Image(Path.of(dir, "sample-server." + format), format, 1 << 20, fileSize, 0, "", "",
                        Path.of(dir, "m.json")),
                new MigrationReport.Expectation(DemoCommand.MARKER, false),
                new MigrationReport.Timings(Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofMillis(millis)),
                boot, List.of());
    }

    @Test
    void rowsNameTheFormatsAsAskedAndFailuresSayWhy() {
        String t = DemoCommand.table(List.of(report("d/vmdk", "vmdk", 11 << 20, 42_300, true),
                report("d/vhd", "vpc", 24 << 20, 61_000, false)));
        assertEquals("""
                format       image      time  result    report
                vmdk        11 MiB    42.3 s  MIGRATED  d/vmdk/report.html
                vhd         24 MiB    61.0 s  FAILED    d/vhd/report.html
                vhd: timeout after 360000 ms
                """, t.replace(System.lineSeparator(), "\n"));
    }
}
