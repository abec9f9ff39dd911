package io.p2vkit.hv.emu;

/**
 * Thrown by a region's store that would change code this vCPU has decoded, before the store has
 * any effect ({@link Mmu#regionStore32} and the others). The region leaves as at a fault, RIP at
 * the storing instruction, and the run loop has the interpreter run that instruction: its store
 * drops the decoded code, which is decoded afresh before it runs. A region's other stores need no
 * check of their own, where each used to test whether code had gone after it.
 */
final class StoreIntoCode extends RuntimeException {

    /** The one instance: it carries nothing, and no Java stack trace. */
    static final StoreIntoCode STOP = new StoreIntoCode();

    private StoreIntoCode() {
        super("a region's store into decoded code", null, false, false);
    }
}
