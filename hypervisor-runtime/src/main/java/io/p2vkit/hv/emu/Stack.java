package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/** PUSH/POP of registers, segments, immediates and memory; PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE. */
final class Stack {

    private Stack() {
    }

    /** 50-57: PUSH r (PUSH ESP pushes the value before the push). */
    static void pushReg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        c.push(size, c.reg(d.opcode & 7, size));
    }

    /** 58-5F: POP r (POP ESP loads the popped value). */
    static void popReg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int v = c.pop(size);
        c.setReg(d.opcode & 7, size, v);
    }

    /** 68/6A: PUSH Iz/Ib. */
    static void pushImm(Cpu c, DecodedInsn d) {
        c.push(d.opSize(), d.imm);
    }

    /** 8F /0: POP Ev (the address is computed after ESP is incremented, SDM POP). */
    static void popRm(Cpu c, DecodedInsn d) {
        if (d.reg != 0) {
            throw c.undefined(d);
        }
        int size = d.opSize();
        int v = c.pop(size);
        c.writeRM(d, size, v);
    }

    private static int segOf(int opcode) {
        return switch (opcode) {
            case 0x06, 0x07 -> Cpu.ES;
            case 0x0E -> Cpu.CS;
            case 0x16, 0x17 -> Cpu.SS;
            case 0x1E, 0x1F -> Cpu.DS;
            case 0x1A0, 0x1A1 -> Cpu.FS;
            default -> Cpu.GS;
        };
    }

    /** 06/0E/16/1E, 0F A0/A8: PUSH Sreg (a 32-bit push writes only the low word, as modern CPUs do). */
    static void pushSeg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        if (size == 4) {
            int nsp = c.sp() - 4;
            if (!c.ss32) {
                nsp &= 0xFFFF;
            }
            c.mmu.write(c.linear(Cpu.SS, nsp, 2), 2, c.segSel[segOf(d.opcode)]);
            c.setSp(nsp);
        } else {
            c.push(2, c.segSel[segOf(d.opcode)]);
        }
    }

    /** 07/17/1F, 0F A1/A9: POP Sreg. */
    static void popSeg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int seg = segOf(d.opcode);
        int sel = c.peek(0, size) & 0xFFFF;
        Segments.load(c, seg, sel);
        c.setSp(c.sp() + size);
        if (seg == Cpu.SS) {
            c.interruptShadow = true;
            c.breakSlice = true;
        }
    }

    /** 60: PUSHA/PUSHAD. */
    static void pusha(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int sp = c.reg(Cpu.ESP, size);
        for (int n = 0; n < 8; n++) {
            c.push(size, n == Cpu.ESP ? sp : c.reg(n, size));
        }
    }

    /** 61: POPA/POPAD (the saved ESP is discarded). */
    static void popa(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int[] v = new int[8];
        for (int n = 7; n >= 0; n--) {
            v[n] = c.peek((7 - n) * size, size);
        }
        for (int n = 0; n < 8; n++) {
            if (n != Cpu.ESP) {
                c.setReg(n, size, v[n]);
            }
        }
        c.setSp(c.sp() + 8 * size);
    }

    /** 9C: PUSHF/PUSHFD (VM and RF read as zero in the image). */
    static void pushf(Cpu c, DecodedInsn d) {
        c.push(d.opSize(), c.eflags() & ~(Flags.VM | Flags.RF));
    }

    /** 9D: POPF/POPFD. */
    static void popf(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int v = c.pop(size);
        c.writeEflags(v, size);
    }

    /** C8: ENTER Iw, Ib. */
    static void enter(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int alloc = d.imm & 0xFFFF;
        int level = d.imm2 & 0x1F;
        c.push(size, c.reg(Cpu.EBP, size));
        int frame = c.sp();
        if (level > 0) {
            int bp = c.reg(Cpu.EBP, c.ss32 ? 4 : 2);
            for (int i = 1; i < level; i++) {
                bp -= size;
                int off = c.ss32 ? bp : bp & 0xFFFF;
                c.push(size, c.readMem(Cpu.SS, off, size));
            }
            c.push(size, frame);
        }
        c.setReg(Cpu.EBP, size, frame);
        c.setSp(c.sp() - alloc);
    }

    /** C9: LEAVE. */
    static void leave(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        c.setSp(c.reg(Cpu.EBP, c.ss32 ? 4 : 2));
        c.setReg(Cpu.EBP, size, c.pop(size));
    }
}
