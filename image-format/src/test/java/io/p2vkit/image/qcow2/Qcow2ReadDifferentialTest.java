package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.testing.Mutator;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our reader against qemu-img's on damaged images: wherever both read a mutated image (qemu-img
 * convert -O raw succeeds and we raise no ImageFormatException), the bytes must be the same.
 * We are stricter: qemu-img reads tables and clusters beyond the end of the file as zeros, where
 * we name the damaged structure, so only qemu-img reads some images.
 */
class Qcow2ReadDifferentialTest {

    private static final int MUTATIONS = 300;

    @TempDir
    Path dir;

    @Test
    void sameBytesWhereBothRead() throws Exception {
        Tools.require("qemu-img");
        Path raw = TestDisks.mixed(dir.resolve("a.raw"), 1L << 20, 9000, 23);
        Path good = dir.resolve("good.qcow2");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", "-o", "cluster_size=4096",
                raw.toString(), good.toString());
        List<long[]> hot = new ArrayList<>();
        try (ImageFile f = ImageFile.openRead(good)) {
            Qcow2Header h = Qcow2Open.readStart(f).header();
            hot.add(new long[] {0, Qcow2Constants.V3_HEADER_LENGTH_WITH_COMPRESSION});
            hot.add(new long[] {h.l1TableOffset(), h.l1Size() * 8L});
            for (long e : Qcow2ClusterMap.readL1(f, h.l1TableOffset(), h.l1Size())) {
                if (e != 0) {
                    hot.add(new long[] {e & Qcow2Constants.OFFSET_MASK, 2048});
                }
            }
        }
        Mutator m = new Mutator(good, 31, hot.toArray(long[][]::new));
        int both = 0;
        int onlyQemu = 0;
        int onlyOurs = 0;
        List<String> differ = new ArrayList<>();
        for (int i = 0; i < MUTATIONS; i++) {
            Path bad = dir.resolve("bad.qcow2");
            Path theirs = dir.resolve("theirs.raw");
            Files.deleteIfExists(theirs);
            String what = m.mutate(i, bad);
            boolean qemuRead = Tools.qemuImg("convert", "-f", "qcow2", "-O", "raw", bad.toString(),
                    theirs.toString()).exit() == 0;
            byte[] ours = null;
            try (VirtualDisk d = Qcow2TestSupport.open(bad, OpenOptions.READ_ONLY)) {
                if (d.size() <= 64L << 20) {
                    ByteBuffer b = ByteBuffer.allocate((int) d.size());
                    d.read(0, b);
                    ours = b.array();
                }
            } catch (ImageFormatException e) {
                ours = null;
            }
            if (qemuRead && ours != null) {
                both++;
                byte[] expected = Files.readAllBytes(theirs);
                if (!java.util.Arrays.equals(expected, ours)) {
                    differ.add(what);
                }
            } else if (qemuRead) {
                onlyQemu++;
            } else if (ours != null) {
                onlyOurs++;
            }
        }
        System.out.println("qcow2 read differential: both read " + both + ", only qemu-img " + onlyQemu
                + ", only p2vkit " + onlyOurs + ", bytes differ " + differ.size());
        differ.forEach(System.out::println);
        assertTrue(both > 30, "too few images both tools read: " + both);
        assertTrue(differ.isEmpty(), () -> differ.size() + " images read differently, first: " + differ.get(0));
    }
}
