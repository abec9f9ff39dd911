package io.p2vkit.hv.emu;

/**
 * The x87 register file and its control words (SDM Vol. 1 §8.1). Each data register holds an
 * 80-bit extended-precision value as a 64-bit significand (with its explicit integer bit) and a
 * 16-bit sign-and-exponent word, indexed physically (R0-R7); ST(i) is R((top + i) mod 8).
 * FXSAVE/FXRSTOR and FSAVE/FRSTOR read and write this state.
 */
final class X87State {

    int control = 0x40;
    int status;
    /** The full tag word: two bits per physical register (00 valid, 01 zero, 10 special, 11 empty). */
    int tag = 0xFFFF;
    /** The last non-control instruction's opcode (11 bits), code and data pointers. */
    int opcode;
    long instructionPointer;
    long dataPointer;
    /** FCS and FDS: the selectors of the last non-control instruction and of its memory operand. */
    int codeSelector;
    int dataSelector;
    final long[] significand = new long[8];
    final int[] signExponent = new int[8];

    /** The state after reset (SDM Vol. 3 Table 9-1): FNINIT differs only in the control word. */
    void reset() {
        control = 0x40;
        status = 0;
        tag = 0xFFFF;
        opcode = 0;
        instructionPointer = 0;
        dataPointer = 0;
        codeSelector = 0;
        dataSelector = 0;
        java.util.Arrays.fill(significand, 0);
        java.util.Arrays.fill(signExponent, 0);
    }

    /** The arithmetic unit the x87 instructions use (results and flags of the last operation). */
    final Float80 alu = new Float80();

    int top() {
        return (status >>> 11) & 7;
    }
}
