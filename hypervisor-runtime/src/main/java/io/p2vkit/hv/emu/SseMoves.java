package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * SSE/SSE2 data movement (SDM Vol. 1 §10.4.1, §11.4.1, §11.4.4): full-register moves aligned
 * and unaligned, scalar moves, half-register moves, MOVD/MOVQ between XMM, MMX and general
 * registers, the sign-mask extractions, non-temporal stores (ordinary stores here: there is no
 * cache to bypass) and the masked stores.
 */
final class SseMoves {

    private static final long LOW32 = 0xFFFF_FFFFL;

    private SseMoves() {
    }

    /** 0F 10 MOVUPS/MOVUPD/MOVSS/MOVSD load, 0F 11 the same as stores. */
    static void movUnaligned(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        boolean store = d.opcode == 0x111;
        int p = Sse.prefix(d);
        int x = d.reg;
        if (p == Sse.NONE || p == Sse.P66) {
            moveFull(c, d, store, false);
            return;
        }
        boolean dbl = p == Sse.PF2;
        if (d.mod == 3) {
            int from = store ? x : d.rm;
            int to = store ? d.rm : x;
            long v = c.xmm[2 * from];
            c.xmm[2 * to] = dbl ? v : (c.xmm[2 * to] & ~LOW32) | (v & LOW32);
        } else if (store) {
            long lin = Sse.writeAddress(c, d, dbl ? 8 : 4);
            if (dbl) {
                c.mmu.write64(lin, c.xmm[2 * x]);
            } else {
                c.mmu.write32(lin, (int) c.xmm[2 * x]);
            }
        } else {
            long v = dbl ? Sse.load64(c, d) : Sse.load32(c, d);
            Sse.setXmm(c, x, v, 0); // a load from memory zeroes the rest
        }
    }

    /**
     * 0F 28/29 MOVAPS/MOVAPD, 0F 6F/7F MOVDQA (66) and MOVDQU (F3), 0F 2B/E7 MOVNTPS/PD/DQ;
     * 0F 6F/7F/E7 without a prefix are the MMX moves.
     */
    static void movAligned(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        int op = d.opcode;
        if ((op == 0x16F || op == 0x17F || op == 0x1E7) && p == Sse.NONE) {
            movqMmx(c, d);
            return;
        }
        Sse.checkSse(c);
        boolean store = op == 0x129 || op == 0x17F || op == 0x12B || op == 0x1E7;
        if (op == 0x12B || op == 0x1E7) {
            if (d.mod == 3 || (op == 0x12B ? p > Sse.P66 : p != Sse.P66)) {
                throw c.undefined(d);
            }
        } else if (op == 0x128 || op == 0x129) {
            if (p > Sse.P66) {
                throw c.undefined(d);
            }
        } else if (p == Sse.NONE || p == Sse.PF2) {
            throw c.undefined(d);
        }
        boolean unaligned = (op == 0x16F || op == 0x17F) && p == Sse.PF3;
        moveFull(c, d, store, !unaligned);
    }

    private static void moveFull(Cpu c, DecodedInsn d, boolean store, boolean aligned) {
        int x = d.reg;
        if (d.mod == 3) {
            int from = store ? x : d.rm;
            int to = store ? d.rm : x;
            Sse.setXmm(c, to, c.xmm[2 * from], c.xmm[2 * from + 1]);
        } else if (store) {
            long lin = Sse.writeAddress(c, d, 16);
            if (aligned) {
                Sse.aligned(lin);
            }
            Sse.write128(c, lin, c.xmm[2 * x], c.xmm[2 * x + 1]);
        } else {
            long lo = Sse.loadLo(c, d, aligned);
            long hi = Sse.loadHi(c, d);
            Sse.setXmm(c, x, lo, hi);
        }
    }

    /**
     * 0F 12/13 MOVLPS/MOVLPD (and 0F 12 reg MOVHLPS), 0F 16/17 MOVHPS/MOVHPD (and 0F 16 reg
     * MOVLHPS): one 64-bit half. The store forms and the 66 forms exist for memory only.
     */
    static void movHalf(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        int op = d.opcode;
        boolean store = op == 0x113 || op == 0x117;
        if (p > Sse.P66 || ((store || p == Sse.P66) && d.mod == 3)) {
            throw c.undefined(d);
        }
        int half = op == 0x112 || op == 0x113 ? 0 : 1;
        int x = d.reg;
        if (d.mod == 3) { // MOVHLPS / MOVLHPS
            c.xmm[2 * x + half] = c.xmm[2 * d.rm + (1 - half)];
        } else if (store) {
            c.mmu.write64(Sse.writeAddress(c, d, 8), c.xmm[2 * x + half]);
        } else {
            c.xmm[2 * x + half] = c.mmu.read64(Sse.address(c, d, 8));
        }
    }

    /** 0F 50: MOVMSKPS/MOVMSKPD r32, xmm: the sign bits. */
    static void moveMask(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int p = Sse.prefix(d);
        if (p > Sse.P66 || d.mod != 3) {
            throw c.undefined(d);
        }
        long lo = c.xmm[2 * d.rm];
        long hi = c.xmm[2 * d.rm + 1];
        long m = p == Sse.P66 ? (lo >>> 63) | (hi >>> 63) << 1
                : (lo >>> 31 & 1) | (lo >>> 63) << 1 | (hi >>> 31 & 1) << 2 | (hi >>> 63) << 3;
        c.r[d.reg] = m;
    }

    /** 0F 6E: MOVD/MOVQ mm or xmm (66), r/m32 or r/m64 (REX.W). */
    static void movdLoad(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        boolean wide = Sse.rexW(d);
        if (p == Sse.P66) {
            Sse.checkSse(c);
            Sse.setXmm(c, d.reg, Sse.gprSrc(c, d, wide), 0);
        } else if (p == Sse.NONE) {
            Sse.checkMmx(c);
            long v = Sse.gprSrc(c, d, wide);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, v);
        } else {
            throw c.undefined(d);
        }
    }

    /** 0F 7E: MOVD/MOVQ r/m32 or r/m64, mm or xmm (66); F3: MOVQ xmm, xmm/m64 (upper zeroed). */
    static void movdStore(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        if (p == Sse.PF3) {
            Sse.checkSse(c);
            Sse.setXmm(c, d.reg, Sse.load64(c, d), 0);
            return;
        }
        long v;
        if (p == Sse.P66) {
            Sse.checkSse(c);
            v = c.xmm[2 * d.reg];
        } else if (p == Sse.NONE) {
            Sse.checkMmx(c);
            Sse.enterMmx(c);
            v = Sse.mm(c, d.reg);
        } else {
            throw c.undefined(d);
        }
        boolean wide = Sse.rexW(d);
        if (d.mod == 3) {
            Sse.setGpr(c, d.rm, v, wide);
        } else if (wide) {
            c.mmu.write64(Sse.writeAddress(c, d, 8), v);
        } else {
            c.mmu.write32(Sse.writeAddress(c, d, 4), (int) v);
        }
    }

    /** 0F 6F (no prefix): MOVQ mm, mm/m64; 0F 7F: MOVQ mm/m64, mm; 0F E7: MOVNTQ m64, mm. */
    static void movqMmx(Cpu c, DecodedInsn d) {
        int op = d.opcode;
        if (op == 0x1E7 && d.mod == 3) {
            throw c.undefined(d);
        }
        Sse.checkMmx(c);
        if (op == 0x16F) {
            long v = Sse.mmSrc(c, d);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, v);
            return;
        }
        long v = Sse.mm(c, d.reg);
        if (d.mod == 3) {
            Sse.enterMmx(c);
            Sse.setMm(c, d.rm, v);
        } else {
            c.mmu.write64(Sse.writeAddress(c, d, 8), v);
            Sse.enterMmx(c);
        }
    }

    /** 0F D6: MOVQ xmm/m64, xmm (66); MOVQ2DQ xmm, mm (F3); MOVDQ2Q mm, xmm (F2). */
    static void movqD6(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        if (p == Sse.P66) {
            Sse.checkSse(c);
            long v = c.xmm[2 * d.reg];
            if (d.mod == 3) {
                Sse.setXmm(c, d.rm, v, 0);
            } else {
                c.mmu.write64(Sse.writeAddress(c, d, 8), v);
            }
            return;
        }
        if (p == Sse.NONE || d.mod != 3) {
            throw c.undefined(d);
        }
        Sse.checkSse(c);
        Sse.checkMmx(c);
        Sse.enterMmx(c);
        if (p == Sse.PF3) {
            Sse.setXmm(c, d.reg, Sse.mm(c, d.rm), 0);
        } else {
            Sse.setMm(c, d.reg, c.xmm[2 * d.rm]);
        }
    }

    /** 0F D7: PMOVMSKB r32, mm or xmm (66): the sign bit of every byte. */
    static void pmovmskb(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        if (d.mod != 3 || p > Sse.P66) {
            throw c.undefined(d);
        }
        if (p == Sse.P66) {
            Sse.checkSse(c);
            c.r[d.reg] = byteSigns(c.xmm[2 * d.rm]) | byteSigns(c.xmm[2 * d.rm + 1]) << 8;
        } else {
            Sse.checkMmx(c);
            Sse.enterMmx(c);
            c.r[d.reg] = byteSigns(Sse.mm(c, d.rm));
        }
    }

    /** The sign bits of the eight bytes of {@code v}, gathered into bits 0-7 by one multiply. */
    static long byteSigns(long v) {
        return ((v & 0x8080_8080_8080_8080L) * 0x0002_0408_1020_4081L) >>> 56;
    }

    /** 0F C3: MOVNTI m32/m64, r32/r64 (an SSE2 store of a general register: no SIMD state). */
    static void movnti(Cpu c, DecodedInsn d) {
        if (d.mod == 3 || Sse.prefix(d) != Sse.NONE) {
            throw c.undefined(d);
        }
        boolean wide = Sse.rexW(d);
        long lin = Sse.writeAddress(c, d, wide ? 8 : 4);
        if (wide) {
            c.mmu.write64(lin, c.r[d.reg]);
        } else {
            c.mmu.write32(lin, (int) c.r[d.reg]);
        }
    }

    /**
     * 0F F7: MASKMOVQ mm, mm / MASKMOVDQU xmm, xmm (66): stores the bytes of the first operand
     * whose mask byte (second operand) has its top bit set, at DS:rDI (segment override allowed).
     */
    static void maskedStore(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        if (d.mod != 3 || p > Sse.P66) {
            throw c.undefined(d);
        }
        long dataLo;
        long dataHi = 0;
        long maskLo;
        long maskHi = 0;
        int size;
        if (p == Sse.P66) {
            Sse.checkSse(c);
            dataLo = c.xmm[2 * d.reg];
            dataHi = c.xmm[2 * d.reg + 1];
            maskLo = c.xmm[2 * d.rm];
            maskHi = c.xmm[2 * d.rm + 1];
            size = 16;
        } else {
            Sse.checkMmx(c);
            Sse.enterMmx(c);
            dataLo = Sse.mm(c, d.reg);
            maskLo = Sse.mm(c, d.rm);
            size = 8;
        }
        int seg = (d.prefixes & DecodedInsn.PREFIX_SEG) != 0 ? d.seg : Cpu.DS;
        long base;
        if (c.mode64) {
            long off = d.addr64() ? c.r[Cpu.EDI] : c.r[Cpu.EDI] & LOW32;
            base = Exec64.linear(c, seg, off);
        } else {
            int off = d.addr32() ? (int) c.r[Cpu.EDI] : (int) c.r[Cpu.EDI] & 0xFFFF;
            base = c.linearWrite(seg, off, size) & LOW32;
        }
        c.mmu.probeWrite(base, size); // no partial store: every byte's page is checked first
        for (int i = 0; i < size; i++) {
            long data = i < 8 ? dataLo : dataHi;
            long mask = i < 8 ? maskLo : maskHi;
            int shift = 8 * (i & 7);
            if ((mask >>> shift & 0x80) != 0) {
                c.mmu.write8((base + i) & c.mmu.linearMask, (int) (data >>> shift));
            }
        }
    }
}
