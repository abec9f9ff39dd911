package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.lang.invoke.VarHandle;

/**
 * Group 15 (0F AE): FXSAVE/FXRSTOR of the x87, MMX and SSE state in the 512-byte layout of SDM
 * Vol. 2 FXSAVE (Tables 3-53 to 3-56: the legacy form with 32-bit FPU pointers, the REX.W form
 * with 64-bit ones), LDMXCSR/STMXCSR, the fences and CLFLUSH; XSAVE/XRSTOR ({@link XSave}) share
 * the legacy area's parts.
 */
final class FxSave {

    static final int AREA_SIZE = 512;
    private static final int OFF_MXCSR = 24;
    private static final int OFF_MXCSR_MASK = 28;
    private static final int OFF_ST0 = 32;
    private static final int OFF_XMM0 = 160;

    private FxSave() {
    }

    /** 0F AE: dispatches on ModRM.reg and whether the operand is memory. */
    static void group15(Cpu c, DecodedInsn d) {
        int op = d.reg & 7;
        int p = Sse.prefix(d);
        if (d.mod == 3) {
            // LFENCE and SFENCE order nothing that x86's own ordering (kept by the MMU's acquire
            // loads and release stores) leaves unordered; MFENCE also orders earlier stores before
            // later loads, which other vCPUs can observe otherwise (SDM Vol. 3 §9.2.2).
            if (op < 5 || p != Sse.NONE) {
                throw c.undefined(d);
            }
            if (op == 6) {
                VarHandle.fullFence();
            }
            return;
        }
        if (p != Sse.NONE) {
            throw c.undefined(d);
        }
        switch (op) {
            case 0 -> fxsave(c, d);
            case 1 -> fxrstor(c, d);
            case 2 -> ldmxcsr(c, d);
            case 3 -> stmxcsr(c, d);
            case 4 -> XSave.xsave(c, d);
            case 5 -> XSave.xrstor(c, d);
            case 7 -> clflush(c, d);
            default -> throw c.undefined(d); // XSAVEOPT: CPUID does not claim it
        }
    }

    private static void checkFxsr(Cpu c) {
        if ((c.cr0() & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
    }

    private static long area(Cpu c, DecodedInsn d, boolean write) {
        long lin = write ? Sse.writeAddress(c, d, AREA_SIZE) : Sse.address(c, d, AREA_SIZE);
        return Sse.aligned(lin);
    }

    static long at(Cpu c, long base, int offset) {
        return (base + offset) & c.mmu.linearMask;
    }

    /** The abridged tag word: bit i set when physical register i is not empty. */
    static int abridgedTag(int tag) {
        int r = 0;
        for (int i = 0; i < 8; i++) {
            if ((tag >>> (2 * i) & 3) != 3) {
                r |= 1 << i;
            }
        }
        return r;
    }

    /** The full tag of a non-empty register from its contents (SDM Vol. 1 §8.1.7). */
    static int tagOf(long significand, int signExponent) {
        int exp = signExponent & 0x7FFF;
        if (exp == 0x7FFF) {
            return 2;
        }
        if (exp == 0) {
            return significand == 0 ? 1 : 2;
        }
        return significand < 0 ? 0 : 2; // the explicit integer bit clear: unnormal
    }

    static void fxsave(Cpu c, DecodedInsn d) {
        checkFxsr(c);
        long base = area(c, d, true);
        c.mmu.probeWrite(base, AREA_SIZE);
        storeX87(c, base, c.mode64 && Sse.rexW(d));
        storeMxcsr(c, base);
        storeXmm(c, base);
    }

    static void fxrstor(Cpu c, DecodedInsn d) {
        checkFxsr(c);
        long base = area(c, d, false);
        int mxcsr = readMxcsr(c, base);
        // the area spans at most two pages: touch its last bytes too before changing anything,
        // so that a fault leaves the old state
        c.mmu.read64(at(c, base, AREA_SIZE - 8));
        loadX87(c, base, c.mode64 && Sse.rexW(d));
        c.mxcsr = mxcsr;
        loadXmm(c, base);
    }

    // ---- the legacy area's parts, shared with XSAVE/XRSTOR (state components 0 and 1) ----

    /**
     * The x87 part: bytes 0-23 but MXCSR (control, status, abridged tag, FOP, FIP, FDP: 64-bit
     * pointers when {@code wide}) and ST0-ST7 in 16-byte slots at 32-159. The caller has probed
     * the area.
     */
    static void storeX87(Cpu c, long base, boolean wide) {
        X87State f = c.fpu;
        c.mmu.write16(at(c, base, 0), f.control);
        c.mmu.write16(at(c, base, 2), f.status);
        c.mmu.write8(at(c, base, 4), abridgedTag(f.tag));
        c.mmu.write8(at(c, base, 5), 0);
        c.mmu.write16(at(c, base, 6), f.opcode & 0x7FF);
        if (wide) {
            c.mmu.write64(at(c, base, 8), f.instructionPointer);
            c.mmu.write64(at(c, base, 16), f.dataPointer);
        } else {
            // FCS and FDS are not kept by this emulator's x87 state: they are saved as zero
            c.mmu.write64(at(c, base, 8), f.instructionPointer & 0xFFFF_FFFFL);
            c.mmu.write64(at(c, base, 16), f.dataPointer & 0xFFFF_FFFFL);
        }
        int top = f.top();
        for (int i = 0; i < 8; i++) {
            int phys = (top + i) & 7;
            long slot = at(c, base, OFF_ST0 + 16 * i);
            c.mmu.write64(slot, f.significand[phys]);
            c.mmu.write64(at(c, slot, 8), f.signExponent[phys] & 0xFFFF); // and 6 reserved bytes zeroed, as CPUs do
        }
    }

    /** MXCSR and MXCSR_MASK at 24-31. */
    static void storeMxcsr(Cpu c, long base) {
        c.mmu.write32(at(c, base, OFF_MXCSR), c.mxcsr);
        c.mmu.write32(at(c, base, OFF_MXCSR_MASK), Sse.MXCSR_MASK);
    }

    /** XMM0-XMM15 at 160-415 in 64-bit mode; outside it XMM0-XMM7, the rest left unwritten. */
    static void storeXmm(Cpu c, long base) {
        int xmmCount = c.mode64 ? 16 : 8;
        for (int i = 0; i < xmmCount; i++) {
            long slot = at(c, base, OFF_XMM0 + 16 * i);
            c.mmu.write64(slot, c.xmm[2 * i]);
            c.mmu.write64(at(c, slot, 8), c.xmm[2 * i + 1]);
        }
    }

    /** The saved MXCSR; reserved bits set raise #GP(0) before anything is loaded. */
    static int readMxcsr(Cpu c, long base) {
        int mxcsr = c.mmu.read32(at(c, base, OFF_MXCSR));
        if ((mxcsr & ~Sse.MXCSR_MASK) != 0) {
            throw CpuFault.gp(0);
        }
        return mxcsr;
    }

    /**
     * Loads the x87 part written by {@link #storeX87}; the full tag word is rebuilt from the
     * abridged one and the registers' contents. The caller has touched every page of the area,
     * so that no fault can leave the state half loaded.
     */
    static void loadX87(Cpu c, long base, boolean wide) {
        X87State f = c.fpu;
        int control = c.mmu.read16(at(c, base, 0)) & 0xFFFF;
        int status = c.mmu.read16(at(c, base, 2)) & 0xFFFF;
        int abridged = c.mmu.read8(at(c, base, 4)) & 0xFF;
        int opcode = c.mmu.read16(at(c, base, 6)) & 0x7FF;
        long ip = c.mmu.read64(at(c, base, 8));
        long dp = c.mmu.read64(at(c, base, 16));
        long[] sig = f.significand;
        int[] se = f.signExponent;
        int top = (status >>> 11) & 7;
        f.control = control;
        f.status = status;
        f.opcode = opcode;
        f.instructionPointer = wide ? ip : ip & 0xFFFF_FFFFL;
        f.dataPointer = wide ? dp : dp & 0xFFFF_FFFFL;
        for (int i = 0; i < 8; i++) {
            int phys = (top + i) & 7;
            long slot = at(c, base, OFF_ST0 + 16 * i);
            sig[phys] = c.mmu.read64(slot);
            se[phys] = c.mmu.read16(at(c, slot, 8)) & 0xFFFF;
        }
        int tag = 0;
        for (int phys = 0; phys < 8; phys++) {
            int t = (abridged >>> phys & 1) == 0 ? 3 : tagOf(sig[phys], se[phys]);
            tag |= t << (2 * phys);
        }
        f.tag = tag;
    }

    /** Loads the XMM registers {@link #storeXmm} writes (XMM8-15 only in 64-bit mode). */
    static void loadXmm(Cpu c, long base) {
        int xmmCount = c.mode64 ? 16 : 8;
        for (int i = 0; i < xmmCount; i++) {
            long slot = at(c, base, OFF_XMM0 + 16 * i);
            c.xmm[2 * i] = c.mmu.read64(slot);
            c.xmm[2 * i + 1] = c.mmu.read64(at(c, slot, 8));
        }
    }

    /** LDMXCSR m32: reserved bits set raise #GP(0) (SDM Vol. 2 LDMXCSR). */
    static void ldmxcsr(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        int v = c.mmu.read32(Sse.address(c, d, 4));
        if ((v & ~Sse.MXCSR_MASK) != 0) {
            throw CpuFault.gp(0);
        }
        c.mxcsr = v;
    }

    static void stmxcsr(Cpu c, DecodedInsn d) {
        Sse.checkSse(c);
        c.mmu.write32(Sse.writeAddress(c, d, 4), c.mxcsr);
    }

    /** CLFLUSH m8: no cache to flush, but the address must be valid and mapped (#GP, #PF). */
    static void clflush(Cpu c, DecodedInsn d) {
        long lin = Sse.address(c, d, 1);
        c.mmu.translate(lin, Mmu.ACCESS_READ, c.mmu.user);
    }
}
