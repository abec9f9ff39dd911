package io.p2vkit.agent.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the system tools the agent tests build their disks with (sfdisk, mkfs.*, losetup). */
public final class Sh {

    private Sh() {
    }

    /** Runs {@code cmd}, returns its stdout; fails the test on a non-zero exit. */
    public static String run(String... cmd) throws IOException, InterruptedException {
        return runWithInput(null, cmd);
    }

    /** Runs {@code cmd} with {@code stdin} as its input. */
    public static String runWithInput(String stdin, String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("sh", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", cmd));
            }
            String text = Files.readString(out, StandardCharsets.ISO_8859_1);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " exited " + p.exitValue() + ":\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Exit code only, output discarded. */
    public static int status(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        p.getOutputStream().close();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    public static boolean has(String tool) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the test unless every tool is installed. */
    public static void require(String... tools) {
        for (String t : tools) {
            Assumptions.assumeTrue(has(t), t + " is not installed (.ci/run installs it)");
        }
    }

    /** Skips the test unless running as root (loop devices and mounts need it). */
    public static void requireRoot() {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root for loop devices");
    }
}
