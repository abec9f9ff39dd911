package io.p2vkit.image.qcow2;

import io.p2vkit.image.CheckReport;
import io.p2vkit.image.CreateOptions;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.io.ImageFile;
import io.p2vkit.image.testing.TestDisks;
import io.p2vkit.image.testing.Tools;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hand-made damage: each gives an ImageFormatException naming the structure on open or read,
 * and check() reports it with qemu-img check's exit code (2 corrupt, 3 leaks).
 */
class Qcow2DamageTest {

    @TempDir
    Path dir;

    Path raw;
    Path img;
    Qcow2Header header;
    long firstL2;

    @BeforeEach
    void image() throws IOException {
        raw = TestDisks.mixed(dir.resolve("a.raw"), 4L << 20, 64 * 1024, 3);
        img = dir.resolve("a.qcow2");
        Qcow2TestSupport.writeImage(raw, img, CreateOptions.parse("cluster_size=4096"));
        try (ImageFile f = ImageFile.openRead(img)) {
            header = Qcow2Open.readStart(f).header();
            firstL2 = Qcow2ClusterMap.readL1(f, header.l1TableOffset(), header.l1Size())[0] & OFFSET_MASK;
        }
        assertTrue(firstL2 > 0);
    }

    private void patchLong(long offset, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putLong(0, value), offset);
        }
    }

    private void patchInt(long offset, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(0, value), offset);
        }
    }

    /** The index of the first allocated entry of the first L2 table. */
    private int firstDataEntry() throws IOException {
        try (ImageFile f = ImageFile.openRead(img)) {
            ByteBuffer l2 = f.read(firstL2, header.clusterSize(), "l2").order(ByteOrder.BIG_ENDIAN);
            for (int i = 0; i < header.l2Entries(); i++) {
                if (l2.getLong(i * 8) != 0) {
                    return i;
                }
            }
        }
        throw new AssertionError("no data");
    }

    private String readFails() {
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> {
            try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
                ByteBuffer buf = ByteBuffer.allocate((int) d.size());
                d.read(0, buf);
            }
        });
        return e.getMessage();
    }

    private CheckReport check() throws IOException {
        return new Qcow2Format().check(img, OpenOptions.READ_ONLY, null);
    }

    private void assertQemuCheckExit(int expected) throws Exception {
        if (Tools.available("qemu-img")) {
            Tools.Result r = Tools.qemuImg("check", "-f", "qcow2", img.toString());
            assertEquals(expected, r.exit(), "qemu-img check: " + r.all());
        }
    }

    @Test
    void goodImageIsClean() throws Exception {
        CheckReport r = check();
        assertTrue(r.isClean(), r.corruptions() + " " + r.leaks());
        assertTrue(r.allocatedClusters() > 0);
        assertQemuCheckExit(0);
    }

    @Test
    void l2EntryIntoTheHeader() throws Exception {
        int i = firstDataEntry();
        patchLong(firstL2 + i * 8L, OFLAG_COPIED);
        // Offset 0 with only the copied flag reads as unallocated to QEMU; point at cluster 0 + 1 sector.
        patchLong(firstL2 + i * 8L, OFLAG_COPIED | 512);
        assertTrue(readFails().contains("unaligned"), readFails());
        assertEquals(CheckReport.EXIT_CORRUPT, check().exitCode());
        patchLong(firstL2 + i * 8L, OFLAG_COPIED | header.l1TableOffset());
        assertTrue(check().corruptionCount() > 0, "an L2 entry onto the L1 table shares its cluster");
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void twoEntriesShareOneCluster() throws Exception {
        int i = firstDataEntry();
        long entry;
        try (ImageFile f = ImageFile.openRead(img)) {
            entry = f.read(firstL2 + i * 8L, 8, "e").order(ByteOrder.BIG_ENDIAN).getLong(0);
        }
        long unused = -1;
        try (ImageFile f = ImageFile.openRead(img)) {
            ByteBuffer l2 = f.read(firstL2, header.clusterSize(), "l2").order(ByteOrder.BIG_ENDIAN);
            for (int k = 0; k < header.l2Entries() && unused < 0; k++) {
                if (l2.getLong(k * 8) == 0) {
                    unused = k;
                }
            }
        }
        patchLong(firstL2 + unused * 8, entry);
        CheckReport r = check();
        assertEquals(CheckReport.EXIT_CORRUPT, r.exitCode());
        assertTrue(r.corruptions().get(0).contains("refcount=1 reference=2"), r.corruptions().toString());
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void compressedClusterWithAbsurdSize() throws Exception {
        int i = firstDataEntry();
        int x = Qcow2Entry.compressedShift(header.clusterBits());
        long sectorsMax = (1L << (62 - x)) - 1;
        long nearEnd;
        try (ImageFile f = ImageFile.openRead(img)) {
            nearEnd = f.size() - 100;
        }
        patchLong(firstL2 + i * 8L, OFLAG_COMPRESSED | (sectorsMax << x) | nearEnd);
        String msg = readFails();
        assertTrue(msg.contains("compressed cluster"), msg);
        assertEquals(CheckReport.EXIT_CORRUPT, check().exitCode());
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void writesThroughAnEntryOntoMetadataAreRefused() throws Exception {
        int i = firstDataEntry();
        patchLong(firstL2 + i * 8L, OFLAG_COPIED | firstL2);
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_WRITE)) {
            ImageFormatException e = assertThrows(ImageFormatException.class,
                    () -> d.write((long) i * header.clusterSize(), ByteBuffer.allocate(512).put(0, (byte) 9)));
            assertTrue(e.getMessage().contains("metadata"), e.getMessage());
        }
        patchLong(firstL2 + i * 8L, OFLAG_COPIED | header.l1TableOffset());
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_WRITE)) {
            assertThrows(ImageFormatException.class,
                    () -> d.write((long) i * header.clusterSize(), ByteBuffer.allocate(512).put(0, (byte) 9)));
        }
    }

    @Test
    void twoL1EntriesShareOneL2Table() throws Exception {
        assertTrue(header.l1Size() >= 2);
        patchLong(header.l1TableOffset() + 8, OFLAG_COPIED | firstL2);
        assertTrue(readFails().contains("more than once"), readFails());
        assertEquals(CheckReport.EXIT_CORRUPT, check().exitCode());
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void l1SizeOfTwoToThe31() throws Exception {
        patchInt(OFF_L1_SIZE, 1 << 31);
        assertTrue(readFails().contains("l1_size"));
        assertThrows(ImageFormatException.class, this::check);
    }

    @Test
    void refcountTableBeyondTheEnd() throws Exception {
        patchLong(OFF_REFCOUNT_TABLE_OFFSET, 1L << 40);
        assertTrue(readFails().contains("refcount table"));
        ImageFormatException e = assertThrows(ImageFormatException.class, this::check);
        assertTrue(e.getMessage().contains("refcount table"), e.getMessage());
    }

    @Test
    void l2TableBeyondTheEnd() throws Exception {
        patchLong(header.l1TableOffset(), OFLAG_COPIED | (1L << 40));
        assertTrue(readFails().contains("L2 table"), readFails());
        assertEquals(CheckReport.EXIT_CORRUPT, check().exitCode());
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void refcountTooLowIsCorruptTooHighIsLeak() throws Exception {
        long block;
        try (ImageFile f = ImageFile.openRead(img)) {
            block = f.read(header.refcountTableOffset(), 8, "rt").order(ByteOrder.BIG_ENDIAN).getLong(0);
        }
        long dataCluster;
        try (ImageFile f = ImageFile.openRead(img)) {
            dataCluster = (f.read(firstL2 + firstDataEntry() * 8L, 8, "e").order(ByteOrder.BIG_ENDIAN).getLong(0)
                    & OFFSET_MASK) >>> header.clusterBits();
        }
        // A cluster appended to the file, counted but referenced by nothing: a leak.
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            long spare = ch.size() >>> header.clusterBits();
            ch.write(ByteBuffer.allocate(header.clusterSize()), ch.size());
            ch.write(ByteBuffer.allocate(2).putShort(0, (short) 1), block + spare * 2);
        }
        CheckReport r = check();
        assertEquals(CheckReport.EXIT_LEAKS, r.exitCode(), r.leaks().toString());
        assertEquals(1, r.leakCount());
        assertQemuCheckExit(CheckReport.EXIT_LEAKS);
        // A data cluster whose refcount says free: a corruption.
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(2), block + dataCluster * 2);
        }
        assertEquals(CheckReport.EXIT_CORRUPT, check().exitCode());
        assertQemuCheckExit(CheckReport.EXIT_CORRUPT);
    }

    @Test
    void unsupportedFeaturesAreNamed() throws Exception {
        patchLong(OFF_INCOMPATIBLE_FEATURES, INCOMPAT_EXTL2);
        assertTrue(readFails().contains("extended L2"));
        patchLong(OFF_INCOMPATIBLE_FEATURES, INCOMPAT_DATA_FILE);
        assertTrue(readFails().contains("external data file"));
        patchLong(OFF_INCOMPATIBLE_FEATURES, 1L << 20);
        assertTrue(readFails().contains("bit 20"), readFails());
        patchLong(OFF_INCOMPATIBLE_FEATURES, INCOMPAT_COMPRESSION);
        ByteBuffer one = ByteBuffer.wrap(new byte[] {1});
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(one, OFF_COMPRESSION_TYPE);
        }
        assertTrue(readFails().contains("zstd"), readFails());
    }

    @Test
    void dirtyBitIsReportedAndCorruptBitRefusesWriting() throws Exception {
        patchLong(OFF_INCOMPATIBLE_FEATURES, INCOMPAT_DIRTY | INCOMPAT_CORRUPT);
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            assertEquals(true, d.info().details().get("dirty"));
            assertEquals(true, d.info().details().get("corrupt"));
            Qcow2TestSupport.assertSameBytes(raw, d);
        }
        ImageFormatException e = assertThrows(ImageFormatException.class,
                () -> Qcow2TestSupport.open(img, OpenOptions.READ_WRITE));
        assertTrue(e.getMessage().contains("corrupt"));
        patchLong(OFF_INCOMPATIBLE_FEATURES, 0);
        try (VirtualDisk d = Qcow2TestSupport.open(img, OpenOptions.READ_ONLY)) {
            assertFalse((Boolean) d.info().details().get("dirty"));
        }
    }
}
