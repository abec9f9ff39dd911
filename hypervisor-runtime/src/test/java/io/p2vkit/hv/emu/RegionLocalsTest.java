package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import org.junit.jupiter.api.Test;

/** Which guest registers a region keeps in JVM locals ({@link RegionScan#locals}). */
class RegionLocalsTest {

    /** Decodes one instruction from hex bytes. */
    private static DecodedInsn insn(String hex) {
        byte[] b = ModeTransitionTest.asm(hex);
        return Decoder.decode64(k -> b[k] & 0xFF);
    }

    private static int bits(int... registers) {
        int mask = 0;
        for (int r : registers) {
            mask |= 1 << r;
        }
        return mask;
    }

    @Test
    void theLoopsRegistersWinOverThoseUsedOnceBeforeIt() {
        DecodedInsn[] insns = {
            insn("48 89 d8"),       // mov rax, rbx
            insn("4c 89 c2"),       // mov rdx, r8
            insn("4d 89 d1"),       // mov r9, r10
            insn("48 83 c6 01"),    // L: add rsi, 1
            insn("48 83 c7 01"),    // add rdi, 1
            insn("ff c9"),          // dec ecx
            insn("75 f5"),          // jnz L
        };
        int[] jump = {-1, -1, -1, -1, -1, -1, 3};
        int used = bits(Cpu.EAX, Cpu.EBX, Cpu.EDX, 8, 9, 10, Cpu.ESI, Cpu.EDI, Cpu.ECX);
        assertEquals(bits(Cpu.ESI, Cpu.EDI, Cpu.ECX), RegionScan.locals(insns, jump, used));
    }

    @Test
    void aRegionUsingFewRegistersKeepsThemAll() {
        DecodedInsn[] insns = {insn("48 01 d8"), insn("c3")}; // add rax, rbx; ret
        int used = bits(Cpu.EAX, Cpu.EBX, Cpu.ESP);
        assertEquals(used, RegionScan.locals(insns, new int[] {-1, -1}, used));
    }

    @Test
    void theMostUsedRegistersWinWithoutALoop() {
        DecodedInsn[] insns = {
            insn("48 01 d8"),       // add rax, rbx
            insn("48 01 c8"),       // add rax, rcx
            insn("48 01 d0"),       // add rax, rdx
            insn("48 01 d1"),       // add rcx, rdx
            insn("48 01 f7"),       // add rdi, rsi
        };
        int used = bits(Cpu.EAX, Cpu.EBX, Cpu.ECX, Cpu.EDX, Cpu.ESI, Cpu.EDI);
        assertEquals(bits(Cpu.EAX, Cpu.ECX, Cpu.EDX), RegionScan.locals(insns, new int[] {-1, -1, -1, -1, -1}, used));
    }
}
