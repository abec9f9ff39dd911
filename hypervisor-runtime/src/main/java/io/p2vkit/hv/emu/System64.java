package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * System and segment instructions in 64-bit mode, where operands are addressed through
 * {@link Exec64}: MOV to and from segment registers, PUSH/POP FS/GS, LSS/LFS/LGS, group 6 (LLDT
 * and LTR with 16-byte descriptors), group 7 (descriptor-table registers with 64-bit bases,
 * SMSW/LMSW, INVLPG, SWAPGS) and MOV to and from debug registers.
 */
final class System64 {

    private System64() {
    }

    /** 8E: MOV Sreg, Ew (CS is #UD; SS inhibits interrupts for one instruction). */
    static void movToSeg(Cpu c, DecodedInsn d) {
        int seg = d.reg & 7;
        if (d.reg > 5 || seg == Cpu.CS) {
            throw c.undefined(d);
        }
        Segments.load(c, seg, (int) Exec64.readRM(c, d, 2));
        if (seg == Cpu.SS) {
            c.interruptShadow = true;
            c.breakSlice = true;
        }
    }

    /** 8C: MOV Ev, Sreg (a register destination is zero-extended to the operand size). */
    static void movFromSeg(Cpu c, DecodedInsn d) {
        if (d.reg > 5) {
            throw c.undefined(d);
        }
        Exec64.writeRM(c, d, d.mod == 3 ? d.opSize() : 2, c.segSel[d.reg]);
    }

    /** 0F A0/A8: PUSH FS/GS (the selector, zero-extended; 66 pushes 16 bits). */
    static void pushSeg(Cpu c, DecodedInsn d) {
        int seg = d.opcode == 0x1A0 ? Cpu.FS : Cpu.GS;
        Exec64.push(c, d.opSize() == 2 ? 2 : 8, c.segSel[seg]);
    }

    /** 0F A1/A9: POP FS/GS. */
    static void popSeg(Cpu c, DecodedInsn d) {
        int seg = d.opcode == 0x1A1 ? Cpu.FS : Cpu.GS;
        int size = d.opSize() == 2 ? 2 : 8;
        long sp = c.r[Cpu.ESP];
        int sel = (int) Exec64.read(c, Exec64.linear(c, Cpu.SS, sp), size) & 0xFFFF;
        Segments.load(c, seg, sel);
        c.r[Cpu.ESP] = sp + size;
    }

    /** 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: Gv, Mp (offset of 2, 4 or 8 bytes, then the selector). */
    static void loadFarPointer(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw c.undefined(d);
        }
        int seg = switch (d.opcode) {
            case 0x1B2 -> Cpu.SS;
            case 0x1B4 -> Cpu.FS;
            default -> Cpu.GS;
        };
        int size = d.opSize();
        long lin = Exec64.rmLinear(c, d);
        long offset = Exec64.read(c, lin, size);
        int sel = (int) Exec64.read(c, Exec64.linear(c, d.seg, Exec64.ea(c, d) + size), 2);
        Segments.load(c, seg, sel);
        Exec64.setReg(c, d, d.reg, size, offset);
    }

    /** 0F 00: group 6 (SLDT, STR, LLDT, LTR, VERR, VERW). */
    static void group6(Cpu c, DecodedInsn d) {
        switch (d.reg & 7) {
            case 0 -> Exec64.writeRM(c, d, d.mod == 3 ? d.opSize() : 2, c.ldtSel);
            case 1 -> Exec64.writeRM(c, d, d.mod == 3 ? d.opSize() : 2, c.trSel);
            case 2 -> lldt(c, (int) Exec64.readRM(c, d, 2));
            case 3 -> {
                SystemOps.requireCpl0(c);
                SystemOps.ltr64(c, (int) Exec64.readRM(c, d, 2));
            }
            case 4, 5 -> SystemOps.verify(c, (int) Exec64.readRM(c, d, 2), (d.reg & 7) == 5);
            default -> throw c.undefined(d);
        }
    }

    /** LLDT in IA-32e mode: a null selector, or a 16-byte LDT descriptor in the GDT (SDM Vol. 3 §3.5). */
    static void lldt(Cpu c, int sel) {
        SystemOps.requireCpl0(c);
        if ((sel & 0xFFFC) == 0) {
            c.ldtSel = sel;
            c.ldtBase = 0;
            c.ldtLimit = 0;
            return;
        }
        SystemOps.SystemDescriptor ldt = SystemOps.readSystemDescriptor64(c, sel, 2);
        c.ldtSel = sel;
        c.ldtBase = ldt.base();
        c.ldtLimit = ldt.limit();
    }

    /**
     * 0F 01: group 7. SGDT/SIDT store and LGDT/LIDT load a 2-byte limit and an 8-byte base (the
     * operand size does not matter in 64-bit mode; a loaded base must be canonical); SMSW, LMSW,
     * INVLPG, SWAPGS (0F 01 F8), XGETBV and XSETBV (0F 01 D0/D1). The register forms of VMX, MONITOR/MWAIT and RDTSCP are #UD
     * because CPUID does not report them.
     */
    static void group7(Cpu c, DecodedInsn d) {
        int op = d.reg & 7;
        if (d.mod == 3) {
            if (op == 4) {
                Exec64.writeRM(c, d, d.opSize(), c.cr0() & 0xFFFF_FFFFL);
            } else if (op == 6) {
                SystemOps.lmsw(c, (int) Exec64.readRM(c, d, 2));
            } else if (op == 2 && (d.rm & 7) <= 1) {
                XSave.xcr(c, d, (d.rm & 7) == 1); // XGETBV, XSETBV: the ModRM byte names them, REX.B is ignored
            } else if (op == 7 && (d.rm & 7) == 0 && d.rm < 8) {
                SystemOps.requireCpl0(c);
                long gs = c.gsBase;
                c.setSegmentBase64(Cpu.GS, c.kernelGsBase);
                c.kernelGsBase = gs;
            } else {
                throw c.undefined(d);
            }
            return;
        }
        long lin = Exec64.rmLinear(c, d);
        switch (op) {
            case 0, 1 -> {
                boolean gdt = op == 0;
                Exec64.write(c, lin, 2, gdt ? c.gdtLimit : c.idtLimit);
                Exec64.write(c, Exec64.linear(c, d.seg, Exec64.ea(c, d) + 2), 8, gdt ? c.gdtBase : c.idtBase);
            }
            case 2, 3 -> {
                SystemOps.requireCpl0(c);
                int limit = (int) Exec64.read(c, lin, 2);
                long base = Exec64.read(c, Exec64.linear(c, d.seg, Exec64.ea(c, d) + 2), 8);
                if (base << 16 >> 16 != base) {
                    throw CpuFault.gp(0);
                }
                if (op == 2) {
                    c.gdtLimit = limit;
                    c.gdtBase = base;
                } else {
                    c.idtLimit = limit;
                    c.idtBase = base;
                }
            }
            case 4 -> Exec64.write(c, lin, 2, c.cr0() & 0xFFFF);
            case 6 -> SystemOps.lmsw(c, (int) Exec64.read(c, lin, 2));
            case 7 -> {
                SystemOps.requireCpl0(c);
                c.mmu.flushPage(lin);
            }
            default -> throw c.undefined(d);
        }
    }

    /**
     * 0F 21: MOV r64, DRn; 0F 23: MOV DRn, r64. DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD);
     * the upper halves of DR6/DR7 must be written as zero (#GP). Breakpoints are stored, not armed.
     */
    static void movDr(Cpu c, DecodedInsn d) {
        int n = SystemOps.debugRegister(c, d);
        if (d.opcode == 0x121) {
            c.r[d.rm] = c.dr[n];
        } else {
            long v = c.r[d.rm];
            if (n >= 6 && v >>> 32 != 0) {
                throw CpuFault.gp(0);
            }
            c.dr[n] = v;
        }
    }
}
