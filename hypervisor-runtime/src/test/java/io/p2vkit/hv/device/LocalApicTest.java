package io.p2vkit.hv.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p2vkit.hv.cpu.LocalApicAccess;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The local APIC's registers, priorities, EOI, timer modes and IPIs, with no VM and a test clock. */
class LocalApicTest {

    /** The APIC timer counts 25 MHz (the CPUID 0x15 crystal): 40 ns a tick. */
    private static final long TICK = 40;
    private long now = 1_000_000;
    private final Clock clock = () -> now;
    private final ApicBus bus = new ApicBus();

    private LocalApic apic(int id) {
        LocalApic a = new LocalApic(id, id == 0, bus, null, clock);
        a.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        return a;
    }

    private static int read(LocalApic a, int reg) {
        return (int) a.mmioRead(reg, 4);
    }

    @Test
    void resetStateAndReadOnlyRegisters() {
        LocalApic a = new LocalApic(3, false, bus, null, clock);
        assertEquals(3 << 24, read(a, LocalApic.REG_ID));
        assertEquals(0x0005_0014, read(a, LocalApic.REG_VERSION));
        assertEquals(0xFF, read(a, LocalApic.REG_SVR), "software-disabled, spurious vector 0xFF");
        assertEquals(-1, read(a, LocalApic.REG_DFR), "flat model");
        assertEquals(0x1_0000, read(a, LocalApic.REG_LVT_LINT0), "masked");
        assertEquals(0xFEE0_0000L | LocalApic.BASE_ENABLE, a.apicBaseMsr(), "no BSP flag on an AP");
        a.mmioWrite(LocalApic.REG_VERSION, 4, 0);
        assertEquals(0x0005_0014, read(a, LocalApic.REG_VERSION));
        // While software-disabled, LVT writes keep the mask.
        a.mmioWrite(LocalApic.REG_LVT_LINT0, 4, 0x700);
        assertEquals(0x1_0700, read(a, LocalApic.REG_LVT_LINT0));
        // Only aligned 32-bit stores count.
        a.mmioWrite(LocalApic.REG_TPR + 1, 1, 0x50);
        assertEquals(0, read(a, LocalApic.REG_TPR));
        assertEquals(1, a.missedAccesses());
    }

    @Test
    void apicBaseMsrRefusesReservedBitsAndGlobalDisableResets() {
        LocalApic a = apic(0);
        assertFalse(a.writeApicBaseMsr(0xFEE0_0000L | LocalApic.BASE_ENABLE | (1 << 10)), "x2APIC not offered");
        assertFalse(a.writeApicBaseMsr(1L << 40), "beyond MAXPHYADDR");
        assertTrue(a.writeApicBaseMsr(0xFED0_0000L | LocalApic.BASE_ENABLE));
        assertEquals(0xFED0_0000L, a.mmioBase());
        assertEquals(0xFED0_0000L | LocalApic.BASE_ENABLE | LocalApic.BASE_BSP, a.apicBaseMsr(), "BSP flag kept");
        assertTrue(a.writeApicBaseMsr(0xFED0_0000L));
        assertEquals(-1, a.mmioBase(), "globally disabled: no MMIO page");
        assertTrue(a.writeApicBaseMsr(0xFEE0_0000L | LocalApic.BASE_ENABLE));
        assertEquals(0xFF, read(a, LocalApic.REG_SVR), "re-enabled in the power-up state");
    }

    @Test
    void priorityRulesDecideWhatIsDelivered() {
        LocalApic a = apic(0);
        a.accept(ApicBus.MODE_FIXED, 0x51, false);
        a.accept(ApicBus.MODE_FIXED, 0x93, true);
        assertTrue(a.hasPendingInterrupt());
        assertEquals(0x93, a.acknowledge(), "highest vector first");
        assertEquals(0x90, read(a, LocalApic.REG_PPR), "PPR follows the in-service class");
        assertTrue(a.hasPendingInterrupt() == false, "0x51 is below the in-service class");
        assertEquals(1 << (0x93 - 0x80), read(a, LocalApic.REG_TMR + 0x40), "level vector marked in TMR");
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertTrue(a.hasPendingInterrupt());
        a.mmioWrite(LocalApic.REG_TPR, 4, 0x60);
        assertEquals(0x60, read(a, LocalApic.REG_PPR));
        assertFalse(a.hasPendingInterrupt(), "TPR class 6 blocks 0x51");
        assertEquals(0xFF, a.acknowledge(), "nothing deliverable: the spurious vector");
        a.mmioWrite(LocalApic.REG_TPR, 4, 0x40);
        assertEquals(0x51, a.acknowledge());
        assertEquals(1 << (0x51 - 0x40), read(a, LocalApic.REG_ISR + 0x20));
    }

    @Test
    void eoiOfALevelVectorIsBroadcastToTheIoApic() {
        int[] seen = {-1};
        bus.setEoiListener(v -> seen[0] = v);
        LocalApic a = apic(0);
        a.accept(ApicBus.MODE_FIXED, 0x31, false);
        a.acknowledge();
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(-1, seen[0], "edge vectors are not broadcast");
        a.accept(ApicBus.MODE_FIXED, 0x32, true);
        a.acknowledge();
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(0x32, seen[0]);
    }

    @Test
    void illegalVectorsAndTheEsrWriteBeforeRead() {
        LocalApic a = apic(0);
        a.mmioWrite(LocalApic.REG_LVT_ERROR, 4, 0xEE);
        a.accept(ApicBus.MODE_FIXED, 0x05, false);
        assertEquals(0, read(a, LocalApic.REG_ESR), "ESR shows nothing until written");
        a.mmioWrite(LocalApic.REG_ESR, 4, 0);
        assertEquals(LocalApic.ESR_RECEIVE_ILLEGAL_VECTOR, read(a, LocalApic.REG_ESR));
        assertEquals(0xEE, a.acknowledge(), "the error LVT fired");
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x0000_0002);
        a.mmioWrite(LocalApic.REG_ESR, 4, 0);
        assertEquals(LocalApic.ESR_SEND_ILLEGAL_VECTOR, read(a, LocalApic.REG_ESR));
        a.mmioWrite(LocalApic.REG_ESR, 4, 0);
        assertEquals(0, read(a, LocalApic.REG_ESR));
    }

    @Test
    void oneShotAndPeriodicTimersCountFromTheClock() {
        LocalApic a = apic(0);
        a.mmioWrite(LocalApic.REG_TIMER_DIVIDE, 4, 0x0); // divide by 2
        a.mmioWrite(LocalApic.REG_LVT_TIMER, 4, 0x40);
        a.mmioWrite(LocalApic.REG_TIMER_INITIAL, 4, 1000);
        now += 600 * TICK;
        assertEquals(700, read(a, LocalApic.REG_TIMER_CURRENT));
        assertFalse(a.hasPendingInterrupt());
        assertEquals(1400 * TICK, a.nanosToNextEvent());
        now += 1400 * TICK;
        assertTrue(a.hasPendingInterrupt());
        assertEquals(0x40, a.acknowledge());
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        now += 5000;
        assertFalse(a.hasPendingInterrupt(), "one-shot fires once");
        assertEquals(0, read(a, LocalApic.REG_TIMER_CURRENT));

        a.mmioWrite(LocalApic.REG_TIMER_DIVIDE, 4, 0xB); // divide by 1
        a.mmioWrite(LocalApic.REG_LVT_TIMER, 4, 0x2_0041);
        a.mmioWrite(LocalApic.REG_TIMER_INITIAL, 4, 100);
        int fired = 0;
        for (int i = 0; i < 10; i++) {
            now += 100 * TICK;
            if (a.hasPendingInterrupt()) {
                assertEquals(0x41, a.acknowledge());
                a.mmioWrite(LocalApic.REG_EOI, 4, 0);
                fired++;
            }
        }
        assertEquals(10, fired, "one interrupt per period");
        now += 50 * TICK;
        assertEquals(50, read(a, LocalApic.REG_TIMER_CURRENT));
        a.mmioWrite(LocalApic.REG_TIMER_DIVIDE, 4, 0x0); // divide by 2 from here: the count goes on from 50
        assertEquals(50, read(a, LocalApic.REG_TIMER_CURRENT));
        now += 20 * 2 * TICK;
        assertEquals(30, read(a, LocalApic.REG_TIMER_CURRENT));
        now += 100_000 * TICK;
        assertTrue(a.hasPendingInterrupt());
        a.acknowledge();
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(a.hasPendingInterrupt(), "missed periods collapse into one interrupt");
    }

    @Test
    void tscDeadlineModeFiresAtTheDeadlineAndDisarms() {
        LocalApic a = apic(0);
        a.setTscOffset(500);
        a.writeTscDeadline(now + 500 + 1000);
        assertEquals(0, a.tscDeadline(), "ignored outside TSC-deadline mode");
        a.mmioWrite(LocalApic.REG_LVT_TIMER, 4, 0x4_0042);
        a.mmioWrite(LocalApic.REG_TIMER_INITIAL, 4, 1234);
        assertEquals(0, read(a, LocalApic.REG_TIMER_INITIAL), "initial count ignored in TSC-deadline mode");
        long deadline = now + 500 + 1000;
        a.writeTscDeadline(deadline);
        assertEquals(deadline, a.tscDeadline());
        now += 999;
        assertFalse(a.hasPendingInterrupt());
        now += 1;
        assertTrue(a.hasPendingInterrupt());
        assertEquals(0x42, a.acknowledge());
        assertEquals(0, a.tscDeadline(), "disarmed once fired");
    }

    @Test
    void ipisReachTheirDestinations() {
        LocalApic a = apic(0);
        LocalApic b = apic(1);
        // Physical destination.
        a.mmioWrite(LocalApic.REG_ICR_HIGH, 4, 1 << 24);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x61);
        assertEquals(0x61, b.acknowledge());
        b.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(a.hasPendingInterrupt());
        // Logical flat: LDR bit 1 for b.
        a.mmioWrite(LocalApic.REG_LDR, 4, 0x01 << 24);
        b.mmioWrite(LocalApic.REG_LDR, 4, 0x02 << 24);
        a.mmioWrite(LocalApic.REG_ICR_HIGH, 4, 0x03 << 24);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x862);
        assertEquals(0x62, a.acknowledge());
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(0x62, b.acknowledge());
        b.mmioWrite(LocalApic.REG_EOI, 4, 0);
        // Logical cluster: cluster 1 member 2 is only b.
        a.mmioWrite(LocalApic.REG_DFR, 4, 0x0FFF_FFFF);
        b.mmioWrite(LocalApic.REG_DFR, 4, 0x0FFF_FFFF);
        a.mmioWrite(LocalApic.REG_LDR, 4, 0x11 << 24);
        b.mmioWrite(LocalApic.REG_LDR, 4, 0x12 << 24);
        a.mmioWrite(LocalApic.REG_ICR_HIGH, 4, 0x12 << 24);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x863);
        assertEquals(0x63, b.acknowledge());
        b.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(a.hasPendingInterrupt());
        // Shorthands: self, all excluding self.
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x4_0064);
        assertEquals(0x64, a.acknowledge());
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(b.hasPendingInterrupt());
        b.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0xC_0065);
        assertEquals(0x65, a.acknowledge());
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(b.hasPendingInterrupt());
        // Lowest priority: the APIC with the lower TPR gets it.
        a.mmioWrite(LocalApic.REG_TPR, 4, 0x20);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x8_0166);
        assertEquals(0x66, b.acknowledge());
        b.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(a.hasPendingInterrupt());
        // ...unless the other is the focus: it has that vector in service already.
        a.mmioWrite(LocalApic.REG_TPR, 4, 0x00);
        b.mmioWrite(LocalApic.REG_TPR, 4, 0x20);
        a.accept(ApicBus.MODE_FIXED, 0x67, false);
        assertEquals(0x67, a.acknowledge());
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x8_0167);
        assertFalse(b.hasPendingInterrupt(), "the focus processor took it");
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(0x67, a.acknowledge());
        a.mmioWrite(LocalApic.REG_EOI, 4, 0);
        b.mmioWrite(LocalApic.REG_TPR, 4, 0);
        // INIT and start-up become signals for the core; NMI too.
        a.mmioWrite(LocalApic.REG_ICR_HIGH, 4, 1 << 24);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x4500);
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x4608);
        assertEquals(LocalApicAccess.SIGNAL_INIT | LocalApicAccess.SIGNAL_SIPI, b.takeSignals());
        assertEquals(8, b.startupVector());
        assertEquals(0xFF, read(b, LocalApic.REG_SVR), "INIT reset b's registers");
        a.mmioWrite(LocalApic.REG_ICR_LOW, 4, 0x400);
        assertEquals(LocalApicAccess.SIGNAL_NMI, b.takeSignals());
        assertEquals(0, read(a, LocalApic.REG_ICR_LOW) & (1 << 12), "delivery status idle");
    }

    @Test
    void virtualWireModePassesThe8259Through() {
        boolean[] picPending = {true};
        io.p2vkit.hv.cpu.InterruptController pic = new io.p2vkit.hv.cpu.InterruptController() {
            @Override
            public boolean hasPendingInterrupt() {
                return picPending[0];
            }

            @Override
            public int acknowledge() {
                return 0x08;
            }
        };
        LocalApic a = new LocalApic(0, true, bus, pic, clock);
        assertTrue(a.hasPendingInterrupt(), "software-disabled: the 8259 reaches the CPU");
        a.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        assertFalse(a.hasPendingInterrupt(), "enabled with LINT0 masked: it does not");
        a.mmioWrite(LocalApic.REG_LVT_LINT0, 4, 0x8700);
        assertTrue(a.hasPendingInterrupt(), "LINT0 ExtINT: virtual wire");
        assertEquals(0x08, a.acknowledge());
        assertTrue(a.writeApicBaseMsr(0xFEE0_0000L | LocalApic.BASE_BSP));
        a.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        assertTrue(a.hasPendingInterrupt(), "globally disabled: the 8259 again");
    }

    @Test
    void hostileRegisterValuesStayBounded() {
        LocalApic a = apic(0);
        LocalApic b = apic(1);
        Random r = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            long offset = r.nextInt(0x1000);
            int size = 1 << r.nextInt(4);
            if (r.nextBoolean()) {
                a.mmioWrite(offset & ~0xFL, 4, r.nextLong());
            } else {
                a.mmioWrite(offset, size, r.nextLong());
            }
            a.mmioRead(offset, size);
            now += r.nextInt(1000);
            if (a.hasPendingInterrupt()) {
                int v = a.acknowledge();
                assertTrue(v >= 0 && v <= 0xFF, "vector " + v);
            }
            b.hasPendingInterrupt();
            b.takeSignals();
        }
        assertTrue(a.nanosToNextEvent() >= -1);
    }
}
