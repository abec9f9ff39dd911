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
     * The three regions that ran after this one most recently, and the MMU generation when each
     * was found: while no translation or code page has gone since, the same RIP finds the same
     * region without a lookup (a loop through several regions, a function's call and return).
     * Two for the sides of a conditional branch, and a third for a return to a function's
     * third caller or an indirect branch's third target, which otherwise took ~40% of a boot's
     * region lookups.
     */
    private CompiledBlock successor;
    private int successorGeneration;
    private CompiledBlock previousSuccessor;
    private int previousSuccessorGeneration;
    private CompiledBlock oldestSuccessor;
    private int oldestSuccessorGeneration;

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
        if (s != null && s.start == rip && previousSuccessorGeneration == generation) {
            return s;
        }
        s = oldestSuccessor;
        return s != null && s.start == rip && oldestSuccessorGeneration == generation ? s : null;
    }

    /** Remembers {@code next}, just found at RIP after this region ran, with the two before it. */
    final void link(CompiledBlock next, Cpu c) {
        oldestSuccessor = previousSuccessor;
        oldestSuccessorGeneration = previousSuccessorGeneration;
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
