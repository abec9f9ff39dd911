package io.p2vkit.hv.device;

/**
 * One of the local APIC's 256-bit vector registers (IRR, ISR, TMR): eight 32-bit words as the
 * APIC page shows them at 16-byte strides (SDM Vol. 3 Figure 11-20). Not thread-safe: {@link LocalApic} guards it.
 */
final class ApicVectorSet {

    private final int[] words = new int[8];

    /** The highest vector set, or -1. */
    int highest() {
        for (int i = 7; i >= 0; i--) {
            if (words[i] != 0) {
                return i * 32 + 31 - Integer.numberOfLeadingZeros(words[i]);
            }
        }
        return -1;
    }

    void set(int vector) {
        words[vector >>> 5] |= 1 << (vector & 31);
    }

    void clear(int vector) {
        words[vector >>> 5] &= ~(1 << (vector & 31));
    }

    boolean contains(int vector) {
        return (words[vector >>> 5] & (1 << (vector & 31))) != 0;
    }

    /** Word {@code index} (0-7): vectors 32 * index to 32 * index + 31. */
    int word(int index) {
        return words[index];
    }

    void clearAll() {
        java.util.Arrays.fill(words, 0);
    }
}
