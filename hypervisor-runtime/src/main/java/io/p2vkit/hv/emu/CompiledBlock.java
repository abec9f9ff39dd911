package io.p2vkit.hv.emu;

/**
 * A run of 64-bit instructions from one code page, compiled by {@link BlockCompiler} into a
 * hidden class whose handler calls the JVM can inline. It runs its instructions in order with the
 * interpreter's bookkeeping (RIP, the rollback state for faults, the retired count) and returns
 * early when an instruction transfers control, asks to end the slice, or changes what the
 * decoded code depends on (the MMU generation). A fault propagates as in the interpreter.
 */
interface CompiledBlock {

    /** Runs the block from its first instruction; returns how many instructions retired. */
    int run(Cpu c);

    /** The linear address of its first instruction: its RIP values hold for this alias only. */
    long start();
}
