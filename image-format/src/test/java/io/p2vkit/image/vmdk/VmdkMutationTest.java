package io.p2vkit.image.vmdk;

import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.testing.Mutator;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.p2vkit.image.vmdk.VmdkConstants.*;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * 1,000 damaged copies per subformat we write (and 500 of qemu-img's streamOptimized and
 * monolithicSparse), with most damage in the header, embedded descriptor,
 * directories, tables and stream markers (and in descriptor text for descriptor files). Each
 * must open and read cleanly or fail with an ImageFormatException within a second; never another
 * exception, never an OutOfMemoryError under the 256 MiB test heap.
 */
class VmdkMutationTest {

    private static final int MUTATIONS = 1000;
    private static final long DISK = 1536L * 1024 + 512;

    @Test
    void monolithicSparse(@TempDir Path dir) throws IOException {
        Path good = make(dir, "monolithicSparse");
        run(dir, good, good, sparseHotRanges(good));
    }

    @Test
    void streamOptimized(@TempDir Path dir) throws IOException {
        Path good = make(dir, "streamOptimized");
        run(dir, good, good, streamHotRanges(good));
    }

    @Test
    void monolithicFlatDescriptorText(@TempDir Path dir) throws IOException {
        Path good = make(dir, "monolithicFlat");
        run(dir, good, good, new long[]{0, Files.size(good)});
    }

    @Test
    void twoGbMaxExtentSparse(@TempDir Path dir) throws IOException {
        Path good = make(dir, "twoGbMaxExtentSparse");
        Path extent = dir.resolve("good-s001.vmdk");
        // Half the damage goes to the descriptor text, half to the sparse extent it lists.
        runCount(dir, good, good, MUTATIONS / 2, new long[]{0, Files.size(good)});
        runCount(dir, good, extent, MUTATIONS / 2, sparseHotRanges(extent));
    }

    @Test
    void qemuStreamOptimized(@TempDir Path dir) throws Exception {
        Path good = makeWithQemu(dir, "streamOptimized");
        runCount(dir, good, good, MUTATIONS / 2, concat(streamHotRanges(good), sparseHotRanges(good)));
    }

    @Test
    void qemuMonolithicSparse(@TempDir Path dir) throws Exception {
        Path good = makeWithQemu(dir, "monolithicSparse");
        runCount(dir, good, good, MUTATIONS / 2, sparseHotRanges(good));
    }

    private static Path makeWithQemu(Path dir, String subformat) throws Exception {
        Tools.require("qemu-img");
        Path raw = TestDisks.mixed(dir.resolve("good.raw"), DISK, 48 * 1024, 12);
        Path good = dir.resolve("good.vmdk");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat,
                raw.toString(), good.toString());
        return good;
    }

    private static long[][] concat(long[][] a, long[][] b) {
        long[][] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Path make(Path dir, String subformat) throws IOException {
        Path raw = TestDisks.mixed(dir.resolve("good.raw"), DISK, 48 * 1024, 11);
        Path good = dir.resolve("good.vmdk");
        VmdkTestSupport.convert(raw, good, "subformat=" + subformat);
        try (VirtualDisk d = Formats.get().open(good, OpenOptions.READ_ONLY)) {
            VmdkTestSupport.assertSameAsRaw(raw, d);
        }
        return good;
    }

    private static void run(Path dir, Path image, Path target, long[]... hot) throws IOException {
        runCount(dir, image, target, MUTATIONS, hot);
    }

    /**
     * Damages {@code target} (the image itself or one of its extents) {@code count} times and
     * opens {@code image} each time; the target is restored afterwards.
     */
    private static void runCount(Path dir, Path image, Path target, int count, long[]... hot) throws IOException {
        Path backup = dir.resolve("backup.bin");
        Files.copy(target, backup, StandardCopyOption.REPLACE_EXISTING);
        Mutator mutator = new Mutator(backup, target.getFileName().toString().hashCode(), hot);
        int refused = 0;
        try {
            for (int i = 0; i < count; i++) {
                String what = mutator.mutate(i, target);
                if (!tryOpen(image, what)) {
                    refused++;
                }
            }
        } finally {
            Files.copy(backup, target, StandardCopyOption.REPLACE_EXISTING);
        }
        System.out.printf("VMDK mutations of %s: %d of %d refused with ImageFormatException, the rest read cleanly%n",
                target.getFileName(), refused, count);
        assertTrue(refused > count / 10, "most damage in the structures is noticed: " + refused + " of " + count);
    }

    /** Returns true when the image opened and read cleanly, false when it was refused. */
    private static boolean tryOpen(Path image, String what) {
        boolean[] clean = {true};
        assertTimeoutPreemptively(Duration.ofSeconds(1), () -> {
            try {
                try (VirtualDisk d = Formats.get().open(image, "vmdk", OpenOptions.READ_ONLY)) {
                    VmdkTestSupport.readAll(d);
                    d.info();
                }
            } catch (ImageFormatException e) {
                clean[0] = false;
                assertOneLine(e, what);
            } catch (Throwable t) {
                fail("mutation " + what + " gave " + t, t);
            }
            try {
                new VmdkFormat().check(image, OpenOptions.READ_ONLY, Formats.get());
            } catch (ImageFormatException e) {
                assertOneLine(e, what);
            } catch (Throwable t) {
                fail("check of mutation " + what + " gave " + t, t);
            }
        }, () -> "mutation " + what + " took more than a second");
        return clean[0];
    }

    private static void assertOneLine(ImageFormatException e, String what) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.contains("\n")) {
            fail("mutation " + what + " gave a message that is not one line: " + m);
        }
    }

    /** Header, embedded descriptor, both directories and all their tables, and the first grains. */
    static long[][] sparseHotRanges(Path file) throws IOException {
        try (ImageFile f = ImageFile.openRead(file)) {
            SparseExtentHeader h = SparseExtentHeader.parse(f.read(0, SECTOR, "h"), 0);
            List<long[]> hot = new ArrayList<>();
            hot.add(new long[]{0, SECTOR});
            hot.add(new long[]{0, 80});
            if (h.descriptorSize() > 0) {
                hot.add(new long[]{h.descriptorOffset() * SECTOR, 1024});
            }
            long tables = h.gdBytes() + h.gtCount() * h.gtBytes();
            hot.add(new long[]{h.rgdOffset() * SECTOR, tables});
            hot.add(new long[]{h.gdOffset() * SECTOR, tables});
            hot.add(new long[]{h.gdOffset() * SECTOR + h.gdBytes(), 256});
            hot.add(new long[]{h.overHead() * SECTOR, 4 * h.grainBytes()});
            return hot.toArray(long[][]::new);
        }
    }

    /** Header, descriptor, every marker (grain markers' first bytes, all metadata) and the footer. */
    static long[][] streamHotRanges(Path file) throws IOException {
        try (ImageFile f = ImageFile.openRead(file)) {
            SparseExtentHeader h = SparseExtentHeader.parse(f.read(0, SECTOR, "h"), 0);
            List<long[]> hot = new ArrayList<>();
            hot.add(new long[]{0, 80});
            hot.add(new long[]{SECTOR, 1024});
            long size = f.size();
            long pos = h.overHead();
            while (pos * SECTOR < size) {
                ByteBuffer m = f.read(pos * SECTOR, 16, "m");
                long value = m.getLong(0);
                long len = Integer.toUnsignedLong(m.getInt(8));
                if (len != 0) {
                    hot.add(new long[]{pos * SECTOR, 14});
                    pos += ceilDiv(12 + len, SECTOR);
                } else {
                    hot.add(new long[]{pos * SECTOR, (1 + value) * SECTOR});
                    hot.add(new long[]{pos * SECTOR, 16});
                    pos += 1 + value;
                }
            }
            hot.add(new long[]{size - 3 * SECTOR, 3 * SECTOR});
            return hot.toArray(long[][]::new);
        }
    }
}
