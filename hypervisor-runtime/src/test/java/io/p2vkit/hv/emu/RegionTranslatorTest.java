package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * Regions translated on the translator thread: the vCPU interprets until they are installed,
 * the guest sees the same state as without them, and a page the guest rewrites meanwhile never
 * runs the region made from its old bytes.
 */
class RegionTranslatorTest {

    private static final long CODE = NativeHarness64.CODE;
    private static final int THRESHOLD = RegionCompilerTest.THRESHOLD;
    private static final long WAIT_NANOS = 60_000_000_000L;

    private static FlatMachine machine(byte[] code, boolean regions) {
        FlatMachine m = NativeDifferential64Test.loaded64(code, regions, THRESHOLD);
        m.cpu.translator = regions ? new RegionTranslator() : null;
        return m;
    }

    private static void assertSameState(FlatMachine expected, FlatMachine actual) {
        assertArrayEquals(expected.cpu.r, actual.cpu.r, "registers");
        assertEquals(expected.cpu.eflags(), actual.cpu.eflags(), "flags");
        assertEquals(expected.cpu.rip, actual.cpu.rip, "RIP");
        byte[] want = new byte[RandomProgram.SCRATCH_SIZE];
        byte[] got = new byte[RandomProgram.SCRATCH_SIZE];
        expected.memory.read(RandomProgram.SCRATCH, want, 0, want.length);
        actual.memory.read(RandomProgram.SCRATCH, got, 0, got.length);
        assertArrayEquals(want, got, "memory");
    }

    @Test
    void aHotLoopRunsInterpretedUntilItsRegionIsInstalledThenCompiledWithTheSameResults() {
        byte[] code = RegionCompilerTest.mixedLoop(50_000_000);
        try (FlatMachine compiled = machine(code, true); FlatMachine interpreted = machine(code, false)) {
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (compiled.cpu.regionRetired == 0 && System.nanoTime() < deadline) {
                assertEquals(Vcpu.Stop.REQUESTED, compiled.vcpu.run(100_000), compiled.vcpu.stopReason());
            }
            assertTrue(compiled.cpu.regionRetired > 0, "a region was installed and ran");
            assertEquals(Vcpu.Stop.REQUESTED, compiled.vcpu.run(1_000_000), compiled.vcpu.stopReason());
            assertEquals(Vcpu.Stop.REQUESTED, interpreted.vcpu.run(compiled.cpu.retired));
            assertEquals(compiled.cpu.retired, interpreted.cpu.retired);
            assertSameState(interpreted, compiled);
        }
    }

    @Test
    void aPageRewrittenWhileItsRegionIsTranslatedNeverRunsThatRegion() {
        byte[] before = RegionCompilerTest.mixedLoop(20_000);
        byte[] after = before.clone();
        after[11] ^= 0x55; // the loop's IMUL multiplier (mov ecx 5 bytes, mov rax,rcx 3, imul opcode 3)
        try (FlatMachine m = machine(before, true); FlatMachine interpreted = machine(after, false)) {
            long loop = CODE + 5;
            int off = (int) loop & 0xFFF;
            CodePage old = m.cpu.mmu.codePageFor(loop);
            for (int i = 0; i <= THRESHOLD; i++) {
                assertNull(old.block(m.cpu, loop, off), "interpreted while cold, then while translated");
            }
            m.load(CODE, after);
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (!m.cpu.translator.ready() && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(m.cpu.translator.ready(), "the translator finished");
            m.cpu.translator.install(m.cpu);
            CodePage fresh = m.cpu.mmu.codePageFor(loop);
            assertNotSame(old, fresh, "the rewrite dropped the page");
            assertNull(fresh.block(m.cpu, loop, off), "the new page starts cold");

            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            assertEquals(Vcpu.Stop.SHUTDOWN, interpreted.vcpu.run(Long.MAX_VALUE), interpreted.vcpu.stopReason());
            assertEquals(interpreted.cpu.retired, m.cpu.retired);
            assertSameState(interpreted, m);
        }
    }
}
