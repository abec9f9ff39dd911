package io.p2vkit.hv.emu;

/**
 * Exact 80-bit extended-precision arithmetic as the x87 does it (SDM Vol. 1 §4.2, §4.8, §4.9,
 * §8.5). A value is a 16-bit sign-and-exponent word and a 64-bit significand with its explicit
 * integer bit. Every operation is a function of its operands and {@link #control} (precision
 * and rounding control, exception masks); it leaves its result in {@link #se}/{@link #sig},
 * ORs the exceptions it detects into {@link #exceptions} and says in {@link #roundedUp} whether
 * rounding increased the magnitude (the C1 bit). One instance per CPU, reused: no allocation.
 *
 * <p>Results are correctly rounded: significands are kept in 128 bits (Math.multiplyHigh and
 * bitwise long division/square root) so that the round bit and sticky bits are exact.
 * Tininess is detected before rounding, as x86 does. Operands the 387 and later do not support
 * (unnormals, pseudo-NaNs, pseudo-infinities) are invalid operands; pseudo-denormals are read as
 * denormals (SDM §8.2.2).
 */
final class Float80 {

    static final int IE = 1;
    static final int DE = 2;
    static final int ZE = 4;
    static final int OE = 8;
    static final int UE = 0x10;
    static final int PE = 0x20;

    static final int BIAS = 16383;
    static final int MAX_EXP = 0x7FFF;
    static final long INTEGER_BIT = 0x8000_0000_0000_0000L;
    static final long QUIET_BIT = 0x4000_0000_0000_0000L;
    /** QNaN floating-point indefinite (SDM Table 4-3): the masked response to an invalid operation. */
    static final int INDEFINITE_SE = 0xFFFF;
    static final long INDEFINITE_SIG = 0xC000_0000_0000_0000L;
    /** Exponent bias adjustment for unmasked overflow and underflow results (SDM §4.9.1.4). */
    static final int BIAS_ADJUST = 0x6000;

    static final int RC_NEAREST = 0;
    static final int RC_DOWN = 1;
    static final int RC_UP = 2;
    static final int RC_ZERO = 3;

    // Operand classes.
    static final int ZERO = 0;
    static final int NORMAL = 1;
    static final int DENORMAL = 2;
    static final int INFINITY = 3;
    static final int QNAN = 4;
    static final int SNAN = 5;
    static final int UNSUPPORTED = 6;

    // compare() results, as x87 condition codes C3 C2 C0 would encode them.
    static final int GREATER = 0;
    static final int LESS = 1;
    static final int EQUAL = 2;
    static final int UNORDERED = 3;

    /** FPU control word: exception masks (bits 0-5), PC (8-9), RC (10-11). */
    int control = 0x37F;
    int se;
    long sig;
    int exceptions;
    boolean roundedUp;
    /** FXTRACT's second result (the significand), FSINCOS/FPTAN's pushed value. */
    int se2;
    long sig2;
    /** FPREM/FPREM1: the three low quotient bits and whether the reduction is complete. */
    int quotient;
    boolean incomplete;
    /** Scratch for the two quotient bits below the 64 of a division. */
    private long extraBits;
    /** The exponent of the last rounded result before any overflow handling. */
    private int roundedExp;

    /** Forgets the flags of the previous operation. */
    void clear() {
        exceptions = 0;
        roundedUp = false;
    }

    // ---- classification ----

    static int kind(int se, long sig) {
        int exp = se & MAX_EXP;
        if (exp == 0) {
            return sig == 0 ? ZERO : DENORMAL;
        }
        if (sig >= 0) {
            return UNSUPPORTED; // integer bit clear with a non-zero exponent
        }
        if (exp == MAX_EXP) {
            if (sig << 1 == 0) {
                return INFINITY;
            }
            return (sig & QUIET_BIT) != 0 ? QNAN : SNAN;
        }
        return NORMAL;
    }

    static boolean isNaN(int se, long sig) {
        int k = kind(se, sig);
        return k == QNAN || k == SNAN;
    }

    /** The exponent (biased) of a finite non-zero value once its significand is normalized. */
    static int normExp(int se, long sig) {
        int exp = se & MAX_EXP;
        return exp == 0 ? 1 - Long.numberOfLeadingZeros(sig) : exp;
    }

    static long normSig(long sig) {
        return sig << Long.numberOfLeadingZeros(sig);
    }

    int rc() {
        return (control >>> 10) & 3;
    }

    private int precision() {
        return switch ((control >>> 8) & 3) {
            case 0 -> 24;
            case 2 -> 53;
            default -> 64;
        };
    }

    boolean masked(int exception) {
        return (control & exception) != 0;
    }

    void set(int s, long m) {
        se = s;
        sig = m;
    }

    private void indefinite() {
        exceptions |= IE;
        set(INDEFINITE_SE, INDEFINITE_SIG);
    }

    /**
     * NaN and unsupported-operand handling for two operands (SDM Table 4-7): true when the result
     * is decided. An SNaN or unsupported operand signals IE; NaNs propagate quietened: of an SNaN
     * and a QNaN the QNaN, of two of a kind the one with the larger significand.
     */
    private boolean nanOperands(int aSe, long aSig, int bSe, long bSig) {
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        if (ka == UNSUPPORTED || kb == UNSUPPORTED) {
            indefinite();
            return true;
        }
        boolean aNaN = ka == QNAN || ka == SNAN;
        boolean bNaN = kb == QNAN || kb == SNAN;
        if (!aNaN && !bNaN) {
            return false;
        }
        if (ka == SNAN || kb == SNAN) {
            exceptions |= IE;
        }
        if (aNaN && bNaN && ka != kb) {
            // an SNaN and a QNaN: the QNaN (SDM Table 4-7)
            if (ka == QNAN) {
                set(aSe, aSig);
            } else {
                set(bSe, bSig);
            }
        } else if (aNaN && bNaN) {
            long ma = aSig | QUIET_BIT;
            long mb = bSig | QUIET_BIT;
            int cmp = Long.compareUnsigned(ma, mb);
            if (cmp > 0 || (cmp == 0 && (aSe & 0x8000) == 0)) {
                set(aSe, ma);
            } else {
                set(bSe, mb);
            }
        } else if (aNaN) {
            set(aSe, aSig | QUIET_BIT);
        } else {
            set(bSe, bSig | QUIET_BIT);
        }
        return true;
    }

    /** One-operand version of {@link #nanOperands}. */
    private boolean nanOperand(int aSe, long aSig) {
        int k = kind(aSe, aSig);
        if (k == UNSUPPORTED) {
            indefinite();
            return true;
        }
        if (k == SNAN) {
            exceptions |= IE;
        }
        if (k == QNAN || k == SNAN) {
            set(aSe, aSig | QUIET_BIT);
            return true;
        }
        return false;
    }

    // ---- rounding ----

    /**
     * Rounds sign × (hi.lo, binary point after bit 63 of hi) × 2^(exp - BIAS) to {@code bits}
     * significand bits in the extended exponent range, with the control word's rounding, and
     * handles overflow and underflow (masked and unmasked responses). Normalizes first.
     */
    void roundPack(int sign, int exp, long hi, long lo, int bits) {
        if (hi == 0 && lo == 0) {
            set(sign << 15, 0);
            return;
        }
        int lz = hi != 0 ? Long.numberOfLeadingZeros(hi) : 64 + Long.numberOfLeadingZeros(lo);
        if (lz >= 64) {
            hi = lo << (lz - 64);
            lo = 0;
        } else if (lz > 0) {
            hi = hi << lz | lo >>> (64 - lz);
            lo <<= lz;
        }
        exp -= lz;
        int rc = rc();
        if (exp < 1 && !masked(UE)) {
            exceptions |= UE;
            exp += BIAS_ADJUST;
        }
        if (exp < 1) {
            int shift = 1 - exp;
            // Denormalize: the value is hi.lo × 2^(1 - BIAS) shifted right by `shift`.
            if (shift >= 128) {
                lo = 1; // only a sticky bit remains
                hi = 0;
            } else if (shift >= 64) {
                long sticky = (lo != 0 || (shift > 64 && hi << (128 - shift) != 0)) ? 1 : 0;
                lo = (shift == 64 ? hi : hi >>> (shift - 64)) | sticky;
                hi = 0;
            } else {
                long sticky = lo << (64 - shift) != 0 ? 1 : 0;
                lo = hi << (64 - shift) | lo >>> shift | sticky;
                hi >>>= shift;
            }
            roundSignificand(sign, 0, hi, lo, bits, rc, masked(UE));
            return;
        }
        roundSignificand(sign, exp, hi, lo, bits, rc, false);
        if (roundedExp >= MAX_EXP) {
            overflow(sign, bits, rc);
        }
    }

    private void overflow(int sign, int bits, int rc) {
        if (!masked(OE)) {
            exceptions |= OE;
            se = sign << 15 | ((roundedExp - BIAS_ADJUST) & MAX_EXP);
            return;
        }
        exceptions |= OE | PE;
        boolean toInfinity = rc == RC_NEAREST || (rc == RC_UP && sign == 0) || (rc == RC_DOWN && sign != 0);
        if (toInfinity) {
            set(sign << 15 | MAX_EXP, INTEGER_BIT);
            roundedUp = true;
        } else {
            set(sign << 15 | (MAX_EXP - 1), -1L << (64 - bits));
            roundedUp = false;
        }
    }

    /**
     * Rounds hi (with lo below it) to the top {@code bits} bits of the 64-bit significand field.
     * {@code tiny}: a masked-underflow denormal, which reports UE when inexact.
     */
    private void roundSignificand(int sign, int exp, long hi, long lo, int bits, int rc, boolean tiny) {
        int shift = 64 - bits;
        long kept;
        boolean round;
        boolean sticky;
        if (shift == 0) {
            kept = hi;
            round = lo < 0;
            sticky = lo << 1 != 0;
        } else {
            kept = hi >>> shift;
            round = (hi >>> (shift - 1) & 1) != 0;
            sticky = (hi & ((1L << (shift - 1)) - 1)) != 0 || lo != 0;
        }
        boolean inexact = round || sticky;
        boolean up = switch (rc) {
            case RC_NEAREST -> round && (sticky || (kept & 1) != 0);
            case RC_DOWN -> inexact && sign != 0;
            case RC_UP -> inexact && sign == 0;
            default -> false;
        };
        if (inexact) {
            exceptions |= PE;
            if (tiny) {
                exceptions |= UE;
            }
        }
        roundedUp = up;
        if (up) {
            kept++;
            if (shift == 0 ? kept == 0 : kept == 1L << bits) {
                kept = 1L << (bits - 1);
                exp++;
            }
        }
        long m = shift == 0 ? kept : kept << shift;
        if (exp == 0 && m < 0) {
            exp = 1; // a denormal rounded up into the normal range
        }
        roundedExp = exp;
        se = sign << 15 | Math.min(exp, MAX_EXP);
        sig = m;
    }

    // ---- arithmetic ----

    /** a + b, or a - b when {@code subtract}; precision control applies. */
    void add(int aSe, long aSig, int bSe, long bSig, boolean subtract) {
        if (nanOperands(aSe, aSig, bSe, bSig)) {
            return;
        }
        if (subtract) {
            bSe ^= 0x8000;
        }
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        int sa = aSe >>> 15 & 1;
        int sb = bSe >>> 15 & 1;
        if (ka == INFINITY || kb == INFINITY) {
            if (ka == INFINITY && kb == INFINITY && sa != sb) {
                indefinite();
            } else {
                denormalCheck(ka, kb);
                set(ka == INFINITY ? aSe : bSe, INTEGER_BIT);
            }
            return;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO && kb == ZERO) {
            int s = sa == sb ? sa : (rc() == RC_DOWN ? 1 : 0);
            set(s << 15, 0);
            return;
        }
        if (ka == ZERO || kb == ZERO) {
            // x + 0 is x, rounded to the precision control (a denormal stays one)
            int s = ka == ZERO ? sb : sa;
            int e = ka == ZERO ? normExp(bSe, bSig) : normExp(aSe, aSig);
            long m = normSig(ka == ZERO ? bSig : aSig);
            roundPack(s, e, m, 0, precision());
            return;
        }
        int ea = normExp(aSe, aSig);
        int eb = normExp(bSe, bSig);
        long ma = normSig(aSig);
        long mb = normSig(bSig);
        if (ea < eb || (ea == eb && Long.compareUnsigned(ma, mb) < 0)) {
            int t = ea;
            ea = eb;
            eb = t;
            long tm = ma;
            ma = mb;
            mb = tm;
            int ts = sa;
            sa = sb;
            sb = ts;
        }
        int diff = ea - eb;
        long bHi;
        long bLo;
        if (diff == 0) {
            bHi = mb;
            bLo = 0;
        } else if (diff < 64) {
            bHi = mb >>> diff;
            bLo = mb << (64 - diff);
        } else if (diff < 127) {
            bHi = 0;
            bLo = (diff == 64 ? mb : mb >>> (diff - 64)) | (diff > 64 && mb << (128 - diff) != 0 ? 1 : 0);
        } else {
            bHi = 0;
            bLo = 1;
        }
        if (sa == sb) {
            long lo = bLo;
            long hi = ma + bHi;
            boolean carry = Long.compareUnsigned(hi, ma) < 0;
            if (carry) {
                long sticky = lo & 1;
                lo = lo >>> 1 | hi << 63 | sticky;
                hi = hi >>> 1 | INTEGER_BIT;
                ea++;
            }
            roundPack(sa, ea, hi, lo, precision());
        } else {
            long lo = -bLo;
            long hi = ma - bHi - (bLo != 0 ? 1 : 0);
            if (hi == 0 && lo == 0) {
                set((rc() == RC_DOWN ? 1 : 0) << 15, 0);
                return;
            }
            roundPack(sa, ea, hi, lo, precision());
        }
    }

    private void denormalCheck(int ka, int kb) {
        if (ka == DENORMAL || kb == DENORMAL) {
            exceptions |= DE;
        }
    }

    void mul(int aSe, long aSig, int bSe, long bSig) {
        if (nanOperands(aSe, aSig, bSe, bSig)) {
            return;
        }
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        int s = (aSe ^ bSe) >>> 15 & 1;
        if (ka == INFINITY || kb == INFINITY) {
            if (ka == ZERO || kb == ZERO) {
                indefinite();
            } else {
                denormalCheck(ka, kb);
                set(s << 15 | MAX_EXP, INTEGER_BIT);
            }
            return;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO || kb == ZERO) {
            set(s << 15, 0);
            return;
        }
        long ma = normSig(aSig);
        long mb = normSig(bSig);
        long hi = Math.unsignedMultiplyHigh(ma, mb);
        long lo = ma * mb;
        // ma × mb × 2^-126 = (hi.lo × 2^-63) × 2: one more in the exponent
        roundPack(s, normExp(aSe, aSig) + normExp(bSe, bSig) - BIAS + 1, hi, lo, precision());
    }

    void div(int aSe, long aSig, int bSe, long bSig) {
        if (nanOperands(aSe, aSig, bSe, bSig)) {
            return;
        }
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        int s = (aSe ^ bSe) >>> 15 & 1;
        if (ka == INFINITY) {
            if (kb == INFINITY) {
                indefinite();
            } else {
                denormalCheck(ka, kb);
                set(s << 15 | MAX_EXP, INTEGER_BIT);
            }
            return;
        }
        if (kb == INFINITY) {
            denormalCheck(ka, kb);
            set(s << 15, 0);
            return;
        }
        if (kb == ZERO) {
            if (ka == ZERO) {
                indefinite();
            } else {
                exceptions |= ZE;
                set(s << 15 | MAX_EXP, INTEGER_BIT);
            }
            return;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO) {
            set(s << 15, 0);
            return;
        }
        long ma = normSig(aSig);
        long mb = normSig(bSig);
        // 66 quotient bits of ma/mb (in [1/2, 2)) by restoring division, the first worth 2^0:
        // 64 into hi, two more below them in lo, and a sticky bit for any remainder.
        long hi = 0;
        long rem = ma;
        boolean carry = false;
        for (int i = 0; i < 66; i++) {
            long bit = 0;
            if (carry || Long.compareUnsigned(rem, mb) >= 0) {
                rem -= mb;
                bit = 1;
            }
            carry = rem < 0;
            rem <<= 1;
            if (i < 64) {
                hi = hi << 1 | bit;
            } else {
                extraBits = extraBits << 1 | bit;
            }
        }
        long sticky = rem != 0 || carry ? 1 : 0;
        long lo = extraBits << 62 | sticky;
        extraBits = 0;
        roundPack(s, normExp(aSe, aSig) - normExp(bSe, bSig) + BIAS, hi, lo, precision());
    }

    void sqrt(int aSe, long aSig) {
        if (nanOperand(aSe, aSig)) {
            return;
        }
        int k = kind(aSe, aSig);
        int s = aSe >>> 15 & 1;
        if (k == ZERO) {
            set(aSe, 0);
            return;
        }
        if (s != 0) {
            indefinite();
            return;
        }
        if (k == INFINITY) {
            set(aSe, INTEGER_BIT);
            return;
        }
        denormalCheck(k, NORMAL);
        int e = normExp(aSe, aSig) - BIAS;
        long m = normSig(aSig);
        // value = m × 2^-63 × 2^e. With e even, root = sqrt(m × 2^63) × 2^-63 × 2^(e/2);
        // with e odd, root = sqrt(m × 2^64) × 2^-63 × 2^((e-1)/2).
        boolean odd = (e & 1) != 0;
        long nHi = odd ? m : m >>> 1;
        long nLo = odd ? 0 : m << 63;
        long root = 0;
        long remHi = 0;
        long remLo = 0;
        for (int i = 0; i < 64; i++) {
            // rem = rem × 4 + next two bits of n
            remHi = remHi << 2 | remLo >>> 62;
            remLo = remLo << 2 | nHi >>> 62;
            nHi = nHi << 2 | nLo >>> 62;
            nLo <<= 2;
            // trial = root × 4 + 1
            long tHi = root >>> 62;
            long tLo = root << 2 | 1;
            if (Long.compareUnsigned(remHi, tHi) > 0
                    || (remHi == tHi && Long.compareUnsigned(remLo, tLo) >= 0)) {
                long borrow = Long.compareUnsigned(remLo, tLo) < 0 ? 1 : 0;
                remLo -= tLo;
                remHi = remHi - tHi - borrow;
                root = root << 1 | 1;
            } else {
                root <<= 1;
            }
        }
        // rem = n - root²; the root lies above root + 1/2 exactly when rem > root.
        boolean round = remHi != 0 || Long.compareUnsigned(remLo, root) > 0;
        boolean sticky = remHi != 0 || remLo != 0;
        long lo = (round ? INTEGER_BIT : 0) | (sticky ? 1 : 0);
        roundPack(0, Math.floorDiv(e, 2) + BIAS, root, lo, precision());
    }

    /** FRNDINT: rounds to an integer with the rounding control (no precision control). */
    void roundToInteger(int aSe, long aSig) {
        if (nanOperand(aSe, aSig)) {
            return;
        }
        int k = kind(aSe, aSig);
        if (k == ZERO || k == INFINITY) {
            set(aSe, aSig);
            return;
        }
        denormalCheck(k, NORMAL);
        int s = aSe >>> 15 & 1;
        int e = normExp(aSe, aSig) - BIAS;
        long m = normSig(aSig);
        if (e >= 63) {
            set(aSe, aSig);
            return;
        }
        long mag = integerPart(s, e, m);
        if (mag == 0) {
            set(s << 15, 0);
        } else {
            int lz = Long.numberOfLeadingZeros(mag);
            set(s << 15 | (BIAS + 63 - lz), mag << lz);
        }
    }

    /**
     * The magnitude of sign × m × 2^(e - 63) rounded to an integer with the rounding control,
     * for e < 64 (the result then fits 64 unsigned bits, or wraps to 0 with {@code roundedUp} when
     * it rounds up to 2^64). Sets PE and roundedUp.
     */
    long integerPart(int s, int e, long m) {
        long kept;
        boolean round;
        boolean sticky;
        if (e >= 63) {
            return m; // e == 63: already an integer
        }
        if (e < -1) {
            kept = 0;
            round = false;
            sticky = true;
        } else if (e == -1) {
            kept = 0;
            round = true;
            sticky = m << 1 != 0;
        } else {
            int shift = 63 - e;
            kept = m >>> shift;
            round = (m >>> (shift - 1) & 1) != 0;
            sticky = shift > 1 && m << (65 - shift) != 0;
        }
        boolean inexact = round || sticky;
        boolean up = switch (rc()) {
            case RC_NEAREST -> round && (sticky || (kept & 1) != 0);
            case RC_DOWN -> inexact && s != 0;
            case RC_UP -> inexact && s == 0;
            default -> false;
        };
        if (inexact) {
            exceptions |= PE;
        }
        roundedUp = up;
        return up ? kept + 1 : kept;
    }

    // ---- comparison ----

    /**
     * Compares a with b: GREATER, LESS, EQUAL or UNORDERED. {@code quiet} (FUCOM*): only SNaNs
     * and unsupported operands signal IE; otherwise (FCOM*) any NaN does.
     */
    int compare(int aSe, long aSig, int bSe, long bSig, boolean quiet) {
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        if (ka == UNSUPPORTED || kb == UNSUPPORTED || ka == SNAN || kb == SNAN) {
            exceptions |= IE;
            return UNORDERED;
        }
        if (ka == QNAN || kb == QNAN) {
            if (!quiet) {
                exceptions |= IE;
            }
            return UNORDERED;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO && kb == ZERO) {
            return EQUAL;
        }
        int sa = aSe >>> 15 & 1;
        int sb = bSe >>> 15 & 1;
        if (ka == ZERO) {
            return sb == 0 ? LESS : GREATER;
        }
        if (kb == ZERO) {
            return sa == 0 ? GREATER : LESS;
        }
        if (sa != sb) {
            return sa == 0 ? GREATER : LESS;
        }
        int c = magnitudeOrder(aSe, aSig, kb == INFINITY, bSe, bSig, ka == INFINITY);
        if (c == 0) {
            return EQUAL;
        }
        return (c > 0) == (sa == 0) ? GREATER : LESS;
    }

    /** Orders two non-zero non-NaN magnitudes. */
    private static int magnitudeOrder(int aSe, long aSig, boolean bInfinite, int bSe, long bSig, boolean aInfinite) {
        if (aInfinite || bInfinite) {
            return aInfinite == bInfinite ? 0 : aInfinite ? 1 : -1;
        }
        int ea = normExp(aSe, aSig);
        int eb = normExp(bSe, bSig);
        if (ea != eb) {
            return ea > eb ? 1 : -1;
        }
        return Long.compareUnsigned(normSig(aSig), normSig(bSig));
    }

    // ---- scale, extract, remainder ----

    /** FSCALE: a × 2^trunc(b). */
    void scale(int aSe, long aSig, int bSe, long bSig) {
        if (nanOperands(aSe, aSig, bSe, bSig)) {
            return;
        }
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        int sb = bSe >>> 15 & 1;
        if (kb == INFINITY) {
            if ((ka == ZERO && sb == 0) || (ka == INFINITY && sb != 0)) {
                indefinite();
            } else {
                denormalCheck(ka, NORMAL);
                if (ka == ZERO || ka == INFINITY) {
                    set(aSe, aSig);
                } else {
                    set(sb == 0 ? (aSe & 0x8000) | MAX_EXP : aSe & 0x8000, sb == 0 ? INTEGER_BIT : 0);
                }
            }
            return;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO || ka == INFINITY) {
            set(aSe, aSig);
            return;
        }
        int n = 0;
        if (kb != ZERO) {
            int eb = normExp(bSe, bSig) - BIAS;
            if (eb >= 0) {
                long mag = eb >= 31 ? 0x4000_0000L : normSig(bSig) >>> (63 - eb);
                n = (int) Math.min(mag, 0x4000_0000L);
                n = sb != 0 ? -n : n;
            }
        }
        int s = aSe >>> 15 & 1;
        int e = normExp(aSe, aSig) + n;
        roundPack(s, e, normSig(aSig), 0, 64);
    }

    /** FXTRACT: {@link #se}/{@link #sig} = the unbiased exponent, se2/sig2 = the significand. */
    void extract(int aSe, long aSig) {
        if (nanOperand(aSe, aSig)) {
            se2 = se;
            sig2 = sig;
            return;
        }
        int k = kind(aSe, aSig);
        if (k == ZERO) {
            exceptions |= ZE;
            set(0x8000 | MAX_EXP, INTEGER_BIT);
            se2 = aSe;
            sig2 = 0;
            return;
        }
        if (k == INFINITY) {
            set(MAX_EXP, INTEGER_BIT);
            se2 = aSe;
            sig2 = aSig;
            return;
        }
        denormalCheck(k, NORMAL);
        se2 = (aSe & 0x8000) | BIAS;
        sig2 = normSig(aSig);
        Float80Conversions.fromInteger(this, normExp(aSe, aSig) - BIAS);
    }

    /**
     * FPREM ({@code ieee} false: quotient truncated) and FPREM1 (rounded to nearest): a partial
     * remainder of a / b. When the exponents differ by 64 or more the reduction is partial
     * ({@link #incomplete}), by a factor 2^(D - N) with N = {@link #partialReductionBits}.
     */
    void remainder(int aSe, long aSig, int bSe, long bSig, boolean ieee) {
        quotient = 0;
        incomplete = false;
        if (nanOperands(aSe, aSig, bSe, bSig)) {
            return;
        }
        int ka = kind(aSe, aSig);
        int kb = kind(bSe, bSig);
        if (ka == INFINITY || kb == ZERO) {
            indefinite();
            return;
        }
        denormalCheck(ka, kb);
        if (ka == ZERO || kb == INFINITY) {
            if (ka == DENORMAL) {
                roundPack(aSe >>> 15 & 1, normExp(aSe, aSig), normSig(aSig), 0, 64);
            } else {
                set(aSe, aSig);
            }
            return;
        }
        int sa = aSe >>> 15 & 1;
        int ea = normExp(aSe, aSig);
        int eb = normExp(bSe, bSig);
        long ma = normSig(aSig);
        long mb = normSig(bSig);
        int d = ea - eb;
        if (d < 0) {
            if (ieee && d == -1 && Long.compareUnsigned(ma, mb) > 0) {
                // |a| > |b|/2: a - b rounds the quotient to 1; |2b - a| < b fits 64 bits
                quotient = 1;
                roundPack(sa ^ 1, ea, 2 * mb - ma, 0, 64);
                return;
            }
            roundPack(sa, ea, ma, 0, 64);
            return;
        }
        boolean partial = d >= 64;
        int steps = partial ? partialReductionBits(d) : d;
        // Long division of ma × 2^steps by mb, keeping the remainder and the low quotient bits.
        long rem = 0;
        boolean carry;
        long q = 0;
        for (int i = 0; i < 64 + steps; i++) {
            long bit = i < 64 ? ma >>> (63 - i) & 1 : 0;
            carry = rem < 0;
            rem = rem << 1 | bit;
            q <<= 1;
            if (carry || Long.compareUnsigned(rem, mb) >= 0) {
                rem -= mb;
                q |= 1;
            }
        }
        int s = sa;
        // the remainder is rem × 2^(ea - steps - 63): its scale is that of b's units shifted
        int remExp = ea - steps;
        if (ieee && !partial) {
            // round the quotient to nearest: take b once more when the remainder exceeds b/2
            int cmp = rem < 0 ? 1 : Long.compareUnsigned(rem, mb - rem);
            if (cmp > 0 || (cmp == 0 && (q & 1) != 0)) {
                rem = mb - rem;
                q++;
                s ^= 1;
            }
        }
        quotient = (int) (q & 7);
        incomplete = partial;
        if (rem == 0) {
            set(sa << 15, 0);
            return;
        }
        roundPack(s, remExp, rem, 0, 64);
    }

    /**
     * N of FPREM's partial reduction, which the SDM leaves "between 32 and 63": 32 + D mod 32,
     * the rule AMD documents and the host CPUs of the differential test follow.
     */
    static int partialReductionBits(int d) {
        return 32 + d % 32;
    }

}
