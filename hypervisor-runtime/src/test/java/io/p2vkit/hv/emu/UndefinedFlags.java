package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The arithmetic flags the SDM leaves undefined after an instruction (Vol. 2, each
 * instruction's "Flags Affected"), for 16- and 32-bit code: two correct CPUs may differ there,
 * so a lockstep compares them only where they are defined. Everything not listed here defines
 * every flag it writes.
 */
final class UndefinedFlags {

    private static final int CF = Flags.CF;
    private static final int PF = Flags.PF;
    private static final int AF = Flags.AF;
    private static final int ZF = Flags.ZF;
    private static final int SF = Flags.SF;
    private static final int OF = Flags.OF;

    private UndefinedFlags() {
    }

    /** The flags {@code d} leaves undefined when run from state {@code c} (read before it runs). */
    static int of(DecodedInsn d, Cpu c) {
        int op = d.opcode;
        return switch (op) {
            // AND, OR, XOR, TEST: AF undefined.
            case 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x84, 0x85, 0xA8, 0xA9 -> AF;
            case 0x80, 0x81, 0x83 -> d.reg == 1 || d.reg == 4 || d.reg == 6 ? AF : 0;
            case 0xC0, 0xC1 -> shift(d, d.imm);
            case 0xD0, 0xD1 -> shift(d, 1);
            case 0xD2, 0xD3 -> shift(d, c.r32(Cpu.ECX) & 0xFF);
            case 0xF6, 0xF7 -> switch (d.reg) {
                case 0, 1 -> AF;                          // TEST
                case 4, 5 -> SF | ZF | AF | PF;           // MUL, IMUL
                case 6, 7 -> CF | OF | SF | ZF | AF | PF; // DIV, IDIV
                default -> 0;
            };
            case 0x69, 0x6B, 0x1AF -> SF | ZF | AF | PF;  // IMUL
            case 0x1A4, 0x1AC -> doubleShift(d, d.imm);      // SHLD, SHRD by imm8
            case 0x1A5, 0x1AD -> doubleShift(d, c.r32(Cpu.ECX) & 0xFF);
            case 0x1BC, 0x1BD -> CF | OF | SF | AF | PF;  // BSF, BSR
            case 0x1A3, 0x1AB, 0x1B3, 0x1BB -> OF | SF | AF | PF; // BT, BTS, BTR, BTC
            case 0x1BA -> d.reg >= 4 ? OF | SF | AF | PF : 0;
            case 0x27, 0x2F -> OF;                        // DAA, DAS
            case 0x37, 0x3F -> OF | SF | ZF | PF;         // AAA, AAS
            case 0xD4, 0xD5 -> OF | AF | CF;              // AAM, AAD
            default -> 0;
        };
    }

    /** Group 2: rotates change CF and OF only; shifts leave AF undefined; OF is defined for 1 only. */
    private static int shift(DecodedInsn d, int rawCount) {
        int count = rawCount & 0x1F;
        if (count == 0) {
            return 0;
        }
        int bits = (d.opcode & 1) == 0 ? 8 : d.opSize() * 8;
        int undefined = count == 1 ? 0 : OF;
        if (d.reg >= 4) {
            undefined |= AF;
            if (count > bits) {
                undefined |= CF;
            }
        }
        return undefined;
    }

    /** SHLD, SHRD: AF undefined, OF too unless the count is 1, all of them past the operand size. */
    private static int doubleShift(DecodedInsn d, int rawCount) {
        int count = rawCount & 0x1F;
        if (count == 0) {
            return 0;
        }
        if (count > d.opSize() * 8) {
            return CF | OF | SF | ZF | AF | PF;
        }
        return AF | (count == 1 ? 0 : OF);
    }
}
