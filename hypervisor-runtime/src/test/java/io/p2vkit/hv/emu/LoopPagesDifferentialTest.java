package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Compiled regions against the interpreter on random loops built for {@link LoopPages}: memory
 * operands through a pointer no instruction moves (RBX at DATA) and a table indexed by a byte
 * just taken (R9 + R10*8), among register arithmetic, loads, stores and read-modify-writes;
 * now and then the pointer moves to a page mapped to another frame, which no lookup may outlive.
 * {@link RegionDifferentialTest}'s random programs rarely leave a pointer alone.
 */
class LoopPagesDifferentialTest {

    private static final int PROGRAMS = Integer.getInteger("emu.loopPages.programs", 150);
    private static final long TABLE = RandomProgram.SCRATCH + 0x2000; // 2 KiB of it, within one page
    /** Registers the random instructions use: never RBX (the pointer), RSP, RBP or R9 (the table). */
    private static final int[] REGS = {0, 1, 2, 6, 7, 8, 10, 11};

    /** One random instruction; some through [RBX+disp], one in four the table access. */
    private static void instruction(Random rnd, ByteArrayOutputStream b) {
        int r = REGS[rnd.nextInt(REGS.length)];
        int s = REGS[rnd.nextInt(REGS.length)];
        int disp = 8 * rnd.nextInt(16);
        int rex = 0x48 | (r >= 8 ? 4 : 0);
        if (rnd.nextInt(40) == 0) {
            // xor rbx, 0x1000: the pointer moves to the other page, mapped to another frame
            b.writeBytes(new byte[] {0x48, (byte) 0x81, (byte) 0xF3, 0x00, 0x10, 0x00, 0x00});
            return;
        }
        switch (rnd.nextInt(10)) {
            case 0, 1 -> b.writeBytes(new byte[] {(byte) rex, (byte) (8 * rnd.nextInt(8) + 1 + 2 * rnd.nextInt(2)),
                (byte) (0x43 | (r & 7) << 3), (byte) disp});                 // ALU [rbx+d], r or r, [rbx+d]
            case 2 -> b.writeBytes(new byte[] {(byte) rex, (byte) (rnd.nextBoolean() ? 0x8B : 0x89),
                (byte) (0x43 | (r & 7) << 3), (byte) disp});                 // MOV either way
            case 3 -> b.writeBytes(new byte[] {(byte) (0x40 | (r >= 8 ? 4 : 0)), 0x0F, (byte) 0xB6,
                (byte) (0x43 | (r & 7) << 3), (byte) (disp + rnd.nextInt(8))}); // MOVZX r32, byte [rbx+d]
            case 4 -> b.writeBytes(new byte[] {0x48, (byte) 0xFF, (byte) (0x43 | rnd.nextInt(2) << 3), (byte) disp}); // INC/DEC
            case 5 -> b.writeBytes(new byte[] {0x48, (byte) 0xC1, 0x63, (byte) disp, (byte) (1 + rnd.nextInt(7))}); // SHL [rbx+d], n
            case 6 -> b.writeBytes(new byte[] {(byte) (0x48 | (s >= 8 ? 4 : 0) | (r >= 8 ? 1 : 0)),
                (byte) (8 * rnd.nextInt(8) + 1), (byte) (0xC0 | (s & 7) << 3 | (r & 7))}); // ALU r, s
            case 7 -> b.writeBytes(new byte[] {(byte) (0x48 | (r >= 8 ? 4 : 0) | (s >= 8 ? 1 : 0)), 0x0F, (byte) 0xAF,
                (byte) (0xC0 | (r & 7) << 3 | (s & 7))});                    // IMUL r, s
            default -> {
                // movzx r10d, <low byte of r>; op r, [r9 + r10*8]
                b.writeBytes(new byte[] {(byte) (0x44 | (r >= 8 ? 1 : 0)), 0x0F, (byte) 0xB6,
                    (byte) (0xC0 | 2 << 3 | (r & 7))});
                b.writeBytes(new byte[] {(byte) (0x4B | (r >= 8 ? 4 : 0)), (byte) (8 * rnd.nextInt(8) + 3),
                    (byte) (0x04 | (r & 7) << 3), (byte) (0xC0 | 2 << 3 | 1)});
            }
        }
    }

    private record Outcome(long[] regs, int flags, byte[] scratch, long retired, long regionRetired) {
    }

    private static Outcome run(byte[] code, boolean regions, long seed) {
        try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, RegionCompilerTest.THRESHOLD)) {
            swapFirstTwoScratchPages(m);
            Random init = new Random(seed);
            for (int n : REGS) {
                m.cpu.r[n] = init.nextLong();
            }
            m.cpu.r[9] = TABLE;
            for (int k = 0; k < 16; k++) {
                m.memory.writeLong(NativeDifferential64Test.DATA + 8 * k, init.nextLong());
            }
            for (int k = 0; k < 256; k++) {
                m.memory.writeLong(TABLE + 8 * k, init.nextLong());
            }
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10_000_000), m.vcpu.stopReason());
            byte[] scratch = new byte[RandomProgram.SCRATCH_SIZE];
            m.memory.read(RandomProgram.SCRATCH, scratch, 0, scratch.length);
            return new Outcome(m.cpu.r.clone(), m.cpu.eflags(), scratch, m.cpu.retired, m.cpu.regionRetired);
        }
    }

    /**
     * Maps SCRATCH's 2 MiB through 4 KiB pages, its first two swapped: a lookup kept after the
     * pointer moved from one to the other would reach the wrong frame (guest RAM is one block
     * of host memory, so under an identity map a stale page's addend would still be right).
     */
    private static void swapFirstTwoScratchPages(FlatMachine m) {
        long first = RandomProgram.SCRATCH;
        NativeDifferential64Test.mapThroughSmallPages(m, first, false, page -> (page == first ? first + 0x1000
                : page == first + 0x1000 ? first : page) | 3);
    }

    @Test
    void randomLoopsThroughAnUnchangingPointerEndAsInTheInterpreter() {
        int hoisted = 0;
        for (int p = 0; p < PROGRAMS; p++) {
            long seed = 0x5EED_0000L + p;
            Random rnd = new Random(seed);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            for (int k = 4 + rnd.nextInt(16); k > 0; k--) {
                instruction(rnd, body);
            }
            byte[] code = RegionDifferentialTest.loop(body.toByteArray());
            Outcome interpreted = run(code, false, seed);
            Outcome compiled = run(code, true, seed);
            String what = "program " + p + " (seed " + Long.toHexString(seed) + ")";
            assertArrayEquals(interpreted.regs(), compiled.regs(), what + ": registers");
            assertEquals(interpreted.flags(), compiled.flags(), what + ": flags");
            assertArrayEquals(interpreted.scratch(), compiled.scratch(), what + ": memory");
            assertEquals(interpreted.retired(), compiled.retired(), what + ": retired");
            assertTrue(compiled.regionRetired() > 0, what + ": regions ran");
            if (plan(code).groups().length > 0) {
                hoisted++;
            }
        }
        assertTrue(hoisted > PROGRAMS * 2 / 3, "loops with hoisted lookups: " + hoisted + " of " + PROGRAMS);
    }

    /** The plan for the loop's region (its body starts after the counter's MOV). */
    private static LoopPages plan(byte[] code) {
        try (FlatMachine m = NativeDifferential64Test.loaded64(code, false, RegionCompilerTest.THRESHOLD)) {
            swapFirstTwoScratchPages(m);
            m.cpu.r[9] = TABLE;
            m.vcpu.run(1_000);
            long body = NativeHarness64.CODE + 11;
            return LoopPages.plan(RegionScan.scan(m.cpu, body, RegionScan.MAX_INSNS, m.cpu.mmu.codePageFor(body)));
        }
    }
}
