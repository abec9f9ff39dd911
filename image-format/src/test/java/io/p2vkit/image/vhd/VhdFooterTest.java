package io.p2vkit.image.vhd;

import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VhdFooterTest {

    static VhdFooter sample() {
        return new VhdFooter(VhdConstants.FEATURE_RESERVED, VhdConstants.VERSION_1_0, 512, 12345, "win ",
                0x000A0000, VhdConstants.OS_WINDOWS, 1 << 30, 1 << 30, VhdGeometry.forSectors((1 << 30) / 512),
                VhdConstants.TYPE_DYNAMIC, 0, UUID.fromString("01234567-89ab-cdef-0123-456789abcdef"), false, true);
    }

    @Test
    void recordIs512BytesAndRoundTrips() {
        byte[] b = sample().encode();
        assertEquals(512, b.length);
        assertEquals(VhdConstants.FOOTER_SIZE, b.length);
        VhdFooter back = VhdFooter.parse(b);
        assertTrue(back.checksumValid());
        assertEquals(sample().uniqueId(), back.uniqueId());
        assertEquals(sample().geometry(), back.geometry());
        assertEquals(VhdFooter.parse(b), back);
        // Field offsets of the spec: cookie, creator app, current size, disk type, unique id.
        assertEquals('c', b[0]);
        assertEquals('w', b[28]);
        assertEquals(0x40, b[48 + 4]);   // 1 GiB big-endian: 00 00 00 00 40 00 00 00
        assertEquals(3, b[63]);
        assertEquals(0x01, b[68]);
    }

    @Test
    void checksumIsOnesComplementOfByteSum() {
        byte[] b = sample().encode();
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            if (i < 64 || i >= 68) {
                sum += b[i] & 0xFF;
            }
        }
        assertEquals(~sum, VhdFooter.parse(b).storedChecksum());
        b[100] ^= 1;
        assertFalse(VhdFooter.parse(b).checksumValid());
    }

    @Test
    void old511ByteFooterParses() {
        byte[] b = java.util.Arrays.copyOf(sample().encode(), 511);
        assertTrue(VhdFooter.parse(b).checksumValid());
    }

    @Test
    void sizeRuleFollowsTheCreator() {
        VhdGeometry g = new VhdGeometry(100, 16, 63); // 100800 sectors
        long current = 100800L * 512 + 4096;
        for (String app : new String[] {"vpc ", "vs  ", "qemu"}) {
            assertEquals(100800L * 512, VhdSizeRule.virtualSize(withApp(app, g, current)), app);
        }
        for (String app : new String[] {"win ", "d2v ", "qem2", "wa\0\0", "tap\0", "CTXS", "xyz "}) {
            assertEquals(current, VhdSizeRule.virtualSize(withApp(app, g, current)), app);
        }
        // The maximum geometry means "too big for CHS": current size, whoever the creator.
        assertEquals(current, VhdSizeRule.virtualSize(withApp("vpc ", VhdGeometry.MAXIMUM, current)));
    }

    private static VhdFooter withApp(String app, VhdGeometry g, long current) {
        VhdFooter s = sample();
        return new VhdFooter(s.features(), s.formatVersion(), s.dataOffset(), s.timestamp(), app, 0, s.creatorOs(),
                current, current, g, s.diskType(), 0, s.uniqueId(), false, true);
    }
}
