package io.p2vkit.image.vhd;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VhdFormatTest {

    @TempDir
    Path dir;

    private final VhdFormat vhd = new VhdFormat();

    // ---- probing ----

    @Test
    void fixedVhdIsFoundByItsFooterAndNotCalledRaw() throws IOException {
        Path f = dir.resolve("fixed.vhd");
        vhd.create(f, 4 << 20, CreateOptions.parse("subformat=fixed")).close();
        assertInstanceOf(VhdFormat.class, Formats.get().detect(f));
        assertEquals(VhdFormat.SCORE_VALID, vhd.probe(Formats.probeOf(f)));
        assertTrue(vhd.probe(Formats.probeOf(f)) > new RawFormat().probe(Formats.probeOf(f)));
        // A damaged checksum still scores above raw, below a good footer.
        VhdTestSupport.flip(f, Files.size(f) - 512 + 100);
        assertEquals(VhdFormat.SCORE_COOKIE_ONLY, vhd.probe(Formats.probeOf(f)));
        Path plain = Files.write(dir.resolve("plain.raw"), new byte[8192]);
        assertEquals(0, vhd.probe(Formats.probeOf(plain)));
    }

    @Test
    void old511ByteFooterIsRead() throws IOException {
        Path f = dir.resolve("old.vhd");
        vhd.create(f, 1 << 20, CreateOptions.parse("subformat=fixed,force_size=on")).close();
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length - 1)); // the last reserved byte is gone
        assertEquals(VhdFormat.SCORE_VALID, vhd.probe(Formats.probeOf(f)));
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertEquals(1 << 20, d.size());
        }
    }

    // ---- create options ----

    @Test
    void defaultSizeIsRoundedUpToAGeometryLikeQemuImg() throws IOException {
        try (VirtualDisk d = vhd.create(dir.resolve("a.vhd"), 10 << 20, CreateOptions.none())) {
            assertEquals(10514432, d.size());
            assertEquals("p2vk", d.info().details().get("creator application"));
            assertEquals("dynamic", d.info().details().get("subformat"));
            assertEquals((long) (2 << 20), d.info().details().get("block size"));
        }
        try (VirtualDisk d = vhd.create(dir.resolve("b.vhd"), (10 << 20) + 512, CreateOptions.parse("force_size=on"))) {
            assertEquals((10 << 20) + 512, d.size());
            assertEquals("win", d.info().details().get("creator application"));
        }
    }

    @Test
    void emptyDisksOfSizeZero() throws IOException {
        for (String o : List.of("", "subformat=fixed")) {
            Path f = dir.resolve("zero" + o.length() + ".vhd");
            vhd.create(f, 0, CreateOptions.parse(o)).close();
            try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
                assertEquals(0, d.size());
                assertEquals(List.of(), d.extents(0, 0));
            }
            assertTrue(vhd.check(f, OpenOptions.READ_ONLY, Formats.get()).isClean());
        }
    }

    @Test
    void azureMakesAFixedWholeMibExactSizeDisk() throws IOException {
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> vhd.create(dir.resolve("az1.vhd"), (100L << 20) + 512, CreateOptions.parse("azure=on")));
        assertTrue(e.getMessage().contains("use size=" + (101L << 20)), e.getMessage());
        assertFalse(Files.exists(dir.resolve("az1.vhd")));
        try (VirtualDisk d = vhd.create(dir.resolve("az.vhd"), 100L << 20, CreateOptions.parse("azure=on"))) {
            assertEquals(100L << 20, d.size());
            ImageInfo info = d.info();
            assertEquals("fixed", info.details().get("subformat"));
            assertEquals("win", info.details().get("creator application"));
            assertEquals("current size", info.details().get("size from"));
        }
        assertEquals((100L << 20) + 512, Files.size(dir.resolve("az.vhd")));
        assertThrows(ImageFormatException.class,
                () -> vhd.create(dir.resolve("az2.vhd"), 1 << 20, CreateOptions.parse("azure=on,subformat=dynamic")));
    }

    @Test
    void badOptionsAreRefused() {
        for (String o : List.of("subformat=stream", "frobnicate=1", "force_size=maybe", "block_size=3000",
                "subformat=fixed,backing_file=x.vhd")) {
            assertThrows(ImageFormatException.class, () -> vhd.create(dir.resolve("x.vhd"), 1 << 20,
                    CreateOptions.parse(o)), o);
        }
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> vhd.create(dir.resolve("big.vhd"), 2041L << 30, CreateOptions.none()));
        assertTrue(e.getMessage().contains("2040 GiB"), e.getMessage());
        ImageFormatException missing = assertThrows(ImageFormatException.class,
                () -> vhd.create(dir.resolve("d.vhd"), 0, CreateOptions.parse("backing_file=nope.vhd")));
        assertTrue(missing.getMessage().contains("nope.vhd") || missing.getMessage().contains("No such"),
                missing.getMessage());
    }

    // ---- size: a huge disk costs what its data costs ----

    @Test
    void a2040GibDynamicDiskCreatesAndReadsInTimeProportionalToData() throws IOException {
        long size = 2040L << 30;
        Path f = dir.resolve("huge.vhd");
        long[] at = {0, 1L << 40, size - (2 << 20)};
        byte[] data = new byte[2 << 20];
        new Random(1).nextBytes(data);
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (VirtualDisk d = vhd.create(f, size, CreateOptions.parse("force_size=on"))) {
                assertEquals(size, d.size());
                for (long a : at) {
                    d.write(a, ByteBuffer.wrap(data));
                }
            }
            try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
                List<Extent> ext = d.extents(0, size);
                List<Extent> held = ext.stream().filter(Extent::holdsData).toList();
                assertEquals(3, held.size(), ext.toString());
                for (int i = 0; i < 3; i++) {
                    assertEquals(new Extent(at[i], 2 << 20, Extent.Kind.DATA), held.get(i));
                }
                byte[] back = new byte[2 << 20];
                d.read(1L << 40, ByteBuffer.wrap(back));
                assertArrayEquals(data, back);
                ByteBuffer hole = ByteBuffer.allocate(1 << 20);
                d.read(1L << 39, hole);
                assertEquals(-1, hole.flip().mismatch(ByteBuffer.allocate(1 << 20)));
            }
            assertTrue(vhd.check(f, OpenOptions.READ_ONLY, Formats.get()).isClean());
        });
        // BAT (4 MiB) + three blocks + headers: the file is small.
        assertTrue(Files.size(f) < 16L << 20, "file size " + Files.size(f));
    }

    // ---- random-access writes (the VM's writable disk) ----

    @Test
    void randomWritesOnDynamicDisk() throws IOException {
        randomWrites(dir.resolve("rw.vhd"), null);
    }

    @Test
    void randomWritesOnDifferencingDiskKeepTheParentElsewhere() throws IOException {
        Path parent = dir.resolve("base.vhd");
        byte[] base = new byte[8 << 20];
        new Random(5).nextBytes(base);
        try (VirtualDisk p = vhd.create(parent, base.length, CreateOptions.parse("force_size=on,block_size=512K"))) {
            p.write(0, ByteBuffer.wrap(base, 0, 3 << 20));     // the rest of the parent stays unallocated
        }
        java.util.Arrays.fill(base, 3 << 20, base.length, (byte) 0);
        randomWrites(dir.resolve("diff.vhd"), base);
        try (VirtualDisk p = Formats.get().open(parent, OpenOptions.READ_ONLY)) {
            byte[] back = new byte[base.length];
            p.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(base, back, "the parent is never written");
        }
    }

    private void randomWrites(Path f, byte[] parent) throws IOException {
        int size = 8 << 20;
        byte[] model = parent == null ? new byte[size] : parent.clone();
        CreateOptions o = parent == null ? CreateOptions.parse("force_size=on,block_size=512K")
                : CreateOptions.parse("backing_file=base.vhd,block_size=512K");
        Random rnd = new Random(11);
        try (VirtualDisk d = vhd.create(f, parent == null ? size : 0, o)) {
            for (int i = 0; i < 300; i++) {
                int len = 1 + rnd.nextInt(i % 10 == 0 ? 1 << 20 : 5000);
                int off = rnd.nextInt(size - len);
                byte[] b = new byte[len];
                rnd.nextBytes(b);
                d.write(off, ByteBuffer.wrap(b));
                System.arraycopy(b, 0, model, off, len);
                if (i % 50 == 0) {
                    d.flush();
                    assertContent(d, model);
                }
            }
            assertContent(d, model);
        }
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_WRITE)) {
            assertContent(d, model);
            d.write(size - 700, ByteBuffer.wrap(new byte[700]));
            java.util.Arrays.fill(model, size - 700, size, (byte) 0);
        }
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertContent(d, model);
        }
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.isClean(), r.corruptions() + " " + r.leaks());
    }

    private static void assertContent(VirtualDisk d, byte[] model) throws IOException {
        byte[] back = new byte[model.length];
        d.read(0, ByteBuffer.wrap(back));
        assertEquals(-1, java.util.Arrays.mismatch(model, back), "first difference");
    }

    /** Zeros are skipped only where nothing was ever written: zeros over data must land. */
    @Test
    void zerosOverWrittenDataAreWritten() throws IOException {
        for (String o : List.of("subformat=fixed,force_size=on", "force_size=on", "force_size=on,block_size=512K")) {
            Path f = dir.resolve("z" + o.hashCode() + ".vhd");
            byte[] ones = new byte[1 << 20];
            java.util.Arrays.fill(ones, (byte) 1);
            byte[] model = new byte[4 << 20];
            try (VirtualDisk d = vhd.create(f, model.length, CreateOptions.parse(o))) {
                d.write(0, ByteBuffer.wrap(ones));
                d.write(3 << 20, ByteBuffer.wrap(ones));
                d.write(512 * 1024, ByteBuffer.wrap(new byte[1 << 20]));  // zeros over half of the first run
                d.write(2 << 20, ByteBuffer.wrap(new byte[1 << 20]));     // zeros into space never written
                System.arraycopy(ones, 0, model, 0, 512 * 1024);
                System.arraycopy(ones, 0, model, 3 << 20, 1 << 20);
                assertContent(d, model);
            }
            try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
                assertContent(d, model);
            }
        }
    }

    /** A dynamic block whose bitmap has clear bits (as other tools leave them) reads zeros there. */
    @Test
    void clearBitmapBitsInADynamicDiskReadAsZeros() throws IOException {
        Path f = dir.resolve("bits.vhd");
        byte[] full = new byte[512 << 10];
        java.util.Arrays.fill(full, (byte) 0xAA);
        try (VirtualDisk d = vhd.create(f, 2 << 20, CreateOptions.parse("force_size=on,block_size=512K"))) {
            d.write(0, ByteBuffer.wrap(full));
        }
        long bitmapAt = Integer.toUnsignedLong(VhdTestSupport.batEntry(f, 0)) * 512;
        VhdTestSupport.write(f, bitmapAt, new byte[] {0x0F}); // sectors 0-3 clear, 4-7 set; the data stays 0xAA
        byte[] model = full.clone();
        java.util.Arrays.fill(model, 0, 4 * 512, (byte) 0);
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_WRITE)) {
            byte[] back = new byte[full.length];
            d.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(model, back);
            assertEquals(new Extent(0, 4 * 512, Extent.Kind.UNALLOCATED), d.extents(0, 1 << 20).getFirst());
            // A partial write into a clear sector: the rest of that sector must read zeros, not 0xAA.
            d.write(512 + 10, ByteBuffer.wrap(new byte[] {7, 7}));
            model[512 + 10] = 7;
            model[512 + 11] = 7;
            d.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(model, back);
        }
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            byte[] back = new byte[full.length];
            d.read(0, ByteBuffer.wrap(back));
            assertArrayEquals(model, back);
        }
    }

    @Test
    void twoLevelChainReadsThroughBothParents() throws IOException {
        byte[] a = new byte[1 << 20];
        java.util.Arrays.fill(a, (byte) 'a');
        try (VirtualDisk d = vhd.create(dir.resolve("g.vhd"), 4 << 20, CreateOptions.parse("force_size=on"))) {
            d.write(0, ByteBuffer.wrap(a));
        }
        byte[] b = new byte[1000];
        java.util.Arrays.fill(b, (byte) 'b');
        try (VirtualDisk d = vhd.create(dir.resolve("p.vhd"), 0, CreateOptions.parse("backing_file=g.vhd"))) {
            d.write(100, ByteBuffer.wrap(b));
        }
        byte[] c = new byte[10];
        java.util.Arrays.fill(c, (byte) 'c');
        try (VirtualDisk d = vhd.create(dir.resolve("c.vhd"), 0, CreateOptions.parse("backing_file=p.vhd"))) {
            d.write(500, ByteBuffer.wrap(c));
        }
        byte[] model = new byte[4 << 20];
        System.arraycopy(a, 0, model, 0, a.length);
        System.arraycopy(b, 0, model, 100, b.length);
        System.arraycopy(c, 0, model, 500, c.length);
        try (VirtualDisk d = Formats.get().open(dir.resolve("c.vhd"), OpenOptions.READ_ONLY)) {
            assertContent(d, model);
        }
    }

    /** What docs/formats/vhd.md promises after a crash between flushes. */
    @Test
    void crashBetweenFlushesOpensAsOfTheLastFlush() throws IOException {
        Path f = dir.resolve("crash.vhd");
        Path copy = dir.resolve("crash-copy.vhd");
        byte[] first = new byte[1 << 20];
        java.util.Arrays.fill(first, (byte) 1);
        byte[] later = new byte[1 << 20];
        java.util.Arrays.fill(later, (byte) 2);
        try (VirtualDisk d = vhd.create(f, 8 << 20, CreateOptions.parse("force_size=on,block_size=512K"))) {
            d.write(0, ByteBuffer.wrap(first));
            d.flush();
            d.write(4 << 20, ByteBuffer.wrap(later));
            d.read(0, ByteBuffer.allocate(512)); // lets queued writes land, as time would
            Files.copy(f, copy);                 // the file as a crash would leave it
        }
        try (VirtualDisk d = Formats.get().open(copy, OpenOptions.READ_ONLY)) {
            byte[] model = new byte[8 << 20];
            System.arraycopy(first, 0, model, 0, first.length);
            assertContent(d, model);
        }
        CheckReport r = vhd.check(copy, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("missing at the end of the file"), r.corruptions().toString());
        assertTrue(r.leakCount() > 0, r.leaks().toString());
        try (VirtualDisk d = Formats.get().open(copy, OpenOptions.READ_WRITE)) {
            d.write(6 << 20, ByteBuffer.wrap(later));
        }
        assertEquals(0, vhd.check(copy, OpenOptions.READ_ONLY, Formats.get()).corruptionCount());
    }

    @Test
    void fixedExtentsShowHolesAsZero() throws IOException {
        Path f = dir.resolve("holes.vhd");
        try (VirtualDisk d = vhd.create(f, 8 << 20, CreateOptions.parse("subformat=fixed,force_size=on"))) {
            d.write(1 << 20, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            List<Extent> ext = d.extents(0, d.size());
            assertEquals(Extent.Kind.ZERO, ext.getFirst().kind());
            assertTrue(ext.stream().anyMatch(e -> e.kind() == Extent.Kind.DATA && e.offset() <= 1 << 20
                    && e.end() > 1 << 20), ext.toString());
            assertEquals(8 << 20, ext.getLast().end());
            ImageInfo info = d.info();
            assertEquals("vpc", info.format());
            for (String k : List.of("subformat", "creator application", "creator version", "creator host os",
                    "disk geometry (c/h/s)", "uuid")) {
                assertTrue(info.details().containsKey(k), k);
            }
        }
    }

    @Test
    void readOnlyDiskRefusesWrites() throws IOException {
        Path f = dir.resolve("ro.vhd");
        vhd.create(f, 1 << 20, CreateOptions.none()).close();
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertThrows(ImageFormatException.class, () -> d.write(0, ByteBuffer.allocate(512)));
            assertThrows(ImageFormatException.class, () -> d.read(d.size() - 100, ByteBuffer.allocate(512)));
        }
    }
}
