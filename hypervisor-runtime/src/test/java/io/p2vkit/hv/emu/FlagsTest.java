package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lazy flags against the host CPU at all four operand sizes, 64 bits included: random
 * ADD/OR/ADC/SBB/AND/SUB/XOR/CMP, INC, DEC and NEG of RAX with RBX run natively through the 64-bit
 * harness, and the same operation recorded in {@link Flags} must give the same six arithmetic
 * flags (AF is undefined after the logical operations and not compared).
 */
class FlagsTest {

    static final int CASES = 3000;
    static final String[] NAMES = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "inc", "dec", "neg"};

    @TempDir
    Path tmp;

    record Case(int op, int size, long a, long b, long rflags) {
        byte[] code() {
            int sized = size == 1 ? 0 : 1;
            byte[] body = switch (op) {
                case 8 -> new byte[] {(byte) (0xFE | sized), (byte) 0xC0};   // inc al/ax/eax/rax
                case 9 -> new byte[] {(byte) (0xFE | sized), (byte) 0xC8};   // dec
                case 10 -> new byte[] {(byte) (0xF6 | sized), (byte) 0xD8};  // neg
                default -> new byte[] {(byte) (op << 3 | sized), (byte) 0xD8}; // op al/../rax, bl/../rbx
            };
            if (size == 1 || size == 4) {
                return body;
            }
            byte[] out = new byte[3];
            out[0] = (byte) (size == 2 ? 0x66 : 0x48);
            System.arraycopy(body, 0, out, 1, 2);
            return out;
        }
    }

    private static long interesting(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Long.MIN_VALUE >> rnd.nextInt(64);    // sign boundaries at every size
            case 3 -> (1L << rnd.nextInt(64)) - 1;
            default -> rnd.nextLong();
        };
    }

    /** What {@link Alu} records for the operation; returns the result. */
    private static long record(Flags f, Case c) {
        long a = c.a();
        long b = c.b();
        int cin = (int) c.rflags() & 1;
        long res;
        switch (c.op()) {
            case 0 -> f.set(Flags.ADD, c.size(), a, b, res = a + b);
            case 1 -> f.set(Flags.LOGIC, c.size(), a, b, res = a | b);
            case 2 -> f.setWithCarry(Flags.ADC, c.size(), a, b, res = a + b + cin, cin);
            case 3 -> f.setWithCarry(Flags.SBB, c.size(), a, b, res = a - b - cin, cin);
            case 4 -> f.set(Flags.LOGIC, c.size(), a, b, res = a & b);
            case 5, 7 -> f.set(Flags.SUB, c.size(), a, b, res = a - b);
            case 6 -> f.set(Flags.LOGIC, c.size(), a, b, res = a ^ b);
            case 8 -> f.set(Flags.INC, c.size(), a, 1, res = a + 1);
            case 9 -> f.set(Flags.DEC, c.size(), a, 1, res = a - 1);
            default -> f.set(Flags.SUB, c.size(), 0, a, res = -a);
        }
        return c.op() == 7 ? a : res;
    }

    @Test
    void arithmeticFlagsMatchTheHostAtEverySize() throws Exception {
        NativeHarness64 h = NativeHarness64.build(tmp);
        Random rnd = new Random(0xF1A6_5064L);
        List<Case> cases = new ArrayList<>();
        List<NativeHarness64.Input> inputs = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
            int size = 1 << rnd.nextInt(4);
            Case c = new Case(rnd.nextInt(11), size, interesting(rnd), interesting(rnd),
                    0x202 | (rnd.nextInt() & Flags.ARITH));
            cases.add(c);
            long[] regs = new long[16];
            regs[Cpu.EAX] = c.a();
            regs[Cpu.EBX] = c.b();
            regs[Cpu.ESP] = RandomProgram.SCRATCH + 0x1F00;
            inputs.add(new NativeHarness64.Input(c.code(), regs, c.rflags(), 1));
        }
        List<String> lines = h.runRaw(inputs);
        assertEquals(cases.size(), lines.size(), lines.isEmpty() ? "" : lines.get(lines.size() - 1));
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.size() && failures.size() < 5; i++) {
            Case c = cases.get(i);
            NativeHarness64.Output want = NativeHarness64.parse(lines.get(i));
            Flags f = new Flags();
            f.load((int) c.rflags());
            long res = record(f, c);
            long m = Flags.mask64(c.size());
            int compared = c.op() == 1 || c.op() == 4 || c.op() == 6 ? Flags.ARITH & ~Flags.AF : Flags.ARITH;
            int got = f.get() & compared;
            int host = (int) want.rflags() & compared;
            if (got != host || (res & m) != (want.regs()[Cpu.EAX] & m)) {
                failures.add(String.format("%s size %d a=%016X b=%016X flags in %03X: host %03X rax %016X, emu %03X res %016X",
                        NAMES[c.op()], c.size(), c.a(), c.b(), c.rflags() & Flags.ARITH, host,
                        want.regs()[Cpu.EAX] & m, got, res & m));
            }
        }
        if (!failures.isEmpty()) {
            fail(String.join("\n", failures));
        }
    }
}
