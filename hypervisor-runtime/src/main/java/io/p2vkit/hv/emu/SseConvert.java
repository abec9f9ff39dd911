package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The SSE/SSE2 conversions (SDM Vol. 1 §11.4.5): between single, double, packed dwords in XMM
 * or MMX registers and 32/64-bit general registers, rounded by MXCSR or truncated (the CVTT
 * forms). Out-of-range and NaN values give the integer indefinite with IE.
 */
final class SseConvert {

    private static final long LOW32 = 0xFFFF_FFFFL;

    private SseConvert() {
    }

    /** 0F 2A: CVTPI2PS, CVTPI2PD (an MMX register source enters MMX mode), CVTSI2SS, CVTSI2SD. */
    static void fromInt(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int n = d.reg;
        c.simdExceptions = 0;
        switch (Sse.prefix(d)) {
            case Sse.NONE, Sse.P66 -> {
                boolean dbl = Sse.prefix(d) == Sse.P66;
                if (d.mod == 3) {
                    Sse.checkMmx(c);
                    Sse.enterMmx(c);
                }
                long v = Sse.mmSrc(c, d);
                long r0 = SoftFloat.fromInt(c, (int) v, dbl);
                long r1 = SoftFloat.fromInt(c, (int) (v >>> 32), dbl);
                Sse.commit(c);
                if (dbl) {
                    Sse.setXmm(c, n, r0, r1);
                } else {
                    c.xmm[2 * n] = r0 | r1 << 32;
                }
            }
            case Sse.PF3 -> {
                boolean wide = Sse.rexW(d);
                long v = Sse.gprSrc(c, d, wide);
                long r = SoftFloat.fromInt(c, wide ? v : (int) v, false);
                Sse.commit(c);
                c.xmm[2 * n] = (c.xmm[2 * n] & ~LOW32) | r;
            }
            default -> {
                boolean wide = Sse.rexW(d);
                long v = Sse.gprSrc(c, d, wide);
                long r = SoftFloat.fromInt(c, wide ? v : (int) v, true);
                Sse.commit(c);
                c.xmm[2 * n] = r;
            }
        }
    }

    /** 0F 2C (truncating) and 2D: CVT(T)PS2PI, CVT(T)PD2PI, CVT(T)SS2SI, CVT(T)SD2SI. */
    static void toInt(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        boolean truncate = d.opcode == 0x12C;
        c.simdExceptions = 0;
        switch (Sse.prefix(d)) {
            case Sse.NONE -> {
                Sse.checkMmx(c);
                long v = Sse.load64(c, d);
                long r0 = SoftFloat.toInt(c, v & LOW32, false, false, truncate);
                long r1 = SoftFloat.toInt(c, v >>> 32, false, false, truncate);
                Sse.commit(c);
                Sse.enterMmx(c);
                Sse.setMm(c, d.reg, r0 | r1 << 32);
            }
            case Sse.P66 -> {
                Sse.checkMmx(c);
                long lo = Sse.loadLo(c, d, true);
                long hi = Sse.loadHi(c, d);
                long r0 = SoftFloat.toInt(c, lo, true, false, truncate);
                long r1 = SoftFloat.toInt(c, hi, true, false, truncate);
                Sse.commit(c);
                Sse.enterMmx(c);
                Sse.setMm(c, d.reg, r0 | r1 << 32);
            }
            case Sse.PF3 -> {
                boolean wide = Sse.rexW(d);
                long r = SoftFloat.toInt(c, Sse.load32(c, d), false, wide, truncate);
                Sse.commit(c);
                Sse.setGpr(c, d.reg, r, wide);
            }
            default -> {
                boolean wide = Sse.rexW(d);
                long r = SoftFloat.toInt(c, Sse.load64(c, d), true, wide, truncate);
                Sse.commit(c);
                Sse.setGpr(c, d.reg, r, wide);
            }
        }
    }

    /** 0F 5A: CVTPS2PD, CVTPD2PS (upper half zeroed), CVTSS2SD, CVTSD2SS. */
    static void precision(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int n = d.reg;
        c.simdExceptions = 0;
        switch (Sse.prefix(d)) {
            case Sse.NONE -> {
                long v = Sse.load64(c, d);
                long r0 = SoftFloat.widen(c, v & LOW32);
                long r1 = SoftFloat.widen(c, v >>> 32);
                Sse.commit(c);
                Sse.setXmm(c, n, r0, r1);
            }
            case Sse.P66 -> {
                long lo = Sse.loadLo(c, d, true);
                long hi = Sse.loadHi(c, d);
                long r0 = SoftFloat.narrow(c, lo);
                long r1 = SoftFloat.narrow(c, hi);
                Sse.commit(c);
                Sse.setXmm(c, n, r0 | r1 << 32, 0);
            }
            case Sse.PF3 -> {
                long r = SoftFloat.widen(c, Sse.load32(c, d));
                Sse.commit(c);
                c.xmm[2 * n] = r;
            }
            default -> {
                long r = SoftFloat.narrow(c, Sse.load64(c, d));
                Sse.commit(c);
                c.xmm[2 * n] = (c.xmm[2 * n] & ~LOW32) | r;
            }
        }
    }

    /** 0F 5B: CVTDQ2PS, CVTPS2DQ (66), CVTTPS2DQ (F3). */
    static void dwordSingle(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p == Sse.PF2) {
            throw c.undefined(d);
        }
        long lo = Sse.loadLo(c, d, true);
        long hi = Sse.loadHi(c, d);
        c.simdExceptions = 0;
        long r0;
        long r1;
        long r2;
        long r3;
        if (p == Sse.NONE) {
            r0 = SoftFloat.fromInt(c, (int) lo, false);
            r1 = SoftFloat.fromInt(c, (int) (lo >>> 32), false);
            r2 = SoftFloat.fromInt(c, (int) hi, false);
            r3 = SoftFloat.fromInt(c, (int) (hi >>> 32), false);
        } else {
            boolean truncate = p == Sse.PF3;
            r0 = SoftFloat.toInt(c, lo & LOW32, false, false, truncate);
            r1 = SoftFloat.toInt(c, lo >>> 32, false, false, truncate);
            r2 = SoftFloat.toInt(c, hi & LOW32, false, false, truncate);
            r3 = SoftFloat.toInt(c, hi >>> 32, false, false, truncate);
        }
        Sse.commit(c);
        Sse.setXmm(c, d.reg, r0 | r1 << 32, r2 | r3 << 32);
    }

    /** 0F E6: CVTTPD2DQ (66), CVTDQ2PD (F3), CVTPD2DQ (F2); the PD-to-DQ forms zero the upper half. */
    static void dwordDouble(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        c.simdExceptions = 0;
        switch (p) {
            case Sse.PF3 -> {
                long v = Sse.load64(c, d);
                long r0 = SoftFloat.fromInt(c, (int) v, true);
                long r1 = SoftFloat.fromInt(c, (int) (v >>> 32), true);
                Sse.commit(c);
                Sse.setXmm(c, d.reg, r0, r1);
            }
            case Sse.P66, Sse.PF2 -> {
                long lo = Sse.loadLo(c, d, true);
                long hi = Sse.loadHi(c, d);
                boolean truncate = p == Sse.P66;
                long r0 = SoftFloat.toInt(c, lo, true, false, truncate);
                long r1 = SoftFloat.toInt(c, hi, true, false, truncate);
                Sse.commit(c);
                Sse.setXmm(c, d.reg, r0 | r1 << 32, 0);
            }
            default -> throw c.undefined(d);
        }
    }
}
