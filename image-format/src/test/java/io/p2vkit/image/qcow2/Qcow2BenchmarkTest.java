package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Times our writer against qemu-img convert on the same 1 GiB mixed disk and prints the ratio
 * (run with -Pslow; DESIGN.md: tests never assert wall-clock times, only the results' bytes).
 * Our time is measured in-process after a warm-up run, so JVM start is not counted.
 */
@Tag("slow")
class Qcow2BenchmarkTest {

    @TempDir
    Path dir;

    @Test
    void writerAgainstQemuImg() throws Exception {
        Tools.require("qemu-img");
        Tools.require("time");
        Path raw = TestDisks.mixed(dir.resolve("bench.raw"), 1L << 30, 192 * 1024 + 512, 42);
        for (String[] mode : new String[][] {{"", ""}, {"compress=on", "-c"}}) {
            Path ours = dir.resolve("ours.qcow2");
            Path theirs = dir.resolve("theirs.qcow2");
            Qcow2TestSupport.writeImage(raw, ours, CreateOptions.parse(mode[0])); // warm-up
            Files.delete(ours);
            long cpu0 = processCpu();
            long t0 = System.nanoTime();
            Qcow2TestSupport.writeImage(raw, ours, CreateOptions.parse(mode[0]));
            long oursNanos = System.nanoTime() - t0;
            long oursCpu = processCpu() - cpu0;
            long t1 = System.nanoTime();
            // /usr/bin/time reports qemu-img's CPU seconds (user + system) on stderr.
            Tools.Result r = Tools.ok("/usr/bin/time", "-f", "cpu %U %S", "qemu-img", "convert",
                    mode[1].isEmpty() ? "-q" : "-c", "-f", "raw", "-O", "qcow2", raw.toString(), theirs.toString());
            long theirNanos = System.nanoTime() - t1;
            String[] cpu = r.err().substring(r.err().lastIndexOf("cpu ")).trim().split(" ");
            double theirCpu = Double.parseDouble(cpu[1]) + Double.parseDouble(cpu[2]);
            System.out.printf(Locale.ROOT, "qcow2 %s: p2vkit %.2f s (%.2f s CPU, %d bytes), qemu-img %.2f s"
                            + " (%.2f s CPU, %d bytes), time ratio %.2f, CPU ratio %.2f%n",
                    mode[0].isEmpty() ? "plain" : mode[0], oursNanos / 1e9, oursCpu / 1e9, Files.size(ours),
                    theirNanos / 1e9, theirCpu, Files.size(theirs), (double) oursNanos / theirNanos,
                    oursCpu / 1e9 / theirCpu);
            assertEquals(0, Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", raw.toString(), ours.toString())
                    .exit());
            Qcow2InteropTest.assertQemuClean(ours);
            Files.delete(ours);
            Files.delete(theirs);
        }
    }

    /** This process's CPU time in nanoseconds, from /proc/self/stat (utime + stime, in ticks of 10 ms). */
    private static long processCpu() throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }
}
