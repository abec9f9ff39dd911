package io.p2vkit.hv.emu;

/**
 * The flags a compiled region leaves in its locals instead of {@link Flags}: a recipe naming the
 * last flag-setting instruction (its lazy kind, or a shift or IMUL, and the operand size), which
 * with the operand and result the region keeps (FA, FRES) rebuilds what that instruction
 * wrote. The region holds the recipe in a local and applies it where the flags leave the
 * region's hands: at its exit, normal or by a fault (whose exception frame holds RFLAGS). So an
 * instruction whose flags only an exception could see costs a store to a local, not to Flags.
 */
final class PendingFlags {

    /** Flags holds everything. */
    static final int NONE = 0;
    private static final int SHIFT = 1 << 20;
    private static final int IMUL = 1 << 21;
    private static final int PRODUCT = 1 << 22;
    private static final int CARRY = 1 << 23;
    /** Where an ADC or SBB recipe holds the carry the instruction took in (0 or 1), set as it runs. */
    static final int CARRY_IN_SHIFT = 24;

    private PendingFlags() {
    }

    /**
     * An ADD, SUB, LOGIC, INC or DEC result ({@link Flags} kinds) from the operand in FA and the
     * result in FRES: the other operand follows from them. INC and DEC need Flags' CF to be right.
     */
    static int lazy(int kind, int size) {
        return kind << 4 | size;
    }

    /**
     * ROL, ROR, SHL, SHR or SAR ({@code kind} 0, 1, 4-7 of group 2) by a non-zero constant:
     * flags from the operand in FA. A rotate keeps the flags other than CF and OF, so Flags must
     * hold them when it runs (the scan has every flag producer before it record its flags).
     */
    static int shift(int kind, int size, int count) {
        return SHIFT | count << 12 | kind << 8 | size;
    }

    /** A MUL or IMUL: the result in FRES, FA 1 when it overflowed (CF = OF = 1). */
    static int imul(int size) {
        return IMUL | size;
    }

    /**
     * A two- or three-operand IMUL of 16- or 32-bit operands: the result in FRES, the exact
     * product in FA, so that whether it overflowed is worked out only where the flags are needed.
     */
    static int imulProduct(int size) {
        return IMUL | PRODUCT | size;
    }

    /**
     * An ADC or SBB ({@link Flags} kind) from FA and FRES; the region ORs the carry it took in
     * into bit {@link #CARRY_IN_SHIFT} at run time. The other operand follows from the three.
     */
    static int withCarry(int kind, int size) {
        return CARRY | kind << 4 | size;
    }

    /** Writes the flags {@code recipe} describes into {@code c.flags}, from FA ({@code a}) and FRES ({@code res}). */
    static void apply(Cpu c, int recipe, long a, long res) {
        int size = recipe & 0xF;
        if ((recipe & SHIFT) != 0) {
            Arith64.shift(c, recipe >>> 8 & 7, size, a, recipe >>> 12 & 0x3F);
        } else if ((recipe & CARRY) != 0) {
            int kind = recipe >>> 4 & 0xF;
            int carry = recipe >>> CARRY_IN_SHIFT & 1;
            long b = kind == Flags.ADC ? res - a - carry : a - res - carry;
            c.flags.setWithCarry(kind, size, a, b, res, carry);
        } else if ((recipe & IMUL) != 0) {
            boolean overflow = (recipe & PRODUCT) != 0 ? Arith64.productOverflows(size, a) : a != 0;
            Arith64.imulFlags(c, size, res, overflow);
        } else {
            int kind = recipe >>> 4 & 0xF;
            // Flags reads only the low size bytes of b, which res and a determine.
            long b = switch (kind) {
                case Flags.ADD -> res - a;
                case Flags.SUB -> a - res;
                case Flags.INC, Flags.DEC -> 1;
                default -> 0; // LOGIC: no flag depends on the operands
            };
            c.flags.set(kind, size, a, b, res);
        }
    }
}
