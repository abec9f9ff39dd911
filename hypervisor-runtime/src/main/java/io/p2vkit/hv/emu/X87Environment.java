package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The x87 control instructions: FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, and the environment and
 * state images of FNSTENV/FLDENV (14 or 28 bytes) and FNSAVE/FRSTOR (94 or 108 bytes) in their
 * 16- and 32-bit, real- and protected-mode layouts (SDM Vol. 1 §8.1.10, Figures 8-9 to 8-12).
 * The stored tag word is derived from the registers' contents (SDM §8.1.7); a loaded one only
 * says which registers are empty. In 64-bit mode the 32-bit protected-mode layout is used.
 */
final class X87Environment {

    /** Control-word bits that exist (masks, PC, RC, X); bit 6 reads as one. */
    private static final int CONTROL_BITS = 0x1F3F;

    private X87Environment() {
    }

    static void fninit(X87State s) {
        s.control = 0x37F;
        s.status = 0;
        s.tag = 0xFFFF;
        s.opcode = 0;
        s.instructionPointer = 0;
        s.dataPointer = 0;
        s.codeSelector = 0;
        s.dataSelector = 0;
    }

    static void loadControl(X87State s, int v) {
        s.control = (v & CONTROL_BITS) | 0x40;
        X87Registers.updateSummary(s);
    }

    /** The full tag word as FNSTENV stores it: empty stays empty, the rest from the contents. */
    static int tagWord(X87State s) {
        int tag = 0;
        for (int p = 0; p < 8; p++) {
            int t = X87Registers.physTag(s, p);
            if (t != X87Registers.TAG_EMPTY) {
                t = X87Registers.tagFor(s.signExponent[p], s.significand[p]);
            }
            tag |= t << (2 * p);
        }
        return tag;
    }

    private static boolean realLayout(Cpu c) {
        return !c.protectedMode();
    }

    private static int envSize(DecodedInsn d) {
        return d.op32 || d.op64 ? 28 : 14;
    }

    /** D9 /6 FNSTENV: stores the environment, then masks all exceptions. */
    static void fnstenv(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        long lin = X87Memory.address(c, d, size, true);
        storeEnvironment(c, lin, size);
        c.fpu.control |= 0x3F;
    }

    /** DD /6 FNSAVE: the environment and ST(0)-ST(7), then FNINIT. */
    static void fnsave(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        long lin = X87Memory.address(c, d, size + 80, true);
        storeEnvironment(c, lin, size);
        X87State s = c.fpu;
        for (int i = 0; i < 8; i++) {
            int p = X87Registers.phys(s, i);
            X87Memory.write80(c, X87Memory.next(c, lin, size + 10 * i), s.signExponent[p], s.significand[p]);
        }
        fninit(s);
    }

    private static void storeEnvironment(Cpu c, long lin, int size) {
        X87State s = c.fpu;
        int fip = (int) s.instructionPointer;
        int fdp = (int) s.dataPointer;
        int[] words = {s.control, s.status, tagWord(s), 0, 0, 0, 0};
        boolean real = realLayout(c);
        int unit = size == 28 ? 4 : 2;
        if (real) {
            words[3] = fip & 0xFFFF;
            words[4] = (fip >>> 16) << 12 | s.opcode & 0x7FF;
            words[5] = fdp & 0xFFFF;
            words[6] = (fdp >>> 16) << 12;
            if (unit == 2) {
                words[4] &= 0xF7FF;
                words[6] &= 0xF000;
            }
        } else {
            words[3] = unit == 2 ? fip & 0xFFFF : fip;
            words[4] = s.codeSelector & 0xFFFF | (unit == 4 ? (s.opcode & 0x7FF) << 16 : 0);
            words[5] = unit == 2 ? fdp & 0xFFFF : fdp;
            words[6] = s.dataSelector & 0xFFFF;
        }
        for (int k = 0; k < 7; k++) {
            long at = X87Memory.next(c, lin, k * unit);
            if (unit == 4) {
                boolean wide = !real && (k == 3 || k == 4 || k == 5) || real && (k == 4 || k == 6);
                X87Memory.write32(c, at, wide ? words[k] : words[k] & 0xFFFF | 0xFFFF_0000);
            } else {
                X87Memory.write16(c, at, words[k]);
            }
        }
    }

    /** D9 /4 FLDENV. */
    static void fldenv(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        loadEnvironment(c, X87Memory.address(c, d, size, false), size);
    }

    /** DD /4 FRSTOR: reads the whole image before changing anything. */
    static void frstor(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        long lin = X87Memory.address(c, d, size + 80, false);
        X87State s = c.fpu;
        long[] sigs = new long[8];
        int[] ses = new int[8];
        for (int i = 0; i < 8; i++) {
            long at = X87Memory.next(c, lin, size + 10 * i);
            sigs[i] = X87Memory.read64(c, at);
            ses[i] = X87Memory.read16(c, X87Memory.next(c, at, 8));
        }
        loadEnvironment(c, lin, size);
        for (int i = 0; i < 8; i++) {
            int p = X87Registers.phys(s, i);
            s.significand[p] = sigs[i];
            s.signExponent[p] = ses[i];
        }
        retag(s, s.tag);
    }

    private static void loadEnvironment(Cpu c, long lin, int size) {
        X87State s = c.fpu;
        int unit = size == 28 ? 4 : 2;
        int[] w = new int[7];
        for (int k = 0; k < 7; k++) {
            long at = X87Memory.next(c, lin, k * unit);
            w[k] = unit == 4 ? X87Memory.read32(c, at) : X87Memory.read16(c, at);
        }
        s.control = (w[0] & CONTROL_BITS) | 0x40;
        s.status = w[1] & 0xFFFF;
        if (realLayout(c)) {
            s.instructionPointer = (w[3] & 0xFFFF | (long) (w[4] >>> 12 & (unit == 4 ? 0xFFFF : 0xF)) << 16);
            s.opcode = w[4] & 0x7FF;
            s.dataPointer = (w[5] & 0xFFFF | (long) (w[6] >>> 12 & (unit == 4 ? 0xFFFF : 0xF)) << 16);
            s.codeSelector = 0;
            s.dataSelector = 0;
        } else {
            s.instructionPointer = unit == 4 ? w[3] & 0xFFFF_FFFFL : w[3] & 0xFFFF;
            s.codeSelector = w[4] & 0xFFFF;
            s.opcode = unit == 4 ? w[4] >>> 16 & 0x7FF : 0;
            s.dataPointer = unit == 4 ? w[5] & 0xFFFF_FFFFL : w[5] & 0xFFFF;
            s.dataSelector = w[6] & 0xFFFF;
        }
        retag(s, w[2]);
    }

    /** Takes the empty bits of a loaded tag word; non-empty registers are tagged by content. */
    private static void retag(X87State s, int loaded) {
        int tag = 0;
        for (int p = 0; p < 8; p++) {
            int t = loaded >>> (2 * p) & 3;
            if (t != X87Registers.TAG_EMPTY) {
                t = X87Registers.tagFor(s.signExponent[p], s.significand[p]);
            }
            tag |= t << (2 * p);
        }
        s.tag = tag;
    }
}
