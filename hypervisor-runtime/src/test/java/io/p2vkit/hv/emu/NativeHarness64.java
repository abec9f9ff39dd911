package io.p2vkit.hv.emu;

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
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The host CPU as the oracle for 64-bit code: builds {@code native_harness64.c} with gcc (x86-64)
 * and runs byte sequences through it with given registers, flags and scratch contents. The
 * scratch area is {@link RandomProgram#SCRATCH} (filled by {@link #scratchPattern}), the code
 * runs at {@link #CODE} + {@link #TEST_OFFSET}, as in the 32-bit {@link NativeDifferentialTest}.
 */
final class NativeHarness64 {

    static final int CODE = 0x2000_0000;
    static final int TEST_OFFSET = 0x200;

    /**
     * One sequence to run: the code, RAX..R15 in x86 numbering, RFLAGS, the scratch seed, MXCSR,
     * XMM0-15 as (low, high) pairs and MM0-7.
     */
    record Input(byte[] code, long[] regs, long rflags, int memSeed, int mxcsr, long[] xmm, long[] mm) {

        /** An integer-only sequence: MXCSR at its reset value, XMM and MMX registers zero. */
        Input(byte[] code, long[] regs, long rflags, int memSeed) {
            this(code, regs, rflags, memSeed, 0x1F80, new long[32], new long[8]);
        }
    }

    /**
     * What the host CPU left: RAX..R15, RFLAGS, MXCSR, XMM0-15, MM0-7, the scratch bytes that
     * changed; {@code faultRip} is the address of the instruction that raised #XM (the state is
     * then the one at the fault), or -1 when the sequence ran to its end.
     */
    record Output(long faultRip, long[] regs, long rflags, int mxcsr, long[] xmm, long[] mm,
            TreeMap<Integer, Integer> memory) {
    }

    private final Path exe;

    private NativeHarness64(Path exe) {
        this.exe = exe;
    }

    /** Builds the harness in {@code dir}; aborts the calling test when gcc is missing or fails. */
    static NativeHarness64 build(Path dir) throws Exception {
        Path src = dir.resolve("native_harness64.c");
        try (InputStream in = NativeHarness64.class.getResourceAsStream("native_harness64.c")) {
            Files.write(src, in.readAllBytes());
        }
        Path exe = dir.resolve("native_harness64");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O1", "-o", exe.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("gcc is not installed: " + e.getMessage());
            return null;
        }
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            Assumptions.abort("gcc cannot build the 64-bit harness: " + log);
        }
        Assumptions.assumeTrue(System.getProperty("os.arch").equals("amd64"), "the host is not x86-64");
        return new NativeHarness64(exe);
    }

    /**
     * Runs every input in one harness process. A sequence that crashes natively ends the process:
     * its line reads "CRASH signal rip" and later inputs get no output (the list is shorter).
     */
    List<String> runRaw(List<Input> inputs) throws Exception {
        Process proc = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
        Thread feeder = Thread.ofVirtual().start(() -> {
            try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(proc.getOutputStream()))) {
                for (Input in : inputs) {
                    StringBuilder sb = new StringBuilder();
                    for (byte b : in.code()) {
                        sb.append(String.format("%02x", b & 0xFF));
                    }
                    for (int n = 0; n < 16; n++) {
                        sb.append(' ').append(Long.toHexString(in.regs()[n]));
                    }
                    sb.append(' ').append(Long.toHexString(in.rflags()));
                    sb.append(' ').append(Integer.toHexString(in.memSeed()));
                    sb.append(' ').append(Integer.toHexString(in.mxcsr()));
                    for (long x : in.xmm()) {
                        sb.append(' ').append(Long.toHexString(x));
                    }
                    for (long x : in.mm()) {
                        sb.append(' ').append(Long.toHexString(x));
                    }
                    w.write(sb.append('\n').toString());
                }
            } catch (IOException ignored) {
                // the harness died; the reader sees a short output
            }
        });
        List<String> lines = new ArrayList<>();
        try (BufferedReader rd = new BufferedReader(new InputStreamReader(proc.getInputStream()))) {
            String line;
            while ((line = rd.readLine()) != null) {
                lines.add(line);
            }
        }
        feeder.join();
        proc.waitFor(30, TimeUnit.SECONDS);
        return lines;
    }

    /** Parses one harness output line (not a CRASH line), "FPE <rip> ..." after an #XM. */
    static Output parse(String line) {
        long faultRip = -1;
        if (line.startsWith("FPE ")) {
            String[] head = line.split(" ", 3);
            faultRip = Long.parseUnsignedLong(head[1], 16);
            line = head[2];
        }
        String[] parts = line.split("\\|", 2);
        String[] words = parts[0].trim().split(" ");
        long[] regs = new long[16];
        for (int n = 0; n < 16; n++) {
            regs[n] = Long.parseUnsignedLong(words[n], 16);
        }
        long rflags = Long.parseUnsignedLong(words[16], 16);
        int mxcsr = Integer.parseUnsignedInt(words[17], 16);
        long[] xmm = new long[32];
        for (int n = 0; n < 32; n++) {
            xmm[n] = Long.parseUnsignedLong(words[18 + n], 16);
        }
        long[] mm = new long[8];
        for (int n = 0; n < 8; n++) {
            mm[n] = Long.parseUnsignedLong(words[50 + n], 16);
        }
        TreeMap<Integer, Integer> mem = new TreeMap<>();
        for (String kv : parts[1].trim().split(" ")) {
            if (!kv.isEmpty()) {
                String[] p = kv.split("=");
                mem.put(Integer.parseInt(p[0], 16), Integer.parseInt(p[1], 16));
            }
        }
        return new Output(faultRip, regs, rflags, mxcsr, xmm, mm, mem);
    }

    /** The scratch contents for {@code seed}: xorshift32, one byte per step, as the harness fills it. */
    static byte[] scratchPattern(int seed) {
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
}
