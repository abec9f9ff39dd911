package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.X87Registers.empty;
import static io.p2vkit.hv.emu.X87Registers.se;
import static io.p2vkit.hv.emu.X87Registers.sig;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * x87 data transfers: FLD/FILD/FBLD and the constants (pushes), FST/FSTP/FIST/FISTP/FISTTP/
 * FBSTP (stores, with the masked stack-underflow response of storing the indefinite of the
 * destination format), FXCH, FCMOVcc, FFREE(P), FINCSTP and FDECSTP (SDM Vol. 1 §8.3.3).
 */
final class X87Transfers {

    /** Memory formats of loads and stores. */
    static final int M32FP = 0;
    static final int M64FP = 1;
    static final int M80FP = 2;
    static final int M16INT = 3;
    static final int M32INT = 4;
    static final int M64INT = 5;
    static final int M80BCD = 6;

    /**
     * The 66+ bit constants of FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2 (D9 E9-ED): sign-exponent,
     * significand, and the next eight bits, so that every rounding control rounds them correctly.
     */
    private static final int[] CONSTANT_SE = {0x4000, 0x3FFF, 0x4000, 0x3FFD, 0x3FFE};
    private static final long[] CONSTANT_SIG = {
        0xD49A784BCD1B8AFEL, 0xB8AA3B295C17F0BBL, 0xC90FDAA22168C234L, 0x9A209A84FBCFF798L,
        0xB17217F7D1CF79ABL,
    };
    private static final int[] CONSTANT_EXTRA = {0x49, 0xBE, 0xC4, 0x8F, 0xC9};

    private X87Transfers() {
    }

    private static Float80 alu(X87State s) {
        Float80 f = s.alu;
        f.clear();
        f.control = s.control;
        return f;
    }

    /** FLD/FILD/FBLD from memory: reads, converts, pushes. */
    static void load(Cpu c, DecodedInsn d, int format) {
        X87State s = c.fpu;
        Float80 f = alu(s);
        switch (format) {
            case M32FP -> Float80Conversions.fromBinary(f, X87Memory.read32(c, X87Memory.address(c, d, 4, false)) & 0xFFFF_FFFFL, 8, 23);
            case M64FP -> Float80Conversions.fromBinary(f, X87Memory.read64(c, X87Memory.address(c, d, 8, false)), 11, 52);
            case M80FP, M80BCD -> {
                long lin = X87Memory.address(c, d, 10, false);
                long low = X87Memory.read64(c, lin);
                int high = X87Memory.read16(c, X87Memory.next(c, lin, 8));
                if (format == M80FP) {
                    f.se = high;
                    f.sig = low;
                } else {
                    Float80Conversions.fromBcd(f, low, high);
                }
            }
            case M16INT -> Float80Conversions.fromInteger(f, (short) X87Memory.read16(c, X87Memory.address(c, d, 2, false)));
            case M32INT -> Float80Conversions.fromInteger(f, X87Memory.read32(c, X87Memory.address(c, d, 4, false)));
            default -> Float80Conversions.fromInteger(f, X87Memory.read64(c, X87Memory.address(c, d, 8, false)));
        }
        pushResult(s, f);
    }

    private static void pushResult(X87State s, Float80 f) {
        if (!empty(s, -1)) {
            if (X87Registers.overflow(s)) {
                X87Registers.push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
            }
            return;
        }
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setC1(s, false);
        X87Registers.push(s, f.se, f.sig);
    }

    /** D9 C0+i: FLD ST(i). */
    static void loadRegister(Cpu c, int i) {
        X87State s = c.fpu;
        if (empty(s, i)) {
            if (X87Registers.underflow(s)) {
                X87Registers.push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
            }
            return;
        }
        int vSe = se(s, i);
        long vSig = sig(s, i);
        if (!empty(s, -1)) {
            if (X87Registers.overflow(s)) {
                X87Registers.push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
            }
            return;
        }
        X87Registers.setC1(s, false);
        X87Registers.push(s, vSe, vSig);
    }

    /** D9 E8-EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ, rounded by RC (SDM FLD1...). */
    static void loadConstant(Cpu c, int rm) {
        X87State s = c.fpu;
        Float80 f = alu(s);
        if (rm == 0) {
            f.se = 0x3FFF;
            f.sig = Float80.INTEGER_BIT;
        } else if (rm == 6) {
            f.se = 0;
            f.sig = 0;
        } else {
            int k = rm - 1;
            int extra = CONSTANT_EXTRA[k];
            long m = CONSTANT_SIG[k];
            boolean up = switch ((s.control >>> 10) & 3) {
                case Float80.RC_NEAREST -> (extra & 0x80) != 0 && ((extra & 0x7F) != 0 || (m & 1) != 0);
                case Float80.RC_UP -> extra != 0;
                default -> false;
            };
            f.se = CONSTANT_SE[k];
            f.sig = up ? m + 1 : m;
        }
        pushResult(s, f);
    }

    /** FST/FSTP/FIST/FISTP/FISTTP/FBSTP to memory. */
    static void store(Cpu c, DecodedInsn d, int format, boolean pop, boolean truncate) {
        X87State s = c.fpu;
        int size = switch (format) {
            case M32FP, M32INT -> 4;
            case M64FP, M64INT -> 8;
            case M16INT -> 2;
            default -> 10;
        };
        long lin = X87Memory.address(c, d, size, true);
        Float80 f = alu(s);
        long value;
        int high = 0;
        if (empty(s, 0)) {
            if (!X87Registers.underflow(s)) {
                return;
            }
            value = switch (format) {
                case M32FP -> 0xFFC0_0000L;
                case M64FP -> 0xFFF8_0000_0000_0000L;
                case M16INT -> 0x8000;
                case M32INT -> 0x8000_0000L;
                case M64INT -> Long.MIN_VALUE;
                default -> Float80.INDEFINITE_SIG; // m80 and BCD indefinite share these bytes
            };
            high = 0xFFFF;
        } else {
            int vSe = se(s, 0);
            long vSig = sig(s, 0);
            switch (format) {
                case M32FP -> value = Float80Conversions.toBinary(f, vSe, vSig, 8, 23);
                case M64FP -> value = Float80Conversions.toBinary(f, vSe, vSig, 11, 52);
                case M80FP -> {
                    value = vSig;
                    high = vSe;
                }
                case M80BCD -> {
                    Float80Conversions.toBcd(f, vSe, vSig);
                    value = f.sig;
                    high = f.se;
                }
                case M16INT -> value = Float80Conversions.toInteger(f, vSe, vSig, 2, truncate);
                case M32INT -> value = Float80Conversions.toInteger(f, vSe, vSig, 4, truncate);
                default -> value = Float80Conversions.toInteger(f, vSe, vSig, 8, truncate);
            }
            boolean allowed = X87Registers.signal(s, f.exceptions);
            int unmasked = f.exceptions & ~s.control;
            if (!allowed || (unmasked & (Float80.OE | Float80.UE)) != 0) {
                return; // an unmasked exception on a store to memory stores nothing
            }
            X87Registers.setC1(s, f.roundedUp);
        }
        switch (size) {
            case 2 -> X87Memory.write16(c, lin, (int) value);
            case 4 -> X87Memory.write32(c, lin, (int) value);
            case 8 -> X87Memory.write64(c, lin, value);
            default -> X87Memory.write80(c, lin, high, value);
        }
        if (pop) {
            X87Registers.pop(s);
        }
    }

    /** DD D0+i FST ST(i), DD D8+i FSTP ST(i) (and the D9 D8, DF D0/D8 aliases). */
    static void storeRegister(Cpu c, int i, boolean pop) {
        X87State s = c.fpu;
        if (empty(s, 0)) {
            if (!X87Registers.underflow(s)) {
                return;
            }
            X87Registers.writeIndefinite(s, i);
        } else {
            X87Registers.setC1(s, false);
            X87Registers.write(s, i, se(s, 0), sig(s, 0));
        }
        if (pop) {
            X87Registers.pop(s);
        }
    }

    /** D9 C8+i: FXCH ST(i). */
    static void exchange(Cpu c, int i) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, i)) {
            if (!X87Registers.underflow(s)) {
                return;
            }
            if (empty(s, 0)) {
                X87Registers.writeIndefinite(s, 0);
            }
            if (empty(s, i)) {
                X87Registers.writeIndefinite(s, i);
            }
        } else {
            X87Registers.setC1(s, false);
        }
        int aSe = se(s, 0);
        long aSig = sig(s, 0);
        X87Registers.write(s, 0, se(s, i), sig(s, i));
        X87Registers.write(s, i, aSe, aSig);
    }

    /** DA/DB C0-DF: FCMOVcc ST(0), ST(i) with the EFLAGS condition {@code cc} (Jcc numbering). */
    static void conditionalMove(Cpu c, int i, int cc) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, i)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
            }
            return;
        }
        if (c.flags.cond(cc)) {
            X87Registers.write(s, 0, se(s, i), sig(s, i));
        }
    }

    /** DD C0+i FFREE ST(i); DF C0+i FFREEP (free, then pop). */
    static void free(Cpu c, int i, boolean pop) {
        X87State s = c.fpu;
        X87Registers.setC1(s, false);
        X87Registers.setPhysTag(s, X87Registers.phys(s, i), X87Registers.TAG_EMPTY);
        if (pop) {
            X87Registers.pop(s);
        }
    }

    /** D9 F7 FINCSTP, F6 FDECSTP: TOP moves, tags do not; C1 = 0. */
    static void moveTop(Cpu c, int by) {
        X87State s = c.fpu;
        X87Registers.setTop(s, s.top() + by);
        X87Registers.setC1(s, false);
    }
}
