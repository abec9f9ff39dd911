package io.p2vkit.image.vmdk;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Extent;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.ImageInfo;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Probing, descriptor-only images, info, child disks, unsupported variants and check findings. */
class VmdkFormatTest {

    @Test
    void descriptorWithFlatSparseAndZeroExtents(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("a-flat.bin"), bytes(4096, (byte) 0x11));
        try (VirtualDisk s = new VmdkFormat().create(dir.resolve("b.vmdk"), 8192,
                CreateOptions.parse("subformat=monolithicSparse"))) {
            s.write(4096, ByteBuffer.wrap(bytes(512, (byte) 0x22)));
        }
        Path d = dir.resolve("disk.vmdk");
        Files.writeString(d, """
                # Disk DescriptorFile
                version=1
                CID=fffffffe
                parentCID=ffffffff
                createType="custom"
                RW 4 FLAT "a-flat.bin" 2
                RW 16 SPARSE "b.vmdk"
                RW 100 ZERO
                """);
        assertInstanceOf(VmdkFormat.class, Formats.get().detect(d));
        try (VirtualDisk disk = Formats.get().open(d, OpenOptions.READ_ONLY)) {
            assertEquals((4 + 16 + 100) * 512, disk.size());
            ByteBuffer all = ByteBuffer.allocate((int) disk.size());
            disk.read(0, all);
            for (int i = 0; i < all.capacity(); i++) {
                byte want = i < 2048 ? 0x11 : i >= 2048 + 4096 && i < 2048 + 4608 ? (byte) 0x22 : 0;
                assertEquals(want, all.get(i), "byte " + i);
            }
            List<Extent> runs = disk.extents(0, disk.size());
            // The flat extent, then the sparse extent's one grain (its 16 sectors hold part of it).
            assertEquals(List.of(new Extent(0, 2048 + 8192, Extent.Kind.DATA),
                    new Extent(2048 + 8192, 51200, Extent.Kind.ZERO)), runs);
            ImageInfo info = disk.info();
            assertEquals("custom", info.details().get("create type"));
            assertEquals(2, info.references().size());
        }
    }

    @Test
    void infoReportsWhatVmwareNeeds(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("i.vmdk");
        new VmdkFormat().create(v, 10 << 20, CreateOptions.parse("subformat=twoGbMaxExtentSparse,adapter_type=lsilogic,compat6"))
                .close();
        try (VirtualDisk disk = Formats.get().open(v, OpenOptions.READ_ONLY)) {
            Map<String, Object> d = disk.info().details();
            assertEquals("twoGbMaxExtentSparse", d.get("create type"));
            assertEquals("lsilogic", d.get("adapter type"));
            assertEquals("6", d.get("hardware version"));
            assertEquals(65536L, d.get("grain size"));
            assertEquals(false, d.get("compressed"));
            assertEquals(1, d.get("header version"));
            assertEquals("ffffffff", d.get("parent cid"));
            assertEquals(List.of(Map.of("type", "SPARSE", "size", 10L << 20, "file", "i-s001.vmdk")), d.get("extents"));
            assertEquals("extent", disk.info().references().get(0).kind());
            assertTrue(disk.info().references().get(0).target().endsWith("i-s001.vmdk"));
        }
        assertTrue(Files.exists(dir.resolve("i-s001.vmdk")));
    }

    @Test
    void probeScores(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("p.vmdk");
        new VmdkFormat().create(v, 1 << 20, CreateOptions.none()).close();
        Path text = dir.resolve("no-first-line.txt");
        Files.writeString(text, "createType=\"monolithicFlat\"\nRW 8 FLAT \"x\" 0\n");
        Path other = Files.writeString(dir.resolve("other.txt"), "hello, world\n");
        VmdkFormat f = new VmdkFormat();
        assertEquals(95, f.probe(Formats.probeOf(v)));
        assertEquals(70, f.probe(Formats.probeOf(text)));
        assertEquals(0, f.probe(Formats.probeOf(other)));
        assertInstanceOf(RawFormat.class, Formats.get().detect(other));
        assertEquals(0, f.probe(Formats.probeOf(Files.write(dir.resolve("empty"), new byte[0]))));
    }

    @Test
    void cowdIsRecognisedAndRefused(@TempDir Path dir) throws IOException {
        Path c = dir.resolve("esx.vmdk");
        ByteBuffer b = ByteBuffer.allocate(2048).order(ByteOrder.LITTLE_ENDIAN).putInt(0, VmdkConstants.COWD_MAGIC);
        Files.write(c, b.array());
        assertInstanceOf(VmdkFormat.class, Formats.get().detect(c));
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> Formats.get().open(c, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("COWD"), e.getMessage());
    }

    @Test
    void readsQemusMultiExtentSplitDisk(@TempDir Path dir) throws Exception {
        Tools.require("qemu-io");
        Path v = dir.resolve("split.vmdk");
        Tools.ok("qemu-img", "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", v.toString(), "5G");
        long boundary = 2L << 30;
        Tools.ok("qemu-io", "-f", "vmdk", "-c", "write -P 0x5a " + (boundary - 4096) + " 8192",
                "-c", "write -P 0x33 " + ((5L << 30) - 65536) + " 4096", v.toString());
        try (VirtualDisk disk = Formats.get().open(v, OpenOptions.READ_ONLY)) {
            assertEquals(5L << 30, disk.size());
            ByteBuffer b = ByteBuffer.allocate(8192 + 1024);
            disk.read(boundary - 4096 - 512, b);
            for (int i = 0; i < b.capacity(); i++) {
                assertEquals(i < 512 || i >= 512 + 8192 ? 0 : 0x5a, b.get(i), "byte " + i);
            }
            long data = disk.extents(0, disk.size()).stream().filter(Extent::holdsData).mapToLong(Extent::length).sum();
            assertEquals(3 * 65536, data, "two grains around the boundary and one near the end");
        }
    }

    @Test
    void checkFindsDamage(@TempDir Path dir) throws IOException {
        Path v = dir.resolve("c.vmdk");
        try (VirtualDisk disk = new VmdkFormat().create(v, 4 << 20, CreateOptions.none())) {
            disk.write(0, ByteBuffer.wrap(bytes(65536 * 3, (byte) 7)));
        }
        VmdkFormat f = new VmdkFormat();
        CheckReport clean = f.check(v, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(clean.isClean(), clean.corruptions().toString());
        assertEquals(3, clean.allocatedClusters());
        SparseExtentHeader h;
        try (var file = io.p2vkit.image.io.ImageFile.openRead(v)) {
            h = SparseExtentHeader.parse(file.read(0, 512, "h"), 0);
        }
        long gt0 = h.gdOffset() * 512 + h.gdBytes();
        try (RandomAccessFile raf = new RandomAccessFile(v.toFile(), "rw")) {
            // Grain 1 now points at grain 0's data: two entries share a grain.
            raf.seek(gt0);
            int g0 = Integer.reverseBytes(raf.readInt());
            raf.seek(gt0 + 4);
            raf.writeInt(Integer.reverseBytes(g0));
        }
        CheckReport shared = f.check(v, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(shared.corruptions().stream().anyMatch(m -> m.contains("overlaps")), shared.corruptions().toString());
        assertTrue(shared.corruptions().stream().anyMatch(m -> m.contains("redundant")), shared.corruptions().toString());
        assertTrue(shared.leaks().stream().anyMatch(m -> m.contains("used by nothing")), shared.leaks().toString());
        try (RandomAccessFile raf = new RandomAccessFile(v.toFile(), "rw")) {
            raf.seek(gt0 + 8);
            raf.writeInt(Integer.reverseBytes(0x7fff0000));
        }
        CheckReport beyond = f.check(v, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(beyond.corruptions().stream().anyMatch(m -> m.contains("beyond the end")), beyond.corruptions().toString());
        assertEquals(CheckReport.EXIT_CORRUPT, beyond.exitCode());
        assertFalse(beyond.isClean());
        try (VirtualDisk disk = Formats.get().open(v, OpenOptions.READ_ONLY)) {
            assertThrows(ImageFormatException.class, () -> disk.read(2 * 65536, ByteBuffer.allocate(512)));
        }
    }

    /**
     * A hostile sparse file: 65,536 directory entries all naming one table whose 512 entries all
     * name one grain. Check must stay small and quick (it would otherwise record 32 M grains).
     */
    @Test
    void sharedTablesAndGrainsDoNotAmplify(@TempDir Path dir) throws IOException {
        long capacity = 1L << 32;                           // 2 TiB: 65,536 tables of 512 grains
        int gdSectors = 65536 * 4 / 512;
        long gt = 1 + gdSectors;
        long grain = gt + 4;
        SparseExtentHeader h = new SparseExtentHeader(1, VmdkConstants.FLAG_NEWLINE_TEST, capacity, 128, 0, 0, 512,
                0, 1, grain, false, 0);
        ByteBuffer file = ByteBuffer.allocate((int) ((grain + 128) * 512)).order(ByteOrder.LITTLE_ENDIAN);
        file.put(h.toBytes());
        for (int i = 0; i < 65536; i++) {
            file.putInt(512 + i * 4, (int) gt);
        }
        for (int i = 0; i < 512; i++) {
            file.putInt((int) (gt * 512) + i * 4, (int) grain);
        }
        Path v = dir.resolve("hostile.vmdk");
        Files.write(v, file.array());
        long t0 = System.nanoTime();
        CheckReport r = new VmdkFormat().check(v, OpenOptions.READ_ONLY, Formats.get());
        assertTrue(r.corruptionCount() > 0);
        assertTrue(r.corruptions().stream().anyMatch(m -> m.contains("more grains than the file can hold")),
                r.corruptions().subList(0, 3).toString());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "check stays quick");
        try (VirtualDisk disk = Formats.get().open(v, OpenOptions.READ_ONLY)) {
            assertEquals(capacity * 512, disk.size());
            disk.read(capacity * 512 - 4096, ByteBuffer.allocate(4096));
        }
    }

    private static byte[] bytes(int n, byte value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, value);
        return b;
    }
}
