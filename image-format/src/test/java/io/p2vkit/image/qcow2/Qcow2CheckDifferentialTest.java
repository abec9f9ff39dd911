package io.p2vkit.image.qcow2;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.testing.Mutator;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * check() against qemu-img check on damaged images: for mutations of the header, the L1 and L2
 * tables, the refcount table and blocks, the verdict (clean, corrupt, leaks, cannot check)
 * must be the same, but for the two differences named below.
 */
class Qcow2CheckDifferentialTest {

    private static final int MUTATIONS = 300;

    @TempDir
    Path dir;

    @Test
    void sameVerdictAsQemuImg() throws Exception {
        Tools.require("qemu-img");
        Path raw = TestDisks.mixed(dir.resolve("a.raw"), 2L << 20, 20_000, 17);
        Path good = dir.resolve("good.qcow2");
        Qcow2TestSupport.writeImage(raw, good, CreateOptions.parse("cluster_size=4096"));
        List<long[]> hot = new ArrayList<>();
        try (ImageFile f = ImageFile.openRead(good)) {
            Qcow2Header h = Qcow2Open.readStart(f).header();
            hot.add(new long[] {h.l1TableOffset(), h.l1Size() * 8L});
            hot.add(new long[] {h.refcountTableOffset(), 16});
            hot.add(new long[] {0, Qcow2Constants.V3_HEADER_LENGTH_WITH_COMPRESSION});
            for (long e : Qcow2ClusterMap.readL1(f, h.l1TableOffset(), h.l1Size())) {
                if (e != 0) {
                    hot.add(new long[] {e & Qcow2Constants.OFFSET_MASK, 1024});
                }
            }
            long block = f.read(h.refcountTableOffset(), 8, "rt").order(ByteOrder.BIG_ENDIAN).getLong(0);
            hot.add(new long[] {block, 2L * (f.size() / h.clusterSize())});
        }
        Mutator m = new Mutator(good, Long.getLong("qcow2.seed", 99), hot.toArray(long[][]::new));
        List<String> disagreements = new ArrayList<>();
        int compared = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            Path bad = dir.resolve("bad.qcow2");
            String what = m.mutate(i, bad);
            if (what.contains("truncated")) {
                continue;
            }
            Tools.Result q = Tools.qemuImg("check", "-f", "qcow2", bad.toString());
            int ours;
            String refusal = "";
            try {
                CheckReport r = new Qcow2Format().check(bad, OpenOptions.READ_ONLY, null);
                ours = r.exitCode();
            } catch (ImageFormatException e) {
                ours = CheckReport.EXIT_CANNOT_CHECK;
                refusal = e.getMessage();
            }
            compared++;
            // Two known differences, both of which call the image damaged:
            // qemu-img stops (exit 1) at a malformed refcount table entry, where we report a
            // corruption and go on; and a header placing the L1 or refcount table beyond the end
            // of the file is refused by our header check, where qemu-img opens it and reports
            // corruptions.
            boolean stoppedVsCorrupt = q.exit() == CheckReport.EXIT_CANNOT_CHECK && ours == CheckReport.EXIT_CORRUPT;
            boolean refusedTable = q.exit() == CheckReport.EXIT_CORRUPT && ours == CheckReport.EXIT_CANNOT_CHECK
                    && refusal.contains("lies beyond the end of the file");
            if (ours != q.exit() && !stoppedVsCorrupt && !refusedTable) {
                disagreements.add(what + ": ours " + ours + " " + refusal + ", qemu-img " + q.exit() + " "
                        + firstLine(q.all()));
            }
        }
        System.out.println("qcow2 check verdicts compared: " + compared + ", disagreements: " + disagreements.size());
        disagreements.forEach(System.out::println);
        assertTrue(compared > 100);
        assertTrue(disagreements.isEmpty(), () -> disagreements.size() + " disagreements, first: "
                + disagreements.get(0));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
