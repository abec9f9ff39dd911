package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * SSE/SSE2 floating-point instructions on XMM registers: ADD/SUB/MUL/DIV/SQRT/MIN/MAX, RCP and
 * RSQRT, CMPcc, COMIS/UCOMIS, AND/ANDN/OR/XOR, SHUFPS/PD, UNPCKL/H PS/PD, in their PS (no
 * prefix), PD (66), SS (F3) and SD (F2) forms. Packed forms read m128 aligned; scalar forms
 * keep the destination's other lanes. Results are computed first and written only after
 * {@link Sse#commit} found no unmasked exception.
 */
final class SseFloat {

    private SseFloat() {
    }

    /** 0F 51 SQRT, 58 ADD, 59 MUL, 5C SUB, 5D MIN, 5E DIV, 5F MAX: xmm, xmm/m. */
    static void arith(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int op = d.opcode & 0xFF;
        int p = Sse.prefix(d);
        switch (p) {
            case Sse.NONE, Sse.P66 -> {
                long bl = Sse.loadLo(c, d, true);
                long bh = Sse.loadHi(c, d);
                arith(c, op, p, d.reg, bl, bh);
            }
            case Sse.PF3 -> arith(c, op, p, d.reg, Sse.load32(c, d), 0);
            default -> arith(c, op, p, d.reg, Sse.load64(c, d), 0);
        }
    }

    /**
     * The operation of {@link #arith(Cpu, DecodedInsn)} once its source is fetched: {@code bl}
     * and {@code bh} the 128-bit source of the packed forms, {@code bl} alone (a zero-extended
     * dword or a quadword) of the scalar ones. Compiled regions come here with the source they
     * read themselves.
     */
    static void arith(Cpu c, int op, int p, int dst, long bl, long bh) {
        c.simdExceptions = 0;
        switch (p) {
            case Sse.NONE -> {
                long al = c.xmm[2 * dst];
                long ah = c.xmm[2 * dst + 1];
                long r0 = lane(c, op, al & 0xFFFF_FFFFL, bl & 0xFFFF_FFFFL, false);
                long r1 = lane(c, op, al >>> 32, bl >>> 32, false);
                long r2 = lane(c, op, ah & 0xFFFF_FFFFL, bh & 0xFFFF_FFFFL, false);
                long r3 = lane(c, op, ah >>> 32, bh >>> 32, false);
                Sse.commit(c);
                Sse.setXmm(c, dst, r0 | r1 << 32, r2 | r3 << 32);
            }
            case Sse.P66 -> {
                long r0 = lane(c, op, c.xmm[2 * dst], bl, true);
                long r1 = lane(c, op, c.xmm[2 * dst + 1], bh, true);
                Sse.commit(c);
                Sse.setXmm(c, dst, r0, r1);
            }
            case Sse.PF3 -> {
                long al = c.xmm[2 * dst];
                long r = lane(c, op, al & 0xFFFF_FFFFL, bl, false);
                Sse.commit(c);
                c.xmm[2 * dst] = (al & 0xFFFF_FFFF_0000_0000L) | r;
            }
            default -> {
                long r = lane(c, op, c.xmm[2 * dst], bl, true);
                Sse.commit(c);
                c.xmm[2 * dst] = r;
            }
        }
    }

    private static long lane(Cpu c, int op, long a, long b, boolean dbl) {
        long r = switch (op) {
            case 0x51 -> SoftFloat.sqrt(c, b, dbl);
            case 0x58, 0x59, 0x5C, 0x5E -> SoftFloat.arith(c, softOp(op), a, b, dbl);
            case 0x5D -> minMax(c, a, b, dbl, false);
            default -> minMax(c, a, b, dbl, true);
        };
        return dbl ? r : r & 0xFFFF_FFFFL;
    }

    /** Whether opcode byte {@code op} is ADD, MUL, SUB or DIV ({@link #softOp}'s). */
    static boolean isAddMulSubDiv(int op) {
        return op == 0x58 || op == 0x59 || op == 0x5C || op == 0x5E;
    }

    /** {@link SoftFloat}'s operation for ADD (0x58), MUL (0x59), SUB (0x5C) or DIV (0x5E). */
    static int softOp(int op) {
        return switch (op) {
            case 0x58 -> SoftFloat.ADD;
            case 0x59 -> SoftFloat.MUL;
            case 0x5C -> SoftFloat.SUB;
            default -> SoftFloat.DIV;
        };
    }

    /**
     * MIN/MAX: a NaN in either operand (IE, QNaN included) or two zeros give the second (source)
     * operand unchanged; otherwise the smaller or larger value.
     */
    static long minMax(Cpu c, long a, long b, boolean dbl, boolean max) {
        if (SoftFloat.isNaN(a, dbl) || SoftFloat.isNaN(b, dbl)) {
            c.simdExceptions |= SoftFloat.IE; // a NaN operand takes precedence over DE
            return SoftFloat.input(c, b, dbl, false);
        }
        a = SoftFloat.input(c, a, dbl, true);
        b = SoftFloat.input(c, b, dbl, true);
        double x = value(a, dbl);
        double y = value(b, dbl);
        return (max ? x > y : x < y) ? a : b;
    }

    /** A non-NaN operand as a Java double (exact for both formats; -0 == +0). */
    static double value(long x, boolean dbl) {
        return dbl ? Double.longBitsToDouble(x) : Float.intBitsToFloat((int) x);
    }

    /** 0F C2: CMPPS/CMPPD/CMPSS/CMPSD xmm, xmm/m, imm8 (predicates 0-7). */
    static void cmp(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int pred = d.imm & 7;
        int dst = d.reg;
        c.simdExceptions = 0;
        switch (Sse.prefix(d)) {
            case Sse.NONE -> {
                long bl = Sse.loadLo(c, d, true);
                long bh = Sse.loadHi(c, d);
                long al = c.xmm[2 * dst];
                long ah = c.xmm[2 * dst + 1];
                long r0 = mask32(compare(c, al & 0xFFFF_FFFFL, bl & 0xFFFF_FFFFL, false, pred));
                long r1 = mask32(compare(c, al >>> 32, bl >>> 32, false, pred));
                long r2 = mask32(compare(c, ah & 0xFFFF_FFFFL, bh & 0xFFFF_FFFFL, false, pred));
                long r3 = mask32(compare(c, ah >>> 32, bh >>> 32, false, pred));
                Sse.commit(c);
                Sse.setXmm(c, dst, r0 | r1 << 32, r2 | r3 << 32);
            }
            case Sse.P66 -> {
                long bl = Sse.loadLo(c, d, true);
                long bh = Sse.loadHi(c, d);
                long r0 = compare(c, c.xmm[2 * dst], bl, true, pred) ? -1L : 0;
                long r1 = compare(c, c.xmm[2 * dst + 1], bh, true, pred) ? -1L : 0;
                Sse.commit(c);
                Sse.setXmm(c, dst, r0, r1);
            }
            case Sse.PF3 -> {
                long b = Sse.load32(c, d);
                long al = c.xmm[2 * dst];
                long r = mask32(compare(c, al & 0xFFFF_FFFFL, b, false, pred));
                Sse.commit(c);
                c.xmm[2 * dst] = (al & 0xFFFF_FFFF_0000_0000L) | r;
            }
            default -> {
                long b = Sse.load64(c, d);
                long r = compare(c, c.xmm[2 * dst], b, true, pred) ? -1L : 0;
                Sse.commit(c);
                c.xmm[2 * dst] = r;
            }
        }
    }

    private static long mask32(boolean v) {
        return v ? 0xFFFF_FFFFL : 0;
    }

    /**
     * CMPcc predicate {@code pred}: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD. LT, LE, NLT and NLE
     * signal IE on any NaN, the others on SNaNs only (SDM Vol. 2 CMPPS, Table 3-1).
     */
    static boolean compare(Cpu c, long a, long b, boolean dbl, int pred) {
        boolean unordered = SoftFloat.isNaN(a, dbl) || SoftFloat.isNaN(b, dbl);
        if (unordered) {
            boolean signaling = (pred & 3) == 1 || (pred & 3) == 2;
            if (signaling || SoftFloat.isSNaN(a, dbl) || SoftFloat.isSNaN(b, dbl)) {
                c.simdExceptions |= SoftFloat.IE;
            }
        } else {
            a = SoftFloat.input(c, a, dbl, true); // DE only for ordered operands
            b = SoftFloat.input(c, b, dbl, true);
        }
        double x = value(a, dbl);
        double y = value(b, dbl);
        return switch (pred) {
            case 0 -> !unordered && x == y;
            case 1 -> !unordered && x < y;
            case 2 -> !unordered && x <= y;
            case 3 -> unordered;
            case 4 -> unordered || x != y;
            case 5 -> unordered || !(x < y);
            case 6 -> unordered || !(x <= y);
            default -> !unordered;
        };
    }

    /**
     * 0F 2E UCOMISS/UCOMISD, 0F 2F COMISS/COMISD: ZF, PF, CF from the comparison (111 unordered,
     * 000 greater, 001 less, 100 equal), OF, SF, AF cleared. COMIS signals IE on QNaNs too.
     */
    static void comis(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p != Sse.NONE && p != Sse.P66) {
            throw c.undefined(d);
        }
        boolean dbl = p == Sse.P66;
        comis(c, d.opcode == 0x12F, dbl, d.reg, dbl ? Sse.load64(c, d) : Sse.load32(c, d));
    }

    /**
     * COMIS ({@code signaling}) or UCOMIS of XMM{@code n}'s low lane with the fetched source
     * {@code b} (a zero-extended single or a double): ZF, PF, CF as the SDM lists them, OF, SF
     * and AF cleared, written only when no unmasked exception arose.
     */
    static void comis(Cpu c, boolean signaling, boolean dbl, int n, long b) {
        long a = dbl ? c.xmm[2 * n] : c.xmm[2 * n] & 0xFFFF_FFFFL;
        c.simdExceptions = 0;
        int f;
        if (SoftFloat.isNaN(a, dbl) || SoftFloat.isNaN(b, dbl)) {
            if (signaling || SoftFloat.isSNaN(a, dbl) || SoftFloat.isSNaN(b, dbl)) {
                c.simdExceptions |= SoftFloat.IE;
            }
            f = Flags.ZF | Flags.PF | Flags.CF;
        } else {
            double x = value(SoftFloat.input(c, a, dbl, true), dbl);
            double y = value(SoftFloat.input(c, b, dbl, true), dbl);
            f = x == y ? Flags.ZF : x < y ? Flags.CF : 0;
        }
        Sse.commit(c);
        c.flags.setArith(f);
    }

    /** 0F 54 AND, 55 ANDN, 56 OR, 57 XOR PS/PD: bitwise, no exceptions. */
    static void logic(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p != Sse.NONE && p != Sse.P66) {
            throw c.undefined(d);
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        int n = d.reg;
        long al = c.xmm[2 * n];
        long ah = c.xmm[2 * n + 1];
        switch (d.opcode) {
            case 0x154 -> Sse.setXmm(c, n, al & bl, ah & bh);
            case 0x155 -> Sse.setXmm(c, n, ~al & bl, ~ah & bh);
            case 0x156 -> Sse.setXmm(c, n, al | bl, ah | bh);
            default -> Sse.setXmm(c, n, al ^ bl, ah ^ bh);
        }
    }

    /** 0F C6: SHUFPS (two lanes from the destination, two from the source) / SHUFPD. */
    static void shuffle(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p != Sse.NONE && p != Sse.P66) {
            throw c.undefined(d);
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        int n = d.reg;
        long al = c.xmm[2 * n];
        long ah = c.xmm[2 * n + 1];
        int imm = d.imm & 0xFF;
        if (p == Sse.P66) {
            Sse.setXmm(c, n, (imm & 1) == 0 ? al : ah, (imm & 2) == 0 ? bl : bh);
            return;
        }
        long r0 = dword(al, ah, imm & 3);
        long r1 = dword(al, ah, imm >>> 2 & 3);
        long r2 = dword(bl, bh, imm >>> 4 & 3);
        long r3 = dword(bl, bh, imm >>> 6 & 3);
        Sse.setXmm(c, n, r0 | r1 << 32, r2 | r3 << 32);
    }

    /** Dword {@code i} (0-3) of the 128-bit value lo:hi, zero-extended. */
    static long dword(long lo, long hi, int i) {
        long q = i < 2 ? lo : hi;
        return (i & 1) == 0 ? q & 0xFFFF_FFFFL : q >>> 32;
    }

    /** 0F 14 UNPCKLPS/PD, 0F 15 UNPCKHPS/PD: interleave the low or high halves. */
    static void unpack(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p != Sse.NONE && p != Sse.P66) {
            throw c.undefined(d);
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        unpack(c, d.opcode == 0x115, p == Sse.P66, d.reg, bl, bh);
    }

    /** UNPCKL/H PS/PD of XMM{@code n} with the fetched source {@code bl:bh}. */
    static void unpack(Cpu c, boolean high, boolean dbl, int n, long bl, long bh) {
        unpack(c.xmm, high, dbl, n, bl, bh);
    }

    /** The same on the XMM array {@code x} (a region passes it as a constant). */
    static void unpack(long[] x, boolean high, boolean dbl, int n, long bl, long bh) {
        long a = high ? x[2 * n + 1] : x[2 * n];
        long b = high ? bh : bl;
        if (dbl) {
            x[2 * n] = a;
            x[2 * n + 1] = b;
        } else {
            x[2 * n] = (a & 0xFFFF_FFFFL) | b << 32;
            x[2 * n + 1] = a >>> 32 | (b & 0xFFFF_FFFF_0000_0000L);
        }
    }

    /**
     * 0F 52 RSQRTPS/SS, 0F 53 RCPPS/SS. The SDM bounds their relative error by 1.5 * 2^-12 and
     * leaves the bits to the implementation: this computes the correctly rounded single result
     * (within the bound, not bit-equal to any particular CPU's table). Denormal inputs count as
     * zeros and tiny results are flushed, as the hardware does; no exceptions are raised.
     */
    static void reciprocal(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        boolean rsqrt = d.opcode == 0x152;
        int n = d.reg;
        switch (Sse.prefix(d)) {
            case Sse.NONE -> {
                long bl = Sse.loadLo(c, d, true);
                long bh = Sse.loadHi(c, d);
                Sse.setXmm(c, n, approx(bl, rsqrt) | approx(bl >>> 32, rsqrt) << 32,
                        approx(bh, rsqrt) | approx(bh >>> 32, rsqrt) << 32);
            }
            case Sse.PF3 -> {
                long b = Sse.load32(c, d);
                c.xmm[2 * n] = (c.xmm[2 * n] & 0xFFFF_FFFF_0000_0000L) | approx(b, rsqrt);
            }
            default -> throw c.undefined(d);
        }
    }

    private static long approx(long bits, boolean rsqrt) {
        int x = (int) bits;
        boolean neg = x < 0;
        if (SoftFloat.isNaN(x & 0xFFFF_FFFFL, false)) {
            return (x | 0x40_0000) & 0xFFFF_FFFFL;
        }
        if ((x & 0x7F80_0000) == 0) {
            return (neg ? 0xFF80_0000L : 0x7F80_0000L); // zeros and denormals: infinity of the sign
        }
        if (rsqrt && neg) {
            return SoftFloat.indefinite(false);
        }
        double v = Float.intBitsToFloat(x);
        float r = (float) (rsqrt ? 1 / Math.sqrt(v) : 1 / v);
        int bitsOut = Float.floatToRawIntBits(r);
        if ((bitsOut & 0x7F80_0000) == 0) {
            bitsOut &= 0x8000_0000; // a denormal result is flushed to zero
        }
        return bitsOut & 0xFFFF_FFFFL;
    }
}
