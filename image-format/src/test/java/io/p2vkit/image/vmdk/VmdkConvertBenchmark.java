package io.p2vkit.image.vmdk;

import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Times our conversion of a 1 GiB mixed disk against {@code qemu-img convert} to the same
 * subformat, in one run on the same input, and prints the ratio (tests never assert times).
 * Each side runs three times and the fastest run counts, to damp the noise of a shared machine.
 * Run with {@code -Pslow -Dtest=VmdkConvertBenchmark}.
 */
@Tag("slow")
class VmdkConvertBenchmark {

    @ParameterizedTest
    @ValueSource(strings = {"streamOptimized", "monolithicSparse"})
    void againstQemuImg(String subformat, @TempDir Path dir) throws Exception {
        Tools.require("qemu-img");
        Path raw = TestDisks.mixed(dir.resolve("bench.raw"), 1L << 30, 192 * 1024, 42);
        long ours = Long.MAX_VALUE;
        long qemu = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            Path q = dir.resolve("q" + round + ".vmdk");
            long t0 = System.nanoTime();
            Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                    raw.toString(), q.toString());
            qemu = Math.min(qemu, System.nanoTime() - t0);
            Path o = dir.resolve("o" + round + ".vmdk");
            t0 = System.nanoTime();
            VmdkTestSupport.convert(raw, o, "subformat=" + subformat);
            ours = Math.min(ours, System.nanoTime() - t0);
            System.out.printf("%s round %d: file sizes ours %d, qemu-img %d%n", subformat, round, Files.size(o), Files.size(q));
            Files.delete(q);
            Files.delete(o);
        }
        System.out.printf("BENCH vmdk %s 1 GiB mixed: p2vkit %.2f s, qemu-img %.2f s, ratio %.2f (%d cores)%n",
                subformat, ours / 1e9, qemu / 1e9, (double) ours / qemu, Runtime.getRuntime().availableProcessors());
    }
}
