package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * The interpreter runs 64-bit code in straight lines of one code page with no lookup per
 * instruction ({@link Exec64#run}); these programs would tell if that skipped anything the
 * per-instruction path guaranteed: the state at a fault in the middle of a line, a store into
 * the very next instruction, an exact instruction budget, and a region starting after an
 * instruction no region can hold. Each runs interpreted-only and with regions that never get
 * hot enough to compile, so the straight-line path is the one under test.
 */
class InterpreterRunTest {

    private static final long CODE = NativeHarness64.CODE;


    @Test
    void aFaultInTheMiddleOfALineNamesItsInstructionWithTheStateBeforeIt() {
        byte[] code = asm(
                "48 c7 c0 11 00 00 00",     // mov rax, 0x11
                "50",                       // push rax
                "48 83 c0 22",              // add rax, 0x22
                "48 89 07",                 // mov [rdi], rax: RDI is beyond the mapped GiB
                "48 c7 c0 99 00 00 00",     // mov rax, 0x99
                "f4");                      // hlt
        for (boolean regions : new boolean[] {false, true}) {
            try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, 1000)) {
                for (int pass = 0; pass < 3; pass++) { // the first decodes, the others run cached code
                    m.cpu.rip = CODE;
                    m.cpu.eip = (int) CODE;
                    m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
                    m.cpu.r[Cpu.EDI] = 0x4000_0000L;
                    m.cpu.r[Cpu.EAX] = 0;
                    long retired = m.cpu.retired;
                    CpuFault f = assertThrows(CpuFault.class, () -> m.cpu.runSlice(100));
                    assertEquals(CpuFault.PF, f.vector);
                    assertEquals(CODE + 12, m.cpu.insnRip, "the store faulted");
                    assertEquals((int) (CODE + 12), m.cpu.insnEip);
                    assertEquals(NativeDifferential64Test.STACK - 8, m.cpu.insnEsp, "RSP after the PUSH");
                    assertEquals(0x33, m.cpu.r[Cpu.EAX], "the instructions before it ran, the one after did not");
                    assertEquals(3, m.cpu.retired - retired);
                    assertEquals(0x11, m.memory.readLong(NativeDifferential64Test.STACK - 8));
                }
            }
        }
    }

    @Test
    void anInstructionAcrossAPageEndIsCachedUntilEitherPageChanges() {
        // The ADD starts 2 bytes before the page end; its immediate is on the next page, where
        // each pass first stores CL: the ADD must see each new byte, though its decode is cached.
        long start = CODE + 0xFF0;
        byte[] code = asm(
                "b9 10 00 00 00",           // mov ecx, 16
                "88 0d 05 00 00 00",        // L: mov [rip+5], cl (the ADD's immediate, next page)
                "90 90 90",                 // nop x3
                "48 05 00 00 00 00",        // add rax, imm32: 0xFFE..0x1003
                "ff c9",                    // dec ecx
                "75 ed",                    // jnz L
                "f4");                      // hlt
        try (FlatMachine m = NativeDifferential64Test.machine64WithTwoCodePages()) {
            m.load(start, code);
            m.cpu.compileBlocks = false;
            m.cpu.rip = start;
            m.cpu.eip = (int) start;
            m.cpu.r[Cpu.ESP] = NativeDifferential64Test.STACK;
            m.cpu.breakSlice = false;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
            assertEquals(136, m.cpu.r[Cpu.EAX], "16 + 15 + ... + 1");

            long add = start + 14;
            CodePage page = m.cpu.mmu.codePageFor(add);
            var cached = m.cpu.insn64(page, add);
            assertTrue(cached == m.cpu.insn64(page, add), "decoded once, then cached");
            m.load(CODE + 0x1000, new byte[] {0x42});
            var fresh = m.cpu.insn64(page, add);
            assertEquals(0x42, fresh.imm, "a write to the next page drops the cached decode");
        }
    }

    @Test
    void aStoreIntoTheNextInstructionIsSeenByIt() {
        // The first pass stores into data, so the page keeps the ADD decoded with immediate 0;
        // every later pass stores CL into the ADD's immediate right before running it, and the
        // ADD must run with the new byte, not as decoded on that page before.
        byte[] code = asm(
                "b9 2c 01 00 00",           // mov ecx, 300
                "88 0f",                    // L: mov [rdi], cl
                "48 83 c0 00",              // add rax, imm8 (rewritten from the second pass on)
                "48 8d 3d f8 ff ff ff",     // lea rdi, [rip-8] (the ADD's immediate)
                "ff c9",                    // dec ecx
                "75 ef",                    // jnz L
                "f4");                      // hlt
        long expected = 0;
        for (int i = 299; i > 0; i--) {
            expected += (byte) i;
        }
        for (boolean regions : new boolean[] {false, true}) {
            try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, 1000)) {
                m.cpu.r[Cpu.EDI] = NativeDifferential64Test.DATA;
                assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
                assertEquals(expected, m.cpu.r[Cpu.EAX]);
                assertEquals(2 + 300 * 5, m.cpu.retired);
            }
        }
    }

    @Test
    void aSliceEndsExactlyInTheMiddleOfALine() {
        byte[] code = asm(
                "48 ff c0", "48 ff c0", "48 ff c0", "48 ff c0", "48 ff c0", // inc rax (ten times)
                "48 ff c0", "48 ff c0", "48 ff c0", "48 ff c0", "48 ff c0",
                "f4");                      // hlt
        for (boolean regions : new boolean[] {false, true}) {
            try (FlatMachine m = NativeDifferential64Test.loaded64(code, regions, 1000)) {
                m.cpu.runSlice(7);
                assertEquals(7, m.cpu.retired);
                assertEquals(7, m.cpu.r[Cpu.EAX]);
                assertEquals(CODE + 21, m.cpu.rip);
                assertEquals((int) (CODE + 21), m.cpu.eip);
                m.cpu.runSlice(2);
                assertEquals(9, m.cpu.r[Cpu.EAX]);
                assertEquals(CODE + 27, m.cpu.rip);
            }
        }
    }

    @Test
    void aRegionStartsAfterAnInstructionNoRegionCanHold() {
        // XCHG with memory is locked: the interpreter runs it, so the loop's head cannot start a
        // region; the straight line after it must still be counted and compiled.
        byte[] code = asm(
                "b9 e8 03 00 00",           // mov ecx, 1000
                "48 87 03",                 // L: xchg [rbx], rax
                "48 ff c0",                 // inc rax
                "48 01 c2",                 // add rdx, rax
                "48 31 d6",                 // xor rsi, rdx
                "ff c9",                    // dec ecx
                "75 f0",                    // jnz L
                "f4");                      // hlt
        long[][] regs = new long[2][];
        long[] retired = new long[2];
        for (int pass = 0; pass < 2; pass++) {
            try (FlatMachine m = NativeDifferential64Test.loaded64(code, pass == 1, 50)) {
                assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(Long.MAX_VALUE), m.vcpu.stopReason());
                regs[pass] = m.cpu.r.clone();
                retired[pass] = m.cpu.retired;
                if (pass == 1) {
                    assertTrue(m.cpu.regionRetired > 5 * 900, "the line after the XCHG ran compiled: "
                            + m.cpu.regionRetired);
                }
            }
        }
        assertArrayEquals(regs[0], regs[1]);
        assertEquals(retired[0], retired[1]);
        assertEquals(2 + 6 * 1000, retired[0]);
    }
}
