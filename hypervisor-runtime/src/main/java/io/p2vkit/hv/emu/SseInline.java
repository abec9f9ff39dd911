package io.p2vkit.hv.emu;

/**
 * The SSE/SSE2 steps a compiled region calls for the instructions {@link RegionSse} translates:
 * the run loop has already checked that SSE is usable ({@link CompiledBlock#sse}), the region has
 * read a source operand itself (its inlined TLB lookups; only a 16-byte store passes its linear
 * address), so each step gets plain register numbers and values instead of a decoded instruction,
 * and the guest's general registers stay in the region's locals. Each step does what the interpreter's handler
 * ({@link SseMoves}, {@link SseFloat}, {@link SsePackedInt}, {@link SseConvert}) does after
 * decoding, in the same order: alignment, then reads, then the result.
 */
final class SseInline {

    /** Register-to-register move kinds of {@link #move}. */
    static final int MOVE_FULL = 0;     // MOVAPS/MOVAPD/MOVUPS/MOVUPD/MOVDQA/MOVDQU
    static final int MOVE_SD = 1;       // MOVSD: the low quadword, the high one kept
    static final int MOVE_SS = 2;       // MOVSS: the low dword, the rest kept
    static final int MOVE_Q = 3;        // MOVQ (F3 0F 7E, 66 0F D6): the low quadword, the high one zeroed
    static final int MOVE_HL = 4;       // MOVHLPS: the source's high quadword to the low one
    static final int MOVE_LH = 5;       // MOVLHPS: the source's low quadword to the high one

    private static final long LOW32 = 0xFFFF_FFFFL;

    private SseInline() {
    }

    // ---- moves ----

    // The region-only steps take the XMM array itself: regions pass it as a constant (RegionOperands.xmmArray).

    static void move(long[] x, int kind, int to, int from) {
        switch (kind) {
            case MOVE_FULL -> {
                x[2 * to] = x[2 * from];
                x[2 * to + 1] = x[2 * from + 1];
            }
            case MOVE_SD -> x[2 * to] = x[2 * from];
            case MOVE_SS -> x[2 * to] = (x[2 * to] & ~LOW32) | (x[2 * from] & LOW32);
            case MOVE_Q -> {
                x[2 * to] = x[2 * from];
                x[2 * to + 1] = 0;
            }
            case MOVE_HL -> x[2 * to] = x[2 * from + 1];
            default -> x[2 * to + 1] = x[2 * from];
        }
    }

    static void storeFull(Cpu c, int n, long lin, boolean aligned) {
        if (aligned) {
            Sse.aligned(lin);
        }
        Sse.write128(c, lin, c.xmm[2 * n], c.xmm[2 * n + 1]);
    }

    /** MOVD/MOVQ/MOVSD/MOVSS xmm, r/m: the value the region read, zero-extended to 128 bits. */
    static void fromGpr(long[] x, int n, long v) {
        x[2 * n] = v;
        x[2 * n + 1] = 0;
    }

    /** PMOVMSKB r32, xmm: the sign bit of every byte. */
    static long byteMask(long[] x, int n) {
        return SseMoves.byteSigns(x[2 * n]) | SseMoves.byteSigns(x[2 * n + 1]) << 8;
    }

    // ---- packed integers (66 forms): the operations a region does not compute itself ----
    // (PackedLanes.common's, the string routines' PCMPEQB, PMINUB, PXOR..., are computed lane by
    // lane in the region's code: RegionSse.commonLanes)

    /** XMM{@code n} = XMM{@code n} op (bh:bl), the source read by the region. */
    static void lanes(Cpu c, int op, int n, long bl, long bh) {
        long[] x = c.xmm;
        Sse.setXmm(c, n, PackedLanes.apply(op, x[2 * n], bl), PackedLanes.apply(op, x[2 * n + 1], bh));
    }

    // ---- floating point ----

    /**
     * ADDSD/SUBSD/MULSD/DIVSD ({@code dbl}) or the SS forms, {@code op} the opcode's low byte, with
     * the source's quadword or zero-extended dword {@code b}: {@link FastFloat}'s host arithmetic
     * when its bounds hold, else {@link SseFloat#arith}'s exact path. Small enough that a region
     * inlines it with the operation a constant (SseFloat.arith, which serves every form, is too
     * big to be inlined; going through SoftFloat.arith instead made the benchmark's float phase
     * ~10% slower).
     */
    static void scalar(Cpu c, long[] x, int op, boolean dbl, int n, long b) {
        long a = x[2 * n];
        int soft = SseFloat.softOp(op);
        c.simdExceptions = 0;
        long r = dbl ? FastFloat.arithDouble(c, soft, a, b) : FastFloat.arithSingle(c, soft, a & LOW32, b);
        if (r == FastFloat.SLOW) {
            SseFloat.arith(c, op, dbl ? Sse.PF2 : Sse.PF3, n, b, 0);
            return;
        }
        Sse.commit(c);
        x[2 * n] = dbl ? r : (a & ~LOW32) | (r & LOW32);
    }

    /**
     * ADDPD/SUBPD/MULPD/DIVPD ({@code op} the opcode's low byte) of XMM{@code n} ({@code x} the
     * XMM array) and the source {@code bl}, {@code bh}: both lanes by {@link FastFloat}'s host
     * arithmetic when its bounds hold, else the whole instruction by {@link SseFloat#arith}'s exact
     * path (FastFloat answers SLOW before changing anything, and nothing is written before both
     * lanes are known).
     */
    static void packedDouble(Cpu c, long[] x, int op, int n, long bl, long bh) {
        int soft = SseFloat.softOp(op);
        c.simdExceptions = 0;
        long r0 = FastFloat.arithDouble(c, soft, x[2 * n], bl);
        long r1 = r0 == FastFloat.SLOW ? FastFloat.SLOW : FastFloat.arithDouble(c, soft, x[2 * n + 1], bh);
        if (r1 == FastFloat.SLOW) {
            SseFloat.arith(c, op, Sse.P66, n, bl, bh);
            return;
        }
        Sse.commit(c);
        x[2 * n] = r0;
        x[2 * n + 1] = r1;
    }

    /** COMISS/COMISD ({@code signaling}), UCOMISS/UCOMISD: the flags go to Flags. */
    static void comisReg(Cpu c, boolean signaling, boolean dbl, int n, int m) {
        long b = c.xmm[2 * m];
        SseFloat.comis(c, signaling, dbl, n, dbl ? b : b & LOW32);
    }

    /** The same with the 8 (dbl) or 4 bytes the region read from memory, zero-extended. */
    static void comis(Cpu c, boolean signaling, boolean dbl, int n, long b) {
        SseFloat.comis(c, signaling, dbl, n, b);
    }

    /**
     * CVTSI2SD (dbl) / CVTSI2SS xmm, r/m32 or r/m64 of the value {@code v} the region read. A
     * double holds every integer up to 2^53 exactly: no rounding, no flag, only the result.
     */
    static void fromInt(Cpu c, long[] x, int n, long v, boolean wide, boolean dbl) {
        long i = wide ? v : (int) v;
        if (dbl && i >= -(1L << 53) && i <= 1L << 53) {
            x[2 * n] = Double.doubleToRawLongBits((double) i);
            return;
        }
        c.simdExceptions = 0;
        long r = SoftFloat.fromInt(c, i, dbl);
        Sse.commit(c);
        x[2 * n] = dbl ? r : (x[2 * n] & ~LOW32) | r;
    }
}
