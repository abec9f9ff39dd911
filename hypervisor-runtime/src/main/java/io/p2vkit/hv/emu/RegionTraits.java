package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * What the region translator knows about one 64-bit instruction: whether it translates at all,
 * which arithmetic flags it reads and writes (for the flag liveness of {@link RegionScan}),
 * whether it can fault or store, and which registers it touches. Flags are tracked as two units,
 * CF and the rest (OF, SF, ZF, AF, PF), which is what INC/DEC and the conditions need.
 */
final class RegionTraits {

    static final int CF = 1;
    static final int OTHER = 2;
    static final int ALL = CF | OTHER;

    private RegionTraits() {
    }

    /** Whether {@link RegionEmitter} translates the instruction; anything else ends a region. */
    static boolean translatable(DecodedInsn d) {
        if (d.invalid() || (d.prefixes & DecodedInsn.PREFIX_LOCK) != 0) {
            return false; // locked instructions run as the interpreter's transactions
        }
        if (d.repne() && !delegated(d) && !RegionSse.inline(d)) {
            return false; // F2 selects another instruction (SSE) or a prefix the translator does not model
        }
        int op = d.opcode;
        int ext = d.reg & 7;
        boolean mem = d.isMemory();
        if (op < 0x40) {
            return (op & 7) <= 5;
        }
        return switch (op) {
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F,
                 0x63, 0x68, 0x69, 0x6A, 0x6B, 0x80, 0x81, 0x83, 0x84, 0x85, 0x88, 0x89, 0x8A, 0x8B,
                 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0xA8, 0xA9,
                 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF,
                 0xC0, 0xC1, 0xC2, 0xC3, 0xD0, 0xD1, 0xD2, 0xD3, 0xE8, 0xE9, 0xEB, 0x1AF,
                 0x1B6, 0x1B7, 0x1BE, 0x1BF -> true;
            case 0x86, 0x87 -> !mem;                       // XCHG with memory is locked: the interpreter's
            case 0x8D -> mem;                              // LEA with a register operand is #UD
            case 0xC6, 0xC7 -> ext == 0;
            case 0xF6, 0xF7 -> true;                       // TEST, NOT, NEG, MUL, IMUL, DIV, IDIV
            case 0xFE -> ext <= 1;
            case 0xFF -> ext <= 2 || ext == 4 || ext == 6;
            case 0x1C8, 0x1C9, 0x1CA, 0x1CB, 0x1CC, 0x1CD, 0x1CE, 0x1CF -> d.opSize() != 2;
            default -> isHintNop(op) || isBitScan(op) || isBitOp(d) || isJcc(op) || isCmov(op) || isSetcc(op)
                    || delegated(d) || RegionSse.inline(d);
        };
    }

    /**
     * Instructions a region runs by calling the interpreter's own handler (with the registers
     * written back around the call): the SSE/SSE2 forms {@link RegionSse} does not translate, MMX,
     * the x87, bit tests on memory, double shifts, CMPXCHG, XADD, flag instructions, XLAT, single
     * string operations and the fences. None of them transfers control, changes mode or
     * privilege, or ends the slice, so the region goes on.
     */
    static boolean delegated(DecodedInsn d) {
        if (RegionSse.inline(d)) {
            return false; // translated in place
        }
        int op = d.opcode;
        return switch (op) {
            case 0x9B, 0x9C, 0x9E, 0x9F, 0xD7, 0xF5, 0xF8, 0xF9, 0xFC, 0xFD,
                 0x1A4, 0x1A5, 0x1AC, 0x1AD, 0x1B0, 0x1B1, 0x1C0, 0x1C1 -> true;
            case 0x1A3, 0x1AB, 0x1B3, 0x1BB, 0x1BA -> !isBitOp(d);   // BT.. with a memory operand, #UD forms
            case 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF -> !d.rep() && !d.repne();
            case 0x1AE -> d.mod == 3;                      // LFENCE, MFENCE, SFENCE (glibc's memmove)
            default -> op >= 0xD8 && op <= 0xDF           // x87
                    || op >= 0x110 && op <= 0x117 || op >= 0x128 && op <= 0x12F
                    || op >= 0x150 && op <= 0x17F || op >= 0x1C2 && op <= 0x1C6 || op >= 0x1D0 && op <= 0x1FE;
        };
    }

    /**
     * 0F 18-1F: PREFETCHh (glibc's memmove and memset run them in their loops) and the hint and
     * multi-byte NOPs. Their ModRM operand is never accessed, so they neither fault nor store.
     */
    static boolean isHintNop(int op) {
        return op >= 0x118 && op <= 0x11F;
    }

    /** BSF/BSR: glibc's string functions end in one; their flags are a TEST's of the source. */
    static boolean isBitScan(int op) {
        return op == 0x1BC || op == 0x1BD;
    }

    /**
     * BT/BTS/BTR/BTC on a register (CF from the bit, the others kept): glibc's fmod runs BTS.
     */
    static boolean isBitOp(DecodedInsn d) {
        return switch (d.opcode) {
            case 0x1A3, 0x1AB, 0x1B3, 0x1BB -> d.mod == 3;
            case 0x1BA -> d.mod == 3 && (d.reg & 7) >= 4;
            default -> false;
        };
    }

    /** F6/F7 /4-/7: MUL, IMUL, DIV, IDIV of rAX and rDX (DIV raises #DE). */
    static boolean isMulDiv(DecodedInsn d) {
        return (d.opcode == 0xF6 || d.opcode == 0xF7) && (d.reg & 7) >= 4;
    }

    static boolean isJcc(int op) {
        return (op >= 0x70 && op <= 0x7F) || (op >= 0x180 && op <= 0x18F);
    }

    static boolean isCmov(int op) {
        return op >= 0x140 && op <= 0x14F;
    }

    static boolean isSetcc(int op) {
        return op >= 0x190 && op <= 0x19F;
    }

    /** A relative JMP: control goes to one static target. */
    static boolean isJmp(int op) {
        return op == 0xE9 || op == 0xEB;
    }

    /** Leaves the region for a target known only at run time, or through a call. */
    static boolean leaves(DecodedInsn d) {
        int op = d.opcode;
        return op == 0xC2 || op == 0xC3 || op == 0xE8 || (op == 0xFF && ((d.reg & 7) == 2 || (d.reg & 7) == 4));
    }

    /** The ALU operation (the ModRM reg numbering of {@link Alu}) of 00-3D and 80-83. */
    static int aluOp(DecodedInsn d) {
        return d.opcode < 0x40 ? (d.opcode >>> 3) & 7 : d.reg & 7;
    }

    /** The shift group 2 count when it is a constant (C0/C1/D0/D1), else -1 (by CL). */
    static int constantCount(DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int mask = size == 8 ? 0x3F : 0x1F;
        return switch (d.opcode) {
            case 0xC0, 0xC1 -> d.imm & mask;
            case 0xD0, 0xD1 -> 1;
            default -> -1;
        };
    }

    private static boolean isShift(int op) {
        return op == 0xC0 || op == 0xC1 || (op >= 0xD0 && op <= 0xD3);
    }

    /** Flags the condition code {@code cc} reads (SDM Vol. 1 Table B-1). */
    static int condReads(int cc) {
        return switch (cc >>> 1) {
            case 1 -> CF;
            case 3 -> CF | OTHER;
            default -> OTHER;
        };
    }

    /** Whether {@code d} is an ADC or SBB of the ALU forms (which read CF). */
    static boolean withCarry(DecodedInsn d) {
        int op = d.opcode;
        return (op < 0x40 || op >= 0x80 && op <= 0x83) && (aluOp(d) == Alu.ADC || aluOp(d) == Alu.SBB);
    }

    /** Flags the instruction reads. */
    static int reads(DecodedInsn d) {
        int op = d.opcode;
        if (delegated(d)) {
            return ALL; // its handler may read any flag, and must find them in Flags
        }
        if (isJcc(op) || isCmov(op) || isSetcc(op)) {
            return condReads(op & 0xF);
        }
        if (isBitOp(d)) {
            return ALL; // they change one flag and keep the others, which must be in Flags
        }
        if (withCarry(d)) {
            return CF;
        }
        if (isShift(op)) {
            int kind = d.reg & 7;
            int count = constantCount(d);
            // Rotates keep some flags; a count of zero (or one from CL) keeps them all.
            return kind < 4 || count <= 0 ? ALL : 0;
        }
        return 0;
    }

    /** Flags the instruction always writes (so that earlier values are dead). */
    static int writes(DecodedInsn d) {
        int op = d.opcode;
        if (delegated(d)) {
            return 0;
        }
        if (RegionSse.inline(d)) {
            return RegionSse.writesFlags(d) ? ALL : 0;
        }
        if (op < 0x40 || op >= 0x80 && op <= 0x85 || op == 0xA8 || op == 0xA9 || op == 0x69 || op == 0x6B
                || op == 0x1AF || isBitScan(op)) {
            return ALL;
        }
        if (op == 0xF6 || op == 0xF7) {
            int ext = d.reg & 7;
            return ext == 2 || ext >= 6 ? 0 : ALL; // NOT writes none, DIV/IDIV leave them as they were
        }
        if (op == 0xFE || op == 0xFF && (d.reg & 7) <= 1) {
            return OTHER;                          // INC/DEC keep CF
        }
        if (isShift(op)) {
            return (d.reg & 7) >= 4 && constantCount(d) > 0 ? ALL : 0;
        }
        return 0;
    }

    /**
     * Flags the instruction may change: those it {@link #writes}, and for ROL and ROR by a
     * non-zero constant any of them (they write CF and OF and keep the others, which the flag
     * groups here cannot tell apart).
     */
    static int mayWrite(DecodedInsn d) {
        boolean rotate = isShift(d.opcode) && (d.reg & 7) <= 1 && constantCount(d) > 0;
        return rotate ? ALL : writes(d);
    }

    /**
     * The lazy kind ({@link Flags}) the instruction leaves whose conditions {@link RegionEmitter}
     * can test from its operands, or {@link Flags#NONE}.
     */
    static int kind(DecodedInsn d) {
        int op = d.opcode;
        if (op < 0x40 || op >= 0x80 && op <= 0x83) {
            return aluKind(aluOp(d));
        }
        return switch (op) {
            case 0x84, 0x85, 0xA8, 0xA9, 0x1BC, 0x1BD -> Flags.LOGIC;
            case 0xF6, 0xF7 -> (d.reg & 7) <= 1 ? Flags.LOGIC : (d.reg & 7) == 3 ? Flags.SUB : Flags.NONE;
            case 0xFE, 0xFF -> (d.reg & 7) == 0 ? Flags.INC : (d.reg & 7) == 1 ? Flags.DEC : Flags.NONE;
            default -> Flags.NONE;
        };
    }

    /** The lazy kind an ALU operation ({@link Alu} numbering) leaves. */
    static int aluKind(int op) {
        return switch (op) {
            case Alu.ADD -> Flags.ADD;
            case Alu.ADC -> Flags.ADC;
            case Alu.SBB -> Flags.SBB;
            case Alu.OR, Alu.AND, Alu.XOR -> Flags.LOGIC;
            case Alu.SUB, Alu.CMP -> Flags.SUB;
            default -> Flags.NONE;
        };
    }

    /** Whether condition {@code cc} after an operation of lazy {@code kind} is tested from its operands. */
    static boolean fastCondition(int kind, int cc) {
        return switch (kind) {
            case Flags.SUB -> cc >= 2 && cc != 10 && cc != 11;
            case Flags.LOGIC -> cc != 10 && cc != 11;
            // CF follows from the operands kept, and for ADC and SBB from the carry they took in,
            // which their pending recipe holds (RegionEmitter.carryOut)
            case Flags.ADD, Flags.ADC, Flags.SBB -> cc == 2 || cc == 3 || cc == 4 || cc == 5 || cc == 8 || cc == 9;
            case Flags.INC, Flags.DEC -> cc == 4 || cc == 5 || cc == 8 || cc == 9;
            default -> false;
        };
    }

    /** Whether the instruction accesses memory or may raise an exception. */
    static boolean mayFault(DecodedInsn d) {
        int op = d.opcode;
        if (delegated(d) || RegionSse.inline(d)) {
            return true;
        }
        if (op == 0x8D || isHintNop(op)) {
            return false;
        }
        return d.isMemory() || (op >= 0x50 && op <= 0x5F) || op == 0x68 || op == 0x6A || leaves(d)
                || op == 0xFF && (d.reg & 7) == 6 || isMulDiv(d);
    }

    /** Whether the instruction writes memory (afterwards the code it runs may have changed). */
    static boolean stores(DecodedInsn d) {
        int op = d.opcode;
        if (delegated(d)) {
            return true;
        }
        if (RegionSse.inline(d)) {
            return RegionSse.stores(d);
        }
        int ext = d.reg & 7;
        boolean mem = d.isMemory();
        if (op < 0x40) {
            return mem && (op & 7) <= 1 && aluOp(d) != Alu.CMP;
        }
        return switch (op) {
            case 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x68, 0x6A, 0xE8 -> true;
            case 0x80, 0x81, 0x83 -> mem && ext != Alu.CMP;
            case 0x88, 0x89, 0xC6, 0xC7, 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> mem;
            case 0xF6, 0xF7 -> mem && (ext == 2 || ext == 3);  // NOT, NEG (MUL/DIV only read it)
            case 0xFE -> mem;
            case 0xFF -> mem && ext <= 1 || ext == 2 || ext == 6;
            default -> isSetcc(op) && mem;
        };
    }

    /**
     * The general registers the instruction may read or write, as a bit mask: its ModRM and
     * memory-operand registers, the high-byte registers' owners, and the implicit ones. A
     * superset (the reg field of an SSE instruction counts though it names an XMM register): it
     * only weighs which registers a region keeps in locals ({@link RegionScan#locals}).
     */
    static int registers(DecodedInsn d) {
        int m = 0;
        if (d.hasModrm()) {
            m |= (opcodeExtension(d.opcode) ? 0 : bit(d, d.reg)) | bit(d, d.rm);
            if (d.mod != 3) {
                m |= (d.base >= 0 && d.base < 16 ? 1 << d.base : 0) | (d.index >= 0 ? 1 << d.index : 0);
            }
        }
        int op = d.opcode;
        if (op >= 0x50 && op <= 0x5F || op >= 0x90 && op <= 0xBF || op >= 0x1C8 && op <= 0x1CF) {
            m |= bit(d, d.rm);                              // the register in the opcode
        }
        if (op < 0x40 && (op & 7) >= 4 || op >= 0x90 && op <= 0x99 || op == 0xA8 || op == 0xA9 || isMulDiv(d)) {
            m |= 1 << Cpu.EAX | 1 << Cpu.EDX;               // accumulator forms, CWD..CQO
        }
        if (op == 0xD2 || op == 0xD3) {
            m |= 1 << Cpu.ECX;
        }
        if (op >= 0x50 && op <= 0x5F || op == 0x68 || op == 0x6A || op == 0xC2 || op == 0xC3 || op == 0xE8
                || op == 0xFF) {
            m |= 1 << Cpu.ESP;
        }
        return m;
    }

    /** Every general register: what {@link #registersWritten} answers for an instruction it does not list. */
    static final int ANY_REGISTER = 0xFFFF;

    /**
     * The general registers the instruction may write, as a bit mask, by its architectural
     * effect: exact for the common integer forms listed here, {@link #ANY_REGISTER} for every
     * other instruction (SSE, string, stack, delegated ones...). Unlike {@link #registers} this
     * is relied on: {@link LoopPages} looks a page up once before a loop only through registers
     * no instruction of the loop writes.
     */
    static int registersWritten(DecodedInsn d) {
        int op = d.opcode;
        int ext = d.reg & 7;
        int rm = d.mod == 3 ? bit(d, d.rm) : 0;       // the ModRM operand, when it is a register
        if (op < 0x40 && (op & 7) <= 5) {
            if (aluOp(d) == Alu.CMP) {
                return 0;
            }
            int form = op & 7;
            return form <= 1 ? rm : form <= 3 ? bit(d, d.reg) : 1 << Cpu.EAX;
        }
        if (isJcc(op) || isJmp(op) || isHintNop(op)) {
            return 0;
        }
        if (isCmov(op)) {
            return bit(d, d.reg);
        }
        if (isSetcc(op)) {
            return rm;
        }
        return switch (op) {
            case 0x84, 0x85, 0xA8, 0xA9 -> 0;                                 // TEST
            case 0x80, 0x81, 0x83 -> ext == Alu.CMP ? 0 : rm;
            case 0x88, 0x89, 0xC6, 0xC7, 0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3 -> rm;
            case 0x8A, 0x8B, 0x8D, 0x63, 0x69, 0x6B, 0x1AF, 0x1B6, 0x1B7, 0x1BE, 0x1BF -> bit(d, d.reg);
            case 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7,
                 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF -> bit(d, d.rm); // the register in the opcode
            case 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 ->             // XCHG with the accumulator
                    d.rm == Cpu.EAX ? 0 : 1 << Cpu.EAX | 1 << d.rm;             // 90 without REX.B: NOP
            case 0x98, 0x99 -> 1 << Cpu.EAX | 1 << Cpu.EDX;                  // CBW..CDQE, CWD..CQO
            case 0xF6, 0xF7 -> ext <= 1 ? 0 : ext <= 3 ? rm : 1 << Cpu.EAX | 1 << Cpu.EDX;
            case 0xFE, 0xFF -> ext <= 1 ? rm : ANY_REGISTER;                  // INC, DEC
            default -> ANY_REGISTER;
        };
    }

    /**
     * The most {@code d} can leave in register {@code x}, which it writes, when that is known and
     * below a page: MOVZX from a byte (4 or 8 bytes wide, so nothing above stays), AND with a
     * constant from 0 to 0xFFF. Else -1.
     */
    static long bound(DecodedInsn d, int x) {
        int op = d.opcode;
        boolean wide = d.opSize() >= 4;
        if (op == 0x1B6 && wide && d.reg == x) {
            return 0xFF;
        }
        boolean and = (op == 0x81 || op == 0x83) && (d.reg & 7) == Alu.AND && d.mod == 3 && d.rm == x
                || op == 0x25 && x == Cpu.EAX;
        return and && wide && d.imm >= 0 && d.imm <= 0xFFF ? d.imm : -1;
    }

    /** Whether ModRM's reg field is part of the opcode (/digit) rather than a register. */
    private static boolean opcodeExtension(int op) {
        return op >= 0x80 && op <= 0x83 || op == 0x8F || op == 0xC0 || op == 0xC1 || op == 0xC6 || op == 0xC7
                || op >= 0xD0 && op <= 0xD3 || op == 0xF6 || op == 0xF7 || op == 0xFE || op == 0xFF || op == 0x1BA;
    }

    /**
     * Register {@code n} of a ModRM field or the opcode and, where it may name AH..BH (4-7 in an
     * instruction without REX), the register that holds them.
     */
    private static int bit(DecodedInsn d, int n) {
        return n < 4 || n > 7 || d.rex != 0 ? 1 << n : (1 << n) | (1 << (n - 4));
    }
}
