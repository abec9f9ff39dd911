package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.X87Registers.empty;
import static io.p2vkit.hv.emu.X87Registers.se;
import static io.p2vkit.hv.emu.X87Registers.sig;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The x87 arithmetic group (FADD, FMUL, FCOM, FCOMP, FSUB, FSUBR, FDIV, FDIVR in their memory,
 * ST(0)/ST(i), ST(i)/ST(0) and popping forms, and FIADD...FIDIVR), the comparisons (FCOM*,
 * FUCOM*, FICOM*, FCOMI*, FUCOMI*, FTST, FXAM) and the one- and two-operand functions on ST(0)
 * (FCHS, FABS, FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM, FPREM1). The ModRM reg field selects the
 * operation: 0 add, 1 mul, 2 com, 3 comp, 4 sub, 5 subr, 6 div, 7 divr (SDM Vol. 2 Table A-7).
 */
final class X87Arith {

    /** Memory operand types of D8 (m32fp), DA (m32int), DC (m64fp), DE (m16int). */
    static final int FP32 = 0;
    static final int INT32 = 1;
    static final int FP64 = 2;
    static final int INT16 = 3;

    private X87Arith() {
    }

    /** Loads a memory operand of {@code type} into the ALU's result (flags SNaN and denormals). */
    static void loadOperand(Cpu c, DecodedInsn d, int type, Float80 f) {
        switch (type) {
            case FP32 -> Float80Conversions.fromBinary(f, X87Memory.read32(c, X87Memory.address(c, d, 4, false)) & 0xFFFF_FFFFL, 8, 23, false);
            case FP64 -> Float80Conversions.fromBinary(f, X87Memory.read64(c, X87Memory.address(c, d, 8, false)), 11, 52, false);
            case INT32 -> Float80Conversions.fromInteger(f, X87Memory.read32(c, X87Memory.address(c, d, 4, false)));
            default -> Float80Conversions.fromInteger(f, (short) X87Memory.read16(c, X87Memory.address(c, d, 2, false)));
        }
    }

    private static Float80 alu(X87State s) {
        Float80 f = s.alu;
        f.clear();
        f.control = s.control;
        return f;
    }

    /** D8/DA/DC/DE with a memory operand: ST(0) = ST(0) op m, or a comparison with m. */
    static void memory(Cpu c, DecodedInsn d, int type) {
        X87State s = c.fpu;
        Float80 f = alu(s);
        loadOperand(c, d, type, f);
        int mSe = f.se;
        long mSig = f.sig;
        int loadFlags = f.exceptions;
        if (empty(s, 0)) {
            stackUnderflowResult(s, d.reg, 0, d.reg == 3);
            return;
        }
        int stKind = Float80.kind(se(s, 0), sig(s, 0));
        if (stKind == Float80.QNAN || stKind == Float80.SNAN || stKind == Float80.UNSUPPORTED) {
            loadFlags &= ~Float80.DE; // NaN handling comes before the denormal-operand exception
        }
        f.clear();
        f.exceptions = loadFlags;
        int op = d.reg;
        if (op == 2 || op == 3) {
            compareAndSet(s, f, se(s, 0), sig(s, 0), mSe, mSig, false, op == 3 ? 1 : 0);
            return;
        }
        compute(f, op, se(s, 0), sig(s, 0), mSe, mSig);
        if ((f.exceptions & (Float80.IE | Float80.ZE)) != 0) {
            f.exceptions &= ~(loadFlags & Float80.DE); // #Z and #I outrank #D (SDM §4.9.2)
        }
        finish(s, f, 0, false);
    }

    /**
     * The register forms. {@code toSti}: DC and DE, where ST(i) is the destination (and the
     * reversed forms swap: DC E0+i is FSUBR ST(i),ST(0)); {@code pop}: DE.
     */
    static void register(Cpu c, DecodedInsn d, boolean toSti, boolean pop) {
        X87State s = c.fpu;
        int i = d.rm & 7;
        int op = d.reg;
        if (op == 2 || op == 3) {
            int pops = op == 3 || pop ? 1 : 0;
            if (pop && op == 3) {
                if (i != 1) {
                    throw X87.reserved();
                }
                pops = 2; // DE D9: FCOMPP
            }
            if (empty(s, 0) || empty(s, i)) {
                stackUnderflowResult(s, 2, 0, false);
                if ((s.control & Float80.IE) != 0) {
                    X87Registers.setConditionCodes(s, 1, 1, 0, 1);
                    popTimes(s, pops);
                }
                return;
            }
            Float80 f = alu(s);
            compareAndSet(s, f, se(s, 0), sig(s, 0), se(s, i), sig(s, i), false, pops);
            return;
        }
        int dest = toSti ? i : 0;
        int other = toSti ? 0 : i;
        if (empty(s, 0) || empty(s, i)) {
            stackUnderflowResult(s, op, dest, pop);
            return;
        }
        if (toSti && op >= 4) {
            op ^= 1; // DC/DE E0-FF: the "R" forms sit where D8 has the plain ones
        }
        Float80 f = alu(s);
        compute(f, op, se(s, dest), sig(s, dest), se(s, other), sig(s, other));
        finish(s, f, dest, pop);
    }

    /** f = a op b (op 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr). */
    private static void compute(Float80 f, int op, int aSe, long aSig, int bSe, long bSig) {
        switch (op) {
            case 0 -> f.add(aSe, aSig, bSe, bSig, false);
            case 1 -> f.mul(aSe, aSig, bSe, bSig);
            case 4 -> f.add(aSe, aSig, bSe, bSig, true);
            case 5 -> f.add(bSe, bSig, aSe, aSig, true);
            case 6 -> f.div(aSe, aSig, bSe, bSig);
            default -> f.div(bSe, bSig, aSe, aSig);
        }
    }

    /** Writes f's result to ST(dest) unless an unmasked exception forbids it; C1 = round-up. */
    static void finish(X87State s, Float80 f, int dest, boolean pop) {
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setC1(s, f.roundedUp);
        X87Registers.write(s, dest, f.se, f.sig);
        if (pop) {
            X87Registers.pop(s);
        }
    }

    /** A stack underflow on an arithmetic or compare instruction: masked, the indefinite (or unordered). */
    private static void stackUnderflowResult(X87State s, int op, int dest, boolean pop) {
        if (!X87Registers.underflow(s)) {
            return;
        }
        if (op == 2 || op == 3) {
            X87Registers.setConditionCodes(s, 1, 1, 0, 1);
            if (op == 3) {
                X87Registers.pop(s);
            }
            return;
        }
        X87Registers.writeIndefinite(s, dest);
        if (pop) {
            X87Registers.pop(s);
        }
    }

    private static void popTimes(X87State s, int n) {
        for (int k = 0; k < n; k++) {
            X87Registers.pop(s);
        }
    }

    /** FCOM-style: C3 C2 C0 from the relation, C1 = 0, then {@code pops} pops. */
    private static void compareAndSet(X87State s, Float80 f, int aSe, long aSig, int bSe, long bSig,
            boolean quiet, int pops) {
        int r = f.compare(aSe, aSig, bSe, bSig, quiet);
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        setCompareCodes(s, r);
        popTimes(s, pops);
    }

    static void setCompareCodes(X87State s, int relation) {
        switch (relation) {
            case Float80.GREATER -> X87Registers.setConditionCodes(s, 0, 0, 0, 0);
            case Float80.LESS -> X87Registers.setConditionCodes(s, 0, 0, 0, 1);
            case Float80.EQUAL -> X87Registers.setConditionCodes(s, 1, 0, 0, 0);
            default -> X87Registers.setConditionCodes(s, 1, 1, 0, 1);
        }
    }

    /** DD E0+i FUCOM, DD E8+i FUCOMP, DA E9 FUCOMPP. */
    static void ucom(Cpu c, int i, int pops) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, i)) {
            if (X87Registers.underflow(s)) {
                X87Registers.setConditionCodes(s, 1, 1, 0, 1);
                popTimes(s, pops);
            }
            return;
        }
        compareAndSet(s, alu(s), se(s, 0), sig(s, 0), se(s, i), sig(s, i), true, pops);
    }

    /** DB/DF E8+i FUCOMI(P), F0+i FCOMI(P): ZF, PF, CF from the relation; OF, SF, AF cleared. */
    static void comi(Cpu c, int i, boolean quiet, boolean pop) {
        X87State s = c.fpu;
        int relation;
        if (empty(s, 0) || empty(s, i)) {
            if (!X87Registers.underflow(s)) {
                return;
            }
            relation = Float80.UNORDERED;
        } else {
            Float80 f = alu(s);
            relation = f.compare(se(s, 0), sig(s, 0), se(s, i), sig(s, i), quiet);
            if (!X87Registers.signal(s, f.exceptions)) {
                return;
            }
        }
        Flags fl = c.flags;
        fl.materialize();
        fl.setBit(Flags.OF, false);
        fl.setBit(Flags.SF, false);
        fl.setBit(Flags.AF, false);
        fl.setBit(Flags.ZF, relation == Float80.EQUAL || relation == Float80.UNORDERED);
        fl.setBit(Flags.PF, relation == Float80.UNORDERED);
        fl.setBit(Flags.CF, relation == Float80.LESS || relation == Float80.UNORDERED);
        if (pop) {
            X87Registers.pop(s);
        }
    }

    /** D9 E4: FTST compares ST(0) with +0.0. */
    static void ftst(Cpu c) {
        X87State s = c.fpu;
        if (empty(s, 0)) {
            if (X87Registers.underflow(s)) {
                X87Registers.setConditionCodes(s, 1, 1, 0, 1);
            }
            return;
        }
        compareAndSet(s, alu(s), se(s, 0), sig(s, 0), 0, 0, false, 0);
    }

    /** D9 E5: FXAM classifies ST(0) into C3 C2 C0, with its sign in C1 (empty registers too). */
    static void fxam(Cpu c) {
        X87State s = c.fpu;
        int sign = se(s, 0) >>> 15 & 1;
        if (empty(s, 0)) {
            X87Registers.setConditionCodes(s, 1, 0, sign, 1);
            return;
        }
        switch (Float80.kind(se(s, 0), sig(s, 0))) {
            case Float80.UNSUPPORTED -> X87Registers.setConditionCodes(s, 0, 0, sign, 0);
            case Float80.QNAN, Float80.SNAN -> X87Registers.setConditionCodes(s, 0, 0, sign, 1);
            case Float80.NORMAL -> X87Registers.setConditionCodes(s, 0, 1, sign, 0);
            case Float80.INFINITY -> X87Registers.setConditionCodes(s, 0, 1, sign, 1);
            case Float80.ZERO -> X87Registers.setConditionCodes(s, 1, 0, sign, 0);
            default -> X87Registers.setConditionCodes(s, 1, 1, sign, 0);
        }
    }

    /** D9 E0 FCHS, E1 FABS: sign only, no exceptions but stack underflow; C1 = 0. */
    static void signOp(Cpu c, boolean abs) {
        X87State s = c.fpu;
        if (empty(s, 0)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
            }
            return;
        }
        X87Registers.setC1(s, false);
        int v = se(s, 0);
        X87Registers.write(s, 0, abs ? v & 0x7FFF : v ^ 0x8000, sig(s, 0));
    }

    /** D9 FA FSQRT, FC FRNDINT. */
    static void unary(Cpu c, boolean sqrt) {
        X87State s = c.fpu;
        if (empty(s, 0)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
            }
            return;
        }
        Float80 f = alu(s);
        if (sqrt) {
            f.sqrt(se(s, 0), sig(s, 0));
        } else {
            f.roundToInteger(se(s, 0), sig(s, 0));
        }
        finish(s, f, 0, false);
    }

    /** D9 FD: FSCALE, ST(0) = ST(0) × 2^trunc(ST(1)). */
    static void fscale(Cpu c) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, 1)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
            }
            return;
        }
        Float80 f = alu(s);
        f.scale(se(s, 0), sig(s, 0), se(s, 1), sig(s, 1));
        finish(s, f, 0, false);
    }

    /** D9 F4: FXTRACT, ST(0) = exponent, then push the significand. */
    static void fxtract(Cpu c) {
        X87State s = c.fpu;
        if (empty(s, 0) || !empty(s, -1)) {
            boolean masked = empty(s, 0) ? X87Registers.underflow(s) : X87Registers.overflow(s);
            if (masked) {
                X87Registers.writeIndefinite(s, 0);
                X87Registers.push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
            }
            return;
        }
        Float80 f = alu(s);
        f.extract(se(s, 0), sig(s, 0));
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        X87Registers.setC1(s, false);
        X87Registers.write(s, 0, f.se, f.sig);
        X87Registers.push(s, f.se2, f.sig2);
    }

    /** D9 F8 FPREM, F5 FPREM1: C2 = incomplete; complete: C0 = Q2, C3 = Q1, C1 = Q0. */
    static void fprem(Cpu c, boolean ieee) {
        X87State s = c.fpu;
        if (empty(s, 0) || empty(s, 1)) {
            if (X87Registers.underflow(s)) {
                X87Registers.writeIndefinite(s, 0);
                X87Registers.setConditionCodes(s, s.status >>> 14 & 1, 0, 0, s.status >>> 8 & 1);
            }
            return;
        }
        Float80 f = alu(s);
        f.remainder(se(s, 0), sig(s, 0), se(s, 1), sig(s, 1), ieee);
        if (!X87Registers.signal(s, f.exceptions)) {
            return;
        }
        int q = f.quotient;
        if (f.incomplete) {
            X87Registers.setConditionCodes(s, 0, 1, 0, 0);
        } else if (Float80.isNaN(f.se, f.sig)) {
            // a NaN result (NaN operand or invalid operation) leaves C0 and C3 as they were
            X87Registers.setConditionCodes(s, s.status >>> 14 & 1, 0, 0, s.status >>> 8 & 1);
        } else {
            X87Registers.setConditionCodes(s, q >>> 1 & 1, 0, q & 1, q >>> 2 & 1);
        }
        X87Registers.write(s, 0, f.se, f.sig);
    }
}
