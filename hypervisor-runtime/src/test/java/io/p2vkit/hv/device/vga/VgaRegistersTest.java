package io.p2vkit.hv.device.vga;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The register file driven through ports 0x3B0-0x3DF, no VM. */
class VgaRegistersTest {

    @Test
    void indexedRegistersTakeByteAndWordWrites() {
        VgaFixture v = new VgaFixture().mode3();
        v.out(0x3C4, 0x02);
        v.out(0x3C5, 0x0A);
        assertEquals(0x0A, v.in(0x3C5));
        v.outw(0x3C4, 0x0503);                 // index 3, value 5 in one outw
        assertEquals(0x03, v.in(0x3C4));
        assertEquals(0x05, v.in(0x3C5));
        v.outw(0x3CE, 0xAA08);
        v.out(0x3CE, 0x08);
        assertEquals(0xAA, v.in(0x3CF));
        v.crtc(0x0E, 0x12);
        v.crtc(0x0F, 0x34);
        assertEquals(0x12, v.crtcRead(0x0E));
        assertEquals(0x34, v.crtcRead(0x0F));
        assertEquals(0x67, v.in(0x3CC), "misc output reads back at 0x3CC");
    }

    @Test
    void crtcAnswersOnlyAtTheAddressMiscOutputSelects() {
        VgaFixture v = new VgaFixture().mode3();   // misc bit 0 set: colour, 0x3Dx
        v.crtc(0x0C, 0x07);
        v.out(0x3B4, 0x0C);
        assertEquals(0xFF, v.in(0x3B5), "mono CRTC floats in colour mode");
        v.out(0x3C2, 0x66);                         // mono
        v.out(0x3B4, 0x0C);
        assertEquals(0x07, v.in(0x3B5));
        v.out(0x3D4, 0x0C);
        v.out(0x3D5, 0x55);                         // dropped: colour half is off
        assertEquals(0x07, v.in(0x3B5));
    }

    @Test
    void crtcProtectBitLocksRegistersZeroToSevenButLineCompareBit() {
        VgaFixture v = new VgaFixture().mode3();   // mode 3 leaves CRTC 0x11 = 0x8E: protected
        v.crtc(0x01, 0x20);
        assertEquals(0x4F, v.crtcRead(0x01));
        v.crtc(0x07, 0x00);
        assertEquals(0x1F & ~0x10, v.crtcRead(0x07), "only bit 4 of the overflow register changes");
        v.crtc(0x09, 0x47);                         // not protected
        assertEquals(0x47, v.crtcRead(0x09));
        v.crtc(0x11, 0x0E);
        v.crtc(0x01, 0x20);
        assertEquals(0x20, v.crtcRead(0x01));
    }

    @Test
    void attributeFlipFlopAlternatesAndStatusReadResetsIt() {
        VgaFixture v = new VgaFixture().mode3();
        v.in(0x3DA);
        v.out(0x3C0, 0x02);           // index 2, palette source off
        assertEquals(0x02, v.in(0x3C0));
        v.out(0x3C0, 0x3F);           // data
        assertEquals(0x3F, v.in(0x3C1));
        v.out(0x3C0, 0x25);           // index again: 5 with PAS
        assertEquals(0x25, v.in(0x3C0));
        v.in(0x3DA);                  // back to "index" even though data was expected
        v.out(0x3C0, 0x22);
        v.out(0x3C0, 0x11);
        v.out(0x3C0, 0x02 | 0x20);
        assertEquals(0x11, v.in(0x3C1));
        v.out(0x3C0, 0x7F);           // a data byte for index 2, palette keeps 6 bits
        assertEquals(0x3F, v.in(0x3C1));
    }

    @Test
    void dacIndexesAutoIncrementPerThreeComponents() {
        VgaFixture v = new VgaFixture();
        v.out(0x3C8, 0xFF);
        v.out(0x3C9, 0x3F);
        v.out(0x3C9, 0x40 | 0x01);    // six bits kept
        v.out(0x3C9, 0x02);
        v.out(0x3C9, 0x03);           // wrapped to entry 0
        assertEquals(0x00, v.in(0x3C8), "write index wrapped past 255");
        assertEquals(0x00, v.in(0x3C7), "DAC state: writing");
        v.out(0x3C7, 0xFF);
        assertEquals(0x03, v.in(0x3C7), "DAC state: reading");
        assertEquals(0x3F, v.in(0x3C9));
        assertEquals(0x01, v.in(0x3C9));
        assertEquals(0x02, v.in(0x3C9));
        assertEquals(0x03, v.in(0x3C9), "read index moved on to entry 0");
        v.out(0x3C6, 0x0F);
        assertEquals(0x0F, v.in(0x3C6));
    }

    @Test
    void retraceBitFollowsTheFrameTime() {
        VgaFixture v = new VgaFixture().mode3();
        v.now = 0;
        assertEquals(0, v.in(0x3DA) & 0x08, "top of the frame: no retrace");
        assertEquals(0, v.in(0x3DA) & 0x01, "top-left pixel is displayed");
        v.now = VgaRegisters.LINE_NS * VgaRegisters.VRETRACE_FIRST + 10;
        assertEquals(0x09, v.in(0x3DA) & 0x09, "vertical retrace, and blanking");
        v.now += VgaRegisters.FRAME_NS;
        assertEquals(0x08, v.in(0x3DA) & 0x08, "the next frame's retrace");
        v.now = VgaRegisters.HACTIVE_NS + 5;
        assertEquals(0x01, v.in(0x3DA) & 0x09, "horizontal blanking only");
        int toggles = 0;
        int previous = -1;
        for (long t = 0; t < VgaRegisters.FRAME_NS * 3; t += 10_000) {
            v.now = t;
            int r = v.in(0x3DA) & 0x08;
            if (r != previous) {
                toggles++;
                previous = r;
            }
        }
        assertTrue(toggles >= 6, "retrace comes and goes once per frame: " + toggles);
    }

    @Test
    void hostileRegisterTrafficNeverThrows() {
        VgaFixture v = new VgaFixture().mode3();
        Random r = new Random(6);
        for (int i = 0; i < 200_000; i++) {
            int port = r.nextInt(VgaCard.PORT_COUNT + 8) - 4;
            int size = 1 << r.nextInt(3);
            if (r.nextBoolean()) {
                v.card.ports().write(port, size, r.nextInt());
            } else {
                v.card.ports().read(port, size);
            }
            if ((i & 1023) == 0) {
                VgaSnapshot s = v.card.snapshot();
                s.displayMode();
                TextScreen t = s.textScreen();
                if (t != null) {
                    assertTrue(t.cols() <= 256 && t.rows() <= 1024, t.cols() + "x" + t.rows());
                    TextRenderer.render(s, t);
                }
            }
        }
        assertNotEquals(0, v.card.missedAccesses(), "out-of-range ports are counted");
    }
}
