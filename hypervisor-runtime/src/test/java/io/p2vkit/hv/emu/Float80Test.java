package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Float80 on its own, with known values in every rounding and precision control. */
class Float80Test {

    private static final int ONE = 0x3FFF;
    private static final long INT = Float80.INTEGER_BIT;

    private static Float80 unit(int pc, int rc) {
        Float80 f = new Float80();
        f.control = 0x3F | pc << 8 | rc << 10;
        return f;
    }

    @Test
    void oneThirdInEveryPrecisionAndRounding() {
        long[][] want = { // PC 64, 53, 24 × RC nearest, down, up, zero
            {0xAAAAAAAAAAAAAAABL, 0xAAAAAAAAAAAAAAAAL, 0xAAAAAAAAAAAAAAABL, 0xAAAAAAAAAAAAAAAAL},
            {0xAAAAAAAAAAAAA800L, 0xAAAAAAAAAAAAA800L, 0xAAAAAAAAAAAAB000L, 0xAAAAAAAAAAAAA800L},
            {0xAAAAAB0000000000L, 0xAAAAAA0000000000L, 0xAAAAAB0000000000L, 0xAAAAAA0000000000L},
        };
        int[] pcs = {3, 2, 0};
        for (int p = 0; p < 3; p++) {
            for (int rc = 0; rc < 4; rc++) {
                Float80 f = unit(pcs[p], rc);
                f.div(ONE, INT, ONE + 1, 0xC000_0000_0000_0000L);
                assertEquals(0x3FFD, f.se, "pc " + pcs[p] + " rc " + rc);
                assertEquals(want[p][rc], f.sig, "pc " + pcs[p] + " rc " + rc);
                assertEquals(Float80.PE, f.exceptions);
                assertEquals(want[p][rc] != want[p][3], f.roundedUp);
            }
        }
    }

    @Test
    void exactArithmetic() {
        Float80 f = unit(3, 0);
        f.add(ONE, INT, ONE, INT, false);
        assertEquals(ONE + 1, f.se);
        assertEquals(INT, f.sig);
        assertEquals(0, f.exceptions);
        f.add(ONE, INT, ONE, INT, true);
        assertEquals(0, f.se); // x - x = +0 in round to nearest
        f = unit(3, Float80.RC_DOWN);
        f.add(ONE, INT, ONE, INT, true);
        assertEquals(0x8000, f.se); // and -0 rounding down
        f = unit(3, 0);
        f.mul(ONE + 1, 0xC000_0000_0000_0000L, ONE + 1, 0xC000_0000_0000_0000L); // 3 × 3
        assertEquals(ONE + 3, f.se);
        assertEquals(0x9000_0000_0000_0000L, f.sig);
    }

    @Test
    void squareRootOfTwoIsCorrectlyRounded() {
        Float80 f = unit(3, 0);
        f.sqrt(ONE + 1, INT);
        assertEquals(ONE, f.se);
        assertEquals(0xB504F333F9DE6484L, f.sig);
        assertEquals(Float80.PE, f.exceptions);
        f = unit(3, Float80.RC_UP);
        f.sqrt(ONE + 1, INT);
        assertEquals(0xB504F333F9DE6485L, f.sig);
        f = unit(3, 0);
        f.sqrt(0xBFFF, INT);
        assertEquals(Float80.INDEFINITE_SE, f.se);
        assertEquals(Float80.IE, f.exceptions);
    }

    @Test
    void specialOperands() {
        Float80 f = unit(3, 0);
        f.add(0x7FFF, INT, 0xFFFF, INT, false); // +inf + -inf
        assertEquals(Float80.INDEFINITE_SIG, f.sig);
        assertEquals(Float80.IE, f.exceptions);
        f = unit(3, 0);
        f.div(ONE, INT, 0, 0); // 1 / +0
        assertEquals(0x7FFF, f.se);
        assertEquals(Float80.ZE, f.exceptions);
        f = unit(3, 0);
        f.add(ONE, INT, 0x7FFF, 0x8000_0000_0000_0001L, false); // SNaN quietened, IE
        assertEquals(0xC000_0000_0000_0001L, f.sig);
        assertEquals(Float80.IE, f.exceptions);
        f = unit(3, 0);
        f.mul(ONE, 0x4000_0000_0000_0000L, ONE, INT); // an unnormal is an invalid operand
        assertEquals(Float80.IE, f.exceptions);
    }

    @Test
    void overflowAndUnderflowMaskedResponses() {
        Float80 f = unit(3, Float80.RC_NEAREST);
        f.mul(0x7FFE, INT, 0x7FFE, INT);
        assertEquals(0x7FFF, f.se);
        assertEquals(INT, f.sig);
        assertEquals(Float80.OE | Float80.PE, f.exceptions);
        f = unit(3, Float80.RC_ZERO);
        f.mul(0x7FFE, INT, 0x7FFE, INT);
        assertEquals(0x7FFE, f.se);
        assertEquals(-1L, f.sig); // the largest finite number
        f = unit(3, 0);
        f.mul(1, INT, 0x3FFE, INT); // 2^-16382 × 1/2: an exact denormal, no UE when masked
        assertEquals(0, f.se);
        assertEquals(0x4000_0000_0000_0000L, f.sig);
        assertEquals(0, f.exceptions);
        f = unit(3, 0);
        f.mul(1, 0xC000_0000_0000_0000L, 0x3FFE - 63, INT); // 1.5 × 2^-16446: 0.75 ulp, UE + PE
        assertEquals(Float80.UE | Float80.PE, f.exceptions);
        assertEquals(0, f.se);
        assertEquals(1, f.sig); // rounds up to the smallest denormal
    }

    @Test
    void conversions() {
        Float80 f = unit(3, 0);
        Float80Conversions.fromInteger(f, -5);
        assertEquals(0xC001, f.se);
        assertEquals(0xA000_0000_0000_0000L, f.sig);
        Float80Conversions.fromInteger(f, Long.MIN_VALUE);
        assertEquals(0xC03E, f.se);
        assertEquals(INT, f.sig);
        assertEquals(Long.MIN_VALUE, Float80Conversions.toInteger(f, 0xC03E, INT, 8, false));
        assertEquals(0, f.exceptions);
        assertEquals((short) 0x8000, (short) Float80Conversions.toInteger(f, ONE + 15, INT, 2, false)); // 32768: IE
        assertEquals(Float80.IE, f.exceptions);
        f = unit(3, 0);
        assertEquals(2, Float80Conversions.toInteger(f, ONE + 1, 0xA000_0000_0000_0000L, 4, false)); // 2.5 → 2 (even)
        assertEquals(3, Float80Conversions.toInteger(f, ONE + 1, 0xA000_0000_0000_0000L, 4, false) + 1);
        assertEquals(2, Float80Conversions.toInteger(f, ONE + 1, 0xA000_0000_0000_0000L, 4, true));
        f = unit(3, Float80.RC_UP);
        assertEquals(3, Float80Conversions.toInteger(f, ONE + 1, 0xA000_0000_0000_0000L, 4, false));
        assertTrue(f.roundedUp);
        f = unit(3, 0);
        assertEquals(0x3EAAAAABL, Float80Conversions.toBinary(f, 0x3FFD, 0xAAAAAAAAAAAAAAABL, 8, 23)); // 1/3 as float
        assertEquals(0x3FD5555555555555L, Float80Conversions.toBinary(f, 0x3FFD, 0xAAAAAAAAAAAAAAABL, 11, 52));
        Float80Conversions.fromBinary(f, 0x3FF8_0000_0000_0000L, 11, 52); // 1.5
        assertEquals(ONE, f.se);
        assertEquals(0xC000_0000_0000_0000L, f.sig);
        Float80Conversions.fromBcd(f, 0x1234L, 0x8000); // -1234
        Float80Conversions.toBcd(f, f.se, f.sig);
        assertEquals(0x1234L, f.sig);
        assertEquals(0x8000, f.se);
    }

    @Test
    void remainderQuotientBitsMatchTheHost() {
        // the host's FPREM/FPREM1 on 7 and 2: remainder 1 (q 3) and -1 (q 4)
        Float80 f = unit(3, 0);
        f.remainder(ONE + 2, 0xE000_0000_0000_0000L, ONE + 1, INT, false);
        assertEquals(ONE, f.se);
        assertEquals(3, f.quotient);
        f.remainder(ONE + 2, 0xE000_0000_0000_0000L, ONE + 1, INT, true);
        assertEquals(0x8000 | ONE, f.se);
        assertEquals(4, f.quotient);
    }

    @Test
    void comparisons() {
        Float80 f = unit(3, 0);
        assertEquals(Float80.LESS, f.compare(0xBFFF, INT, 0, 0, false));
        assertEquals(Float80.EQUAL, f.compare(0x8000, 0, 0, 0, false));
        assertEquals(Float80.GREATER, f.compare(0x7FFF, INT, 0x7FFE, -1L, false));
        assertEquals(Float80.UNORDERED, f.compare(0x7FFF, 0xC000_0000_0000_0000L, ONE, INT, true));
        assertEquals(0, f.exceptions); // FUCOM: a QNaN is quiet
        assertEquals(Float80.UNORDERED, f.compare(0x7FFF, 0xC000_0000_0000_0000L, ONE, INT, false));
        assertEquals(Float80.IE, f.exceptions);
    }
}
