package io.p2vkit.hv.emu.decode;

/**
 * What follows each opcode byte: a ModRM byte, immediates, a far pointer. This is the only
 * per-opcode knowledge the decoder needs (SDM Vol. 2 Appendix A, opcode maps). Opcodes not
 * listed take no operand bytes; the executor raises #UD for those it does not implement.
 */
final class OperandForms {

    static final int MODRM = 1;
    static final int IB = 2;        // 8-bit immediate, sign-extended
    static final int IW = 4;        // 16-bit immediate
    static final int IZ = 8;        // 16 or 32 bits by operand size
    static final int FAR = 16;      // Ap: offset (16/32 by operand size) then a 16-bit selector
    static final int MOFFS = 32;    // Ob/Ov: an offset of the address size, no ModRM
    static final int ENTER = 64;    // Iw then Ib
    static final int GRP3 = 128;    // F6/F7: TEST (reg 0 and 1) carries an immediate
    static final int REGONLY = 256; // MOV CR/DR: mod is ignored, the operand is a register
    static final int IB_UNSIGNED = 512; // ib that is zero-extended (ports, INT n, ENTER level)
    // 64-bit mode only (SDM Vol. 2 Appendix A.2.5 superscripts):
    static final int D64 = 1 << 10;   // d64: operand size defaults to 64 bits (66 makes it 16)
    static final int F64 = 1 << 11;   // f64: operand size is 64 bits whatever the prefixes (Intel)
    static final int INV64 = 1 << 12; // i64: invalid in 64-bit mode (#UD)
    static final int OPREG = 1 << 13; // the low 3 opcode bits name a register, extended by REX.B

    /** Indexed by opcode (0x000-0x1FF). */
    static final int[] FORMS = new int[512];

    static {
        // ALU blocks 00-3F: x0-x3 ModRM, x4 AL,Ib, x5 eAX,Iz.
        for (int op = 0; op < 0x40; op += 8) {
            set(MODRM, op, op + 1, op + 2, op + 3);
            set(IB, op + 4);
            set(IZ, op + 5);
        }
        set(MODRM, 0x62, 0x63);                    // BOUND, ARPL
        set(IZ, 0x68);                             // PUSH Iz
        set(MODRM | IZ, 0x69);                     // IMUL Gv,Ev,Iz
        set(IB, 0x6A);                             // PUSH Ib
        set(MODRM | IB, 0x6B);                     // IMUL Gv,Ev,Ib
        for (int op = 0x70; op <= 0x7F; op++) {
            set(IB, op);                           // Jcc rel8
        }
        set(MODRM | IB, 0x80, 0x82, 0x83);         // group 1
        set(MODRM | IZ, 0x81);
        for (int op = 0x84; op <= 0x8F; op++) {
            set(MODRM, op);                        // TEST, XCHG, MOV, LEA, POP Ev
        }
        set(FAR, 0x9A);                            // CALL Ap
        set(MOFFS, 0xA0, 0xA1, 0xA2, 0xA3);        // MOV AL/eAX <-> moffs
        set(IB, 0xA8);
        set(IZ, 0xA9);                             // TEST AL/eAX
        for (int op = 0xB0; op <= 0xB7; op++) {
            set(IB, op);                           // MOV r8, Ib
            set(IZ, op + 8);                       // MOV r, Iz
        }
        set(MODRM | IB | IB_UNSIGNED, 0xC0, 0xC1); // shift group 2 by Ib
        set(IW, 0xC2, 0xCA);                       // RET Iw, RETF Iw
        set(MODRM, 0xC4, 0xC5);                    // LES, LDS
        set(MODRM | IB, 0xC6);
        set(MODRM | IZ, 0xC7);                     // MOV Ev, Iz
        set(ENTER, 0xC8);
        set(IB | IB_UNSIGNED, 0xCD);               // INT Ib
        set(MODRM, 0xD0, 0xD1, 0xD2, 0xD3);        // shift group 2
        set(IB | IB_UNSIGNED, 0xD4, 0xD5);         // AAM, AAD
        for (int op = 0xD8; op <= 0xDF; op++) {
            set(MODRM, op);                        // x87 escapes
        }
        set(IB, 0xE0, 0xE1, 0xE2, 0xE3);           // LOOPcc, JCXZ
        set(IB | IB_UNSIGNED, 0xE4, 0xE5, 0xE6, 0xE7); // IN/OUT Ib
        set(IZ, 0xE8, 0xE9);                       // CALL/JMP rel
        set(FAR, 0xEA);                            // JMP Ap
        set(IB, 0xEB);                             // JMP rel8
        set(MODRM | GRP3, 0xF6, 0xF7);
        set(MODRM, 0xFE, 0xFF);

        // Two-byte map (0F xx).
        set(MODRM, 0x100, 0x101, 0x102, 0x103);    // group 6, group 7, LAR, LSL
        set(MODRM, 0x10D);                         // prefetch (a NOP)
        for (int op = 0x118; op <= 0x11F; op++) {
            set(MODRM, op);                        // hint NOPs, NOP Ev
        }
        set(MODRM | REGONLY, 0x120, 0x121, 0x122, 0x123); // MOV CR/DR
        for (int op = 0x140; op <= 0x14F; op++) {
            set(MODRM, op);                        // CMOVcc
        }
        for (int op = 0x180; op <= 0x18F; op++) {
            set(IZ, op);                           // Jcc rel16/32
        }
        for (int op = 0x190; op <= 0x19F; op++) {
            set(MODRM, op);                        // SETcc
        }
        set(MODRM, 0x1A3, 0x1AB, 0x1B3, 0x1BB);    // BT, BTS, BTR, BTC
        set(MODRM | IB | IB_UNSIGNED, 0x1A4, 0x1AC); // SHLD/SHRD Ib
        set(MODRM, 0x1A5, 0x1AD);                  // SHLD/SHRD CL
        set(MODRM, 0x1AF);                         // IMUL Gv,Ev
        set(MODRM, 0x1B0, 0x1B1);                  // CMPXCHG
        set(MODRM, 0x1B2, 0x1B4, 0x1B5);           // LSS, LFS, LGS
        set(MODRM, 0x1B6, 0x1B7, 0x1BE, 0x1BF);    // MOVZX, MOVSX
        set(MODRM | IB | IB_UNSIGNED, 0x1BA);      // group 8: BT* Ev,Ib
        set(MODRM, 0x1BC, 0x1BD);                  // BSF, BSR
        set(MODRM, 0x1C0, 0x1C1);                  // XADD
        set(MODRM, 0x1C7);                         // group 9: CMPXCHG8B
        // SSE/SSE2/MMX (0F 10-17, 28-2F, 50-7F, AE, C2-C6, D0-FE) and other ModRM-carrying 0F opcodes.
        for (int op = 0x110; op <= 0x117; op++) {
            set(MODRM, op);
        }
        for (int op = 0x128; op <= 0x12F; op++) {
            set(MODRM, op);
        }
        for (int op = 0x150; op <= 0x17F; op++) {
            set(MODRM, op);
        }
        set(MODRM | IB, 0x170, 0x171, 0x172, 0x173);
        set(0, 0x177);                             // EMMS: no ModRM
        set(MODRM, 0x1AE, 0x1B8);
        set(MODRM | IB, 0x1C2, 0x1C4, 0x1C5, 0x1C6);
        set(MODRM, 0x1C3);
        for (int op = 0x1D0; op <= 0x1FE; op++) {
            set(MODRM, op);
        }
    }

    /** The 64-bit mode superscripts, added on top of the operand forms above. */
    static {
        // i64: PUSH/POP ES/CS/SS/DS, DAA/DAS/AAA/AAS, PUSHA/POPA, BOUND, 82 (alias of 80), CALL/JMP
        // far direct, LES/LDS (VEX in 64-bit mode, not emulated), INTO, AAM/AAD, SALC.
        add(INV64, 0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x60, 0x61,
                0x62, 0x82, 0x9A, 0xC4, 0xC5, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA);
        for (int op = 0x50; op <= 0x5F; op++) {
            add(D64 | OPREG, op);                  // PUSH/POP r64
        }
        add(D64, 0x68, 0x6A, 0x8F, 0x9C, 0x9D, 0xC8, 0xC9); // PUSH imm, POP Ev, PUSHF/POPF, ENTER/LEAVE
        add(D64, 0x1A0, 0x1A1, 0x1A8, 0x1A9);     // PUSH/POP FS, GS
        for (int op = 0x70; op <= 0x7F; op++) {
            add(F64, op, op + 0x110);              // Jcc rel8, Jcc rel32 (0F 80-8F)
        }
        add(F64, 0xC2, 0xC3, 0xE0, 0xE1, 0xE2, 0xE3, 0xE8, 0xE9, 0xEB); // RET, LOOPcc/JrCXZ, CALL/JMP
        add(F64, 0x120, 0x121, 0x122, 0x123);     // MOV CR/DR: 64-bit operands
        for (int op = 0x90; op <= 0x97; op++) {
            add(OPREG, op);                        // XCHG r, rAX (90 without REX.B is NOP)
        }
        for (int op = 0xB0; op <= 0xBF; op++) {
            add(OPREG, op);                        // MOV r, imm (B8-BF with REX.W: imm64)
        }
        for (int op = 0x1C8; op <= 0x1CF; op++) {
            add(OPREG, op);                        // BSWAP
        }
    }

    private static void add(int bits, int... opcodes) {
        for (int op : opcodes) {
            FORMS[op] |= bits;
        }
    }

    private static void set(int form, int... opcodes) {
        for (int op : opcodes) {
            FORMS[op] = form;
        }
    }

    private OperandForms() {
    }
}
