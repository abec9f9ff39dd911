package io.p2vkit.hv.emu;

/**
 * EFLAGS with lazily computed arithmetic flags (the JPC/Bochs technique): an ALU operation
 * records its kind, size, operands and result; CF, PF, AF, ZF, SF and OF are derived only when an
 * instruction reads them. Every other EFLAGS bit lives in {@link #stored}, which also holds the
 * arithmetic bits whenever {@link #kind} is {@link #NONE}.
 */
final class Flags {

    static final int CF = 1;
    static final int PF = 1 << 2;
    static final int AF = 1 << 4;
    static final int ZF = 1 << 6;
    static final int SF = 1 << 7;
    static final int TF = 1 << 8;
    static final int IF = 1 << 9;
    static final int DF = 1 << 10;
    static final int OF = 1 << 11;
    static final int IOPL = 3 << 12;
    static final int NT = 1 << 14;
    static final int RF = 1 << 16;
    static final int VM = 1 << 17;
    static final int AC = 1 << 18;
    static final int ID = 1 << 21;
    static final int ARITH = CF | PF | AF | ZF | SF | OF;

    static final int NONE = 0;
    static final int ADD = 1;
    static final int ADC = 2;
    static final int SUB = 3;
    static final int SBB = 4;
    static final int LOGIC = 5;
    static final int INC = 6;
    static final int DEC = 7;

    /** Materialized EFLAGS; the arithmetic bits are valid only while kind == NONE (CF also for INC/DEC). */
    int stored = 2;
    int kind;
    /** Operand size in bytes: 1, 2, 4 or 8. Operands and result are kept in 64 bits. */
    int size = 4;
    long a;
    long b;
    long res;
    /** Carry-in of ADC/SBB. */
    int carryIn;

    static int mask(int size) {
        return size == 4 ? -1 : (1 << (size * 8)) - 1;
    }

    static int sign(int size) {
        return 1 << (size * 8 - 1);
    }

    /** {@link #mask} for sizes up to 8 bytes. */
    static long mask64(int size) {
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    static long sign64(int size) {
        return 1L << (size * 8 - 1);
    }

    /** Records an ALU result for lazy evaluation. */
    void set(int kind, int size, long a, long b, long res) {
        if (kind == INC || kind == DEC) {
            stored = (stored & ~CF) | (cf() ? CF : 0);
        }
        record(kind, size, a, b, res);
    }

    /**
     * {@link #set} for a kind other than INC and DEC, which keep the old CF: five stores, small
     * enough that the JIT inlines it into every compiled region that records flags.
     */
    void record(int kind, int size, long a, long b, long res) {
        this.kind = kind;
        this.size = size;
        this.a = a;
        this.b = b;
        this.res = res;
    }

    void setWithCarry(int kind, int size, long a, long b, long res, int carryIn) {
        this.carryIn = carryIn;
        set(kind, size, a, b, res);
    }

    /** Sets all six arithmetic flags at once (shifts, multiplies, BCD). */
    void setArith(int arithBits) {
        stored = (stored & ~ARITH) | (arithBits & ARITH);
        kind = NONE;
    }

    /** SF, ZF and PF bits of a result of {@code size} bytes. */
    static int szp(int size, long res) {
        long m = res & mask64(size);
        int f = m == 0 ? ZF : 0;
        if ((m & sign64(size)) != 0) {
            f |= SF;
        }
        if ((Long.bitCount(m & 0xFF) & 1) == 0) {
            f |= PF;
        }
        return f;
    }

    boolean cf() {
        long m = mask64(size);
        return switch (kind) {
            case NONE, INC, DEC -> (stored & CF) != 0;
            case ADD -> Long.compareUnsigned(res & m, a & m) < 0;
            case ADC -> carryIn != 0 ? Long.compareUnsigned(res & m, a & m) <= 0
                    : Long.compareUnsigned(res & m, a & m) < 0;
            case SUB -> Long.compareUnsigned(a & m, b & m) < 0;
            case SBB -> carryIn != 0 ? Long.compareUnsigned(a & m, b & m) <= 0
                    : Long.compareUnsigned(a & m, b & m) < 0;
            default -> false;
        };
    }

    boolean of() {
        long s = sign64(size);
        return switch (kind) {
            case NONE -> (stored & OF) != 0;
            case ADD, ADC, INC -> ((a ^ res) & (b ^ res) & s) != 0;
            case SUB, SBB, DEC -> ((a ^ b) & (a ^ res) & s) != 0;
            default -> false;
        };
    }

    boolean af() {
        return kind == NONE ? (stored & AF) != 0 : kind != LOGIC && ((a ^ b ^ res) & 0x10) != 0;
    }

    boolean zf() {
        return kind == NONE ? (stored & ZF) != 0 : (res & mask64(size)) == 0;
    }

    boolean sf() {
        return kind == NONE ? (stored & SF) != 0 : (res & sign64(size)) != 0;
    }

    boolean pf() {
        return kind == NONE ? (stored & PF) != 0 : (Long.bitCount(res & 0xFF) & 1) == 0;
    }

    /** The whole EFLAGS value (bit 1 always set). */
    int get() {
        if (kind == NONE) {
            return stored | 2;
        }
        int f = stored & ~ARITH;
        if (cf()) {
            f |= CF;
        }
        if (pf()) {
            f |= PF;
        }
        if (af()) {
            f |= AF;
        }
        if (zf()) {
            f |= ZF;
        }
        if (sf()) {
            f |= SF;
        }
        if (of()) {
            f |= OF;
        }
        return f | 2;
    }

    /** Replaces EFLAGS wholesale (POPF, IRET, SAHF...); the caller masks what may change. */
    void load(int value) {
        stored = (value & ~0x8028) | 2; // bits 3, 5 and 15 read as zero, bit 1 as one
        kind = NONE;
    }

    /** Materializes the lazy flags so that single bits of {@link #stored} can be edited. */
    void materialize() {
        if (kind != NONE) {
            stored = get();
            kind = NONE;
        }
    }

    void setCf(boolean v) {
        materialize();
        stored = v ? stored | CF : stored & ~CF;
    }

    boolean isSet(int bit) {
        return (stored & bit) != 0;
    }

    void setBit(int bit, boolean v) {
        stored = v ? stored | bit : stored & ~bit;
    }

    /**
     * The conditions after CMP/SUB, straight from the operands (the commonest case: no flag is
     * derived): B is unsigned a < b, L is signed a < b, and so on.
     */
    private boolean condAfterCompare(int cc) {
        int shift = 64 - size * 8;
        long ua = a << shift;
        long ub = b << shift;
        boolean r = switch (cc >>> 1) {
            case 1 -> Long.compareUnsigned(ua, ub) < 0;
            case 2 -> ua == ub;
            case 3 -> Long.compareUnsigned(ua, ub) <= 0;
            case 6 -> ua < ub;
            case 7 -> ua <= ub;
            default -> {
                boolean v = switch (cc >>> 1) {
                    case 0 -> of();
                    case 4 -> sf();
                    default -> pf();
                };
                yield v;
            }
        };
        return r ^ ((cc & 1) != 0);
    }

    /** Evaluates condition code {@code cc} (0-15) as Jcc/SETcc/CMOVcc do (SDM Vol. 1 Table B-1). */
    boolean cond(int cc) {
        if (kind == SUB) {
            return condAfterCompare(cc);
        }
        boolean r = switch (cc >>> 1) {
            case 0 -> of();
            case 1 -> cf();
            case 2 -> zf();
            case 3 -> cf() || zf();
            case 4 -> sf();
            case 5 -> pf();
            case 6 -> sf() != of();
            default -> zf() || sf() != of();
        };
        return r ^ ((cc & 1) != 0);
    }
}
