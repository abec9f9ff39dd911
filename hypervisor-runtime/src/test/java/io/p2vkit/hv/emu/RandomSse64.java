package io.p2vkit.hv.emu;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Random 64-bit SSE, SSE2 and MMX sequences for {@link NativeDifferential64Test}: every
 * floating-point operation in PS/PD/SS/SD form, compares with all eight predicates, COMIS and
 * UCOMIS, every conversion, the moves (aligned, unaligned, halves, MOVD/MOVQ with REX.W, masks,
 * non-temporal, masked stores), the packed-integer set on XMM and MMX registers, shuffles,
 * shifts by immediates and by registers, PINSRW/PEXTRW, and LDMXCSR/STMXCSR switching the
 * rounding mode, DAZ and FTZ mid-sequence. XMM8-15 and REX.W forms appear throughout. Memory
 * operands are [rbx+disp8] (16-byte aligned where the instruction needs it); RBX and RSP are
 * never destinations. Now and then an MXCSR unmasks exceptions: the sequence then ends at the
 * first #XM, natively and in the emulator, and the state at the fault is compared.
 * RCPPS/RSQRTPS are left out: their bits are implementation-specific ({@code SseFloatTest}
 * checks their error bound instead).
 */
final class RandomSse64 implements GeneratedProgram64 {

    static final long[] DOUBLES = {
        0, 1L << 63, 0x3FF0_0000_0000_0000L, 0xBFF0_0000_0000_0000L, 0x3FF8_0000_0000_0000L,
        0x7FF0_0000_0000_0000L, 0xFFF0_0000_0000_0000L, 0x7FF8_0000_0000_0000L, 0xFFF8_0000_0000_0000L,
        0x7FF8_0000_0000_1234L, 0x7FF0_0000_0000_0001L, 0xFFF4_0000_0000_5678L, 0x0000_0000_0000_0001L,
        0x000F_FFFF_FFFF_FFFFL, 0x8008_0000_0000_0000L, 0x0010_0000_0000_0000L, 0x8010_0000_0000_0001L,
        0x7FEF_FFFF_FFFF_FFFFL, 0xFFEF_FFFF_FFFF_FFFFL, 0x43E0_0000_0000_0000L, 0xC3E0_0000_0000_0000L,
        0x41E0_0000_0000_0000L, 0xC1E0_0000_0000_0000L, 0x41DF_FFFF_FFE0_0000L, 0xC1E0_0000_0010_0000L,
        0x3FE0_0000_0000_0000L, 0x4004_0000_0000_0000L, 0xC004_0000_0000_0000L, 0x3FF0_0000_0000_0001L,
        0x7FE0_0000_0000_0000L, 0x0020_0000_0000_0000L, 0x3CB0_0000_0000_0000L, 0x43F0_0000_0000_0000L,
    };
    static final int[] FLOATS = {
        0, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x3FC0_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000,
        0xFFC0_0000, 0x7FC0_1234, 0x7F80_0001, 0xFFA0_5678, 0x0000_0001, 0x007F_FFFF, 0x8040_0000,
        0x0080_0000, 0x8080_0001, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x5F00_0000, 0xDF00_0000, 0x4F00_0000,
        0xCF00_0000, 0x4EFF_FFFF, 0x3F00_0000, 0x4020_0000, 0xC020_0000, 0x3F80_0001, 0x7F00_0000,
        0x0100_0000, 0x3380_0000, 0x5F80_0000,
    };
    static final int[] INTS = {0, -1, 1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x7FFF, 0x8000, 0xFF, 0x80,
        0x7F, 0xFFFF_8000, 0x0001_0000, 3, -3};

    private final Random rnd;
    /** No REX prefixes: XMM0-7, 32-bit GPRs, code that means the same in 32-bit mode. */
    private final boolean legacy;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final StringBuilder listing = new StringBuilder();

    RandomSse64(long seed) {
        this(seed, false);
    }

    RandomSse64(long seed, boolean legacy) {
        rnd = new Random(seed);
        this.legacy = legacy;
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
        return 0; // COMIS/UCOMIS define all six; nothing else here writes flags
    }

    // ---- initial state ----

    /** An interesting 64-bit half: a double, two singles, two integers or random bits. */
    long value() {
        return switch (rnd.nextInt(7)) {
            case 0, 1 -> DOUBLES[rnd.nextInt(DOUBLES.length)];
            case 2 -> randomDouble();
            case 3 -> (FLOATS[rnd.nextInt(FLOATS.length)] & 0xFFFF_FFFFL)
                    | (long) FLOATS[rnd.nextInt(FLOATS.length)] << 32;
            case 4 -> (randomFloat() & 0xFFFF_FFFFL) | (long) randomFloat() << 32;
            case 5 -> (INTS[rnd.nextInt(INTS.length)] & 0xFFFF_FFFFL) | (long) INTS[rnd.nextInt(INTS.length)] << 32;
            default -> rnd.nextLong();
        };
    }

    /** A double whose exponent is near 0, near the extremes, or anywhere. */
    private long randomDouble() {
        long sign = rnd.nextBoolean() ? 1L << 63 : 0;
        int exp = switch (rnd.nextInt(4)) {
            case 0 -> 1023 + rnd.nextInt(64) - 32;
            case 1 -> rnd.nextInt(60);
            case 2 -> 2047 - 1 - rnd.nextInt(60);
            default -> rnd.nextInt(2047);
        };
        return sign | (long) exp << 52 | (rnd.nextLong() >>> 12);
    }

    private int randomFloat() {
        int sign = rnd.nextBoolean() ? 0x8000_0000 : 0;
        int exp = switch (rnd.nextInt(4)) {
            case 0 -> 127 + rnd.nextInt(32) - 16;
            case 1 -> rnd.nextInt(30);
            case 2 -> 254 - rnd.nextInt(30);
            default -> rnd.nextInt(255);
        };
        return sign | exp << 23 | (rnd.nextInt() >>> 9);
    }

    /** An MXCSR: any rounding mode, DAZ, FTZ, some sticky flags, rarely unmasked exceptions. */
    int mxcsr() {
        int v = 0x1F80 | rnd.nextInt(4) << 13;
        if (rnd.nextInt(10) == 0) {
            v &= ~(rnd.nextInt(64) << 7);
        }
        if (rnd.nextInt(4) == 0) {
            v |= Sse.MXCSR_DAZ;
        }
        if (rnd.nextInt(4) == 0) {
            v |= Sse.MXCSR_FTZ;
        }
        if (rnd.nextInt(4) == 0) {
            v |= rnd.nextInt(64);
        }
        return v;
    }

    // ---- encoding ----

    private void emit(byte[] b) {
        out.writeBytes(b);
        StringBuilder hex = new StringBuilder();
        for (byte x : b) {
            hex.append(String.format("%02x ", x & 0xFF));
        }
        listing.append(hex.toString().trim()).append(" | ");
    }

    /**
     * prefix (0, 66, F3, F2), REX (W, and R/B for registers 8-15), 0F op, ModRM with reg and a
     * register rm or [rbx+disp8] (a multiple of 16 when {@code aligned}), then the immediate.
     */
    private byte[] insn(int prefix, boolean w, int op, int reg, int rm, boolean mem, boolean aligned, int imm) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (rnd.nextInt(16) == 0) { // ignored in 64-bit code; flat data segments in legacy code
            b.write(legacy ? new int[] {0x26, 0x3E}[rnd.nextInt(2)] : new int[] {0x26, 0x2E, 0x36, 0x3E}[rnd.nextInt(4)]);
        }
        if (prefix >= 0xF2 && rnd.nextInt(10) == 0) {
            b.write(0x66);                            // F2/F3 take precedence over 66
        }
        if (prefix >= 0xF2 && rnd.nextInt(16) == 0) {
            b.write(prefix ^ 1);                      // the last of F2/F3 counts
        }
        if (prefix != 0) {
            b.write(prefix);
        }
        int rex = (w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (!mem && rm >= 8 ? 1 : 0);
        if (legacy) {
            if (rex != 0) {
                throw new IllegalStateException("a REX prefix in legacy code");
            }
        } else if (rex != 0 || rnd.nextInt(8) == 0) {
            b.write(0x40 | rex);
        }
        b.write(0x0F);
        b.write(op);
        if (mem) {
            b.write(0x40 | (reg & 7) << 3 | Cpu.EBX);
            b.write(aligned ? (rnd.nextInt(16) - 8) * 16 : rnd.nextInt(256));
        } else {
            b.write(0xC0 | (reg & 7) << 3 | (rm & 7));
        }
        if (imm >= 0) {
            b.write(imm);
        }
        return b.toByteArray();
    }

    private int xmm() {
        return rnd.nextInt(legacy ? 8 : 16);
    }

    /** Any general register as a source. */
    private int gpr() {
        return rnd.nextInt(legacy ? 8 : 16);
    }

    /** REX.W, half of the time in 64-bit code. */
    private boolean wide() {
        return !legacy && rnd.nextBoolean();
    }

    private int mm() {
        return rnd.nextInt(8);
    }

    /** A general register that may be written: not RBX (the data pointer) nor RSP. */
    private int gprDest() {
        int n;
        do {
            n = gpr();
        } while (n == Cpu.EBX || n == Cpu.ESP);
        return n;
    }

    private boolean mem() {
        return rnd.nextInt(3) == 0;
    }

    private static final int[] PREFIXES = {0, 0x66, 0xF3, 0xF2};

    RandomSse64 generate(int count) {
        for (int i = 0; i < count; i++) {
            next();
        }
        return this;
    }

    private void next() {
        boolean m = mem();
        switch (rnd.nextInt(24)) {
            case 0, 1, 2 -> { // arithmetic, all four forms
                int op = new int[] {0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F}[rnd.nextInt(7)];
                int p = PREFIXES[rnd.nextInt(4)];
                emit(insn(p, false, op, xmm(), xmm(), m, p < 0xF0, -1));
            }
            case 3 -> { // CMPcc
                int p = PREFIXES[rnd.nextInt(4)];
                emit(insn(p, false, 0xC2, xmm(), xmm(), m, p < 0xF0, rnd.nextInt(8)));
            }
            case 4 -> { // COMIS/UCOMIS
                emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, 0x2E | rnd.nextInt(2), xmm(), xmm(), m, false, -1));
            }
            case 5 -> { // logic, unpack, shuffle PS/PD
                int op = new int[] {0x54, 0x55, 0x56, 0x57, 0x14, 0x15, 0xC6}[rnd.nextInt(7)];
                emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, op, xmm(), xmm(), m, true, op == 0xC6 ? rnd.nextInt(256) : -1));
            }
            case 6, 7 -> conversion(m);
            case 8, 9 -> move(m);
            case 10, 11, 12, 13 -> packedInt(m);
            case 14 -> { // shifts by immediate
                int op = 0x71 + rnd.nextInt(3);
                int kind = op == 0x73 ? new int[] {2, 3, 6, 7}[rnd.nextInt(4)] : new int[] {2, 4, 6}[rnd.nextInt(3)];
                boolean xmm = kind == 3 || kind == 7 || rnd.nextBoolean();
                int count = rnd.nextInt(4) == 0 ? rnd.nextInt(256) : rnd.nextInt(20);
                emit(insn(xmm ? 0x66 : 0, false, op, kind, xmm ? xmm() : mm(), false, false, count));
            }
            case 15 -> { // shifts by a register count set just before
                int op = new int[] {0xD1, 0xD2, 0xD3, 0xE1, 0xE2, 0xF1, 0xF2, 0xF3}[rnd.nextInt(8)];
                boolean xmm = rnd.nextBoolean();
                int countReg = xmm ? xmm() : mm();
                int count = rnd.nextInt(8) == 0 ? INTS[rnd.nextInt(INTS.length)] : rnd.nextInt(70);
                emit(new byte[] {(byte) 0xB8, (byte) count, (byte) (count >> 8), (byte) (count >> 16),
                    (byte) (count >> 24)}); // mov eax, count
                emit(insn(xmm ? 0x66 : 0, false, 0x6E, countReg, Cpu.EAX, false, false, -1)); // movd
                emit(insn(xmm ? 0x66 : 0, false, op, xmm ? xmm() : mm(), countReg, false, false, -1));
            }
            case 16 -> { // LDMXCSR of a new mode through memory, or STMXCSR
                int disp = rnd.nextInt(64) * 4 - 128;
                if (rnd.nextBoolean()) {
                    int v = mxcsr();
                    emit(new byte[] {(byte) 0xC7, 0x43, (byte) disp, (byte) v, (byte) (v >> 8), 0, 0}); // mov [rbx+d], v
                    emit(new byte[] {0x0F, (byte) 0xAE, 0x53, (byte) disp}); // ldmxcsr [rbx+d]
                } else {
                    emit(new byte[] {0x0F, (byte) 0xAE, 0x5B, (byte) disp}); // stmxcsr [rbx+d]
                }
            }
            case 17 -> { // PINSRW, PEXTRW
                boolean xmm = rnd.nextBoolean();
                if (rnd.nextBoolean()) {
                    emit(insn(xmm ? 0x66 : 0, false, 0xC4, xmm ? xmm() : mm(), gpr(), m, false, rnd.nextInt(256)));
                } else {
                    emit(insn(xmm ? 0x66 : 0, wide(), 0xC5, gprDest(), xmm ? xmm() : mm(), false, false,
                            rnd.nextInt(256)));
                }
            }
            case 18 -> { // PSHUFW/PSHUFD/PSHUFHW/PSHUFLW
                int p = PREFIXES[rnd.nextInt(4)];
                emit(insn(p, false, 0x70, p == 0 ? mm() : xmm(), p == 0 ? mm() : xmm(), m, p != 0, rnd.nextInt(256)));
            }
            case 19 -> { // MASKMOVQ / MASKMOVDQU at [rdi], rdi pointed into the scratch data
                emitLeaRdi();
                boolean xmm = rnd.nextBoolean();
                emit(insn(xmm ? 0x66 : 0, false, 0xF7, xmm ? xmm() : mm(), xmm ? xmm() : mm(), false, false, -1));
            }
            case 20 -> emit(new byte[] {0x0F, 0x77}); // EMMS
            default -> { // scalar forms again: the most common in compiled code
                int op = new int[] {0x51, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x5A, 0x10}[rnd.nextInt(9)];
                emit(insn(rnd.nextBoolean() ? 0xF2 : 0xF3, false, op, xmm(), xmm(), m, false, -1));
            }
        }
    }

    /** lea rdi, [rbx+d8] (lea edi, [ebx+d8] in legacy code). */
    private void emitLeaRdi() {
        byte d8 = (byte) rnd.nextInt(256);
        emit(legacy ? new byte[] {(byte) 0x8D, 0x7B, d8} : new byte[] {0x48, (byte) 0x8D, 0x7B, d8});
    }

    private void conversion(boolean m) {
        switch (rnd.nextInt(9)) {
            case 0 -> { // CVTSI2SS/SD from r/m32 or r/m64
                emit(insn(rnd.nextBoolean() ? 0xF2 : 0xF3, wide(), 0x2A, xmm(), gpr(), m, false, -1));
            }
            case 1 -> { // CVT(T)SS2SI / CVT(T)SD2SI
                emit(insn(rnd.nextBoolean() ? 0xF2 : 0xF3, wide(), 0x2C | rnd.nextInt(2), gprDest(), xmm(), m,
                        false, -1));
            }
            case 2 -> { // CVTPS2PD, CVTPD2PS, CVTSS2SD, CVTSD2SS
                int p = PREFIXES[rnd.nextInt(4)];
                emit(insn(p, false, 0x5A, xmm(), xmm(), m, p == 0x66, -1));
            }
            case 3 -> { // CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ
                emit(insn(PREFIXES[rnd.nextInt(3)], false, 0x5B, xmm(), xmm(), m, true, -1));
            }
            case 4 -> { // CVTTPD2DQ, CVTDQ2PD, CVTPD2DQ
                int p = PREFIXES[1 + rnd.nextInt(3)];
                emit(insn(p, false, 0xE6, xmm(), xmm(), m, p != 0xF3, -1));
            }
            case 5 -> { // CVTPI2PS/PD xmm, mm/m64
                emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, 0x2A, xmm(), mm(), m, false, -1));
            }
            case 6 -> { // CVT(T)PS2PI mm, xmm/m64
                emit(insn(0, false, 0x2C | rnd.nextInt(2), mm(), xmm(), m, false, -1));
            }
            case 7 -> { // CVT(T)PD2PI mm, xmm/m128
                emit(insn(0x66, false, 0x2C | rnd.nextInt(2), mm(), xmm(), m, true, -1));
            }
            default -> { // scalar to integer with REX.W, the form compiled code uses most
                emit(insn(0xF2, !legacy, 0x2C, gprDest(), xmm(), m, false, -1));
            }
        }
    }

    private void move(boolean m) {
        switch (rnd.nextInt(14)) {
            case 0 -> emit(insn(PREFIXES[rnd.nextInt(4)], false, 0x10 | rnd.nextInt(2), xmm(), xmm(), m, false, -1));
            case 1 -> emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, 0x28 | rnd.nextInt(2), xmm(), xmm(), m, true, -1));
            case 2 -> { // MOVLPS/MOVHPS/MOVLPD/MOVHPD loads and stores, MOVHLPS/MOVLHPS
                int op = new int[] {0x12, 0x13, 0x16, 0x17}[rnd.nextInt(4)];
                boolean reg = (op == 0x12 || op == 0x16) && rnd.nextBoolean();
                emit(insn(reg ? 0 : rnd.nextBoolean() ? 0x66 : 0, false, op, xmm(), xmm(), !reg, false, -1));
            }
            case 3 -> emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, 0x50, gprDest(), xmm(), false, false, -1));
            case 4 -> { // MOVD/MOVQ xmm or mm <- r/m
                boolean xmm = rnd.nextBoolean();
                emit(insn(xmm ? 0x66 : 0, wide(), 0x6E, xmm ? xmm() : mm(), gpr(), m, false, -1));
            }
            case 5 -> { // MOVD/MOVQ r/m <- xmm or mm
                boolean xmm = rnd.nextBoolean();
                emit(insn(xmm ? 0x66 : 0, wide(), 0x7E, xmm ? xmm() : mm(), gprDest(), m, false, -1));
            }
            case 6 -> emit(insn(0xF3, false, 0x7E, xmm(), xmm(), m, false, -1)); // MOVQ xmm, xmm/m64
            case 7 -> { // MOVDQA/MOVDQU/MOVQ mm
                int p = new int[] {0, 0x66, 0xF3}[rnd.nextInt(3)];
                emit(insn(p, false, 0x6F | rnd.nextInt(2) << 4, p == 0 ? mm() : xmm(), p == 0 ? mm() : xmm(), m, p == 0x66,
                        -1));
            }
            case 8 -> { // MOVQ xmm/m64, xmm; MOVQ2DQ; MOVDQ2Q
                int p = new int[] {0x66, 0xF3, 0xF2}[rnd.nextInt(3)];
                emit(insn(p, false, 0xD6, p == 0xF2 ? mm() : xmm(), p == 0xF3 ? mm() : xmm(), p == 0x66 && m, false, -1));
            }
            case 9 -> { // PMOVMSKB
                boolean xmm = rnd.nextBoolean();
                emit(insn(xmm ? 0x66 : 0, false, 0xD7, gprDest(), xmm ? xmm() : mm(), false, false, -1));
            }
            case 10 -> emit(insn(0, wide(), 0xC3, gpr(), 0, true, false, -1)); // MOVNTI
            case 11 -> emit(insn(rnd.nextBoolean() ? 0x66 : 0, false, 0x2B, xmm(), 0, true, true, -1)); // MOVNTPS/PD
            case 12 -> { // MOVNTQ / MOVNTDQ
                boolean xmm = rnd.nextBoolean();
                emit(insn(xmm ? 0x66 : 0, false, 0xE7, xmm ? xmm() : mm(), 0, true, true, -1));
            }
            default -> emit(insn(PREFIXES[rnd.nextInt(4)], false, 0x11, xmm(), xmm(), true, false, -1)); // stores
        }
    }

    private static final int[] PACKED_INT = {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B,
        0x74, 0x75, 0x76, 0xD4, 0xD5, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xE3, 0xE4, 0xE5, 0xE8,
        0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF, 0xF4, 0xF5, 0xF6, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE};

    private void packedInt(boolean m) {
        if (rnd.nextInt(12) == 0) { // PUNPCKLQDQ / PUNPCKHQDQ
            emit(insn(0x66, false, 0x6C | rnd.nextInt(2), xmm(), xmm(), m, true, -1));
            return;
        }
        int op = PACKED_INT[rnd.nextInt(PACKED_INT.length)];
        boolean xmm = rnd.nextInt(3) != 0;
        emit(insn(xmm ? 0x66 : 0, false, op, xmm ? xmm() : mm(), xmm ? xmm() : mm(), m, xmm, -1));
    }
}
