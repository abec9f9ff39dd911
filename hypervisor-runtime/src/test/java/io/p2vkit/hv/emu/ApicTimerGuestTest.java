package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.device.ApicBus;
import io.p2vkit.hv.device.Clock;
import io.p2vkit.hv.device.LocalApic;
import io.p2vkit.hv.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/**
 * A lone vCPU with its local APIC: the guest reads CPUID and IA32_APIC_BASE, programs the APIC
 * timer in periodic mode and sleeps in HLT between its interrupts, counting them in the handler.
 * The interrupts must come at the programmed rate (never faster), each waking HLT, and CLI; HLT
 * at the end is a shutdown since nothing else can wake a lone CPU. In 64-bit mode CR8 is the
 * APIC's task-priority class.
 */
class ApicTimerGuestTest {

    private static final int PERIOD_NANOS = 200_000;
    private static final int TICKS = 25;

    @Test
    void periodicTimerInterruptsWakeHltAtTheProgrammedRate() {
        GuestMemory memory = new GuestMemory();
        memory.add("ram", 0, 0x10_0000, false);
        LocalApic apic = new LocalApic(0, true, new ApicBus(), null, Clock.SYSTEM);
        EmuVcpu vcpu = (EmuVcpu) new EmuVcpus().withApics(memory, new Bus(), 1).create(0, apic);
        memory.load(0x1100, FlatMachine.hex("17 00 20 11 00 00"));              // GDTR: 3 entries at 0x1120
        memory.load(0x1120, FlatMachine.hex("00 00 00 00 00 00 00 00"
                + " FF FF 00 00 00 9A CF 00 FF FF 00 00 00 92 CF 00"));         // flat code 0x08, data 0x10
        memory.load(0x1110, FlatMachine.hex("FF 01 00 14 00 00"));              // IDTR: vectors 0-0x3F at 0x1400
        memory.load(0x1400 + 0x30 * 8, FlatMachine.hex("00 13 08 00 00 8E 00 00")); // vector 0x30 → 0x1300
        memory.load(0x1300, FlatMachine.hex(
                "FF 05 00 30 00 00"                   // inc dword [0x3000]
                + " C7 05 B0 00 E0 FE 00 00 00 00"    // EOI
                + " CF"));                            // iretd
        memory.load(0x2000, FlatMachine.hex(
                "BC 00 80 00 00"                      // mov esp, 0x8000
                + " 0F 01 15 00 11 00 00"             // lgdt [0x1100]
                + " 0F 01 1D 10 11 00 00"             // lidt [0x1110]
                + " B8 01 00 00 00 0F A2"             // cpuid(1)
                + " 89 1D 04 30 00 00"                // mov [0x3004], ebx  (initial APIC ID)
                + " 89 15 08 30 00 00"                // mov [0x3008], edx  (features)
                + " 89 0D 0C 30 00 00"                // mov [0x300C], ecx
                + " B9 1B 00 00 00 0F 32"             // rdmsr IA32_APIC_BASE
                + " A3 10 30 00 00"                   // mov [0x3010], eax
                + " C7 05 F0 00 E0 FE FF 01 00 00"    // SVR: enable
                + " C7 05 E0 03 E0 FE 0B 00 00 00"    // divide by 1
                + " C7 05 20 03 E0 FE 30 00 02 00"    // LVT timer: periodic, vector 0x30
                + " C7 05 80 03 E0 FE " + le32(PERIOD_NANOS / 40) // initial count: 25 MHz ticks
                + " FB F4"                            // L: sti; hlt
                + " FA"                               // cli: no tick between the last count and the mask
                + " 83 3D 00 30 00 00 " + String.format("%02X", TICKS) // cmp dword [0x3000], TICKS
                + " 72 F4"                            // jb L
                + " C7 05 20 03 E0 FE 00 00 01 00"    // mask the timer
                + " FA F4"));                         // cli; hlt
        Cpu cpu = vcpu.cpu();
        cpu.mmu.cr0 |= Cpu.CR0_PE;
        cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.setSegmentCache(s, 0x10, 0, -1, FlatMachine.FLAT_DATA32);
        }
        cpu.mmu.flush();
        cpu.eip = 0x2000;
        try {
            long t0 = System.nanoTime();
            Vcpu.Stop stop = vcpu.run(50_000_000);
            long elapsed = System.nanoTime() - t0;
            assertEquals(Vcpu.Stop.SHUTDOWN, stop, vcpu.stopReason());
            assertEquals(TICKS, memory.readInt(0x3000), "timer interrupts handled");
            assertTrue(elapsed >= (long) TICKS * PERIOD_NANOS, "interrupts came faster than programmed: " + elapsed + " ns");
            assertTrue(vcpu.instructionsRetired() < 100_000, "HLT slept between ticks: "
                    + vcpu.instructionsRetired() + " instructions");
            assertEquals(0, memory.readInt(0x3004) >>> 24, "initial APIC ID");
            assertTrue((memory.readInt(0x3008) & (1 << 9)) != 0, "CPUID.1:EDX.APIC");
            assertTrue((memory.readInt(0x300C) & (1 << 24)) != 0, "CPUID.1:ECX.TSC-deadline");
            assertEquals(0xFEE0_0900, memory.readInt(0x3010), "IA32_APIC_BASE: base, BSP, enabled");
        } finally {
            memory.close();
        }
    }

    @Test
    void cr8IsTheTaskPriorityClassIn64BitMode() {
        GuestMemory memory = new GuestMemory();
        memory.add("ram", 0, 0x10_0000, false);
        LocalApic apic = new LocalApic(0, true, new ApicBus(), null, Clock.SYSTEM);
        EmuVcpu vcpu = (EmuVcpu) new EmuVcpus().withApics(memory, new Bus(), 1).create(0, apic);
        memory.writeLong(0x1000, 0x2000 | 3);   // PML4 → PDPT
        memory.writeLong(0x2000, 0x83);         // one 1 GiB page at 0
        memory.load(0x3000, FlatMachine.hex(
                "48 C7 C0 05 00 00 00"          // mov rax, 5
                + " 44 0F 22 C0"                // mov cr8, rax
                + " 44 0F 20 C3"                // mov rbx, cr8
                + " 48 C7 C0 10 00 00 00"       // mov rax, 16
                + " 44 0F 22 C0"));             // mov cr8, rax: reserved bits, #GP
        Cpu cpu = vcpu.cpu();
        cpu.mmu.cr0 |= Cpu.CR0_PE;
        cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.setSegmentCache(s, 0x10, 0, -1, FlatMachine.FLAT_DATA32);
        }
        cpu.writeCr4(Mmu.CR4_PAE);
        cpu.writeCr3(0x1000);
        cpu.writeEfer(Mmu.EFER_LME);
        cpu.writeCr0(cpu.cr0() | Cpu.CR0_PG);
        cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32 & ~Cpu.ATTR_DB | Cpu.ATTR_L);
        cpu.eip = 0x3000;
        try {
            assertEquals(Vcpu.Stop.REQUESTED, vcpu.run(3), vcpu.stopReason());
            assertEquals(5, cpu.r[Cpu.EBX], "MOV from CR8");
            assertEquals(0x50, (int) apic.mmioRead(0x80, 4), "TPR bits 7:4");
            assertEquals(Vcpu.Stop.TRIPLE_FAULT, vcpu.run(10), "#GP with no IDT: " + vcpu.stopReason());
            assertTrue(vcpu.stopReason().contains("fault 13") || vcpu.stopReason().contains("#GP"), vcpu.stopReason());
            assertEquals(0x50, (int) apic.mmioRead(0x80, 4), "the refused write changed nothing");
        } finally {
            memory.close();
        }
    }

    private static String le32(int v) {
        return String.format("%02X %02X %02X %02X", v & 0xFF, (v >>> 8) & 0xFF, (v >>> 16) & 0xFF, v >>> 24);
    }
}
