package io.p2vkit.hv.emu.decode;

/**
 * One decoded x86 instruction: its length and its operand fields, so that the executor reads
 * them without indirection. Instances are immutable, but for the interpreter's link to the next
 * instruction ({@link #next}), and cached by the CPU per physical code address, so they are built
 * once and executed many times. Fields are as narrow as their values
 * (40 bytes an instance instead of 88): the interpreter runs a kernel's lukewarm code from
 * these objects, and they are mostly out of the CPU's caches then.
 *
 * <p>Opcodes are numbered 0x000-0x0FF for the one-byte map and 0x100-0x1FF for the 0F map.
 * Segment numbers follow the x86 encoding: ES=0, CS=1, SS=2, DS=3, FS=4, GS=5.
 */
public final class DecodedInsn {

    public static final int PREFIX_LOCK = 1;
    public static final int PREFIX_REP = 2;    // F3
    public static final int PREFIX_REPNE = 4;  // F2
    public static final int PREFIX_SEG = 8;    // a segment override was present
    public static final int PREFIX_OPSIZE = 16;
    public static final int PREFIX_ADSIZE = 32;

    /** {@link #base} of a RIP-relative operand (64-bit mode): the next instruction's address + disp. */
    public static final int BASE_RIP = 16;

    /** Bytes the instruction occupies (1-15). */
    public final byte length;
    /** 0x000-0x0FF one-byte map, 0x100-0x1FF two-byte (0F) map. */
    public final short opcode;
    /** PREFIX_* bits. */
    public final byte prefixes;
    /** ModRM fields (0 when absent). mod==3 means a register operand. */
    public final byte mod;
    public final byte reg;
    public final byte rm;
    /** Memory operand: base register or -1, index register or -1, scale as a shift (0-3). */
    public final byte base;
    public final byte index;
    public final byte scale;
    /**
     * Displacement (sign-extended), or the absolute offset of a moffs operand (its low half with
     * 64-bit addressing); the high half of MOV r64, imm64's immediate ({@link #imm64()}).
     */
    public final int disp;
    /** Segment the memory operand uses: the override if any, else the default (DS or SS). */
    public final byte seg;
    /**
     * First immediate, sign-extended from its encoded width (ib/iw/iz); far pointers' offset; the
     * high half of a moffs operand's 64-bit offset ({@link #imm64()}).
     */
    public final int imm;
    /** Second immediate: a far pointer's selector, ENTER's nesting level. */
    public final char imm2;
    /**
     * The REX prefix byte (0x40-0x4F) in effect, or 0. Its R, X and B bits are already folded
     * into reg, rm, base and index; a non-zero value also means byte registers 4-7 are SPL, BPL,
     * SIL, DIL (not AH, CH, DH, BH). For opcodes naming a register in their low bits (PUSH/POP,
     * XCHG, MOV imm, BSWAP) {@link #rm} holds that register, extended by REX.B, in 64-bit code.
     */
    public final byte rex;

    // The bits of flags.
    private static final int CODE32 = 1;
    private static final int OP32 = 2;
    private static final int ADDR32 = 4;
    private static final int MODRM = 8;
    private static final int CODE64 = 16;
    private static final int OP64 = 32;
    private static final int ADDR64 = 64;
    private static final int INVALID = 128;
    /** The flags, packed: eight booleans would take eight bytes of every instance. */
    private final byte flags;
    /** The interpreter's link to the instruction after this one ({@link #next}); the only mutable field. */
    private DecodedInsn next;

    DecodedInsn(int length, int opcode, int prefixes, boolean code32, boolean op32, boolean addr32,
            boolean hasModrm, int mod, int reg, int rm, int base, int index, int scale, int disp,
            int seg, int imm, int imm2, boolean code64, boolean op64, boolean addr64, int rex,
            boolean invalid) {
        this.flags = (byte) ((code32 ? CODE32 : 0) | (op32 ? OP32 : 0) | (addr32 ? ADDR32 : 0) | (hasModrm ? MODRM : 0)
                | (code64 ? CODE64 : 0) | (op64 ? OP64 : 0) | (addr64 ? ADDR64 : 0) | (invalid ? INVALID : 0));
        this.length = (byte) length;
        this.opcode = (short) opcode;
        this.prefixes = (byte) prefixes;
        this.mod = (byte) mod;
        this.reg = (byte) reg;
        this.rm = (byte) rm;
        this.base = (byte) base;
        this.index = (byte) index;
        this.scale = (byte) scale;
        this.disp = disp;
        this.seg = (byte) seg;
        this.imm = imm;
        this.imm2 = (char) imm2;
        this.rex = (byte) rex;
    }

    /** Whether the code segment's default size was 32 bits when this was decoded. */
    public boolean code32() {
        return (flags & CODE32) != 0;
    }

    /** Effective operand size is 32 bits (else 16). */
    public boolean op32() {
        return (flags & OP32) != 0;
    }

    /** Effective address size is 32 bits (else 16). */
    public boolean addr32() {
        return (flags & ADDR32) != 0;
    }

    /** Whether a ModRM byte is present. */
    public boolean hasModrm() {
        return (flags & MODRM) != 0;
    }

    /** Decoded as 64-bit code (IA-32e mode, CS.L = 1); then registers are numbered 0-15. */
    public boolean code64() {
        return (flags & CODE64) != 0;
    }

    /** Effective operand size is 64 bits (REX.W, or a d64/f64 opcode); {@link #op32()} is then false. */
    public boolean op64() {
        return (flags & OP64) != 0;
    }

    /** Effective address size is 64 bits; {@link #addr32()} is then false. */
    public boolean addr64() {
        return (flags & ADDR64) != 0;
    }

    /** The encoding is undefined in the mode it was decoded for (i64 opcodes): it raises #UD. */
    public boolean invalid() {
        return (flags & INVALID) != 0;
    }

    /**
     * The instruction after this one on its code page, as the interpreter last went on to it in
     * a straight line, or null: a cache of the page's lookup, which the page clears when it notes a
     * break before that instruction (a region starts there). Only the vCPU whose page decoded
     * this instance touches it.
     */
    public DecodedInsn next() {
        return next;
    }

    /** Links the instruction the interpreter went on to after this one ({@link #next}). */
    public void linkNext(DecodedInsn after) {
        next = after;
    }

    /** Drops the link: a break is noted before the next instruction. */
    public void unlinkNext() {
        next = null;
    }

    /**
     * MOV r64, imm64's immediate (B8-BF with REX.W), or the offset of a moffs operand with 64-bit
     * addressing (A0-A3): kept as two halves in fields those forms leave unused (disp and imm),
     * which spares every instance a long.
     */
    public long imm64() {
        return opcode >= 0xB8 ? (long) disp << 32 | (imm & 0xFFFF_FFFFL) : (long) imm << 32 | (disp & 0xFFFF_FFFFL);
    }

    /** Whether {@link #imm64()} holds a value: MOV r64, imm64, or a moffs operand with 64-bit addressing. */
    public boolean hasImm64() {
        return opcode >= 0xB8 && opcode <= 0xBF && op64() || opcode >= 0xA0 && opcode <= 0xA3 && addr64();
    }

    /** Whether the ModRM operand names memory (not a register). */
    public boolean isMemory() {
        return hasModrm() && mod != 3;
    }

    public boolean rep() {
        return (prefixes & PREFIX_REP) != 0;
    }

    public boolean repne() {
        return (prefixes & PREFIX_REPNE) != 0;
    }

    /** Operand size in bytes for a "v" operand: 2, 4 or 8. */
    public int opSize() {
        return op64() ? 8 : op32() ? 4 : 2;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(opcode >= 0x100 ? "0F " : "").append(String.format("%02X", opcode & 0xFF))
                .append(" len=").append(length)
                .append(op64() ? " o64" : op32() ? " o32" : " o16")
                .append(addr64() ? " a64" : addr32() ? " a32" : " a16");
        if (rex != 0) {
            sb.append(" rex=").append(Integer.toHexString(rex));
        }
        if (invalid()) {
            sb.append(" invalid");
        }
        if (hasModrm()) {
            sb.append(" mod=").append(mod).append(" reg=").append(reg).append(" rm=").append(rm);
            if (mod != 3) {
                sb.append(" [seg").append(seg).append(" base=").append(base).append(" idx=").append(index)
                        .append("<<").append(scale).append(" disp=0x").append(Integer.toHexString(disp)).append(']');
            }
        }
        sb.append(" imm=0x").append(Integer.toHexString(imm));
        if (hasImm64()) {
            sb.append(" imm64=0x").append(Long.toHexString(imm64()));
        }
        if (imm2 != 0) {
            sb.append(" imm2=0x").append(Integer.toHexString(imm2));
        }
        if (prefixes != 0) {
            sb.append(" pfx=").append(Integer.toBinaryString(prefixes));
        }
        return sb.toString();
    }
}
