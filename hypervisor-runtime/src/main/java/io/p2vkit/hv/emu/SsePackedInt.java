package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Packed-integer instructions on MMX registers (no prefix) and XMM registers (66): arithmetic,
 * compares and logic ({@link PackedLanes}), packs, unpacks, shuffles, shifts, PINSRW/PEXTRW and
 * EMMS. An XMM operand in memory is 16 bytes, aligned; an MMX one is 8 bytes.
 */
final class SsePackedInt {

    private SsePackedInt() {
    }

    /** Whether the instruction is the MMX form (no prefix) or the XMM form (66); #UD for F2/F3. */
    private static boolean mmx(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        if (p == Sse.NONE) {
            Sse.checkMmx(c);
            return true;
        }
        if (p != Sse.P66) {
            throw c.undefined(d);
        }
        Sse.checkSse(c);
        return false;
    }

    /** The chunk-local binary operations: PADD*, PSUB*, PMUL*, PCMP*, PAND/PANDN/POR/PXOR... */
    static void binary(Cpu c, DecodedInsn d) {
        int op = d.opcode & 0xFF;
        if (mmx(c, d)) {
            long b = Sse.mmSrc(c, d);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, PackedLanes.apply(op, Sse.mm(c, d.reg), b));
            return;
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        int n = d.reg;
        Sse.setXmm(c, n, PackedLanes.apply(op, c.xmm[2 * n], bl), PackedLanes.apply(op, c.xmm[2 * n + 1], bh));
    }

    /** 0F 63 PACKSSWB, 67 PACKUSWB, 6B PACKSSDW: the destination's lanes first, then the source's. */
    static void pack(Cpu c, DecodedInsn d) {
        int op = d.opcode & 0xFF;
        if (mmx(c, d)) {
            long b = Sse.mmSrc(c, d);
            Sse.enterMmx(c);
            long a = Sse.mm(c, d.reg);
            Sse.setMm(c, d.reg, PackedLanes.pack(op, a) | PackedLanes.pack(op, b) << 32);
            return;
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        int n = d.reg;
        long al = c.xmm[2 * n];
        long ah = c.xmm[2 * n + 1];
        Sse.setXmm(c, n, PackedLanes.pack(op, al) | PackedLanes.pack(op, ah) << 32,
                PackedLanes.pack(op, bl) | PackedLanes.pack(op, bh) << 32);
    }

    /** 0F 60-62 PUNPCKL BW/WD/DQ, 68-6A PUNPCKH BW/WD/DQ, 6C/6D PUNPCKL/HQDQ (66 only). */
    static void unpack(Cpu c, DecodedInsn d) {
        int op = d.opcode & 0xFF;
        boolean qdq = op == 0x6C || op == 0x6D;
        if (qdq && Sse.prefix(d) != Sse.P66) {
            throw c.undefined(d);
        }
        boolean high = op >= 0x68 && op != 0x6C;
        int w = qdq ? 64 : 8 << (op & 3);
        int n = d.reg;
        if (mmx(c, d)) {
            // the low-half forms read only 32 bits of a memory source
            long b = d.mod == 3 || high ? Sse.mmSrc(c, d) : Sse.read32(c, Sse.address(c, d, 4));
            Sse.enterMmx(c);
            long a = Sse.mm(c, n);
            Sse.setMm(c, n, high ? PackedLanes.interleave(a >>> 32, b >>> 32, w) : PackedLanes.interleave(a, b, w));
            return;
        }
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        long a = high ? c.xmm[2 * n + 1] : c.xmm[2 * n];
        long b = high ? bh : bl;
        if (qdq) {
            Sse.setXmm(c, n, a, b);
        } else {
            Sse.setXmm(c, n, PackedLanes.interleave(a, b, w), PackedLanes.interleave(a >>> 32, b >>> 32, w));
        }
    }

    /** 0F 70: PSHUFW mm (none), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2), imm8 order. */
    static void shuffle(Cpu c, DecodedInsn d) {
        int p = Sse.prefix(d);
        int imm = d.imm & 0xFF;
        if (p == Sse.NONE) {
            Sse.checkMmx(c);
            long b = Sse.mmSrc(c, d);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, shuffleWords(b, imm));
            return;
        }
        Sse.checkSse(c);
        long bl = Sse.loadLo(c, d, true);
        long bh = Sse.loadHi(c, d);
        int n = d.reg;
        switch (p) {
            case Sse.P66 -> Sse.setXmm(c, n,
                    SseFloat.dword(bl, bh, imm & 3) | SseFloat.dword(bl, bh, imm >>> 2 & 3) << 32,
                    SseFloat.dword(bl, bh, imm >>> 4 & 3) | SseFloat.dword(bl, bh, imm >>> 6 & 3) << 32);
            case Sse.PF3 -> Sse.setXmm(c, n, bl, shuffleWords(bh, imm));
            default -> Sse.setXmm(c, n, shuffleWords(bl, imm), bh);
        }
    }

    private static long shuffleWords(long v, int imm) {
        long r = 0;
        for (int i = 0; i < 4; i++) {
            r |= (v >>> (16 * (imm >>> (2 * i) & 3)) & 0xFFFF) << (16 * i);
        }
        return r;
    }

    /**
     * Shifts by a register or memory count: 0F D1-D3 PSRLW/D/Q, E1-E2 PSRAW/D, F1-F3 PSLLW/D/Q.
     * The count is the source's low 64 bits.
     */
    static void shiftByReg(Cpu c, DecodedInsn d) {
        int op = d.opcode & 0xFF;
        int kind = op < 0xE0 ? PackedLanes.SHIFT_RIGHT : op < 0xF0 ? PackedLanes.SHIFT_ARITH : PackedLanes.SHIFT_LEFT;
        int w = 8 << (op & 3);
        if (mmx(c, d)) {
            long count = Sse.mmSrc(c, d);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, PackedLanes.shift(Sse.mm(c, d.reg), count, w, kind));
            return;
        }
        long count = Sse.loadLo(c, d, true);
        Sse.loadHi(c, d);
        int n = d.reg;
        Sse.setXmm(c, n, PackedLanes.shift(c.xmm[2 * n], count, w, kind),
                PackedLanes.shift(c.xmm[2 * n + 1], count, w, kind));
    }

    /**
     * Shift groups 12-14, 0F 71/72/73 with an immediate count on the rm register: /2 PSRL, /4
     * PSRA (words, dwords), /6 PSLL, and for 66 0F 73 /3 PSRLDQ and /7 PSLLDQ (bytes).
     */
    static void shiftByImm(Cpu c, DecodedInsn d) {
        int op = d.opcode & 0xFF;
        int kind = d.reg & 7;
        int w = op == 0x71 ? 16 : op == 0x72 ? 32 : 64;
        boolean byteShift = op == 0x73 && (kind == 3 || kind == 7);
        boolean valid = d.mod == 3 && (kind == 2 || kind == 6 || (kind == 4 && w != 64) || byteShift);
        if (!valid) {
            throw c.undefined(d);
        }
        long count = d.imm & 0xFF;
        if (mmx(c, d)) {
            if (byteShift) {
                throw c.undefined(d);
            }
            Sse.enterMmx(c);
            Sse.setMm(c, d.rm, PackedLanes.shift(Sse.mm(c, d.rm), count, w, kind));
            return;
        }
        int n = d.rm;
        long lo = c.xmm[2 * n];
        long hi = c.xmm[2 * n + 1];
        if (byteShift) {
            int bits = (int) Math.min(count, 16) * 8;
            if (kind == 3) {
                Sse.setXmm(c, n, shr128Lo(lo, hi, bits), shr128Hi(hi, bits));
            } else {
                Sse.setXmm(c, n, shl128Lo(lo, bits), shl128Hi(lo, hi, bits));
            }
            return;
        }
        Sse.setXmm(c, n, PackedLanes.shift(lo, count, w, kind), PackedLanes.shift(hi, count, w, kind));
    }

    private static long shr128Lo(long lo, long hi, int bits) {
        if (bits >= 128) {
            return 0;
        }
        if (bits >= 64) {
            return hi >>> (bits - 64);
        }
        return bits == 0 ? lo : lo >>> bits | hi << (64 - bits);
    }

    private static long shr128Hi(long hi, int bits) {
        return bits >= 64 ? 0 : hi >>> bits;
    }

    private static long shl128Lo(long lo, int bits) {
        return bits >= 64 ? 0 : lo << bits;
    }

    private static long shl128Hi(long lo, long hi, int bits) {
        if (bits >= 128) {
            return 0;
        }
        if (bits >= 64) {
            return lo << (bits - 64);
        }
        return bits == 0 ? hi : hi << bits | lo >>> (64 - bits);
    }

    /** 0F C4: PINSRW mm/xmm, r32/m16, imm8. */
    static void pinsrw(Cpu c, DecodedInsn d) {
        boolean mmx = mmx(c, d);
        long v = d.mod == 3 ? c.r[d.rm] & 0xFFFF : c.mmu.read16(Sse.address(c, d, 2)) & 0xFFFF;
        int imm = d.imm & 0xFF;
        if (mmx) {
            int shift = 16 * (imm & 3);
            Sse.enterMmx(c);
            Sse.setMm(c, d.reg, (Sse.mm(c, d.reg) & ~(0xFFFFL << shift)) | v << shift);
            return;
        }
        int i = 2 * d.reg + (imm >>> 2 & 1);
        int shift = 16 * (imm & 3);
        c.xmm[i] = (c.xmm[i] & ~(0xFFFFL << shift)) | v << shift;
    }

    /** 0F C5: PEXTRW r32, mm/xmm, imm8 (zero-extended into the whole register). */
    static void pextrw(Cpu c, DecodedInsn d) {
        if (d.mod != 3) {
            throw c.undefined(d);
        }
        boolean mmx = mmx(c, d);
        int imm = d.imm & 0xFF;
        long v;
        if (mmx) {
            Sse.enterMmx(c);
            v = Sse.mm(c, d.rm) >>> (16 * (imm & 3));
        } else {
            v = c.xmm[2 * d.rm + (imm >>> 2 & 1)] >>> (16 * (imm & 3));
        }
        c.r[d.reg] = v & 0xFFFF;
    }

    /** 0F 77: EMMS empties the x87 tag word. */
    static void emms(Cpu c, DecodedInsn d) {
        if (Sse.prefix(d) != Sse.NONE) {
            throw c.undefined(d);
        }
        Sse.checkMmx(c);
        c.fpu.tag = 0xFFFF;
    }
}
