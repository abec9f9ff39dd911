package io.p2vkit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code p2v image} verbs' exit codes and output, run in-process. */
class ImageCommandsTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final StdStreams std = new StdStreams();
    private final ByteArrayOutputStream out = std.out;
    private final ByteArrayOutputStream err = std.err;

    private int p2v(String... args) {
        out.reset();
        err.reset();
        return Main.run(args);
    }

    private Path randomRaw(String name, int size, long seed) throws Exception {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        java.util.Arrays.fill(b, size / 4, size / 2, (byte) 0);
        return Files.write(dir.resolve(name), b);
    }

    @Test
    void createInfoConvertCompareMap() throws Exception {
        Path a = randomRaw("a.raw", 3 << 20, 1);
        Path b = dir.resolve("b.raw");
        assertEquals(0, p2v("image", "convert", "-O", "raw", a.toString(), b.toString()), err.toString());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertEquals(0, p2v("image", "compare", a.toString(), b.toString()));
        assertTrue(out.toString().contains("Images are identical."));

        assertEquals(0, p2v("image", "info", "--output", "json", b.toString()));
        assertTrue(out.toString().contains("\"virtual-size\": 3145728"), out.toString());

        assertEquals(0, p2v("image", "map", "--output", "json", b.toString()));
        assertTrue(out.toString().contains("\"kind\": \"data\""), out.toString());

        Path c = dir.resolve("c.raw");
        assertEquals(0, p2v("image", "create", "-f", "raw", c.toString(), "3M"));
        assertEquals(1, p2v("image", "compare", a.toString(), c.toString()));
        assertTrue(out.toString().startsWith("Content mismatch at offset 0!"), out.toString());
    }

    @Test
    void errorsAreOneLineWithDocumentedExitCodes() throws Exception {
        Path a = randomRaw("a.raw", 1 << 20, 2);
        Path b = Files.writeString(dir.resolve("b.raw"), "keep me");
        assertEquals(1, p2v("image", "convert", "-O", "raw", a.toString(), b.toString()));
        assertEquals("keep me", Files.readString(b));
        assertTrue(err.toString().contains("--force"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());

        assertEquals(2, p2v("image", "compare", a.toString(), dir.resolve("missing").toString()));
        assertTrue(err.toString().contains("no such file"), err.toString());

        assertEquals(1, p2v("image", "convert", "-O", "nosuchformat", a.toString(), dir.resolve("x").toString()));
        assertTrue(err.toString().contains("unknown format 'nosuchformat'"), err.toString());

        assertEquals(1, p2v("image", "create", "-f", "raw", dir.resolve("y").toString(), "12Q"));
        assertTrue(err.toString().contains("not a size"), err.toString());

        assertEquals(1, p2v("image", "check", a.toString()));
        assertTrue(err.toString().contains("no structure to check"), err.toString());
    }

    /** A plain line runs without picocli (ImageArgs); the same line spelt otherwise goes through it. */
    @Test
    void plainAndPicocliLinesFailAlike() throws Exception {
        Path a = randomRaw("a.raw", 1 << 20, 3);
        Path b = Files.writeString(dir.resolve("b.raw"), "keep me");
        String[][][] pairs = {
                {{"image", "convert", "-O", "raw", a.toString(), b.toString()},
                        {"image", "convert", "-Oraw", a.toString(), b.toString()}},
                {{"image", "compare", "-f", "raw", a.toString(), dir.resolve("missing").toString()},
                        {"image", "compare", "-fraw", a.toString(), dir.resolve("missing").toString()}},
                {{"image", "check", "--output", "json", a.toString()},
                        {"image", "check", "--output=json", a.toString()}},
        };
        for (String[][] pair : pairs) {
            int plain = p2v(pair[0]);
            String plainErr = err.toString();
            String plainOut = out.toString();
            assertEquals(plain, p2v(pair[1]), String.join(" ", pair[1]));
            assertEquals(plainErr, err.toString());
            assertEquals(plainOut, out.toString());
            assertTrue(plain != 0 && plainErr.startsWith("p2v: "), plainErr);
        }
    }
}
