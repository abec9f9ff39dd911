package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.Float80.BIAS;
import static io.p2vkit.hv.emu.Float80.DE;
import static io.p2vkit.hv.emu.Float80.IE;
import static io.p2vkit.hv.emu.Float80.INFINITY;
import static io.p2vkit.hv.emu.Float80.INTEGER_BIT;
import static io.p2vkit.hv.emu.Float80.MAX_EXP;
import static io.p2vkit.hv.emu.Float80.OE;
import static io.p2vkit.hv.emu.Float80.PE;
import static io.p2vkit.hv.emu.Float80.QNAN;
import static io.p2vkit.hv.emu.Float80.QUIET_BIT;
import static io.p2vkit.hv.emu.Float80.RC_DOWN;
import static io.p2vkit.hv.emu.Float80.RC_NEAREST;
import static io.p2vkit.hv.emu.Float80.RC_UP;
import static io.p2vkit.hv.emu.Float80.RC_ZERO;
import static io.p2vkit.hv.emu.Float80.SNAN;
import static io.p2vkit.hv.emu.Float80.UE;
import static io.p2vkit.hv.emu.Float80.UNSUPPORTED;
import static io.p2vkit.hv.emu.Float80.ZERO;
import static io.p2vkit.hv.emu.Float80.kind;
import static io.p2vkit.hv.emu.Float80.normExp;
import static io.p2vkit.hv.emu.Float80.normSig;

/**
 * Conversions between the 80-bit format and the x87's memory formats (SDM Vol. 1 §4.2, §4.7,
 * §8.2): int16/32/64 (FILD, FIST, FISTP, FISTTP), binary32/64 (FLD, FST with their own
 * exponent range, denormals and rounding) and 18-digit packed BCD (FBLD, FBSTP). Results and
 * flags go to the {@link Float80} given, as its own operations do.
 */
final class Float80Conversions {

    private Float80Conversions() {
    }

    /**
     * Converts to a signed integer of {@code bytes} (2, 4 or 8), rounding with the rounding
     * control, or truncating ({@code truncate}: FISTTP). Out of range, NaN and infinity give
     * IE and the integer indefinite (the most negative value).
     */
    static long toInteger(Float80 f, int aSe, long aSig, int bytes, boolean truncate) {
        long indefinite = Long.MIN_VALUE >> (64 - bytes * 8);
        int k = kind(aSe, aSig);
        if (k == ZERO) {
            return 0;
        }
        if (k == INFINITY || k == QNAN || k == SNAN || k == UNSUPPORTED) {
            f.exceptions |= IE;
            return indefinite;
        }
        int s = aSe >>> 15 & 1;
        int e = normExp(aSe, aSig) - BIAS;
        if (e >= 64) {
            f.exceptions |= IE;
            return indefinite;
        }
        int savedControl = f.control;
        if (truncate) {
            f.control |= RC_ZERO << 10;
        }
        int before = f.exceptions;
        long mag = f.integerPart(s, e, normSig(aSig));
        f.control = savedControl;
        long limit = 1L << (bytes * 8 - 1); // magnitude bound: limit - 1 positive, limit negative
        boolean fits = s == 0 ? Long.compareUnsigned(mag, limit) < 0 : Long.compareUnsigned(mag, limit) <= 0;
        if (!fits) {
            f.exceptions = before | IE;
            f.roundedUp = false;
            return indefinite;
        }
        return s == 0 ? mag : -mag;
    }

    /** FILD: an integer is exact in 64 significand bits. */
    static void fromInteger(Float80 f, long v) {
        if (v == 0) {
            f.set(0, 0);
            return;
        }
        int s = v < 0 ? 1 : 0;
        long mag = v < 0 ? -v : v; // Long.MIN_VALUE stays 2^63 unsigned
        int lz = Long.numberOfLeadingZeros(mag);
        f.set(s << 15 | (BIAS + 63 - lz), mag << lz);
    }

    /** FLD m32/m64: exact widening of a binary32/binary64 value (SNaN → IE, quietened). */
    static void fromBinary(Float80 f, long bits, int expBits, int fracBits) {
        fromBinary(f, bits, expBits, fracBits, true);
    }

    /**
     * Exact widening; with {@code quieten} false an SNaN stays signaling (no IE yet), so that
     * the arithmetic it feeds applies the SNaN rules of SDM Table 4-7.
     */
    static void fromBinary(Float80 f, long bits, int expBits, int fracBits, boolean quieten) {
        int s = (int) (bits >>> (expBits + fracBits)) & 1;
        int expMax = (1 << expBits) - 1;
        int exp = (int) (bits >>> fracBits) & expMax;
        long frac = bits & ((1L << fracBits) - 1);
        int bias = expMax >> 1;
        if (exp == expMax) {
            long m = INTEGER_BIT | frac << (63 - fracBits);
            if (frac != 0 && (m & QUIET_BIT) == 0 && quieten) {
                f.exceptions |= IE;
                m |= QUIET_BIT;
            }
            f.set(s << 15 | MAX_EXP, m);
        } else if (exp == 0) {
            if (frac == 0) {
                f.set(s << 15, 0);
            } else {
                f.exceptions |= DE;
                int lz = Long.numberOfLeadingZeros(frac);
                // frac × 2^(1 - bias - fracBits)
                f.set(s << 15 | (1 - bias - fracBits + 63 - lz + BIAS), frac << lz);
            }
        } else {
            f.set(s << 15 | (exp - bias + BIAS), INTEGER_BIT | frac << (63 - fracBits));
        }
    }

    /**
     * FST m32/m64: rounds to binary32 ({@code expBits} 8, {@code fracBits} 23) or binary64 (11,
     * 52) with the rounding control, its exponent range and its denormals. Overflow and underflow
     * follow the masked responses; an unmasked one leaves OE/UE set and the caller stores nothing.
     */
    static long toBinary(Float80 f, int aSe, long aSig, int expBits, int fracBits) {
        int s = aSe >>> 15 & 1;
        long signBit = (long) s << (expBits + fracBits);
        int expMax = (1 << expBits) - 1;
        long infinity = signBit | (long) expMax << fracBits;
        int k = kind(aSe, aSig);
        switch (k) {
            case ZERO:
                return signBit;
            case INFINITY:
                return infinity;
            case UNSUPPORTED:
                f.exceptions |= IE;
                return (long) expMax << fracBits | 1L << (expBits + fracBits) | 1L << (fracBits - 1);
            case SNAN:
                f.exceptions |= IE;
                return infinity | 1L << (fracBits - 1) | (aSig << 1 >>> (64 - fracBits));
            case QNAN:
                return infinity | (aSig << 1 >>> (64 - fracBits));
            default:
                break;
        }
        int bias = expMax >> 1; // a denormal source is no #D for a store (SDM FST)
        int e = normExp(aSe, aSig) - BIAS + bias; // target biased exponent
        long m = normSig(aSig);
        int rc = f.rc();
        int bits = fracBits + 1;
        long hi = m;
        long lo = 0;
        boolean tiny = false;
        if (e < 1) {
            if (!f.masked(UE)) {
                f.exceptions |= UE;
                return 0; // not stored
            }
            tiny = true;
            int shift = 1 - e;
            if (shift >= 64) {
                lo = 1;
                hi = 0;
            } else {
                lo = hi << (64 - shift);
                hi >>>= shift;
            }
            e = 0;
        }
        int shift = 64 - bits;
        long kept = hi >>> shift;
        boolean round = (hi >>> (shift - 1) & 1) != 0;
        boolean sticky = (hi & ((1L << (shift - 1)) - 1)) != 0 || lo != 0;
        boolean inexact = round || sticky;
        boolean up = switch (rc) {
            case RC_NEAREST -> round && (sticky || (kept & 1) != 0);
            case RC_DOWN -> inexact && s != 0;
            case RC_UP -> inexact && s == 0;
            default -> false;
        };
        if (up) {
            kept++;
            if (kept == 1L << bits) {
                kept >>>= 1;
                e++;
            } else if (e == 0 && kept == 1L << fracBits) {
                e = 1;
            }
        }
        if (e >= expMax) {
            if (!f.masked(OE)) {
                f.exceptions |= OE;
                return 0;
            }
            f.exceptions |= OE | PE;
            boolean toInfinity = rc == RC_NEAREST || (rc == RC_UP && s == 0) || (rc == RC_DOWN && s != 0);
            f.roundedUp = toInfinity;
            return toInfinity ? infinity : signBit | ((long) (expMax - 1) << fracBits) | ((1L << fracBits) - 1);
        }
        if (inexact) {
            f.exceptions |= PE;
            if (tiny) {
                f.exceptions |= UE;
            }
        }
        f.roundedUp = up;
        return signBit | (long) e << fracBits | (kept & ((1L << fracBits) - 1));
    }

    // ---- packed BCD ----

    /** FBLD: 18 BCD digits in {@code low} (bytes 0-7) and {@code high} (byte 8 digits, byte 9 sign). */
    static void fromBcd(Float80 f, long low, int high) {
        long v = 0;
        for (int i = 1; i >= 0; i--) {
            v = v * 10 + (high >>> (4 * i) & 0xF);
        }
        for (int i = 15; i >= 0; i--) {
            v = v * 10 + (low >>> (4 * i) & 0xF);
        }
        fromInteger(f, v);
        if ((high & 0x8000) != 0) {
            f.se |= 0x8000;
        }
    }

    /** FBSTP: rounds to an integer; {@link #sig} gets bytes 0-7 and {@link #se} bytes 8-9. */
    static void toBcd(Float80 f, int aSe, long aSig) {
        int k = kind(aSe, aSig);
        int s = aSe >>> 15 & 1;
        long mag = 0;
        if (k != ZERO) {
            boolean bad = k == INFINITY || k == QNAN || k == SNAN || k == UNSUPPORTED;
            if (!bad) {
                int e = normExp(aSe, aSig) - BIAS;
                int before = f.exceptions;
                if (e >= 60) {
                    bad = true;
                } else {
                    mag = f.integerPart(s, e, normSig(aSig));
                    if (mag > 999_999_999_999_999_999L) {
                        f.exceptions = before;
                        f.roundedUp = false;
                        bad = true;
                    }
                }
            }
            if (bad) {
                f.exceptions |= IE;
                f.se = 0xFFFF;
                f.sig = 0xC000_0000_0000_0000L;
                return;
            }
        }
        long low = 0;
        for (int i = 0; i < 16; i++) {
            low |= (mag % 10) << (4 * i);
            mag /= 10;
        }
        int high = (int) (mag % 10) | (int) (mag / 10 % 10) << 4;
        f.se = s << 15 | high;
        f.sig = low;
    }
}
