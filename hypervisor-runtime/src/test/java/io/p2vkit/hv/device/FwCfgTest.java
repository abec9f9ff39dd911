package io.p2vkit.hv.device;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.p2vkit.hv.device.FwCfg.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FwCfgTest {

    private byte[] read(FwCfg f, int key, int n) {
        f.write(PORT_SELECTOR, 2, key);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) f.read(PORT_DATA, 1);
        }
        return b;
    }

    @Test
    void signatureAndTraditionalInterfaceOnly() {
        FwCfg f = new FwCfg();
        assertEquals("QEMU", new String(read(f, KEY_SIGNATURE, 4), StandardCharsets.US_ASCII));
        assertArrayEquals(new byte[] {1, 0, 0, 0}, read(f, KEY_ID, 4), "no DMA bit");
    }

    @Test
    void fileDirectoryIsBigEndianAndSortedAndFilesReadBack() {
        FwCfg f = new FwCfg().file("etc/e820", new byte[20]).file("bootorder", "/x\n".getBytes());
        f.seal();
        ByteBuffer dir = ByteBuffer.wrap(read(f, KEY_FILE_DIR, 4 + 2 * 64));
        assertEquals(2, dir.getInt());
        assertEquals(3, dir.getInt());
        int sel = dir.getShort() & 0xFFFF;
        dir.getShort();
        byte[] name = new byte[56];
        dir.get(name);
        assertEquals("bootorder", new String(name, StandardCharsets.US_ASCII).trim().replace("\0", ""));
        assertEquals(KEY_FILE_FIRST, sel);
        assertEquals(20, dir.getInt());
        assertEquals(KEY_FILE_FIRST + 1, dir.getShort() & 0xFFFF);
        assertEquals("/x\n", new String(read(f, sel, 3), StandardCharsets.US_ASCII));
    }

    @Test
    void readsPastTheEndAndUnknownKeysGiveZeros() {
        FwCfg f = new FwCfg();
        assertArrayEquals(new byte[] {'Q', 'E', 'M', 'U', 0, 0}, read(f, KEY_SIGNATURE, 6));
        assertArrayEquals(new byte[4], read(f, 0x1234, 4));
        f.write(PORT_DATA, 1, 0x55);   // data writes are ignored
        assertEquals(2, f.missedAccesses());
    }

    @Test
    void legacyItemsAreLittleEndian() {
        FwCfg f = new FwCfg().item(KEY_NOGRAPHIC, le(1, 2)).item(KEY_RAM_SIZE, le(256L << 20, 8));
        assertArrayEquals(new byte[] {1, 0}, read(f, KEY_NOGRAPHIC, 2));
        assertArrayEquals(new byte[] {0, 0, 0, 0x10, 0, 0, 0, 0}, read(f, KEY_RAM_SIZE, 8));
    }

    @Test
    void contentsFreezeOnceTheGuestRuns() {
        FwCfg f = new FwCfg();
        read(f, KEY_SIGNATURE, 1);
        assertThrows(IllegalStateException.class, () -> f.file("late", new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> new FwCfg().file("x".repeat(56), new byte[1]));
    }
}
