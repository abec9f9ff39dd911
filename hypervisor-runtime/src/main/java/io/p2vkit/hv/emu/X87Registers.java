package io.p2vkit.hv.emu;

/**
 * The x87 register stack and status word as the instructions see them (SDM Vol. 1 §8.1.2-8.1.3,
 * §8.5.1.1): ST(i) addressing through TOP, tags kept in step with the contents, the status-word
 * bits, and the stack-fault responses (IE + SF, C1 = 1 on overflow and 0 on underflow; masked,
 * the destination gets the QNaN indefinite).
 */
final class X87Registers {

    static final int SW_IE = 1;
    static final int SW_SF = 0x40;
    static final int SW_ES = 0x80;
    static final int SW_C0 = 0x100;
    static final int SW_C1 = 0x200;
    static final int SW_C2 = 0x400;
    static final int SW_C3 = 0x4000;
    static final int SW_B = 0x8000;
    static final int SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
    static final int SW_TOP = 0x3800;

    static final int TAG_VALID = 0;
    static final int TAG_ZERO = 1;
    static final int TAG_SPECIAL = 2;
    static final int TAG_EMPTY = 3;

    private X87Registers() {
    }

    static int phys(X87State s, int i) {
        return (s.top() + i) & 7;
    }

    static boolean empty(X87State s, int i) {
        return physTag(s, phys(s, i)) == TAG_EMPTY;
    }

    static int physTag(X87State s, int p) {
        return s.tag >>> (2 * p) & 3;
    }

    static void setPhysTag(X87State s, int p, int t) {
        s.tag = (s.tag & ~(3 << (2 * p))) | t << (2 * p);
    }

    /** The tag the contents of a register deserve (SDM §8.1.7). */
    static int tagFor(int se, long sig) {
        return switch (Float80.kind(se, sig)) {
            case Float80.NORMAL -> TAG_VALID;
            case Float80.ZERO -> TAG_ZERO;
            default -> TAG_SPECIAL;
        };
    }

    static int se(X87State s, int i) {
        return s.signExponent[phys(s, i)];
    }

    static long sig(X87State s, int i) {
        return s.significand[phys(s, i)];
    }

    static void write(X87State s, int i, int se, long sig) {
        int p = phys(s, i);
        s.signExponent[p] = se & 0xFFFF;
        s.significand[p] = sig;
        setPhysTag(s, p, tagFor(se, sig));
    }

    static void setTop(X87State s, int top) {
        s.status = (s.status & ~SW_TOP) | (top & 7) << 11;
    }

    /** Pushes a value (the caller has checked for overflow). */
    static void push(X87State s, int se, long sig) {
        setTop(s, s.top() - 1);
        write(s, 0, se, sig);
    }

    static void pop(X87State s) {
        setPhysTag(s, s.top(), TAG_EMPTY);
        setTop(s, s.top() + 1);
    }

    static void setC1(X87State s, boolean v) {
        s.status = v ? s.status | SW_C1 : s.status & ~SW_C1;
    }

    /** Sets C3, C2, C1 and C0 from bits 3, 2, 1 and 0 of {@code cc}. */
    static void setConditionCodes(X87State s, int c3, int c2, int c1, int c0) {
        s.status = (s.status & ~SW_CC) | (c0 != 0 ? SW_C0 : 0) | (c1 != 0 ? SW_C1 : 0)
                | (c2 != 0 ? SW_C2 : 0) | (c3 != 0 ? SW_C3 : 0);
    }

    /**
     * Merges an operation's exceptions into the status word; an unmasked one sets ES and B (the
     * next waiting instruction raises #MF). True when the destination may be written: unmasked
     * IE, DE and ZE leave it untouched (SDM §8.5).
     */
    static boolean signal(X87State s, int exceptions) {
        s.status |= exceptions;
        int unmasked = exceptions & ~s.control & 0x3F;
        if (unmasked != 0) {
            s.status |= SW_ES | SW_B;
        }
        return (unmasked & (Float80.IE | Float80.DE | Float80.ZE)) == 0;
    }

    /** Re-derives ES and B from the flags and masks (after FLDCW unmasks a pending exception). */
    static void updateSummary(X87State s) {
        if ((s.status & ~s.control & 0x3F) != 0) {
            s.status |= SW_ES | SW_B;
        } else {
            s.status &= ~(SW_ES | SW_B);
        }
    }

    /** A stack underflow: true when masked (the caller then writes the indefinite). */
    static boolean underflow(X87State s) {
        setC1(s, false);
        return signal(s, Float80.IE | SW_SF);
    }

    /** A stack overflow: true when masked. */
    static boolean overflow(X87State s) {
        boolean masked = signal(s, Float80.IE | SW_SF);
        setC1(s, true);
        return masked;
    }

    /** Pushes with the overflow check: a masked overflow pushes the indefinite instead. */
    static void pushChecked(X87State s, int se, long sig) {
        if (!empty(s, -1)) {
            if (overflow(s)) {
                push(s, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
            }
            return;
        }
        push(s, se, sig);
    }

    static void writeIndefinite(X87State s, int i) {
        write(s, i, Float80.INDEFINITE_SE, Float80.INDEFINITE_SIG);
    }
}
