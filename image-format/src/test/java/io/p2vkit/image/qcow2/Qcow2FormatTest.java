package io.p2vkit.image.qcow2;

import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.SparseFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registration, probing through Formats, and the create options. */
class Qcow2FormatTest {

    @TempDir
    Path dir;

    @Test
    void registeredAndProbedAheadOfRaw() throws Exception {
        assertInstanceOf(Qcow2Format.class, Formats.get().require("qcow2"));
        Path img = dir.resolve("x.img");
        new Qcow2Format().create(img, 1 << 20, CreateOptions.none()).close();
        assertInstanceOf(Qcow2Format.class, Formats.get().detect(img));
        try (VirtualDisk d = Formats.get().open(img, OpenOptions.READ_ONLY)) {
            assertEquals("qcow2", d.info().format());
            assertEquals(1 << 20, d.size());
        }
        assertFalse(new Qcow2Format().createOptionsHelp().isEmpty());
    }

    @Test
    void unfinishedImageIsRefused() throws Exception {
        Path img = dir.resolve("half.qcow2");
        VirtualDisk d = new Qcow2Format().create(img, 1 << 20, CreateOptions.none());
        d.write(0, ByteBuffer.wrap(new byte[4096]).put(0, (byte) 7));
        d.flush();
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(img, OpenOptions.READ_ONLY));
        assertTrue(e.getMessage().contains("refcount table"), e.getMessage());
        d.close();
        try (VirtualDisk r = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            r.read(0, b);
            assertEquals(7, b.get(0));
        }
    }

    /**
     * A new image's blocks are allocated ahead of its writes (AppendReservation), which extends
     * the file; at close it ends where its refcount table does, every block of it written.
     */
    @Test
    void aNewImageEndsAtItsLastStructureWithNoHoles() throws Exception {
        Path img = dir.resolve("dense.qcow2");
        byte[] data = new byte[(3 << 20) + 4096];
        new Random(5).nextBytes(data);
        try (VirtualDisk d = new Qcow2Format().create(img, 64 << 20, CreateOptions.none())) {
            d.write(0, ByteBuffer.wrap(data));
            d.write(40 << 20, ByteBuffer.wrap(data, 0, 70000));
            long written = 4 * 65536 + data.length + 2 * 65536;
            assertTrue(Files.size(img) > written, "nothing was allocated ahead: " + Files.size(img));
        }
        Qcow2Header h = Qcow2Header.parse(ByteBuffer.wrap(Files.readAllBytes(img)), Files.size(img));
        assertEquals(h.refcountTableOffset() + ((long) h.refcountTableClusters() << h.clusterBits()),
                Files.size(img));
        assertEquals(Files.size(img), SparseFiles.allocatedBytes(img));
        try (VirtualDisk r = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            ByteBuffer b = ByteBuffer.allocate(data.length);
            r.read(0, b);
            assertArrayEquals(data, b.array());
        }
    }

    @Test
    void optionsAreChecked() throws Exception {
        assertOption("cluster_size=1000", "power of two");
        assertOption("cluster_size=4M", "cluster_size");
        assertOption("compat=0.9", "compat");
        assertOption("lazy_refcounts=on", "lazy_refcounts");
        assertOption("preallocation=full", "preallocation");
        assertOption("refcount_bits=3", "refcount_bits");
        assertOption("compat=0.10,refcount_bits=8", "16-bit");
        assertOption("backing_fmt=raw", "backing_file");
        assertOption("colour=blue", "no option 'colour'");
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> new Qcow2Format().create(dir.resolve("huge.qcow2"), 1L << 50, CreateOptions.parse("cluster_size=512")));
        assertTrue(e.getMessage().contains("L1 table larger than 32 MiB"), e.getMessage());
    }

    private void assertOption(String options, String named) throws Exception {
        Path img = dir.resolve("o.qcow2");
        Files.deleteIfExists(img);
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> new Qcow2Format().create(img, 1 << 20, CreateOptions.parse(options)));
        assertTrue(e.getMessage().contains(named), options + ": " + e.getMessage());
    }

    @Test
    void sizeIsRoundedUpToASector() throws Exception {
        Path img = dir.resolve("odd.qcow2");
        try (VirtualDisk d = new Qcow2Format().create(img, 1000, CreateOptions.none())) {
            assertEquals(1024, d.size());
        }
    }

    @Test
    void refcountWidthsAreHonoured() throws Exception {
        for (String bits : new String[] {"1", "8", "64"}) {
            Path img = dir.resolve("r" + bits + ".qcow2");
            try (VirtualDisk d = new Qcow2Format().create(img, 8 << 20, CreateOptions.parse("refcount_bits=" + bits))) {
                d.write(1 << 20, ByteBuffer.wrap(new byte[200_000]).put(5, (byte) 1));
            }
            assertTrue(new Qcow2Format().check(img, OpenOptions.READ_ONLY, null).isClean(), bits);
            if (io.p2vkit.image.testing.Tools.available("qemu-img")) {
                Qcow2InteropTest.assertQemuClean(img);
            }
        }
    }
}
