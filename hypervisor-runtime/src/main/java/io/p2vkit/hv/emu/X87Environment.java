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
        return d.op32() || d.op64() ? 28 : 14;
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
        boolean real = realLayout(c);
        int unit = size == 28 ? 4 : 2;
        for (int k = 0; k < 7; k++) {
            long at = X87Memory.next(c, lin, k * unit);
            int v = environmentWord(s, k, real, unit == 4);
            if (unit == 4) {
                X87Memory.write32(c, at, v);
            } else {
                X87Memory.write16(c, at, v);
            }
        }
    }

    /**
     * Word {@code k} of the environment image (SDM Figures 8-9 to 8-12). In the 32-bit layouts
     * the unused upper halves of the 16-bit fields read as ones.
     */
    private static int environmentWord(X87State s, int k, boolean real, boolean wide) {
        int fip = (int) s.instructionPointer;
        int fdp = (int) s.dataPointer;
        int reserved = wide ? 0xFFFF_0000 : 0;
        return switch (k) {
            case 0 -> s.control | reserved;
            case 1 -> s.status | reserved;
            case 2 -> tagWord(s) | reserved;
            case 3 -> real ? fip & 0xFFFF | reserved : wide ? fip : fip & 0xFFFF;
            case 4 -> real ? (wide ? fip >>> 16 << 12 : (fip >>> 16 & 0xF) << 12) | s.opcode & 0x7FF
                    : s.codeSelector & 0xFFFF | (wide ? (s.opcode & 0x7FF) << 16 : 0);
            case 5 -> real ? fdp & 0xFFFF | reserved : wide ? fdp : fdp & 0xFFFF;
            default -> real ? (wide ? fdp >>> 16 << 12 : (fdp >>> 16 & 0xF) << 12)
                    : s.dataSelector & 0xFFFF | reserved;
        };
    }

    /** D9 /4 FLDENV. */
    static void fldenv(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        loadEnvironment(c, X87Memory.address(c, d, size, false), size);
    }

    /** DD /4 FRSTOR: both ends of the image are read first, so a fault changes nothing. */
    static void frstor(Cpu c, DecodedInsn d) {
        int size = envSize(d);
        long lin = X87Memory.address(c, d, size + 80, false);
        X87Memory.read16(c, X87Memory.next(c, lin, size + 78));
        loadEnvironment(c, lin, size);
        X87State s = c.fpu;
        for (int i = 0; i < 8; i++) {
            long at = X87Memory.next(c, lin, size + 10 * i);
            int p = X87Registers.phys(s, i);
            s.significand[p] = X87Memory.read64(c, at);
            s.signExponent[p] = X87Memory.read16(c, X87Memory.next(c, at, 8));
        }
        retag(s, s.tag);
    }

    private static void loadEnvironment(Cpu c, long lin, int size) {
        X87State s = c.fpu;
        boolean wide = size == 28;
        int unit = wide ? 4 : 2;
        X87Memory.read16(c, X87Memory.next(c, lin, size - 2)); // fault, if at all, before any change
        int w0 = word(c, lin, 0, unit);
        int w1 = word(c, lin, 1, unit);
        int w2 = word(c, lin, 2, unit);
        int w3 = word(c, lin, 3, unit);
        int w4 = word(c, lin, 4, unit);
        int w5 = word(c, lin, 5, unit);
        int w6 = word(c, lin, 6, unit);
        s.control = (w0 & CONTROL_BITS) | 0x40;
        s.status = w1 & 0xFFFF;
        if (realLayout(c)) {
            int high = wide ? 0xFFFF : 0xF;
            s.instructionPointer = w3 & 0xFFFF | (long) (w4 >>> 12 & high) << 16;
            s.opcode = w4 & 0x7FF;
            s.dataPointer = w5 & 0xFFFF | (long) (w6 >>> 12 & high) << 16;
            s.codeSelector = 0;
            s.dataSelector = 0;
        } else {
            s.instructionPointer = wide ? w3 & 0xFFFF_FFFFL : w3 & 0xFFFF;
            s.codeSelector = w4 & 0xFFFF;
            s.opcode = wide ? w4 >>> 16 & 0x7FF : 0;
            s.dataPointer = wide ? w5 & 0xFFFF_FFFFL : w5 & 0xFFFF;
            s.dataSelector = w6 & 0xFFFF;
        }
        retag(s, w2);
    }

    private static int word(Cpu c, long lin, int k, int unit) {
        long at = X87Memory.next(c, lin, k * unit);
        return unit == 4 ? X87Memory.read32(c, at) : X87Memory.read16(c, at);
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
