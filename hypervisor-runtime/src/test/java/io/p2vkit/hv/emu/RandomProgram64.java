package io.p2vkit.hv.emu;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Random 64-bit instruction sequences over what {@link Ops64} emulates, for
 * {@link NativeDifferential64Test}: ALU ops in every form and size (REX.W, 66, REX.R/B with
 * R8-R15, SPL..DIL and AH..BH), group 1, TEST, INC/DEC, NOT/NEG, MOV forms with imm32 and imm64,
 * LEA with random base/index/scale and RIP-relative, MOVSXD, MOVZX/MOVSX, CBW..CQO, XCHG,
 * CMOVcc, SETcc, BSWAP, PUSH/POP, CALL/POP, forward Jcc, CLC/STC/CMC. RBX points at the scratch
 * data (memory operands are [rbx+disp8] and [rbx+disp32]) and RSP at the scratch stack; neither
 * is ever a destination. Tracks whether AF ends up undefined (after AND/OR/XOR/TEST).
 */
final class RandomProgram64 implements GeneratedProgram64 {

    private final Random rnd;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StringBuilder listing = new StringBuilder();
    /** Flags whose value is undefined after the sequence so far (SDM per instruction). */
    private int undefined;

    RandomProgram64(long seed) {
        rnd = new Random(seed);
    }

    @Override
    public byte[] code() {
        return out.toByteArray();
    }

    @Override
    public String listing() {
        return listing.toString();
    }

    @Override
    public int undefinedFlags() {
        return undefined;
    }

    /** An instruction writes {@code written} flags, of which {@code undef} are undefined. */
    private void flags(int written, int undef) {
        undefined = (undefined & ~written) | undef;
    }

    RandomProgram64 generate(int count) {
        for (int i = 0; i < count; i++) {
            int before = undefined;
            int cc = pickCc();
            byte[] insn = next();
            if (rnd.nextInt(12) == 0 && insn.length < 0x7F && cc >= 0) {
                undefined |= before; // skipped or not: a flag is only known if it is in both cases
                emit(new byte[] {(byte) (0x70 | cc), (byte) insn.length}, "jcc" + cc + " over");
            } else if (rnd.nextInt(20) == 0 && insn.length < 0x7F) {
                // LOOP/JRCXZ over it; LOOPE/LOOPNE only while ZF is defined
                int op = 0xE2 + rnd.nextInt(2);
                if ((before & Flags.ZF) == 0 && rnd.nextBoolean()) {
                    op = 0xE0 + rnd.nextInt(2);
                }
                undefined |= before;
                emit(new byte[] {(byte) op, (byte) insn.length}, "loop" + Integer.toHexString(op) + " over");
            }
            emit(insn, null);
        }
        return this;
    }

    private void emit(byte[] b, String note) {
        out.writeBytes(b);
        StringBuilder hex = new StringBuilder();
        for (byte x : b) {
            hex.append(String.format("%02x ", x & 0xFF));
        }
        listing.append(note != null ? note + ": " : "").append(hex.toString().trim()).append(" | ");
    }

    private int size() {
        return 1 << rnd.nextInt(4);
    }

    /** A destination register for {@code size}, given whether a REX prefix is present. */
    private int dest(int size, boolean rex) {
        while (true) {
            int n = rnd.nextInt(16);
            if (n == Cpu.EBX || n == Cpu.ESP) {
                continue;
            }
            if (size == 1 && !rex && n == 7) {
                continue; // BH is part of RBX
            }
            if (size == 1 && !rex && n >= 8) {
                continue;
            }
            return n;
        }
    }

    private int src(int size, boolean rex) {
        int n = rnd.nextInt(16);
        return size == 1 && !rex && n >= 8 ? n - 8 : n;
    }

    /** Builds prefix + (REX) + opcode + ModRM for reg and a register rm, or [rbx+disp]. */
    private byte[] modrm(int size, boolean wideOnly, int[] opcode, int reg, int rm, boolean memory,
            boolean rex, byte[] tail) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (size == 2) {
            b.write(0x66);
        }
        int r = (size == 8 && !wideOnly ? 8 : 0) | (reg >= 8 ? 4 : 0) | (!memory && rm >= 8 ? 1 : 0);
        if (rex || r != 0) {
            b.write(0x40 | r);
        }
        for (int op : opcode) {
            b.write(op);
        }
        if (memory) {
            if (rnd.nextBoolean()) {
                b.write(0x40 | (reg & 7) << 3 | Cpu.EBX);
                b.write(rnd.nextInt(0x100));
            } else {
                b.write(0x80 | (reg & 7) << 3 | Cpu.EBX);
                int disp = rnd.nextInt(0x100) - 0x80;
                b.write(disp);
                b.write(disp >> 8);
                b.write(disp >> 16);
                b.write(disp >> 24);
            }
        } else {
            b.write(0xC0 | (reg & 7) << 3 | (rm & 7));
        }
        b.writeBytes(tail);
        return b.toByteArray();
    }

    private byte[] imm(int bytes) {
        byte[] b = new byte[bytes];
        long v = rnd.nextInt(4) == 0 ? -rnd.nextInt(3) : rnd.nextLong();
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private static int immBytes(int size) {
        return size == 1 ? 1 : size == 2 ? 2 : 4;
    }

    /** The flags condition code {@code cc} reads (SDM Vol. 1 Table B-1). */
    private static int ccFlags(int cc) {
        return switch (cc >>> 1) {
            case 0 -> Flags.OF;
            case 1 -> Flags.CF;
            case 2 -> Flags.ZF;
            case 3 -> Flags.CF | Flags.ZF;
            case 4 -> Flags.SF;
            case 5 -> Flags.PF;
            case 6 -> Flags.SF | Flags.OF;
            default -> Flags.ZF | Flags.SF | Flags.OF;
        };
    }

    /** A condition whose flags are all defined now, or -1 (reading undefined flags would diverge). */
    private int pickCc() {
        for (int i = 0; i < 16; i++) {
            int cc = rnd.nextInt(16);
            if ((ccFlags(cc) & undefined) == 0) {
                return cc;
            }
        }
        return -1;
    }

    private boolean cfDefined() {
        return (undefined & Flags.CF) == 0;
    }

    private void alu(int op) {
        flags(RandomProgram.ALL, op == 1 || op == 4 || op == 6 ? Flags.AF : 0);
    }

    /** An ALU operation; ADC/SBB only while CF is defined. */
    private int aluOp() {
        int op = rnd.nextInt(8);
        return (op == 2 || op == 3) && !cfDefined() ? op - 2 : op;
    }

    private byte[] next() {
        int size = size();
        boolean rex = rnd.nextBoolean();
        boolean mem = rnd.nextInt(3) == 0;
        int sized = size == 1 ? 0 : 1;
        switch (rnd.nextInt(30)) {
            case 0, 1 -> { // ALU Ev,Gv
                int op = aluOp();
                alu(op);
                int dst = dest(size, rex);
                return modrm(size, false, new int[] {op << 3 | sized}, src(size, rex), dst, mem, rex, new byte[0]);
            }
            case 2, 3 -> { // ALU Gv,Ev
                int op = aluOp();
                alu(op);
                return modrm(size, false, new int[] {op << 3 | 2 | sized}, dest(size, rex), src(size, rex), mem, rex,
                        new byte[0]);
            }
            case 4 -> { // ALU rAX, imm
                int op = aluOp();
                alu(op);
                byte[] head = size == 2 ? new byte[] {0x66} : size == 8 ? new byte[] {0x48} : new byte[0];
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(head);
                b.write(op << 3 | 4 | sized);
                b.writeBytes(imm(immBytes(size)));
                return b.toByteArray();
            }
            case 5 -> { // group 1
                int op = aluOp();
                alu(op);
                boolean ib = size != 1 && rnd.nextBoolean();
                int opcode = size == 1 ? 0x80 : ib ? 0x83 : 0x81;
                return modrm(size, false, new int[] {opcode}, op, dest(size, rex), mem, rex,
                        imm(ib ? 1 : immBytes(size)));
            }
            case 6 -> { // TEST, INC/DEC, NOT/NEG
                int kind = rnd.nextInt(4);
                if (kind == 0) {
                    flags(RandomProgram.ALL, Flags.AF);
                    return modrm(size, false, new int[] {0x84 | sized}, src(size, rex), src(size, rex), mem, rex,
                            new byte[0]);
                }
                if (kind == 1) {
                    flags(RandomProgram.ALL & ~Flags.CF, 0);
                    return modrm(size, false, new int[] {0xFE | sized}, rnd.nextInt(2), dest(size, rex), mem, rex,
                            new byte[0]);
                }
                int ext = 2 + rnd.nextInt(2);
                if (ext == 3) {
                    flags(RandomProgram.ALL, 0);
                }
                return modrm(size, false, new int[] {0xF6 | sized}, ext, dest(size, rex), mem, rex, new byte[0]);
            }
            case 7 -> { // TEST r/m, imm (F6/F7 /0)
                flags(RandomProgram.ALL, Flags.AF);
                return modrm(size, false, new int[] {0xF6 | sized}, 0, src(size, rex), mem, rex, imm(immBytes(size)));
            }
            case 8, 9 -> { // MOV forms
                int kind = rnd.nextInt(4);
                if (kind == 0) {
                    return modrm(size, false, new int[] {0x88 | sized}, src(size, rex), dest(size, rex), mem, rex,
                            new byte[0]);
                }
                if (kind == 1) {
                    return modrm(size, false, new int[] {0x8A | sized}, dest(size, rex), src(size, rex), mem, rex,
                            new byte[0]);
                }
                if (kind == 2) {
                    return modrm(size, false, new int[] {0xC6 | sized}, 0, dest(size, rex), mem, rex, imm(immBytes(size)));
                }
                int r = dest(size, rex);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                if (size == 2) {
                    b.write(0x66);
                }
                int rexBits = (size == 8 ? 8 : 0) | (r >= 8 ? 1 : 0);
                if (rex || rexBits != 0) {
                    b.write(0x40 | rexBits);
                }
                b.write((size == 1 ? 0xB0 : 0xB8) | (r & 7));
                b.writeBytes(imm(size == 8 ? 8 : immBytes(size)));
                return b.toByteArray();
            }
            case 10 -> { // LEA with a random address form (no memory access)
                int lsize = 2 << rnd.nextInt(3);
                int r = dest(lsize, true);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                if (lsize == 2) {
                    b.write(0x66);
                }
                if (rnd.nextInt(4) == 0) {
                    b.write(0x67);
                }
                int base = rnd.nextInt(16);
                int index = rnd.nextInt(16);
                int form = rnd.nextInt(3);
                int rexBits = (lsize == 8 ? 8 : 0) | (r >= 8 ? 4 : 0)
                        | (form == 2 && index >= 8 ? 2 : 0) | (form != 0 && base >= 8 ? 1 : 0);
                b.write(0x40 | rexBits);
                b.write(0x8D);
                if (form == 0) { // [rip+disp32]
                    b.write((r & 7) << 3 | 5);
                    b.writeBytes(imm(4));
                } else if (form == 1 && (base & 7) != 4) { // [base+disp8]
                    b.write(0x40 | (r & 7) << 3 | (base & 7));
                    b.write(rnd.nextInt(0x100));
                } else { // [base+index*scale+disp32]
                    b.write(0x80 | (r & 7) << 3 | 4);
                    b.write(rnd.nextInt(4) << 6 | (index & 7) << 3 | (base & 7));
                    b.writeBytes(imm(4));
                }
                return b.toByteArray();
            }
            case 11 -> { // MOVSXD, MOVZX/MOVSX
                if (rnd.nextBoolean()) {
                    int s = rnd.nextBoolean() ? 8 : 4;
                    return modrm(s, false, new int[] {0x63}, dest(s, rex), src(4, rex), mem, rex, new byte[0]);
                }
                int s = 2 << rnd.nextInt(3);
                int op = 0xB6 | (rnd.nextBoolean() ? 8 : 0) | (s == 2 ? 0 : rnd.nextInt(2));
                int from = (op & 1) == 0 ? 1 : 2;
                return modrm(s, false, new int[] {0x0F, op}, dest(s, true), src(from, true), mem, true, new byte[0]);
            }
            case 12 -> { // CBW..CQO
                int s = 2 << rnd.nextInt(3);
                byte[] head = s == 2 ? new byte[] {0x66} : s == 8 ? new byte[] {0x48} : new byte[0];
                byte[] b = new byte[head.length + 1];
                System.arraycopy(head, 0, b, 0, head.length);
                b[head.length] = (byte) (0x98 | rnd.nextInt(2));
                return b;
            }
            case 13 -> { // XCHG
                if (rnd.nextBoolean() && size != 1) {
                    int r = dest(size, rex);
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    if (size == 2) {
                        b.write(0x66);
                    }
                    int rexBits = (size == 8 ? 8 : 0) | (r >= 8 ? 1 : 0);
                    if (rex || rexBits != 0) {
                        b.write(0x40 | rexBits);
                    }
                    b.write(0x90 | (r & 7));
                    return b.toByteArray();
                }
                return modrm(size, false, new int[] {0x86 | sized}, dest(size, rex), dest(size, rex), mem, rex,
                        new byte[0]);
            }
            case 14 -> { // CMOVcc, SETcc
                int cc = pickCc();
                if (cc < 0) {
                    flags(RandomProgram.ALL, 0);
                    return new byte[] {0x48, 0x39, (byte) 0xD8}; // cmp rax, rbx defines them again
                }
                if (rnd.nextBoolean()) {
                    int s = 2 << rnd.nextInt(3);
                    return modrm(s, false, new int[] {0x0F, 0x40 | cc}, dest(s, rex), src(s, rex), mem,
                            rex, new byte[0]);
                }
                return modrm(1, false, new int[] {0x0F, 0x90 | cc}, 0, dest(1, rex), mem, rex,
                        new byte[0]);
            }
            case 15 -> { // BSWAP
                int s = rnd.nextBoolean() ? 8 : 4;
                int r = dest(s, true);
                int rexBits = (s == 8 ? 8 : 0) | (r >= 8 ? 1 : 0);
                return rexBits != 0 ? new byte[] {(byte) (0x40 | rexBits), 0x0F, (byte) (0xC8 | (r & 7))}
                        : new byte[] {0x0F, (byte) (0xC8 | (r & 7))};
            }
            case 16 -> { // PUSH r / PUSH imm / POP r
                int kind = rnd.nextInt(3);
                int s = rnd.nextInt(4) == 0 ? 2 : 8;
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                if (s == 2) {
                    b.write(0x66);
                }
                if (kind == 2) {
                    b.write(rnd.nextBoolean() ? 0x6A : 0x68);
                    b.writeBytes(imm(b.toByteArray()[b.size() - 1] == 0x6A ? 1 : s == 2 ? 2 : 4));
                    return b.toByteArray();
                }
                int r = kind == 0 ? rnd.nextInt(16) : dest(8, true);
                if (r >= 8 || rex) {
                    b.write(0x40 | (r >= 8 ? 1 : 0));
                }
                b.write((kind == 0 ? 0x50 : 0x58) | (r & 7));
                return b.toByteArray();
            }
            case 17 -> { // CALL next; POP r
                int r = dest(8, true);
                return r >= 8 ? new byte[] {(byte) 0xE8, 0, 0, 0, 0, 0x41, (byte) (0x58 | (r & 7))}
                        : new byte[] {(byte) 0xE8, 0, 0, 0, 0, (byte) (0x58 | r)};
            }
            case 18 -> { // CLC, STC, CMC (CMC only when CF is defined)
                int pick = rnd.nextInt(cfDefined() ? 3 : 2);
                flags(Flags.CF, 0);
                return new byte[] {(byte) new int[] {0xF8, 0xF9, 0xF5}[pick]};
            }
            case 19 -> {
                return lessCommon(size, rex, mem);
            }
            case 20, 21 -> {
                return shift(size, rex, mem);
            }
            case 22 -> {
                return mulDiv(size, rex, mem);
            }
            case 23 -> { // IMUL Gv,Ev / Gv,Ev,Iz / Gv,Ev,Ib
                int s = 2 << rnd.nextInt(3);
                flags(RandomProgram.ALL, Flags.SF | Flags.ZF | Flags.AF | Flags.PF);
                int form = rnd.nextInt(3);
                if (form == 0) {
                    return modrm(s, false, new int[] {0x0F, 0xAF}, dest(s, rex), src(s, rex), mem, rex, new byte[0]);
                }
                return modrm(s, false, new int[] {form == 1 ? 0x69 : 0x6B}, dest(s, rex), src(s, rex), mem, rex,
                        imm(form == 1 ? (s == 2 ? 2 : 4) : 1));
            }
            case 24 -> {
                return bitTest(size, rex, mem);
            }
            case 25 -> { // BSF/BSR
                int s = 2 << rnd.nextInt(3);
                flags(RandomProgram.ALL, RandomProgram.ALL & ~Flags.ZF);
                return modrm(s, false, new int[] {0x0F, 0xBC | rnd.nextInt(2)}, dest(s, rex), src(s, rex), mem, rex,
                        new byte[0]);
            }
            case 26 -> { // XADD, CMPXCHG
                flags(RandomProgram.ALL, 0);
                int op = rnd.nextBoolean() ? 0xC0 : 0xB0;
                int r = op == 0xB0 ? src(size, rex) : dest(size, rex);
                int rm = dest(size, rex);
                return modrm(size, false, new int[] {0x0F, op | sized}, r, rm, mem, rex, new byte[0]);
            }
            case 27 -> {
                return string();
            }
            case 28 -> { // PUSHFQ/POP r (all flags defined), PUSH imm/POPFQ, MOV RBP,RSP/LEAVE
                int kind = rnd.nextInt(3);
                if (kind == 0 && undefined == 0) {
                    int r = dest(8, true);
                    return r >= 8 ? new byte[] {(byte) 0x9C, 0x41, (byte) (0x58 | (r & 7))}
                            : new byte[] {(byte) 0x9C, (byte) (0x58 | r)};
                }
                if (kind == 1) {
                    int v = 0x202 | (rnd.nextInt() & (RandomProgram.ALL | Flags.DF));
                    flags(RandomProgram.ALL, 0);
                    return new byte[] {0x68, (byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24),
                        (byte) 0x9D};
                }
                return rnd.nextBoolean() ? new byte[] {0x48, (byte) 0x89, (byte) 0xE5, (byte) 0xC9}
                        : new byte[] {0x48, (byte) 0x89, (byte) 0xE5, 0x66, (byte) 0xC9};
            }
            default -> { // POP/PUSH through memory
                if (rnd.nextBoolean()) {
                    return modrm(8, true, new int[] {0xFF}, 6, 0, true, rex, new byte[0]);
                }
                return modrm(8, true, new int[] {0x8F}, 0, 0, true, rex, new byte[0]);
            }
        }
    }

    /** Group 2 by 1, by an immediate, or by CL (loaded just before, so the count is known). */
    private byte[] shift(int size, boolean rex, boolean mem) {
        int bits = size * 8;
        int kind = rnd.nextInt(8);
        if ((kind == 2 || kind == 3) && !cfDefined()) {
            kind -= 2; // RCL/RCR read CF: ROL/ROR instead
        }
        int form = rnd.nextInt(3);
        int raw = form == 0 ? 1 : rnd.nextInt(4) == 0 ? rnd.nextInt(3) : rnd.nextInt(64);
        int count = raw & (size == 8 ? 0x3F : 0x1F);
        if ((kind == 2 || kind == 3) && count != 0 && bits < 32 && count % (bits + 1) == 0) {
            raw = count = 1; // a rotation through CF by a multiple of bits+1: flags are model-specific
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (form == 2) {
            b.writeBytes(new byte[] {(byte) 0xB1, (byte) raw}); // mov cl, raw
        }
        int sized = size == 1 ? 0 : 1;
        int opcode = form == 0 ? 0xD0 | sized : form == 1 ? 0xC0 | sized : 0xD2 | sized;
        b.writeBytes(modrm(size, false, new int[] {opcode}, kind, destNot(size, rex, Cpu.ECX), mem, rex,
                form == 1 ? new byte[] {(byte) raw} : new byte[0]));
        if (count != 0) {
            if (kind <= 3) { // rotates: CF and OF only
                flags(Flags.CF | Flags.OF, count != 1 ? Flags.OF : 0);
            } else {
                flags(RandomProgram.ALL, Flags.AF | (count != 1 ? Flags.OF : 0) | (count >= bits ? Flags.CF : 0));
            }
        }
        return b.toByteArray();
    }

    /**
     * SHLD/SHRD (16-bit counts kept within the operand: above it the result is undefined),
     * LAHF/SAHF, CMPXCHG8B/16B on [rbx+disp] (16-byte aligned), XLAT, and ENTER framed by
     * MOV RBP,RSP and LEAVE.
     */
    private byte[] lessCommon(int size, boolean rex, boolean mem) {
        switch (rnd.nextInt(5)) {
            case 0 -> {
                int s = 2 << rnd.nextInt(3);
                int raw = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : rnd.nextInt(64);
                int count = raw & (s == 8 ? 0x3F : 0x1F);
                if (s == 2 && count > 16) {
                    raw = count = count & 0xF;
                }
                boolean byCl = rnd.nextBoolean();
                int op = (rnd.nextBoolean() ? 0xA4 : 0xAC) | (byCl ? 1 : 0);
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                if (byCl) {
                    b.writeBytes(new byte[] {(byte) 0xB1, (byte) raw}); // mov cl, raw
                }
                int src = new int[] {0, 2, 6, 7, 8, 9, 10, 11}[rnd.nextInt(8)];
                b.writeBytes(modrm(s, false, new int[] {0x0F, op}, src, destNot(s, true, Cpu.ECX), mem, rex,
                        byCl ? new byte[0] : new byte[] {(byte) raw}));
                if (count != 0) {
                    flags(RandomProgram.ALL, Flags.AF | (count != 1 ? Flags.OF : 0));
                }
                return b.toByteArray();
            }
            case 1 -> {
                if (undefined == 0 && rnd.nextBoolean()) {
                    return new byte[] {(byte) 0x9F}; // LAHF: every flag it copies is defined
                }
                flags(Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF, 0);
                return new byte[] {(byte) 0x9E}; // SAHF
            }
            case 2 -> {
                flags(Flags.ZF, 0);
                boolean wide = rnd.nextBoolean();
                int disp = wide ? (rnd.nextInt(16) - 8) * 16 : rnd.nextInt(0x100) - 0x80;
                return wide ? new byte[] {0x48, 0x0F, (byte) 0xC7, 0x4B, (byte) disp}  // cmpxchg16b [rbx+d8]
                        : new byte[] {0x0F, (byte) 0xC7, 0x4B, (byte) disp};          // cmpxchg8b [rbx+d8]
            }
            case 3 -> {
                return new byte[] {(byte) 0xD7}; // XLAT: [rbx+al] stays in the scratch data
            }
            default -> {
                int alloc = rnd.nextInt(0x200); // the CPU may probe the new stack top: keep it mapped
                int level = rnd.nextInt(4) == 0 ? rnd.nextInt(32) : rnd.nextInt(3);
                return new byte[] {0x48, (byte) 0x89, (byte) 0xE5, (byte) 0xC8, (byte) alloc, (byte) (alloc >> 8),
                    (byte) level, (byte) 0xC9};
            }
        }
    }

    /** A destination that is not {@code avoid} (nor RBX, RSP, BH). */
    private int destNot(int size, boolean rex, int avoid) {
        int n;
        do {
            n = dest(size, rex);
        } while (n == avoid || (size == 1 && !rex && n == avoid + 4));
        return n;
    }

    /**
     * MUL/IMUL of rAX, or DIV/IDIV set up so that they cannot fault: the divisor register is
     * loaded with a non-zero value (|d| >= 2 for IDIV) and the dividend's high half is zeroed
     * (DIV) or sign-extended from the low half (IDIV).
     */
    private byte[] mulDiv(int size, boolean rex, boolean mem) {
        int op = 4 + rnd.nextInt(4);
        int sized = size == 1 ? 0 : 1;
        if (op < 6) {
            flags(RandomProgram.ALL, Flags.SF | Flags.ZF | Flags.AF | Flags.PF);
            return modrm(size, false, new int[] {0xF6 | sized}, op, src(size, rex), mem, rex, new byte[0]);
        }
        flags(RandomProgram.ALL, RandomProgram.ALL);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (op == 6) {
            b.writeBytes(size == 1 ? new byte[] {0x0F, (byte) 0xB6, (byte) 0xC0} : new byte[] {0x31, (byte) 0xD2});
        } else {
            b.writeBytes(switch (size) {
                case 1 -> new byte[] {0x66, (byte) 0x98};
                case 2 -> new byte[] {0x66, (byte) 0x99};
                case 4 -> new byte[] {(byte) 0x99};
                default -> new byte[] {0x48, (byte) 0x99};
            });
        }
        long value = 2 + rnd.nextInt(size == 1 ? 100 : 1000); // never 0 (nor +-1 for IDIV) at the size
        if (op == 7 && rnd.nextBoolean()) {
            value = -value;
        }
        int r = new int[] {1, 9, 10, 11, 12, 13, 14, 15}[rnd.nextInt(8)];
        if (size == 2) {
            b.write(0x66);
        }
        if (r >= 8 || size == 8) {
            b.write(0x40 | (size == 8 ? 8 : 0) | (r >= 8 ? 1 : 0));
        }
        b.write((size == 1 ? 0xB0 : 0xB8) | (r & 7));
        for (int i = 0; i < (size == 8 ? 8 : size); i++) {
            b.write((int) (value >>> (8 * i)));
        }
        b.writeBytes(modrm(size, false, new int[] {0xF6 | sized}, op, r, false, r >= 8, new byte[0]));
        return b.toByteArray();
    }

    /**
     * BT/BTS/BTR/BTC with an immediate, or with a register offset loaded just before (into
     * memory: -0x400..0x3FF bits, so the byte addressed stays inside the scratch data).
     */
    private byte[] bitTest(int size, boolean rex, boolean mem) {
        int s = 2 << rnd.nextInt(3);
        flags(Flags.CF | Flags.OF | Flags.SF | Flags.AF | Flags.PF, Flags.OF | Flags.SF | Flags.AF | Flags.PF);
        int op = rnd.nextInt(4);
        if (rnd.nextBoolean()) {
            return modrm(s, false, new int[] {0x0F, 0xBA}, 4 + op, dest(s, rex), mem, rex,
                    new byte[] {(byte) rnd.nextInt(0x100)});
        }
        int r = new int[] {1, 9, 10, 11, 12, 13, 14, 15}[rnd.nextInt(8)];
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (mem) {
            int offset = rnd.nextInt(0x800) - 0x400;
            b.write(0x48 | (r >= 8 ? 1 : 0));                 // mov r64, imm32 (sign-extended)
            b.write(0xC7);
            b.write(0xC0 | (r & 7));
            for (int i = 0; i < 4; i++) {
                b.write(offset >> (8 * i));
            }
        }
        int rm = destNot(s, true, r);
        b.writeBytes(modrm(s, false, new int[] {0x0F, 0xA3 | op << 3}, r, rm, mem, rex, new byte[0]));
        return b.toByteArray();
    }

    /**
     * A string instruction, REP or not, after CLD or STD and with RSI and RDI pointed into the
     * scratch data ([rbx+disp8]) and ECX set to a small count.
     */
    private byte[] string() {
        int kind = new int[] {0xA4, 0xA6, 0xAA, 0xAC, 0xAE}[rnd.nextInt(5)];
        int s = size();
        boolean rep = rnd.nextBoolean();
        int n = rnd.nextInt(12);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(rnd.nextBoolean() ? 0xFC : 0xFD);                       // cld / std
        b.writeBytes(new byte[] {0x48, (byte) 0x8D, 0x73, (byte) (rnd.nextInt(0x100))}); // lea rsi, [rbx+d8]
        b.writeBytes(new byte[] {0x48, (byte) 0x8D, 0x7B, (byte) (rnd.nextInt(0x100))}); // lea rdi, [rbx+d8]
        b.writeBytes(new byte[] {(byte) 0xB9, (byte) n, 0, 0, 0});         // mov ecx, n
        if (s == 2) {
            b.write(0x66);
        }
        if (rep) {
            b.write((kind == 0xA6 || kind == 0xAE) && rnd.nextBoolean() ? 0xF2 : 0xF3);
        }
        if (s == 8) {
            b.write(0x48);
        }
        b.write(kind | (s == 1 ? 0 : 1));
        if ((kind == 0xA6 || kind == 0xAE) && (!rep || n > 0)) {
            flags(RandomProgram.ALL, 0);
        }
        return b.toByteArray();
    }
}
