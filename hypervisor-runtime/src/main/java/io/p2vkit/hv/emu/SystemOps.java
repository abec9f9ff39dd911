package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * System instructions: HLT, descriptor-table registers (groups 6 and 7), LAR/LSL, control and
 * debug registers, MSRs, CPUID, RDTSC, cache control, far-pointer loads and segment moves.
 */
final class SystemOps {

    static final int MSR_TSC = 0x10;
    static final int MSR_TSC_ADJUST = 0x3B;
    static final int MSR_BIOS_SIGN_ID = 0x8B;
    static final int MSR_APIC_BASE = 0x1B;
    static final int MSR_TSC_DEADLINE = 0x6E0;
    static final int MSR_EFER = 0xC000_0080;
    static final int MSR_FS_BASE = 0xC000_0100;
    static final int MSR_GS_BASE = 0xC000_0101;
    static final int MSR_KERNEL_GS_BASE = 0xC000_0102;

    private SystemOps() {
    }

    /** Privileged instructions need CPL 0 in protected mode (SDM Vol. 3 §5.9). */
    static void requireCpl0(Cpu c) {
        if (c.protectedMode() && c.cpl != 0) {
            throw CpuFault.gp(0);
        }
    }

    /** F4: HLT; the run loop waits for an interrupt. */
    static void hlt(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        c.halted = true;
        c.breakSlice = true;
    }

    /** Every opcode we do not implement: #UD, counted as a gap of the emulator. */
    static void undefined(Cpu c, DecodedInsn d) {
        throw c.undefined(d);
    }

    /** 0F 0B: UD2 is #UD by definition (Linux's BUG() uses it); not a gap, so not counted. */
    static void ud2(Cpu c, DecodedInsn d) {
        throw CpuFault.ud();
    }

    /** NOPs with a ModRM operand that is not accessed: 0F 0D, 0F 18-1F. */
    static void nop(Cpu c, DecodedInsn d) {
        // nothing: hint instructions
    }

    /** 8E: MOV Sreg, Ew. */
    static void movToSeg(Cpu c, DecodedInsn d) {
        if (d.reg > 5 || d.reg == Cpu.CS) {
            throw c.undefined(d);
        }
        Segments.load(c, d.reg, c.readRM(d, 2));
        if (d.reg == Cpu.SS) {
            c.interruptShadow = true;
            c.breakSlice = true;
        }
    }

    /** 8C: MOV Ev, Sreg (a register destination with a 32-bit operand is zero-extended). */
    static void movFromSeg(Cpu c, DecodedInsn d) {
        if (d.reg > 5) {
            throw c.undefined(d);
        }
        int v = c.segSel[d.reg];
        c.writeRM(d, d.mod == 3 ? d.opSize() : 2, v);
    }

    /** C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: Gv, Mp. */
    static void loadFarPointer(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw c.undefined(d);
        }
        int seg = switch (d.opcode) {
            case 0xC4 -> Cpu.ES;
            case 0xC5 -> Cpu.DS;
            case 0x1B2 -> Cpu.SS;
            case 0x1B4 -> Cpu.FS;
            default -> Cpu.GS;
        };
        int size = d.opSize();
        int off = c.ea(d);
        int offset = c.readMem(d.seg, off, size);
        int sel = c.readMem(d.seg, d.addr32() ? off + size : (off + size) & 0xFFFF, 2);
        Segments.load(c, seg, sel);
        c.setReg(d.reg, size, offset);
        if (seg == Cpu.SS) {
            c.breakSlice = true;
        }
    }

    /** 63: ARPL Ew, Gw (#UD in real mode). */
    static void arpl(Cpu c, DecodedInsn d) {
        if (!c.protectedMode()) {
            throw c.undefined(d);
        }
        int dest = c.readRM(d, 2);
        int src = c.reg(d.reg, 2);
        c.flags.materialize();
        if ((dest & 3) < (src & 3)) {
            c.writeRM(d, 2, (dest & ~3) | (src & 3));
            c.flags.setBit(Flags.ZF, true);
        } else {
            c.flags.setBit(Flags.ZF, false);
        }
    }

    /** 0F 00: group 6 (SLDT, STR, LLDT, LTR, VERR, VERW); #UD in real mode. */
    static void group6(Cpu c, DecodedInsn d) {
        if (!c.protectedMode()) {
            throw c.undefined(d);
        }
        switch (d.reg) {
            case 0 -> c.writeRM(d, d.mod == 3 ? d.opSize() : 2, c.ldtSel);
            case 1 -> c.writeRM(d, d.mod == 3 ? d.opSize() : 2, c.trSel);
            case 2 -> lldt(c, c.readRM(d, 2));
            case 3 -> ltr(c, c.readRM(d, 2));
            case 4, 5 -> verify(c, c.readRM(d, 2), d.reg == 5);
            default -> throw c.undefined(d);
        }
    }

    private static void lldt(Cpu c, int sel) {
        requireCpl0(c);
        if (c.ia32e()) {
            System64.lldt(c, sel); // compatibility mode: the 16-byte descriptors of IA-32e mode
            return;
        }
        if ((sel & 0xFFFC) == 0) {
            c.ldtSel = sel;
            c.ldtBase = 0;
            c.ldtLimit = 0;
            return;
        }
        if ((sel & 4) != 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        long desc = Segments.readDescriptor(c, sel);
        int attr = Segments.attr(desc);
        if ((attr & 0x1F) != 2) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
        }
        c.ldtSel = sel;
        c.ldtBase = Segments.base(desc) & 0xFFFF_FFFFL;
        c.ldtLimit = Segments.limit(desc);
    }

    private static void ltr(Cpu c, int sel) {
        requireCpl0(c);
        if (c.ia32e()) {
            ltr64(c, sel);
            return;
        }
        if ((sel & 0xFFFC) == 0 || (sel & 4) != 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        long desc = Segments.readDescriptor(c, sel);
        int attr = Segments.attr(desc);
        int type = attr & 0x1F;
        if (type != 1 && type != 9) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
        }
        c.mmu.systemWrite(c.tableAddress(c.gdtBase, (sel & 0xFFF8) + 5), 1, attr | 2); // mark busy
        c.trSel = sel;
        c.trBase = Segments.base(desc);
        c.trBase64 = c.trBase & 0xFFFF_FFFFL;
        c.trLimit = Segments.limit(desc);
        c.trAttr = attr | 2;
    }

    /** LTR in IA-32e mode: a 16-byte available 64-bit TSS descriptor in the GDT (SDM Vol. 3 §8.2.3). */
    static void ltr64(Cpu c, int sel) {
        SystemDescriptor t = readSystemDescriptor64(c, sel, 9);
        c.mmu.systemWrite(c.tableAddress(c.gdtBase, (sel & 0xFFF8) + 5), 1, t.attr() | 2); // mark busy
        c.trSel = sel;
        c.trBase = (int) t.base();
        c.trBase64 = t.base();
        c.trLimit = t.limit();
        c.trAttr = t.attr() | 2;
    }

    /** An LDT or TSS descriptor of IA-32e mode: its attributes, limit and 64-bit base. */
    record SystemDescriptor(int attr, int limit, long base) {
    }

    /**
     * Reads the 16-byte system descriptor {@code sel} names in the GDT (SDM Vol. 3 §8.2.3, §3.5):
     * of {@code type} (2 LDT, 9 available TSS), upper half of type 0, present, canonical base.
     */
    static SystemDescriptor readSystemDescriptor64(Cpu c, int sel, int type) {
        if ((sel & 0xFFFC) == 0 || (sel & 4) != 0 || (sel & 0xFFF8) + 15 > (c.gdtLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        long desc = Segments.readDescriptor(c, sel);
        int attr = Segments.attr(desc);
        int upper = c.mmu.systemRead(c.tableAddress(c.gdtBase, (sel & 0xFFF8) + 8), 4);
        int upperType = c.mmu.systemRead(c.tableAddress(c.gdtBase, (sel & 0xFFF8) + 12), 4) >>> 8 & 0x1F;
        if ((attr & 0x1F) != type || upperType != 0) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        if ((attr & Cpu.ATTR_P) == 0) {
            throw CpuFault.withCode(CpuFault.NP, sel & 0xFFFC);
        }
        long base = (Segments.base(desc) & 0xFFFF_FFFFL) | (long) upper << 32;
        if (base << 16 >> 16 != base) {
            throw CpuFault.gp(sel & 0xFFFC);
        }
        return new SystemDescriptor(attr, Segments.limit(desc), base);
    }

    /** VERR/VERW: ZF = whether the segment is readable/writable at the current privilege. */
    static void verify(Cpu c, int sel, boolean write) {
        c.flags.materialize();
        boolean ok = false;
        if ((sel & 0xFFFC) != 0) {
            try {
                long desc = Segments.readDescriptor(c, sel);
                int attr = Segments.attr(desc);
                boolean code = (attr & Cpu.ATTR_CODE) != 0;
                boolean conforming = code && (attr & 4) != 0;
                boolean privOk = conforming || Segments.dpl(attr) >= Math.max(c.cpl, sel & 3);
                boolean kindOk = write ? !code && (attr & 2) != 0 : !code || (attr & 2) != 0;
                ok = (attr & Cpu.ATTR_S) != 0 && privOk && kindOk;
            } catch (CpuFault outsideTable) {
                ok = false;
            }
        }
        c.flags.setBit(Flags.ZF, ok);
    }

    /** 0F 02 LAR, 0F 03 LSL. */
    static void larLsl(Cpu c, DecodedInsn d) {
        if (!c.protectedMode()) {
            throw c.undefined(d);
        }
        int sel = c.readRM(d, 2);
        c.flags.materialize();
        boolean ok = false;
        long desc = 0;
        if ((sel & 0xFFFC) != 0) {
            try {
                desc = Segments.readDescriptor(c, sel);
                int attr = Segments.attr(desc);
                boolean conformingCode = (attr & Cpu.ATTR_S) != 0 && (attr & 0xC) == 0xC;
                int type = attr & 0x1F;
                boolean lar = d.opcode == 0x102;
                boolean typeOk = (attr & Cpu.ATTR_S) != 0 || (c.ia32e()
                        // IA-32e mode (SDM Vol. 2 LAR/LSL type tables): 64-bit TSS, LAR also the
                        // 64-bit call gate, LSL also the LDT and type 0 (a 16-byte descriptor's top)
                        ? type == 9 || type == 11 || (lar ? type == 12 : type == 0 || type == 2)
                        : type == 1 || type == 2 || type == 3 || type == 9 || type == 11
                                || (lar && (type == 4 || type == 5 || type == 12)));
                ok = typeOk && (conformingCode || Segments.dpl(attr) >= Math.max(c.cpl, sel & 3));
            } catch (CpuFault outsideTable) {
                ok = false;
            }
        }
        c.flags.setBit(Flags.ZF, ok);
        if (ok) {
            int v = d.opcode == 0x102 ? (int) (desc >>> 32) & 0x00F0_FF00 : Segments.limit(desc);
            c.setReg(d.reg, d.opSize(), v);
        }
    }

    /** 0F 01: group 7 (SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG, XGETBV, XSETBV). */
    static void group7(Cpu c, DecodedInsn d) {
        if (d.mod == 3 && d.reg == 2 && d.rm <= 1) {
            XSave.xcr(c, d, d.rm == 1); // XGETBV, XSETBV
            return;
        }
        if (d.mod == 3 && d.reg != 4 && d.reg != 6) {
            // VMX, MONITOR/MWAIT and RDTSCP are #UD on a CPU whose CPUID does not report them (ours
            // does not); SWAPGS is #UD outside 64-bit mode (the 64-bit path implements it). Counted
            // and shown in boot reports like every opcode we lack.
            throw c.undefined(d);
        }
        switch (d.reg) {
            case 0, 1 -> {
                int off = c.ea(d);
                boolean gdt = d.reg == 0;
                c.writeMem(d.seg, off, 2, gdt ? c.gdtLimit : c.idtLimit);
                c.writeMem(d.seg, d.addr32() ? off + 2 : (off + 2) & 0xFFFF, 4, (int) (gdt ? c.gdtBase : c.idtBase));
            }
            case 2, 3 -> {
                requireCpl0(c);
                int off = c.ea(d);
                int limit = c.readMem(d.seg, off, 2);
                int base = c.readMem(d.seg, d.addr32() ? off + 2 : (off + 2) & 0xFFFF, 4);
                if (!d.op32()) {
                    base &= 0x00FF_FFFF;
                }
                if (d.reg == 2) {
                    c.gdtLimit = limit;
                    c.gdtBase = base & 0xFFFF_FFFFL;
                } else {
                    c.idtLimit = limit;
                    c.idtBase = base & 0xFFFF_FFFFL;
                }
            }
            case 4 -> c.writeRM(d, d.mod == 3 ? d.opSize() : 2, c.cr0());
            case 6 -> {
                requireCpl0(c); // privilege first, then the operand
                lmsw(c, c.readRM(d, 2));
            }
            case 7 -> {
                requireCpl0(c);
                c.mmu.flushPage(c.rmLinear(d, 1));
            }
            default -> throw c.undefined(d);
        }
    }

    /** LMSW sets PE, MP, EM and TS but cannot clear PE. */
    static void lmsw(Cpu c, int v) {
        requireCpl0(c);
        int cr0 = c.cr0();
        c.writeCr0((cr0 & ~0xE) | (v & 0xF) | (cr0 & Cpu.CR0_PE));
    }

    /** 0F 06: CLTS. */
    static void clts(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        c.mmu.cr0 &= ~Cpu.CR0_TS;
    }

    /** 0F 08 INVD, 0F 09 WBINVD: caches are not modelled. */
    static void cacheFlush(Cpu c, DecodedInsn d) {
        requireCpl0(c);
    }

    /** 0F 20: MOV r32, CRn; 0F 22: MOV CRn, r32. */
    static void movCr(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        boolean toCr = d.opcode == 0x122;
        int cr = d.reg;
        if (cr != 0 && cr != 2 && cr != 3 && cr != 4) {
            throw c.undefined(d);
        }
        if (!toCr) {
            c.set32(d.rm, switch (cr) {
                case 0 -> c.cr0();
                case 2 -> (int) c.cr2;
                case 3 -> (int) c.mmu.cr3;
                default -> c.mmu.cr4;
            });
            return;
        }
        int v = c.r32(d.rm);
        switch (cr) {
            case 0 -> c.writeCr0(v);
            case 2 -> c.cr2 = v & 0xFFFF_FFFFL;
            case 3 -> c.writeCr3(v);
            default -> c.writeCr4(v);
        }
    }

    /**
     * 0F 20/22 in 64-bit mode: MOV r64, CRn / MOV CRn, r64 for CR0, CR2, CR3, CR4 and, with a
     * local APIC, CR8 (without one: #UD). Bits the register cannot hold raise #GP.
     */
    static void movCr64(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        int cr = d.reg;
        if (cr == 8 && c.apic != null) {
            movCr8(c, d);
            return;
        }
        if (cr != 0 && cr != 2 && cr != 3 && cr != 4) {
            throw c.undefined(d);
        }
        if (d.opcode == 0x120) {
            c.r[d.rm] = switch (cr) {
                case 0 -> c.cr0() & 0xFFFF_FFFFL;
                case 2 -> c.cr2;
                case 3 -> c.mmu.cr3;
                default -> c.mmu.cr4 & 0xFFFF_FFFFL;
            };
            return;
        }
        long v = c.r[d.rm];
        switch (cr) {
            case 0, 4 -> {
                if (v >>> 32 != 0) {
                    throw CpuFault.gp(0);
                }
                if (cr == 0) {
                    c.writeCr0((int) v);
                } else {
                    c.writeCr4((int) v);
                }
            }
            case 2 -> c.cr2 = v;
            default -> {
                if (v >>> 52 != 0) {
                    throw CpuFault.gp(0);
                }
                c.mmu.cr3 = v;
                c.mmu.flushNonGlobal();
            }
        }
    }

    /** 0F 21: MOV r32, DRn; 0F 23: MOV DRn, r32 (breakpoints are stored, not armed). */
    static void movDr(Cpu c, DecodedInsn d) {
        int n = debugRegister(c, d);
        if (d.opcode == 0x121) {
            c.set32(d.rm, (int) c.dr[n]);
        } else {
            c.dr[n] = c.r32(d.rm) & 0xFFFF_FFFFL;
        }
    }

    /**
     * The debug register MOV DR names (CPL 0 only): DR4/DR5 alias DR6/DR7 unless CR4.DE makes
     * them #UD; DR8-15 (REX.R) do not exist.
     */
    static int debugRegister(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        int n = d.reg;
        if (n > 7) {
            throw c.undefined(d);
        }
        if (n == 4 || n == 5) {
            if ((c.mmu.cr4 & 8) != 0) {
                throw c.undefined(d);
            }
            n += 2;
        }
        return n;
    }

    static long tsc(Cpu c) {
        return System.nanoTime() + c.tscOffset;
    }

    /** 0F 31: RDTSC (a 1 GHz clock from the host's monotonic time). */
    static void rdtsc(Cpu c, DecodedInsn d) {
        long t = tsc(c);
        c.set32(Cpu.EAX, (int) t);
        c.set32(Cpu.EDX, (int) (t >>> 32));
    }

    /** 0F 32: RDMSR; unknown MSRs raise #GP as on hardware. */
    static void rdmsr(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        long v = switch (c.r32(Cpu.ECX)) {
            case MSR_TSC -> tsc(c);
            case MSR_TSC_ADJUST -> c.tscAdjust;
            case MSR_BIOS_SIGN_ID -> 0;
            case MSR_APIC_BASE -> apic(c).apicBaseMsr();
            case MSR_TSC_DEADLINE -> apic(c).tscDeadline();
            case Cpuid.MSR_ARCH_CAPABILITIES -> Cpuid.ARCH_CAPABILITIES;
            case MSR_EFER -> c.mmu.efer;
            case MSR_FS_BASE -> c.fsBase;
            case MSR_GS_BASE -> c.gsBase;
            case MSR_KERNEL_GS_BASE -> c.kernelGsBase;
            case Syscall64.MSR_STAR -> c.star;
            case Syscall64.MSR_LSTAR -> c.lstar;
            case Syscall64.MSR_CSTAR -> c.cstar;
            case Syscall64.MSR_FMASK -> c.fmask;
            default -> throw CpuFault.gp(0);
        };
        c.set32(Cpu.EAX, (int) v);
        c.set32(Cpu.EDX, (int) (v >>> 32));
    }

    /**
     * Moves the TSC by {@code delta}: a write to IA32_TSC moves IA32_TSC_ADJUST by the same amount,
     * a write to IA32_TSC_ADJUST moves the TSC (SDM Vol. 3 §18.17.3).
     */
    private static void moveTsc(Cpu c, long delta) {
        c.tscOffset += delta;
        c.tscAdjust += delta;
        if (c.apic != null) {
            c.apic.setTscOffset(c.tscOffset); // the TSC-deadline timer counts this TSC
        }
    }

    /** 0F 30: WRMSR: EFER (SCE, NXE, LME), FS/GS bases, SYSCALL's MSRs (addresses must be canonical). */
    static void wrmsr(Cpu c, DecodedInsn d) {
        requireCpl0(c);
        long v = (c.r32(Cpu.EDX) & 0xFFFF_FFFFL) << 32 | (c.r32(Cpu.EAX) & 0xFFFF_FFFFL);
        switch (c.r32(Cpu.ECX)) {
            case MSR_TSC -> moveTsc(c, v - tsc(c));
            case MSR_TSC_ADJUST -> moveTsc(c, v - c.tscAdjust);
            case MSR_APIC_BASE -> {
                if (!apic(c).writeApicBaseMsr(v)) {
                    throw CpuFault.gp(0);
                }
                c.mmu.refreshApicBase();
            }
            case MSR_TSC_DEADLINE -> apic(c).writeTscDeadline(v);
            case MSR_BIOS_SIGN_ID -> {
                // microcode update signature: writes are how software asks for it; nothing to do
            }
            case MSR_EFER -> c.writeEfer(v);
            case Syscall64.MSR_STAR -> c.star = v;
            case Syscall64.MSR_FMASK -> c.fmask = v & 0xFFFF_FFFFL;
            case MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, Syscall64.MSR_LSTAR, Syscall64.MSR_CSTAR -> {
                if (v << 16 >> 16 != v) {
                    throw CpuFault.gp(0); // bases must be canonical
                }
                switch (c.r32(Cpu.ECX)) {
                    case MSR_FS_BASE -> c.setSegmentBase64(Cpu.FS, v);
                    case MSR_GS_BASE -> c.setSegmentBase64(Cpu.GS, v);
                    case Syscall64.MSR_LSTAR -> c.lstar = v;
                    case Syscall64.MSR_CSTAR -> c.cstar = v;
                    default -> c.kernelGsBase = v;
                }
            }
            default -> throw CpuFault.gp(0);
        }
    }

    /**
     * MOV to/from CR8: the task-priority class, TPR bits 7:4 of the local APIC (SDM Vol. 3
     * §11.8.6.1); bits 63:4 of a written value are reserved (#GP). A lower priority may let an
     * interrupt in, so the slice ends.
     */
    private static void movCr8(Cpu c, DecodedInsn d) {
        if (d.opcode == 0x120) {
            c.r[d.rm] = c.apic.taskPriorityClass();
            return;
        }
        long v = c.r[d.rm];
        if ((v & ~0xFL) != 0) {
            throw CpuFault.gp(0);
        }
        c.apic.setTaskPriorityClass((int) v);
        c.breakSlice = true;
    }

    /** The local APIC behind an APIC MSR; without one the MSR does not exist (#GP). */
    private static io.p2vkit.hv.cpu.LocalApicAccess apic(Cpu c) {
        if (c.apic == null) {
            throw CpuFault.gp(0);
        }
        return c.apic;
    }

    /** 0F A2: CPUID. */
    static void cpuid(Cpu c, DecodedInsn d) {
        Cpuid.execute(c);
    }
}
