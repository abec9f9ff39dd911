package io.p2vkit.image.vhd;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.raw.RawFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

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
        flip(f, Files.size(f) - 512 + 100);
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
        long bitmapAt = Integer.toUnsignedLong(batEntry(f, 0)) * 512;
        write(f, bitmapAt, new byte[] {0x0F}); // sectors 0-3 clear, 4-7 set; the data stays 0xAA
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

    // ---- footers ----

    @Test
    void damagedFooterFallsBackToTheCopyAndCheckSaysSo() throws IOException {
        Path f = dir.resolve("copy.vhd");
        byte[] data = new byte[1 << 20];
        new Random(3).nextBytes(data);
        try (VirtualDisk d = vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on"))) {
            d.write(1 << 20, ByteBuffer.wrap(data));
        }
        assertTrue(vhd.check(f, OpenOptions.READ_ONLY, Formats.get()).isClean());
        flip(f, Files.size(f) - 512 + 200);
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            byte[] back = new byte[data.length];
            d.read(1 << 20, ByteBuffer.wrap(back));
            assertArrayEquals(data, back);
            assertTrue(((String) d.info().details().get("footer copy")).startsWith("used"));
        }
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertEquals(1, r.corruptionCount(), r.corruptions().toString());
        assertTrue(r.corruptions().getFirst().contains("copy at offset 0 is good and is used"));
        // Both damaged: refused, naming the checksum.
        flip(f, 100);
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Formats.get().open(f, "vpc", OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void copyThatDiffersIsReported() throws IOException {
        Path f = dir.resolve("differs.vhd");
        vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on")).close();
        VhdFooter copy;
        try (ImageFile file = ImageFile.openRead(f)) {
            copy = VhdFooter.parse(VhdLayout.bytes(file, 0, 512, "copy"));
        }
        VhdFooter other = new VhdFooter(copy.features(), copy.formatVersion(), copy.dataOffset(), copy.timestamp() + 1,
                copy.creatorApp(), copy.creatorVersion(), copy.creatorOs(), copy.originalSize(), copy.currentSize(),
                copy.geometry(), copy.diskType(), 0, copy.uniqueId(), false, true);
        write(f, 0, other.encode());
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("differs"), r.corruptions().toString());
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertEquals("differs from the footer", d.info().details().get("footer copy"));
        }
    }

    // ---- check ----

    /** A dynamic disk of 4 MiB in 512 KiB blocks with blocks 0, 1 and 2 written. */
    private Path threeBlocks(String name) throws IOException {
        Path f = dir.resolve(name);
        try (VirtualDisk d = vhd.create(f, 4 << 20, CreateOptions.parse("force_size=on,block_size=512K"))) {
            byte[] b = new byte[3 * (512 << 10)];
            java.util.Arrays.fill(b, (byte) 1);
            d.write(0, ByteBuffer.wrap(b));
        }
        return f;
    }

    private static int batEntry(Path f, int i) throws IOException {
        try (ImageFile file = ImageFile.openRead(f)) {
            return file.read(1536 + 4L * i, 4, "bat").order(ByteOrder.BIG_ENDIAN).getInt();
        }
    }

    private static void setBatEntry(Path f, int i, int value) throws IOException {
        write(f, 1536 + 4L * i, ByteBuffer.allocate(4).putInt(value).array());
    }

    @Test
    void checkFindsBlocksPastTheEndAndOpenRefusesThem() throws IOException {
        Path f = threeBlocks("eof.vhd");
        setBatEntry(f, 5, (int) (Files.size(f) / 512 + 10));
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("ends past the end of the file"), r.corruptions().toString());
        assertEquals(CheckReport.EXIT_CORRUPT, r.exitCode());
        assertThrows(ImageFormatException.class, () -> Formats.get().open(f, OpenOptions.READ_ONLY));
    }

    @Test
    void checkFindsTwoEntriesSharingABlock() throws IOException {
        Path f = threeBlocks("dup.vhd");
        setBatEntry(f, 6, batEntry(f, 1));
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("share file space"), r.corruptions().toString());
        assertTrue(r.leaks().toString().contains("past the virtual size") || r.corruptionCount() >= 1);
    }

    @Test
    void checkFindsABlockOverTheTable() throws IOException {
        Path f = threeBlocks("overlap.vhd");
        setBatEntry(f, 3, 3); // sector 3 = offset 1536: the BAT itself
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("overlaps the block allocation table"),
                r.corruptions().toString());
    }

    @Test
    void checkCountsAllocationAndLeaks() throws IOException {
        Path f = threeBlocks("leak.vhd");
        CheckReport clean = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(clean.isClean());
        assertEquals(3, clean.allocatedClusters());
        assertEquals(8, clean.totalClusters());
        setBatEntry(f, 1, -1); // block 1's space is now used by nothing
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertEquals(0, r.corruptionCount(), r.corruptions().toString());
        assertEquals(CheckReport.EXIT_LEAKS, r.exitCode(), r.leaks().toString());
    }

    @Test
    void checkReportsSizesBeyondTheFormat() throws IOException {
        // A well-formed dynamic disk of 3 TiB in 256 MiB blocks: readable, but not a legal VHD.
        Path f = dir.resolve("3t.vhd");
        long size = 3L << 40;
        long block = 256L << 20;
        int entries = (int) (size / block);
        VhdFooter footer = new VhdFooter(2, 0x10000, 512, 0, "win ", 0, VhdConstants.OS_WINDOWS, size, size,
                VhdGeometry.MAXIMUM, VhdConstants.TYPE_DYNAMIC, 0, UUID.randomUUID(), false, true);
        List<VhdDynamicHeader.Locator> none = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            none.add(new VhdDynamicHeader.Locator(0, 0, 0, 0));
        }
        VhdDynamicHeader h = new VhdDynamicHeader(-1, 1536, 0x10000, entries, block, 0, true, new UUID(0, 0), 0, "",
                none);
        byte[] bat = new byte[entries * 4];
        java.util.Arrays.fill(bat, (byte) 0xFF);
        write(f, 0, footer.encode());
        write(f, 512, h.encode());
        write(f, 1536, bat);
        write(f, 1536 + bat.length, footer.encode());
        CheckReport r = vhd.check(f, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptions().toString().contains("2040 GiB"), r.corruptions().toString());
        try (VirtualDisk d = Formats.get().open(f, OpenOptions.READ_ONLY)) {
            assertEquals(size, d.size());
        }
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

    private static void flip(Path f, long at) throws IOException {
        try (ImageFile file = ImageFile.open(f, false)) {
            ByteBuffer b = file.read(at, 1, "byte");
            file.writeFully(at, ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0x40)}));
        }
    }

    private static void write(Path f, long at, byte[] bytes) throws IOException {
        if (!Files.exists(f)) {
            Files.createFile(f);
        }
        try (ImageFile file = ImageFile.open(f, false)) {
            file.writeFully(at, ByteBuffer.wrap(bytes));
        }
    }
}
