package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.X87Registers.empty;
import static io.p2vkit.hv.emu.X87Registers.se;
import static io.p2vkit.hv.emu.X87Registers.sig;

/**
 * The x87 transcendental instructions FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and
 * FYL2XP1 (SDM Vol. 1 §8.3.8-8.3.9). Their special operands (NaN, infinities, zeros, the
 * invalid and divide-by-zero cases) follow the SDM tables exactly; finite results come from
 * {@link StrictMath} in binary64, so they are accurate to double precision (about 2^-53
 * relative) but the last 11 bits of the 64-bit significand differ from Intel's and AMD's, as
 * does C1 (reported 0: the direction of rounding is not known). Arguments and results outside
 * the binary64 range are handled by scaling (the exponent is split off first) so that the whole
 * extended range is covered. Every finite non-trivial result reports PE.
 */
final class X87Transcendental {

    /** FSIN/FCOS/FSINCOS/FPTAN leave ST(0) alone and set C2 when |x| ≥ 2^63. */
    private static final int TRIG_LIMIT_EXP = Float80.BIAS + 63;
    private static final double LN2 = 0.6931471805599453;
    /** The significand of log2(e) (FLDL2E rounded to nearest). */
    private static final long LOG2E_SIG = 0xB8AA3B295C17F0BCL;

    private X87Transcendental() {
    }

    /** The precision control does not apply to these instructions (SDM §8.1.5.2): 64 bits. */
    private static Float80 alu(X87State s) {
        Float80 f = s.alu;
        f.clear();
        f.control = s.control | 0x300;
        return f;
    }

    /** A finite non-zero extended value as a double, ignoring exponents the caller split off. */
    static double toDouble(int se, long sig, int exponentBias) {
        long m = Float80.normSig(sig);
        int e = Float80.normExp(se, sig) - Float80.BIAS - exponentBias;
        double v = (double) (m >>> 11) * 2048.0 + (double) (m & 0x7FF);
        v = Math.scalb(v, e - 63);
        return (se & 0x8000) != 0 ? -v : v;
    }

    /** Loads a double result into f's result, exactly, reporting PE. */
    private static void fromDouble(Float80 f, double v) {
        int saved = f.exceptions;
        Float80Conversions.fromBinary(f, Double.doubleToRawLongBits(v), 11, 52);
        f.exceptions = saved | Float80.PE;
    }

    private static int exponent(int se, long sig) {
        return Float80.normExp(se, sig) - Float80.BIAS;
    }

    /** D9 FE FSIN, FF FCOS, FB FSINCOS, F2 FPTAN. */
    static void trig(Cpu c, int which) {
        X87State s = c.fpu;
        boolean pushes = which == SINCOS || which == TAN;
        if (empty(s, 0) || (pushes && !empty(s, -1))) {
            boolean masked = empty(s, 0) ? X87Registers.underflow(s) : X87Registers.overflow(s);
            if (masked) {
                X87Registers.setConditionCodes(s, s.status >>> 14 & 1, 0, s.status >>> 9 & 1, s.status >>> 8 & 1);
                X87Registers.writeIndefinite(s, 0);
                if (pushes) {
                    X87Registers.push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
                }
            }
            return;
        }
        int xSe = se(s, 0);
        long xSig = sig(s, 0);
        int k = Float80.kind(xSe, xSig);
        Float80 f = alu(s);
        int pushSe = 0x3FFF; // FPTAN pushes +1.0; FSINCOS the cosine
        long pushSig = Float80.INTEGER_BIT;
        if (k == Float80.UNSUPPORTED || k == Float80.SNAN || k == Float80.QNAN || k == Float80.INFINITY) {
            if (k == Float80.INFINITY) {
                f.exceptions |= Float80.IE;
                f.se = Float80.INDEFINITE_SE;
                f.sig = Float80.INDEFINITE_SIG;
            } else {
                f.roundToInteger(xSe, xSig); // NaN and unsupported-operand handling
            }
            pushSe = f.se;
            pushSig = f.sig;
        } else if (k == Float80.NORMAL && (xSe & 0x7FFF) >= TRIG_LIMIT_EXP) {
            X87Registers.setConditionCodes(s, s.status >>> 14 & 1, 1, 0, s.status >>> 8 & 1);
            return; // out of range: the operand stays, C2 = 1
        } else if (k == Float80.ZERO) {
            f.se = which == COS ? 0x3FFF : xSe;
            f.sig = which == COS ? Float80.INTEGER_BIT : 0;
        } else {
            if (k == Float80.DENORMAL) {
                f.exceptions |= Float80.DE;
            }
            if (exponent(xSe, xSig) < -40) {
                // sin x = x - x^3/6, tan x = x + x^3/3, cos x = 1 - x^2/2: far below 2^-64
                // relative, so the result is x (or 1) nudged by a sticky bit in the right
                // direction, which the rounding control then rounds
                int sign = xSe >>> 15 & 1;
                int e = Float80.normExp(xSe, xSig);
                long m = Float80.normSig(xSig);
                if (which == COS || which == SINCOS) {
                    f.roundPack(0, Float80.BIAS - 1, -1L, -1L, 64);
                    pushSe = f.se;
                    pushSig = f.sig;
                }
                if (which == TAN) {
                    f.roundPack(sign, e, m, 1, 64);
                } else if (which != COS) {
                    f.roundPack(sign, e, m - 1, -1L, 64);
                }
            } else {
                double[] sc = sinCos(xSe, xSig);
                switch (which) {
                    case SIN -> fromDouble(f, sc[0]);
                    case COS -> fromDouble(f, sc[1]);
                    case TAN -> fromDouble(f, sc[0] / sc[1]);
                    default -> {
                        fromDouble(f, sc[1]);
                        pushSe = f.se;
                        pushSig = f.sig;
                        fromDouble(f, sc[0]);
                    }
                }
            }
        }
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setConditionCodes(s, s.status >>> 14 & 1, 0, 0, s.status >>> 8 & 1);
        X87Registers.write(s, 0, f.se, f.sig);
        if (which == SINCOS) {
            X87Registers.push(s, pushSe, pushSig);
        } else if (which == TAN) {
            boolean nan = Float80.isNaN(f.se, f.sig);
            X87Registers.push(s, nan ? f.se : 0x3FFF, nan ? f.sig : Float80.INTEGER_BIT);
        }
    }

    /**
     * π/2 as the x87 reduces by it: π to 66 bits (SDM Vol. 1 §8.3.10: "a 66-bit approximation
     * of π"), π/2 = (HALF_PI_HIGH × 2^64 + HALF_PI_LOW) × 2^-65.
     */
    private static final long HALF_PI_HIGH = 0x3L;
    private static final long HALF_PI_LOW = 0x243F6A8885A308D3L;

    /** sin and cos from {@link #sinCos}, per thread (each vCPU runs on its own): no allocation. */
    private static final ThreadLocal<double[]> SIN_COS = ThreadLocal.withInitial(() -> new double[2]);

    /**
     * sin x and cos x of a finite |x| < 2^63: an exact reduction x = q π/2 + r with |r| ≤ π/4 by
     * the x87's 66-bit π/2 (in 128-bit integer arithmetic), then binary64 on r. Large
     * arguments therefore give what the hardware gives, not the true sine.
     */
    private static double[] sinCos(int xSe, long xSig) {
        double[] out = SIN_COS.get();
        int e = exponent(xSe, xSig);
        double sign = (xSe & 0x8000) != 0 ? -1 : 1;
        if (e < -1) {
            double x = toDouble(xSe, xSig, 0);
            out[0] = StrictMath.sin(x);
            out[1] = StrictMath.cos(x);
            return out;
        }
        // |x| = m × 2^(e - 63) = N × 2^-65 with N = m × 2^(e + 2) < 2^128; divide N by the
        // 66-bit P = π/2 × 2^65 keeping the remainder and the quotient's two low bits
        long m = Float80.normSig(xSig);
        int shift = e + 2; // 1..64
        long nHi = shift == 64 ? m : m >>> (64 - shift);
        long nLo = shift == 64 ? 0 : m << shift;
        long remHi = 0;
        long remLo = 0;
        int q = 0;
        for (int i = 127; i >= 0; i--) {
            long bit = (i >= 64 ? nHi >>> (i - 64) : nLo >>> i) & 1;
            remHi = remHi << 1 | remLo >>> 63;
            remLo = remLo << 1 | bit;
            q <<= 1;
            if (remHi > HALF_PI_HIGH || (remHi == HALF_PI_HIGH && Long.compareUnsigned(remLo, HALF_PI_LOW) >= 0)) {
                long borrow = Long.compareUnsigned(remLo, HALF_PI_LOW) < 0 ? 1 : 0;
                remLo -= HALF_PI_LOW;
                remHi = remHi - HALF_PI_HIGH - borrow;
                q |= 1;
            }
        }
        // round the quotient to nearest: past P/2, take one more π/2 and negate the remainder
        long twiceHi = remHi << 1 | remLo >>> 63;
        long twiceLo = remLo << 1;
        double rSign = 1;
        if (twiceHi > HALF_PI_HIGH || (twiceHi == HALF_PI_HIGH && Long.compareUnsigned(twiceLo, HALF_PI_LOW) > 0)) {
            long borrow = Long.compareUnsigned(HALF_PI_LOW, remLo) < 0 ? 1 : 0;
            remLo = HALF_PI_LOW - remLo;
            remHi = HALF_PI_HIGH - remHi - borrow;
            rSign = -1;
            q++;
        }
        double r = rSign * (remHi * 0x1p64 + ((remLo >>> 1) * 2.0 + (remLo & 1))) * 0x1p-65;
        double sr = StrictMath.sin(r);
        double cr = StrictMath.cos(r);
        double sin = switch (q & 3) {
            case 0 -> sr;
            case 1 -> cr;
            case 2 -> -sr;
            default -> -cr;
        };
        double cos = switch (q & 3) {
            case 0 -> cr;
            case 1 -> -sr;
            case 2 -> -cr;
            default -> sr;
        };
        out[0] = sign * sin;
        out[1] = cos;
        return out;
    }

    static final int SIN = 0;
    static final int COS = 1;
    static final int SINCOS = 2;
    static final int TAN = 3;

    /** D9 F0: F2XM1, ST(0) = 2^ST(0) - 1 for -1 ≤ ST(0) ≤ 1. */
    static void f2xm1(Cpu c) {
        X87State s = c.fpu;
        if (empty(s, 0)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
            }
            return;
        }
        int xSe = se(s, 0);
        long xSig = sig(s, 0);
        int k = Float80.kind(xSe, xSig);
        Float80 f = alu(s);
        if (k == Float80.UNSUPPORTED || k == Float80.SNAN || k == Float80.QNAN) {
            f.roundToInteger(xSe, xSig);
        } else if (k == Float80.ZERO) {
            f.se = xSe;
            f.sig = 0;
        } else if (k == Float80.INFINITY) {
            f.se = (xSe & 0x8000) != 0 ? 0xBFFF : xSe;
            f.sig = Float80.INTEGER_BIT;
        } else {
            if (k == Float80.DENORMAL) {
                f.exceptions |= Float80.DE;
            }
            if (exponent(xSe, xSig) < -60) {
                // 2^x - 1 = x ln 2 to far beyond 64 bits
                f.mul(xSe, xSig, 0x3FFE, 0xB17217F7D1CF79ACL);
                f.exceptions |= Float80.PE;
            } else {
                fromDouble(f, StrictMath.expm1(toDouble(xSe, xSig, 0) * LN2));
            }
        }
        X87Arith.finish(s, f, 0, false);
    }

    /** D9 F1 FYL2X: ST(1) = ST(1) × log2(ST(0)); D9 F9 FYL2XP1: ST(1) × log2(ST(0) + 1). Both pop. */
    static void fyl2x(Cpu c, boolean plusOne) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, 1)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 1);
                X87Registers.pop(s);
            }
            return;
        }
        int xSe = se(s, 0);
        long xSig = sig(s, 0);
        int ySe = se(s, 1);
        long ySig = sig(s, 1);
        Float80 f = alu(s);
        int kx = Float80.kind(xSe, xSig);
        int ky = Float80.kind(ySe, ySig);
        boolean xNegative = (xSe & 0x8000) != 0;
        if (isNaNOrUnsupported(kx) || isNaNOrUnsupported(ky)) {
            f.add(xSe, xSig, ySe, ySig, false); // NaN propagation and unsupported operands
        } else if (!plusOne && xNegative && kx != Float80.ZERO) {
            invalid(f);
        } else if (plusOne && xNegative && kx == Float80.INFINITY) {
            invalid(f);
        } else if (!plusOne && kx == Float80.ZERO) {
            if (ky == Float80.ZERO) {
                invalid(f);
            } else {
                if (ky != Float80.INFINITY) {
                    f.exceptions |= Float80.ZE; // and no #D for a denormal ST(1): #Z outranks it
                }
                f.se = (ySe ^ 0x8000) & 0x8000 | Float80.MAX_EXP;
                f.sig = Float80.INTEGER_BIT;
            }
        } else {
            if (kx == Float80.DENORMAL || ky == Float80.DENORMAL) {
                f.exceptions |= Float80.DE;
            }
            // L = log2(x) or log2(1 + x) with an unbounded exponent (so that a tiny x keeps all
            // its bits), then ST(1) × L rounded once; the host reports PE for any finite
            // non-zero product, exact or not.
            int flags = f.exceptions;
            boolean yFinite = ky != Float80.ZERO && ky != Float80.INFINITY;
            if (kx == Float80.INFINITY) {
                f.clear();
                f.mul(ySe, ySig, Float80.MAX_EXP, Float80.INTEGER_BIT);
            } else if (kx == Float80.ZERO || (!plusOne && xSe == 0x3FFF && xSig == Float80.INTEGER_BIT)) {
                f.clear();
                f.mul(ySe, ySig, plusOne ? xSe : 0, 0); // log2(1 + ±0) = ±0, log2(1) = +0
            } else if (ky == Float80.ZERO || ky == Float80.INFINITY) {
                boolean negativeL = plusOne ? (xSe & 0x8000) != 0 : exponent(xSe, xSig) < 0;
                f.clear();
                f.mul(ySe, ySig, negativeL ? 0xBFFF : 0x3FFF, Float80.INTEGER_BIT);
            } else {
                int lSign;
                int lExp;
                long lSig;
                if (plusOne && exponent(xSe, xSig) < -60) {
                    // log2(1 + x) = x log2(e) to far beyond 64 bits
                    long m = Float80.normSig(xSig);
                    long hi = Math.unsignedMultiplyHigh(m, LOG2E_SIG);
                    int shift = Long.numberOfLeadingZeros(hi); // 0 or 1
                    lSig = shift == 0 ? hi : hi << 1 | (m * LOG2E_SIG) >>> 63;
                    lExp = Float80.normExp(xSe, xSig) + 1 - shift; // × log2(e) ∈ [1, 2)
                    lSign = xSe >>> 15 & 1;
                } else {
                    double l;
                    if (plusOne) {
                        l = StrictMath.log1p(toDouble(xSe, xSig, 0)) / LN2;
                    } else if (exponent(xSe, xSig) == 0 || exponent(xSe, xSig) == -1) {
                        // x in [1/2, 2): x - 1 is exact (Sterbenz), log1p keeps log2 near 1 accurate
                        f.clear();
                        f.add(xSe, xSig, 0x3FFF, Float80.INTEGER_BIT, true);
                        l = StrictMath.log1p(toDouble(f.se, f.sig, 0)) / LN2;
                    } else {
                        int e = exponent(xSe, xSig);
                        l = e + StrictMath.log(toDouble(xSe, xSig, e)) / LN2;
                    }
                    long bits = Double.doubleToRawLongBits(l);
                    lSign = (int) (bits >>> 63);
                    lExp = (int) (bits >>> 52 & 0x7FF) - 1023 + Float80.BIAS;
                    lSig = Float80.INTEGER_BIT | (bits & ((1L << 52) - 1)) << 11;
                }
                long my = Float80.normSig(ySig);
                f.clear();
                f.roundPack((ySe >>> 15 & 1) ^ lSign, Float80.normExp(ySe, ySig) + lExp - Float80.BIAS + 1,
                        Math.unsignedMultiplyHigh(my, lSig), my * lSig, 64);
                if (yFinite) {
                    flags |= Float80.PE | ((f.se & 0x7FFF) == 0 ? Float80.UE : 0);
                }
            }
            f.exceptions |= flags;
        }
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setC1(s, false);
        X87Registers.write(s, 1, f.se, f.sig);
        X87Registers.pop(s);
    }

    /** D9 F3 FPATAN: ST(1) = arctan(ST(1) / ST(0)) in the quadrant of (ST(0), ST(1)), then pop. */
    static void fpatan(Cpu c) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, 1)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 1);
                X87Registers.pop(s);
            }
            return;
        }
        int xSe = se(s, 0);
        long xSig = sig(s, 0);
        int ySe = se(s, 1);
        long ySig = sig(s, 1);
        Float80 f = alu(s);
        int kx = Float80.kind(xSe, xSig);
        int ky = Float80.kind(ySe, ySig);
        if (isNaNOrUnsupported(kx) || isNaNOrUnsupported(ky)) {
            f.add(ySe, ySig, xSe, xSig, false);
        } else {
            if (kx == Float80.DENORMAL || ky == Float80.DENORMAL) {
                f.exceptions |= Float80.DE;
            }
            boolean special = kx == Float80.ZERO || ky == Float80.ZERO || kx == Float80.INFINITY
                    || ky == Float80.INFINITY;
            if (special) {
                // zeros and infinities are exact in binary64: atan2's C99 table is the x87's
                double y = ky == Float80.ZERO ? ((ySe & 0x8000) != 0 ? -0.0 : 0.0)
                        : ky == Float80.INFINITY ? ((ySe & 0x8000) != 0 ? -1 : 1) * Double.POSITIVE_INFINITY
                        : ((ySe & 0x8000) != 0 ? -1.0 : 1.0);
                double x = kx == Float80.ZERO ? ((xSe & 0x8000) != 0 ? -0.0 : 0.0)
                        : kx == Float80.INFINITY ? ((xSe & 0x8000) != 0 ? -1 : 1) * Double.POSITIVE_INFINITY
                        : ((xSe & 0x8000) != 0 ? -1.0 : 1.0);
                double r = StrictMath.atan2(y, x);
                Float80Conversions.fromBinary(f, Double.doubleToRawLongBits(r), 11, 52);
                if (r != 0) {
                    f.exceptions |= Float80.PE;
                }
            } else {
                int ex = exponent(xSe, xSig);
                int ey = exponent(ySe, ySig);
                if (ey - ex < -60 && (xSe & 0x8000) == 0) {
                    f.div(ySe, ySig, xSe, xSig); // atan(t) = t for tiny t
                    f.exceptions |= Float80.PE;
                } else {
                    int common = Math.max(ex, ey);
                    fromDouble(f, StrictMath.atan2(toDouble(ySe, ySig, common), toDouble(xSe, xSig, common)));
                }
            }
        }
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setC1(s, false);
        X87Registers.write(s, 1, f.se, f.sig);
        X87Registers.pop(s);
    }

    private static boolean isNaNOrUnsupported(int k) {
        return k == Float80.QNAN || k == Float80.SNAN || k == Float80.UNSUPPORTED;
    }

    private static void invalid(Float80 f) {
        f.exceptions |= Float80.IE;
        f.se = Float80.INDEFINITE_SE;
        f.sig = Float80.INDEFINITE_SIG;
    }
}
