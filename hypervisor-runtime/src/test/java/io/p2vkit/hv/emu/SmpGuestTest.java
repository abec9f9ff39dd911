package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.device.ApicBus;
import io.p2vkit.hv.device.Clock;
import io.p2vkit.hv.device.LocalApic;
import io.p2vkit.hv.memory.GuestMemory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two emulated vCPUs on shared memory: the BSP (set up in flat 32-bit protected mode) wakes the
 * AP with INIT and a start-up IPI through its local APIC; the AP enters protected mode from its
 * real-mode start-up page. Both then increment two shared counters many times, one with LOCK
 * XADD and one with a LOCK CMPXCHG retry loop, and the totals must be exact. Finally the AP
 * halts with interrupts enabled and a fixed IPI wakes it into its handler. And code one vCPU
 * rewrites reaches the other vCPU that is running it.
 */
class SmpGuestTest {

    private static final int ROUNDS = 300_000;
    private static final long XADD_COUNTER = 0x3000;
    private static final long CMPXCHG_COUNTER = 0x3004;
    private static final long AP_DONE = 0x3008;
    private static final long IPI_SEEN = 0x3010;

    /** ECX rounds of LOCK XADD [0x3000] and a LOCK CMPXCHG increment of [0x3004]. */
    private static String countingLoop() {
        return "B9 " + le32(ROUNDS)
                + " B8 01 00 00 00"             // L: mov eax, 1
                + " F0 0F C1 05 00 30 00 00"    // lock xadd [0x3000], eax
                + " A1 04 30 00 00"             // C: mov eax, [0x3004]
                + " 8D 50 01"                   // lea edx, [eax + 1]
                + " F0 0F B1 15 04 30 00 00"    // lock cmpxchg [0x3004], edx
                + " 75 EE"                      // jnz C
                + " 49"                         // dec ecx
                + " 75 DE";                     // jnz L
    }

    private static String le32(int v) {
        return String.format("%02X %02X %02X %02X", v & 0xFF, (v >>> 8) & 0xFF, (v >>> 16) & 0xFF, v >>> 24);
    }

    /** Flat 32-bit protected mode at CPL 0, starting at {@code eip}. */
    private static void flat32(EmuVcpu vcpu, int eip) {
        Cpu cpu = vcpu.cpu();
        cpu.mmu.cr0 |= Cpu.CR0_PE;
        cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FlatMachine.FLAT_CODE32);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.setSegmentCache(s, 0x10, 0, -1, FlatMachine.FLAT_DATA32);
        }
        cpu.mmu.flush();
        cpu.eip = eip;
    }

    @Test
    void codeRewrittenByOneVcpuIsSeenByTheOneRunningIt() throws Exception {
        GuestMemory memory = new GuestMemory();
        memory.add("ram", 0, 0x10_0000, false);
        Bus bus = new Bus();
        ApicBus apicBus = new ApicBus();
        var factory = new EmuVcpus().withApics(memory, bus, 2);
        // Both start running at once (two "BSP" flags): this test is about memory, not start-up.
        EmuVcpu runner = (EmuVcpu) factory.create(0, new LocalApic(0, true, apicBus, null, Clock.SYSTEM));
        EmuVcpu writer = (EmuVcpu) factory.create(1, new LocalApic(1, true, apicBus, null, Clock.SYSTEM));
        memory.load(0x5000, FlatMachine.hex(
                "B8 01 00 00 00"          // L: mov eax, 1
                + " A3 00 30 00 00"       // mov [0x3000], eax
                + " EB F4"));             // jmp L
        memory.load(0x6000, FlatMachine.hex(
                "83 3D 00 30 00 00 01"    // W: cmp dword [0x3000], 1   (the runner is running)
                + " 75 F7"                // jne W
                + " C6 05 01 50 00 00 02" // mov byte [0x5001], 2       (now it stores 2)
                + " FA F4"));             // cli; hlt
        flat32(runner, 0x5000);
        flat32(writer, 0x6000);
        Thread t1 = Thread.ofPlatform().start(runner::run);
        try {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (memory.readInt(0x3000) != 1 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            Thread t2 = Thread.ofPlatform().start(writer::run);
            while (memory.readInt(0x3000) != 2 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(2, memory.readInt(0x3000), "the runner executes the rewritten MOV; " + runner.stopReason());
            writer.requestStop();
            t2.join(5000);
        } finally {
            runner.requestStop();
            t1.join(5000);
            memory.close();
        }
    }

    @Test
    void lockedIncrementsFromTwoVcpusAddUpAndAnIpiWakesTheHaltedAp() throws Exception {
        GuestMemory memory = new GuestMemory();
        memory.add("ram", 0, 0x10_0000, false);
        Bus bus = new Bus();
        ApicBus apicBus = new ApicBus();
        LocalApic bspApic = new LocalApic(0, true, apicBus, null, Clock.SYSTEM);
        LocalApic apApic = new LocalApic(1, false, apicBus, null, Clock.SYSTEM);
        var factory = new EmuVcpus().withApics(memory, bus, 2);
        EmuVcpu bsp = (EmuVcpu) factory.create(0, bspApic);
        EmuVcpu ap = (EmuVcpu) factory.create(1, apApic);
        assertTrue(ap.waitingForStartup(), "an AP waits for its start-up IPI");

        // The AP's start-up page (vector 1): real mode, load a GDT and IDT, enter protected mode.
        memory.load(0x1000, FlatMachine.hex(
                "0F 01 16 00 11"                // lgdt [0x1100]
                + " 0F 20 C0 0C 01 0F 22 C0"    // mov eax, cr0; or al, 1; mov cr0, eax
                + " EA 00 12 08 00"));          // jmp 0x08:0x1200
        memory.load(0x1100, FlatMachine.hex("17 00 20 11 00 00"));             // GDTR: 3 entries at 0x1120
        memory.load(0x1110, FlatMachine.hex("07 02 00 14 00 00"));             // IDTR: vectors 0-0x40 at 0x1400
        memory.load(0x1120, FlatMachine.hex("00 00 00 00 00 00 00 00"
                + " FF FF 00 00 00 9A CF 00 FF FF 00 00 00 92 CF 00"));         // flat code 0x08, data 0x10
        memory.load(0x1600, FlatMachine.hex("00 13 08 00 00 8E 00 00"));       // vector 0x40: gate to 0x1300
        memory.load(0x1200, FlatMachine.hex(
                "B8 10 00 00 00 8E D8 8E C0 8E D0"   // mov eax, 0x10; mov ds/es/ss, ax
                + " BC 00 80 00 00"                   // mov esp, 0x8000
                + " 0F 01 1D 10 11 00 00"             // lidt [0x1110]
                + " C7 05 F0 00 E0 FE FF 01 00 00"    // SVR: software-enable the APIC
                + " " + countingLoop()
                + " C7 05 08 30 00 00 01 00 00 00"    // mov dword [0x3008], 1
                + " FB F4"                            // sti; hlt (the IPI wakes us)
                + " FA F4 EB FC"));                   // cli; hlt
        memory.load(0x1300, FlatMachine.hex(
                "C7 05 10 30 00 00 01 00 00 00"       // mov dword [0x3010], 1
                + " C7 05 B0 00 E0 FE 00 00 00 00"    // EOI
                + " CF"));                            // iretd
        // The BSP: enable its APIC, INIT and SIPI the AP, count, halt.
        memory.load(0x2000, FlatMachine.hex(
                "C7 05 F0 00 E0 FE FF 01 00 00"       // SVR
                + " C7 05 10 03 E0 FE 00 00 00 01"    // ICR high: APIC ID 1
                + " C7 05 00 03 E0 FE 00 45 00 00"    // ICR low: INIT, assert
                + " C7 05 00 03 E0 FE 01 46 00 00"    // ICR low: start-up, vector 1
                + " " + countingLoop()
                + " FA F4 EB FC"));                   // cli; hlt
        flat32(bsp, 0x2000);

        List<Thread> threads = List.of(
                Thread.ofPlatform().start(bsp::run), Thread.ofPlatform().start(ap::run));
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while ((memory.readInt(AP_DONE) != 1 || !ap.cpu().halted || !bsp.cpu().halted)
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, memory.readInt(AP_DONE), "AP finished; AP " + ap.stopReason() + " BSP " + bsp.stopReason());
            assertEquals(2 * ROUNDS, memory.readInt(XADD_COUNTER), "LOCK XADD total");
            assertEquals(2 * ROUNDS, memory.readInt(CMPXCHG_COUNTER), "LOCK CMPXCHG total");
            System.out.println("locked instructions retried after another vCPU's write: BSP "
                    + bsp.lockedRetries() + ", AP " + ap.lockedRetries());

            assertEquals(0, memory.readInt(IPI_SEEN));
            // As the BSP would: a fixed IPI, vector 0x40, to APIC ID 1.
            bspApic.mmioWrite(0x310, 4, 0x0100_0000L);
            bspApic.mmioWrite(0x300, 4, 0x0000_0040L);
            while (memory.readInt(IPI_SEEN) != 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, memory.readInt(IPI_SEEN), "the IPI's handler ran on the AP");
            assertFalse(ap.cpu().interruptsEnabled() && !ap.cpu().halted, "AP back in cli; hlt");
        } finally {
            bsp.requestStop();
            ap.requestStop();
            for (Thread t : threads) {
                t.join(5000);
            }
            memory.close();
        }
    }
}
