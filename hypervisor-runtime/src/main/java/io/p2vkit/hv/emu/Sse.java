package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * What every SSE, SSE2 and MMX handler shares: the mandatory prefix that selects the instruction
 * (none, 66, F3, F2), the fault rules of SDM Vol. 3 §13.1 (CR0.EM, CR4.OSFXSR, CR0.TS), the
 * XMM, MMX and memory operand accessors, and the MXCSR exception commit (#XM or #UD).
 */
final class Sse {

    static final int CR4_OSFXSR = 1 << 9;
    static final int CR4_OSXMMEXCPT = 1 << 10;

    /** Mandatory prefixes: PS/MMX, PD/XMM integer, SS, SD. */
    static final int NONE = 0;
    static final int P66 = 1;
    static final int PF3 = 2;
    static final int PF2 = 3;

    /** MXCSR fields (SDM Vol. 1 §10.2.3). */
    static final int MXCSR_FLAGS = 0x3F;
    static final int MXCSR_DAZ = 1 << 6;
    static final int MXCSR_FTZ = 1 << 15;
    /** The writable MXCSR bits, also FXSAVE's MXCSR_MASK: everything else is reserved (#GP). */
    static final int MXCSR_MASK = 0xFFFF;

    private Sse() {
    }

    /** F3 and F2 select the instruction before 66 does; the decoder keeps only the last of F2/F3. */
    static int prefix(DecodedInsn d) {
        int p = d.prefixes;
        if ((p & DecodedInsn.PREFIX_REP) != 0) {
            return PF3;
        }
        if ((p & DecodedInsn.PREFIX_REPNE) != 0) {
            return PF2;
        }
        return (p & DecodedInsn.PREFIX_OPSIZE) != 0 ? P66 : NONE;
    }

    static boolean rexW(DecodedInsn d) {
        return (d.rex & 8) != 0;
    }

    // ---- fault rules ----

    /** An SSE/SSE2 instruction: #UD with CR0.EM or without CR4.OSFXSR, then #NM with CR0.TS. */
    static void checkSse(Cpu c) {
        int cr0 = c.cr0();
        if ((cr0 & Cpu.CR0_EM) != 0 || (c.mmu.cr4 & CR4_OSFXSR) == 0) {
            throw CpuFault.ud();
        }
        if ((cr0 & Cpu.CR0_TS) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
    }

    /** Whether an SSE/SSE2 instruction passes {@link #checkSse}: no CR0.EM or CR0.TS, CR4.OSFXSR set. */
    static boolean usable(Cpu c) {
        return (c.cr0() & (Cpu.CR0_EM | Cpu.CR0_TS)) == 0 && (c.mmu.cr4 & CR4_OSFXSR) != 0;
    }

    /** An MMX instruction: #UD with CR0.EM, #NM with CR0.TS, #MF with an x87 exception pending. */
    static void checkMmx(Cpu c) {
        int cr0 = c.cr0();
        if ((cr0 & Cpu.CR0_EM) != 0) {
            throw CpuFault.ud();
        }
        if ((cr0 & Cpu.CR0_TS) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
        if ((c.fpu.status & 0x80) != 0) {
            throw CpuFault.of(CpuFault.MF);
        }
    }

    /** IE, DE, ZE: detected on the operands before computing (SDM Vol. 1 §11.5.3). */
    private static final int PRE_COMPUTATION = SoftFloat.IE | SoftFloat.DE | SoftFloat.ZE;

    /**
     * Ends a floating-point instruction: the exceptions it raised (all lanes ORed) join MXCSR's
     * sticky flags; an unmasked one is #XM with CR4.OSXMMEXCPT, else #UD (SDM Vol. 3 §13.1.5),
     * and the caller then leaves its destination unwritten. Pre-computation exceptions come
     * first: when one of them is unmasked, the computation never happened, so OE, UE and PE are
     * not reported (SDM Vol. 1 §11.5.3.2). Starts the next instruction's collection afresh.
     */
    static void commit(Cpu c) {
        int raised = c.simdExceptions;
        c.simdExceptions = 0;
        if (raised == 0) {
            return;
        }
        int unmasked = ~(c.mxcsr >>> 7) & MXCSR_FLAGS;
        if ((raised & PRE_COMPUTATION & unmasked) != 0) {
            c.mxcsr |= raised & PRE_COMPUTATION;
            throw simdFault(c);
        }
        c.mxcsr |= raised;
        if ((raised & unmasked) != 0) {
            throw simdFault(c);
        }
    }

    private static CpuFault simdFault(Cpu c) {
        return (c.mmu.cr4 & CR4_OSXMMEXCPT) != 0 ? CpuFault.of(CpuFault.XM) : CpuFault.ud();
    }

    // ---- memory ----

    /** The linear address of the ModRM memory operand of {@code size} bytes (read access). */
    static long address(Cpu c, DecodedInsn d, int size) {
        if (c.mode64) {
            return Exec64.rmLinear(c, d);
        }
        return c.rmLinear(d, size) & 0xFFFF_FFFFL;
    }

    /** The linear address of a memory destination: read-only segments refused first. */
    static long writeAddress(Cpu c, DecodedInsn d, int size) {
        if (c.mode64) {
            return Exec64.rmLinear(c, d);
        }
        return c.rmLinearWrite(d, size) & 0xFFFF_FFFFL;
    }

    /** 16-byte operands of the legacy SSE encodings must be aligned: #GP(0) (SDM Vol. 1 §11.6.7). */
    static long aligned(long lin) {
        if ((lin & 15) != 0) {
            throw CpuFault.gp(0);
        }
        return lin;
    }

    static long read32(Cpu c, long lin) {
        return c.mmu.read32(lin) & 0xFFFF_FFFFL;
    }

    /**
     * Writes 16 bytes; both halves are checked writable before either is written. Inside one
     * page the first half's write is that check (both halves share its translation and rights);
     * only a store crossing a page end probes both pages first, a page walk each.
     */
    static void write128(Cpu c, long lin, long lo, long hi) {
        if ((lin & 0xFFF) > 0xFF0) {
            c.mmu.probeWrite(lin, 16);
        }
        c.mmu.write64(lin, lo);
        c.mmu.write64((lin + 8) & c.mmu.linearMask, hi);
    }

    // ---- XMM operands ----

    /** The low half of an xmm/m128 source (ModRM rm); memory is read aligned when asked. */
    static long loadLo(Cpu c, DecodedInsn d, boolean alignedOperand) {
        if (d.mod == 3) {
            return c.xmm[2 * d.rm];
        }
        long lin = address(c, d, 16);
        if (alignedOperand) {
            aligned(lin);
        }
        return c.mmu.read64(lin);
    }

    /** The high half of an xmm/m128 source; call after {@link #loadLo} (the address is checked). */
    static long loadHi(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            return c.xmm[2 * d.rm + 1];
        }
        return c.mmu.read64((address(c, d, 16) + 8) & c.mmu.linearMask);
    }

    /** A 64-bit source: the low half of an XMM register or 8 bytes of memory (no alignment). */
    static long load64(Cpu c, DecodedInsn d) {
        return d.mod == 3 ? c.xmm[2 * d.rm] : c.mmu.read64(address(c, d, 8));
    }

    /** A 32-bit source: the low dword of an XMM register or 4 bytes of memory. */
    static long load32(Cpu c, DecodedInsn d) {
        return d.mod == 3 ? c.xmm[2 * d.rm] & 0xFFFF_FFFFL : read32(c, address(c, d, 4));
    }

    static void setXmm(Cpu c, int n, long lo, long hi) {
        c.xmm[2 * n] = lo;
        c.xmm[2 * n + 1] = hi;
    }

    // ---- MMX operands (MMn aliases the significand of x87 register Rn; REX never extends it) ----

    /** Any MMX instruction sets TOP to 0 and tags every register valid (SDM Vol. 1 §9.5.1). */
    static void enterMmx(Cpu c) {
        c.fpu.status &= ~0x3800;
        c.fpu.tag = 0;
    }

    static long mm(Cpu c, int n) {
        return c.fpu.significand[n & 7];
    }

    /** Writing MMn sets the exponent field of Rn to all ones (SDM Vol. 1 §9.5.1). */
    static void setMm(Cpu c, int n, long v) {
        c.fpu.significand[n & 7] = v;
        c.fpu.signExponent[n & 7] = 0xFFFF;
    }

    /** An mm/m64 source (ModRM rm). */
    static long mmSrc(Cpu c, DecodedInsn d) {
        return d.mod == 3 ? mm(c, d.rm) : c.mmu.read64(address(c, d, 8));
    }

    // ---- general registers ----

    /** r/m32 or, with REX.W, r/m64 as a source. */
    static long gprSrc(Cpu c, DecodedInsn d, boolean wide) {
        if (d.mod == 3) {
            return wide ? c.r[d.rm] : c.r[d.rm] & 0xFFFF_FFFFL;
        }
        long lin = address(c, d, wide ? 8 : 4);
        return wide ? c.mmu.read64(lin) : read32(c, lin);
    }

    /** Writes a 32-bit (zero-extending) or 64-bit general register. */
    static void setGpr(Cpu c, int n, long v, boolean wide) {
        c.r[n] = wide ? v : v & 0xFFFF_FFFFL;
    }
}
