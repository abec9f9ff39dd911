package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks the 64-bit native harness itself on sequences whose results are known from the SDM:
 * REX.W arithmetic, 32-bit writes zero-extending, 16-bit writes merging, SIL with REX against DH
 * without, RIP-relative LEA, MOVSXD, MOV r64, imm64, PUSH r8 and memory stores. The emulator's
 * 64-bit differential test (to come with 64-bit execution) runs random sequences through it.
 */
class NativeHarness64Test {

    static final long DATA = RandomProgram.SCRATCH + 0x800;
    static final long STACK = RandomProgram.SCRATCH + 0x1F00;
    static final int SEED = 0x1234_5677;
    static final long ARITH = 0x8D5;

    @TempDir
    Path tmp;

    private static long[] regs() {
        long[] r = new long[16];
        for (int n = 0; n < 16; n++) {
            r[n] = 0x0101_0101_0101_0101L * (n + 1);
        }
        r[Cpu.EBX] = DATA;
        r[Cpu.ESP] = STACK;
        return r;
    }

    private static NativeHarness64.Input in(String hex, long[] regs) {
        return new NativeHarness64.Input(FlatMachine.hex(hex), regs, 0x202, SEED);
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | (b[off + i] & 0xFF);
        }
        return v;
    }

    @Test
    void knownAnswers() throws Exception {
        NativeHarness64 h = NativeHarness64.build(tmp);
        byte[] pattern = NativeHarness64.scratchPattern(SEED);
        List<NativeHarness64.Input> inputs = new ArrayList<>();

        long[] add = regs();
        add[Cpu.EAX] = Long.MAX_VALUE;
        add[Cpu.EBX] = 1;
        inputs.add(in("48 01 d8", add));                   // add rax, rbx
        long[] mov32 = regs();
        mov32[Cpu.EAX] = -1;
        mov32[Cpu.EBX] = 0x1_2345_6789L;
        inputs.add(in("89 d8", mov32));                    // mov eax, ebx
        inputs.add(in("66 89 d8", mov32));                 // mov ax, bx
        inputs.add(in("4c 8b 03", regs()));                // mov r8, [rbx]
        inputs.add(in("48 c7 03 ff ff ff ff", regs()));    // mov qword [rbx], -1
        long[] push = regs();
        push[8] = 0x1122_3344_5566_7788L;
        inputs.add(in("41 50", push));                     // push r8
        long[] bytes = regs();
        bytes[Cpu.ESI] = 0xAB;
        bytes[Cpu.EDX] = 0xCD00;
        inputs.add(in("40 88 f0", bytes));                 // mov al, sil
        inputs.add(in("88 f0", bytes));                    // mov al, dh
        inputs.add(in("48 8d 05 10 00 00 00", regs()));    // lea rax, [rip+0x10]
        long[] sx = regs();
        sx[Cpu.EBX] = 0x8000_0000L;
        inputs.add(in("48 63 c3", sx));                    // movsxd rax, ebx
        inputs.add(in("48 b8 88 77 66 55 44 33 22 11", regs())); // mov rax, imm64

        List<String> lines = h.runRaw(inputs);
        assertEquals(inputs.size(), lines.size(), String.join("\n", lines));
        List<NativeHarness64.Output> out = new ArrayList<>();
        for (String line : lines) {
            out.add(NativeHarness64.parse(line));
        }

        assertEquals(0x8000_0000_0000_0000L, out.get(0).regs()[Cpu.EAX]);
        assertEquals(0x894L, out.get(0).rflags() & ARITH, "OF, SF, AF (0xF + 1), PF (low byte 0); no CF, ZF");
        assertEquals(0x2345_6789L, out.get(1).regs()[Cpu.EAX], "a 32-bit write zero-extends");
        assertEquals(0xFFFF_FFFF_FFFF_6789L, out.get(2).regs()[Cpu.EAX], "a 16-bit write merges");
        assertEquals(le64(pattern, 0x800), out.get(3).regs()[8]);
        TreeMap<Integer, Integer> stored = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            if (pattern[0x800 + i] != (byte) 0xFF) {
                stored.put(0x800 + i, 0xFF);
            }
        }
        assertEquals(stored, out.get(4).memory());
        assertEquals(STACK - 8, out.get(5).regs()[Cpu.ESP]);
        TreeMap<Integer, Integer> pushed = new TreeMap<>();
        for (int i = 0; i < 8; i++) {
            int b = (int) (0x1122_3344_5566_7788L >>> (8 * i)) & 0xFF;
            if ((pattern[0x1EF8 + i] & 0xFF) != b) {
                pushed.put(0x1EF8 + i, b);
            }
        }
        assertEquals(pushed, out.get(5).memory());
        assertEquals(0xABL, out.get(6).regs()[Cpu.EAX] & 0xFF, "REX: byte register 6 is SIL");
        assertEquals(0xCDL, out.get(7).regs()[Cpu.EAX] & 0xFF, "no REX: byte register 6 is DH");
        assertEquals(NativeHarness64.CODE + NativeHarness64.TEST_OFFSET + 7 + 0x10, out.get(8).regs()[Cpu.EAX]);
        assertEquals(0xFFFF_FFFF_8000_0000L, out.get(9).regs()[Cpu.EAX]);
        assertEquals(0x1122_3344_5566_7788L, out.get(10).regs()[Cpu.EAX]);
        for (NativeHarness64.Output o : out) {
            assertEquals(0x0D0D_0D0D_0D0D_0D0DL, o.regs()[12], "R12 is untouched and restored to the input");
        }
    }
}
