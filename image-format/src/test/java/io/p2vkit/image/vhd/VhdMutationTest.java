package io.p2vkit.image.vhd;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.testing.Mutator;
import io.p2vkit.image.testing.TestDisks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged images (bit flips, overwritten fields and copied bytes in the footer, its copy, the
 * dynamic header, the BAT, a sector bitmap and the parent locators; truncations) must open and
 * read fully, or fail with an ImageFormatException, within a second, under the 256 MiB heap.
 */
class VhdMutationTest {

    private static final int PER_FAMILY = 1000;
    private static final long DISK = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void fixed() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("f.raw"), DISK, 16 * 1024, 7);
        Path good = dir.resolve("good-fixed.vhd");
        VhdTestSupport.convert(raw, good, CreateOptions.parse("subformat=fixed"));
        long size = Files.size(good);
        run(good, new long[] {size - 512, 512}, new long[] {size - 511, 100}, new long[] {0, 512});
    }

    @Test
    void dynamic() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("d.raw"), DISK, 16 * 1024, 8);
        Path good = dir.resolve("good-dynamic.vhd");
        VhdTestSupport.convert(raw, good, CreateOptions.parse("block_size=64K"));
        run(good, hotRanges(good));
    }

    @Test
    void differencing() throws Exception {
        Path raw = TestDisks.mixed(dir.resolve("p.raw"), DISK, 16 * 1024, 9);
        VhdTestSupport.convert(raw, dir.resolve("parent.vhd"), CreateOptions.parse("block_size=64K,force_size=on"));
        Path good = dir.resolve("good-child.vhd");
        try (VirtualDisk c = new VhdFormat().create(good, 0,
                CreateOptions.parse("backing_file=parent.vhd,block_size=64K"))) {
            byte[] b = new byte[70_000];
            java.util.Arrays.fill(b, (byte) 0x33);
            c.write(1000, ByteBuffer.wrap(b));           // partial sectors, two blocks
            c.write(512 * 1024, ByteBuffer.wrap(b, 0, 65536)); // one whole block
        }
        List<long[]> hot = new ArrayList<>(List.of(hotRanges(good)));
        try (var f = io.p2vkit.image.io.ImageFile.openRead(good)) {
            VhdLayout l = VhdLayout.read(f);
            for (VhdDynamicHeader.Locator loc : l.header.locators()) {
                if (loc.isUsed()) {
                    hot.add(new long[] {loc.dataOffset(), loc.dataLength()});
                }
            }
        }
        run(good, hot.toArray(long[][]::new));
    }

    /** Footer copy, dynamic header, BAT, the first block's bitmap, trailing footer. */
    private static long[][] hotRanges(Path good) throws IOException {
        try (var f = io.p2vkit.image.io.ImageFile.openRead(good)) {
            VhdLayout l = VhdLayout.read(f);
            VhdBat bat = VhdBat.load(f, l.header, l.fileSize);
            long bitmap = 0;
            for (int i = 0; i < bat.size(); i++) {
                if (bat.isAllocated(i)) {
                    bitmap = bat.bitmapOffset(i);
                    break;
                }
            }
            return new long[][] {
                    {0, 512}, {512, 1024}, {l.header.tableOffset(), l.header.maxTableEntries() * 4},
                    {bitmap, 512}, {l.fileSize - 512, 512}};
        }
    }

    private void run(Path good, long[]... hot) throws Exception {
        Mutator m = new Mutator(good, good.getFileName().toString().hashCode(), hot);
        Path bad = good.resolveSibling("mutant-" + good.getFileName());
        int opened = 0;
        int refused = 0;
        for (int i = 0; i < PER_FAMILY; i++) {
            String what = m.mutate(i, bad);
            boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(1), () -> exercise(bad, what), what);
            if (ok) {
                opened++;
            } else {
                refused++;
            }
            // The checker must survive the same damage.
            assertTimeoutPreemptively(Duration.ofSeconds(1), () -> checkSurvives(bad, what), what);
        }
        assertTrue(opened > 0 && refused > 0, "opened " + opened + ", refused " + refused);
    }

    /** True when the image opened, read and took a write; false when refused with a clear error. */
    private static boolean exercise(Path bad, String what) {
        try {
            try (VirtualDisk d = Formats.get().open(bad, "vpc", OpenOptions.READ_ONLY)) {
                VhdTestSupport.readAll(d);
                d.extents(0, d.size());
                d.info();
            }
            try (VirtualDisk d = Formats.get().open(bad, "vpc", OpenOptions.READ_WRITE)) {
                if (d.size() >= 4096) {
                    d.write(d.size() / 2 + 100, ByteBuffer.wrap(new byte[3000]));
                }
            }
            return true;
        } catch (ImageFormatException e) {
            return false;
        } catch (Throwable t) {
            throw new AssertionError(what + ": " + t, t);
        }
    }

    private static void checkSurvives(Path bad, String what) {
        try {
            new VhdFormat().check(bad, OpenOptions.READ_ONLY, Formats.get());
        } catch (ImageFormatException e) {
            // A file with no VHD footer at all cannot be checked: that is the one refusal.
        } catch (Throwable t) {
            fail(what + ": check threw " + t, t);
        }
    }
}
