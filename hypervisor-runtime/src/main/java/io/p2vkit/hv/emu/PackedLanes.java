package io.p2vkit.hv.emu;

/**
 * The packed-integer operations of MMX and SSE2 on one 64-bit chunk: an MMX register is one
 * chunk, an XMM register two, and every operation here works on each chunk on its own (SDM
 * Vol. 1 §9.4, §11.4.3). {@link #apply} selects the operation by its 0F opcode byte.
 */
final class PackedLanes {

    private static final long H8 = 0x8080_8080_8080_8080L;
    private static final long H16 = 0x8000_8000_8000_8000L;
    private static final long H32 = 0x8000_0000_8000_0000L;
    private static final long LOW32 = 0xFFFF_FFFFL;

    private PackedLanes() {
    }

    /** {@code a op b} for the destination chunk {@code a} and source chunk {@code b}. */
    static long apply(int op, long a, long b) {
        return switch (op) {
            case 0xF4 -> (a & LOW32) * (b & LOW32);         // PMULUDQ
            case 0xF5 -> maddwd(a, b);                      // PMADDWD
            case 0xF6 -> sadbw(a, b);                       // PSADBW
            case 0xDC -> addSaturatedBytes(a, b);           // PADDUSB
            case 0xD8 -> sub(a, b, H8) & ~belowBytes(a, b); // PSUBUSB
            case 0xEC, 0xE8, 0xE0, 0x64 -> lanes(op, a, b, 8);
            case 0xED, 0xE9, 0xDD, 0xD9, 0xEA, 0xEE, 0xE3, 0x65, 0xD5, 0xE5, 0xE4 -> lanes(op, a, b, 16);
            case 0x66 -> lanes(op, a, b, 32);               // PCMPGTD
            default -> common(op, a, b);
        };
    }

    /**
     * The method of this class computing each operation of {@link #common} on one chunk, by its
     * 0F opcode byte (null for the others), for compiled regions: the translator calls the one an
     * instruction needs, a few bytes that the JIT always inlines (common itself, called with the
     * operation in a variable, would not fold).
     */
    private static final String[] LANE_METHOD = new String[0x100];

    static {
        String[][] methods = {{"FC", "paddb"}, {"FD", "paddw"}, {"FE", "paddd"}, {"D4", "paddq"}, {"F8", "psubb"},
            {"F9", "psubw"}, {"FA", "psubd"}, {"FB", "psubq"}, {"DB", "pand"}, {"DF", "pandn"}, {"EB", "por"},
            {"EF", "pxor"}, {"74", "pcmpeqb"}, {"75", "pcmpeqw"}, {"76", "pcmpeqd"}, {"DA", "pminub"}, {"DE", "pmaxub"}};
        for (String[] m : methods) {
            LANE_METHOD[Integer.parseInt(m[0], 16)] = m[1];
        }
    }

    /** Whether {@code op} (a 0F opcode byte) is one of {@link #common}'s. */
    static boolean isCommon(int op) {
        return laneMethod(op) != null;
    }

    /** The name of the method computing {@code op} on one chunk, or null when it is not one of {@link #common}'s. */
    static String laneMethod(int op) {
        return op >= 0 && op < LANE_METHOD.length ? LANE_METHOD[op] : null;
    }

    /**
     * The operations string and memory routines use (PCMPEQB, PMINUB, PXOR... in glibc's SSE2
     * strcmp and strlen) and plain additions and logic: those a compiled region computes lane by
     * lane in its own code, each through its method below ({@link #laneMethod}).
     */
    static long common(int op, long a, long b) {
        return switch (op) {
            case 0xFC -> paddb(a, b);
            case 0xFD -> paddw(a, b);
            case 0xFE -> paddd(a, b);
            case 0xD4 -> paddq(a, b);
            case 0xF8 -> psubb(a, b);
            case 0xF9 -> psubw(a, b);
            case 0xFA -> psubd(a, b);
            case 0xFB -> psubq(a, b);
            case 0xDB -> pand(a, b);
            case 0xDF -> pandn(a, b);
            case 0xEB -> por(a, b);
            case 0xEF -> pxor(a, b);
            case 0x74 -> pcmpeqb(a, b);
            case 0x75 -> pcmpeqw(a, b);
            case 0x76 -> pcmpeqd(a, b);
            case 0xDA -> pminub(a, b);
            default -> pmaxub(a, b);                        // 0xDE: callers ask isCommon first
        };
    }

    static long paddb(long a, long b) {
        return add(a, b, H8);
    }

    static long paddw(long a, long b) {
        return add(a, b, H16);
    }

    static long paddd(long a, long b) {
        return add(a, b, H32);
    }

    static long paddq(long a, long b) {
        return a + b;
    }

    static long psubb(long a, long b) {
        return sub(a, b, H8);
    }

    static long psubw(long a, long b) {
        return sub(a, b, H16);
    }

    static long psubd(long a, long b) {
        return sub(a, b, H32);
    }

    static long psubq(long a, long b) {
        return a - b;
    }

    static long pand(long a, long b) {
        return a & b;
    }

    static long por(long a, long b) {
        return a | b;
    }

    static long pxor(long a, long b) {
        return a ^ b;
    }

    static long pcmpeqb(long a, long b) {
        return equal(a, b, H8, 0xFF);
    }

    static long pcmpeqw(long a, long b) {
        return equal(a, b, H16, 0xFFFF);
    }

    static long pcmpeqd(long a, long b) {
        return equal(a, b, H32, LOW32);
    }

    static long pandn(long a, long b) {
        return ~a & b;
    }

    static long pminub(long a, long b) {
        return minUnsignedBytes(a, b);
    }

    static long pmaxub(long a, long b) {
        return maxUnsignedBytes(a, b);
    }

    /**
     * All ones in each lane where a and b are equal: a lane of a ^ b is zero exactly when adding
     * its low bits to all-ones-but-the-top leaves the top bit clear and the top bit was clear.
     */
    private static long equal(long a, long b, long high, long laneMask) {
        long x = a ^ b;
        long nonZero = (((x & ~high) + ~high) | x) & high;
        long zeroLanes = ~nonZero & high;
        return (zeroLanes >>> (Long.numberOfTrailingZeros(high))) * laneMask;
    }

    /**
     * All ones in each byte where a < b unsigned: the borrow out of the byte's top bit in a - b,
     * from the full-subtractor rule on the lane-wise difference.
     */
    private static long belowBytes(long a, long b) {
        long d = sub(a, b, H8);
        long borrow = ((~a & b) | (~(a ^ b) & d)) & H8;
        return (borrow >>> 7) * 0xFF;
    }

    private static long minUnsignedBytes(long a, long b) {
        long below = belowBytes(a, b);
        return (a & below) | (b & ~below);
    }

    private static long maxUnsignedBytes(long a, long b) {
        long below = belowBytes(a, b);
        return (b & below) | (a & ~below);
    }

    /** a + b per byte, saturated at 0xFF: the carry out of each byte's top bit fills the byte. */
    private static long addSaturatedBytes(long a, long b) {
        long sum = add(a, b, H8);
        long carry = ((a & b) | ((a | b) & ~sum)) & H8;
        return sum | (carry >>> 7) * 0xFF;
    }

    private static long add(long a, long b, long high) {
        return ((a & ~high) + (b & ~high)) ^ ((a ^ b) & high);
    }

    private static long sub(long a, long b, long high) {
        return ((a | high) - (b & ~high)) ^ ((a ^ ~b) & high);
    }

    private static long lanes(int op, long a, long b, int w) {
        long m = (1L << w) - 1;
        int up = 64 - w;
        long smax = m >>> 1;
        long smin = -smax - 1;
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            long x = a >>> i & m;
            long y = b >>> i & m;
            long sx = x << up >> up;
            long sy = y << up >> up;
            long v = switch (op) {
                case 0xEC, 0xED -> clamp(sx + sy, smin, smax);       // PADDSB/W
                case 0xE8, 0xE9 -> clamp(sx - sy, smin, smax);       // PSUBSB/W
                case 0xDD -> Math.min(x + y, m);                     // PADDUSW
                case 0xD9 -> Math.max(x - y, 0);                     // PSUBUSW
                case 0xEA -> Math.min(sx, sy);                       // PMINSW
                case 0xEE -> Math.max(sx, sy);                       // PMAXSW
                case 0xE0, 0xE3 -> (x + y + 1) >>> 1;                // PAVGB/W
                case 0x64, 0x65, 0x66 -> sx > sy ? m : 0;            // PCMPGT
                case 0xD5 -> sx * sy;                                // PMULLW
                case 0xE5 -> (sx * sy) >> 16;                        // PMULHW
                default -> (x * y) >>> 16;                           // PMULHUW
            };
            r |= (v & m) << i;
        }
        return r;
    }

    private static long clamp(long v, long min, long max) {
        return v < min ? min : v > max ? max : v;
    }

    private static long maddwd(long a, long b) {
        long r = 0;
        for (int i = 0; i < 64; i += 32) {
            long sum = (long) (short) (a >>> i) * (short) (b >>> i)
                    + (long) (short) (a >>> (i + 16)) * (short) (b >>> (i + 16));
            r |= (sum & LOW32) << i;
        }
        return r;
    }

    private static long sadbw(long a, long b) {
        long sum = 0;
        for (int i = 0; i < 64; i += 8) {
            sum += Math.abs((a >>> i & 0xFF) - (b >>> i & 0xFF));
        }
        return sum;
    }

    // ---- packs and interleaves (their halves come from two chunks) ----

    /** PACKSSWB/PACKUSWB (4 words to 4 bytes) and PACKSSDW (2 dwords to 2 words) of one chunk. */
    static long pack(int op, long v) {
        long r = 0;
        if (op == 0x6B) {
            for (int i = 0; i < 2; i++) {
                r |= (clamp((int) (v >>> (32 * i)), Short.MIN_VALUE, Short.MAX_VALUE) & 0xFFFF) << (16 * i);
            }
            return r;
        }
        boolean unsigned = op == 0x67;
        for (int i = 0; i < 4; i++) {
            long w = (short) (v >>> (16 * i));
            long s = unsigned ? clamp(w, 0, 255) : clamp(w, Byte.MIN_VALUE, Byte.MAX_VALUE);
            r |= (s & 0xFF) << (8 * i);
        }
        return r;
    }

    /** Interleaves the lanes of the 32-bit values {@code a} and {@code b}: a0 b0 a1 b1 ... */
    static long interleave(long a, long b, int w) {
        long m = (1L << w) - 1;
        long r = 0;
        for (int i = 0, j = 0; i < 32; i += w, j += 2 * w) {
            r |= (a >>> i & m) << j | (b >>> i & m) << (j + w);
        }
        return r;
    }

    /**
     * A shift of each {@code w}-bit lane by {@code count} (unsigned, whole 64 bits): logical
     * shifts past the width give zero, arithmetic ones fill with the sign.
     */
    static long shift(long v, long count, int w, int kind) {
        boolean over = Long.compareUnsigned(count, w - 1) > 0;
        if (over && kind != SHIFT_ARITH) {
            return 0;
        }
        int n = over ? w - 1 : (int) count;
        if (w == 64) {
            return kind == SHIFT_LEFT ? v << n : kind == SHIFT_RIGHT ? v >>> n : v >> n;
        }
        long m = (1L << w) - 1;
        int up = 64 - w;
        long r = 0;
        for (int i = 0; i < 64; i += w) {
            long x = v >>> i & m;
            long s = switch (kind) {
                case SHIFT_LEFT -> x << n;
                case SHIFT_RIGHT -> x >>> n;
                default -> (x << up >> up) >> n;
            };
            r |= (s & m) << i;
        }
        return r;
    }

    static final int SHIFT_RIGHT = 2;
    static final int SHIFT_ARITH = 4;
    static final int SHIFT_LEFT = 6;
}
