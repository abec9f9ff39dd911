package io.p2vkit.hv.emu;

/** A generated 64-bit sequence as {@link NativeDifferential64Test} runs it. */
interface GeneratedProgram64 {

    byte[] code();

    String listing();

    /** Flags whose value is undefined at the end of the sequence (not compared). */
    int undefinedFlags();
}
