package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Compiled regions against the interpreter on random programs: each {@link RandomProgram64}
 * sequence (every integer form the translator handles, and the ones it delegates to the
 * interpreter's handlers or leaves to the interpreter) and each {@link RandomSse64} sequence runs as the body of a loop long enough for regions to be compiled
 * and reused; registers, all of EFLAGS, the scratch memory and the retired count must come out
 * identical with and without regions.
 */
class RegionDifferentialTest {

    private static final int PROGRAMS = Integer.getInteger("emu.regions.programs", 300);
    private static final int ITERATIONS = 3 * RegionCompilerTest.THRESHOLD;
    private static final long COUNTER = RandomProgram.SCRATCH + 0x10000;

    /** {@code body} run {@link #ITERATIONS} times, counting in memory so that no register is taken. */
    static byte[] loop(byte[] body) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {(byte) 0xC7, 0x04, 0x25});                 // mov dword [COUNTER], n
        b.writeBytes(le32((int) COUNTER));
        b.writeBytes(le32(ITERATIONS));
        b.writeBytes(new byte[] {0x48, (byte) 0xC7, (byte) 0xC4});        // body: mov rsp, STACK (pushes
        b.writeBytes(le32((int) NativeDifferential64Test.STACK));           // and pops need not balance)
        b.writeBytes(body);
        b.writeBytes(new byte[] {(byte) 0xFF, 0x0C, 0x25});                 // dec dword [COUNTER]
        b.writeBytes(le32((int) COUNTER));
        int back = -(7 + body.length + 7 + 6);
        b.writeBytes(new byte[] {0x0F, (byte) 0x85});                      // jnz body
        b.writeBytes(le32(back));
        b.write(0xF4);                                                     // hlt
        return b.toByteArray();
    }

    private static byte[] le32(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    private record Outcome(String stop, long[] regs, int flags, byte[] scratch, long retired, long[] xmm, int mxcsr,
            long regionRetired) {
    }

    private static Outcome run(byte[] code, boolean regions, long seed, int mxcsr) {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            m.cpu.compileBlocks = regions;
            m.cpu.regionThreshold = RegionCompilerTest.THRESHOLD;
            m.load(NativeHarness64.CODE, code);
            Random init = new Random(seed);
            for (int n = 0; n < 16; n++) {
                m.cpu.r[n] = init.nextLong();
            }
            m.cpu.r[Cpu.EBX] = NativeDifferential64Test.DATA;
            m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
            m.cpu.flags.load(init.nextInt() & Flags.ARITH);
            // XMM registers and the scratch memory hold values worth computing on (special
            // doubles and floats, random bits): zeros would hide a wrong lane or half.
            for (int n = 0; n < m.cpu.xmm.length; n++) {
                m.cpu.xmm[n] = switch (init.nextInt(3)) {
                    case 0 -> RandomSse64.DOUBLES[init.nextInt(RandomSse64.DOUBLES.length)];
                    case 1 -> (RandomSse64.FLOATS[init.nextInt(RandomSse64.FLOATS.length)] & 0xFFFF_FFFFL)
                            | (long) RandomSse64.FLOATS[init.nextInt(RandomSse64.FLOATS.length)] << 32;
                    default -> init.nextLong();
                };
            }
            byte[] pattern = new byte[RandomProgram.SCRATCH_SIZE];
            init.nextBytes(pattern);
            m.memory.load(RandomProgram.SCRATCH, pattern);
            m.cpu.mxcsr = mxcsr;
            m.cpu.rip = NativeHarness64.CODE;
            m.cpu.eip = (int) NativeHarness64.CODE;
            // An SSE sequence may unmask an exception: then both runs must stop at the same #XM
            // (there is no IDT: it ends as the same triple fault).
            Vcpu.Stop stop = m.vcpu.run(50_000_000);
            String reason = stop + " " + m.vcpu.stopReason();
            byte[] scratch = new byte[RandomProgram.SCRATCH_SIZE];
            m.memory.read(RandomProgram.SCRATCH, scratch, 0, scratch.length);
            return new Outcome(reason, m.cpu.r.clone(), m.cpu.eflags(), scratch, m.cpu.retired, m.cpu.xmm.clone(),
                    m.cpu.mxcsr, m.cpu.regionRetired);
        }
    }

    @Test
    void randomProgramsRunTheSameCompiledAndInterpreted() {
        for (int p = 0; p < PROGRAMS; p++) {
            long seed = 0x2E6_10_00L + p;
            RandomProgram64 program = new RandomProgram64(seed).generate(40);
            assertTrue(compare("program " + p, program, seed, 0x1F80), "program " + p + " ran to its end");
        }
    }

    /** SSE/SSE2/MMX sequences: the regions hand them to the interpreter's handlers in place. */
    @Test
    void randomSseProgramsRunTheSameCompiledAndInterpreted() {
        int completed = 0;
        for (int p = 0; p < PROGRAMS / 3; p++) {
            long seed = 0x55E_10_00L + p;
            RandomSse64 program = new RandomSse64(seed).generate(30);
            if (compare("SSE program " + p, program, seed, program.mxcsr())) {
                completed++;
            }
        }
        assertTrue(completed > PROGRAMS / 6, completed + " SSE programs ran to their end");
    }

    /** Runs {@code program} as a loop body both ways; returns whether it ran to its end. */
    private static boolean compare(String name, GeneratedProgram64 program, long seed, int mxcsr) {
        byte[] code = loop(program.code());
        Outcome interpreted = run(code, false, seed, mxcsr);
        Outcome compiled = run(code, true, seed, mxcsr);
        String what = name + ": " + program.listing();
        assertEquals(interpreted.stop(), compiled.stop(), "how it ended, " + what);
        assertArrayEquals(interpreted.regs(), compiled.regs(), "registers, " + what);
        assertEquals(Integer.toHexString(interpreted.flags()), Integer.toHexString(compiled.flags()), "flags, " + what);
        assertArrayEquals(interpreted.xmm(), compiled.xmm(), "XMM registers, " + what);
        assertEquals(interpreted.mxcsr(), compiled.mxcsr(), "MXCSR, " + what);
        assertArrayEquals(interpreted.scratch(), compiled.scratch(), "memory, " + what);
        assertEquals(interpreted.retired(), compiled.retired(), "retired, " + what);
        boolean completed = interpreted.stop().startsWith("SHUTDOWN");
        assertTrue(!completed || compiled.regionRetired() > 0, "regions ran, " + what);
        return completed;
    }
}
