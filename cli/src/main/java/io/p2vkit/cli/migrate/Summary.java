package io.p2vkit.cli.migrate;

import io.p2vkit.agent.migrate.Migration;
import io.p2vkit.agent.migrate.MigrationReport;
import io.p2vkit.image.Sizes;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/** The few lines {@code p2v migrate} prints: the verdict, what moved where, and where the reports are. */
final class Summary {

    private Summary() {
    }

    static String of(MigrationReport r, Path dir) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.result().name()).append(": ").append(r.reason()).append('\n');
        sb.append("  source   ").append(r.source().path()).append(" (").append(Sizes.human(r.source().size()))
                .append(", ").append(r.source().partitionTable()).append(")\n");
        sb.append("  image    ").append(r.image().path()).append(" (").append(r.image().format()).append(", ")
                .append(Sizes.human(r.image().fileSize())).append(" file, sha256 ").append(r.image().fileSha256())
                .append(")\n");
        sb.append("  time     capture ").append(seconds(r.timings().capture())).append(", boot ")
                .append(seconds(r.timings().boot())).append(" on ").append(r.boot().engine()).append(", total ")
                .append(seconds(r.timings().total())).append('\n');
        sb.append("  report   ").append(dir.resolve(Migration.REPORT_HTML)).append(" (and ")
                .append(Migration.REPORT_JSON).append(r.boot().screenshot() == null ? "" : ", " + Migration.SCREENSHOT)
                .append(")\n");
        if (!r.migrated() && !r.boot().screenText().isBlank()) {
            sb.append("  last screen:\n");
            for (String line : r.boot().screenText().strip().split("\n")) {
                sb.append(("    | " + line).stripTrailing()).append('\n');
            }
        }
        return sb.toString();
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
}
