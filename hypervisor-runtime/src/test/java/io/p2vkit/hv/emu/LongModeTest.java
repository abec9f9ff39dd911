package io.p2vkit.hv.emu;

import static io.p2vkit.hv.emu.ModeTransitionTest.asm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.emu.decode.DecodedInsn;
import io.p2vkit.hv.emu.decode.Decoder;
import org.junit.jupiter.api.Test;

/**
 * IA-32e mode entry (SDM Vol. 3 §9.8.5) and 4-level paging (§4.5): the EFER.LME/CR4.PAE/CR0.PG
 * rules, 1 GiB, 2 MiB and 4 KiB pages with their rights, NX, reserved bits and accessed/dirty
 * bits, 48-bit walks, the software TLB under INVLPG and CR3 loads, the entry into 64-bit code,
 * FS/GS bases, and the #GP that guards what is not emulated yet (IA-32e system descriptors).
 */
class LongModeTest {

    static final int PML4 = 0x10000;
    static final int PDPT = 0x11000;
    static final int PD = 0x12000;
    static final int PT = 0x13000;
    static final long NX = 1L << 63;

    static FlatMachine machine() {
        return new FlatMachine(new long[] {0, 0x400000});
    }

    /**
     * Linear 0-2 MiB through a page table (identity, but 0x30000 maps 0x31000); 2-4 MiB one
     * 2 MiB page; 1-2 GiB a 1 GiB page onto physical 0; 2-3 GiB a read-only, NX 1 GiB page onto
     * physical 0; 3-4 GiB absent. Only the PML4 entry allows user access.
     */
    static void pageTables(FlatMachine m) {
        m.memory.writeLong(PML4, PDPT | 7);
        m.memory.writeLong(PDPT, PD | 3);
        m.memory.writeLong(PDPT + 8, 0x83);
        m.memory.writeLong(PDPT + 16, 0x81 | NX);
        m.memory.writeLong(PD, PT | 3);
        m.memory.writeLong(PD + 8, 0x20_0000 | 0x83);
        for (int i = 0; i < 512; i++) {
            m.memory.writeLong(PT + i * 8, (long) i << 12 | 3);
        }
        m.memory.writeLong(PT + 0x30 * 8, 0x31000 | 3);
    }

    /** Enters IA-32e mode (compatibility mode, flat 32-bit CS) without running code. */
    static void enterCompat(FlatMachine m) {
        m.flat32();
        pageTables(m);
        m.cpu.writeCr4(Mmu.CR4_PAE);
        m.cpu.writeCr3(PML4);
        m.cpu.writeEfer(Mmu.EFER_LME | Mmu.EFER_NXE);
        m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
    }

    static CpuFault fault(Runnable r) {
        return assertThrows(CpuFault.class, r::run);
    }

    @Test
    void guestEntersCompatibilityModeAndWalksFourLevels() {
        try (FlatMachine m = machine()) {
            m.flat32();
            pageTables(m);
            m.memory.writeInt(0x4000, 0xCAFE_BABE);
            m.memory.writeInt(0x31000, 0x1234_5678);
            m.load(0x6000, asm(
                    "0f 20 e0",                  // mov eax, cr4
                    "83 c8 20",                  // or eax, 0x20 (PAE)
                    "0f 22 e0",                  // mov cr4, eax
                    "b8 00 00 01 00",            // mov eax, 0x10000
                    "0f 22 d8",                  // mov cr3, eax
                    "b9 80 00 00 c0",            // mov ecx, 0xC0000080 (EFER)
                    "0f 32",                     // rdmsr
                    "0d 00 09 00 00",            // or eax, 0x900 (NXE | LME)
                    "0f 30",                     // wrmsr
                    "0f 20 c0",                  // mov eax, cr0
                    "0d 00 00 00 80",            // or eax, PG
                    "0f 22 c0",                  // mov cr0, eax
                    "0f 32",                     // rdmsr
                    "a3 00 20 00 00",            // mov [0x2000], eax
                    "8b 1d 00 40 00 40",         // mov ebx, [0x40004000] (1 GiB page)
                    "89 1d 04 20 00 00",         // mov [0x2004], ebx
                    "8b 15 00 00 03 00",         // mov edx, [0x30000] (4 KiB page onto 0x31000)
                    "89 15 08 20 00 00",         // mov [0x2008], edx
                    "c7 05 10 00 20 00 55 00 00 00", // mov dword [0x200010], 0x55 (2 MiB page)
                    "f4"));                      // hlt
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            assertEquals(0xD00, m.memory.readInt(0x2000), "EFER: NXE, LMA, LME");
            assertTrue(m.cpu.ia32e());
            assertEquals(0xCAFE_BABE, m.memory.readInt(0x2004));
            assertEquals(0x1234_5678, m.memory.readInt(0x2008));
            assertEquals(0x55, m.memory.readInt(0x200010));
            assertEquals(0x27, m.memory.readLong(PML4) & 0xFF, "PML4E accessed");
            assertEquals(0xA3, m.memory.readLong(PDPT + 8) & 0xFF, "1 GiB page accessed, not dirty");
            assertEquals(0xE3, m.memory.readLong(PD + 8) & 0xFF, "2 MiB page accessed and dirty");
            assertEquals(0x23, m.memory.readLong(PT + 0x30 * 8) & 0xFF, "PTE accessed, not dirty");
        }
    }

    @Test
    void entryRulesOfSdm985() {
        try (FlatMachine m = machine()) {
            m.flat32();
            pageTables(m);
            m.cpu.writeCr3(PML4);
            m.cpu.writeEfer(Mmu.EFER_LME | Mmu.EFER_LMA);
            assertEquals(Mmu.EFER_LME, m.cpu.mmu.efer, "LMA is not software's to set");
            assertEquals(CpuFault.GP, fault(() -> m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG)).vector,
                    "PG with LME needs PAE");
            assertEquals(0, m.cpu.cr0() & Cpu.CR0_PG);
            assertEquals(CpuFault.GP, fault(() -> m.cpu.writeEfer(1 << 2)).vector, "a reserved EFER bit");
            m.cpu.writeCr4(Mmu.CR4_PAE);
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
            assertTrue(m.cpu.ia32e());
            assertEquals(CpuFault.GP, fault(() -> m.cpu.writeCr4(0)).vector, "PAE stays on in IA-32e mode");
            assertEquals(CpuFault.GP, fault(() -> m.cpu.writeEfer(0)).vector, "LME is fixed while paging");
            m.cpu.writeEfer(Mmu.EFER_LME | Mmu.EFER_NXE);
            assertTrue(m.cpu.ia32e(), "NXE may change; LMA is kept");
            m.cpu.writeCr0(m.cpu.cr0() & ~Cpu.CR0_PG);
            assertEquals(Mmu.EFER_LME | Mmu.EFER_NXE, m.cpu.mmu.efer, "clearing PG leaves IA-32e mode");
            m.cpu.writeEfer(0);
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_PG);
            assertEquals(0, m.cpu.mmu.efer, "PAE paging without LME stays legacy");
        }
    }

    @Test
    void registerFileIs64BitsWide() {
        try (FlatMachine m = machine()) {
            Cpu c = m.cpu;
            c.r[15] = 0x1122_3344_5566_7788L;
            c.r[Cpu.EAX] = 0xFFFF_FFFF_FFFF_FFFFL;
            c.setReg(Cpu.EAX, 2, 0x3400);
            c.setReg(Cpu.EAX, 1, 0x12);
            assertEquals(0xFFFF_FFFF_FFFF_3412L, c.r[Cpu.EAX], "8- and 16-bit writes keep bits 16-63");
            c.r[Cpu.ECX] = 0xAAAA_AAAA_0000_0000L;
            c.setReg(4 + Cpu.ECX, 1, 0x56);             // CH
            assertEquals(0xAAAA_AAAA_0000_5600L, c.r[Cpu.ECX]);
            c.setReg(Cpu.EAX, 4, 0x8000_0000);
            assertEquals(0x8000_0000L, c.r[Cpu.EAX], "a 32-bit write zero-extends");
            c.set32(Cpu.EDX, -1);
            assertEquals(0xFFFF_FFFFL, c.r[Cpu.EDX]);
            assertEquals(-1, c.r32(Cpu.EDX));
            assertEquals(0x1122_3344_5566_7788L, c.r[15]);
        }
    }

    @Test
    void cpuidClaimsLongModeAndNamesItself() {
        try (FlatMachine m = machine()) {
            m.cpu.set32(Cpu.EAX, 0x8000_0000);
            Cpuid.execute(m.cpu);
            assertEquals(0x8000_0008, m.cpu.r32(Cpu.EAX));
            m.cpu.set32(Cpu.EAX, 0x8000_0001);
            Cpuid.execute(m.cpu);
            assertEquals(1 << 29 | 1 << 20 | 1 << 11, m.cpu.r32(Cpu.EDX), "LM, NX, SYSCALL");
            StringBuilder brand = new StringBuilder();
            for (int leaf = 0x8000_0002; leaf <= 0x8000_0004; leaf++) {
                m.cpu.set32(Cpu.EAX, leaf);
                Cpuid.execute(m.cpu);
                for (int reg : new int[] {Cpu.EAX, Cpu.EBX, Cpu.ECX, Cpu.EDX}) {
                    for (int i = 0; i < 4; i++) {
                        brand.append((char) ((m.cpu.r32(reg) >>> (8 * i)) & 0xFF));
                    }
                }
            }
            assertTrue(brand.toString().startsWith("p2vkit emu x86-64\0"), brand.toString());
            m.cpu.set32(Cpu.EAX, 0x8000_0008);
            Cpuid.execute(m.cpu);
            assertEquals(0x3034, m.cpu.r32(Cpu.EAX), "48-bit linear, 52-bit physical");
            m.cpu.set32(Cpu.EAX, 7);
            m.cpu.set32(Cpu.ECX, 0);
            Cpuid.execute(m.cpu);
            assertEquals(1 << 29, m.cpu.r32(Cpu.EDX), "IA32_ARCH_CAPABILITIES exists");
            m.cpu.set32(Cpu.EAX, 0x15);
            Cpuid.execute(m.cpu);
            assertEquals(1_000_000_000L, (long) m.cpu.r32(Cpu.ECX) * m.cpu.r32(Cpu.EBX) / m.cpu.r32(Cpu.EAX),
                    "leaf 0x15 states the TSC rate RDTSC counts at");
            m.cpu.set32(Cpu.EAX, 7);
            m.cpu.set32(Cpu.ECX, 0);
            Cpuid.execute(m.cpu);
            assertEquals(2, m.cpu.r32(Cpu.EBX) & 2, "IA32_TSC_ADJUST exists");
            m.cpu.set32(Cpu.ECX, SystemOps.MSR_TSC_ADJUST);
            m.cpu.set32(Cpu.EAX, 1_000_000);
            m.cpu.set32(Cpu.EDX, 0);
            long before = SystemOps.tsc(m.cpu);
            SystemOps.wrmsr(m.cpu, null);
            assertTrue(SystemOps.tsc(m.cpu) - before >= 1_000_000, "writing TSC_ADJUST moves the TSC");
            m.cpu.set32(Cpu.ECX, SystemOps.MSR_TSC);
            m.cpu.set32(Cpu.EAX, 0);
            SystemOps.wrmsr(m.cpu, null);
            m.cpu.set32(Cpu.ECX, SystemOps.MSR_TSC_ADJUST);
            SystemOps.rdmsr(m.cpu, null);
            assertTrue(m.cpu.r[Cpu.EDX] != 0, "writing the TSC moves TSC_ADJUST (down, below zero)");
            m.cpu.set32(Cpu.ECX, Cpuid.MSR_ARCH_CAPABILITIES);
            SystemOps.rdmsr(m.cpu, null);
            assertEquals(1, m.cpu.r32(Cpu.EAX) & 1, "RDCL_NO: no Meltdown, no page-table isolation");
        }
    }

    /** Compatibility mode with 0x4444, 0x5555 and 0x7777 at physical 0x4000, 0x5000 and 0x7000; the MMU. */
    private static Mmu threeMarkedPages(FlatMachine m) {
        enterCompat(m);
        m.memory.writeInt(0x4000, 0x4444);
        m.memory.writeInt(0x5000, 0x5555);
        m.memory.writeInt(0x7000, 0x7777);
        return m.cpu.mmu;
    }

    @Test
    void aCr3LoadKeepsGlobalTranslationsOnlyWhileCr4PgeIsSet() {
        try (FlatMachine m = machine()) {
            Mmu mmu = threeMarkedPages(m);
            m.memory.writeLong(PT + 4 * 8, 0x4000 | 0x103);   // linear 0x4000: global
            m.memory.writeLong(PT + 5 * 8, 0x5000 | 3);       // linear 0x5000: not global
            m.cpu.writeCr4(Mmu.CR4_PAE | Mmu.CR4_PGE);
            assertEquals(0x4444, mmu.read32(0x4000L));
            assertEquals(0x5555, mmu.read32(0x5000L));
            // Both now map 0x7000 in memory; only a new walk sees that.
            m.memory.writeLong(PT + 4 * 8, 0x7000 | 0x103);
            m.memory.writeLong(PT + 5 * 8, 0x7000 | 3);
            m.cpu.writeCr3(PML4);
            assertEquals(0x4444, mmu.read32(0x4000L), "the global translation survived the CR3 load");
            assertEquals(0x7777, mmu.read32(0x5000L), "the other one was walked again");
            m.cpu.writeCr4(Mmu.CR4_PAE);                        // clearing PGE flushes globals too
            assertEquals(0x7777, mmu.read32(0x4000L));
            m.memory.writeLong(PT + 4 * 8, 0x4000 | 0x103);
            m.cpu.writeCr3(PML4);
            assertEquals(0x4444, mmu.read32(0x4000L), "without PGE a CR3 load drops it");
        }
    }

    @Test
    void aTranslationMadeAtCpl0NeverServesCpl3() {
        // The TLB is not flushed when the privilege changes: an entry filled with supervisor
        // rights must still not let user code read a supervisor page.
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            m.memory.writeInt(0x6000, 0x1234_5678);
            assertEquals(0x1234_5678, mmu.read32(0x6000L), "CPL 0 reads its page (and fills the TLB)");
            m.cpu.setCpl(3);
            CpuFault f = fault(() -> mmu.read32(0x6000L));
            assertEquals(CpuFault.PF, f.vector);
            assertEquals(0x05, f.errorCode, "present, user read");
            assertEquals(0x05, fault(() -> mmu.fetch8(0x6000L)).errorCode & 0x05, "nor fetch it");
            m.cpu.setCpl(0);
            assertEquals(0x1234_5678, mmu.read32(0x6000L), "back at CPL 0 the page reads again");
        }
    }

    @Test
    void rightsNxReservedBitsAndAbsentEntries() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            CpuFault f = fault(() -> mmu.translate(0x8000_1000, Mmu.ACCESS_FETCH, false));
            assertEquals(CpuFault.PF, f.vector);
            assertEquals(0x11, f.errorCode, "present, instruction fetch");
            assertEquals(0x8000_1000L, mmu.faultAddress, "an int linear address is zero-extended");
            assertEquals(0x1000, mmu.translate(0x8000_1000, Mmu.ACCESS_WRITE, false),
                    "supervisor writes ignore R/W while CR0.WP = 0");
            m.cpu.writeCr0(m.cpu.cr0() | Cpu.CR0_WP);
            assertEquals(0x03, fault(() -> mmu.translate(0x8000_1000, Mmu.ACCESS_WRITE, false)).errorCode);
            assertEquals(0x05, fault(() -> mmu.translate(0x6000, Mmu.ACCESS_READ, true)).errorCode,
                    "U/S clear in the PDPTE denies user access though the PML4E allows it");
            assertEquals(0x10, fault(() -> mmu.translate(0xC000_0000, Mmu.ACCESS_FETCH, false)).errorCode,
                    "absent PDPTE");
            m.memory.writeLong(PDPT + 24, 0x83 | 1 << 13);
            mmu.flush();
            assertEquals(0x09, fault(() -> mmu.translate(0xC000_0000, Mmu.ACCESS_READ, false)).errorCode,
                    "bit 13 of a 1 GiB page is reserved");
            assertEquals(0x19, fault(() -> mmu.translate(0xC000_0000, Mmu.ACCESS_FETCH, false)).errorCode,
                    "a reserved-bit fault on a fetch has I/D set when NXE is on");
            m.memory.writeLong(PDPT + 24, 0x83 | NX);
            m.cpu.writeEfer(Mmu.EFER_LME);
            assertEquals(0x09, fault(() -> mmu.translate(0xC000_0000, Mmu.ACCESS_READ, false)).errorCode,
                    "XD is reserved without EFER.NXE");
            assertEquals(0x09, fault(() -> mmu.translate(0x8000_1000, Mmu.ACCESS_FETCH, false)).errorCode,
                    "the NX 2-3 GiB page too; no I/D bit without NXE");
            assertEquals(0x1000, mmu.translate(0x4000_1000, Mmu.ACCESS_FETCH, false));
        }
    }

    @Test
    void walkUsesAll48BitsOfTheLinearAddress() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            // PML4[0xFF] -> PDPT 0x14000 [0] -> PD 0x15000 [0]: a 2 MiB page at 0x200000.
            m.memory.writeLong(PML4 + 0xFF * 8, 0x14000 | 3);
            m.memory.writeLong(0x14000, 0x15000 | 3);
            m.memory.writeLong(0x15000, 0x20_0000 | 0x83);
            // PML4[0x100] (the first upper-half entry) -> PDPT 0x16000 [0]: a 1 GiB page at 0.
            m.memory.writeLong(PML4 + 0x100 * 8, 0x16000 | 3);
            m.memory.writeLong(0x16000, 0x83);
            m.memory.writeInt(0x1000, 0x1111);
            m.memory.writeInt(0x20_1000, 0x2222);
            m.memory.writeInt(0x3000, 0x3333);
            assertEquals(0x20_1000L, mmu.translate(0x7F80_0000_1000L, Mmu.ACCESS_READ, false));
            assertEquals(0x3000L, mmu.translate(0xFFFF_8000_0000_3000L, Mmu.ACCESS_READ, false));
            // 0x1000 and 0x7F8000001000 share a TLB slot: the tag must tell them apart.
            assertEquals(0x1111, mmu.read32(0x1000));
            assertEquals(0x2222, mmu.read32(0x7F80_0000_1000L));
            assertEquals(0x1111, mmu.read32(0x1000));
            assertEquals(0x3333, mmu.read32(0xFFFF_8000_0000_3000L));
            CpuFault f = fault(() -> mmu.read32(0x7F80_0020_0000L));
            assertEquals(0, f.errorCode, "PD[1] of that table is absent");
            assertEquals(0x7F80_0020_0000L, mmu.faultAddress);
        }
    }

    @Test
    void sixtyFourBitAccessesWithinAndAcrossPages() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            mmu.write64(0x5008, 0x8877_6655_4433_2211L);
            assertEquals(0x8877_6655_4433_2211L, mmu.read64(0x5008));
            assertEquals(0x4433_2211, m.memory.readInt(0x5008));
            mmu.write64(0x5FFC, 0x0102_0304_0506_0708L);    // across 0x6000
            assertEquals(0x0102_0304_0506_0708L, mmu.read64(0x5FFC));
            assertEquals(0x0102_0304, m.memory.readInt(0x6000));
            m.memory.writeLong(PT + 0x41 * 8, 0);              // 0x41000 absent
            mmu.flush();
            m.memory.writeInt(0x40FFC, 0x5A5A_5A5A);
            CpuFault f = fault(() -> mmu.write64(0x40FFC, -1L));
            assertEquals(0x02, f.errorCode, "not present, write");
            assertEquals(0x41L, mmu.faultAddress >>> 12, "CR2 is on the absent page");
            assertEquals(0x5A5A_5A5A, m.memory.readInt(0x40FFC), "the first half was not written");
            assertEquals(0x00, fault(() -> mmu.read64(0x40FFC)).errorCode, "not present, read");
        }
    }

    @Test
    void aCr3LoadDropsEveryNonGlobalEntryFilledSinceTheLastOne() {
        // CR3 loads drop the entries listed as filled without G since the last: refilled after a
        // load, and a slot filled global then non-global, must be dropped by the next one too.
        try (FlatMachine m = machine()) {
            Mmu mmu = threeMarkedPages(m);
            m.cpu.writeCr4(Mmu.CR4_PAE | Mmu.CR4_PGE);
            m.memory.writeLong(PT + 5 * 8, 0x5000 | 3);       // linear 0x5000: not global
            m.memory.writeLong(PT + 4 * 8, 0x4000 | 0x103);   // linear 0x4000: global, for now
            for (int round = 0; round < 3; round++) {
                assertEquals(0x5555, mmu.read32(0x5000L));
                m.memory.writeLong(PT + 5 * 8, 0x7000 | 3);
                m.cpu.writeCr3(PML4);
                assertEquals(0x7777, mmu.read32(0x5000L), "round " + round + ": walked again after the CR3 load");
                m.memory.writeLong(PT + 5 * 8, 0x5000 | 3);
                m.cpu.writeCr3(PML4);
            }
            assertEquals(0x4444, mmu.read32(0x4000L));
            m.memory.writeLong(PT + 4 * 8, 0x5000 | 3);       // 0x4000 now maps 0x5000, not global
            mmu.flushPage(0x4000);
            assertEquals(0x5555, mmu.read32(0x4000L));
            m.memory.writeLong(PT + 4 * 8, 0x7000 | 3);
            m.cpu.writeCr3(PML4);
            assertEquals(0x7777, mmu.read32(0x4000L), "the slot's non-global refill went with the CR3 load");
        }
    }

    @Test
    void tlbFollowsInvlpgAndCr3Loads() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            m.memory.writeInt(0x31000, 1);
            m.memory.writeInt(0x32000, 2);
            m.memory.writeInt(0x34000, 4);
            m.memory.writeInt(0x35000, 5);
            assertEquals(1, mmu.read32(0x30000));
            assertEquals(4, mmu.read32(0x34000));
            m.memory.writeLong(PT + 0x30 * 8, 0x32000 | 3);
            m.memory.writeLong(PT + 0x34 * 8, 0x35000 | 3);
            mmu.flushPage(0x30000);
            assertEquals(2, mmu.read32(0x30000), "INVLPG dropped the entry");
            assertEquals(4, mmu.read32(0x34000), "only that one: no large page was cached");
            m.cpu.writeCr3(PML4);
            assertEquals(5, mmu.read32(0x34000), "a CR3 load drops every entry");

            mmu.write32(0x20_0010, 0x55);
            assertEquals(0x55, mmu.read32(0x20_0010));
            m.memory.writeLong(PD + 8, 0);
            mmu.flushPage(0x3F_F000);
            CpuFault f = fault(() -> mmu.read32(0x20_0010));
            assertEquals(0, f.errorCode, "INVLPG anywhere in a 2 MiB page drops all of it");
        }
    }

    @Test
    void invlpgNearLargePagesDropsTheirWindowAndNoMore() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            m.memory.writeLong(PD + 16, 0x14000 | 3);        // 4-6 MiB: a page table, 4 MiB onto 0x34000
            m.memory.writeLong(0x14000, 0x34000 | 3);
            m.memory.writeInt(0x34000, 4);
            m.memory.writeInt(0x35000, 5);
            assertEquals(4, mmu.read32(0x40_0000));
            mmu.write32(0x20_0010, 0x55);                     // through the 2 MiB page
            m.memory.writeLong(0x14000, 0x35000 | 3);
            m.memory.writeLong(PD + 8, 0);
            mmu.flushPage(0x3F_F000);
            assertEquals(0, fault(() -> mmu.read32(0x20_0010)).errorCode, "the 2 MiB page went");
            assertEquals(4, mmu.read32(0x40_0000), "a page beyond the 4 MiB window stayed cached");
            mmu.flushPage(0x40_0000);
            assertEquals(5, mmu.read32(0x40_0000));

            assertEquals(5, mmu.read32(0x4003_5000L));        // through the 1 GiB page onto 0
            m.memory.writeLong(PDPT + 8, 0);
            mmu.flushPage(0x7FFF_F000L);
            assertEquals(0, fault(() -> mmu.read32(0x4003_5000L)).errorCode,
                    "INVLPG anywhere in a 1 GiB page drops all of it");
        }
    }

    @Test
    void invlpgInAWindowWithoutLargePagesDropsOnlyItsOwnPage() {
        // A 2 MiB page is cached in the 0-4 MiB window; 4-8 MiB goes through a page table. An
        // INVLPG there drops the page named and leaves its neighbour cached (stale, as a TLB may).
        try (FlatMachine m = machine()) {
            enterCompat(m);
            Mmu mmu = m.cpu.mmu;
            m.memory.writeLong(PD + 16, 0x14000 | 3);
            m.memory.writeLong(0x14000, 0x34000 | 3);
            m.memory.writeLong(0x14008, 0x35000 | 3);
            m.memory.writeInt(0x34000, 4);
            m.memory.writeInt(0x35000, 5);
            mmu.write32(0x20_0010, 0x55);                     // through the 2 MiB page
            assertEquals(4, mmu.read32(0x40_0000));
            assertEquals(5, mmu.read32(0x40_1000));
            m.memory.writeLong(0x14000, 0x35000 | 3);         // the two pages swap frames
            m.memory.writeLong(0x14008, 0x34000 | 3);
            mmu.flushPage(0x40_0000);
            assertEquals(5, mmu.read32(0x40_0000), "the page named went");
            assertEquals(5, mmu.read32(0x40_1000), "its neighbour stayed cached");
            mmu.flushPage(0x20_1000);
            mmu.flushPage(0x40_1000);
            assertEquals(4, mmu.read32(0x40_1000));
        }
    }

    /** Runs LAR or LSL eax, ebx on {@code sel}: the ZF result and EAX (0xDEAD when unloaded). */
    static String larLsl(FlatMachine m, boolean lar, int sel) {
        m.load(0x6000, asm(lar ? "0f 02 c3" : "0f 03 c3"));
        m.cpu.eip = 0x6000;
        m.cpu.set32(Cpu.EBX, sel);
        m.cpu.set32(Cpu.EAX, 0xDEAD);
        assertEquals(Vcpu.Stop.REQUESTED, m.vcpu.run(1), m.vcpu.stopReason());
        return ((m.cpu.eflags() & Flags.ZF) != 0 ? "ok " : "no ") + Integer.toHexString(m.cpu.r32(Cpu.EAX));
    }

    @Test
    void larAndLslUseTheIa32eTypeTables() {
        try (FlatMachine m = machine()) {
            m.memory.writeLong(0x1018, 0x0000_8C00_0008_6000L);  // 64-bit call gate (low half)
            m.memory.writeLong(0x1020, 0);                       // its upper half: type 0
            m.memory.writeLong(0x1028, 0x0000_8200_5000_00FFL);  // LDT, limit 0xFF
            m.memory.writeLong(0x1030, 0x0000_8900_6000_0067L);  // available 64-bit TSS, limit 0x67
            m.memory.writeLong(0x1040, 0x0000_8100_7000_002BL);  // type 1 (16-bit TSS in legacy mode)
            m.flat32();
            m.cpu.gdtBase = 0x1000;
            m.cpu.gdtLimit = 0x47;
            assertEquals("ok 8200", larLsl(m, true, 0x28), "legacy protected mode: LAR takes an LDT");
            assertEquals("ok 8100", larLsl(m, true, 0x40));
            enterCompat(m);
            assertEquals("ok 8c00", larLsl(m, true, 0x18));
            assertEquals("no dead", larLsl(m, true, 0x20));
            assertEquals("no dead", larLsl(m, true, 0x28));
            assertEquals("ok 8900", larLsl(m, true, 0x30));
            assertEquals("no dead", larLsl(m, true, 0x40));
            assertEquals("no dead", larLsl(m, false, 0x18));
            assertEquals("ok 0", larLsl(m, false, 0x20));
            assertEquals("ok ff", larLsl(m, false, 0x28));
            assertEquals("ok 67", larLsl(m, false, 0x30));
            assertEquals("no dead", larLsl(m, false, 0x40));
        }
    }

    @Test
    void ia32eLdtAndTssMustBe16ByteDescriptors() {
        try (FlatMachine m = machine()) {
            m.memory.writeLong(0x1008, 0x00CF_9A00_0000_FFFFL);  // 32-bit code
            m.memory.writeLong(0x1018, 0x00AF_9A00_0000_FFFFL);  // 64-bit code
            m.memory.writeLong(0x1028, 0x0000_8200_5000_00FFL);  // LDT
            m.memory.writeLong(0x1030, 0x0000_8900_6000_0067L);  // TSS, whose upper half is...
            m.memory.writeLong(0x1038, 0x0000_8900_6000_0067L);  // ...not a type-0 upper half
            enterCompat(m);
            m.cpu.gdtBase = 0x1000;
            m.cpu.gdtLimit = 0x3F;
            Segments.checkReturnTarget(m.cpu, 0x18); // RETF/IRET may return to 64-bit code
            Segments.checkReturnTarget(m.cpu, 0x08);
            long undefined = m.cpu.undefinedOpcodes;
            m.cpu.set32(Cpu.EAX, 0x28);
            DecodedInsn lldt = Decoder.decode(i -> new int[] {0x0F, 0x00, 0xD0}[i], true);
            assertEquals(0x28, fault(() -> SystemOps.group6(m.cpu, lldt)).errorCode);
            assertEquals(0, m.cpu.ldtSel);
            assertEquals(undefined, m.cpu.undefinedOpcodes, "a 16-byte LDT descriptor whose upper half is not type 0");
            m.cpu.set32(Cpu.EAX, 0x30);
            DecodedInsn ltr = Decoder.decode(i -> new int[] {0x0F, 0x00, 0xD8}[i], true);
            assertEquals(0x30, fault(() -> SystemOps.group6(m.cpu, ltr)).errorCode);
            assertEquals(0, m.cpu.trSel);
            assertEquals(0x89, m.memory.readLong(0x1030) >>> 40 & 0xFF, "the TSS is not marked busy");
            m.memory.writeLong(0x1038, 0x0000_0000_0000_0001L);  // upper half: base 63:32 = 1
            SystemOps.group6(m.cpu, ltr);
            assertEquals(0x1_0000_6000L, m.cpu.trBase64);
            assertEquals(0x8B, m.memory.readLong(0x1030) >>> 40 & 0xFF, "marked busy");
        }
    }

    @Test
    void pagingCannotBeTurnedOffFrom64BitCode() {
        try (FlatMachine m = machine()) {
            enterCompat(m);
            // No instruction loads a CS with L = 1 yet; the cache is loaded directly.
            m.cpu.setSegmentCache(Cpu.CS, 0x18, 0, -1, FlatMachine.FLAT_CODE32 & ~Cpu.ATTR_DB | Cpu.ATTR_L);
            assertTrue(m.cpu.longMode64());
            assertEquals(CpuFault.GP, fault(() -> m.cpu.writeCr0(m.cpu.cr0() & ~Cpu.CR0_PG)).vector);
            assertTrue(m.cpu.ia32e());
        }
    }

    @Test
    void farJumpToALongCodeSegmentEnters64BitMode() {
        try (FlatMachine m = machine()) {
            m.memory.writeLong(0x1000, 0);
            m.memory.writeLong(0x1008, 0x00CF_9A00_0000_FFFFL);  // 32-bit code
            m.memory.writeLong(0x1010, 0x00CF_9200_0000_FFFFL);  // data
            m.memory.writeLong(0x1018, 0x00AF_9A00_0000_FFFFL);  // 64-bit code (L = 1)
            m.memory.writeLong(0x1020, 0x0000_8C00_0008_6000L);  // 32-bit call gate
            m.memory.writeLong(0x1028, 0x00EF_9A00_0000_FFFFL);  // L = 1 with D = 1: reserved
            enterCompat(m);
            m.cpu.gdtBase = 0x1000;
            m.cpu.gdtLimit = 0x2F;
            long gate = Segments.checkFarTarget(m.cpu, 0x20);
            assertEquals(0x20, fault(() -> CallGates64.transfer(m.cpu, 0x20, gate, false)).errorCode,
                    "IA-32e call gates are 16 bytes: this one's upper half (0x28) is not of type 0");
            assertEquals(0x28, fault(() -> Segments.checkFarTarget(m.cpu, 0x28)).errorCode);
            m.load(0x6000, asm("ea 00 70 00 00 18 00"));  // jmp 0x18:0x7000
            m.load(0x7000, asm(
                    "48 b8 88 77 66 55 44 33 22 11",       // mov rax, 0x1122334455667788
                    "49 89 c7",                            // mov r15, rax
                    "41 83 c7 01",                         // add r15d, 1 (zero-extends)
                    "f4"));                                // hlt
            m.cpu.eip = 0x6000;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(10), m.vcpu.stopReason());
            assertTrue(m.cpu.mode64);
            assertEquals(0x7000 + 10 + 3 + 4 + 1, m.cpu.rip);
            assertEquals(0x1122_3344_5566_7788L, m.cpu.r[Cpu.EAX]);
            assertEquals(0x5566_7789L, m.cpu.r[15]);
        }
    }

    @Test
    void repStosqRestartsItselfAfterEachChunk() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            long start = NativeHarness64.CODE;
            m.load(start, asm("fd", "f3 48 ab", "f4"));  // std; rep stosq (backwards: element-wise); hlt
            m.cpu.r[Cpu.EAX] = 0x0102_0304_0506_0708L;
            m.cpu.r[Cpu.ECX] = 5000;
            m.cpu.r[Cpu.EDI] = RandomProgram.SCRATCH + 4999 * 8L;
            m.cpu.rip = start;
            m.cpu.eip = (int) start;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0, m.cpu.r[Cpu.ECX]);
            assertEquals(RandomProgram.SCRATCH - 8L, m.cpu.r[Cpu.EDI]);
            assertEquals(0x0102_0304_0506_0708L, m.memory.readLong(RandomProgram.SCRATCH));
            assertEquals(4, m.cpu.retired, "STD, 4096 elements, then the remaining 904, then HLT");
        }
    }

    @Test
    void forwardRepMovsqAndStosqWorkAPageAtATime() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            long start = NativeHarness64.CODE;
            long src = RandomProgram.SCRATCH + 0xA000;
            for (int i = 0; i < 3000; i++) {
                m.memory.writeLong(src + i * 8L, i * 0x1_0001_0001L);
            }
            m.load(start, asm(
                    "f3 48 a5",                            // rep movsq
                    "48 89 c1",                            // mov rcx, rax (0x800)
                    "48 b8 11 22 33 44 55 66 77 88",       // mov rax, 0x8877665544332211
                    "f3 48 ab",                            // rep stosq
                    "f4"));                                // hlt
            m.cpu.r[Cpu.EAX] = 0x800;
            m.cpu.r[Cpu.ECX] = 3000;
            m.cpu.r[Cpu.ESI] = src;
            m.cpu.r[Cpu.EDI] = RandomProgram.SCRATCH + 4;   // unaligned: pages end mid-element
            m.cpu.rip = start;
            m.cpu.eip = (int) start;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(1000), m.vcpu.stopReason());
            for (int i = 0; i < 3000; i++) {
                assertEquals(i * 0x1_0001_0001L, m.memory.readLong(RandomProgram.SCRATCH + 4 + i * 8L), "element " + i);
            }
            long after = RandomProgram.SCRATCH + 4 + 3000 * 8L;
            assertEquals(after + 0x800 * 8L, m.cpu.r[Cpu.EDI]);
            assertEquals(src + 3000 * 8L, m.cpu.r[Cpu.ESI]);
            assertEquals(0x8877_6655_4433_2211L, m.memory.readLong(after + 0x7FF * 8L));
            assertEquals(0, m.memory.readLong(after + 0x800 * 8L));
        }
    }

    @Test
    void fsAndGsBasesFromMsrsAndSwapgs() {
        try (FlatMachine m = NativeDifferential64Test.machine64()) {
            m.memory.writeLong(0x2000 + 4 * 8, 0x83);   // linear 4-5 GiB -> physical 0 (1 GiB page)
            m.memory.writeLong(RandomProgram.SCRATCH, 0x1111_2222_3333_4444L);
            m.memory.writeLong(RandomProgram.SCRATCH + 8, 0x5555_6666_7777_8888L);
            long start = NativeHarness64.CODE;
            m.load(start, asm(
                    "b9 00 01 00 c0",                  // mov ecx, IA32_FS_BASE
                    "b8 00 00 00 10",                  // mov eax, 0x10000000
                    "ba 01 00 00 00",                  // mov edx, 1 (base 0x110000000: above 4 GiB)
                    "0f 30",                           // wrmsr
                    "64 48 8b 34 25 00 00 00 00",      // mov rsi, fs:[0]
                    "0f 01 f8",                        // swapgs
                    "65 48 8b 3c 25 08 00 00 00",      // mov rdi, gs:[8]
                    "b9 01 01 00 c0",                  // mov ecx, IA32_GS_BASE
                    "0f 32",                           // rdmsr
                    "f4"));
            m.cpu.kernelGsBase = RandomProgram.SCRATCH;
            m.cpu.rip = start;
            m.cpu.eip = (int) start;
            assertEquals(Vcpu.Stop.SHUTDOWN, m.vcpu.run(100), m.vcpu.stopReason());
            assertEquals(0x1_1000_0000L, m.cpu.fsBase);
            assertEquals(0x1111_2222_3333_4444L, m.cpu.r[Cpu.ESI]);
            assertEquals(0x5555_6666_7777_8888L, m.cpu.r[Cpu.EDI]);
            assertEquals(0L, m.cpu.kernelGsBase, "SWAPGS exchanged the two bases");
            assertEquals(RandomProgram.SCRATCH, m.cpu.r[Cpu.EAX], "RDMSR IA32_GS_BASE, zero-extended");
            assertEquals(0L, m.cpu.r[Cpu.EDX]);
            m.cpu.set32(Cpu.ECX, SystemOps.MSR_FS_BASE);
            m.cpu.set32(Cpu.EDX, 0x0000_8000);                 // 0x0000800000000000: not canonical
            m.cpu.set32(Cpu.EAX, 0);
            assertEquals(CpuFault.GP, fault(() -> SystemOps.wrmsr(m.cpu, null)).vector);
            assertEquals(0x1_1000_0000L, m.cpu.fsBase);
        }
    }
}
