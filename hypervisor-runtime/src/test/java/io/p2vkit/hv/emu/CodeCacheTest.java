package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.p2vkit.hv.cpu.Vcpu;
import org.junit.jupiter.api.Test;

/** The decoded-instruction cache must never run stale code. */
class CodeCacheTest {

    @Test
    void selfModifyingCodeRunsTheNewBytes() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000})) {
            m.load(0x1000, ModeTransitionTest.asm(
                    "b8 01 00 00 00",            // 1000: mov eax, 1      (cached on the first pass)
                    "41",                        // 1005: inc ecx
                    "83 f9 02",                  // 1006: cmp ecx, 2
                    "74 09",                     // 1009: je 1014
                    "c6 05 01 10 00 00 07",      // 100b: mov byte [0x1001], 7 (patch the immediate)
                    "eb ec",                     // 1012: jmp 1000
                    "f4"));                      // 1014: hlt
            m.flat32();
            m.cpu.eip = 0x1000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(7, m.cpu.r32(Cpu.EAX));
            assertEquals(2, m.cpu.r32(Cpu.ECX));
        }
    }

    @Test
    void writesThroughAnotherLinearAliasAreSeen() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x400000})) {
            // Paging maps linear 0x1000 and 0x200000 to the same physical page 0x1000.
            m.memory.writeInt(0x10000, 0x11000 | 3);
            for (int i = 0; i < 1024; i++) {
                m.memory.writeInt(0x11000 + i * 4, i << 12 | 3);
            }
            m.memory.writeInt(0x11000 + 0x200 * 4, 0x1000 | 3);
            m.load(0x1000, ModeTransitionTest.asm(
                    "b8 01 00 00 00",            // 1000: mov eax, 1
                    "41",                        // 1005: inc ecx
                    "83 f9 02",                  // 1006: cmp ecx, 2
                    "74 09",                     // 1009: je 1014
                    "c6 05 01 00 20 00 09",      // 100b: mov byte [0x200001], 9 (the alias)
                    "eb ec",                     // 1012: jmp 1000
                    "f4"));
            m.flat32();
            m.cpu.mmu.cr3 = 0x10000;
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
            m.cpu.eip = 0x1000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(9, m.cpu.r32(Cpu.EAX));
        }
    }

    @Test
    void hostWritesNeedInvalidateCodeAndThenRunTheNewBytes() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000})) {
            m.load(0x1000, ModeTransitionTest.asm("b8 01 00 00 00", "f4"));
            m.flat32();
            m.cpu.eip = 0x1000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(1, m.cpu.r32(Cpu.EAX));
            m.load(0x1000, ModeTransitionTest.asm("b8 05 00 00 00", "f4")); // load() invalidates
            m.cpu.eip = 0x1000;
            m.cpu.halted = false;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(5, m.cpu.r32(Cpu.EAX));
        }
    }

    @Test
    void deviceWritesReachTheCodeCacheThroughTheMemoryListener() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000})) {
            m.memory.setHostWriteListener(m.vcpu::memoryWritten); // as Machine wires it
            m.load(0x1000, ModeTransitionTest.asm("b8 01 00 00 00", "f4"));
            m.flat32();
            m.cpu.eip = 0x1000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(1, m.cpu.r[Cpu.EAX]);
            byte[] dma = ModeTransitionTest.asm("b8 07 00 00 00", "f4");
            m.memory.write(0x1000, dma, 0, dma.length); // a virtio read landing on a code page
            m.cpu.eip = 0x1000;
            m.cpu.halted = false;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(7, m.cpu.r[Cpu.EAX]);
        }
    }

    @Test
    void sameBytesDecodeDifferentlyIn16And32BitCode() {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000})) {
            // b8 34 12 f4 ...: in 32-bit code "mov eax, 0xf41234xx"; in 16-bit code "mov ax, 0x1234; hlt".
            m.load(0x1000, ModeTransitionTest.asm("b8 34 12 f4 90", "f4"));
            m.real(0, 0x1000, 0);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(0x1234, m.cpu.r32(Cpu.EAX) & 0xFFFF);
            m.flat32();
            m.cpu.eip = 0x1000;
            m.cpu.halted = false;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10));
            assertEquals(0x90F41234, m.cpu.r32(Cpu.EAX));
        }
    }
}
