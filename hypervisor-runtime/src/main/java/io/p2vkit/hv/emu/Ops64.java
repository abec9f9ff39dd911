package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The 64-bit mode integer instructions emulated so far: the ALU family (ADD..CMP in every form,
 * group 1, TEST, INC/DEC, NOT/NEG), MOV forms, LEA, MOVSXD, MOVZX/MOVSX, CBW..CDQE, CWD..CQO,
 * XCHG, CMOVcc, SETcc, BSWAP, PUSH/POP, near JMP/Jcc/CALL/RET, moffs MOV, XLAT. Operand sizes are 1, 2, 4 and 8
 * bytes; {@link Exec64} holds the accessors.
 */
final class Ops64 {

    private Ops64() {
    }

    private static int size(DecodedInsn d) {
        return (d.opcode & 1) == 0 ? 1 : d.opSize();
    }

    /** {@code a op b} for ALU operation {@code op} (the ModRM reg numbering), flags recorded. */
    static long alu(Cpu c, int op, int size, long a, long b) {
        Flags f = c.flags;
        long res;
        switch (op) {
            case Alu.ADD -> f.set(Flags.ADD, size, a, b, res = a + b);
            case Alu.OR -> f.set(Flags.LOGIC, size, a, b, res = a | b);
            case Alu.ADC -> {
                int cin = f.cf() ? 1 : 0;
                f.setWithCarry(Flags.ADC, size, a, b, res = a + b + cin, cin);
            }
            case Alu.SBB -> {
                int cin = f.cf() ? 1 : 0;
                f.setWithCarry(Flags.SBB, size, a, b, res = a - b - cin, cin);
            }
            case Alu.AND -> f.set(Flags.LOGIC, size, a, b, res = a & b);
            case Alu.XOR -> f.set(Flags.LOGIC, size, a, b, res = a ^ b);
            default -> f.set(Flags.SUB, size, a, b, res = a - b); // SUB, CMP
        }
        return res & Exec64.mask(size);
    }

    /** Applies {@code op} to the ModRM operand with {@code src}, writing back unless CMP. */
    private static void aluRm(Cpu c, DecodedInsn d, int op, int size, long src) {
        if (d.mod == 3) {
            long res = alu(c, op, size, Exec64.reg(c, d, d.rm, size), src);
            if (op != Alu.CMP) {
                Exec64.setReg(c, d, d.rm, size, res);
            }
        } else if (op == Alu.CMP) {
            alu(c, op, size, Exec64.read(c, Exec64.rmLinear(c, d), size), src);
        } else {
            long lin = Exec64.rmLinear(c, d);
            Exec64.write(c, lin, size, alu(c, op, size, Exec64.readRmw(c, lin, size), src));
        }
    }

    /** 00-3D: ADD, OR, ADC, SBB, AND, SUB, XOR, CMP in the six forms. */
    static void arith(Cpu c, DecodedInsn d) {
        int op = (d.opcode >>> 3) & 7;
        int form = d.opcode & 7;
        int size = (form & 1) == 0 ? 1 : d.opSize();
        switch (form) {
            case 0, 1 -> aluRm(c, d, op, size, Exec64.reg(c, d, d.reg, size));
            case 2, 3 -> {
                long res = alu(c, op, size, Exec64.reg(c, d, d.reg, size), Exec64.readRM(c, d, size));
                if (op != Alu.CMP) {
                    Exec64.setReg(c, d, d.reg, size, res);
                }
            }
            default -> {
                long res = alu(c, op, size, Exec64.reg(c, d, Cpu.EAX, size), d.imm & Exec64.mask(size));
                if (op != Alu.CMP) {
                    Exec64.setReg(c, d, Cpu.EAX, size, res);
                }
            }
        }
    }

    /** 80, 81, 83: group 1 with an immediate (sign-extended to the operand size). */
    static void group1(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x80 ? 1 : d.opSize();
        aluRm(c, d, d.reg & 7, size, d.imm & Exec64.mask(size));
    }

    /** 84/85: TEST Eb,Gb / Ev,Gv; A8/A9: TEST AL/rAX, imm. */
    static void test(Cpu c, DecodedInsn d) {
        int size = size(d);
        if (d.opcode >= 0xA8) {
            alu(c, Alu.AND, size, Exec64.reg(c, d, Cpu.EAX, size), d.imm & Exec64.mask(size));
        } else {
            alu(c, Alu.AND, size, Exec64.readRM(c, d, size), Exec64.reg(c, d, d.reg, size));
        }
    }

    /** F6/F7: TEST, NOT, NEG; MUL, IMUL, DIV, IDIV in {@link Arith64}. */
    static void group3(Cpu c, DecodedInsn d) {
        int size = size(d);
        switch (d.reg & 7) {
            case 0, 1 -> alu(c, Alu.AND, size, Exec64.readRM(c, d, size), d.imm & Exec64.mask(size));
            case 2, 3 -> {
                boolean not = (d.reg & 7) == 2;
                if (d.mod == 3) {
                    long v = Exec64.reg(c, d, d.rm, size);
                    Exec64.setReg(c, d, d.rm, size, not ? ~v : alu(c, Alu.SUB, size, 0, v));
                } else {
                    long lin = Exec64.rmLinear(c, d);
                    long v = Exec64.readRmw(c, lin, size);
                    Exec64.write(c, lin, size, not ? ~v : alu(c, Alu.SUB, size, 0, v));
                }
            }
            default -> Arith64.mulDiv(c, d);
        }
    }

    private static void incDec(Cpu c, DecodedInsn d, int size, boolean inc) {
        int kind = inc ? Flags.INC : Flags.DEC;
        if (d.mod == 3) {
            long a = Exec64.reg(c, d, d.rm, size);
            long res = inc ? a + 1 : a - 1;
            c.flags.set(kind, size, a, 1, res);
            Exec64.setReg(c, d, d.rm, size, res);
        } else {
            long lin = Exec64.rmLinear(c, d);
            long a = Exec64.readRmw(c, lin, size);
            long res = inc ? a + 1 : a - 1;
            c.flags.set(kind, size, a, 1, res);
            Exec64.write(c, lin, size, res);
        }
    }

    /** FE: INC/DEC Eb. */
    static void group4(Cpu c, DecodedInsn d) {
        if ((d.reg & 7) > 1) {
            throw c.undefined(d);
        }
        incDec(c, d, 1, (d.reg & 7) == 0);
    }

    /** FF: INC, DEC, CALL Ev, CALL Mp, JMP Ev, JMP Mp, PUSH Ev. */
    static void group5(Cpu c, DecodedInsn d) {
        switch (d.reg & 7) {
            case 0, 1 -> incDec(c, d, d.opSize(), (d.reg & 7) == 0);
            case 2 -> {
                long target = Exec64.checkTarget(Exec64.readRM(c, d, 8));
                Exec64.push(c, 8, c.rip);
                c.rip = target;
            }
            case 3, 5 -> Far64.indirect(c, d);
            case 4 -> c.rip = Exec64.checkTarget(Exec64.readRM(c, d, 8));
            case 6 -> Exec64.push(c, d.opSize(), Exec64.readRM(c, d, d.opSize()));
            default -> throw c.undefined(d);
        }
    }

    // ---- moves ----

    /** A0-A3: MOV AL/rAX to or from a moffs (a 64-bit absolute offset, 32 bits with 67). */
    static void movMoffs(Cpu c, DecodedInsn d) {
        int size = size(d);
        long offset = d.addr64() ? d.imm64() : d.disp & 0xFFFF_FFFFL;
        long lin = Exec64.linear(c, d.seg, offset);
        if (d.opcode <= 0xA1) {
            Exec64.setReg(c, d, Cpu.EAX, size, Exec64.read(c, lin, size));
        } else {
            Exec64.write(c, lin, size, Exec64.reg(c, d, Cpu.EAX, size));
        }
    }

    /** D7: XLAT (AL = [rBX + AL], RBX or EBX by address size). */
    static void xlat(Cpu c, DecodedInsn d) {
        long offset = c.r[Cpu.EBX] + (c.r[Cpu.EAX] & 0xFF);
        if (!d.addr64()) {
            offset &= 0xFFFF_FFFFL;
        }
        Exec64.setReg(c, d, Cpu.EAX, 1, Exec64.read(c, Exec64.linear(c, d.seg, offset), 1));
    }

    /** 88-8B: MOV Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev. */
    static void mov(Cpu c, DecodedInsn d) {
        int size = size(d);
        if (d.opcode <= 0x89) {
            Exec64.writeRM(c, d, size, Exec64.reg(c, d, d.reg, size));
        } else {
            Exec64.setReg(c, d, d.reg, size, Exec64.readRM(c, d, size));
        }
    }

    /** C6 /0, C7 /0: MOV Eb,Ib / Ev,Iz (sign-extended for 64-bit operands). */
    static void movImmRm(Cpu c, DecodedInsn d) {
        if ((d.reg & 7) != 0) {
            throw c.undefined(d);
        }
        int size = size(d);
        Exec64.writeRM(c, d, size, d.imm & Exec64.mask(size));
    }

    /** B0-B7: MOV r8, Ib; B8-BF: MOV r, Iz or MOV r64, imm64. */
    static void movImmReg(Cpu c, DecodedInsn d) {
        if (d.opcode < 0xB8) {
            Exec64.setReg(c, d, d.rm, 1, d.imm);
        } else {
            int size = d.opSize();
            Exec64.setReg(c, d, d.rm, size, size == 8 ? d.imm64() : d.imm & Exec64.mask(size));
        }
    }

    /** 8D: LEA (a register operand is #UD). */
    static void lea(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw CpuFault.ud();
        }
        Exec64.setReg(c, d, d.reg, d.opSize(), Exec64.ea(c, d));
    }

    /** 63: MOVSXD Gv, Ed (without REX.W a plain 32- or 16-bit move). */
    static void movsxd(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long v = Exec64.readRM(c, d, size == 2 ? 2 : 4);
        Exec64.setReg(c, d, d.reg, size, size == 8 ? (long) (int) v : v);
    }

    /** 0F B6/B7: MOVZX; 0F BE/BF: MOVSX. */
    static void movx(Cpu c, DecodedInsn d) {
        int from = (d.opcode & 1) == 0 ? 1 : 2;
        long v = Exec64.readRM(c, d, from);
        if (d.opcode >= 0x1BE) {
            v = from == 1 ? (byte) v : (short) v;
        }
        Exec64.setReg(c, d, d.reg, d.opSize(), v);
    }

    /** 98: CBW/CWDE/CDQE; 99: CWD/CDQ/CQO. */
    static void convert(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long a = c.r[Cpu.EAX];
        if (d.opcode == 0x98) {
            long v = switch (size) {
                case 2 -> (byte) a;
                case 4 -> (short) a;
                default -> (int) a;
            };
            Exec64.setReg(c, d, Cpu.EAX, size, v);
        } else {
            long signBit = a & Flags.sign64(size);
            Exec64.setReg(c, d, Cpu.EDX, size, signBit != 0 ? -1 : 0);
        }
    }

    /** 86/87: XCHG Eb,Gb / Ev,Gv (a memory operand is implicitly locked). */
    static void xchg(Cpu c, DecodedInsn d) {
        int size = size(d);
        long r = Exec64.reg(c, d, d.reg, size);
        if (d.mod == 3) {
            Exec64.setReg(c, d, d.reg, size, Exec64.reg(c, d, d.rm, size));
            Exec64.setReg(c, d, d.rm, size, r);
        } else {
            long lin = Exec64.rmLinear(c, d);
            long m = Exec64.readRmw(c, lin, size);
            Exec64.write(c, lin, size, r);
            Exec64.setReg(c, d, d.reg, size, m);
        }
    }

    /** 90-97: XCHG r, rAX; 90 without REX.B is NOP (F3 90: PAUSE). */
    static void xchgAcc(Cpu c, DecodedInsn d) {
        if (d.rm == Cpu.EAX) {
            return;
        }
        int size = d.opSize();
        long a = Exec64.reg(c, d, Cpu.EAX, size);
        Exec64.setReg(c, d, Cpu.EAX, size, Exec64.reg(c, d, d.rm, size));
        Exec64.setReg(c, d, d.rm, size, a);
    }

    /** 0F 40-4F: CMOVcc. A 32-bit CMOV zero-extends its destination even when not moving. */
    static void cmov(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long v = Exec64.readRM(c, d, size);
        if (c.flags.cond(d.opcode & 0xF)) {
            Exec64.setReg(c, d, d.reg, size, v);
        } else if (size == 4) {
            c.r[d.reg] &= 0xFFFF_FFFFL;
        }
    }

    /** 0F 90-9F: SETcc Eb. */
    static void setcc(Cpu c, DecodedInsn d) {
        Exec64.writeRM(c, d, 1, c.flags.cond(d.opcode & 0xF) ? 1 : 0);
    }

    /** 0F C8-CF: BSWAP r32/r64 (16-bit operands are undefined: #UD here). */
    static void bswap(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        if (size == 2) {
            throw c.undefined(d);
        }
        long v = c.r[d.rm];
        c.r[d.rm] = size == 8 ? Long.reverseBytes(v) : Integer.reverseBytes((int) v) & 0xFFFF_FFFFL;
    }

    // ---- stack and near branches ----

    /** 50-57: PUSH r64/r16. */
    static void pushReg(Cpu c, DecodedInsn d) {
        Exec64.push(c, d.opSize(), Exec64.reg(c, d, d.rm, d.opSize()));
    }

    /** 58-5F: POP r64/r16 (POP RSP loads the popped value). */
    static void popReg(Cpu c, DecodedInsn d) {
        long v = Exec64.pop(c, d.opSize());
        Exec64.setReg(c, d, d.rm, d.opSize(), v);
    }

    /** 68/6A: PUSH imm (sign-extended). */
    static void pushImm(Cpu c, DecodedInsn d) {
        Exec64.push(c, d.opSize(), d.imm & Exec64.mask(d.opSize()));
    }

    /** 8F /0: POP Ev (the address is computed with RSP already incremented). */
    static void popRm(Cpu c, DecodedInsn d) {
        if ((d.reg & 7) != 0) {
            throw c.undefined(d);
        }
        int size = d.opSize();
        long saved = c.r[Cpu.ESP];
        long v = Exec64.pop(c, size);
        try {
            Exec64.writeRM(c, d, size, v);
        } catch (CpuFault f) {
            c.r[Cpu.ESP] = saved;
            throw f;
        }
    }

    /** 70-7F, 0F 80-8F: Jcc rel8/rel32. */
    static void jcc(Cpu c, DecodedInsn d) {
        if (c.flags.cond(d.opcode & 0xF)) {
            c.rip = Exec64.checkTarget(c.rip + d.imm);
        }
    }

    /** E9, EB: JMP rel32/rel8. */
    static void jmpRel(Cpu c, DecodedInsn d) {
        c.rip = Exec64.checkTarget(c.rip + d.imm);
    }

    /** E8: CALL rel32. */
    static void callRel(Cpu c, DecodedInsn d) {
        long target = Exec64.checkTarget(c.rip + d.imm);
        Exec64.push(c, 8, c.rip);
        c.rip = target;
    }

    /** C3: RET; C2: RET imm16. */
    static void ret(Cpu c, DecodedInsn d) {
        long sp = c.r[Cpu.ESP];
        long target = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp), 8);
        Exec64.checkTarget(target);
        c.r[Cpu.ESP] = sp + 8 + (d.opcode == 0xC2 ? d.imm & 0xFFFF : 0);
        c.rip = target;
    }
}
