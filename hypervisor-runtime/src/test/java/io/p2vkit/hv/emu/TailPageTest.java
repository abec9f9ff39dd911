package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * A region of user code takes in the code a branch leads to on another page (its tail page,
 * {@link RegionScan#MAX_TAIL_INSNS}), and runs it only while that linear page is still the code
 * page it was built from: rewritten or remapped, the region leaves to the interpreter at the
 * branch. Each case compares a compiled run with an interpreted one of the same code.
 */
class TailPageTest {

    private static final long CODE = NativeHarness64.CODE;
    private static final long LOOP = CODE + 5;
    private static final long TAIL = CODE + 0x1020;
    /** A frame outside the code's own pages, for the tail page's linear address to be mapped to. */
    private static final long OTHER_FRAME = 0x9000;

    /** On the first page: a loop whose body goes on on the second page and comes back. */
    private static byte[] head() {
        return ModeTransitionTest.asm(
                "b9 88 13 00 00",           // mov ecx, 5000
                "48 01 c8",                 // L: add rax, rcx
                "ff c9",                    // dec ecx
                "0f 85 " + rel32(TAIL, CODE + 0x10), // jnz T (on the next page)
                "f4");                      // hlt
    }

    /** On the second page, at TAIL: the rest of the loop's body, multiplying by {@code factor}. */
    private static byte[] tail(int factor) {
        return ModeTransitionTest.asm(
                String.format("48 6b c0 %02x", factor), // T: imul rax, rax, factor
                "48 31 c8",                 // xor rax, rcx
                "e9 " + rel32(LOOP, TAIL + 12)); // jmp L
    }

    private static String rel32(long target, long next) {
        int v = (int) (target - next);
        return String.format("%02x %02x %02x %02x", v & 0xFF, v >>> 8 & 0xFF, v >>> 16 & 0xFF, v >>> 24 & 0xFF);
    }

    /**
     * The code's two pages through 4 KiB page tables open to user code, the second page's linear
     * address mapped to frame {@code tailFrame}; RIP at the start, at CPL 3's privilege when {@code user}.
     */
    private static FlatMachine machine(boolean regions, boolean user, long tailFrame, int factor) {
        FlatMachine m = NativeDifferential64Test.machine64WithTwoCodePages();
        m.cpu.compileBlocks = regions;
        m.cpu.regionThreshold = RegionCompilerTest.THRESHOLD;
        m.load(CODE, head());
        m.load(tailFrame + (TAIL & 0xFFF), tail(factor));
        map(m, tailFrame);
        m.cpu.mmu.setUser(user);
        restart(m);
        return m;
    }

    /** The code's second page's linear address mapped to frame {@code tailFrame}, every level open to user code. */
    private static void map(FlatMachine m, long tailFrame) {
        NativeDifferential64Test.mapThroughSmallPages(m, CODE, true,
                page -> (page == CODE + 0x1000 ? tailFrame : page) | 7); // moves the MMU generation
    }

    private static void restart(FlatMachine m) {
        m.cpu.halted = false; // the run before ended at the HLT
        java.util.Arrays.fill(m.cpu.r, 0);
        m.cpu.rip = CODE;
        m.cpu.eip = (int) CODE;
        m.cpu.breakSlice = false;
    }

    private static void runToHlt(FlatMachine m) {
        assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
    }

    private static CompiledBlock regionAtLoop(FlatMachine m) {
        return m.cpu.mmu.codePageFor(LOOP).block(m.cpu, LOOP, (int) LOOP & 0xFFF);
    }

    /** Runs the loop compiled and interpreted at {@code user}'s privilege, checks they agree, answers the region at LOOP. */
    private static CompiledBlock regionAfterBothWays(boolean user) {
        try (FlatMachine compiled = machine(true, user, CODE + 0x1000, 3);
                FlatMachine interpreted = machine(false, user, CODE + 0x1000, 3)) {
            runToHlt(compiled);
            runToHlt(interpreted);
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r);
            assertEquals(interpreted.cpu.retired, compiled.cpu.retired);
            CompiledBlock region = regionAtLoop(compiled);
            assertNotNull(region);
            return region;
        }
    }

    @Test
    void userCodeBranchingToAnotherPageRunsItInsideTheRegionWithTheInterpretersResults() {
        assertEquals(6, regionAfterBothWays(true).size, "ADD, DEC, JNZ and the tail page's IMUL, XOR, JMP");
    }

    @Test
    void kernelCodeKeepsItsRegionsToOnePage() {
        assertEquals(3, regionAfterBothWays(false).size, "ADD, DEC, JNZ: the tail page's code is a region of its own");
    }

    @Test
    void aRewrittenTailPageSendsTheRegionToTheInterpreterAtTheBranch() {
        try (FlatMachine compiled = machine(true, true, CODE + 0x1000, 3);
                FlatMachine interpreted = machine(false, true, CODE + 0x1000, 5)) {
            runToHlt(compiled);
            CompiledBlock region = regionAtLoop(compiled);
            compiled.load(TAIL, tail(5)); // the first page, and so the region at LOOP, stay
            restart(compiled);
            runToHlt(compiled);
            runToHlt(interpreted);
            assertEquals(region, regionAtLoop(compiled), "the region on the first page still serves");
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r, "the new tail ran");
        }
    }

    @Test
    void aRemappedTailPageSendsTheRegionToTheInterpreterAtTheBranch() {
        try (FlatMachine compiled = machine(true, true, CODE + 0x1000, 3);
                FlatMachine interpreted = machine(false, true, OTHER_FRAME, 5)) {
            compiled.load(OTHER_FRAME + (TAIL & 0xFFF), tail(5));
            runToHlt(compiled);
            map(compiled, OTHER_FRAME); // the same linear page, another frame, other code
            restart(compiled);
            runToHlt(compiled);
            runToHlt(interpreted);
            assertArrayEquals(interpreted.cpu.r, compiled.cpu.r, "the remapped tail ran");
        }
    }
}
