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

    private X87Transcendental() {
    }

    private static Float80 alu(X87State s) {
        Float80 f = s.alu;
        f.clear();
        f.control = s.control;
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
        f.fromBinary(Double.doubleToRawLongBits(v), 11, 52);
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
                // sin x = tan x = x and cos x = 1 to far beyond 64 bits
                if (which == COS || which == SINCOS) {
                    pushSe = 0x3FFF;
                    pushSig = Float80.INTEGER_BIT;
                }
                if (which == COS) {
                    f.se = 0x3FFF;
                    f.sig = Float80.INTEGER_BIT;
                } else {
                    f.roundPack(xSe >>> 15 & 1, Float80.normExp(xSe, xSig), Float80.normSig(xSig), 0, 64);
                }
                f.exceptions |= Float80.PE;
            } else {
                double x = toDouble(xSe, xSig, 0);
                switch (which) {
                    case SIN -> fromDouble(f, StrictMath.sin(x));
                    case COS -> fromDouble(f, StrictMath.cos(x));
                    case TAN -> fromDouble(f, StrictMath.tan(x));
                    default -> {
                        fromDouble(f, StrictMath.cos(x));
                        pushSe = f.se;
                        pushSig = f.sig;
                        fromDouble(f, StrictMath.sin(x));
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
                if (ky == Float80.DENORMAL) {
                    f.exceptions |= Float80.DE;
                }
                if (ky != Float80.INFINITY) {
                    f.exceptions |= Float80.ZE;
                }
                f.se = (ySe ^ 0x8000) & 0x8000 | Float80.MAX_EXP;
                f.sig = Float80.INTEGER_BIT;
            }
        } else {
            if (kx == Float80.DENORMAL || ky == Float80.DENORMAL) {
                f.exceptions |= Float80.DE;
            }
            // L = log2(x) or log2(1 + x) as an extended value, then ST(1) × L rounded once more
            int lSe;
            long lSig;
            int flags = f.exceptions;
            if (kx == Float80.INFINITY) {
                lSe = Float80.MAX_EXP;
                lSig = Float80.INTEGER_BIT;
            } else if (kx == Float80.ZERO) {
                lSe = xSe;
                lSig = 0;
            } else if (plusOne && exponent(xSe, xSig) < -60) {
                f.mul(xSe, xSig, 0x3FFF, 0xB8AA3B295C17F0BCL); // log2(1 + x) = x log2(e)
                lSe = f.se;
                lSig = f.sig;
                flags |= Float80.PE;
            } else {
                double l;
                if (plusOne) {
                    l = StrictMath.log1p(toDouble(xSe, xSig, 0)) / LN2;
                } else {
                    int e = exponent(xSe, xSig);
                    l = e + StrictMath.log(toDouble(xSe, xSig, e)) / LN2;
                }
                f.fromBinary(Double.doubleToRawLongBits(l), 11, 52);
                lSe = f.se;
                lSig = f.sig;
                if (l != Math.rint(l) || plusOne) {
                    flags |= Float80.PE;
                }
            }
            f.clear();
            f.mul(ySe, ySig, lSe, lSig);
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
                f.fromBinary(Double.doubleToRawLongBits(r), 11, 52);
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
