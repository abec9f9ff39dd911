package io.p2vkit.hv.device.vga;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The planes through the 0xA0000-0xBFFFF window: mappings, write modes, read modes. */
class VgaMemoryTest {

    private static VgaFixture planar() {
        VgaFixture v = new VgaFixture().mode3();
        v.seq(2, 0x0F);
        v.seq(4, 0x06);    // odd/even off, chain-4 off
        v.gc(5, 0x00);
        v.gc(6, 0x05);     // graphics, A0000 64 KiB
        return v;
    }

    private static int plane(VgaFixture v, int plane, int offset) {
        return v.card.snapshot().plane(plane, offset);
    }

    @Test
    void oddEvenPutsCharactersInPlaneZeroAndAttributesInPlaneOne() {
        VgaFixture v = new VgaFixture().mode3();
        v.print(0, 0, "Hi", 0x1E);
        assertEquals('H', plane(v, 0, 0));
        assertEquals(0x1E, plane(v, 1, 0));
        assertEquals('i', plane(v, 0, 2));
        assertEquals(0x1E, plane(v, 1, 2));
        assertEquals(0, plane(v, 2, 0), "plane 2 (the font) untouched");
        assertEquals('H', v.peek(0xB8000));
        assertEquals(0x1E, v.peek(0xB8001));
        assertEquals('i', v.peek(0xB8002));
        v.card.memoryWindow().write(0xB8004 - 0xA0000, 2, 0x4F41);   // a 16-bit store: 'A' on white-red
        assertEquals('A', plane(v, 0, 4));
        assertEquals(0x4F, plane(v, 1, 4));
        assertEquals(0x4F41, v.card.memoryWindow().read(0xB8004 - 0xA0000, 2));
    }

    @Test
    void memoryMapSelectChoosesTheWindow() {
        VgaFixture v = new VgaFixture().mode3();    // map 3: 0xB8000, 32 KiB
        v.poke(0xA0000, 0x11);
        assertEquals(0xFF, v.peek(0xA0000), "A0000 is outside the text window");
        v.poke(0xB0000, 0x22);
        assertEquals(0xFF, v.peek(0xB0000));
        v.gc(6, 0x0A);                             // map 2: 0xB0000, 32 KiB
        v.poke(0xB0000, 'M');
        assertEquals('M', v.peek(0xB0000));
        assertEquals(0xFF, v.peek(0xB8000));
        v.gc(6, 0x02);                             // map 0: 0xA0000, 128 KiB, wraps at 64 KiB of plane
        assertEquals('M', v.peek(0xA0000));
        assertEquals('M', v.peek(0xB0000));
    }

    @Test
    void writeModeZeroRotatesSetsResetsAndMasks() {
        VgaFixture v = planar();
        v.gc(8, 0xFF);
        v.poke(0xA0000, 0xA5);
        for (int p = 0; p < 4; p++) {
            assertEquals(0xA5, plane(v, p, 0));
        }
        v.gc(1, 0x05);           // set/reset on planes 0 and 2
        v.gc(0, 0x01);           // plane 0 set, plane 2 reset
        v.poke(0xA0001, 0x3C);
        assertEquals(0xFF, plane(v, 0, 1));
        assertEquals(0x3C, plane(v, 1, 1));
        assertEquals(0x00, plane(v, 2, 1));
        v.gc(1, 0x00);
        v.gc(3, 0x01);           // rotate right by 1
        v.poke(0xA0002, 0x03);
        assertEquals(0x81, plane(v, 3, 2));
        v.gc(3, 0x00);
        v.peek(0xA0000);         // latches = 0xA5 in all planes
        v.gc(8, 0x0F);           // only the low nibble comes from the CPU
        v.poke(0xA0000, 0x00);
        assertEquals(0xA0, plane(v, 1, 0));
        v.gc(8, 0xFF);
        v.peek(0xA0000);         // latches 0xA0
        v.gc(3, 0x08);           // AND
        v.poke(0xA0000, 0xF0);
        assertEquals(0xA0, plane(v, 0, 0));
        v.peek(0xA0000);
        v.gc(3, 0x10);           // OR
        v.poke(0xA0000, 0x0F);
        assertEquals(0xAF, plane(v, 0, 0));
        v.peek(0xA0000);
        v.gc(3, 0x18);           // XOR
        v.poke(0xA0000, 0xFF);
        assertEquals(0x50, plane(v, 0, 0));
    }

    @Test
    void mapMaskLimitsPlanarWrites() {
        VgaFixture v = planar();
        v.seq(2, 0x04);
        v.poke(0xA0010, 0x77);
        assertEquals(0x00, plane(v, 0, 0x10));
        assertEquals(0x77, plane(v, 2, 0x10));
        assertEquals(0x00, plane(v, 3, 0x10));
    }

    @Test
    void writeModeOneCopiesTheLatches() {
        VgaFixture v = planar();
        v.seq(2, 0x01);
        v.poke(0xA0000, 0x11);
        v.seq(2, 0x02);
        v.poke(0xA0000, 0x22);
        v.seq(2, 0x0F);
        v.peek(0xA0000);
        v.gc(5, 0x01);
        v.poke(0xA0100, 0x99);   // the data byte is ignored
        assertEquals(0x11, plane(v, 0, 0x100));
        assertEquals(0x22, plane(v, 1, 0x100));
        assertEquals(0x00, plane(v, 2, 0x100));
    }

    @Test
    void writeModesTwoAndThreeSpreadAColour() {
        VgaFixture v = planar();
        v.gc(5, 0x02);
        v.gc(8, 0x0F);
        v.peek(0xA0020);         // latches zero
        v.poke(0xA0020, 0x05);   // colour 5: planes 0 and 2 lit
        assertEquals(0x0F, plane(v, 0, 0x20));
        assertEquals(0x00, plane(v, 1, 0x20));
        assertEquals(0x0F, plane(v, 2, 0x20));
        v.gc(5, 0x03);
        v.gc(0, 0x0A);           // set/reset colour 10: planes 1 and 3
        v.gc(8, 0xFF);
        v.peek(0xA0021);
        v.poke(0xA0021, 0xC0);   // data is the bit mask
        assertEquals(0x00, plane(v, 0, 0x21));
        assertEquals(0xC0, plane(v, 1, 0x21));
        assertEquals(0xC0, plane(v, 3, 0x21));
    }

    @Test
    void readModesSelectAPlaneOrCompareColours() {
        VgaFixture v = planar();
        int[] values = {0xF0, 0xCC, 0xAA, 0x0F};
        for (int p = 0; p < 4; p++) {
            v.seq(2, 1 << p);
            v.poke(0xA0040, values[p]);
        }
        for (int p = 0; p < 4; p++) {
            v.gc(4, p);
            assertEquals(values[p], v.peek(0xA0040));
        }
        v.gc(5, 0x08);           // read mode 1
        v.gc(7, 0x0F);
        v.gc(2, 0x03);           // colour 3: planes 0,1 set, 2,3 clear
        int expect = 0;
        for (int bit = 0; bit < 8; bit++) {
            int colour = 0;
            for (int p = 0; p < 4; p++) {
                colour |= ((values[p] >> bit) & 1) << p;
            }
            if (colour == 3) {
                expect |= 1 << bit;
            }
        }
        assertEquals(expect, v.peek(0xA0040));
        v.gc(7, 0x01);           // only plane 0 matters
        assertEquals(values[0], v.peek(0xA0040));
    }

    @Test
    void chainFourSpreadsConsecutiveBytesOverThePlanes() {
        VgaFixture v = planar();
        v.seq(4, 0x0E);          // chain-4
        for (int i = 0; i < 8; i++) {
            v.poke(0xA0000 + i, 0x10 + i);
        }
        assertEquals(0x10, plane(v, 0, 0));
        assertEquals(0x13, plane(v, 3, 0));
        assertEquals(0x14, plane(v, 0, 4));
        assertEquals(0x17, plane(v, 3, 4));
        assertEquals(0x15, v.peek(0xA0005));
    }
}
