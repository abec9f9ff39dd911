package io.p2vkit.image.qcow2;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Features qemu-img can put in an image: those we do not implement are refused by name; internal
 * snapshots and persistent bitmaps are read past and counted by check().
 */
class Qcow2FeaturesTest {

    @TempDir
    Path dir;

    @BeforeEach
    void qemu() {
        Tools.require("qemu-img");
    }

    private void assertRefused(String option, String named) throws Exception {
        Path img = dir.resolve("f.qcow2");
        java.nio.file.Files.deleteIfExists(img);
        Tools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", option, img.toString(), "1M");
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(img, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }

    @Test
    void externalDataFile() throws Exception {
        assertRefused("data_file=" + dir.resolve("data.raw"), "external data file '" + dir.resolve("data.raw"));
    }

    @Test
    void extendedL2() throws Exception {
        assertRefused("extended_l2=on", "extended L2");
    }

    @Test
    void zstdCompression() throws Exception {
        assertRefused("compression_type=zstd", "zstd");
    }

    @Test
    void snapshotsAndBitmapsAreCounted() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("a.raw"), 8L << 20, 100_000, 11);
        Path img = dir.resolve("s.qcow2");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=4096", raw.toString(),
                img.toString());
        Tools.ok("qemu-img", "snapshot", "-c", "one", img.toString());
        Tools.ok("qemu-img", "snapshot", "-c", "two", img.toString());
        Tools.ok("qemu-img", "bitmap", "--add", img.toString(), "b0");
        Tools.ok("qemu-img", "check", "-f", "qcow2", img.toString());
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(raw, d);
            assertEquals(2, d.info().details().get("snapshots"));
        }
        CheckReport r = new Qcow2Format().check(img, OpenOptions.READ_ONLY, null);
        assertTrue(r.isClean(), r.corruptions() + " " + r.leaks());
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(img, OpenOptions.READ_WRITE));
        assertTrue(e.getMessage().contains("snapshots"), e.getMessage());
    }

    @Test
    void lazyRefcountsAreReported() throws Exception {
        Path img = dir.resolve("l.qcow2");
        Tools.ok("qemu-img", "create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", img.toString(), "1M");
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            assertEquals(true, d.info().details().get("lazy refcounts"));
        }
    }
}
