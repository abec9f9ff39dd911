package io.p2vkit.hv.emu;

/**
 * A hot region of 64-bit code from one code page, translated by {@link RegionCompiler} into a
 * hidden subclass. It runs from its first instruction until control leaves the region, an
 * instruction stores into code, or the budget would not allow another pass through a loop;
 * then RIP, the registers and the retired count are as the interpreter would have left them.
 * A fault propagates with the faulting instruction's RIP and RSP in {@link Cpu#insnRip} and
 * {@link Cpu#insnEsp}, as in the interpreter. An abstract class, not an interface: the run loop
 * reads the start and size as plain fields and calls run through the vtable, not an itable.
 */
abstract class CompiledBlock {

    /** The linear address of its first instruction: its RIP values hold for this alias only. */
    final long start;
    /** How many instructions the region holds: the least budget it may be entered with. */
    final int size;
    /** Whether it was compiled for CPL 3: its TLB lookups use that privilege's tags. */
    final boolean user;

    /**
     * The region that ran after this one last time, and the MMU generation then: while no
     * translation or code page has gone since, the same RIP finds the same region without a
     * lookup (a loop through several regions, a function's call and return).
     */
    private CompiledBlock successor;
    private int successorGeneration;

    CompiledBlock(long start, int size, boolean user) {
        this.start = start;
        this.size = size;
        this.user = user;
    }

    /** The region at RIP if it is the one remembered after this one, else null (look it up). */
    final CompiledBlock successor(Cpu c) {
        CompiledBlock s = successor;
        return s != null && s.start == c.rip && successorGeneration == c.mmu.generation ? s : null;
    }

    /** Remembers {@code next}, just found at RIP after this region ran. */
    final void link(CompiledBlock next, Cpu c) {
        successor = next;
        successorGeneration = c.mmu.generation;
    }

    /** Runs at most {@code budget} instructions (at least {@link #size}); returns how many retired. */
    abstract int run(Cpu c, int budget);
}
