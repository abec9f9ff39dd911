package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * SYSCALL and SYSRET in 64-bit mode (SDM Vol. 2 SYSCALL, SYSRET): flat CS and SS from IA32_STAR
 * without descriptor reads, RIP from IA32_LSTAR, RFLAGS masked by IA32_FMASK, the return RIP in
 * RCX and RFLAGS in R11. Both need EFER.SCE (#UD otherwise). Outside 64-bit mode they are #UD,
 * as on Intel processors.
 */
final class Syscall64 {

    static final int MSR_STAR = 0xC000_0081;
    static final int MSR_LSTAR = 0xC000_0082;
    static final int MSR_CSTAR = 0xC000_0083;
    static final int MSR_FMASK = 0xC000_0084;
    static final long EFER_SCE = 1;

    /** Flat 64-bit code, DPL 0 / 3; flat 32-bit data, DPL 0 / 3; flat 32-bit code, DPL 3. */
    private static final int CODE64_KERNEL = 0xA09B;
    private static final int DATA_KERNEL = 0xC093;
    private static final int CODE64_USER = 0xA0FB;
    private static final int CODE32_USER = 0xC0FB;
    private static final int DATA_USER = 0xC0F3;

    private Syscall64() {
    }

    /** 0F 05: SYSCALL. */
    static void syscall(Cpu c, DecodedInsn d) {
        if ((c.mmu.efer & EFER_SCE) == 0) {
            throw CpuFault.ud();
        }
        int sel = (int) (c.star >>> 32) & 0xFFFC;
        c.r[Cpu.ECX] = c.rip;
        c.r[11] = c.eflags() & ~Flags.RF & 0xFFFF_FFFFL;
        c.flags.materialize();
        c.flags.load(c.eflags() & ~(int) c.fmask & ~Flags.RF);
        c.setSegmentCache(Cpu.CS, sel, 0, -1, CODE64_KERNEL);
        c.setSegmentCache(Cpu.SS, sel + 8, 0, -1, DATA_KERNEL);
        c.setCpl(0);
        c.jumpTo64(c.lstar);
        c.breakSlice = true;
    }

    /** 0F 07: SYSRET (REX.W: to 64-bit code at RCX; else to compatibility code at ECX). */
    static void sysret(Cpu c, DecodedInsn d) {
        if ((c.mmu.efer & EFER_SCE) == 0) {
            throw CpuFault.ud();
        }
        if (c.cpl != 0) {
            throw CpuFault.gp(0);
        }
        int base = (int) (c.star >>> 48) & 0xFFFF;
        long target = c.r[Cpu.ECX];
        boolean to64 = d.op64();
        if (to64 && target << 16 >> 16 != target) {
            throw CpuFault.gp(0);
        }
        c.writeEflags((int) ((c.r[11] & 0x3C_7FD7L) | 2), 4);
        if (to64) {
            c.setSegmentCache(Cpu.CS, (base + 16) | 3, 0, -1, CODE64_USER);
        } else {
            c.setSegmentCache(Cpu.CS, base | 3, 0, -1, CODE32_USER);
        }
        c.setSegmentCache(Cpu.SS, (base + 8) | 3, 0, -1, DATA_USER);
        c.setCpl(3);
        if (to64) {
            c.jumpTo64(target);
        } else {
            c.eip = (int) target;
        }
        c.breakSlice = true;
    }
}
