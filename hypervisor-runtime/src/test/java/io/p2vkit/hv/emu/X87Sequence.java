package io.p2vkit.hv.emu;

import java.util.Random;

/**
 * Random x87 sequences for the native differential test, written into a {@link RandomProgram}
 * (which supplies the byte sink and the listing). Each sequence stores an FRSTOR image built from
 * interesting values (zeros, infinities, NaNs, denormals, integer and format boundaries, huge and
 * tiny numbers) with a random precision and rounding control and all exceptions masked, loads
 * it, fills eight operand slots, runs random x87 instructions over registers and slots, and ends
 * with FNSAVE: the whole saved image is compared with the host's as scratch memory.
 * Transcendental instructions have their own sequences ({@link #generateTranscendental}),
 * compared with a tolerance.
 */
final class X87Sequence {

    /** EBX-relative offsets in the scratch area. */
    static final int IMAGE_IN = 0x100;
    static final int SLOTS = 0x200;
    static final int SLOT_COUNT = 8;
    static final int IMAGE_OUT = 0x300;
    /** Where FNSAVE/FRSTOR pairs in the middle of a sequence keep their image. */
    static final int SAVE_AREA = 0x380;

    private final RandomProgram p;
    private final Random rnd;

    X87Sequence(RandomProgram p, long seed) {
        this.p = p;
        this.rnd = new Random(seed ^ 0x87);
    }

    /**
     * Where the pointers lie in an image at {@code at}: FIP, FCS, FOP, FDP, FDS at bytes 12, 16,
     * 18, 20, 24 (FIP, FCS, FDP, FDS at 6, 8, 10, 12 in the 16-bit layout). Apart, since every x87
     * instruction sets the instruction pointer but only those with a memory operand the data
     * pointer, and since Intel processors store FOP only while an unmasked exception is pending
     * (their fopcode compatibility mode is off by default) and may store zero selectors.
     */
    private static java.util.List<int[]> pointers(int at, boolean o16) {
        return o16 ? java.util.List.of(new int[] {at + 6, 2}, new int[] {at + 8, 2}, new int[] {at + 10, 2},
                new int[] {at + 12, 2})
                : java.util.List.of(new int[] {at + 12, 4}, new int[] {at + 16, 2}, new int[] {at + 18, 2},
                        new int[] {at + 20, 4}, new int[] {at + 24, 2});
    }

    /** An interesting 80-bit value: {sign-exponent, significand}. */
    long[] value() {
        int sign = rnd.nextBoolean() ? 0x8000 : 0;
        long r = rnd.nextLong();
        return switch (rnd.nextInt(17)) {
            case 16 -> switch (rnd.nextInt(3)) { // encodings the 387 and later reject or reinterpret
                case 0 -> new long[] {sign | (1 + rnd.nextInt(0x7FFD)), r >>> 1}; // unnormal
                case 1 -> new long[] {sign, r | 1L << 63}; // pseudo-denormal
                default -> new long[] {sign | 0x7FFF, r >>> 1}; // pseudo-NaN / pseudo-infinity
            };
            case 0 -> new long[] {sign, 0};
            case 1 -> new long[] {sign | 0x7FFF, 1L << 63};
            case 2 -> new long[] {sign | 0x7FFF, 0xC000_0000_0000_0000L | (rnd.nextBoolean() ? 0 : r >>> 2)};
            case 3 -> new long[] {sign | 0x7FFF, 0x8000_0000_0000_0000L | (r >>> 2 | 1)}; // SNaN
            case 4 -> new long[] {sign, r >>> 1 >>> rnd.nextInt(63)}; // denormal
            case 5 -> new long[] {sign | 0x7FFE, r | 1L << 63}; // huge
            case 6 -> new long[] {sign | (1 + rnd.nextInt(70)), r | 1L << 63}; // tiny
            case 7 -> new long[] {sign | (0x3FFF + rnd.nextInt(64)), 1L << 63}; // power of two
            case 8 -> { // an integer near a boundary: ±2^15, 2^31, 2^63 and the halves
                int e = new int[] {14, 15, 30, 31, 62, 63, 59, 60}[rnd.nextInt(8)];
                long m = (rnd.nextInt(3) - 1 + (1L << 62 >>> (62 - Math.min(e, 62)))) << (63 - Math.min(e, 62));
                yield new long[] {sign | (0x3FFF + e), m | 1L << 63};
            }
            case 9 -> new long[] {sign | (0x3FFF + rnd.nextInt(8) - 4), r | 1L << 63}; // near 1
            case 10 -> new long[] {sign | (0x3FFF + rnd.nextInt(4)), (r | 1L << 63) & ~((1L << 40) - 1)}; // float-exact
            case 11 -> new long[] {sign | (0x3FFF + rnd.nextInt(64)), (r | 1L << 63) & ~0x3FFL}; // double-ish
            case 12 -> new long[] {sign | (0x3C01 + rnd.nextInt(8)), r | 1L << 63}; // near double's minimum
            case 13 -> new long[] {sign | (0x43FE - rnd.nextInt(4)), r | 1L << 63}; // near double's maximum
            default -> new long[] {sign | (0x3FFF + rnd.nextInt(200) - 100), r | 1L << 63};
        };
    }

    private void movDword(int offset, int v) {
        p.emit(0xC7, 0x83); // mov dword [ebx+disp32], imm32
        p.imm32(offset);
        p.imm32(v);
    }

    private void movWord(int offset, int v) {
        p.emit(0x66, 0xC7, 0x83);
        p.imm32(offset);
        p.imm16(v);
    }

    /** A ModRM memory form [ebx+disp32] with {@code reg}. */
    private void mem(int opcode, int reg, int offset) {
        p.emit(opcode, 0x83 | reg << 3);
        p.imm32(offset);
    }

    private int control() {
        int pc = new int[] {0, 2, 3, 3}[rnd.nextInt(4)];
        return 0x3F | pc << 8 | rnd.nextInt(4) << 10 | 0x40;
    }

    /** Emits the set-up, {@code count} instructions and the final FNSAVE. */
    RandomProgram generate(int count) {
        long[][] regs = new long[8][];
        for (int i = 0; i < 8; i++) {
            regs[i] = value();
        }
        int top = rnd.nextInt(8);
        int tag = 0;
        for (int i = 0; i < 8; i++) {
            tag |= (rnd.nextInt(4) == 0 ? 3 : 0) << (2 * i);
        }
        restore(control(), top, tag, regs);
        for (int s = 0; s < SLOT_COUNT; s++) {
            fillSlot(s);
        }
        for (int i = 0; i < count; i++) {
            one();
        }
        mem(0xDD, 6, IMAGE_OUT);
        p.note("fnsave");
        p.x87Pointers.addAll(pointers(IMAGE_OUT, false));
        return p;
    }

    /**
     * One transcendental instruction over operands drawn from its domain (and now and then an
     * interesting value from outside it), with ST(0) and ST(1) usually valid and ST(7) usually
     * empty so that FSINCOS and FPTAN can push.
     */
    RandomProgram generateTranscendental() {
        int[] ops = {0xFE, 0xFF, 0xFB, 0xF2, 0xF3, 0xF0, 0xF1, 0xF9};
        int op = ops[rnd.nextInt(ops.length)];
        long[][] stack = new long[8][];
        for (int i = 0; i < 8; i++) {
            stack[i] = value();
        }
        boolean special = rnd.nextInt(8) == 0;
        double x = switch (op) {
            case 0xFE, 0xFF, 0xFB, 0xF2 -> (rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(40) - 20);
            case 0xF0 -> rnd.nextDouble() * 2 - 1;
            case 0xF9 -> (rnd.nextDouble() * 2 - 1) * 0.29;
            case 0xF1 -> Math.pow(2, rnd.nextInt(200) - 100) * (1 + rnd.nextDouble());
            default -> (rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(60) - 30);
        };
        double y = (rnd.nextDouble() * 2 - 1) * Math.pow(2, rnd.nextInt(60) - 30);
        if (!special) {
            stack[0] = extended(x);
            stack[1] = extended(y);
        } else if (op == 0xF0 || op == 0xF9) {
            // F2XM1 and FYL2XP1 are undefined outside their domains: only zeros, NaNs,
            // denormals, tiny values (and F2XM1's infinities) as special operands
            do {
                stack[0] = value();
            } while (outsideDomain(stack[0], op == 0xF0));
        }
        int top = rnd.nextInt(8);
        int tag = 0;
        for (int i = 0; i < 8; i++) {
            boolean empty = i == 7 ? rnd.nextInt(8) != 0 : rnd.nextInt(i < 2 ? 16 : 4) == 0;
            tag |= (empty ? 3 : 0) << (2 * ((top + i) & 7));
        }
        restore(control(), top, tag, stack);
        p.emit(0xD9, op);
        p.note(String.format("d9 %02x", op));
        mem(0xDD, 6, IMAGE_OUT);
        p.note("fnsave");
        p.x87Pointers.addAll(pointers(IMAGE_OUT, false));
        return p;
    }

    private static boolean outsideDomain(long[] v, boolean infinityAllowed) {
        int exp = (int) v[0] & 0x7FFF;
        boolean infinity = exp == 0x7FFF && v[1] << 1 == 0;
        boolean nan = exp == 0x7FFF && !infinity;
        return !(nan || exp < 0x3FFD || infinity && infinityAllowed);
    }

    /** A double as an 80-bit {sign-exponent, significand} (normal doubles only). */
    private static long[] extended(double d) {
        long bits = Double.doubleToRawLongBits(d);
        if (d == 0) {
            return new long[] {(bits >>> 48) & 0x8000, 0};
        }
        int exp = (int) (bits >>> 52) & 0x7FF;
        long sign = (bits >>> 48) & 0x8000;
        return new long[] {sign | (exp - 1023 + 0x3FFF), 1L << 63 | (bits & ((1L << 52) - 1)) << 11};
    }

    /**
     * Stores an FRSTOR image (control, TOP, the tag word of physical registers, and ST(0)-ST(7))
     * with 27 MOVs and loads it.
     */
    private void restore(int control, int top, int tag, long[][] stack) {
        int status = top << 11 | (rnd.nextInt(16) * 0x100 & 0x4700);
        int[] image = new int[27];
        image[0] = control;
        image[1] = status;
        image[2] = tag;
        byte[] regs = new byte[80];
        for (int i = 0; i < 8; i++) {
            long[] v = stack[i];
            for (int b = 0; b < 8; b++) {
                regs[10 * i + b] = (byte) (v[1] >>> (8 * b));
            }
            regs[10 * i + 8] = (byte) v[0];
            regs[10 * i + 9] = (byte) (v[0] >>> 8);
        }
        for (int k = 7; k < 27; k++) {
            int o = (k - 7) * 4;
            image[k] = (regs[o] & 0xFF) | (regs[o + 1] & 0xFF) << 8 | (regs[o + 2] & 0xFF) << 16 | regs[o + 3] << 24;
        }
        for (int k = 0; k < 27; k++) {
            movDword(IMAGE_IN + 4 * k, image[k]);
        }
        p.note(String.format("frstor cw=%04x sw=%04x tw=%04x", control, status, tag));
        mem(0xDD, 4, IMAGE_IN);
    }

    private void fillSlot(int s) {
        int at = SLOTS + 16 * s;
        switch (rnd.nextInt(4)) {
            case 0 -> { // an 80-bit value (also read as float, double and integers)
                long[] v = value();
                movDword(at, (int) v[1]);
                movDword(at + 4, (int) (v[1] >>> 32));
                movDword(at + 8, (int) v[0]);
            }
            case 1 -> { // a double
                long[] v = value();
                double d = rnd.nextInt(4) == 0 ? Double.longBitsToDouble(rnd.nextLong()) : (rnd.nextDouble() - 0.5) * Math.pow(2, rnd.nextInt(200) - 100);
                long bits = rnd.nextInt(8) == 0 ? v[1] : Double.doubleToRawLongBits(d);
                movDword(at, (int) bits);
                movDword(at + 4, (int) (bits >>> 32));
                movDword(at + 8, 0);
            }
            case 2 -> { // packed BCD: 18 valid digits and a sign byte
                long low = 0;
                for (int k = 0; k < 16; k++) {
                    low |= (long) rnd.nextInt(10) << (4 * k);
                }
                int high = rnd.nextInt(10) | rnd.nextInt(10) << 4 | (rnd.nextBoolean() ? 0x8000 : 0);
                movDword(at, (int) low);
                movDword(at + 4, (int) (low >>> 32));
                movDword(at + 8, high);
            }
            default -> { // integers, floats and their boundaries
                int[] pick = {0, 1, -1, 0x7FFF, 0x8000, 0x7FFF_FFFF, 0x8000_0000, 0x7F80_0000, 0xFF80_0001,
                    0x0000_0001, 0x0080_0000, 0x7F7F_FFFF, rnd.nextInt()};
                movDword(at, pick[rnd.nextInt(pick.length)]);
                movDword(at + 4, pick[rnd.nextInt(pick.length)]);
                movDword(at + 8, rnd.nextInt());
            }
        }
    }

    private int slot() {
        return SLOTS + 16 * rnd.nextInt(SLOT_COUNT);
    }

    private void one() {
        int i = rnd.nextInt(8);
        switch (rnd.nextInt(24)) {
            case 0, 1, 2 -> { // D8 / DC register arithmetic
                int reg = new int[] {0, 1, 4, 5, 6, 7, 2, 3}[rnd.nextInt(8)];
                int op = rnd.nextBoolean() ? 0xD8 : 0xDC;
                p.emit(op, 0xC0 | reg << 3 | i);
                p.note(String.format("%02x %02x", op, 0xC0 | reg << 3 | i));
            }
            case 3 -> { // DE popping arithmetic (and FCOMPP)
                int reg = new int[] {0, 1, 4, 5, 6, 7, 3}[rnd.nextInt(7)];
                int rm = reg == 3 ? 1 : i;
                p.emit(0xDE, 0xC0 | reg << 3 | rm);
                p.note(String.format("de %02x", 0xC0 | reg << 3 | rm));
            }
            case 4, 5 -> { // memory arithmetic: D8 m32fp, DA m32int, DC m64fp, DE m16int
                int op = 0xD8 + 2 * rnd.nextInt(4);
                int reg = rnd.nextInt(8);
                mem(op, reg, slot());
                p.note(String.format("%02x /%d m", op, reg));
            }
            case 6, 7 -> { // loads
                int[][] forms = {{0xD9, 0}, {0xDD, 0}, {0xDB, 5}, {0xDF, 0}, {0xDB, 0}, {0xDF, 5}, {0xDF, 4}};
                int[] f = forms[rnd.nextInt(forms.length)];
                mem(f[0], f[1], slot());
                p.note(String.format("%02x /%d load", f[0], f[1]));
            }
            case 8, 9 -> { // stores
                int[][] forms = {{0xD9, 2}, {0xD9, 3}, {0xDD, 2}, {0xDD, 3}, {0xDB, 7}, {0xDF, 2}, {0xDF, 3},
                    {0xDB, 2}, {0xDB, 3}, {0xDF, 7}, {0xDF, 6}, {0xDB, 1}, {0xDD, 1}, {0xDF, 1}};
                int[] f = forms[rnd.nextInt(forms.length)];
                mem(f[0], f[1], slot());
                p.note(String.format("%02x /%d store", f[0], f[1]));
            }
            case 10 -> { // FLD ST(i), FXCH, FST, FSTP, FFREE
                int[][] forms = {{0xD9, 0xC0}, {0xD9, 0xC8}, {0xDD, 0xD0}, {0xDD, 0xD8}, {0xDD, 0xC0}};
                int[] f = forms[rnd.nextInt(forms.length)];
                p.emit(f[0], f[1] | i);
                p.note(String.format("%02x %02x", f[0], f[1] | i));
            }
            case 11, 12 -> { // one-operand D9 operations and constants
                int[] ops = {0xE0, 0xE1, 0xE4, 0xE5, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xF4, 0xF5,
                    0xF6, 0xF7, 0xF8, 0xFA, 0xFC, 0xFD, 0xD0};
                int b = ops[rnd.nextInt(ops.length)];
                p.emit(0xD9, b);
                p.note(String.format("d9 %02x", b));
            }
            case 13 -> { // FCMOVcc
                int op = rnd.nextBoolean() ? 0xDA : 0xDB;
                int b = 0xC0 | rnd.nextInt(4) << 3 | i;
                p.emit(op, b);
                p.note(String.format("%02x %02x fcmov", op, b));
            }
            case 14, 15 -> { // comparisons
                int[][] forms = {{0xDB, 0xE8}, {0xDB, 0xF0}, {0xDF, 0xE8}, {0xDF, 0xF0}, {0xDD, 0xE0}, {0xDD, 0xE8}};
                int[] f = forms[rnd.nextInt(forms.length)];
                p.emit(f[0], f[1] | i);
                p.note(String.format("%02x %02x", f[0], f[1] | i));
                if (rnd.nextInt(4) == 0) {
                    p.emit(0xDA, 0xE9);
                    p.note("fucompp");
                }
            }
            case 16 -> { // status word to AX and memory, control word to memory
                int k = rnd.nextInt(3);
                if (k == 0) {
                    p.emit(0xDF, 0xE0);
                    p.note("fnstsw ax");
                } else {
                    mem(k == 1 ? 0xDD : 0xD9, 7, slot());
                    p.note(k == 1 ? "fnstsw m" : "fnstcw m");
                }
            }
            case 17 -> { // FLDCW with another masked precision and rounding
                int at = slot();
                movWord(at, control());
                mem(0xD9, 5, at);
                p.note("fldcw");
            }
            case 18 -> {
                if (rnd.nextBoolean()) {
                    p.emit(0x9B);
                } else {
                    p.emit(0xD9, 0xD0);
                }
                p.emit(0xDB, 0xE2);
                p.note("fwait/fnop; fnclex");
            }
            case 19 -> { // FNSTENV then FLDENV, or FNSAVE then FRSTOR, in the 32- or 16-bit layout
                boolean o16 = rnd.nextBoolean();
                boolean save = rnd.nextInt(3) == 0;
                int at = save ? SAVE_AREA : SLOTS + 16 * 4;
                if (o16) {
                    p.emit(0x66);
                }
                mem(save ? 0xDD : 0xD9, 6, at);
                if (o16) {
                    p.emit(0x66);
                }
                mem(save ? 0xDD : 0xD9, 4, at);
                if (save) {
                    p.x87Pointers.addAll(pointers(at, o16));
                } else {
                    // The environment overlaps operand slots 4 and 5: later loads from them would
                    // read its pointers, which differ between vendors (Intel stores FOP only with
                    // an exception pending). Zeroed once FLDENV has taken them, so none is compared.
                    for (int k = o16 ? 6 : 12; k < (o16 ? 14 : 28); k += 4) {
                        movDword(at + k, 0);
                    }
                }
                p.note((o16 ? "o16 " : "") + (save ? "fnsave; frstor" : "fnstenv; fldenv"));
            }
            default -> { // square root, remainder, scale, round: more of the interesting ones
                int[] ops = {0xFA, 0xF8, 0xF5, 0xFD, 0xFC, 0xF4};
                int b = ops[rnd.nextInt(ops.length)];
                p.emit(0xD9, b);
                p.note(String.format("d9 %02x", b));
            }
        }
    }
}
