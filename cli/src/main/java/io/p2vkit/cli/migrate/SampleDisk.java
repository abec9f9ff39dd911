package io.p2vkit.cli.migrate;

import io.p2vkit.cli.Main;
import io.p2vkit.image.ImageFormatException;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The demo's sample "physical" Linux disk: the test guest scripts/build-test-guest.sh builds from
 * Debian packages into build/test-guest/ (cached there; the tests use the same cache).
 */
final class SampleDisk {

    static final String SCRIPT = "scripts/build-test-guest.sh";

    private SampleDisk() {
    }

    /** Builds the disk (or finds it in the cache) and returns its path; the script's messages go to stderr. */
    static Path build(Path repo) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", repo.resolve(SCRIPT).toString(), repo.resolve("build/test-guest").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(20, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new ImageFormatException("building the sample disk took more than 20 minutes; gave up");
        }
        if (p.exitValue() != 0 || out.isEmpty()) {
            throw new ImageFormatException("could not build the sample disk (" + SCRIPT + " exited with "
                    + p.exitValue() + "; its message is above)");
        }
        Path disk = Path.of(out.substring(out.lastIndexOf('\n') + 1));
        if (!Files.isRegularFile(disk)) {
            throw new ImageFormatException(SCRIPT + " named " + disk + ", which does not exist");
        }
        return disk;
    }

    /**
     * The source tree holding the script: above the working folder, or above the jar p2v runs from
     * (bin/p2v runs cli/target/cli-*.jar inside the tree).
     */
    static Path repoRoot() throws ImageFormatException {
        Path found = upwards(Path.of("").toAbsolutePath());
        if (found == null) {
            try {
                found = upwards(Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
            } catch (URISyntaxException | SecurityException | NullPointerException e) {
                found = null;
            }
        }
        if (found == null) {
            throw new ImageFormatException("the demo needs p2vkit's source tree (" + SCRIPT
                    + " builds its sample disk): run bin/p2v demo from a clone");
        }
        return found;
    }

    private static Path upwards(Path from) {
        for (Path p = from; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(SCRIPT))) {
                return p;
            }
        }
        return null;
    }
}
