package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 64-bit differential test against the host CPU: {@link RandomProgram64} (integer) and
 * {@link RandomSse64} (SSE, SSE2, MMX) sequences run natively through {@link NativeHarness64}
 * and in the emulator in 64-bit mode (4-level paging, identity mapped by a 1 GiB page), and the
 * 16 registers, the defined flags, MXCSR, XMM0-15, MM0-7 and the scratch memory must match.
 * Every failure prints the seed, a listing and the differences.
 */
class NativeDifferential64Test {

    /** Override with -Demu.diff64.sequences=N and -Demu.diff64.seed=S. */
    static final int SEQUENCES = Integer.getInteger("emu.diff64.sequences", 3000);
    static final long SEED = Long.getLong("emu.diff64.seed", 0x64_5EEDL);
    /** Override with -Demu.diffsse.sequences=N and -Demu.diffsse.seed=S. */
    static final int SSE_SEQUENCES = Integer.getInteger("emu.diffsse.sequences", 4000);
    static final long SSE_SEED = Long.getLong("emu.diffsse.seed", 0x55E_5EEDL);
    static final long DATA = RandomProgram.SCRATCH + 0x800;
    static final long STACK = RandomProgram.SCRATCH + 0x1F00;
    static final String[] NAMES = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"};

    @TempDir
    Path tmp;

    /** A sequence, its native input, and whether the emulator runs it in 32-bit protected mode. */
    record Case(long seed, GeneratedProgram64 program, NativeHarness64.Input input, boolean legacy, boolean x87) {
    }

    private static FlatMachine harnessMemory() {
        return new FlatMachine(new long[] {0, 0x10000},
                new long[] {RandomProgram.SCRATCH, RandomProgram.SCRATCH_SIZE},
                new long[] {NativeHarness64.CODE, 0x1000});
    }

    /** The same memory in flat 32-bit protected mode without paging, SSE enabled. */
    static FlatMachine machine32() {
        FlatMachine m = harnessMemory();
        m.flat32();
        m.cpu.writeCr4(Sse.CR4_OSFXSR | Sse.CR4_OSXMMEXCPT);
        return m;
    }

    /** A machine in 64-bit mode: tables at 0x1000 (PML4) and 0x2000 (PDPT: one 1 GiB page at 0). */
    static FlatMachine machine64() {
        return into64(harnessMemory());
    }

    /** {@link #machine64} with two code pages at {@link NativeHarness64#CODE}, for code across a page end. */
    static FlatMachine machine64WithTwoCodePages() {
        return into64(new FlatMachine(new long[] {0, 0x10000},
                new long[] {RandomProgram.SCRATCH, RandomProgram.SCRATCH_SIZE},
                new long[] {NativeHarness64.CODE, 0x2000}));
    }

    /** {@code m} switched to 64-bit mode with those tables (its memory must hold 0x1000-0x2FFF). */
    private static FlatMachine into64(FlatMachine m) {
        m.memory.writeLong(0x1000, 0x2000 | 3);
        m.memory.writeLong(0x2000, 0x83);
        m.flat32();
        m.cpu.writeCr4(Mmu.CR4_PAE | Sse.CR4_OSFXSR | Sse.CR4_OSXMMEXCPT);
        m.cpu.writeCr3(0x1000);
        m.cpu.writeEfer(Mmu.EFER_LME);
        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
        m.cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32 & ~Cpu.ATTR_DB | Cpu.ATTR_L);
        return m;
    }

    /**
     * Replaces {@link #into64}'s one 1 GiB page by 2 MiB pages, the 2 MiB holding {@code area}
     * through 4 KiB ones whose entries {@code pte} gives (the page's linear address in, frame and
     * flags out); every level open to user code too when {@code user}. Reloads CR3.
     */
    static void mapThroughSmallPages(FlatMachine m, long area, boolean user, LongUnaryOperator pte) {
        int flags = user ? 7 : 3;
        m.memory.writeLong(0x1000, 0x2000 | flags);
        m.memory.writeLong(0x2000, 0x3000 | flags);
        for (int k = 0; k < 512; k++) {
            m.memory.writeLong(0x3000 + 8L * k, (long) k << 21 | 0x80 | flags);
        }
        long large = area & ~0x1F_FFFFL;
        m.memory.writeLong(0x3000 + 8 * (large >>> 21), 0x4000 | flags);
        for (int j = 0; j < 512; j++) {
            m.memory.writeLong(0x4000 + 8L * j, pte.applyAsLong(large + ((long) j << 12)));
        }
        m.cpu.writeCr3(0x1000);
    }

    /**
     * {@link #machine64} with {@code code} at {@link NativeHarness64#CODE} about to run, RBX and
     * RBP at DATA, RSP at STACK, regions on or off and compiled after {@code threshold} runs.
     */
    static FlatMachine loaded64(byte[] code, boolean regions, int threshold) {
        FlatMachine m = machine64();
        m.cpu.compileBlocks = regions;
        m.cpu.regionThreshold = threshold;
        m.load(NativeHarness64.CODE, code);
        m.cpu.r[Cpu.EBX] = DATA;
        m.cpu.r[Cpu.EBP] = DATA;
        m.cpu.r[Cpu.ESP] = STACK;
        m.cpu.rip = NativeHarness64.CODE;
        m.cpu.eip = (int) NativeHarness64.CODE;
        m.cpu.breakSlice = false; // left set by entering long mode
        return m;
    }

    @Test
    void randomSequencesMatchTheHostCpu() throws Exception {
        Random rnd = new Random(SEED);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < SEQUENCES; i++) {
            long seed = SEED * 31 + i;
            RandomProgram64 p = new RandomProgram64(seed).generate(4 + rnd.nextInt(24));
            long[] regs = randomRegs(rnd);
            long rflags = 0x202 | (rnd.nextInt() & RandomProgram.ALL);
            cases.add(new Case(seed, p, new NativeHarness64.Input(p.code(), regs, rflags, rnd.nextInt() | 1), false,
                    false));
        }
        runAndCompare(cases, false);
    }

    /**
     * The x87 sequences of {@link X87Sequence} in 64-bit mode (their memory operands are
     * [rbx+disp32] either way): registers, flags and the final FNSAVE image byte for byte.
     */
    @Test
    void randomX87SequencesMatchTheHostCpu() throws Exception {
        Random rnd = new Random(SEED ^ 0x87);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < X87_SEQUENCES; i++) {
            long seed = (SEED ^ 0x87) * 31 + i;
            RandomProgram x = new X87Sequence(new RandomProgram(seed), seed).generate(4 + rnd.nextInt(16));
            X87Program p = new X87Program(x.code(), x.listing.toString(), x.undefinedFlags(), x.x87Pointers);
            long[] regs = randomRegs(rnd);
            long rflags = 0x202 | (rnd.nextInt() & RandomProgram.ALL);
            cases.add(new Case(seed, p, new NativeHarness64.Input(p.code(), regs, rflags, rnd.nextInt() | 1), false,
                    true));
        }
        runAndCompare(cases, false);
    }

    static final int X87_SEQUENCES = Integer.getInteger("emu.diff64.x87sequences", 2000);
    /** Linux's 64-bit user selectors, which the host's FNSAVE records as FCS (and SS). */
    static final int USER_CS64 = 0x33;
    static final int USER_SS64 = 0x2B;

    /** An x87 sequence (generated by the 32-bit generator: its encodings mean the same in 64-bit code). */
    record X87Program(byte[] code, String listing, int undefinedFlags, List<int[]> x87Pointers) implements GeneratedProgram64 {
    }

    /**
     * SSE/SSE2/MMX sequences from interesting XMM and MMX values (NaNs, infinities, denormals,
     * zeros, extremes, integer boundaries) under random rounding modes, DAZ and FTZ.
     */
    @Test
    void randomSseSequencesMatchTheHostCpu() throws Exception {
        int faulted = runAndCompare(sseCases(SSE_SEED, SSE_SEQUENCES, false), false);
        assertTrue(faulted > 0, "some sequences end at an unmasked exception (#XM)");
    }

    /**
     * The same kind of sequences without REX prefixes (XMM0-7, 32-bit GPR forms) run by the
     * emulator in 32-bit protected mode, against the host running them in 64-bit mode: without
     * REX these instructions mean the same in both modes (the low 32 bits of RAX..RDI compared).
     */
    @Test
    void randomSseSequencesInProtectedModeMatchTheHostCpu() throws Exception {
        int faulted = runAndCompare(sseCases(SSE_SEED + 1, SSE_SEQUENCES / 2, true), true);
        assertTrue(faulted > 0, "some sequences end at an unmasked exception (#XM)");
    }

    private static List<Case> sseCases(long base, int count, boolean legacy) {
        Random rnd = new Random(base);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long seed = base * 31 + i;
            RandomSse64 p = new RandomSse64(seed, legacy).generate(2 + rnd.nextInt(12));
            long[] regs = randomRegs(rnd);
            long[] xmm = new long[32];
            for (int n = 0; n < 32; n++) {
                xmm[n] = p.value();
            }
            long[] mm = new long[8];
            for (int n = 0; n < 8; n++) {
                mm[n] = p.value();
            }
            long rflags = 0x202 | (rnd.nextInt() & RandomProgram.ALL);
            cases.add(new Case(seed, p, new NativeHarness64.Input(p.code(), regs, rflags, rnd.nextInt() | 1,
                    p.mxcsr(), xmm, mm), legacy, false));
        }
        return cases;
    }

    private static long[] randomRegs(Random rnd) {
        long[] regs = new long[16];
        for (int r = 0; r < 16; r++) {
            regs[r] = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextLong();
        }
        regs[Cpu.EBX] = DATA;
        regs[Cpu.ESP] = STACK;
        return regs;
    }

    /** Runs and compares every case; returns how many ended at an #XM on the host. */
    private int runAndCompare(List<Case> cases, boolean legacy) throws Exception {
        NativeHarness64 h = NativeHarness64.build(tmp);
        List<NativeHarness64.Input> inputs = new ArrayList<>();
        for (Case c : cases) {
            inputs.add(c.input());
        }
        List<String> lines = h.runRaw(inputs);
        if (lines.size() != cases.size()) {
            Case c = cases.get(Math.max(0, Math.min(lines.size() - 1, cases.size() - 1)));
            fail("the native harness stopped after " + lines.size() + " cases: "
                    + (lines.isEmpty() ? "" : lines.get(lines.size() - 1)) + "\n" + c.program().listing());
        }
        List<String> failures = new ArrayList<>();
        try (FlatMachine m = legacy ? machine32() : machine64()) {
            for (int i = 0; i < cases.size() && failures.size() < 5; i++) {
                String problem = compare(m, cases.get(i), lines.get(i));
                if (problem != null) {
                    failures.add(problem);
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " sequence(s) differ from the host CPU:\n" + String.join("\n\n", failures));
        }
        assertEquals(inputs.size(), lines.size());
        int faulted = (int) lines.stream().filter(l -> l.startsWith("FPE")).count();
        System.out.printf("%d sequences identical to the host CPU, %d of them ending at #XM%n", lines.size(), faulted);
        return faulted;
    }

    private static String compare(FlatMachine m, Case c, String nativeLine) {
        NativeHarness64.Input input = c.input();
        byte[] code = c.program().code();
        byte[] pattern = NativeHarness64.scratchPattern(input.memSeed());
        m.memory.load(RandomProgram.SCRATCH, pattern);
        long start = NativeHarness64.CODE + NativeHarness64.TEST_OFFSET;
        m.load(start, code);
        Cpu cpu = m.cpu;
        System.arraycopy(input.regs(), 0, cpu.r, 0, 16);
        cpu.flags.load((int) input.rflags());
        cpu.mxcsr = input.mxcsr();
        System.arraycopy(input.xmm(), 0, cpu.xmm, 0, 32);
        System.arraycopy(input.mm(), 0, cpu.fpu.significand, 0, 8);
        cpu.fpu.status = 0;
        cpu.fpu.tag = 0xFFFF;
        cpu.rip = start;
        cpu.eip = (int) start;
        if (c.x87()) {
            cpu.segSel[Cpu.CS] = USER_CS64;
            cpu.segSel[Cpu.SS] = USER_SS64;
            cpu.segSel[Cpu.DS] = 0;
            cpu.segSel[Cpu.ES] = 0;
        }
        long end = start + code.length;
        String header = "seed " + c.seed() + (c.legacy() ? " (32-bit protected mode)" : "") + "\n  "
                + c.program().listing();
        CpuFault fault = null;
        for (int steps = 0; c.legacy() ? cpu.eip != (int) end : cpu.rip != end; steps++) {
            try {
                cpu.runSlice(1);
            } catch (CpuFault f) {
                fault = f;
                cpu.rip = cpu.insnRip;
                cpu.eip = cpu.insnEip;
                break;
            }
            if (steps > 1000) {
                return header + "\n  emu did not finish";
            }
        }
        if (nativeLine.startsWith("CRASH")) {
            return header + "\n  native crashed: " + nativeLine;
        }
        NativeHarness64.Output want = NativeHarness64.parse(nativeLine);
        StringBuilder diff = new StringBuilder();
        long emuFaultRip = fault == null ? -1 : c.legacy() ? cpu.eip & 0xFFFF_FFFFL : cpu.rip;
        if (fault != null && fault.vector != CpuFault.XM) {
            diff.append(" emu raised vector ").append(fault.vector).append(" at ").append(Long.toHexString(emuFaultRip))
                    .append(fault.vector == CpuFault.UD ? " (#UD opcode " + Integer.toHexString(cpu.lastUndefinedOpcode) + ")" : "");
        } else if (want.faultRip() != emuFaultRip) {
            diff.append(String.format(" #XM native at %X emu at %X (-1: none)", want.faultRip(), emuFaultRip));
        }
        for (int n = 0; n < (c.legacy() ? 8 : 16); n++) {
            long mask = c.legacy() ? 0xFFFF_FFFFL : -1L;
            if ((cpu.r[n] & mask) != (want.regs()[n] & mask)) {
                diff.append(String.format(" %s native=%016X emu=%016X", NAMES[n], want.regs()[n], cpu.r[n]));
            }
        }
        int flagMask = (RandomProgram.ALL & ~c.program().undefinedFlags()) | Flags.DF;
        int got = cpu.eflags();
        if ((got & flagMask) != ((int) want.rflags() & flagMask)) {
            diff.append(String.format(" RFLAGS native=%08X emu=%08X (compared %03X)", want.rflags(), got, flagMask));
        }
        if (cpu.mxcsr != want.mxcsr()) {
            diff.append(String.format(" MXCSR native=%08X emu=%08X", want.mxcsr(), cpu.mxcsr));
        }
        for (int n = 0; n < 16; n++) {
            if (cpu.xmm[2 * n] != want.xmm()[2 * n] || cpu.xmm[2 * n + 1] != want.xmm()[2 * n + 1]) {
                diff.append(String.format(" XMM%d native=%016X:%016X emu=%016X:%016X", n, want.xmm()[2 * n + 1],
                        want.xmm()[2 * n], cpu.xmm[2 * n + 1], cpu.xmm[2 * n]));
            }
        }
        for (int n = 0; n < 8; n++) {
            if (cpu.fpu.significand[n] != want.mm()[n]) {
                diff.append(String.format(" MM%d native=%016X emu=%016X", n, want.mm()[n], cpu.fpu.significand[n]));
            }
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
        if (c.program() instanceof X87Program x) {
            X87Images.forgetPreemptedPointers(nativeMem, emuMem, pattern, (int) (DATA - RandomProgram.SCRATCH), x.x87Pointers());
        }
        if (!nativeMem.equals(emuMem)) {
            diff.append(" memory native=").append(nativeMem).append(" emu=").append(emuMem);
        }
        if (diff.isEmpty()) {
            return null;
        }
        StringBuilder in = new StringBuilder("  in:");
        for (int n = 0; n < 16; n++) {
            in.append(String.format(" %s=%016X", NAMES[n], input.regs()[n]));
        }
        in.append(String.format(" RFL=%03X MXCSR=%04X\n     ", input.rflags(), input.mxcsr()));
        for (int n = 0; n < 16; n++) {
            in.append(String.format(" XMM%d=%016X:%016X", n, input.xmm()[2 * n + 1], input.xmm()[2 * n]));
        }
        in.append("\n     ");
        for (int n = 0; n < 8; n++) {
            in.append(String.format(" MM%d=%016X", n, input.mm()[n]));
        }
        return header + "\n" + in + "\n  diff:" + diff;
    }
}
