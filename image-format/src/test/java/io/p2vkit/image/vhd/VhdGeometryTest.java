package io.p2vkit.image.vhd;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VhdGeometryTest {

    @Test
    void specAlgorithmKnownValues() {
        // qemu-img create -f vpc 10M gives 20536 sectors: 1012 x 4 x 17... computed by the spec's steps.
        VhdGeometry.Rounded r = VhdGeometry.roundUp(10L << 20);
        assertEquals(10514432, r.size()); // what vhdiinfo reports for qemu-img's 10M VHD
        assertEquals(r.size() / 512, r.geometry().sectors());
        assertEquals(new VhdGeometry(65535, 16, 255), VhdGeometry.forSectors(Long.MAX_VALUE / 1024));
        VhdGeometry g = VhdGeometry.forSectors(2L * 1024 * 1024 * 1024 / 512); // 2 GiB
        assertEquals(new VhdGeometry(4161, 16, 63), g);
    }

    @Test
    void roundingNeverShrinksAndStopsAtTheMaximum() {
        for (long size = 0; size < (3L << 30); size += 7_777_777) {
            VhdGeometry.Rounded r = VhdGeometry.roundUp(size);
            assertTrue(r.size() >= size, "size " + size);
            assertEquals(r.size(), r.geometry().sectors() * 512, "size " + size);
        }
        long big = 200L << 30;
        VhdGeometry.Rounded r = VhdGeometry.roundUp(big);
        assertEquals(big, r.size());
        assertTrue(r.geometry().isMaximum());
    }
}
