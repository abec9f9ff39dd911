package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Qcow2SmokeTest {

    @TempDir
    Path dir;

    @Test
    void smallRoundTrip() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("a.raw"), 8L << 20, 96 * 1024, 7);
        Path img = dir.resolve("a.qcow2");
        Qcow2TestSupport.writeImage(raw, img, CreateOptions.none());
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            Qcow2TestSupport.assertSameBytes(raw, d);
        }
        Tools.require("qemu-img");
        Tools.Result r = Tools.qemuImg("check", "-f", "qcow2", img.toString());
        assertEquals(0, r.exit(), r.all());
        assertEquals(0, Tools.qemuImg("compare", "-f", "raw", "-F", "qcow2", raw.toString(), img.toString()).exit());
    }
}
