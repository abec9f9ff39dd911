package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A 4 TiB disk with a few MiB of data: writing, closing (refcounts), reading, extents and check
 * cost what the data costs, not what the size would (the timeout only guards against a hang).
 */
class Qcow2LargeDiskTest {

    private static final long SIZE = 4L << 40;
    private static final long[] PLACES = {0, 1L << 40, (3L << 40) + 12345 * 512L, SIZE - (1 << 20)};

    /** Three cluster-aligned MiB and one unaligned MiB that touches 17 clusters of 64 KiB. */
    private static final long EXPECTED_DATA = 3 * (1L << 20) + 17 * 65536L;

    @TempDir
    Path dir;

    private static ByteBuffer pattern(int seed) {
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) (seed * 31 + i / 4096));
        }
        return b;
    }

    @Test
    void fourTebibytes() throws Exception {
        Path img = dir.resolve("big.qcow2");
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (VirtualDisk d = new Qcow2Format().create(img, SIZE, CreateOptions.none())) {
                for (int i = 0; i < PLACES.length; i++) {
                    d.write(PLACES[i], pattern(i + 1));
                }
            }
            assertTrue(Files.size(img) < (16L << 20), "file holds the data and little else: " + Files.size(img));
            try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
                assertEquals(SIZE, d.size());
                List<Extent> ex = d.extents(0, SIZE);
                long data = ex.stream().filter(Extent::holdsData).mapToLong(Extent::length).sum();
                assertEquals(EXPECTED_DATA, data, "data extents cover the written clusters");
                assertTrue(ex.size() <= 2 * PLACES.length + 1, "few extents: " + ex.size());
                for (int i = 0; i < PLACES.length; i++) {
                    ByteBuffer got = ByteBuffer.allocate(1 << 20);
                    d.read(PLACES[i], got);
                    assertEquals(-1, got.flip().mismatch(pattern(i + 1)), "place " + i);
                }
            }
            assertTrue(new Qcow2Format().check(img, OpenOptions.READ_ONLY, null).isClean());
        });
        if (Tools.available("qemu-img")) {
            Tools.Result r = Tools.qemuImg("check", "-f", "qcow2", img.toString());
            assertEquals(0, r.exit(), r.all());
            Tools.Result map = Tools.ok("qemu-img", "map", "--output=json", img.toString());
            long mapped = 0;
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "\"length\": (\\d+), [^}]*\"data\": true").matcher(map.out());
            while (m.find()) {
                mapped += Long.parseLong(m.group(1));
            }
            assertEquals(EXPECTED_DATA, mapped, "qemu-img maps the written clusters as data: " + map.out());
        }
    }
}
