package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.p2vkit.hv.cpu.Vcpu;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64-bit differential test against the host CPU: {@link RandomProgram64} sequences run natively
 * through {@link NativeHarness64} and in the emulator in 64-bit mode (4-level paging, identity
 * mapped by a 1 GiB page), and the 16 registers, the defined flags and the scratch memory must
 * match. Every failure prints the seed, a listing and the differences.
 */
class NativeDifferential64Test {

    /** Override with -Demu.diff64.sequences=N and -Demu.diff64.seed=S. */
    static final int SEQUENCES = Integer.getInteger("emu.diff64.sequences", 3000);
    static final long SEED = Long.getLong("emu.diff64.seed", 0x64_5EEDL);
    static final long DATA = RandomProgram.SCRATCH + 0x800;
    static final long STACK = RandomProgram.SCRATCH + 0x1F00;
    static final String[] NAMES = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"};

    @TempDir
    Path tmp;

    record Case(long seed, byte[] code, String listing, int undefinedFlags, long[] regs, long rflags, int memSeed) {
    }

    /** A machine in 64-bit mode: tables at 0x1000 (PML4) and 0x2000 (PDPT: one 1 GiB page at 0). */
    static FlatMachine machine64() {
        FlatMachine m = new FlatMachine(new long[] {0, 0x10000},
                new long[] {RandomProgram.SCRATCH, RandomProgram.SCRATCH_SIZE},
                new long[] {NativeHarness64.CODE, 0x1000});
        m.memory.writeLong(0x1000, 0x2000 | 3);
        m.memory.writeLong(0x2000, 0x83);
        m.flat32();
        m.cpu.writeCr4(Mmu.CR4_PAE);
        m.cpu.writeCr3(0x1000);
        m.cpu.writeEfer(Mmu.EFER_LME);
        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
        m.cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32 & ~Cpu.ATTR_DB | Cpu.ATTR_L);
        return m;
    }

    @Test
    void randomSequencesMatchTheHostCpu() throws Exception {
        runAgainstHost(SEED, SEQUENCES, (seed, rnd) -> {
            RandomProgram64 p = new RandomProgram64(seed).generate(4 + rnd.nextInt(24));
            return new Program(p.code(), p.listing(), p.undefinedFlags());
        }, false);
    }

    /**
     * The x87 sequences of {@link X87Sequence} in 64-bit mode (their memory operands are
     * [rbx+disp32] either way): registers, flags and the final FNSAVE image byte for byte.
     */
    @Test
    void randomX87SequencesMatchTheHostCpu() throws Exception {
        runAgainstHost(SEED ^ 0x87, X87_SEQUENCES, (seed, rnd) -> {
            RandomProgram p = new X87Sequence(new RandomProgram(seed), seed).generate(4 + rnd.nextInt(16));
            return new Program(p.code(), p.listing.toString(), p.undefinedFlags());
        }, true);
    }

    static final int X87_SEQUENCES = Integer.getInteger("emu.diff64.x87sequences", 2000);
    /** Linux's 64-bit user selectors, which the host's FNSAVE records as FCS (and SS). */
    static final int USER_CS64 = 0x33;
    static final int USER_SS64 = 0x2B;

    record Program(byte[] code, String listing, int undefinedFlags) {
    }

    private void runAgainstHost(long baseSeed, int count, java.util.function.BiFunction<Long, Random, Program> generator,
            boolean x87) throws Exception {
        NativeHarness64 h = NativeHarness64.build(tmp);
        Random rnd = new Random(baseSeed);
        List<Case> cases = new ArrayList<>();
        List<NativeHarness64.Input> inputs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long seed = baseSeed * 31 + i;
            Program p = generator.apply(seed, rnd);
            long[] regs = new long[16];
            for (int r = 0; r < 16; r++) {
                regs[r] = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextLong();
            }
            regs[Cpu.EBX] = DATA;
            regs[Cpu.ESP] = STACK;
            long rflags = 0x202 | (rnd.nextInt() & RandomProgram.ALL);
            int memSeed = rnd.nextInt() | 1;
            cases.add(new Case(seed, p.code(), p.listing(), p.undefinedFlags(), regs, rflags, memSeed));
            inputs.add(new NativeHarness64.Input(p.code(), regs, rflags, memSeed));
        }
        List<String> lines = h.runRaw(inputs);
        if (lines.size() != cases.size()) {
            Case c = cases.get(Math.max(0, Math.min(lines.size() - 1, cases.size() - 1)));
            fail("the native harness stopped after " + lines.size() + " cases: "
                    + (lines.isEmpty() ? "" : lines.get(lines.size() - 1)) + "\n" + c.listing());
        }
        List<String> failures = new ArrayList<>();
        try (FlatMachine m = machine64()) {
            for (int i = 0; i < cases.size() && failures.size() < 5; i++) {
                String problem = compare(m, cases.get(i), lines.get(i), x87);
                if (problem != null) {
                    failures.add(problem);
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " sequence(s) differ from the host CPU:\n" + String.join("\n\n", failures));
        }
        assertEquals(count, cases.size());
    }

    private static String compare(FlatMachine m, Case c, String nativeLine, boolean x87) {
        byte[] code = c.code();
        byte[] pattern = NativeHarness64.scratchPattern(c.memSeed());
        m.memory.load(RandomProgram.SCRATCH, pattern);
        long start = NativeHarness64.CODE + NativeHarness64.TEST_OFFSET;
        m.load(start, code);
        Cpu cpu = m.cpu;
        System.arraycopy(c.regs(), 0, cpu.r, 0, 16);
        cpu.flags.load((int) c.rflags());
        cpu.rip = start;
        cpu.eip = (int) start;
        if (x87) {
            cpu.segSel[Cpu.CS] = USER_CS64;
            cpu.segSel[Cpu.SS] = USER_SS64;
            cpu.segSel[Cpu.DS] = 0;
            cpu.segSel[Cpu.ES] = 0;
        }
        long end = start + code.length;
        String header = "seed " + c.seed() + "\n  " + c.listing();
        for (int steps = 0; cpu.rip != end; steps++) {
            Vcpu.Stop stop = m.vcpu.run(1);
            if (stop != Vcpu.Stop.REQUESTED || steps > 1000) {
                return header + "\n  emu stopped: " + stop + " " + m.vcpu.stopReason()
                        + " last #UD opcode " + Integer.toHexString(cpu.lastUndefinedOpcode);
            }
        }
        if (nativeLine.startsWith("CRASH")) {
            return header + "\n  native crashed: " + nativeLine;
        }
        NativeHarness64.Output want = NativeHarness64.parse(nativeLine);
        StringBuilder diff = new StringBuilder();
        for (int n = 0; n < 16; n++) {
            if (cpu.r[n] != want.regs()[n]) {
                diff.append(String.format(" %s native=%016X emu=%016X", NAMES[n], want.regs()[n], cpu.r[n]));
            }
        }
        int flagMask = (RandomProgram.ALL & ~c.undefinedFlags()) | Flags.DF;
        int got = cpu.eflags();
        if ((got & flagMask) != ((int) want.rflags() & flagMask)) {
            diff.append(String.format(" RFLAGS native=%08X emu=%08X (compared %03X)", want.rflags(), got, flagMask));
        }
        byte[] now = new byte[RandomProgram.SCRATCH_SIZE];
        m.memory.read(RandomProgram.SCRATCH, now, 0, now.length);
        TreeMap<Integer, Integer> emuMem = new TreeMap<>();
        for (int i = 0; i < now.length; i++) {
            if (now[i] != pattern[i]) {
                emuMem.put(i, now[i] & 0xFF);
            }
        }
        TreeMap<Integer, Integer> nativeMem = new TreeMap<>(want.memory());
        if (x87) {
            X87Images.forgetPreemptedPointers(nativeMem, emuMem, pattern,
                    (int) (DATA - RandomProgram.SCRATCH) + X87Sequence.IMAGE_OUT);
        }
        if (!nativeMem.equals(emuMem)) {
            diff.append(" memory native=").append(nativeMem).append(" emu=").append(emuMem);
        }
        if (diff.isEmpty()) {
            return null;
        }
        StringBuilder in = new StringBuilder("  in:");
        for (int n = 0; n < 16; n++) {
            in.append(String.format(" %s=%016X", NAMES[n], c.regs()[n]));
        }
        in.append(String.format(" RFL=%03X", c.rflags()));
        return header + "\n" + in + "\n  diff:" + diff;
    }
}
