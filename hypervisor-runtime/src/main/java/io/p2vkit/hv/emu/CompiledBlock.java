package io.p2vkit.hv.emu;

/**
 * A hot region of 64-bit code from one code page, translated by {@link RegionCompiler} into a
 * hidden class. It runs from its first instruction until control leaves the region, an
 * instruction stores into code, or the budget would not allow another pass through a loop;
 * then RIP, the registers and the retired count are as the interpreter would have left them.
 * A fault propagates with the faulting instruction's RIP and RSP in {@link Cpu#insnRip} and
 * {@link Cpu#insnEsp}, as in the interpreter.
 */
interface CompiledBlock {

    /** Runs at most {@code budget} instructions (at least {@link #size()}); returns how many retired. */
    int run(Cpu c, int budget);

    /** The linear address of its first instruction: its RIP values hold for this alias only. */
    long start();

    /** How many instructions the region holds: the least budget it may be entered with. */
    int size();
}
