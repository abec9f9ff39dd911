package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/**
 * Ring transitions: IRET from ring 0 to ring 3, INT 0x80 back to ring 0 through a DPL-3 gate
 * with the stack taken from the TSS, IRET to ring 3 again, and a privileged instruction at
 * ring 3 raising #GP that lands in the ring-0 handler.
 */
class PrivilegeTest {

    @Test
    void userModeSystemCallAndGeneralProtection() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x100000})) {
            int gdt = 0x1000;
            m.memory.writeLong(gdt, 0);
            m.memory.writeLong(gdt + 0x08, 0x00CF_9A00_0000_FFFFL); // ring-0 code
            m.memory.writeLong(gdt + 0x10, 0x00CF_9200_0000_FFFFL); // ring-0 data
            m.memory.writeLong(gdt + 0x20, 0x0000_8900_7000_0067L); // 32-bit TSS at 0x7000
            m.memory.writeLong(gdt + 0x28, 0x00CF_FA00_0000_FFFFL); // ring-3 code
            m.memory.writeLong(gdt + 0x30, 0x00CF_F200_0000_FFFFL); // ring-3 data
            m.memory.writeInt(0x7004, 0x9000);                      // TSS.ESP0
            m.memory.writeInt(0x7008, 0x10);                        // TSS.SS0
            int idt = 0x3000;
            // INT 0x80: DPL-3 interrupt gate to 0x6200; #GP: DPL-0 gate to 0x6300.
            m.memory.writeInt(idt + 0x80 * 8, 0x08 << 16 | 0x6200);
            m.memory.writeInt(idt + 0x80 * 8 + 4, 0xEE00);
            m.memory.writeInt(idt + 13 * 8, 0x08 << 16 | 0x6300);
            m.memory.writeInt(idt + 13 * 8 + 4, 0x8E00);
            m.load(0x6000, ModeTransitionTest.asm(
                    "66 b8 20 00",               // mov ax, 0x20
                    "0f 00 d8",                  // ltr ax
                    "6a 33",                     // push 0x33 (user SS)
                    "68 00 80 00 00",            // push 0x8000 (user ESP)
                    "68 02 02 00 00",            // push 0x202 (EFLAGS, IF set)
                    "6a 2b",                     // push 0x2b (user CS)
                    "68 00 61 00 00",            // push 0x6100 (user EIP)
                    "cf"));                      // iretd
            m.load(0x6100, ModeTransitionTest.asm(
                    "66 bb 33 00",               // mov bx, 0x33
                    "8e db",                     // mov ds, bx
                    "b8 05 00 00 00",            // mov eax, 5
                    "cd 80",                     // int 0x80
                    "a3 00 20 00 00",            // mov [0x2000], eax
                    "8c c8",                     // mov eax, cs
                    "a3 04 20 00 00",            // mov [0x2004], eax
                    "f4"));                      // hlt at ring 3: #GP(0)
            m.load(0x6200, ModeTransitionTest.asm(
                    "83 c0 0a",                  // add eax, 10
                    "89 25 08 20 00 00",         // mov [0x2008], esp (the kernel stack)
                    "cf"));                      // iretd
            m.load(0x6300, ModeTransitionTest.asm(
                    "5b",                        // pop ebx (error code)
                    "8b 0c 24",                  // mov ecx, [esp] (faulting EIP)
                    "8b 54 24 04",               // mov edx, [esp+4] (faulting CS)
                    "f4"));                      // hlt at ring 0 with IF=0: stop
            m.flat32();
            m.cpu.gdtBase = gdt;
            m.cpu.gdtLimit = 0x37;
            m.cpu.idtBase = idt;
            m.cpu.idtLimit = 0x7FF;
            m.cpu.set32(Cpu.ESP, 0x9000);
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason() + " " + m.vcpu.registers());
            assertEquals(15, m.memory.readInt(0x2000), "the system call ran and returned");
            assertEquals(0x2B, m.memory.readInt(0x2004) & 0xFFFF, "back at ring 3 after IRET");
            assertEquals(0x9000 - 20, m.memory.readInt(0x2008), "ring-0 stack from the TSS, 5 words pushed");
            assertEquals(0, m.cpu.r32(Cpu.EBX), "#GP(0)");
            assertEquals(0x6100 + 4 + 2 + 5 + 2 + 5 + 2 + 5, m.cpu.r32(Cpu.ECX), "the HLT faulted");
            assertEquals(0x2B, m.cpu.r32(Cpu.EDX));
            assertEquals(0, m.cpu.cpl);
            assertEquals(0x10, m.cpu.segSel[Cpu.SS]);
            assertEquals(0x8B, m.cpu.trAttr & 0xFF, "LTR marked the TSS busy");
        }
    }

    @Test
    void ioPermissionBitmapAtRing3() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x100000})) {
            int[] written = new int[1];
            m.bus.registerPio("probe", 0x80, 2, new io.p2vkit.hv.bus.PortIoDevice() {
                @Override
                public int read(int offset, int size) {
                    return 0x5A;
                }

                @Override
                public void write(int offset, int size, int value) {
                    written[0] = 0x100 | value;
                }
            });
            int gdt = 0x1000;
            m.memory.writeLong(gdt + 0x08, 0x00CF_9A00_0000_FFFFL);
            m.memory.writeLong(gdt + 0x10, 0x00CF_9200_0000_FFFFL);
            m.memory.writeLong(gdt + 0x20, 0x0000_8900_7000_2067L); // TSS limit 0x2067: full bitmap
            m.memory.writeLong(gdt + 0x28, 0x00CF_FA00_0000_FFFFL);
            m.memory.writeLong(gdt + 0x30, 0x00CF_F200_0000_FFFFL);
            m.memory.writeInt(0x7004, 0x9000);
            m.memory.writeInt(0x7008, 0x10);
            m.memory.writeShort(0x7066, (short) 0x68);              // bitmap right after the TSS
            for (int i = 0; i < 0x2000; i++) {
                m.memory.writeByte(0x7068 + i, (byte) 0xFF);        // deny everything...
            }
            m.memory.writeByte(0x7068 + 0x80 / 8, (byte) 0xFE);     // ...except port 0x80
            m.memory.writeInt(0x3000 + 13 * 8, 0x08 << 16 | 0x6300);
            m.memory.writeInt(0x3000 + 13 * 8 + 4, 0x8E00);
            m.load(0x6000, ModeTransitionTest.asm("66 b8 20 00", "0f 00 d8", "6a 33", "68 00 80 00 00",
                    "6a 02", "6a 2b", "68 00 61 00 00", "cf"));
            m.load(0x6100, ModeTransitionTest.asm(
                    "b0 11",                     // mov al, 0x11
                    "e6 80",                     // out 0x80, al   (allowed)
                    "e4 80",                     // in al, 0x80    (allowed)
                    "89 c6",                     // mov esi, eax
                    "e6 81",                     // out 0x81, al   (denied: #GP)
                    "f4"));
            m.load(0x6300, ModeTransitionTest.asm("5b", "8b 0c 24", "f4"));
            m.flat32();
            m.cpu.gdtBase = gdt;
            m.cpu.gdtLimit = 0x37;
            m.cpu.idtBase = 0x3000;
            m.cpu.idtLimit = 0x7FF;
            m.cpu.set32(Cpu.ESP, 0x9000);
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(0x111, written[0]);
            assertEquals(0x5A, m.cpu.r32(Cpu.ESI) & 0xFF);
            assertEquals(0x6100 + 2 + 2 + 2 + 2, m.cpu.r32(Cpu.ECX), "OUT to port 0x81 faulted");
        }
    }

    @Test
    void callGateToRing0WithAParameterAndFarReturn() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x100000})) {
            int gdt = 0x1000;
            m.memory.writeLong(gdt + 0x08, 0x00CF_9A00_0000_FFFFL);
            m.memory.writeLong(gdt + 0x10, 0x00CF_9200_0000_FFFFL);
            m.memory.writeLong(gdt + 0x20, 0x0000_8900_7000_0067L);
            m.memory.writeLong(gdt + 0x28, 0x00CF_FA00_0000_FFFFL);
            m.memory.writeLong(gdt + 0x30, 0x00CF_F200_0000_FFFFL);
            // 0x38: 32-bit call gate, DPL 3, one parameter, to 0x08:0x6400.
            m.memory.writeInt(gdt + 0x38, 0x08 << 16 | 0x6400);
            m.memory.writeInt(gdt + 0x3C, 0xEC01);
            m.memory.writeInt(0x7004, 0x9000);
            m.memory.writeInt(0x7008, 0x10);
            m.memory.writeInt(0x3000 + 13 * 8, 0x08 << 16 | 0x6300);
            m.memory.writeInt(0x3000 + 13 * 8 + 4, 0x8E00);
            m.load(0x6000, ModeTransitionTest.asm("66 b8 20 00", "0f 00 d8", "6a 33", "68 00 80 00 00",
                    "6a 02", "6a 2b", "68 00 61 00 00", "cf"));
            m.load(0x6100, ModeTransitionTest.asm(
                    "66 bb 33 00",               // mov bx, 0x33
                    "8e db",                     // mov ds, bx
                    "68 34 12 00 00",            // push 0x1234 (the parameter)
                    "9a 00 00 00 00 3b 00",      // call 0x3b:0 (the gate; the offset is ignored)
                    "89 25 00 20 00 00",         // mov [0x2000], esp
                    "8c c8",                     // mov eax, cs
                    "a3 04 20 00 00",            // mov [0x2004], eax
                    "f4"));                      // #GP ends the test
            m.load(0x6400, ModeTransitionTest.asm(
                    "8b 44 24 08",               // mov eax, [esp+8] (the copied parameter)
                    "a3 0c 20 00 00",            // mov [0x200c], eax
                    "8c c8",                     // mov eax, cs
                    "a3 08 20 00 00",            // mov [0x2008], eax
                    "89 25 10 20 00 00",         // mov [0x2010], esp
                    "ca 04 00"));                // retf 4
            m.load(0x6300, ModeTransitionTest.asm("5b", "f4"));
            m.flat32();
            m.cpu.gdtBase = gdt;
            m.cpu.gdtLimit = 0x3F;
            m.cpu.idtBase = 0x3000;
            m.cpu.idtLimit = 0x7FF;
            m.cpu.set32(Cpu.ESP, 0x9000);
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(0x1234, m.memory.readInt(0x200C), "parameter copied to the ring-0 stack");
            assertEquals(0x08, m.memory.readInt(0x2008) & 0xFFFF, "ran at ring 0");
            assertEquals(0x9000 - 20, m.memory.readInt(0x2010), "SS, ESP, 1 parameter, CS, EIP pushed");
            assertEquals(0x8000, m.memory.readInt(0x2000), "RETF 4 released the parameter on the user stack");
            assertEquals(0x2B, m.memory.readInt(0x2004) & 0xFFFF);
        }
    }
}
