package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.raw.SparseFiles;
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
 * Bulk conversion speed against {@code qemu-img convert -O vpc} on the same 1 GiB mixed raw:
 * prints the best of five interleaved runs of each and the ratio (tests never assert wall-clock times; run with -Pslow).
 */
@Tag("slow")
class VhdBenchmarkTest {

    @TempDir
    Path dir;

    @Test
    void convertAgainstQemuImg() throws Exception {
        Tools.require("qemu-img");
        Path raw = TestDisks.mixed(dir.resolve("bench.raw"), 1L << 30, 1 << 20, 1234);
        for (String sub : new String[] {"dynamic", "fixed"}) {
            long ours = Long.MAX_VALUE;
            long qemu = Long.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                Path q = dir.resolve("q.vhd");
                long t0 = System.nanoTime();
                Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=" + sub + ",force_size=on",
                        raw.toString(), q.toString());
                qemu = Math.min(qemu, System.nanoTime() - t0);
                Path o = dir.resolve("o.vhd");
                t0 = System.nanoTime();
                VhdTestSupport.convert(raw, o, CreateOptions.parse("subformat=" + sub + ",force_size=on"));
                ours = Math.min(ours, System.nanoTime() - t0);
                assertEquals(0, Tools.qemuImg("compare", "-f", "raw", "-F", "vpc", raw.toString(), o.toString()).exit());
                if (round == 4) {
                    System.out.printf(Locale.ROOT, "vpc %s 1 GiB: qemu-img %.2f s (%d MiB allocated), p2vkit %.2f s"
                                    + " (%d MiB allocated), qemu/ours = %.2f%n", sub, qemu / 1e9,
                            SparseFiles.allocatedBytes(q) >> 20, ours / 1e9, SparseFiles.allocatedBytes(o) >> 20,
                            (double) qemu / ours);
                }
                Files.delete(q);
                Files.delete(o);
            }
        }
    }
}
