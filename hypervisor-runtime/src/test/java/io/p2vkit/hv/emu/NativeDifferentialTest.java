package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Differential test against the host CPU: random instruction sequences run natively (a gcc -m32
 * harness built at test time) and in the emulator, and registers, the defined flags and the
 * scratch memory must match. Every failure prints the seed, the bytes, a listing and both states.
 */
class NativeDifferentialTest {

    static final int CODE = 0x2000_0000;
    static final int TEST_OFFSET = 0x100;
    /** Override with -Demu.diff.sequences=N and -Demu.diff.seed=S for longer or different runs. */
    static final int SEQUENCES = Integer.getInteger("emu.diff.sequences", 4000);
    static final long SEED = Long.getLong("emu.diff.seed", 0x5EED_2026L);
    static final int MAX_REPORTED = Integer.getInteger("emu.diff.report", 5);
    static final int X87_SEQUENCES = Integer.getInteger("emu.diff.x87sequences", 3000);
    /** The selectors of Linux i386 user code: the host's FNSAVE records them as FCS and FDS. */
    static final int USER_CS = 0x23;
    static final int USER_DS = 0x2B;

    @TempDir
    Path tmp;

    private Path buildHarness() throws Exception {
        Path src = tmp.resolve("native_harness.c");
        try (InputStream in = getClass().getResourceAsStream("native_harness.c")) {
            Files.write(src, in.readAllBytes());
        }
        Path exe = tmp.resolve("native_harness");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-m32", "-O1", "-o", exe.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("gcc is not installed: " + e.getMessage());
            return null;
        }
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            Assumptions.abort("gcc -m32 cannot build the harness (apt-get install gcc-multilib): " + log);
        }
        return exe;
    }

    record Case(long seed, RandomProgram program, int[] regs, int eflags, int memSeed) {
    }

    @Test
    void randomSequencesMatchTheHostCpu() throws Exception {
        runAgainstHost(SEED, SEQUENCES, (seed, rnd) -> new RandomProgram(seed).generate(4 + rnd.nextInt(24)), Check.EXACT);
    }

    /**
     * x87 sequences ({@link X87Sequence}): the FNSAVE image each one ends with is compared byte
     * for byte as scratch memory, with registers and flags as usual.
     */
    @Test
    void randomX87SequencesMatchTheHostCpu() throws Exception {
        runAgainstHost(SEED ^ 0x87, X87_SEQUENCES,
                (seed, rnd) -> new X87Sequence(new RandomProgram(seed), seed).generate(4 + rnd.nextInt(16)), Check.X87);
    }

    /**
     * One transcendental instruction (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1)
     * per sequence over values in and around its domain: the emulator computes these in binary64
     * (see X87Transcendental), so finite results must agree to 2^-50 relative and C1 is not
     * compared; everything else in the FNSAVE image, the flags and the registers is exact.
     */
    @Test
    void randomX87TranscendentalsMatchTheHostCpuClosely() throws Exception {
        runAgainstHost(SEED ^ 0x1087, X87_SEQUENCES / 3,
                (seed, rnd) -> new X87Sequence(new RandomProgram(seed), seed).generateTranscendental(),
                Check.X87_REGISTERS_CLOSE);
    }

    /** How the state after a sequence is compared. */
    enum Check {
        /** Registers, flags and scratch memory exactly. */
        EXACT,
        /** Exactly, with the host's user selectors (FCS/FDS in FNSAVE images). */
        X87,
        /** As X87, but FNSAVE's data registers within 2^-50 relative and C1 ignored. */
        X87_REGISTERS_CLOSE,
    }

    /** Runs {@code count} programs from {@code generator} natively and in the emulator. */
    void runAgainstHost(long baseSeed, int count, java.util.function.BiFunction<Long, Random, RandomProgram> generator,
            Check check) throws Exception {
        Path exe = buildHarness();
        Random rnd = new Random(baseSeed);
        List<Case> cases = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long seed = baseSeed * 31 + i;
            RandomProgram p = generator.apply(seed, rnd);
            int[] regs = new int[8];
            for (int r = 0; r < 8; r++) {
                regs[r] = rnd.nextInt();
            }
            regs[Cpu.EBX] = RandomProgram.DATA_BASE;
            regs[Cpu.ESP] = RandomProgram.STACK_TOP;
            int eflags = 0x202 | (rnd.nextInt() & RandomProgram.ALL) | (rnd.nextInt(4) == 0 ? Flags.DF : 0);
            int memSeed = rnd.nextInt() | 1;
            cases.add(new Case(seed, p, regs, eflags, memSeed));
        }

        Process proc = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(proc.getOutputStream()))) {
                for (Case c : cases) {
                    StringBuilder sb = new StringBuilder(c.program().hex());
                    int[] r = c.regs();
                    // harness order: eax ecx edx ebx esp ebp esi edi (the x86 register numbering)
                    for (int n = 0; n < 8; n++) {
                        sb.append(' ').append(Integer.toHexString(r[n]));
                    }
                    sb.append(' ').append(Integer.toHexString(c.eflags()));
                    sb.append(' ').append(Integer.toHexString(c.memSeed()));
                    w.write(sb.append('\n').toString());
                }
            } catch (IOException ignored) {
                // the harness died; the reader reports it
            }
        });
        List<String> nativeLines = new ArrayList<>();
        try (BufferedReader rd = new BufferedReader(new InputStreamReader(proc.getInputStream()))) {
            String line;
            while ((line = rd.readLine()) != null) {
                nativeLines.add(line);
            }
        }
        feeder.join();
        proc.waitFor(30, TimeUnit.SECONDS);
        if (nativeLines.size() != cases.size()) {
            String last = nativeLines.isEmpty() ? "(nothing)" : nativeLines.get(nativeLines.size() - 1);
            Case c = cases.get(Math.min(nativeLines.size() - 1, cases.size() - 1));
            fail("the native harness stopped after " + nativeLines.size() + " cases: " + last
                    + "\nlast case bytes: " + c.program().hex() + "\n" + c.program().listing);
        }

        List<String> failures = new ArrayList<>();
        try (FlatMachine m = new FlatMachine(
                new long[] {RandomProgram.SCRATCH, RandomProgram.SCRATCH_SIZE},
                new long[] {CODE, 0x1000})) {
            for (int i = 0; i < cases.size(); i++) {
                String problem = compare(m, cases.get(i), nativeLines.get(i), check);
                if (problem != null) {
                    failures.add(problem);
                    if (failures.size() >= MAX_REPORTED) {
                        break;
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " sequence(s) differ from the host CPU:\n" + String.join("\n\n", failures));
        }
        assertEquals(count, cases.size());
    }

    private static byte[] scratchPattern(int seed) {
        byte[] b = new byte[RandomProgram.SCRATCH_SIZE];
        int x = seed;
        for (int i = 0; i < b.length; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            b[i] = (byte) x;
        }
        return b;
    }

    private static String compare(FlatMachine m, Case c, String nativeLine, Check check) {
        boolean userSelectors = check != Check.EXACT;
        byte[] code = c.program().code();
        byte[] pattern = scratchPattern(c.memSeed());
        m.memory.load(RandomProgram.SCRATCH, pattern);
        m.load(CODE + TEST_OFFSET, code);
        m.flat32();
        Cpu cpu = m.cpu;
        // FS as the harness sets it: LDT selector 7, base = the scratch area, limit 0xFFFF.
        cpu.setSegmentCache(Cpu.FS, 0x0007, RandomProgram.SCRATCH, 0xFFFF, 0x40F3);
        if (userSelectors) {
            cpu.setSegmentCache(Cpu.CS, USER_CS, 0, -1, FlatMachine.FLAT_CODE32);
            for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS}) {
                cpu.setSegmentCache(s, USER_DS, 0, -1, FlatMachine.FLAT_DATA32);
            }
        }
        for (int n = 0; n < 8; n++) {
            cpu.set32(n, c.regs()[n]);
        }
        cpu.flags.load(c.eflags());
        cpu.eip = CODE + TEST_OFFSET;
        long faultsBefore = m.vcpu.faultsDelivered();
        int end = CODE + TEST_OFFSET + code.length;
        m.runUntilEip(end, 10_000);
        String header = "seed " + c.seed() + " bytes " + c.program().hex() + "\n  " + c.program().listing;
        if (nativeLine.startsWith("CRASH")) {
            return header + "\n  native crashed: " + nativeLine;
        }
        if (m.vcpu.faultsDelivered() != faultsBefore || cpu.eip != end) {
            return header + "\n  emu faulted or ran away: EIP=" + Integer.toHexString(cpu.eip)
                    + " last #UD opcode " + Integer.toHexString(cpu.lastUndefinedOpcode);
        }
        String[] parts = nativeLine.split("\\|", 2);
        String[] regs = parts[0].trim().split(" ");
        int[] want = new int[9];
        for (int i = 0; i < 9; i++) {
            want[i] = Integer.parseUnsignedInt(regs[i], 16);
        }
        int flagMask = (RandomProgram.ALL & ~c.program().undefinedFlags()) | Flags.DF;
        StringBuilder diff = new StringBuilder();
        String[] names = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
        for (int n = 0; n < 8; n++) {
            if (cpu.r32(n) != want[n]) {
                diff.append(String.format(" %s native=%08X emu=%08X", names[n], want[n], cpu.r32(n)));
            }
        }
        int got = cpu.eflags();
        if ((got & flagMask) != (want[8] & flagMask)) {
            diff.append(String.format(" EFLAGS native=%08X emu=%08X (compared bits %03X)", want[8], got, flagMask));
        }
        TreeMap<Integer, Integer> nativeMem = new TreeMap<>();
        for (String kv : parts[1].trim().split(" ")) {
            if (!kv.isEmpty()) {
                String[] p = kv.split("=");
                nativeMem.put(Integer.parseInt(p[0], 16), Integer.parseInt(p[1], 16));
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
        if (userSelectors) {
            X87Images.forgetPreemptedPointers(nativeMem, emuMem, pattern,
                    RandomProgram.DATA_BASE - RandomProgram.SCRATCH, c.program().x87Pointers);
        }
        if (check == Check.X87_REGISTERS_CLOSE) {
            String far = X87Images.compareClosely(nativeMem, emuMem, pattern,
                    RandomProgram.DATA_BASE - RandomProgram.SCRATCH + X87Sequence.IMAGE_OUT);
            if (far != null) {
                diff.append(' ').append(far);
            }
        }
        if (!nativeMem.equals(emuMem)) {
            diff.append(" memory (scratch offset: native/emu)");
            java.util.TreeSet<Integer> offsets = new java.util.TreeSet<>(nativeMem.keySet());
            offsets.addAll(emuMem.keySet());
            for (int off : offsets) {
                Integer n = nativeMem.get(off);
                Integer e = emuMem.get(off);
                if (!java.util.Objects.equals(n, e)) {
                    diff.append(String.format(" %x:%s/%s", off, n == null ? "--" : String.format("%02x", n),
                            e == null ? "--" : String.format("%02x", e)));
                }
            }
        }
        if (diff.isEmpty()) {
            return null;
        }
        StringBuilder in = new StringBuilder("  in:");
        for (int n = 0; n < 8; n++) {
            in.append(String.format(" %s=%08X", names[n], c.regs()[n]));
        }
        in.append(String.format(" EFL=%08X", c.eflags()));
        return header + "\n" + in + "\n  diff:" + diff;
    }
}
