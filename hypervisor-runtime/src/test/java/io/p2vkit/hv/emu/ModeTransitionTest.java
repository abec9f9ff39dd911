package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.Vcpu;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/**
 * Hand-assembled snippets through the mode machinery: real to protected mode by a far jump,
 * paging (2-level and PAE) with page faults reporting CR2 and the error code, interrupts through
 * the IVT and the IDT, an external interrupt waking HLT, and a triple fault.
 */
class ModeTransitionTest {

    static final int GDT = 0x1000;
    static final int IDT = 0x3000;
    static final int DATA = 0x2000;

    /** Bytes from hex groups, so snippets can carry one instruction per argument. */
    static byte[] asm(String... insns) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String insn : insns) {
            out.writeBytes(FlatMachine.hex(insn));
        }
        return out.toByteArray();
    }

    static FlatMachine machine() {
        return new FlatMachine(new long[] {0, 0x400000});
    }

    /** GDT: null, flat 32-bit code (0x08), flat data (0x10), 16-bit code (0x18). */
    static void writeGdt(FlatMachine m) {
        m.memory.writeLong(GDT, 0);
        m.memory.writeLong(GDT + 8, 0x00CF_9A00_0000_FFFFL);
        m.memory.writeLong(GDT + 16, 0x00CF_9200_0000_FFFFL);
        m.memory.writeLong(GDT + 24, 0x0000_9A00_0000_FFFFL);
    }

    static void interruptGate(FlatMachine m, int vector, int handler) {
        int lo = 0x08 << 16 | (handler & 0xFFFF);
        int hi = (handler & 0xFFFF_0000) | 0x8E00;
        m.memory.writeInt(IDT + vector * 8, lo);
        m.memory.writeInt(IDT + vector * 8 + 4, hi);
    }

    /** Flat protected mode with the GDT and IDT above in memory. */
    static void protectedWithTables(FlatMachine m) {
        writeGdt(m);
        m.flat32();
        m.cpu.gdtBase = GDT;
        m.cpu.gdtLimit = 0x1F;
        m.cpu.idtBase = IDT;
        m.cpu.idtLimit = 0x7FF;
        m.cpu.set32(Cpu.ESP, 0x9000);
    }

    @Test
    void farJumpIntoProtectedMode() {
        try (FlatMachine m = machine()) {
            writeGdt(m);
            m.memory.writeShort(0x0FF0, (short) 0x1F);
            m.memory.writeInt(0x0FF2, GDT);
            m.load(0x7C00, asm(
                    "fa",                        // cli
                    "0f 01 16 f0 0f",            // lgdt [0x0ff0]
                    "0f 20 c0",                  // mov eax, cr0
                    "66 83 c8 01",               // or eax, 1
                    "0f 22 c0",                  // mov cr0, eax
                    "66 ea 00 7d 00 00 08 00")); // jmp dword 0x08:0x7d00
            m.load(0x7D00, asm(
                    "66 b8 10 00",               // mov ax, 0x10
                    "8e d8",                     // mov ds, ax
                    "8e d0",                     // mov ss, ax
                    "bc 00 90 00 00",            // mov esp, 0x9000
                    "c7 05 00 20 00 00 78 56 34 12", // mov dword [0x2000], 0x12345678
                    "f4"));                      // hlt
            m.real(0, 0x7C00, 0);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertTrue(m.cpu.protectedMode());
            assertTrue(m.cpu.cs32);
            assertEquals(0x08, m.cpu.segSel[Cpu.CS]);
            assertEquals(0x10, m.cpu.segSel[Cpu.DS]);
            assertEquals(-1, m.cpu.segLimit[Cpu.DS]);
            assertEquals(0x12345678, m.memory.readInt(DATA));
            assertEquals(0x7D00 + 4 + 2 + 2 + 5 + 10 + 1, m.cpu.eip);
        }
    }

    @Test
    void bigRealModeKeepsTheProtectedModeLimit() {
        try (FlatMachine m = machine()) {
            writeGdt(m);
            m.memory.writeShort(0x0FF0, (short) 0x1F);
            m.memory.writeInt(0x0FF2, GDT);
            m.load(0x7C00, asm(
                    "0f 01 16 f0 0f",            // lgdt [0x0ff0]
                    "0f 20 c0",                  // mov eax, cr0
                    "66 83 c8 01",               // or eax, 1
                    "0f 22 c0",                  // mov cr0, eax
                    "bb 10 00",                  // mov bx, 0x10
                    "8e db",                     // mov ds, bx   (4 GiB limit)
                    "66 83 e0 fe",               // and eax, ~1
                    "0f 22 c0",                  // mov cr0, eax (back to real mode)
                    "31 db",                     // xor bx, bx
                    "8e db",                     // mov ds, bx   (real-mode load keeps the limit)
                    "66 67 c7 03 ef be ad de",   // mov dword [ebx], 0xdeadbeef with ebx=0x100000
                    "f4"));
            m.real(0, 0x7C00, 0);
            // EBX's upper half is set before the snippet so that [ebx] is above 1 MiB.
            m.cpu.set32(Cpu.EBX, 0x0010_0000);
            Vcpu.Stop stop = m.vcpu.run(100);
            assertEquals(Vcpu.Stop.SHUTDOWN, stop, m.vcpu.stopReason());
            assertFalse(m.cpu.protectedMode());
            assertEquals(0xDEADBEEF, m.memory.readInt(0x100000));
        }
    }

    /** The #PF handler at 0x5000 stores CR2, the error code and the faulting EIP, then halts. */
    static void pageFaultHandler(FlatMachine m) {
        interruptGate(m, 14, 0x5000);
        m.load(0x5000, asm(
                "0f 20 d0",                      // mov eax, cr2
                "a3 08 20 00 00",                // mov [0x2008], eax
                "58",                            // pop eax (error code)
                "a3 0c 20 00 00",                // mov [0x200c], eax
                "58",                            // pop eax (faulting EIP)
                "a3 10 20 00 00",                // mov [0x2010], eax
                "f4"));
    }

    /** Page tables at 0x10000: identity-map 4 MiB except page 0x200 (absent) and 0x201 (read-only). */
    static void twoLevelTables(FlatMachine m) {
        m.memory.writeInt(0x10000, 0x11000 | 3);
        for (int i = 0; i < 1024; i++) {
            int pte = i << 12 | 3;
            if (i == 0x200) {
                pte = 0;
            } else if (i == 0x201) {
                pte = i << 12 | 1;
            }
            m.memory.writeInt(0x11000 + i * 4, pte);
        }
    }

    private void runPagingSnippet(FlatMachine m, String access, boolean wp) {
        protectedWithTables(m);
        pageFaultHandler(m);
        twoLevelTables(m);
        interruptGate(m, 0x30, 0x5100);
        m.load(0x5100, asm(
                "c7 05 04 20 00 00 fe ca 00 00", // mov dword [0x2004], 0xcafe
                "cf"));                          // iretd
        m.load(0x6000, asm(
                "b8 00 00 01 00",                // mov eax, 0x10000
                "0f 22 d8",                      // mov cr3, eax
                "0f 20 c0",                      // mov eax, cr0
                "0d 00 00 00 80",                // or eax, 0x80000000 (PG)
                wp ? "0d 00 00 01 00" : "90",    // or eax, 0x10000 (WP)
                "0f 22 c0",                      // mov cr0, eax
                "cd 30",                         // int 0x30
                access,
                "f4"));
        m.cpu.eip = 0x6000;
        assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
        assertEquals(0xCAFE, m.memory.readInt(0x2004), "INT 0x30 through the IDT did not run");
    }

    @Test
    void pageFaultOnAbsentPageReportsCr2AndErrorCode() {
        try (FlatMachine m = machine()) {
            runPagingSnippet(m, "a1 23 01 20 00", false); // mov eax, [0x200123]
            int faultingEip = 0x6000 + 5 + 3 + 3 + 5 + 1 + 3 + 2;
            assertEquals(0x200123, m.memory.readInt(0x2008), "CR2");
            assertEquals(0, m.memory.readInt(0x200C), "error code: not present, read, supervisor");
            assertEquals(faultingEip, m.memory.readInt(0x2010), "the fault points at the instruction");
            assertEquals(0x200123, m.cpu.cr2);
        }
    }

    @Test
    void writeToReadOnlyPageFaultsOnlyWithCr0Wp() {
        try (FlatMachine m = machine()) {
            runPagingSnippet(m, "c7 05 10 10 20 00 01 00 00 00", true); // mov dword [0x201010], 1
            assertEquals(0x201010, m.memory.readInt(0x2008));
            assertEquals(3, m.memory.readInt(0x200C), "error code: present, write, supervisor");
        }
        try (FlatMachine m = machine()) {
            runPagingSnippet(m, "c7 05 10 10 20 00 01 00 00 00", false);
            assertEquals(1, m.memory.readInt(0x201010), "CR0.WP=0 lets the kernel write");
            assertEquals(0, m.memory.readInt(0x2008), "no fault");
        }
    }

    @Test
    void paePagingWithLargePages() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            pageFaultHandler(m);
            // PDPT at 0x12000 -> PD at 0x13000: 0-2 MiB one 2 MiB page, 2-4 MiB absent.
            m.memory.writeLong(0x12000, 0x13000 | 1);
            m.memory.writeLong(0x13000, 0x83);
            m.load(0x6000, asm(
                    "0f 20 e0",                  // mov eax, cr4
                    "83 c8 20",                  // or eax, 0x20 (PAE)
                    "0f 22 e0",                  // mov cr4, eax
                    "b8 00 20 01 00",            // mov eax, 0x12000
                    "0f 22 d8",                  // mov cr3, eax
                    "0f 20 c0",                  // mov eax, cr0
                    "0d 00 00 00 80",            // or eax, PG
                    "0f 22 c0",                  // mov cr0, eax
                    "c7 05 00 40 00 00 07 00 00 00", // mov dword [0x4000], 7 (below 2 MiB: works)
                    "8b 0d 44 44 22 00",         // mov ecx, [0x224444] (absent 2-4 MiB)
                    "f4"));
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(7, m.memory.readInt(0x4000));
            assertEquals(0x224444, m.memory.readInt(0x2008));
            assertEquals(0, m.memory.readInt(0x200C));
            assertEquals(0xE3, m.memory.readLong(0x13000) & 0xFF, "accessed and dirty bits set");
        }
    }

    @Test
    void emptyIdtGivesTripleFault() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            m.cpu.idtLimit = 0;
            m.load(0x6000, asm("0f 0b")); // ud2
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.TRIPLE_FAULT, m.vcpu.run(1000), m.vcpu.stopReason());
        }
    }

    @Test
    void doubleFaultHandlerRunsWhenGpDeliveryFaults() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            interruptGate(m, 8, 0x5200);
            // #GP's gate is not present: delivering #GP raises #NP, contributory on contributory.
            m.load(0x5200, asm("58", "a3 0c 20 00 00", "f4")); // pop eax; mov [0x200c], eax; hlt
            m.memory.writeInt(0x200C, 0x1234);
            m.load(0x6000, asm("8e 1d 00 40 00 00")); // mov ds, [0x4000] with selector 0x0fff8 (beyond GDT)
            m.memory.writeShort(0x4000, (short) 0xFFF8);
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(0, m.memory.readInt(0x200C), "#DF pushes an error code of zero");
            assertEquals(0x5200 + 1 + 5 + 1, m.cpu.eip);
        }
    }

    @Test
    void realModeSoftwareInterruptAndIret() {
        try (FlatMachine m = machine()) {
            m.memory.writeInt(0x10 * 4, 0x0000_8000); // IVT[0x10] = 0000:8000
            m.load(0x8000, asm("b8 34 12", "cf"));    // mov ax, 0x1234; iret
            m.load(0x7C00, asm("cd 10", "89 c3", "f4")); // int 0x10; mov bx, ax; hlt
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.ESP, 0x7000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x1234, m.cpu.r32(Cpu.EBX) & 0xFFFF);
            assertEquals(0x7000, m.cpu.r32(Cpu.ESP));
        }
    }

    @Test
    void undefinedOpcodeIsDeliveredAsUd() {
        try (FlatMachine m = machine()) {
            m.memory.writeInt(6 * 4, 0x0000_8000);       // IVT[6] = 0000:8000
            m.load(0x8000, asm("5b", "f4"));             // pop bx (the faulting IP); hlt
            m.load(0x7C00, asm("90", "0f 05"));          // nop; syscall (not implemented: #UD)
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.ESP, 0x7000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x7C01, m.cpu.r32(Cpu.EBX) & 0xFFFF, "#UD is a fault: IP of the bad opcode");
            assertEquals(1, m.vcpu.undefinedOpcodes());
            assertTrue(m.vcpu.missingFeatures().contains("0F 05"), m.vcpu.missingFeatures());
        }
    }

    @Test
    void ud2IsUdButNotAGapOfTheEmulator() {
        try (FlatMachine m = machine()) {
            m.memory.writeInt(6 * 4, 0x0000_8000);       // IVT[6] = 0000:8000
            m.load(0x8000, asm("5b", "f4"));             // pop bx; hlt
            m.load(0x7C00, asm("0f 0b"));                // ud2, as Linux's BUG() uses it
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.ESP, 0x7000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x7C00, m.cpu.r32(Cpu.EBX) & 0xFFFF);
            assertEquals(0, m.vcpu.undefinedOpcodes());
            assertEquals("", m.vcpu.missingFeatures());
        }
    }

    /** An interrupt controller with one pending vector. */
    static final class OneShotPic implements InterruptController {
        volatile int pending = -1;
        int acknowledged;

        @Override
        public boolean hasPendingInterrupt() {
            return pending >= 0;
        }

        @Override
        public int acknowledge() {
            int v = pending;
            pending = -1;
            acknowledged++;
            return v;
        }
    }

    @Test
    void externalInterruptWakesHltAndIsDeliveredThroughTheIdt() throws Exception {
        OneShotPic pic = new OneShotPic();
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x400000})) {
            EmuVcpu vcpu = new EmuVcpu(m.memory, m.bus, pic);
            Cpu cpu = vcpu.cpu();
            writeGdt(m);
            cpu.mmu.cr0 |= Cpu.CR0_PE;
            cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32);
            for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS}) {
                cpu.setSegmentCache(s, 0x10, 0, -1, FlatMachine.FLAT_DATA32);
            }
            cpu.gdtBase = GDT;
            cpu.gdtLimit = 0x1F;
            cpu.idtBase = IDT;
            cpu.idtLimit = 0x7FF;
            cpu.set32(Cpu.ESP, 0x9000);
            interruptGate(m, 0x20, 0x5300);
            m.load(0x5300, asm("c7 05 00 20 00 00 01 00 00 00", "cf")); // mov dword [0x2000], 1; iretd
            m.load(0x6000, asm("fb", "f4", "fa", "f4"));                 // sti; hlt; cli; hlt
            vcpu.invalidateCode(0, 0x400000);
            cpu.eip = 0x6000;
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                pic.pending = 0x20;
            });
            assertEquals(Vcpu.Stop.SHUTDOWN, vcpu.run(1000), vcpu.stopReason());
            assertEquals(1, m.memory.readInt(DATA), "the handler ran");
            assertEquals(1, pic.acknowledged);
            assertEquals(0x6004, cpu.eip, "stopped at the second HLT, after CLI");
        }
    }

    @Test
    void requestStopEndsAHaltedRun() throws Exception {
        OneShotPic pic = new OneShotPic();
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000})) {
            EmuVcpu vcpu = new EmuVcpu(m.memory, m.bus, pic);
            m.load(0x7C00, asm("fb", "f4", "eb fd")); // sti; hlt; jmp back to hlt
            vcpu.cpu().setSegmentCache(Cpu.CS, 0, 0, 0xFFFF, Cpu.ATTR_P | Cpu.ATTR_S | Cpu.ATTR_CODE | 3);
            vcpu.cpu().eip = 0x7C00;
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                vcpu.requestStop();
            });
            assertEquals(Vcpu.Stop.REQUESTED, vcpu.run());
        }
    }

    @Test
    void requestResetReturnsToThePowerOnState() throws Exception {
        try (FlatMachine m = new FlatMachine(new long[] {0, 0x10000}, new long[] {0xFFFF_F000L, 0x1000})) {
            m.load(0xFFFF_FFF0L, asm("eb fe"));           // the reset vector: jmp $
            m.load(0x7C00, asm("fa", "66 b8 44 33 22 11", "eb fe")); // cli; mov eax, 0x11223344; jmp $
            m.real(0, 0x7C00, 0);
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(30);
                    m.vcpu.requestReset();
                    Thread.sleep(30);
                    m.vcpu.requestStop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run());
            assertEquals(0xF000, m.cpu.segSel[Cpu.CS]);
            assertEquals(0xFFFF_0000, m.cpu.segBase[Cpu.CS]);
            assertEquals(0xFFF0, m.cpu.eip);
            assertEquals(0, m.cpu.r32(Cpu.EAX));
        }
    }

    @Test
    void trapFlagSingleSteps() {
        try (FlatMachine m = machine()) {
            // IVT[1] = 0000:8000: count the traps in SI, then IRET.
            m.memory.writeInt(4, 0x0000_8000);
            m.load(0x8000, ModeTransitionTest.asm("46", "cf"));          // inc si; iret
            m.load(0x7C00, asm(
                    "9c",                        // pushf
                    "58",                        // pop ax
                    "0d 00 01",                  // or ax, 0x100 (TF)
                    "50",                        // push ax
                    "9d",                        // popf: TF is set, traps start after the next one
                    "90",                        // nop          (trap 1)
                    "90",                        // nop          (trap 2)
                    "9c",                        // pushf        (trap 3)
                    "58",                        // pop ax       (trap 4)
                    "25 ff fe",                  // and ax, ~0x100 (trap 5)
                    "50",                        // push ax      (trap 6)
                    "9d",                        // popf: clears TF (trap 7, TF was set before it)
                    "90",                        // nop: no trap
                    "f4"));
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.ESP, 0x7000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(7, m.cpu.r32(Cpu.ESI) & 0xFFFF);
        }
    }

    @Test
    void eipBeyondTheCodeSegmentLimitFaults() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            pageFaultHandler(m);
            interruptGate(m, 13, 0x5000);
            m.cpu.setSegmentCache(Cpu.CS, 0x08, 0, 0x6FFF, 0x409B); // 32-bit code, limit 0x6fff
            m.load(0x6FFE, asm("eb 00"));                            // jmp to 0x7000, beyond the limit
            m.cpu.eip = 0x6FFE;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0, m.memory.readInt(0x200C), "#GP(0)");
            assertEquals(0x7000, m.memory.readInt(0x2010), "the fault points at the target");
        }
    }

    @Test
    void writesThroughReadOnlyOrCodeSegmentsFault() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            pageFaultHandler(m);
            interruptGate(m, 13, 0x5000);
            m.memory.writeLong(GDT + 24, 0x00CF_9000_0000_FFFFL); // 0x18: read-only data
            m.memory.writeInt(0x4000, 0x77);
            m.load(0x6000, asm(
                    "66 b8 18 00",               // mov ax, 0x18
                    "8e c0",                     // mov es, ax
                    "26 8b 1d 00 40 00 00",      // mov ebx, es:[0x4000]  (reads are fine)
                    "2e 89 1d 04 40 00 00",      // mov cs:[0x4004], ebx  (code segment: #GP)
                    "f4"));
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x77, m.cpu.r32(Cpu.EBX));
            assertEquals(0x6000 + 4 + 2 + 7, m.memory.readInt(0x2010), "#GP at the write through CS");
            assertEquals(0, m.memory.readInt(0x4004));
        }
    }

    @Test
    void noExecutePageFaultsOnFetch() {
        try (FlatMachine m = machine()) {
            protectedWithTables(m);
            pageFaultHandler(m);
            // PAE: 0-2 MiB executable, 2-4 MiB present, writable and NX (bit 63).
            m.memory.writeLong(0x12000, 0x13000 | 1);
            m.memory.writeLong(0x13000, 0x83);
            m.memory.writeLong(0x13008, 0x8000_0000_0020_0083L);
            m.memory.writeByte(0x200000, (byte) 0xF4);      // a HLT that must not run
            m.load(0x6000, asm(
                    "b9 80 00 00 c0",            // mov ecx, 0xc0000080 (EFER)
                    "0f 32",                     // rdmsr
                    "0d 00 08 00 00",            // or eax, 0x800 (NXE)
                    "0f 30",                     // wrmsr
                    "0f 20 e0",                  // mov eax, cr4
                    "83 c8 20",                  // or eax, PAE
                    "0f 22 e0",                  // mov cr4, eax
                    "b8 00 20 01 00",            // mov eax, 0x12000
                    "0f 22 d8",                  // mov cr3, eax
                    "0f 20 c0",                  // mov eax, cr0
                    "0d 00 00 00 80",            // or eax, PG
                    "0f 22 c0",                  // mov cr0, eax
                    "8b 1d 00 00 20 00",         // mov ebx, [0x200000] (reading NX memory is fine)
                    "b9 00 00 20 00",            // mov ecx, 0x200000
                    "ff e1"));                   // jmp ecx
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(0x200000, m.memory.readInt(0x2008), "CR2");
            assertEquals(0x11, m.memory.readInt(0x200C), "error code: present, instruction fetch");
            assertEquals(0x200000, m.memory.readInt(0x2010), "the fault is at the target");
            assertEquals(0xF4, m.cpu.r32(Cpu.EBX) & 0xFF);
        }
    }

    @Test
    void lockPrefixOnlyOnMemoryReadModifyWrite() {
        try (FlatMachine m = machine()) {
            m.memory.writeInt(6 * 4, 0x0000_8000);       // IVT[6] = 0000:8000
            m.load(0x8000, asm("5b", "f4"));             // pop bx (faulting IP); hlt
            m.load(0x7C00, asm(
                    "f0 01 06 00 20",            // lock add [0x2000], ax (allowed)
                    "f0 01 c0"));                // lock add ax, ax (register: #UD)
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.EAX, 5);
            m.cpu.set32(Cpu.ESP, 0x7000);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(5, m.memory.readShort(0x2000));
            assertEquals(0x7C05, m.cpu.r32(Cpu.EBX) & 0xFFFF);
        }
    }

    @Test
    void fpuDetectionSequence() {
        try (FlatMachine m = machine()) {
            m.load(0x7C00, asm(
                    "c7 06 00 20 5a 5a",         // mov word [0x2000], 0x5a5a
                    "c7 06 02 20 5a 5a",         // mov word [0x2002], 0x5a5a
                    "db e3",                     // fninit
                    "df e0",                     // fnstsw ax
                    "dd 3e 00 20",               // fnstsw [0x2000]
                    "d9 3e 02 20",               // fnstcw [0x2002]
                    "9b",                        // fwait
                    "db e4",                     // fnsetpm (a NOP)
                    "f4"));
            m.real(0, 0x7C00, 0);
            m.cpu.set32(Cpu.EAX, 0xFFFF);
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0, m.cpu.r32(Cpu.EAX) & 0xFFFF, "status word after FNINIT");
            assertEquals(0, m.memory.readShort(0x2000));
            assertEquals(0x37F, m.memory.readShort(0x2002), "control word after FNINIT");
            assertEquals(0, m.vcpu.undefinedOpcodes());
        }
    }
}
