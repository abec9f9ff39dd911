package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * Call gates in IA-32e mode (SDM Vol. 3 §5.8.3.1, §5.8.5.1): 16-byte gates to 64-bit code, CALL
 * from ring 3 to ring 0 with RSP0 from the 64-bit TSS, a null SS and the four-quadword frame, RETFQ
 * back; CALL and JMP at the same privilege, from 64-bit and from compatibility code; and the faults
 * with their error codes, leaving the state as it was.
 */
class CallGates64Test {

    static final long CODE = Interrupts64Test.CODE;
    static final int GDT = Interrupts64Test.GDT;
    static final int TSS = Interrupts64Test.TSS;
    /** The far pointers the code's indirect CALL/JMP read: offset (ignored for gates), selector. */
    static final int POINTER = 0x6000;
    static final int GATE = 0x40;

    /** {@link Interrupts64Test#machine()}'s GDT and TSS, the TSS loaded, and a 16-byte gate at 0x40. */
    private static FlatMachine machine(long target, int targetSel, int dpl) {
        FlatMachine m = Interrupts64Test.machine();
        gate(m, GATE, targetSel, target, dpl, 0xC);
        m.cpu.gdtLimit = GATE + 15;
        m.cpu.trSel = 0x28;
        m.cpu.trBase64 = TSS;
        m.cpu.trLimit = 0x67;
        m.cpu.trAttr = 0x8B;
        return m;
    }

    static void gate(FlatMachine m, int at, int targetSel, long target, int dpl, int type) {
        m.memory.writeInt(GDT + at, targetSel << 16 | (int) (target & 0xFFFF));
        m.memory.writeInt(GDT + at + 4, (int) (target & 0xFFFF_0000L) | 0x8000 | dpl << 13 | type << 8);
        m.memory.writeInt(GDT + at + 8, (int) (target >>> 32));
        m.memory.writeInt(GDT + at + 12, 0);
    }

    private static void user64(FlatMachine m) {
        m.cpu.setSegmentCache(Cpu.CS, 0x1B, 0, -1, 0xA0FB);
        m.cpu.setSegmentCache(Cpu.SS, 0x23, 0, -1, FlatMachine.FLAT_DATA32 | 0x60);
        m.cpu.setCpl(3);
        m.cpu.r[Cpu.ESP] = 0x7000;
        m.cpu.rip = CODE;
        m.cpu.eip = (int) CODE;
    }


    @Test
    void callFromRing3ToRing0AndRetfqBack() {
        try (FlatMachine m = machine(CODE + 0x300, 0x08, 3)) {
            m.memory.writeLong(TSS + 4, 0x9008);                 // RSP0: not 16-byte aligned, and stays so
            m.memory.writeInt(POINTER, 0x1234);
            m.memory.writeShort(POINTER + 4, (short) (GATE | 3));
            m.load(CODE, asm("ff 1c 25 00 60 00 00", "90"));      // call far [0x6000]; nop
            m.load(CODE + 0x300, asm(
                    "48 89 e6",                                  // mov rsi, rsp
                    "8c d7",                                     // mov edi, ss
                    "8c c9",                                     // mov ecx, cs
                    "48 cb"));                                   // retfq
            user64(m);
            m.runTo(CODE + 0x307);                              // at the RETFQ
            assertEquals(0, m.cpu.cpl, "ring 0 through the gate");
            assertEquals(0x9008 - 32, m.cpu.r[Cpu.ESI], "RSP0, unaligned, four quadwords: no parameters");
            assertEquals(0, m.cpu.r[Cpu.EDI], "SS is a null selector with RPL 0");
            assertEquals(0x08, m.cpu.r[Cpu.ECX]);
            assertEquals(0x23, m.memory.readLong(0x9008 - 8), "the old SS");
            assertEquals(0x7000, m.memory.readLong(0x9008 - 16), "the old RSP");
            assertEquals(0x1B, m.memory.readLong(0x9008 - 24), "the old CS");
            assertEquals(CODE + 7, m.memory.readLong(0x9008 - 32), "the return RIP");
            m.runTo(CODE + 7);
            assertEquals(3, m.cpu.cpl, "RETFQ went back to ring 3");
            assertEquals(0x23, m.cpu.segSel[Cpu.SS]);
            assertEquals(0x7000, m.cpu.r[Cpu.ESP]);
            assertEquals(0x1B, m.cpu.segSel[Cpu.CS]);
        }
    }

    @Test
    void callAndJumpAtTheSamePrivilegeFrom64BitCode() {
        try (FlatMachine m = machine(CODE + 0x300, 0x08, 0)) {
            m.memory.writeShort(POINTER + 4, (short) GATE);
            m.load(CODE, asm("ff 1c 25 00 60 00 00", "ff 2c 25 00 60 00 00")); // call far [0x6000]; jmp far [0x6000]
            m.load(CODE + 0x300, asm("48 89 e6", "48 cb"));      // mov rsi, rsp; retfq
            m.cpu.r[Cpu.ESP] = 0x7008;
            m.cpu.rip = CODE;
            m.cpu.eip = (int) CODE;
            m.runTo(CODE + 0x303);
            assertEquals(0x7008 - 16, m.cpu.r[Cpu.ESI], "CS and RIP as quadwords on the current stack");
            assertEquals(0x08, m.memory.readLong(0x7008 - 8));
            assertEquals(CODE + 7, m.memory.readLong(0x7008 - 16));
            assertEquals(0x10, m.cpu.segSel[Cpu.SS], "no stack switch");
            m.runTo(CODE + 7);
            assertEquals(0x7008, m.cpu.r[Cpu.ESP]);
            m.runTo(CODE + 0x300);
            assertEquals(0x7008, m.cpu.r[Cpu.ESP], "JMP pushes nothing");
            assertEquals(0x08, m.cpu.segSel[Cpu.CS]);
        }
    }

    @Test
    void callFromCompatibilityModeEnters64BitCode() {
        long target = CODE + 0x400;
        try (FlatMachine m = machine(target, 0x08, 0)) {
            m.load(0x6100, asm("9a 00 00 00 00 40 00"));          // call 0x40:0 (the gate)
            m.load(target, asm("48 89 e6", "f4"));                // mov rsi, rsp; hlt
            m.cpu.setSegmentCache(Cpu.CS, 0x38, 0, -1, FlatMachine.FLAT_CODE32);
            m.cpu.r[Cpu.ESP] = 0x7008;
            m.cpu.eip = 0x6100;
            assertTrue(!m.cpu.mode64);
            assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run(1), m.vcpu.stopReason());
            assertTrue(m.cpu.mode64, "the gate's target is 64-bit code");
            assertEquals(target, m.cpu.rip);
            assertEquals(0x38, m.memory.readLong(0x7008 - 8), "the compatibility-mode CS");
            assertEquals(0x6107, m.memory.readLong(0x7008 - 16), "and EIP, as quadwords");
            assertEquals(0x7008 - 16, m.cpu.r[Cpu.ESP]);
        }
    }

    /** Runs the indirect far CALL (or JMP) at CODE through the pointer at POINTER; the fault it raised. */
    private static CpuFault farThroughPointer(FlatMachine m, int sel, boolean call) {
        m.memory.writeShort(POINTER + 4, (short) sel);
        m.load(CODE, asm(call ? "ff 1c 25 00 60 00 00" : "ff 2c 25 00 60 00 00"));
        m.cpu.rip = CODE;
        m.cpu.eip = (int) CODE;
        try {
            m.cpu.runSlice(1);
            return null;
        } catch (CpuFault f) {
            return f;
        }
    }

    private static void assertFault(FlatMachine m, int sel, boolean call, int vector, int error, String what) {
        long undefined = m.cpu.undefinedOpcodes;
        CpuFault f = farThroughPointer(m, sel, call);
        assertNotNull(f, what);
        assertEquals(vector, f.vector, what);
        assertEquals(error, f.errorCode, what);
        assertEquals(3, m.cpu.cpl, what + ": nothing changed");
        assertEquals(0x7000, m.cpu.r[Cpu.ESP], what);
        assertEquals(0x23, m.cpu.segSel[Cpu.SS], what);
        assertEquals(undefined, m.cpu.undefinedOpcodes, what + ": an architectural fault, not a gap");
    }

    @Test
    void faultsAndTheirErrorCodes() {
        try (FlatMachine m = machine(CODE + 0x300, 0x08, 3)) {
            m.memory.writeLong(TSS + 4, 0x9008);
            m.cpu.gdtLimit = 0xFF;
            user64(m);
            gate(m, 0x50, 0x08, CODE, 0, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x50, "gate DPL 0 < CPL 3");
            gate(m, 0x50, 0x08, CODE, 3, 0xC);
            assertFault(m, 0x50 | 3, false, CpuFault.GP, 0x08, "JMP to a more privileged non-conforming segment");
            m.memory.writeInt(GDT + 0x54, m.memory.readInt(GDT + 0x54) & ~0x8000);
            assertFault(m, 0x50 | 3, true, CpuFault.NP, 0x50, "gate not present");
            gate(m, 0x50, 0x08, CODE, 3, 0xC);
            m.memory.writeInt(GDT + 0x5C, 0xC00);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x50, "the upper half's type is not 0");
            gate(m, 0x50, 0x08, CODE, 3, 0x4);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x50, "16-bit call gates do not exist in IA-32e mode");
            m.memory.writeInt(GDT + 0x50, 0);
            m.memory.writeInt(GDT + 0x54, 0x0000_E500);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x50, "task gates neither");
            gate(m, 0x50, 0x38, CODE, 3, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x38, "the target is 32-bit code");
            gate(m, 0x50, 0x10, CODE, 3, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0x10, "the target is data");
            gate(m, 0x50, 0x00, CODE, 3, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0, "a null target");
            m.memory.writeLong(GDT + 0x60, 0x00AF_1A00_0000_FFFFL);                // 64-bit code, not present
            gate(m, 0x50, 0x60, CODE, 3, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.NP, 0x60, "the target is not present");
            gate(m, 0x50, 0x08, 0x0000_8000_0000_0000L, 3, 0xC);
            assertFault(m, 0x50 | 3, true, CpuFault.GP, 0, "a non-canonical offset");
            m.cpu.gdtLimit = GATE + 8;
            assertFault(m, GATE | 3, true, CpuFault.GP, GATE, "the gate's upper half past the GDT limit");
            m.cpu.gdtLimit = 0xFF;
            m.memory.writeLong(TSS + 4, 0x8000_0000_0010L);
            assertFault(m, GATE | 3, true, CpuFault.SS, 0, "RSP0 not canonical");
            m.memory.writeLong(TSS + 4, 0x9008);
            m.cpu.trLimit = 10;
            assertFault(m, GATE | 3, true, CpuFault.TS, 0x28, "RSP0 past the TSS limit");
            m.cpu.trLimit = 0x67;
            assertEquals(null, farThroughPointer(m, GATE | 3, true), "and the good gate works");
            assertEquals(0, m.cpu.cpl);
        }
    }
}
