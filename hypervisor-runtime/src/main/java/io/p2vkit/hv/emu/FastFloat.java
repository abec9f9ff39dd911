package io.p2vkit.hv.emu;

/**
 * The common case of {@link SoftFloat}'s arithmetic on the host's own IEEE operations: normal
 * operands well inside the exponent range and a result that stays there. Java rounds to
 * nearest; the exact error of that result (TwoSum for ADD/SUB, a fused multiply-add for
 * MUL/DIV/SQRT) tells whether it was inexact (PE) and on which side the exact value lies, which
 * gives the directed roundings by one step to the neighbour. Under these bounds no other flag,
 * DAZ or FTZ can apply. Everything else returns {@link #SLOW} and takes the exact slow path.
 */
final class FastFloat {

    /** Not a result: the fast path only ever returns normal numbers. */
    static final long SLOW = 0x7FF0_0000_DEAD_0001L;

    // Bounds keeping every operand, result and error term normal (and neighbours finite).
    private static final double MIN_D = 0x1p-960;
    private static final double MAX_D = 0x1p1022;
    private static final float MIN_F = 0x1p-90f;
    private static final float MAX_F = 0x1p126f;

    private FastFloat() {
    }

    private static boolean inRange(double v) {
        double m = Math.abs(v);
        return m >= MIN_D && m < MAX_D; // false for NaN
    }

    private static boolean inRange(float v) {
        float m = Math.abs(v);
        return m >= MIN_F && m < MAX_F;
    }

    /** MXCSR's rounding control, precision mask and precision flag. */
    private static final int RC_PM_PE = 0x6000 | 0x1000 | SoftFloat.PE;

    /**
     * Whether MXCSR rounds to nearest with PE masked and already raised, as it is in compiled
     * code after its first inexact result: then an operation whose operands and result stay in
     * range changes nothing but its destination (every other flag is out of reach in range).
     */
    static boolean quiet(int mxcsr) {
        return (mxcsr & RC_PM_PE) == (0x1000 | SoftFloat.PE);
    }

    /** ADD/SUB/MUL/DIV of doubles under a {@link #quiet} MXCSR: the host's result, or SLOW out of range. */
    static long quietDouble(int op, long a, long b) {
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        if (!inRange(x) || !inRange(y)) {
            return SLOW;
        }
        double r = switch (op) {
            case SoftFloat.ADD -> x + y;
            case SoftFloat.SUB -> x - y;
            case SoftFloat.MUL -> x * y;
            default -> x / y;
        };
        return inRange(r) ? Double.doubleToRawLongBits(r) : SLOW;
    }

    /** The same for singles (in the low 32 bits). */
    static long quietSingle(int op, long a, long b) {
        float x = Float.intBitsToFloat((int) a);
        float y = Float.intBitsToFloat((int) b);
        if (!inRange(x) || !inRange(y)) {
            return SLOW;
        }
        float r = switch (op) {
            case SoftFloat.ADD -> x + y;
            case SoftFloat.SUB -> x - y;
            case SoftFloat.MUL -> x * y;
            default -> x / y;
        };
        return inRange(r) ? Float.floatToRawIntBits(r) & 0xFFFF_FFFFL : SLOW;
    }

    static long arithDouble(Cpu c, int op, long a, long b) {
        double x = Double.longBitsToDouble(a);
        double y = Double.longBitsToDouble(b);
        if (!inRange(x) || !inRange(y)) {
            return SLOW;
        }
        if (op == SoftFloat.SUB) {
            y = -y;
        }
        double r;
        double err;
        switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> {
                r = x + y;
                double yy = r - x;
                err = (x - (r - yy)) + (y - yy);
            }
            case SoftFloat.MUL -> {
                r = x * y;
                err = Math.fma(x, y, -r);
            }
            default -> {
                r = x / y;
                err = Math.fma(-r, y, x) * Math.signum(y); // x - r*y has the sign of (x/y - r)*y
            }
        }
        if (!inRange(r)) {
            return SLOW;
        }
        return Double.doubleToRawLongBits(err == 0 ? r : directed(c, r, err));
    }

    static long sqrtDouble(Cpu c, long a) {
        double x = Double.longBitsToDouble(a);
        if (!inRange(x) || x < 0) {
            return SLOW;
        }
        double r = Math.sqrt(x);
        double err = Math.fma(-r, r, x);
        return Double.doubleToRawLongBits(err == 0 ? r : directed(c, r, err));
    }

    /** The result in MXCSR's rounding mode given the round-to-nearest one and the sign of the error. */
    private static double directed(Cpu c, double r, double err) {
        c.simdExceptions |= SoftFloat.PE;
        return switch (SoftFloat.roundingMode(c)) {
            case SoftFloat.ROUND_UP -> err > 0 ? Math.nextUp(r) : r;
            case SoftFloat.ROUND_DOWN -> err < 0 ? Math.nextDown(r) : r;
            case SoftFloat.ROUND_ZERO -> (err < 0) == (r > 0) ? (r > 0 ? Math.nextDown(r) : Math.nextUp(r)) : r;
            default -> r;
        };
    }

    static long arithSingle(Cpu c, int op, long a, long b) {
        float x = Float.intBitsToFloat((int) a);
        float y = Float.intBitsToFloat((int) b);
        if (!inRange(x) || !inRange(y)) {
            return SLOW;
        }
        if (op == SoftFloat.SUB) {
            y = -y;
        }
        float r;
        float err;
        switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> {
                r = x + y;
                float yy = r - x;
                err = (x - (r - yy)) + (y - yy);
            }
            case SoftFloat.MUL -> {
                r = x * y;
                err = Math.fma(x, y, -r);
            }
            default -> {
                r = x / y;
                err = Math.fma(-r, y, x) * Math.signum(y);
            }
        }
        if (!inRange(r)) {
            return SLOW;
        }
        return Float.floatToRawIntBits(err == 0 ? r : directed(c, r, err)) & 0xFFFF_FFFFL;
    }

    static long sqrtSingle(Cpu c, long a) {
        float x = Float.intBitsToFloat((int) a);
        if (!inRange(x) || x < 0) {
            return SLOW;
        }
        float r = (float) Math.sqrt(x); // correctly rounded: a double carries more than 2 * 24 + 2 bits
        float err = Math.fma(-r, r, x);
        return Float.floatToRawIntBits(err == 0 ? r : directed(c, r, err)) & 0xFFFF_FFFFL;
    }

    private static float directed(Cpu c, float r, float err) {
        c.simdExceptions |= SoftFloat.PE;
        return switch (SoftFloat.roundingMode(c)) {
            case SoftFloat.ROUND_UP -> err > 0 ? Math.nextUp(r) : r;
            case SoftFloat.ROUND_DOWN -> err < 0 ? Math.nextDown(r) : r;
            case SoftFloat.ROUND_ZERO -> (err < 0) == (r > 0) ? (r > 0 ? Math.nextDown(r) : Math.nextUp(r)) : r;
            default -> r;
        };
    }
}
