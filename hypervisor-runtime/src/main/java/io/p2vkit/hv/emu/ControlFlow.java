package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Jumps, calls, returns, loops, software interrupts and IRET, near and far, in real and
 * protected mode (call gates through {@link CallGates}; no task switches, no virtual-8086 returns).
 */
final class ControlFlow {

    private ControlFlow() {
    }

    private static void jumpRel(Cpu c, DecodedInsn d) {
        int target = c.eip + d.imm;
        c.eip = d.op32() ? target : target & 0xFFFF;
    }

    /** 70-7F, 0F 80-8F: Jcc. */
    static void jcc(Cpu c, DecodedInsn d) {
        if (c.flags.cond(d.opcode & 0xF)) {
            jumpRel(c, d);
        }
    }

    /** E9, EB: JMP rel. */
    static void jmpRel(Cpu c, DecodedInsn d) {
        jumpRel(c, d);
    }

    /** E8: CALL rel. */
    static void callRel(Cpu c, DecodedInsn d) {
        c.push(d.opSize(), c.eip);
        jumpRel(c, d);
    }

    /** E0-E3: LOOPNE, LOOPE, LOOP, JCXZ/JECXZ (the count register follows the address size). */
    static void loop(Cpu c, DecodedInsn d) {
        int count;
        if (d.opcode == 0xE3) {
            count = d.addr32() ? c.r32(Cpu.ECX) : c.r32(Cpu.ECX) & 0xFFFF;
            if (count == 0) {
                jumpRel(c, d);
            }
            return;
        }
        if (d.addr32()) {
            count = c.r32(Cpu.ECX) - 1;
            c.set32(Cpu.ECX, count);
        } else {
            count = (c.r32(Cpu.ECX) - 1) & 0xFFFF;
            c.setReg(Cpu.ECX, 2, count);
        }
        boolean take = count != 0 && switch (d.opcode) {
            case 0xE0 -> !c.flags.zf();
            case 0xE1 -> c.flags.zf();
            default -> true;
        };
        if (take) {
            jumpRel(c, d);
        }
    }

    /** C3/C2: near RET [Iw]. */
    static void retNear(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int target = c.pop(size);
        if (d.opcode == 0xC2) {
            c.setSp(c.sp() + (d.imm & 0xFFFF));
        }
        c.eip = target;
    }

    /** Far transfer to sel:offset for JMP/CALL (real mode, or a code segment at the same CPL). */
    static void farJump(Cpu c, int sel, int offset, boolean op32) {
        sel &= 0xFFFF;
        if (!c.protectedMode()) {
            Segments.loadCsReal(c, sel);
            c.eip = op32 ? offset : offset & 0xFFFF;
        } else {
            long desc = Segments.checkFarTarget(c, sel);
            if (CallGates.isCallGate(desc)) {
                CallGates.transfer(c, sel, desc, false);
            } else {
                Segments.commitCs(c, sel, desc, c.cpl);
                c.eip = offset & c.ipMask;
            }
        }
        c.breakSlice = true;
    }

    static void farCall(Cpu c, int sel, int offset, boolean op32) {
        int size = op32 ? 4 : 2;
        long desc = 0;
        if (c.protectedMode()) {
            desc = Segments.checkFarTarget(c, sel & 0xFFFF);
            if (CallGates.isCallGate(desc)) {
                CallGates.transfer(c, sel & 0xFFFF, desc, true);
                c.breakSlice = true;
                return;
            }
        }
        c.push(size, c.segSel[Cpu.CS]);
        c.push(size, c.eip);
        if (!c.protectedMode()) {
            Segments.loadCsReal(c, sel & 0xFFFF);
            c.eip = op32 ? offset : offset & 0xFFFF;
        } else {
            Segments.commitCs(c, sel & 0xFFFF, desc, c.cpl);
            c.eip = offset & c.ipMask;
        }
        c.breakSlice = true;
    }

    /** EA: JMP ptr16:16/32. */
    static void jmpFar(Cpu c, DecodedInsn d) {
        farJump(c, d.imm2, d.imm, d.op32());
    }

    /** 9A: CALL ptr16:16/32. */
    static void callFar(Cpu c, DecodedInsn d) {
        farCall(c, d.imm2, d.imm, d.op32());
    }

    /** CB/CA: far RET [Iw]. */
    static void retFar(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int release = d.opcode == 0xCA ? d.imm & 0xFFFF : 0;
        int offset = c.peek(0, size);
        int sel = c.peek(size, size) & 0xFFFF;
        if (!c.protectedMode()) {
            c.setSp(c.sp() + 2 * size + release);
            Segments.loadCsReal(c, sel);
            c.eip = size == 4 ? offset : offset & 0xFFFF;
            c.breakSlice = true;
            return;
        }
        long desc = Segments.checkReturnTarget(c, sel);
        int rpl = sel & 3;
        if (rpl == c.cpl) {
            c.setSp(c.sp() + 2 * size + release);
            Segments.commitCs(c, sel, desc, rpl);
        } else {
            int newSp = c.peek(2 * size + release, size);
            int newSs = c.peek(3 * size + release, size) & 0xFFFF;
            Segments.commitCs(c, sel, desc, rpl);
            Segments.load(c, Cpu.SS, newSs);
            c.set32(Cpu.ESP, c.ss32 ? newSp + release : (c.r32(Cpu.ESP) & 0xFFFF_0000) | ((newSp + release) & 0xFFFF));
            Segments.nullifyForOuterRing(c);
        }
        c.eip = offset & c.ipMask;
        c.breakSlice = true;
    }

    /** CF: IRET / IRETD. */
    static void iret(Cpu c, DecodedInsn d) {
        c.nmiBlocked = false; // IRET ends NMI blocking (SDM Vol. 3 §6.7.1)
        int size = d.opSize();
        int offset = c.peek(0, size);
        int sel = c.peek(size, size) & 0xFFFF;
        int flags = c.peek(2 * size, size);
        if (!c.protectedMode()) {
            c.setSp(c.sp() + 3 * size);
            Segments.loadCsReal(c, sel);
            c.eip = size == 4 ? offset : offset & 0xFFFF;
            c.writeEflags(size == 4 ? flags : (c.eflags() & 0xFFFF_0000) | (flags & 0xFFFF), 4);
            c.breakSlice = true;
            return;
        }
        if (c.flags.isSet(Flags.NT)) {
            c.undefinedOpcodes++; // a nested-task return: task switching is not emulated
            throw CpuFault.gp(0);
        }
        if (size == 4 && (flags & Flags.VM) != 0 && c.cpl == 0) {
            c.undefinedOpcodes++; // a return to virtual-8086 mode: not emulated
            throw CpuFault.gp(0);
        }
        long desc = Segments.checkReturnTarget(c, sel);
        int rpl = sel & 3;
        int oldCpl = c.cpl;
        if (rpl == c.cpl) {
            c.setSp(c.sp() + 3 * size);
            Segments.commitCs(c, sel, desc, rpl);
        } else {
            int newSp = c.peek(3 * size, size);
            int newSs = c.peek(4 * size, size) & 0xFFFF;
            Segments.commitCs(c, sel, desc, rpl);
            Segments.load(c, Cpu.SS, newSs);
            c.set32(Cpu.ESP, c.ss32 || size == 4 ? newSp : (c.r32(Cpu.ESP) & 0xFFFF_0000) | (newSp & 0xFFFF));
            Segments.nullifyForOuterRing(c);
        }
        c.eip = offset & c.ipMask;
        // The privilege for which flags may change is the one before the return (SDM IRET).
        int newCpl = c.cpl;
        c.cpl = oldCpl;
        c.writeEflags(size == 4 ? flags : (c.eflags() & 0xFFFF_0000) | (flags & 0xFFFF), 4);
        c.cpl = newCpl;
        c.breakSlice = true;
    }

    /** CC: INT3, CD: INT n, CE: INTO, F1: INT1. */
    static void softwareInterrupt(Cpu c, DecodedInsn d) {
        int vector;
        switch (d.opcode) {
            case 0xCC -> vector = CpuFault.BP;
            case 0xCE -> {
                if (!c.flags.of()) {
                    return;
                }
                vector = CpuFault.OF;
            }
            case 0xF1 -> vector = CpuFault.DB;
            default -> vector = d.imm & 0xFF;
        }
        Interrupts.deliver(c, vector, 0, false,
                d.opcode == 0xF1 ? Interrupts.EXCEPTION : Interrupts.SOFTWARE, c.eip);
    }

    /** FF: group 5 (INC, DEC, CALL, CALL far, JMP, JMP far, PUSH). */
    static void group5(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        switch (d.reg) {
            case 0, 1 -> Alu.incDecRm(c, d, size, d.reg == 0);
            case 2 -> {
                int target = c.readRM(d, size);
                c.push(size, c.eip);
                c.eip = target;
            }
            case 3, 5 -> {
                if (d.mod == 3) {
                    throw c.undefined(d);
                }
                int off = c.ea(d);
                int offset = c.readMem(d.seg, off, size);
                int sel = c.readMem(d.seg, d.addr32() ? off + size : (off + size) & 0xFFFF, 2);
                if (d.reg == 3) {
                    farCall(c, sel, offset, d.op32());
                } else {
                    farJump(c, sel, offset, d.op32());
                }
            }
            case 4 -> c.eip = c.readRM(d, size);
            case 6 -> c.push(size, c.readRM(d, size));
            default -> throw c.undefined(d);
        }
    }

    /** 62: BOUND Gv,Ma (#BR when out of range). */
    static void bound(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw c.undefined(d);
        }
        int size = d.opSize();
        int off = c.ea(d);
        int lower = c.readMem(d.seg, off, size);
        int upper = c.readMem(d.seg, d.addr32() ? off + size : (off + size) & 0xFFFF, size);
        int v = c.reg(d.reg, size);
        if (size == 2) {
            lower = (short) lower;
            upper = (short) upper;
            v = (short) v;
        }
        if (v < lower || v > upper) {
            throw CpuFault.of(CpuFault.BR);
        }
    }
}
