package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The XSAVE feature set for the two state components this CPU has, x87 (0) and SSE (1): XCR0
 * with XGETBV/XSETBV, and XSAVE/XRSTOR in the standard format (SDM Vol. 1 ch. 13), whose
 * 512-byte legacy region is FXSAVE's layout ({@link FxSave}) followed by the 64-byte header.
 * XSAVEOPT, XSAVEC, XSAVES and XGETBV with ECX = 1 are not claimed (CPUID leaf 0xD sub-leaf 1
 * is zero) and stay #UD / #GP. The processor does not track the init optimization: XINUSE is all
 * ones, so XSAVE reports every requested component as in use (SDM Vol. 1 §13.6 allows this).
 */
final class XSave {

    static final long X87 = 1;
    static final long SSE = 2;
    /** The XCR0 bits this CPU supports (CPUID.(EAX=0DH,ECX=0):EDX:EAX). */
    static final long SUPPORTED = X87 | SSE;
    /** The legacy region and the header; the standard format has no extended region here. */
    static final int AREA_SIZE = FxSave.AREA_SIZE + 64;
    private static final int OFF_XSTATE_BV = 512;
    private static final int OFF_XCOMP_BV = 520;

    private XSave() {
    }

    /** #UD without CR4.OSXSAVE (SDM Vol. 1 §13.3). */
    private static void requireEnabled(Cpu c) {
        if ((c.mmu.cr4 & Cpu.CR4_OSXSAVE) == 0) {
            throw CpuFault.ud();
        }
    }

    /** The requested-feature bitmap: XCR0 AND EDX:EAX (SDM Vol. 1 §13.7). */
    private static long requested(Cpu c) {
        long mask = (c.r[Cpu.EDX] & 0xFFFF_FFFFL) << 32 | (c.r[Cpu.EAX] & 0xFFFF_FFFFL);
        return c.xcr0 & mask;
    }

    /** The area's linear address: #UD and #NM first, then a 64-byte alignment #GP(0). */
    private static long area(Cpu c, DecodedInsn d, boolean write) {
        requireEnabled(c);
        if ((c.cr0() & Cpu.CR0_TS) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
        long lin = write ? Sse.writeAddress(c, d, AREA_SIZE) : Sse.address(c, d, AREA_SIZE);
        if ((lin & 63) != 0) {
            throw CpuFault.gp(0);
        }
        return lin;
    }

    /**
     * 0F AE /4: XSAVE (REX.W: XSAVE64, 64-bit FPU pointers). Writes the requested components,
     * MXCSR with SSE, and sets their XSTATE_BV bits; the other header bytes are left alone.
     */
    static void xsave(Cpu c, DecodedInsn d) {
        long base = area(c, d, true);
        c.mmu.probeWrite(base, AREA_SIZE);
        long rfbm = requested(c);
        if ((rfbm & X87) != 0) {
            FxSave.storeX87(c, base, c.mode64 && Sse.rexW(d));
        }
        if ((rfbm & SSE) != 0) {
            FxSave.storeMxcsr(c, base);
            FxSave.storeXmm(c, base);
        }
        long header = FxSave.at(c, base, OFF_XSTATE_BV);
        c.mmu.write64(header, c.mmu.read64(header) | rfbm);
    }

    /**
     * 0F AE /5: XRSTOR (REX.W: XRSTOR64), standard form (SDM Vol. 1 §13.8.1). Every check comes
     * before any state changes: XSTATE_BV within XCR0, header bytes 8-23 zero (so XCOMP_BV[63],
     * the compacted form, is refused), MXCSR's reserved bits when SSE is requested. A requested
     * component whose XSTATE_BV bit is clear is set to its initial configuration; MXCSR is loaded
     * from memory whenever SSE is requested.
     */
    static void xrstor(Cpu c, DecodedInsn d) {
        long base = area(c, d, false);
        long rfbm = requested(c);
        long xstateBv = c.mmu.read64(FxSave.at(c, base, OFF_XSTATE_BV));
        long xcompBv = c.mmu.read64(FxSave.at(c, base, OFF_XCOMP_BV));
        long reserved = c.mmu.read64(FxSave.at(c, base, OFF_XCOMP_BV + 8));
        if ((xstateBv & ~c.xcr0) != 0 || xcompBv != 0 || reserved != 0) {
            throw CpuFault.gp(0);
        }
        int mxcsr = (rfbm & SSE) != 0 ? FxSave.readMxcsr(c, base) : c.mxcsr;
        long load = rfbm & xstateBv;
        if (load != 0) {
            // the header read touched the area's last page, this its first: nothing faults below
            c.mmu.read8(base);
        }
        if ((rfbm & X87) != 0) {
            if ((load & X87) != 0) {
                FxSave.loadX87(c, base, c.mode64 && Sse.rexW(d));
            } else {
                initX87(c.fpu);
            }
        }
        if ((rfbm & SSE) != 0) {
            c.mxcsr = mxcsr;
            if ((load & SSE) != 0) {
                FxSave.loadXmm(c, base);
            } else {
                java.util.Arrays.fill(c.xmm, 0, c.mode64 ? 32 : 16, 0L);
            }
        }
    }

    /** The x87 initial configuration (SDM Vol. 1 §13.6): FNINIT's state and zero registers. */
    private static void initX87(X87State f) {
        X87Environment.fninit(f);
        java.util.Arrays.fill(f.significand, 0L);
        java.util.Arrays.fill(f.signExponent, 0);
    }

    /** 0F 01 D0 (XGETBV) and 0F 01 D1 (XSETBV): {@code write} selects XSETBV. */
    static void xcr(Cpu c, DecodedInsn d, boolean write) {
        if (Sse.prefix(d) != Sse.NONE) {
            throw c.undefined(d);
        }
        requireEnabled(c);
        if (write) {
            xsetbv(c);
        } else {
            xgetbv(c);
        }
    }

    /** XGETBV: ECX = 0 reads XCR0; ECX = 1 (XINUSE) needs XGETBV1, not claimed: #GP(0). */
    private static void xgetbv(Cpu c) {
        if (c.r32(Cpu.ECX) != 0) {
            throw CpuFault.gp(0);
        }
        c.set32(Cpu.EAX, (int) c.xcr0);
        c.set32(Cpu.EDX, (int) (c.xcr0 >>> 32));
    }

    /**
     * XSETBV (SDM Vol. 2 XSETBV): CPL 0 (or real mode), ECX = 0, x87 kept on, no unsupported bit;
     * else #GP(0). AVX's rule (bit 2 needs bit 1) cannot arise: bit 2 is unsupported.
     */
    private static void xsetbv(Cpu c) {
        SystemOps.requireCpl0(c);
        long v = (c.r[Cpu.EDX] & 0xFFFF_FFFFL) << 32 | (c.r[Cpu.EAX] & 0xFFFF_FFFFL);
        if (c.r32(Cpu.ECX) != 0 || (v & ~SUPPORTED) != 0 || (v & X87) == 0) {
            throw CpuFault.gp(0);
        }
        c.xcr0 = v;
    }
}
