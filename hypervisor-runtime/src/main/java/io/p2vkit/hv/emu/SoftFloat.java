package io.p2vkit.hv.emu;

/**
 * IEEE 754 single and double arithmetic as SSE performs it (SDM Vol. 1 §4.8, §11.5): exact
 * results rounded once in MXCSR's rounding mode, the six exception flags (raised into
 * {@link Cpu#simdExceptions}), DAZ on inputs, FTZ on tiny results, tininess detected after
 * rounding, and the SSE NaN rules (Table 4-7: the first source NaN wins, SNaNs are quieted,
 * invalid operations give the QNaN indefinite). Values travel as raw bits in a long, the format
 * chosen by {@code dbl}. Allocation-free: significands are 64-bit integers with the leading one
 * at bit 62 and a sticky bit at bit 0, so that a value is {@code sig * 2^(exp - 62)}.
 */
final class SoftFloat {

    static final int IE = 1;
    static final int DE = 2;
    static final int ZE = 4;
    static final int OE = 8;
    static final int UE = 16;
    static final int PE = 32;

    static final int ROUND_NEAREST = 0;
    static final int ROUND_DOWN = 1;
    static final int ROUND_UP = 2;
    static final int ROUND_ZERO = 3;

    static final int ADD = 0;
    static final int SUB = 1;
    static final int MUL = 2;
    static final int DIV = 3;

    private SoftFloat() {
    }

    // ---- format ----

    static int fracBits(boolean dbl) {
        return dbl ? 52 : 23;
    }

    static int expMax(boolean dbl) {
        return dbl ? 0x7FF : 0xFF;
    }

    static int bias(boolean dbl) {
        return dbl ? 1023 : 127;
    }

    static long signBit(boolean dbl) {
        return dbl ? 1L << 63 : 1L << 31;
    }

    /** The QNaN floating-point indefinite. */
    static long indefinite(boolean dbl) {
        return dbl ? 0xFFF8_0000_0000_0000L : 0xFFC0_0000L;
    }

    static long quietBit(boolean dbl) {
        return dbl ? 1L << 51 : 1L << 22;
    }

    static int biasedExp(long x, boolean dbl) {
        return (int) (x >>> fracBits(dbl)) & expMax(dbl);
    }

    static long frac(long x, boolean dbl) {
        return x & ((1L << fracBits(dbl)) - 1);
    }

    static boolean negative(long x, boolean dbl) {
        return (x & signBit(dbl)) != 0;
    }

    static boolean isNaN(long x, boolean dbl) {
        return biasedExp(x, dbl) == expMax(dbl) && frac(x, dbl) != 0;
    }

    static boolean isSNaN(long x, boolean dbl) {
        return isNaN(x, dbl) && (x & quietBit(dbl)) == 0;
    }

    static boolean isInf(long x, boolean dbl) {
        return biasedExp(x, dbl) == expMax(dbl) && frac(x, dbl) == 0;
    }

    static boolean isZero(long x, boolean dbl) {
        return (x & ~signBit(dbl)) == 0;
    }

    static boolean isDenormal(long x, boolean dbl) {
        return biasedExp(x, dbl) == 0 && frac(x, dbl) != 0;
    }

    static long zero(boolean neg, boolean dbl) {
        return neg ? signBit(dbl) : 0;
    }

    static long infinity(boolean neg, boolean dbl) {
        return zero(neg, dbl) | (long) expMax(dbl) << fracBits(dbl);
    }

    static int roundingMode(Cpu c) {
        return (c.mxcsr >>> 13) & 3;
    }

    // ---- operands ----

    /**
     * An input as the instruction sees it: with MXCSR.DAZ a denormal is a zero of its sign (no
     * flag); without, it raises DE when {@code reportDenormal}.
     */
    static long input(Cpu c, long x, boolean dbl, boolean reportDenormal) {
        if (isDenormal(x, dbl)) {
            if ((c.mxcsr & Sse.MXCSR_DAZ) != 0) {
                return x & signBit(dbl);
            }
            if (reportDenormal) {
                c.simdExceptions |= DE;
            }
        }
        return x;
    }

    /** The significand of a finite non-zero value, leading one at bit 62. */
    static long sig62(long x, boolean dbl) {
        long m = frac(x, dbl);
        if (biasedExp(x, dbl) != 0) {
            m |= 1L << fracBits(dbl);
        }
        return m << (Long.numberOfLeadingZeros(m) - 1);
    }

    /** The exponent of the leading one of a finite non-zero value (unbiased). */
    static int exp62(long x, boolean dbl) {
        int e = biasedExp(x, dbl);
        long m = frac(x, dbl);
        if (e != 0) {
            return e - bias(dbl);
        }
        return 1 - bias(dbl) - fracBits(dbl) + (63 - Long.numberOfLeadingZeros(m));
    }

    /** The NaN result of a two-operand operation with at least one NaN operand (Table 4-7). */
    static long propagateNaN(Cpu c, long a, long b, boolean dbl) {
        if (isSNaN(a, dbl) || isSNaN(b, dbl)) {
            c.simdExceptions |= IE;
        }
        return (isNaN(a, dbl) ? a : b) | quietBit(dbl);
    }

    static long shiftRightJam(long sig, int n) {
        if (n <= 0) {
            return sig;
        }
        if (n >= 63) {
            return sig != 0 ? 1 : 0;
        }
        return sig >>> n | ((sig & ((1L << n) - 1)) != 0 ? 1 : 0);
    }

    // ---- rounding ----

    private static long increment(boolean neg, int mode, int s) {
        return switch (mode) {
            case ROUND_NEAREST -> 1L << (s - 1);
            case ROUND_DOWN -> neg ? (1L << s) - 1 : 0;
            case ROUND_UP -> neg ? 0 : (1L << s) - 1;
            default -> 0;
        };
    }

    /**
     * Rounds {@code sig * 2^(exp - 62)} (leading one at bit 62, sticky in bit 0) to the format,
     * raising PE, OE and UE, flushing tiny results to zero under FTZ with UE masked.
     */
    static long roundPack(Cpu c, boolean neg, int exp, long sig, boolean dbl) {
        int mode = roundingMode(c);
        int fb = fracBits(dbl);
        int s = 62 - fb;
        long roundMask = (1L << s) - 1;
        long inc = increment(neg, mode, s);
        int biased = exp + bias(dbl);
        long sign = zero(neg, dbl);
        if (biased <= 0) {
            boolean tiny = biased < 0 || (sig + inc) >>> 63 == 0;
            boolean underflowMasked = (c.mxcsr & (UE << 7)) != 0;
            if (tiny && underflowMasked && (c.mxcsr & Sse.MXCSR_FTZ) != 0) {
                c.simdExceptions |= UE | PE;
                return sign;
            }
            if (tiny && !underflowMasked) {
                // the handler would get the result scaled into the normal range: PE only if
                // rounding at full precision is inexact (the destination is not written)
                c.simdExceptions |= UE | ((sig & roundMask) != 0 ? PE : 0);
                return sign;
            }
            sig = shiftRightJam(sig, 1 - biased);
            boolean inexact = (sig & roundMask) != 0;
            long rounded = (sig + inc) >>> s;
            if (mode == ROUND_NEAREST && (sig & roundMask) == 1L << (s - 1)) {
                rounded &= ~1L;
            }
            if (inexact) {
                c.simdExceptions |= PE;
            }
            if (tiny && inexact) {
                c.simdExceptions |= UE;
            }
            return sign | rounded; // a carry into the hidden bit makes the smallest normal
        }
        boolean inexact = (sig & roundMask) != 0;
        long rounded = sig + inc;
        int shift = s;
        if (rounded >>> 63 != 0) {
            shift++;
            biased++;
        }
        long kept = rounded >>> shift;
        if (mode == ROUND_NEAREST && (sig & roundMask) == 1L << (s - 1)) {
            kept &= ~1L;
        }
        if (biased >= expMax(dbl)) {
            if ((c.mxcsr & (OE << 7)) == 0) {
                c.simdExceptions |= OE | (inexact ? PE : 0); // unmasked: the scaled result's precision
                return sign;
            }
            c.simdExceptions |= OE | PE;
            boolean toInfinity = mode == ROUND_NEAREST || (mode == ROUND_UP && !neg)
                    || (mode == ROUND_DOWN && neg);
            return toInfinity ? infinity(neg, dbl) : infinity(neg, dbl) - 1;
        }
        if (inexact) {
            c.simdExceptions |= PE;
        }
        return sign | ((long) (biased - 1) << fb) + kept; // the hidden bit adds the last 1
    }

    /** Normalizes a non-zero magnitude with its leading one anywhere, then rounds. */
    static long normalizeRoundPack(Cpu c, boolean neg, int exp, long sig, boolean dbl) {
        int lz = Long.numberOfLeadingZeros(sig);
        if (lz == 0) {
            return roundPack(c, neg, exp + 1, shiftRightJam(sig, 1), dbl);
        }
        return roundPack(c, neg, exp - (lz - 1), sig << (lz - 1), dbl);
    }

    // ---- arithmetic ----

    /** ADD, SUB, MUL or DIV: {@code a op b} (DAZ applied here, NaNs propagated first). */
    static long arith(Cpu c, int op, long a, long b, boolean dbl) {
        long quick = dbl ? FastFloat.arithDouble(c, op, a, b) : FastFloat.arithSingle(c, op, a, b);
        if (quick != FastFloat.SLOW) {
            return quick;
        }
        a = input(c, a, dbl, false);
        b = input(c, b, dbl, false);
        if (isNaN(a, dbl) || isNaN(b, dbl)) {
            return propagateNaN(c, a, b, dbl);
        }
        if (op == SUB) {
            b ^= signBit(dbl);
        }
        return switch (op) {
            case ADD, SUB -> add(c, a, b, dbl);
            case MUL -> mul(c, a, b, dbl);
            default -> div(c, a, b, dbl);
        };
    }

    private static void denormalOperands(Cpu c, long a, long b, boolean dbl) {
        if (isDenormal(a, dbl) || isDenormal(b, dbl)) {
            c.simdExceptions |= DE;
        }
    }

    private static long add(Cpu c, long a, long b, boolean dbl) {
        boolean na = negative(a, dbl);
        boolean nb = negative(b, dbl);
        if (isInf(a, dbl) || isInf(b, dbl)) {
            if (isInf(a, dbl) && isInf(b, dbl) && na != nb) {
                c.simdExceptions |= IE;
                return indefinite(dbl);
            }
            denormalOperands(c, a, b, dbl);
            return isInf(a, dbl) ? a : b;
        }
        denormalOperands(c, a, b, dbl);
        if (isZero(a, dbl) && isZero(b, dbl)) {
            boolean neg = na == nb ? na : roundingMode(c) == ROUND_DOWN;
            return zero(neg, dbl);
        }
        if (isZero(b, dbl)) {
            return exactResult(c, a, dbl);
        }
        if (isZero(a, dbl)) {
            return exactResult(c, b, dbl);
        }
        int ea = exp62(a, dbl);
        int eb = exp62(b, dbl);
        long sa = sig62(a, dbl);
        long sb = sig62(b, dbl);
        if (ea < eb || (ea == eb && Long.compareUnsigned(sa, sb) < 0)) {
            long t = a;
            a = b;
            b = t;
            int te = ea;
            ea = eb;
            eb = te;
            long ts = sa;
            sa = sb;
            sb = ts;
            boolean tn = na;
            na = nb;
            nb = tn;
        }
        sb = shiftRightJam(sb, ea - eb);
        if (na == nb) {
            long sum = sa + sb;
            if (sum >>> 63 != 0) {
                return roundPack(c, na, ea + 1, shiftRightJam(sum, 1), dbl);
            }
            return roundPack(c, na, ea, sum, dbl);
        }
        long diff = sa - sb;
        if (diff == 0) {
            return zero(roundingMode(c) == ROUND_DOWN, dbl);
        }
        return normalizeRoundPack(c, na, ea, diff, dbl);
    }

    /** An exact finite result: a denormal one is still tiny (FTZ flushes it, UE unmasked traps). */
    private static long exactResult(Cpu c, long x, boolean dbl) {
        if (!isDenormal(x, dbl)) {
            return x;
        }
        return roundPack(c, negative(x, dbl), exp62(x, dbl), sig62(x, dbl), dbl);
    }

    private static long mul(Cpu c, long a, long b, boolean dbl) {
        boolean neg = negative(a, dbl) != negative(b, dbl);
        boolean infA = isInf(a, dbl);
        boolean infB = isInf(b, dbl);
        if (infA || infB) {
            if (isZero(a, dbl) || isZero(b, dbl)) {
                c.simdExceptions |= IE;
                return indefinite(dbl);
            }
            denormalOperands(c, a, b, dbl);
            return infinity(neg, dbl);
        }
        denormalOperands(c, a, b, dbl);
        if (isZero(a, dbl) || isZero(b, dbl)) {
            return zero(neg, dbl);
        }
        long sa = sig62(a, dbl);
        long sb = sig62(b, dbl);
        long hi = Math.multiplyHigh(sa, sb);
        long lo = sa * sb;
        // the product has its leading one at bit 124 or 125 of hi:lo; keep bits 62 and up
        long sig = hi << 2 | lo >>> 62;
        if ((lo & ((1L << 62) - 1)) != 0) {
            sig |= 1;
        }
        int exp = exp62(a, dbl) + exp62(b, dbl);
        if (sig >>> 63 != 0) {
            return roundPack(c, neg, exp + 1, shiftRightJam(sig, 1), dbl);
        }
        return roundPack(c, neg, exp, sig, dbl);
    }

    private static long div(Cpu c, long a, long b, boolean dbl) {
        boolean neg = negative(a, dbl) != negative(b, dbl);
        boolean infA = isInf(a, dbl);
        boolean infB = isInf(b, dbl);
        boolean zeroA = isZero(a, dbl);
        boolean zeroB = isZero(b, dbl);
        if ((infA && infB) || (zeroA && zeroB)) {
            c.simdExceptions |= IE;
            return indefinite(dbl);
        }
        if (infA) {
            denormalOperands(c, a, b, dbl);
            return infinity(neg, dbl);
        }
        if (infB) {
            denormalOperands(c, a, b, dbl);
            return zero(neg, dbl);
        }
        if (zeroB) {
            c.simdExceptions |= ZE;
            return infinity(neg, dbl);
        }
        denormalOperands(c, a, b, dbl);
        if (zeroA) {
            return zero(neg, dbl);
        }
        long sa = sig62(a, dbl);
        long sb = sig62(b, dbl);
        int exp = exp62(a, dbl) - exp62(b, dbl);
        if (Long.compareUnsigned(sa, sb) < 0) {
            sa <<= 1;
            exp--;
        }
        long q = 0;
        long rem = sa;
        for (int i = 0; i < 63; i++) {
            q <<= 1;
            if (Long.compareUnsigned(rem, sb) >= 0) {
                rem -= sb;
                q |= 1;
            }
            rem <<= 1;
        }
        if (rem != 0) {
            q |= 1;
        }
        return roundPack(c, neg, exp, q, dbl);
    }

    /** SQRT: NaNs pass quieted, negative non-zero values are invalid, -0 stays -0. */
    static long sqrt(Cpu c, long a, boolean dbl) {
        long quick = dbl ? FastFloat.sqrtDouble(c, a) : FastFloat.sqrtSingle(c, a);
        if (quick != FastFloat.SLOW) {
            return quick;
        }
        a = input(c, a, dbl, false);
        if (isNaN(a, dbl)) {
            if (isSNaN(a, dbl)) {
                c.simdExceptions |= IE;
            }
            return a | quietBit(dbl);
        }
        if (isZero(a, dbl)) {
            return a;
        }
        if (negative(a, dbl)) {
            c.simdExceptions |= IE;
            return indefinite(dbl);
        }
        if (isDenormal(a, dbl)) {
            c.simdExceptions |= DE;
        }
        if (isInf(a, dbl)) {
            return a;
        }
        long sig = sig62(a, dbl);
        int t = exp62(a, dbl) - 62;
        int shift = (t & 1) == 0 ? 52 : 53; // radicand = sig * 2^shift, with t - shift even
        long hi = sig >>> (64 - shift);
        long lo = sig << shift;
        long root = 0;
        long rem = 0;
        for (int i = 63; i >= 0; i--) {
            long pair = i >= 32 ? hi >>> (2 * (i - 32)) & 3 : lo >>> (2 * i) & 3;
            rem = rem << 2 | pair;
            long trial = root << 2 | 1;
            root <<= 1;
            if (Long.compareUnsigned(rem, trial) >= 0) {
                rem -= trial;
                root |= 1;
            }
        }
        int lz = Long.numberOfLeadingZeros(root);
        long norm = root << (lz - 1) | (rem != 0 ? 1 : 0);
        int exp = (t - shift) / 2 + 63 - lz;
        return roundPack(c, false, exp, norm, dbl);
    }

    // ---- conversions ----

    /** A signed integer to the format, rounded by MXCSR (PE only). */
    static long fromInt(Cpu c, long v, boolean dbl) {
        if (v == 0) {
            return 0;
        }
        boolean neg = v < 0;
        long mag = neg ? -v : v; // Long.MIN_VALUE stays 2^63 read unsigned
        return normalizeRoundPack(c, neg, 62, mag, dbl);
    }

    /**
     * The format to a signed integer of 32 or 64 bits, rounded by MXCSR or truncated. NaN and
     * values out of range give the integer indefinite (the sign bit alone) with IE.
     */
    static long toInt(Cpu c, long x, boolean dbl, boolean wide, boolean truncate) {
        long indefinite = wide ? Long.MIN_VALUE : 0x8000_0000L;
        x = input(c, x, dbl, false);
        if (isNaN(x, dbl) || isInf(x, dbl)) {
            c.simdExceptions |= IE;
            return indefinite;
        }
        if (isZero(x, dbl)) {
            return 0;
        }
        boolean neg = negative(x, dbl);
        int e = exp62(x, dbl);
        long sig = sig62(x, dbl);
        if (e >= 64) {
            c.simdExceptions |= IE;
            return indefinite;
        }
        long intPart;
        long rem;
        long half;
        if (e >= 62) {
            intPart = sig << (e - 62);
            rem = 0;
            half = 1;
        } else if (e >= 0) {
            intPart = sig >>> (62 - e);
            rem = sig & ((1L << (62 - e)) - 1);
            half = 1L << (61 - e);
        } else {
            intPart = 0;
            rem = sig;
            half = e == -1 ? 1L << 62 : Long.MAX_VALUE; // below one half: never rounds to nearest up
        }
        boolean up = false;
        if (rem != 0) {
            int mode = truncate ? ROUND_ZERO : roundingMode(c);
            up = switch (mode) {
                case ROUND_NEAREST -> Long.compareUnsigned(rem, half) > 0
                        || (rem == half && (intPart & 1) != 0);
                case ROUND_DOWN -> neg;
                case ROUND_UP -> !neg;
                default -> false;
            };
        }
        long mag = intPart + (up ? 1 : 0);
        long limit = wide ? Long.MIN_VALUE : 0x8000_0000L; // the largest magnitude, negative only
        boolean fits = Long.compareUnsigned(mag, limit) < 0 || (neg && mag == limit);
        if (!fits) {
            c.simdExceptions |= IE;
            return indefinite;
        }
        if (rem != 0) {
            c.simdExceptions |= PE;
        }
        long r = neg ? -mag : mag;
        return wide ? r : r & 0xFFFF_FFFFL;
    }

    /** Single to double (exact; SNaN quieted with IE, DE on a denormal input). */
    static long widen(Cpu c, long x) {
        x = input(c, x, false, true);
        boolean neg = negative(x, false);
        if (isNaN(x, false)) {
            if (isSNaN(x, false)) {
                c.simdExceptions |= IE;
            }
            return zero(neg, true) | 0x7FF8_0000_0000_0000L | (frac(x, false) << 29);
        }
        if (isInf(x, false)) {
            return infinity(neg, true);
        }
        if (isZero(x, false)) {
            return zero(neg, true);
        }
        return zero(neg, true) | (long) (exp62(x, false) + 1023) << 52 | (sig62(x, false) >>> 10 & ((1L << 52) - 1));
    }

    /** Double to single, rounded by MXCSR (NaN payloads keep their top bits). */
    static long narrow(Cpu c, long x) {
        x = input(c, x, true, true);
        boolean neg = negative(x, true);
        if (isNaN(x, true)) {
            if (isSNaN(x, true)) {
                c.simdExceptions |= IE;
            }
            return zero(neg, false) | 0x7FC0_0000L | (frac(x, true) >>> 29);
        }
        if (isInf(x, true)) {
            return infinity(neg, false);
        }
        if (isZero(x, true)) {
            return zero(neg, false);
        }
        return roundPack(c, neg, exp62(x, true), sig62(x, true), false);
    }
}
