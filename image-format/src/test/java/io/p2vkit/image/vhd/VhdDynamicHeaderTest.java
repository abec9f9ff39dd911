package io.p2vkit.image.vhd;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VhdDynamicHeaderTest {

    @Test
    void recordIs1024BytesAndRoundTrips() {
        List<VhdDynamicHeader.Locator> locs = new ArrayList<>();
        locs.add(new VhdDynamicHeader.Locator(VhdConstants.PLATFORM_W2RU, 512, 26, 4096));
        while (locs.size() < 8) {
            locs.add(new VhdDynamicHeader.Locator(0, 0, 0, 0));
        }
        UUID parent = UUID.randomUUID();
        VhdDynamicHeader h = new VhdDynamicHeader(-1, 1536, VhdConstants.VERSION_1_0, 51, 2 << 20, 0, true, parent,
                77, "parent.vhd", locs);
        byte[] b = h.encode();
        assertEquals(1024, b.length);
        assertEquals(VhdConstants.DYNAMIC_HEADER_SIZE, b.length);
        VhdDynamicHeader back = VhdDynamicHeader.parse(b);
        assertTrue(back.checksumValid());
        assertEquals(parent, back.parentUniqueId());
        assertEquals("parent.vhd", back.parentName());
        assertEquals(51, back.maxTableEntries());
        assertEquals(2 << 20, back.blockSize());
        assertEquals(locs.getFirst(), back.locators().getFirst());
        assertEquals("W2ru", back.locators().getFirst().platformName());
        assertEquals(h.locators(), back.locators());
        // Spec offsets: max table entries at 28, block size at 32, locators at 576.
        assertEquals(51, b[31]);
        assertEquals(0x20, b[33]);
        assertEquals('W', b[576]);
    }

    @Test
    void bitmapIsPaddedToWholeSectors() {
        assertEquals(512, VhdDynamicHeader.bitmapSize(2 << 20));   // 4096 sectors = 512 bytes
        assertEquals(512, VhdDynamicHeader.bitmapSize(512 << 10)); // 1024 sectors = 128 bytes, padded
        assertEquals(8192, VhdDynamicHeader.bitmapSize(32 << 20));
        assertEquals(512, VhdDynamicHeader.bitmapSize(512));
    }
}
