package io.p2vkit.agent.migrate;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Reads JSON with an independent parser (Python's json module): p2vkit writes JSON but has no
 * reader of its own, and a reader we wrote would share our writer's mistakes.
 */
final class JsonOracle {

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    private JsonOracle() {
    }

    /**
     * Parses {@code file} and evaluates {@code expression} (Python, over the parsed value {@code d}),
     * returning what it prints; fails when the file is not valid JSON.
     */
    static String eval(Path file, String expression) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "python3 is not installed");
        Process p = new ProcessBuilder(PYTHON.toString(), "-c",
                "import json, sys\nd = json.load(open(sys.argv[1], encoding='utf-8'))\nprint(" + expression + ")",
                file.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("python3 could not read " + file + ": " + out);
        }
        return out;
    }
}
