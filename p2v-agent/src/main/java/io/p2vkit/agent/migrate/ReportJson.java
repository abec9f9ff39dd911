package io.p2vkit.agent.migrate;

import io.p2vkit.image.json.Json;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** report.json: the fields docs/migrate.md describes, in that order. */
public final class ReportJson {

    /** Bumped when a field changes meaning or disappears. */
    public static final int VERSION = 1;

    private ReportJson() {
    }

    public static String write(MigrationReport r) {
        return Json.write(toMap(r));
    }

    public static Map<String, Object> toMap(MigrationReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p2vkit_migration_report", VERSION);
        m.put("result", r.result().name());
        m.put("reason", r.reason());
        m.put("started", r.started().toString());

        Map<String, Object> src = new LinkedHashMap<>();
        src.put("path", r.source().path());
        src.put("size", r.source().size());
        src.put("partition_table", r.source().partitionTable());
        m.put("source", src);

        MigrationReport.Image i = r.image();
        Map<String, Object> img = new LinkedHashMap<>();
        img.put("path", i.path().toString());
        img.put("format", i.format());
        img.put("virtual_size", i.virtualSize());
        img.put("file_size", i.fileSize());
        img.put("copied_bytes", i.copiedBytes());
        img.put("sha256", i.contentSha256());
        img.put("file_sha256", i.fileSha256());
        img.put("manifest", i.manifest().toString());
        m.put("image", img);

        Map<String, Object> exp = new LinkedHashMap<>();
        exp.put("pattern", r.expect().pattern());
        exp.put("default_markers", r.expect().defaults());
        m.put("expect", exp);

        Map<String, Object> t = new LinkedHashMap<>();
        t.put("capture_ms", ms(r.timings().capture()));
        t.put("checksum_ms", ms(r.timings().checksum()));
        t.put("boot_ms", ms(r.timings().boot()));
        t.put("total_ms", ms(r.timings().total()));
        m.put("timings", t);

        BootOutcome b = r.boot();
        Map<String, Object> boot = new LinkedHashMap<>();
        boot.put("passed", b.passed());
        boot.put("engine", b.engine());
        boot.put("engine_detail", b.engineDetail());
        boot.put("matched_on", b.matchedOn());
        boot.put("display", b.display());
        boot.put("graphics_mode", b.graphicsMode());
        boot.put("engine_gaps", b.engineGaps());
        boot.put("firmware_banner_ms", ms(b.firmwareBanner()));
        boot.put("bootloader_started_ms", ms(b.bootloaderStarted()));
        boot.put("expected_seen_ms", ms(b.expectedSeen()));
        boot.put("elapsed_ms", ms(b.elapsed()));
        m.put("boot", boot);

        m.put("screenshot", screenshotName(b.screenshot()));
        m.put("screen_text", b.screenText());
        m.put("console_log", b.consoleLog());
        m.put("warnings", r.warnings());
        return m;
    }

    /** The screenshot's file name: it lies beside the report. */
    static String screenshotName(Path shot) {
        return shot == null ? null : shot.getFileName().toString();
    }

    private static Long ms(Duration d) {
        return d == null ? null : d.toMillis();
    }
}
