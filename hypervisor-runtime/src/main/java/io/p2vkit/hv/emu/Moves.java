package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Data movement: MOV in all its forms, LEA, XCHG, MOVZX/MOVSX, CBW/CWD and friends, CMOVcc,
 * SETcc, BSWAP, XLAT, LAHF/SAHF, and the single-flag instructions.
 */
final class Moves {

    private Moves() {
    }

    /** 88-8B: MOV Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev. */
    static void movRm(Cpu c, DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        if ((d.opcode & 2) == 0) {
            c.writeRM(d, size, c.reg(d.reg, size));
        } else {
            c.setReg(d.reg, size, c.readRM(d, size));
        }
    }

    /** C6/C7: MOV Eb,Ib / Ev,Iz. */
    static void movRmImm(Cpu c, DecodedInsn d) {
        if (d.reg != 0) {
            throw c.undefined(d);
        }
        c.writeRM(d, d.opcode == 0xC6 ? 1 : d.opSize(), d.imm);
    }

    /** B0-B7: MOV r8,Ib. */
    static void movReg8Imm(Cpu c, DecodedInsn d) {
        c.setReg(d.opcode & 7, 1, d.imm);
    }

    /** B8-BF: MOV r,Iz. */
    static void movRegImm(Cpu c, DecodedInsn d) {
        c.setReg(d.opcode & 7, d.opSize(), d.imm);
    }

    /** A0-A3: MOV AL/eAX to and from a direct offset. */
    static void movMoffs(Cpu c, DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int off = d.addr32() ? d.disp : d.disp & 0xFFFF;
        if (d.opcode < 0xA2) {
            c.setReg(Cpu.EAX, size, c.readMem(d.seg, off, size));
        } else {
            c.writeMem(d.seg, off, size, c.reg(Cpu.EAX, size));
        }
    }

    /** 8D: LEA Gv,M. */
    static void lea(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw c.undefined(d);
        }
        c.setReg(d.reg, d.opSize(), c.ea(d));
    }

    /** 86/87: XCHG Eb,Gb / Ev,Gv. */
    static void xchgRm(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x86 ? 1 : d.opSize();
        int regVal = c.reg(d.reg, size);
        if (d.mod == 3) {
            c.setReg(d.reg, size, c.reg(d.rm, size));
            c.setReg(d.rm, size, regVal);
        } else {
            int lin = c.rmLinearWrite(d, size);
            int memVal = c.mmu.readRmw(lin, size);
            c.mmu.write(lin, size, regVal);
            c.setReg(d.reg, size, memVal);
        }
    }

    /** 90-97: XCHG eAX,r (90 is NOP; F3 90 is PAUSE). */
    static void xchgAcc(Cpu c, DecodedInsn d) {
        int n = d.opcode & 7;
        if (n == 0) {
            return;
        }
        int size = d.opSize();
        int t = c.reg(n, size);
        c.setReg(n, size, c.reg(Cpu.EAX, size));
        c.setReg(Cpu.EAX, size, t);
    }

    /** 0F B6/B7/BE/BF: MOVZX/MOVSX Gv, Eb/Ew. */
    static void movExtend(Cpu c, DecodedInsn d) {
        int srcSize = (d.opcode & 1) == 0 ? 1 : 2;
        int v = c.readRM(d, srcSize);
        if (d.opcode >= 0x1BE) {
            v = srcSize == 1 ? (byte) v : (short) v;
        }
        c.setReg(d.reg, d.opSize(), v);
    }

    /** 98: CBW / CWDE. */
    static void cbw(Cpu c, DecodedInsn d) {
        if (d.op32()) {
            c.set32(Cpu.EAX, (short) c.r32(Cpu.EAX));
        } else {
            c.setReg(Cpu.EAX, 2, (byte) c.r32(Cpu.EAX));
        }
    }

    /** 99: CWD / CDQ. */
    static void cwd(Cpu c, DecodedInsn d) {
        if (d.op32()) {
            c.set32(Cpu.EDX, c.r32(Cpu.EAX) >> 31);
        } else {
            c.setReg(Cpu.EDX, 2, (short) c.r32(Cpu.EAX) >> 15);
        }
    }

    /** 0F 40-4F: CMOVcc Gv,Ev (the source is read even when the condition is false). */
    static void cmov(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int v = c.readRM(d, size);
        if (c.flags.cond(d.opcode & 0xF)) {
            c.setReg(d.reg, size, v);
        }
    }

    /** 0F 90-9F: SETcc Eb. */
    static void setcc(Cpu c, DecodedInsn d) {
        c.writeRM(d, 1, c.flags.cond(d.opcode & 0xF) ? 1 : 0);
    }

    /** 0F C8-CF: BSWAP r32 (with a 16-bit operand the result is undefined; we give 0, as Intel does). */
    static void bswap(Cpu c, DecodedInsn d) {
        int n = d.opcode & 7;
        if (d.op32()) {
            c.set32(n, Integer.reverseBytes(c.r32(n)));
        } else {
            c.setReg(n, 2, 0);
        }
    }

    /** D7: XLAT. */
    static void xlat(Cpu c, DecodedInsn d) {
        int off = c.r32(Cpu.EBX) + (c.r32(Cpu.EAX) & 0xFF);
        if (!d.addr32()) {
            off &= 0xFFFF;
        }
        c.setReg(Cpu.EAX, 1, c.readMem(d.seg, off, 1));
    }

    /** 9F: LAHF. */
    static void lahf(Cpu c, DecodedInsn d) {
        c.setReg(4, 1, c.eflags() & 0xFF);
    }

    /** 9E: SAHF (SF, ZF, AF, PF, CF from AH). */
    static void sahf(Cpu c, DecodedInsn d) {
        c.flags.materialize();
        int ah = c.reg(4, 1);
        int keep = c.flags.stored & ~(Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF);
        c.flags.stored = keep | (ah & (Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF));
    }

    /** F5 CMC, F8 CLC, F9 STC, FC CLD, FD STD. */
    static void flagOp(Cpu c, DecodedInsn d) {
        switch (d.opcode) {
            case 0xF5 -> c.flags.setCf(!c.flags.cf());
            case 0xF8 -> c.flags.setCf(false);
            case 0xF9 -> c.flags.setCf(true);
            case 0xFC -> c.flags.setBit(Flags.DF, false);
            default -> c.flags.setBit(Flags.DF, true);
        }
    }

    /** FA: CLI; FB: STI (which delays interrupts by one instruction). */
    static void cliSti(Cpu c, DecodedInsn d) {
        if (c.protectedMode() && c.cpl > c.iopl()) {
            throw CpuFault.gp(0);
        }
        boolean sti = d.opcode == 0xFB;
        if (sti && !c.interruptsEnabled()) {
            c.interruptShadow = true;
        }
        c.flags.setBit(Flags.IF, sti);
        c.breakSlice = true;
    }

    /** D6: SALC (undocumented but present on every x86: AL = CF ? FF : 00). */
    static void salc(Cpu c, DecodedInsn d) {
        c.setReg(Cpu.EAX, 1, c.flags.cf() ? 0xFF : 0);
    }
}
