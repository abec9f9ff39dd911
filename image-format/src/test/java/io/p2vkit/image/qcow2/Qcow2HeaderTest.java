package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.Probe;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The header record: its sizes (as QEMU's QEMU_BUILD_BUG_ON asserts them), round trip, refusals. */
class Qcow2HeaderTest {

    private static Qcow2Header header(int version, int headerLength) {
        return new Qcow2Header(version, 0, 0, 16, 1L << 30, 0, 2, 65536, 131072, 1, 0, 0,
                0, 0, 0, DEFAULT_REFCOUNT_ORDER, headerLength, COMPRESSION_DEFLATE);
    }

    /** A file image big enough for the tables {@link #header} names. */
    private static ByteBuffer file(Qcow2Header h) {
        ByteBuffer b = ByteBuffer.allocate(4 * 65536);
        b.put(h.encode());
        return b.clear();
    }

    @Test
    void recordSizes() {
        assertEquals(72, V2_HEADER_LENGTH);
        assertEquals(104, V3_HEADER_LENGTH);
        assertEquals(V2_HEADER_LENGTH, OFF_SNAPSHOTS_OFFSET + 8, "v2 header ends after snapshots_offset");
        assertEquals(V3_HEADER_LENGTH, OFF_HEADER_LENGTH + 4, "v3 header ends after header_length");
        assertEquals(72, header(2, V2_HEADER_LENGTH).encode().capacity());
        assertEquals(104, header(3, V3_HEADER_LENGTH).encode().capacity());
        assertEquals(112, header(3, V3_HEADER_LENGTH_WITH_COMPRESSION).encode().capacity());
        assertEquals(48, Qcow2Extensions.FEATURE_ENTRY);
        assertEquals(40, Qcow2Snapshots.ENTRY_FIXED);
    }

    @Test
    void roundTrip() throws Exception {
        for (Qcow2Header h : new Qcow2Header[] {header(2, 72), header(3, 104), header(3, 112)}) {
            ByteBuffer f = file(h);
            assertEquals(h, Qcow2Header.parse(f, f.capacity()));
        }
    }

    @Test
    void otherVersionsAreRefusedByName() {
        ByteBuffer f = file(header(3, 112));
        f.putInt(OFF_VERSION, 1);
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> Qcow2Header.parse(f, f.capacity()));
        assertTrue(e.getMessage().contains("qcow2 version 1 is not supported"), e.getMessage());
        Probe p = new Probe(Path.of("x"), f.asReadOnlyBuffer(), ByteBuffer.allocate(0), f.capacity());
        assertEquals(50, new Qcow2Format().probe(p));
        f.putInt(OFF_VERSION, 3);
        assertEquals(100, new Qcow2Format().probe(p));
        f.putInt(OFF_MAGIC, 0x514649FA);
        assertEquals(0, new Qcow2Format().probe(p));
        assertEquals(0, new Qcow2Format().probe(new Probe(Path.of("x"), ByteBuffer.allocate(3), ByteBuffer.allocate(0), 3)));
    }

    @Test
    void fieldsAreBoundedWhereParsed() {
        assertRefused(f -> f.putInt(OFF_CLUSTER_BITS, 22), "cluster_bits");
        assertRefused(f -> f.putInt(OFF_CLUSTER_BITS, 8), "cluster_bits");
        assertRefused(f -> f.putInt(OFF_L1_SIZE, 1 << 31), "l1_size");
        assertRefused(f -> f.putInt(OFF_L1_SIZE, 1), "cannot map the virtual size");
        assertRefused(f -> f.putLong(OFF_SIZE, -1), "virtual size");
        assertRefused(f -> f.putLong(OFF_L1_TABLE_OFFSET, 1L << 40), "L1 table");
        assertRefused(f -> f.putLong(OFF_L1_TABLE_OFFSET, 65537), "L1 table");
        assertRefused(f -> f.putLong(OFF_REFCOUNT_TABLE_OFFSET, 1L << 40), "refcount table");
        assertRefused(f -> f.putInt(OFF_REFCOUNT_TABLE_CLUSTERS, -1), "refcount_table_clusters");
        assertRefused(f -> f.putLong(OFF_REFCOUNT_TABLE_OFFSET, 0).putInt(OFF_REFCOUNT_TABLE_CLUSTERS, 0), "not finished");
        assertRefused(f -> f.putInt(OFF_CRYPT_METHOD, 2), "LUKS");
        assertRefused(f -> f.putInt(OFF_REFCOUNT_ORDER, 7), "refcount_order");
        assertRefused(f -> f.putInt(OFF_HEADER_LENGTH, 1 << 20), "header_length");
        assertRefused(f -> f.putLong(OFF_BACKING_FILE_OFFSET, 112).putInt(OFF_BACKING_FILE_SIZE, 5000),
                "backing_file_size");
        assertRefused(f -> f.putLong(OFF_BACKING_FILE_OFFSET, 65537), "backing_file_offset");
        assertRefused(f -> f.putInt(OFF_NB_SNAPSHOTS, 1 << 20), "nb_snapshots");
        assertRefused(f -> f.putLong(OFF_INCOMPATIBLE_FEATURES, INCOMPAT_COMPRESSION), "compression_type");
    }

    private static void assertRefused(java.util.function.Consumer<ByteBuffer> damage, String named) {
        ByteBuffer f = file(header(3, 112));
        damage.accept(f);
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> Qcow2Header.parse(f, f.capacity()));
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }

    @Test
    void extensionsRoundTrip() throws Exception {
        Qcow2Header h = header(3, 112);
        ByteBuffer f = file(h);
        f.put(112, Qcow2Extensions.encode("raw", true));
        Qcow2Extensions ext = Qcow2Extensions.parse(f, h);
        assertEquals("raw", ext.backingFormat());
        assertEquals("lazy refcounts", ext.featureNames().get("1:0"));
        assertEquals("external data file", ext.incompatibleName(2));
        assertEquals("unknown incompatible feature bit 9", ext.incompatibleName(9));
    }
}
