package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Integer arithmetic and logic: the eight ALU operations in all their encodings, INC/DEC, NOT,
 * NEG, TEST, and the CMPXCHG/XADD family. Results feed the lazy flags.
 */
final class Alu {

    static final int ADD = 0;
    static final int OR = 1;
    static final int ADC = 2;
    static final int SBB = 3;
    static final int AND = 4;
    static final int SUB = 5;
    static final int XOR = 6;
    static final int CMP = 7;

    private Alu() {
    }

    /** Computes {@code a op b} at {@code size} bytes and records flags; CMP returns the difference. */
    static int op(Cpu c, int op, int size, int a, int b) {
        Flags f = c.flags;
        int res;
        switch (op) {
            case ADD -> {
                res = a + b;
                f.set(Flags.ADD, size, a, b, res);
            }
            case OR -> {
                res = a | b;
                f.set(Flags.LOGIC, size, a, b, res);
            }
            case ADC -> {
                int cin = f.cf() ? 1 : 0;
                res = a + b + cin;
                f.setWithCarry(Flags.ADC, size, a, b, res, cin);
            }
            case SBB -> {
                int cin = f.cf() ? 1 : 0;
                res = a - b - cin;
                f.setWithCarry(Flags.SBB, size, a, b, res, cin);
            }
            case AND -> {
                res = a & b;
                f.set(Flags.LOGIC, size, a, b, res);
            }
            case XOR -> {
                res = a ^ b;
                f.set(Flags.LOGIC, size, a, b, res);
            }
            default -> { // SUB, CMP
                res = a - b;
                f.set(Flags.SUB, size, a, b, res);
            }
        }
        return res & Flags.mask(size);
    }

    /** 00-3D: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz; the op is bits 3-5 of the opcode. */
    static void arith(Cpu c, DecodedInsn d) {
        int op = (d.opcode >>> 3) & 7;
        int form = d.opcode & 7;
        int size = (form & 1) == 0 ? 1 : d.opSize();
        switch (form) {
            case 0, 1 -> rmOp(c, d, op, size, c.reg(d.reg, size));
            case 2, 3 -> {
                int res = op(c, op, size, c.reg(d.reg, size), c.readRM(d, size));
                if (op != CMP) {
                    c.setReg(d.reg, size, res);
                }
            }
            default -> {
                int res = op(c, op, size, c.reg(Cpu.EAX, size), d.imm & Flags.mask(size));
                if (op != CMP) {
                    c.setReg(Cpu.EAX, size, res);
                }
            }
        }
    }

    /** Applies {@code op} to the ModRM operand with {@code b}, writing back unless it is CMP. */
    private static void rmOp(Cpu c, DecodedInsn d, int op, int size, int b) {
        if (d.mod == 3) {
            int res = op(c, op, size, c.reg(d.rm, size), b);
            if (op != CMP) {
                c.setReg(d.rm, size, res);
            }
        } else {
            int lin = op == CMP ? c.rmLinear(d, size) : c.rmLinearWrite(d, size);
            int res = op(c, op, size, op == CMP ? c.mmu.read(lin, size) : c.mmu.readRmw(lin, size), b);
            if (op != CMP) {
                c.mmu.write(lin, size, res);
            }
        }
    }

    /** 80-83: group 1, op Eb/Ev with an immediate. */
    static void group1(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x80 || d.opcode == 0x82 ? 1 : d.opSize();
        rmOp(c, d, d.reg, size, d.imm & Flags.mask(size));
    }

    /** 84/85: TEST Eb,Gb / Ev,Gv. */
    static void testRm(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x84 ? 1 : d.opSize();
        op(c, AND, size, c.readRM(d, size), c.reg(d.reg, size));
    }

    /** A8/A9: TEST AL,Ib / eAX,Iz. */
    static void testAcc(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0xA8 ? 1 : d.opSize();
        op(c, AND, size, c.reg(Cpu.EAX, size), d.imm & Flags.mask(size));
    }

    /** 40-47: INC r16/r32. */
    static void incReg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int n = d.opcode & 7;
        int a = c.reg(n, size);
        int res = a + 1;
        c.flags.set(Flags.INC, size, a, 1, res);
        c.setReg(n, size, res);
    }

    /** 48-4F: DEC r16/r32. */
    static void decReg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int n = d.opcode & 7;
        int a = c.reg(n, size);
        int res = a - 1;
        c.flags.set(Flags.DEC, size, a, 1, res);
        c.setReg(n, size, res);
    }

    /** INC/DEC on the ModRM operand (groups 4 and 5, reg 0 and 1). */
    static void incDecRm(Cpu c, DecodedInsn d, int size, boolean inc) {
        int kind = inc ? Flags.INC : Flags.DEC;
        if (d.mod == 3) {
            int a = c.reg(d.rm, size);
            int res = inc ? a + 1 : a - 1;
            c.flags.set(kind, size, a, 1, res);
            c.setReg(d.rm, size, res);
        } else {
            int lin = c.rmLinearWrite(d, size);
            int a = c.mmu.readRmw(lin, size);
            int res = inc ? a + 1 : a - 1;
            c.mmu.write(lin, size, res);
            c.flags.set(kind, size, a, 1, res);
        }
    }

    /** FE: group 4 (INC/DEC Eb). */
    static void group4(Cpu c, DecodedInsn d) {
        if (d.reg > 1) {
            throw c.undefined(d);
        }
        incDecRm(c, d, 1, d.reg == 0);
    }

    /** F6/F7: group 3 (TEST, NOT, NEG, MUL, IMUL, DIV, IDIV). */
    static void group3(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0xF6 ? 1 : d.opSize();
        switch (d.reg) {
            case 0, 1 -> op(c, AND, size, c.readRM(d, size), d.imm & Flags.mask(size));
            case 2 -> {
                if (d.mod == 3) {
                    c.setReg(d.rm, size, ~c.reg(d.rm, size));
                } else {
                    int lin = c.rmLinearWrite(d, size);
                    c.mmu.write(lin, size, ~c.mmu.readRmw(lin, size));
                }
            }
            case 3 -> {
                if (d.mod == 3) {
                    c.setReg(d.rm, size, op(c, SUB, size, 0, c.reg(d.rm, size)));
                } else {
                    int lin = c.rmLinearWrite(d, size);
                    int v = c.mmu.readRmw(lin, size);
                    c.mmu.write(lin, size, op(c, SUB, size, 0, v));
                }
            }
            case 4 -> MulDiv.mul(c, size, c.readRM(d, size));
            case 5 -> MulDiv.imul1(c, size, c.readRM(d, size));
            case 6 -> MulDiv.div(c, size, c.readRM(d, size));
            default -> MulDiv.idiv(c, size, c.readRM(d, size));
        }
    }

    /** 0F B0/B1: CMPXCHG Eb,Gb / Ev,Gv. */
    static void cmpxchg(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x1B0 ? 1 : d.opSize();
        int acc = c.reg(Cpu.EAX, size);
        if (d.mod == 3) {
            int dest = c.reg(d.rm, size);
            op(c, CMP, size, acc, dest);
            if (acc == dest) {
                c.setReg(d.rm, size, c.reg(d.reg, size));
            } else {
                c.setReg(Cpu.EAX, size, dest);
            }
        } else {
            int lin = c.rmLinearWrite(d, size);
            int dest = c.mmu.readRmw(lin, size);
            // The destination is written in both cases (SDM: "the processor never produces a
            // locked read without also producing a locked write").
            c.mmu.write(lin, size, acc == dest ? c.reg(d.reg, size) : dest);
            op(c, CMP, size, acc, dest);
            if (acc != dest) {
                c.setReg(Cpu.EAX, size, dest);
            }
        }
    }

    /** 0F C7 /1: CMPXCHG8B m64. */
    static void group9(Cpu c, DecodedInsn d) {
        if (d.reg != 1 || d.mod == 3) {
            throw c.undefined(d);
        }
        int lin = c.rmLinearWrite(d, 8);
        int lo = c.mmu.read32(lin);
        int hi = c.mmu.read32(lin + 4);
        c.mmu.probeWrite(lin, 8);
        c.flags.materialize();
        if (lo == c.r32(Cpu.EAX) && hi == c.r32(Cpu.EDX)) {
            c.mmu.write32(lin, c.r32(Cpu.EBX));
            c.mmu.write32(lin + 4, c.r32(Cpu.ECX));
            c.flags.setBit(Flags.ZF, true);
        } else {
            c.mmu.write32(lin, lo);
            c.mmu.write32(lin + 4, hi);
            c.set32(Cpu.EAX, lo);
            c.set32(Cpu.EDX, hi);
            c.flags.setBit(Flags.ZF, false);
        }
    }

    /** 0F C0/C1: XADD Eb,Gb / Ev,Gv. */
    static void xadd(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x1C0 ? 1 : d.opSize();
        int src = c.reg(d.reg, size);
        if (d.mod == 3) {
            int dest = c.reg(d.rm, size);
            int sum = op(c, ADD, size, dest, src);
            c.setReg(d.reg, size, dest);
            c.setReg(d.rm, size, sum);
        } else {
            int lin = c.rmLinearWrite(d, size);
            int dest = c.mmu.readRmw(lin, size);
            int sum = op(c, ADD, size, dest, src);
            c.mmu.write(lin, size, sum);
            c.setReg(d.reg, size, dest);
        }
    }
}
