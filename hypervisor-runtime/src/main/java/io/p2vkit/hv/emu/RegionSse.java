package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.RegionOperands.CD_CPU;
import static io.p2vkit.hv.emu.RegionOperands.CPU;
import static io.p2vkit.hv.emu.RegionOperands.T0;
import static io.p2vkit.hv.emu.RegionOperands.T1;
import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.lang.classfile.CodeBuilder;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;

/**
 * The SSE/SSE2 instructions a compiled region runs without leaving its locals: the moves,
 * logic, packed-integer operations, floating-point arithmetic and conversions that compiled
 * C code (glibc's string functions, scalar and packed double loops) spends its time in. Each
 * becomes the memory operand's address computed from the guest registers held in locals and
 * one call of an {@link SseInline} step with constant register numbers, or for the common
 * packed operations both lanes computed in place ({@link #commonLanes}); the #UD/#NM check is
 * made once, before the region runs ({@link CompiledBlock#sse}). A general
 * register result goes straight to its local. Unlike a delegated instruction, nothing is written
 * back around it and the flags' locals stay valid (none of these touches RFLAGS). Forms that
 * would raise #UD for their prefix or operand kind, the MMX forms and everything else stay
 * delegated to the interpreter's handlers.
 */
final class RegionSse {

    private static final ClassDesc CD_INLINE = ClassDesc.of("io.p2vkit.hv.emu.SseInline");
    private static final ClassDesc CD_SSE = ClassDesc.of("io.p2vkit.hv.emu.Sse");
    private static final ClassDesc CD_LANES = ClassDesc.of("io.p2vkit.hv.emu.PackedLanes");
    private static final ClassDesc CD_SSE_FLOAT = ClassDesc.of("io.p2vkit.hv.emu.SseFloat");
    private static final MethodTypeDesc MTD_LANE = MethodTypeDesc.of(CD_long, CD_long, CD_long);
    private static final MethodTypeDesc MTD_FROM_GPR = MethodTypeDesc.of(CD_void, RegionOperands.CD_XMM, CD_int, CD_long);

    /** The packed-integer rows of SseTable served by SsePackedInt.binary (their 66 forms here). */
    private static final boolean[] PACKED_INT = new boolean[0x100];

    static {
        int[] ops = {0x64, 0x65, 0x66, 0x74, 0x75, 0x76, 0xD4, 0xD5, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD, 0xDE,
            0xDF, 0xE0, 0xE3, 0xE4, 0xE5, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE, 0xEF, 0xF4, 0xF5, 0xF6, 0xF8,
            0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE};
        for (int op : ops) {
            PACKED_INT[op] = true;
        }
    }

    private final CodeBuilder code;
    private final RegionOperands ops;

    RegionSse(CodeBuilder code, RegionOperands ops) {
        this.code = code;
        this.ops = ops;
    }

    /** Whether the instruction is one of the forms {@link #emit} translates. */
    static boolean inline(DecodedInsn d) {
        int op = d.opcode;
        if (op < 0x110 || op > 0x1FE) {
            return false;
        }
        int p = Sse.prefix(d);
        boolean legacy = p == Sse.NONE || p == Sse.P66;  // the PS/PD forms
        boolean mem = d.isMemory();
        return switch (op) {
            case 0x110, 0x111, 0x151, 0x158, 0x159, 0x15C, 0x15D, 0x15E, 0x15F -> true;
            case 0x128, 0x129, 0x114, 0x115, 0x154, 0x155, 0x156, 0x157, 0x12E, 0x12F -> legacy;
            case 0x16F, 0x17F -> p == Sse.P66 || p == Sse.PF3;           // MOVDQA, MOVDQU
            case 0x112, 0x116 -> legacy && (mem || p == Sse.NONE);       // MOVLPx/MOVHPx, MOVHLPS/MOVLHPS
            case 0x113, 0x117 -> legacy && mem;
            case 0x16E, 0x1D6 -> p == Sse.P66;                           // MOVD/MOVQ xmm, r/m; MOVQ xmm/m64, xmm
            case 0x17E -> p == Sse.P66 || p == Sse.PF3;                  // MOVD/MOVQ r/m, xmm; MOVQ xmm, xmm/m64
            case 0x1D7 -> p == Sse.P66 && !mem;                          // PMOVMSKB
            case 0x12A -> p == Sse.PF3 || p == Sse.PF2;                  // CVTSI2SS/SD
            default -> p == Sse.P66 && PACKED_INT[op & 0xFF];
        };
    }

    /** Whether the translated instruction writes memory. */
    static boolean stores(DecodedInsn d) {
        if (!d.isMemory()) {
            return false;
        }
        return switch (d.opcode) {
            case 0x111, 0x129, 0x113, 0x117, 0x17F, 0x1D6 -> true;
            case 0x17E -> Sse.prefix(d) == Sse.P66;
            default -> false;
        };
    }

    /** COMIS/UCOMIS: the only translated SSE instructions that write RFLAGS (all six, in Flags). */
    static boolean writesFlags(DecodedInsn d) {
        return d.opcode == 0x12E || d.opcode == 0x12F;
    }

    /** Whether {@code region} holds any instruction {@link #emit} translates. */
    static boolean anyInline(RegionScan.Region region) {
        for (DecodedInsn d : region.insns()) {
            if (inline(d)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Emits instruction {@code i}; its address is already noted as the one that may fault. The
     * #UD/#NM check is the run loop's, once before the region (see {@link CompiledBlock#sse}).
     */
    void emit(DecodedInsn d, int i) {
        int op = d.opcode;
        int p = Sse.prefix(d);
        int x = d.reg;
        switch (op) {
            case 0x110, 0x111 -> {
                boolean store = op == 0x111;
                if (p == Sse.NONE || p == Sse.P66) {
                    full(d, i, store, false);
                } else if (!d.isMemory()) {
                    move(p == Sse.PF2 ? SseInline.MOVE_SD : SseInline.MOVE_SS, store ? d.rm : x, store ? x : d.rm);
                } else if (store) {
                    storeHalf(d, i, p == Sse.PF2 ? 8 : 4, 0);
                } else {
                    loadZeroExtended(d, i, p == Sse.PF2 ? 8 : 4);
                }
            }
            case 0x128, 0x129 -> full(d, i, op == 0x129, true);
            case 0x16F, 0x17F -> full(d, i, op == 0x17F, p == Sse.P66);
            case 0x112, 0x113, 0x116, 0x117 -> {
                int half = op <= 0x113 ? 0 : 1;
                if (!d.isMemory()) {
                    move(half == 0 ? SseInline.MOVE_HL : SseInline.MOVE_LH, x, d.rm);
                } else if ((op & 1) == 0) {
                    loadHalf(d, i, half);
                } else {
                    storeHalf(d, i, 8, half);
                }
            }
            case 0x1D6 -> {
                if (d.isMemory()) {
                    storeHalf(d, i, 8, 0);
                } else {
                    move(SseInline.MOVE_Q, d.rm, x);
                }
            }
            case 0x17E -> {
                if (p == Sse.PF3) {
                    if (d.isMemory()) {
                        loadZeroExtended(d, i, 8);
                    } else {
                        move(SseInline.MOVE_Q, x, d.rm);
                    }
                } else {
                    toGpr(d, i);
                }
            }
            case 0x16E -> {
                ops.xmmArray().loadConstant(x);
                ops.readRm(d, i, Sse.rexW(d) ? 8 : 4);
                code.invokestatic(CD_INLINE, "fromGpr", MTD_FROM_GPR);
            }
            case 0x1D7 -> {
                ops.xmmArray().loadConstant(d.rm)
                        .invokestatic(CD_INLINE, "byteMask", MethodTypeDesc.of(CD_long, RegionOperands.CD_XMM, CD_int));
                ops.storeReg(x, 8, d);
            }
            case 0x12A -> {
                boolean wide = Sse.rexW(d);
                code.aload(CPU);
                ops.xmmArray().loadConstant(x);
                ops.readRm(d, i, wide ? 8 : 4);
                code.loadConstant(wide ? 1 : 0).loadConstant(p == Sse.PF2 ? 1 : 0).invokestatic(CD_INLINE, "fromInt",
                        MethodTypeDesc.of(CD_void, CD_CPU, RegionOperands.CD_XMM, CD_int, CD_long, CD_boolean, CD_boolean));
            }
            case 0x114, 0x115 -> {
                packedSource(d, i);
                ops.xmmArray().loadConstant(op == 0x115 ? 1 : 0).loadConstant(p == Sse.P66 ? 1 : 0).loadConstant(x)
                        .lload(T0).lload(T1).invokestatic(CD_SSE_FLOAT, "unpack",
                                MethodTypeDesc.of(CD_void, RegionOperands.CD_XMM, CD_boolean, CD_boolean, CD_int, CD_long,
                                        CD_long));
            }
            case 0x12E, 0x12F -> {
                code.aload(CPU).loadConstant(op == 0x12F ? 1 : 0).loadConstant(p == Sse.P66 ? 1 : 0).loadConstant(x);
                if (d.isMemory()) {
                    ops.readRm(d, i, p == Sse.P66 ? 8 : 4);
                    code.invokestatic(CD_INLINE, "comis",
                            MethodTypeDesc.of(CD_void, CD_CPU, CD_boolean, CD_boolean, CD_int, CD_long));
                } else {
                    code.loadConstant(d.rm).invokestatic(CD_INLINE, "comisReg",
                            MethodTypeDesc.of(CD_void, CD_CPU, CD_boolean, CD_boolean, CD_int, CD_int));
                }
            }
            case 0x151, 0x158, 0x159, 0x15C, 0x15D, 0x15E, 0x15F -> {
                if ((p == Sse.PF2 || p == Sse.PF3) && SseFloat.isAddMulSubDiv(op & 0xFF)) {
                    scalarArith(d, i, op & 0xFF, p == Sse.PF2);
                    return;
                }
                if (p == Sse.P66 && SseFloat.isAddMulSubDiv(op & 0xFF)) {
                    packedDouble(d, i, op & 0xFF);
                    return;
                }
                if (p == Sse.PF2 || p == Sse.PF3) { // SQRT, MIN, MAX of SS/SD: the scalar source in T0
                    scalarSource(d, i, p == Sse.PF2);
                    code.lconst_0().lstore(T1);
                } else {
                    packedSource(d, i);
                }
                code.aload(CPU).loadConstant(op & 0xFF).loadConstant(p).loadConstant(x).lload(T0).lload(T1)
                        .invokestatic(CD_SSE_FLOAT, "arith", MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_int, CD_int,
                                CD_long, CD_long));
            }
            case 0x154, 0x155, 0x156, 0x157 -> {
                // ANDPx, ANDNPx, ORPx, XORPx are PAND, PANDN, POR, PXOR on the same bits
                int same = switch (op) {
                    case 0x154 -> 0xDB;
                    case 0x155 -> 0xDF;
                    case 0x156 -> 0xEB;
                    default -> 0xEF;
                };
                commonLanes(d, i, same);
            }
            default -> {
                if (PackedLanes.isCommon(op & 0xFF)) {
                    commonLanes(d, i, op & 0xFF);
                } else {
                    packedSource(d, i);
                    code.aload(CPU).loadConstant(op & 0xFF).loadConstant(x).lload(T0).lload(T1).invokestatic(CD_INLINE,
                            "lanes", MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_int, CD_long, CD_long));
                }
            }
        }
    }

    /**
     * XMM{@code reg} = XMM{@code reg} op source for an operation of {@link PackedLanes#common}
     * ({@code op} its 0F opcode byte): each 64-bit lane is computed in the region's own code by
     * the operation's own method ({@link PackedLanes#laneMethod}), so that the JIT always sees
     * the operation itself (a shared step taking the operation as an argument was not always
     * inlined, and then switched on it at run time). A memory source is read first, aligned,
     * low quadword then high one as the interpreter reads it; then both lanes are written.
     */
    private void commonLanes(DecodedInsn d, int i, int op) {
        int n = d.reg;
        if (d.isMemory()) {
            readSixteen(d, i, true);
            lane(op, 2 * n, () -> code.lload(T0));
            lane(op, 2 * n + 1, () -> code.lload(T1));
        } else {
            int m = d.rm;
            lane(op, 2 * n, () -> xmm(2 * m).laload());
            lane(op, 2 * n + 1, () -> xmm(2 * m + 1).laload());
        }
    }

    /**
     * Reads the 16-byte memory operand into T0 (the low quadword) and T1 (the high one), low then
     * high as the interpreter reads it, with the region's inlined TLB lookups; {@code aligned}:
     * #GP(0) first unless the address is a multiple of 16.
     */
    private void readSixteen(DecodedInsn d, int i, boolean aligned) {
        ops.linear(d, i);
        if (aligned) {
            code.invokestatic(CD_SSE, "aligned", MethodTypeDesc.of(CD_long, CD_long));
        }
        code.lstore(T1);
        ops.readAt(T1, 8, false);
        code.lstore(T0);
        code.lload(T1).loadConstant(8L).ladd().lstore(T1);
        ops.readAt(T1, 8, false);
        code.lstore(T1);
    }

    /** xmm[{@code at}] = xmm[{@code at}] op (the long {@code source} pushes). */
    private void lane(int op, int at, Runnable source) {
        xmm(at);
        xmm(at).laload();
        source.run();
        code.invokestatic(CD_LANES, PackedLanes.laneMethod(op), MTD_LANE).lastore();
    }

    /** Pushes the XMM array and the index {@code at} in it. */
    private CodeBuilder xmm(int at) {
        return ops.xmmArray().loadConstant(at);
    }

    /** ADDSD/SUBSD/MULSD/DIVSD or the SS forms: the source read here, the arithmetic in {@link SseInline#scalar}. */
    private void scalarArith(DecodedInsn d, int i, int op, boolean dbl) {
        scalarSource(d, i, dbl);
        code.aload(CPU);
        ops.xmmArray().loadConstant(op).loadConstant(dbl ? 1 : 0).loadConstant(d.reg).lload(T0);
        code.invokestatic(CD_INLINE, "scalar",
                MethodTypeDesc.of(CD_void, CD_CPU, RegionOperands.CD_XMM, CD_int, CD_boolean, CD_int, CD_long));
    }

    /** The 8-byte ({@code dbl}) or 4-byte source of a scalar operation, zero-extended, into T0. */
    private void scalarSource(DecodedInsn d, int i, boolean dbl) {
        if (d.isMemory()) {
            ops.readRm(d, i, dbl ? 8 : 4);
        } else {
            xmm(2 * d.rm).laload();
            if (!dbl) {
                code.loadConstant(0xFFFF_FFFFL).land();
            }
        }
        code.lstore(T0);
    }

    /** The 16-byte source of a packed operation (aligned when in memory) into T0 (low quadword) and T1 (high). */
    private void packedSource(DecodedInsn d, int i) {
        if (d.isMemory()) {
            readSixteen(d, i, true);
        } else {
            xmm(2 * d.rm).laload().lstore(T0);
            xmm(2 * d.rm + 1).laload().lstore(T1);
        }
    }

    /** ADDPD/SUBPD/MULPD/DIVPD: the source read here, both lanes in {@link SseInline#packedDouble}. */
    private void packedDouble(DecodedInsn d, int i, int op) {
        packedSource(d, i);
        code.aload(CPU);
        ops.xmmArray().loadConstant(op).loadConstant(d.reg).lload(T0).lload(T1).invokestatic(CD_INLINE, "packedDouble",
                MethodTypeDesc.of(CD_void, CD_CPU, RegionOperands.CD_XMM, CD_int, CD_int, CD_long, CD_long));
    }

    /** A full 16-byte move: register to register, load or store, aligned or not. */
    private void full(DecodedInsn d, int i, boolean store, boolean aligned) {
        if (!d.isMemory()) {
            move(SseInline.MOVE_FULL, store ? d.rm : d.reg, store ? d.reg : d.rm);
            return;
        }
        if (!store) {
            readSixteen(d, i, aligned); // both halves read before the register changes
            xmm(2 * d.reg).lload(T0).lastore();
            xmm(2 * d.reg + 1).lload(T1).lastore();
            return;
        }
        code.aload(CPU).loadConstant(d.reg);
        ops.linear(d, i);
        code.loadConstant(aligned ? 1 : 0).invokestatic(CD_INLINE, "storeFull",
                MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_long, CD_boolean));
    }

    private void move(int kind, int to, int from) {
        ops.xmmArray().loadConstant(kind).loadConstant(to).loadConstant(from)
                .invokestatic(CD_INLINE, "move", MethodTypeDesc.of(CD_void, RegionOperands.CD_XMM, CD_int, CD_int, CD_int));
    }

    // The scalar loads and stores access memory as the region's general-purpose operands do
    // (the TLB a constant, the access inlined), then touch only the XMM array.

    /** MOVSD/MOVSS/MOVQ xmm, m64 or m32: the value, zero-extended to 128 bits. */
    private void loadZeroExtended(DecodedInsn d, int i, int size) {
        ops.xmmArray().loadConstant(d.reg);
        ops.readRm(d, i, size);
        code.invokestatic(CD_INLINE, "fromGpr", MTD_FROM_GPR);
    }

    /** MOVLPS/MOVLPD (half 0), MOVHPS/MOVHPD (half 1) xmm, m64: the other half is kept. */
    private void loadHalf(DecodedInsn d, int i, int half) {
        ops.xmmArray().loadConstant(2 * d.reg + half);
        ops.readRm(d, i, 8);
        code.lastore();
    }

    /** MOVSD/MOVQ/MOVLPS/MOVLPD/MOVHPS/MOVHPD m64 ({@code size} 8) or MOVSS m32 (4), xmm: the half's low bytes. */
    private void storeHalf(DecodedInsn d, int i, int size, int half) {
        ops.xmmArray().loadConstant(2 * d.reg + half).laload()
                .lstore(RegionOperands.T0);
        ops.writeRm(d, i, size, RegionOperands.T0);
    }

    /** 66 0F 7E: MOVD/MOVQ r/m32 or r/m64, xmm. */
    private void toGpr(DecodedInsn d, int i) {
        boolean wide = Sse.rexW(d);
        ops.xmmArray().loadConstant(2 * d.reg).laload().lstore(T0);
        ops.writeRm(d, i, wide ? 8 : 4, T0);
    }
}
