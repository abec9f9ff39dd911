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
     * Whether it holds SSE instructions translated in place ({@link RegionSse}): they make no
     * #UD/#NM check of their own, so the region only runs while SSE is usable ({@link Sse#usable});
     * otherwise the interpreter runs the code and faults at the instruction. No instruction inside
     * a region can change CR0 or CR4 (those end regions), so the check at entry holds throughout.
     */
    final boolean sse;

    /**
     * The two regions that ran after this one most recently, and the MMU generation when each
     * was found: while no translation or code page has gone since, the same RIP finds the same
     * region without a lookup (a loop through several regions, a function's call and return).
     * Two, because a region ending in a conditional branch goes on to either side of it.
     */
    private CompiledBlock successor;
    private int successorGeneration;
    private CompiledBlock previousSuccessor;
    private int previousSuccessorGeneration;

    CompiledBlock(long start, int size, boolean user, boolean sse) {
        this.start = start;
        this.size = size;
        this.user = user;
        this.sse = sse;
    }

    /** The region at RIP if it is one of those remembered after this one, else null (look it up). */
    final CompiledBlock successor(Cpu c) {
        long rip = c.rip;
        int generation = c.mmu.generation;
        CompiledBlock s = successor;
        if (s != null && s.start == rip && successorGeneration == generation) {
            return s;
        }
        s = previousSuccessor;
        return s != null && s.start == rip && previousSuccessorGeneration == generation ? s : null;
    }

    /** Remembers {@code next}, just found at RIP after this region ran, with the last one before it. */
    final void link(CompiledBlock next, Cpu c) {
        previousSuccessor = successor;
        previousSuccessorGeneration = successorGeneration;
        successor = next;
        successorGeneration = c.mmu.generation;
    }

    /**
     * Runs at most {@code budget} instructions (at least {@link #size}); returns how many retired.
     * A negative budget returns 0 at once and touches nothing, {@code c} included (it may be
     * null): a call that only warms the method up for the JIT.
     */
    abstract int run(Cpu c, int budget);
}
