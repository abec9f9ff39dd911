package io.p2vkit.hv.emu;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.Random;

/**
 * Generates random 32-bit instruction sequences that run identically on any x86 in user mode,
 * for the differential tests. Memory operands address a scratch area through EBX (never
 * written); only EAX, ECX, EDX and EBP (and their byte halves) are written as data registers;
 * ESI/EDI are set right before the string operations and scaled-index forms that use them.
 *
 * <p>The generator tracks which arithmetic flags are undefined (SDM) after each instruction: an
 * instruction that reads a flag (ADC, SETcc, LAHF...) is preceded by a CMP that defines them all,
 * and the flags still undefined at the end are masked out of the comparison.
 */
final class RandomProgram {

    static final int SCRATCH = 0x1000_0000;
    static final int SCRATCH_SIZE = 0x11000;
    static final int DATA_BASE = SCRATCH + 0x800;    // EBX
    static final int STACK_TOP = SCRATCH + 0x1F00;   // ESP

    static final int CF = 1;
    static final int PF = 4;
    static final int AF = 0x10;
    static final int ZF = 0x40;
    static final int SF = 0x80;
    static final int OF = 0x800;
    static final int ALL = CF | PF | AF | ZF | SF | OF;

    private static final int[] DATA32 = {0, 1, 2, 5};        // EAX ECX EDX EBP
    private static final int[] DATA8 = {0, 1, 2, 4, 5, 6};   // AL CL DL AH CH DH
    private static final int[] COND_FLAGS = {OF, CF, ZF, CF | ZF, SF, PF, SF | OF, ZF | SF | OF};

    private final Random rnd;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int undefined;
    /** Whether the current instruction uses 16-bit addressing through FS (set by {@link #begin}). */
    private boolean addr16;
    private int stackDepth;
    final StringBuilder listing = new StringBuilder();
    /**
     * The x87 instruction and data pointers of the environment images the program stores, as
     * {EBX-relative offset, length}: {@link X87Images#forgetPreemptedPointers} may skip them.
     */
    final java.util.List<int[]> x87Pointers = new java.util.ArrayList<>();

    RandomProgram(long seed) {
        this.rnd = new Random(seed);
    }

    byte[] code() {
        return out.toByteArray();
    }

    /** Flags whose value the SDM leaves undefined at the end of the sequence. */
    int undefinedFlags() {
        return undefined;
    }

    /** Generates {@code count} random instructions (plus the set-up ones they need). */
    RandomProgram generate(int count) {
        for (int i = 0; i < count; i++) {
            one();
        }
        return this;
    }

    // ---- emitting ----

    void emit(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
    }

    void imm32(int v) {
        emit(v, v >>> 8, v >>> 16, v >>> 24);
    }

    void imm16(int v) {
        emit(v, v >>> 8);
    }

    private void imm(int size, int v) {
        if (size == 1) {
            emit(v);
        } else if (size == 2) {
            imm16(v);
        } else {
            imm32(v);
        }
    }

    /**
     * Starts a ModRM instruction: one in four gets FS and address-size prefixes, so its memory
     * operand uses 16-bit addressing relative to FS (an LDT segment based at the scratch area).
     */
    private void begin() {
        addr16 = rnd.nextInt(4) == 0;
        if (addr16) {
            emit(0x64, 0x67);
        }
    }

    void note(String what) {
        listing.append(what).append("; ");
    }

    /** Records the flags an instruction defines and those it leaves undefined. */
    private void flags(int defined, int undefinedNow) {
        undefined = (undefined & ~defined) | undefinedNow;
    }

    /** Makes sure {@code needed} flags are defined before an instruction reads them. */
    private void need(int needed) {
        if ((undefined & needed) != 0) {
            emit(0x39, 0xC8); // cmp eax, ecx
            note("cmp eax,ecx");
            flags(ALL, 0);
        }
    }

    private int pick(int[] from) {
        return from[rnd.nextInt(from.length)];
    }

    private int size() {
        int s = rnd.nextInt(3);
        return s == 0 ? 1 : s == 1 ? 2 : 4;
    }

    private void opsizePrefix(int size) {
        if (size == 2) {
            emit(0x66);
        }
    }

    private int dataReg(int size) {
        return size == 1 ? pick(DATA8) : pick(DATA32);
    }

    private int anyReg() {
        return rnd.nextInt(8);
    }

    private int randomValue() {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 0x8000_0000;
            case 3 -> rnd.nextInt(256) - 128;
            default -> rnd.nextInt();
        };
    }

    /** A ModRM (plus SIB and displacement) naming scratch memory, with {@code reg} in the reg field. */
    private void memOperand(int reg) {
        if (addr16) {
            memOperand16(reg);
            return;
        }
        switch (rnd.nextInt(3)) {
            case 0 -> emit(0x40 | reg << 3 | 3, rnd.nextInt(128) - 64);            // [ebx+d8]
            case 1 -> {
                emit(0x80 | reg << 3 | 3);                                           // [ebx+d32]
                imm32(rnd.nextInt(512) - 256);
            }
            default -> {
                int scale = rnd.nextInt(4);
                emit(0x44 | reg << 3, scale << 6 | 6 << 3 | 3, rnd.nextInt(64) - 32); // [ebx+esi*s+d8]
            }
        }
    }

    /**
     * 16-bit addressing with BX = 0x0800 and SI small (BP and DI hold random data and are not
     * used); displacements may wrap around 64 KiB, but the operand always ends below 0xFFF8.
     */
    private void memOperand16(int reg) {
        switch (rnd.nextInt(7)) {
            case 0 -> emit(reg << 3);                                         // [bx+si]
            case 1 -> emit(0x40 | reg << 3, rnd.nextInt(256));                // [bx+si+d8]
            case 2 -> {
                emit(0x80 | reg << 3);                                        // [bx+si+d16]
                imm16(rnd.nextInt(0xF000));
            }
            case 3 -> emit(reg << 3 | 4);                                     // [si]
            case 4 -> emit(0x40 | reg << 3 | 7, rnd.nextInt(256));            // [bx+d8]
            case 5 -> {
                emit(reg << 3 | 6);                                           // [d16]
                imm16(rnd.nextInt(0xFFF0));
            }
            default -> {
                int d16 = rnd.nextInt(0x10000);                               // [bx+d16], may wrap
                if (((0x800 + d16) & 0xFFFF) > 0xFFF0) {
                    d16 -= 0x20;
                }
                emit(0x80 | reg << 3 | 7);
                imm16(d16);
            }
        }
    }

    /** A ModRM operand: a register (from {@code regs}) or scratch memory. */
    private void rmOperand(int reg, int size, boolean written) {
        if (rnd.nextInt(3) == 0) {
            memOperand(reg);
        } else {
            int rm = written ? dataReg(size) : (size == 1 ? rnd.nextInt(8) : anyReg());
            emit(0xC0 | reg << 3 | rm);
        }
    }

    /** Sets ESI to a small index before instructions that may use [ebx+esi*s]. */
    private void setEsi() {
        emit(0xBE);
        imm32(rnd.nextInt(16));
        note("mov esi,small");
    }

    // ---- instruction kinds ----

    private void one() {
        addr16 = false;
        setEsi();
        switch (rnd.nextInt(28)) {
            case 0, 1, 2 -> alu();
            case 3 -> aluImm();
            case 4 -> incDec();
            case 5 -> notNegTest();
            case 6, 7 -> shift();
            case 8 -> mulDiv();
            case 9 -> imulForms();
            case 10 -> bitTest();
            case 11 -> bitScan();
            case 12 -> setccCmov();
            case 13 -> exchange();
            case 14 -> lea();
            case 15 -> pushPop();
            case 16 -> stringOp();
            case 17 -> extend();
            case 18 -> flagsOps();
            case 19 -> doubleShift();
            case 20 -> bcd();
            case 21 -> jcc();
            case 22 -> movForms();
            case 23 -> frames();
            case 24 -> loops();
            case 25 -> tables();
            case 26 -> cmpxchg8b();
            default -> bswap();
        }
    }

    private void alu() {
        int op = rnd.nextInt(8);
        int size = size();
        if (op == 2 || op == 3) {
            need(CF);
        }
        begin();
        opsizePrefix(size);
        int dir = rnd.nextInt(2); // 0: Ev,Gv  1: Gv,Ev
        emit(op << 3 | dir << 1 | (size == 1 ? 0 : 1));
        if (dir == 0) {
            rmOperand(size == 1 ? rnd.nextInt(8) : anyReg(), size, op != 7);
        } else {
            rmOperand(op == 7 ? anyReg() : dataReg(size), size, false);
        }
        note("alu" + op + "/" + size);
        flags(ALL, op == 1 || op == 4 || op == 6 ? AF : 0);
    }

    private void aluImm() {
        int op = rnd.nextInt(8);
        int size = size();
        if (op == 2 || op == 3) {
            need(CF);
        }
        begin();
        opsizePrefix(size);
        int form = rnd.nextInt(3);
        if (form == 0) { // AL/eAX, imm
            emit(op << 3 | 4 | (size == 1 ? 0 : 1));
            imm(size, randomValue());
        } else if (form == 1 || size == 1) {
            emit(size == 1 ? 0x80 : 0x81);
            rmOperand(op, size, op != 7);
            imm(size, randomValue());
        } else {
            emit(0x83);
            rmOperand(op, size, op != 7);
            emit(rnd.nextInt(256));
        }
        note("aluimm" + op + "/" + size);
        flags(ALL, op == 1 || op == 4 || op == 6 ? AF : 0);
    }

    private void incDec() {
        int size = size();
        int kind = rnd.nextInt(2);
        begin();
        if (size != 1 && rnd.nextBoolean()) {
            opsizePrefix(size);
            emit(0x40 | kind << 3 | pick(DATA32));
        } else {
            opsizePrefix(size);
            emit(size == 1 ? 0xFE : 0xFF);
            rmOperand(kind, size, true);
        }
        note(kind == 0 ? "inc" : "dec");
        flags(OF | SF | ZF | AF | PF, 0);
    }

    private void notNegTest() {
        int size = size();
        int kind = rnd.nextInt(3);
        begin();
        opsizePrefix(size);
        emit(size == 1 ? 0xF6 : 0xF7);
        if (kind == 0) {
            rmOperand(0, size, false);
            imm(size, randomValue());
            note("test");
            flags(ALL, AF);
        } else {
            rmOperand(kind + 1, size, true);
            note(kind == 1 ? "not" : "neg");
            if (kind == 2) {
                flags(ALL, 0);
            }
        }
    }

    private void shift() {
        int kind = rnd.nextInt(8);
        if (kind == 6) {
            kind = 4; // SAL is SHL; the /6 alias is not documented for every CPU
        }
        int size = size();
        int bits = size * 8;
        int count = rnd.nextInt(4) == 0 ? 1 : rnd.nextInt(32);
        if (kind == 2 || kind == 3) {
            need(CF);
        }
        int form = rnd.nextInt(3);
        if (form == 2) {
            emit(0xB1, count); // mov cl, count
            note("mov cl");
        }
        begin();
        opsizePrefix(size);
        int wide = size == 1 ? 0 : 1;
        if (form == 0) {
            emit(0xC0 | wide);
            rmOperand(kind, size, true);
            emit(count);
        } else if (form == 1) {
            count = 1;
            emit(0xD0 | wide);
            rmOperand(kind, size, true);
        } else {
            emit(0xD2 | wide);
            int before = out.size();
            rmOperand(kind, size, true);
            // The destination must not be CL itself (its count was just set).
            byte[] b = out.toByteArray();
            if ((b[before] & 0xC0) == 0xC0 && (b[before] & 7) == 1) {
                out.reset();
                out.write(b, 0, before);
                emit(0xC0 | kind << 3); // use AL/AX/EAX instead
            }
        }
        note("shift" + kind + "/" + size + " by " + count);
        int masked = count & 0x1F;
        if (masked == 0) {
            return;
        }
        if (kind <= 3) { // rotates: CF and OF only
            int effective = kind >= 2 && bits < 32 ? masked % (bits + 1) : masked;
            if (effective == 0 && kind >= 2) {
                // A count that is a multiple of 9 (or 17) rotates nothing, but the masked count is
                // not 1, so OF is undefined (AMD changes it).
                flags(0, OF);
                return;
            }
            flags(CF | OF, masked == 1 ? 0 : OF);
        } else {
            int undef = AF | (masked == 1 ? 0 : OF);
            if (masked > bits) {
                undef |= CF;
            }
            flags(ALL, undef);
        }
    }

    private void mulDiv() {
        int size = size();
        int kind = 4 + rnd.nextInt(4); // MUL IMUL DIV IDIV
        if (kind >= 6) {
            // Set up a dividend and divisor that cannot fault: ECX (CL/CX) is the divisor.
            int divisor;
            do {
                divisor = randomValue();
            } while ((divisor & Flags.mask(size)) == 0 || (divisor & Flags.mask(size)) == Flags.mask(size));
            emit(0xB9);
            imm32(divisor);
            if (kind == 6) {
                if (size == 1) {
                    emit(0x0F, 0xB6, 0xC0);      // movzx eax, al
                } else {
                    emit(0x31, 0xD2);            // xor edx, edx
                }
            } else if (size == 1) {
                emit(0x66, 0x98);                // cbw
            } else if (size == 2) {
                emit(0x66, 0x99);                // cwd
            } else {
                emit(0x99);                      // cdq
            }
            opsizePrefix(size);
            emit(size == 1 ? 0xF6 : 0xF7, 0xC0 | kind << 3 | 1);
            note((kind == 6 ? "div" : "idiv") + "/" + size);
            flags(ALL, ALL);
            return;
        }
        begin();
        opsizePrefix(size);
        emit(size == 1 ? 0xF6 : 0xF7);
        rmOperand(kind, size, false);
        note((kind == 4 ? "mul" : "imul") + "/" + size);
        flags(ALL, SF | ZF | AF | PF);
    }

    private void imulForms() {
        int size = rnd.nextBoolean() ? 2 : 4;
        begin();
        opsizePrefix(size);
        int form = rnd.nextInt(3);
        int reg = pick(DATA32);
        if (form == 0) {
            emit(0x0F, 0xAF);
            rmOperand(reg, size, false);
        } else if (form == 1) {
            emit(0x69);
            rmOperand(reg, size, false);
            imm(size, randomValue());
        } else {
            emit(0x6B);
            rmOperand(reg, size, false);
            emit(rnd.nextInt(256));
        }
        note("imul form " + form);
        flags(ALL, SF | ZF | AF | PF);
    }

    private void bitTest() {
        int size = rnd.nextBoolean() ? 2 : 4;
        int op = rnd.nextInt(4);
        if (rnd.nextBoolean()) {
            begin();
            opsizePrefix(size);
            emit(0x0F, 0xBA);
            rmOperand(4 + op, size, op != 0);
            emit(rnd.nextInt(256));
        } else {
            // The bit offset register: a small signed value so memory forms stay in scratch.
            emit(0xBA);
            imm32(rnd.nextInt(2048) - 1024);
            // No 16-bit addressing here: whether EA + offset/8 wraps at 64 KiB differs between
            // implementations (AMD hardware does not wrap; QEMU does).
            opsizePrefix(size);
            emit(0x0F, 0xA3 | op << 3);
            if (rnd.nextBoolean()) {
                memOperand(2);
            } else {
                emit(0xC0 | 2 << 3 | pick(new int[] {0, 1, 5}));
            }
        }
        note("bt" + op);
        flags(CF, OF | SF | AF | PF);
    }

    private void bitScan() {
        int size = rnd.nextBoolean() ? 2 : 4;
        begin();
        opsizePrefix(size);
        emit(0x0F, 0xBC | rnd.nextInt(2));
        rmOperand(pick(DATA32), size, false);
        note("bsf/bsr");
        flags(ZF, CF | OF | SF | AF | PF);
    }

    private void setccCmov() {
        int cc = rnd.nextInt(16);
        need(COND_FLAGS[cc >>> 1]);
        begin();
        if (rnd.nextBoolean()) {
            emit(0x0F, 0x90 | cc);
            rmOperand(0, 1, true);
            note("setcc");
        } else {
            int size = rnd.nextBoolean() ? 2 : 4;
            opsizePrefix(size);
            emit(0x0F, 0x40 | cc);
            rmOperand(pick(DATA32), size, false);
            note("cmovcc");
        }
    }

    private void exchange() {
        int size = size();
        int kind = rnd.nextInt(3);
        begin();
        opsizePrefix(size);
        int w = size == 1 ? 0 : 1;
        switch (kind) {
            case 0 -> {
                emit(0x86 | w);
                rmOperand(dataReg(size), size, true);
                note("xchg");
            }
            case 1 -> {
                emit(0x0F, 0xC0 | w);
                rmOperand(dataReg(size), size, true);
                note("xadd");
                flags(ALL, 0);
            }
            default -> {
                emit(0x0F, 0xB0 | w);
                rmOperand(dataReg(size), size, true);
                note("cmpxchg");
                flags(ALL, 0);
            }
        }
    }

    private void lea() {
        int reg = pick(DATA32);
        boolean a16 = rnd.nextInt(4) == 0;
        int size = rnd.nextInt(4) == 0 ? 2 : 4;
        if (a16) {
            emit(0x67);
        }
        opsizePrefix(size);
        emit(0x8D);
        int mod = rnd.nextInt(3);
        int rm = rnd.nextInt(8);
        emit(mod << 6 | reg << 3 | rm);
        if (a16) {
            if (mod == 0 && rm == 6) {
                imm16(rnd.nextInt());
            }
        } else {
            if (rm == 4) {
                int base = rnd.nextInt(8);
                emit(rnd.nextInt(4) << 6 | rnd.nextInt(8) << 3 | base);
                if (base == 5 && mod == 0) {
                    imm32(rnd.nextInt());
                }
            } else if (rm == 5 && mod == 0) {
                imm32(rnd.nextInt());
            }
        }
        if (mod == 1) {
            emit(rnd.nextInt(256));
        } else if (mod == 2) {
            if (a16) {
                imm16(rnd.nextInt());
            } else {
                imm32(rnd.nextInt());
            }
        }
        note("lea");
    }

    private void pushPop() {
        boolean push = stackDepth < 16 && (stackDepth == 0 || rnd.nextBoolean());
        int size = rnd.nextInt(4) == 0 ? 2 : 4;
        begin();
        if (push) {
            opsizePrefix(size);
            switch (rnd.nextInt(4)) {
                case 0 -> emit(0x50 | anyReg());
                case 1 -> emit(0x6A, rnd.nextInt(256));
                case 2 -> {
                    emit(0x68);
                    imm(size, rnd.nextInt());
                }
                default -> {
                    emit(0xFF);
                    memOperand(6);
                }
            }
            stackDepth++;
            note("push/" + size);
        } else {
            opsizePrefix(size);
            if (rnd.nextBoolean()) {
                emit(0x58 | pick(DATA32));
            } else {
                emit(0x8F);
                memOperand(0);
            }
            stackDepth--;
            note("pop/" + size);
        }
    }

    private void stringOp() {
        emit(0xBE);
        imm32(SCRATCH + 0x400 + rnd.nextInt(0x800));
        emit(0xBF);
        imm32(SCRATCH + 0x400 + rnd.nextInt(0x800));
        int count = rnd.nextInt(24);
        emit(0xB9);
        imm32(count);
        emit(rnd.nextBoolean() ? 0xFC : 0xFD); // cld / std
        int kind = rnd.nextInt(5);
        int base = new int[] {0xA4, 0xA6, 0xAA, 0xAC, 0xAE}[kind];
        int size = size();
        int rep = rnd.nextInt(3);
        if (rep == 1) {
            emit(0xF3);
        } else if (rep == 2 && (kind == 1 || kind == 4)) {
            emit(0xF2);
        } else if (rep == 2) {
            emit(0xF3);
        }
        opsizePrefix(size);
        emit(base | (size == 1 ? 0 : 1));
        note("string " + kind + "/" + size + " rep" + rep);
        if ((kind == 1 || kind == 4) && (rep == 0 || count != 0)) {
            // With a zero count under REP nothing is compared and flags keep their old values.
            flags(ALL, 0);
        }
        emit(0xFC); // cld
    }

    private void extend() {
        switch (rnd.nextInt(6)) {
            case 0 -> emit(0x98);
            case 1 -> emit(0x66, 0x98);
            case 2 -> emit(0x99);
            case 3 -> emit(0x66, 0x99);
            default -> {
                int size = rnd.nextBoolean() ? 2 : 4;
                begin();
                opsizePrefix(size);
                emit(0x0F, 0xB6 | rnd.nextInt(2) | (rnd.nextBoolean() ? 8 : 0));
                rmOperand(pick(DATA32), size, false);
            }
        }
        note("extend");
    }

    private void flagsOps() {
        switch (rnd.nextInt(5)) {
            case 0 -> {
                need(SF | ZF | AF | PF | CF);
                emit(0x9F); // lahf
                note("lahf");
            }
            case 1 -> {
                emit(0x9E); // sahf
                note("sahf");
                flags(SF | ZF | AF | PF | CF, 0);
            }
            case 2 -> {
                emit(0xF8 | rnd.nextInt(2)); // clc/stc
                flags(CF, 0);
            }
            case 3 -> {
                need(CF);
                emit(0xF5); // cmc
            }
            default -> {
                need(ALL);
                emit(0x9C); // pushfd
                emit(0x58 | pick(DATA32)); // pop into a data register
                note("pushf/pop");
            }
        }
    }

    private void doubleShift() {
        int size = rnd.nextBoolean() ? 2 : 4;
        int count = rnd.nextInt(4) == 0 ? 1 : rnd.nextInt(size == 2 ? 16 : 32);
        begin();
        opsizePrefix(size);
        emit(0x0F, rnd.nextBoolean() ? 0xA4 : 0xAC);
        rmOperand(anyReg(), size, true);
        emit(count);
        note("shld/shrd " + count);
        if (count != 0) {
            flags(ALL, AF | (count == 1 ? 0 : OF));
        }
    }

    private void bcd() {
        switch (rnd.nextInt(6)) {
            case 0, 1 -> {
                need(CF | AF);
                emit(rnd.nextBoolean() ? 0x27 : 0x2F);
                note("daa/das");
                flags(ALL, OF);
            }
            case 2, 3 -> {
                need(AF);
                emit(rnd.nextBoolean() ? 0x37 : 0x3F);
                note("aaa/aas");
                flags(ALL, OF | SF | ZF | PF);
            }
            case 4 -> {
                emit(0xD4, 1 + rnd.nextInt(255));
                note("aam");
                flags(ALL, OF | AF | CF);
            }
            default -> {
                emit(0xD5, rnd.nextInt(256));
                note("aad");
                flags(ALL, OF | AF | CF);
            }
        }
    }

    private void jcc() {
        int cc = rnd.nextInt(16);
        need(COND_FLAGS[cc >>> 1]);
        // Jump over one simple instruction: "add eax, imm32" (5 bytes).
        emit(0x70 | cc, 5);
        emit(0x05);
        imm32(rnd.nextInt());
        note("jcc");
        // Taken: flags keep their state; not taken: the ADD defines them all. Undefined stays undefined.
    }

    private void movForms() {
        int size = size();
        begin();
        opsizePrefix(size);
        switch (rnd.nextInt(3)) {
            case 0 -> {
                emit(0x88 | (size == 1 ? 0 : 1));
                rmOperand(size == 1 ? rnd.nextInt(8) : anyReg(), size, true);
            }
            case 1 -> {
                emit(0x8A | (size == 1 ? 0 : 1));
                rmOperand(dataReg(size), size, false);
            }
            default -> {
                emit(size == 1 ? 0xC6 : 0xC7);
                rmOperand(0, size, true);
                imm(size, randomValue());
            }
        }
        note("mov");
    }

    /** PUSHA, changes, POPA; ENTER (nesting 0 or 1) and LEAVE. */
    private void frames() {
        if (rnd.nextBoolean()) {
            int size = rnd.nextInt(4) == 0 ? 2 : 4;
            opsizePrefix(size);
            emit(0x60); // pusha
            emit(0x05);
            imm32(rnd.nextInt()); // add eax, imm32
            emit(0xF7, 0xD5); // not ebp
            opsizePrefix(size);
            emit(0x61); // popa
            note("pusha/popa/" + size);
            flags(ALL, 0);
        } else {
            emit(0xC8);
            imm16(rnd.nextInt(64) * 4);
            emit(rnd.nextInt(2)); // enter n, 0|1
            emit(0x89, 0xE8 | rnd.nextInt(2)); // mov eax|ecx, ebp
            emit(0xC9); // leave
            note("enter/leave");
        }
    }

    /** LOOP, LOOPE, LOOPNE, JECXZ over a 5-byte ADD. */
    private void loops() {
        int op = 0xE0 + rnd.nextInt(4);
        if (op == 0xE0 || op == 0xE1) {
            need(ZF);
        }
        if (rnd.nextBoolean()) {
            emit(0xB9);
            imm32(rnd.nextInt(3)); // mov ecx, 0..2 so that the count matters
        }
        emit(op, 5);
        emit(0x05);
        imm32(rnd.nextInt());
        note("loop" + Integer.toHexString(op));
    }

    /** XLAT and MOV with a direct offset (moffs). */
    private void tables() {
        if (rnd.nextBoolean()) {
            emit(0xD7); // xlat: [ebx + al]
            note("xlat");
        } else {
            int size = size();
            opsizePrefix(size);
            emit(0xA0 + rnd.nextInt(4) / 2 * 2 + (size == 1 ? 0 : 1));
            imm32(SCRATCH + 0x100 + rnd.nextInt(0x1000));
            note("moffs/" + size);
        }
    }

    private void cmpxchg8b() {
        emit(0x0F, 0xC7);
        memOperand(1);
        note("cmpxchg8b");
        flags(ZF, 0);
    }

    private void bswap() {
        emit(0x0F, 0xC8 | pick(DATA32));
        note("bswap");
    }

    String hex() {
        return HexFormat.of().formatHex(code());
    }
}
