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
     * code after its first inexact result: then an in-range result is the host's and an inexact
     * one changes no flag, so the error term need not be computed.
     */
    private static boolean quiet(Cpu c) {
        return (c.mxcsr & RC_PM_PE) == (0x1000 | SoftFloat.PE);
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
        double r = switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> x + y;
            case SoftFloat.MUL -> x * y;
            default -> x / y;
        };
        if (!inRange(r)) {
            return SLOW;
        }
        if (quiet(c)) {
            return Double.doubleToRawLongBits(r);
        }
        double err = switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> {
                double yy = r - x;
                yield (x - (r - yy)) + (y - yy);
            }
            case SoftFloat.MUL -> Math.fma(x, y, -r);
            default -> Math.fma(-r, y, x) * Math.signum(y); // x - r*y has the sign of (x/y - r)*y
        };
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
        float r = switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> x + y;
            case SoftFloat.MUL -> x * y;
            default -> x / y;
        };
        if (!inRange(r)) {
            return SLOW;
        }
        if (quiet(c)) {
            return Float.floatToRawIntBits(r) & 0xFFFF_FFFFL;
        }
        float err = switch (op) {
            case SoftFloat.ADD, SoftFloat.SUB -> {
                float yy = r - x;
                yield (x - (r - yy)) + (y - yy);
            }
            case SoftFloat.MUL -> Math.fma(x, y, -r);
            default -> Math.fma(-r, y, x) * Math.signum(y);
        };
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
