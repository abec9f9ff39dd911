package io.p2vkit.image.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the independent oracles (qemu-img, vhdiinfo, vmdkinfo) from tests. A test that needs one
 * calls {@link #require} and is skipped with a reason where it is not installed; .ci/run
 * installs them all.
 */
public final class Tools {

    /** What a finished command printed and returned. */
    public record Result(int exit, String out, String err) {
        public String all() {
            return out + err;
        }
    }

    private Tools() {
    }

    public static boolean available(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the calling test unless {@code tool} is on the PATH. */
    public static void require(String tool) {
        Assumptions.assumeTrue(available(tool), tool + " is not installed (apt-get install qemu-utils"
                + " libvhdi-utils libvmdk-utils)");
    }

    /** Runs a command, waits up to 5 minutes, returns its exit code and output. */
    public static Result run(String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("p2v-tool", ".out");
        Path err = Files.createTempFile("p2v-tool", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs a command and fails the test unless it exits 0. */
    public static Result ok(String... command) throws IOException, InterruptedException {
        Result r = run(command);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.all());
        }
        return r;
    }

    /** {@code qemu-img ARGS...}. */
    public static Result qemuImg(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("qemu-img");
        cmd.addAll(List.of(args));
        return run(cmd.toArray(String[]::new));
    }
}
