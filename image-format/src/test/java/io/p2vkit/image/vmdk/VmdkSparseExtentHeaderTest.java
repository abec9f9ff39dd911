package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.p2vkit.image.vmdk.VmdkConstants.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sparse header record: its size, field offsets and the checks made while parsing it. */
class VmdkSparseExtentHeaderTest {

    private static SparseExtentHeader sample() {
        return new SparseExtentHeader(VERSION_STREAM, FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS,
                204801, 128, 1, 20, 512, 0, GD_AT_END, 128, false, COMPRESSION_DEFLATE);
    }

    @Test
    void recordIsOneSectorWithFieldsEndingAt79() {
        assertEquals(512, SparseExtentHeader.SIZE);
        assertEquals(SECTOR, SparseExtentHeader.SIZE);
        assertEquals(512, sample().toBytes().remaining());
        assertEquals(79, SparseExtentHeader.FIELDS_END, "packed fields: 4+4+4+8*4+4+8*3+1+4+2");
        assertEquals(79, 4 + 4 + 4 + 8 + 8 + 8 + 8 + 4 + 8 + 8 + 8 + 1 + 4 + 2);
    }

    @Test
    void fieldsSitWhereTheSpecPutsThem() {
        ByteBuffer b = sample().toBytes().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals('K', b.get(0));
        assertEquals('D', b.get(1));
        assertEquals('M', b.get(2));
        assertEquals('V', b.get(3));
        assertEquals(3, b.getInt(4));
        assertEquals(0x30001, b.getInt(8));
        assertEquals(204801, b.getLong(12));
        assertEquals(128, b.getLong(20));
        assertEquals(1, b.getLong(28));
        assertEquals(20, b.getLong(36));
        assertEquals(512, b.getInt(44));
        assertEquals(-1L, b.getLong(56));
        assertEquals(128, b.getLong(64));
        assertEquals('\n', b.get(73));
        assertEquals(' ', b.get(74));
        assertEquals('\r', b.get(75));
        assertEquals('\n', b.get(76));
        assertEquals(1, b.getShort(77));
        for (int i = SparseExtentHeader.FIELDS_END; i < 512; i++) {
            assertEquals(0, b.get(i), "padding at " + i);
        }
    }

    @Test
    void roundTrips() throws ImageFormatException {
        assertEquals(sample(), SparseExtentHeader.parse(sample().toBytes(), 0));
    }

    @Test
    void rejectsDamagedFields() {
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchLong(20, 3), 0), "grain not 2^n");
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchLong(20, 1L << 20), 0));
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchLong(12, -1), 0), "capacity");
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchInt(44, 0), 0), "GTEs");
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchInt(4, 9), 0), "version");
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchInt(8, 0x30001 | 1 << 20), 0));
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchByte(75, '\n'), 0), "newline test");
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(patchLong(36, 1 << 20), 0), "descriptor");
        ImageFormatException cowd = assertThrows(ImageFormatException.class,
                () -> SparseExtentHeader.parse(patchInt(0, COWD_MAGIC), 0));
        assertTrue(cowd.getMessage().contains("COWD"));
        assertThrows(ImageFormatException.class, () -> SparseExtentHeader.parse(ByteBuffer.allocate(100), 0));
    }

    private static ByteBuffer patchLong(int at, long v) {
        ByteBuffer b = sample().toBytes().order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(at, v);
    }

    private static ByteBuffer patchInt(int at, int v) {
        ByteBuffer b = sample().toBytes().order(ByteOrder.LITTLE_ENDIAN);
        return b.putInt(at, v);
    }

    private static ByteBuffer patchByte(int at, int v) {
        ByteBuffer b = sample().toBytes();
        return b.put(at, (byte) v);
    }
}
