package io.p2vkit.hv.guest;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The test guest disk, built (once, then cached) by scripts/build-test-guest.sh from Debian
 * packages. Tests that need it call {@link #disk()}; it skips them when the packages cannot be
 * had (no apt, no network to the archive).
 */
public final class TestGuest {

    /** The line the guest's /init prints before powering off. */
    public static final String MARKER = "P2V-GUEST-OK";

    private static Path cached;

    private TestGuest() {
    }

    public static synchronized Path disk() throws IOException, InterruptedException {
        if (cached != null) {
            return cached;
        }
        Path repo = repoRoot();
        Path script = repo.resolve("scripts/build-test-guest.sh");
        Process p = new ProcessBuilder("bash", script.toString(), repo.resolve("build/test-guest").toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("building the test guest timed out");
        }
        Assumptions.assumeTrue(p.exitValue() == 0, "cannot build the test guest: " + out.strip());
        String[] lines = out.strip().split("\n");
        cached = Path.of(lines[lines.length - 1]);
        return cached;
    }

    /** The repository root: the folder holding scripts/, found upwards from the working directory. */
    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("scripts/build-test-guest.sh"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("scripts/build-test-guest.sh not found above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
