package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
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
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged images: every mutation of a good image either opens and reads in full, or fails with
 * an ImageFormatException, within a second and within the 256 MiB test heap. check() and info()
 * obey the same rule.
 */
class Qcow2MutationTest {

    private static final int PER_IMAGE = 300;

    @TempDir
    Path dir;

    @Test
    void mutatedImagesFailCleanly() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("base.raw"), 1L << 20, 24 * 1024 + 512, 9);
        List<Path> goods = new ArrayList<>();
        Path ours = dir.resolve("ours.qcow2");
        Qcow2TestSupport.writeImage(raw, ours, CreateOptions.parse("cluster_size=4096"));
        goods.add(ours);
        Path child = dir.resolve("child.qcow2");
        try (VirtualDisk d = new Qcow2Format().create(child, 1L << 20,
                CreateOptions.parse("cluster_size=4096,backing_file=base.raw,backing_fmt=raw"))) {
            d.write(8192, ByteBuffer.wrap(new byte[5000]).put(0, (byte) 1));
        }
        goods.add(child);
        if (Tools.available("qemu-img")) {
            Path compressed = dir.resolve("c.qcow2");
            Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", "-o", "cluster_size=4096",
                    raw.toString(), compressed.toString());
            goods.add(compressed);
            Path v2 = dir.resolve("v2.qcow2");
            Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "compat=0.10,cluster_size=2048",
                    raw.toString(), v2.toString());
            goods.add(v2);
            Path snap = dir.resolve("snap.qcow2");
            Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096",
                    raw.toString(), snap.toString());
            Tools.ok("qemu-img", "snapshot", "-c", "one", snap.toString());
            Tools.ok("qemu-img", "bitmap", "--add", snap.toString(), "b0");
            goods.add(snap);
            Path ourCompressed = dir.resolve("oc.qcow2");
            Qcow2TestSupport.writeImage(raw, ourCompressed, CreateOptions.parse("cluster_size=4096,compress=on"));
            goods.add(ourCompressed);
        } else {
            Path compressed = dir.resolve("c.qcow2");
            Qcow2TestSupport.writeImage(raw, compressed, CreateOptions.parse("cluster_size=4096,compress=on"));
            goods.add(compressed);
        }
        int total = 0;
        int clean = 0;
        for (Path good : goods) {
            Mutator m = new Mutator(good, good.getFileName().hashCode(), hotRanges(good));
            for (int i = 0; i < PER_IMAGE; i++) {
                Path bad = dir.resolve("bad.qcow2");
                String what = good.getFileName() + " " + m.mutate(i, bad);
                boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(1), () -> exercise(bad), what);
                clean += ok ? 1 : 0;
                total++;
            }
        }
        assertEquals(PER_IMAGE * goods.size(), total);
        System.out.println("qcow2 mutations: " + total + ", of which " + clean + " opened and read cleanly");
    }

    /** Opens, reads everything, checks; returns whether no ImageFormatException came. */
    private static boolean exercise(Path bad) {
        boolean clean = true;
        try (VirtualDisk d = Qcow2TestSupport.open(bad, OpenOptions.READ_ONLY)) {
            d.info();
            d.extents(0, d.size());
            ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
            for (long pos = 0; pos < d.size(); pos += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), d.size() - pos));
                d.read(pos, buf);
            }
        } catch (ImageFormatException e) {
            clean = false;
        } catch (Throwable t) {
            fail("unexpected " + t, t);
        }
        try {
            new Qcow2Format().check(bad, OpenOptions.READ_ONLY, null);
        } catch (ImageFormatException e) {
            // refused as damaged: fine
        } catch (Throwable t) {
            fail("check: unexpected " + t, t);
        }
        return clean;
    }

    /** Header and extensions, L1, every L2 table, the refcount table and blocks. */
    private static long[][] hotRanges(Path image) throws Exception {
        List<long[]> out = new ArrayList<>();
        try (ImageFile f = ImageFile.openRead(image)) {
            Qcow2Header h = Qcow2Open.readStart(f).header();
            int cs = h.clusterSize();
            out.add(new long[] {0, 112});
            out.add(new long[] {h.headerLength(), 512});
            out.add(new long[] {h.l1TableOffset(), h.l1Size() * 8L});
            for (long e : Qcow2ClusterMap.readL1(f, h.l1TableOffset(), h.l1Size())) {
                if (e != 0) {
                    out.add(new long[] {e & Qcow2Constants.OFFSET_MASK, cs});
                }
            }
            out.add(new long[] {h.refcountTableOffset(), 64});
            if (h.nbSnapshots() > 0) {
                out.add(new long[] {h.snapshotsOffset(), 128});
            }
            ByteBuffer rt = f.read(h.refcountTableOffset(), 64, "reftable").order(ByteOrder.BIG_ENDIAN);
            for (int i = 0; i < 8; i++) {
                if (rt.getLong(i * 8) != 0) {
                    out.add(new long[] {rt.getLong(i * 8), 256});
                }
            }
        }
        return out.toArray(long[][]::new);
    }
}
