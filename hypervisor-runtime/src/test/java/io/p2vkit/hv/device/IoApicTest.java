package io.p2vkit.hv.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The IOAPIC's registers and its edge and level routing to local APICs, with no VM. */
class IoApicTest {

    private final ApicBus bus = new ApicBus();
    private final IoApic io = new IoApic(bus);
    private final LocalApic cpu0 = enabled(0);
    private final LocalApic cpu1 = enabled(1);

    private LocalApic enabled(int id) {
        LocalApic a = new LocalApic(id, id == 0, bus, null, () -> 0);
        a.mmioWrite(LocalApic.REG_SVR, 4, 0x1FF);
        return a;
    }

    private int reg(int index) {
        io.write(IoApic.IOREGSEL, 4, index);
        return (int) io.read(IoApic.IOWIN, 4);
    }

    private void setReg(int index, int value) {
        io.write(IoApic.IOREGSEL, 4, index);
        io.write(IoApic.IOWIN, 4, value);
    }

    private void route(int pin, long entry) {
        setReg(0x10 + 2 * pin + 1, (int) (entry >>> 32));
        setReg(0x10 + 2 * pin, (int) entry);
    }

    @Test
    void identificationRegisters() {
        assertEquals(0x0017_0011, reg(IoApic.REG_VERSION), "version 0x11, 24 entries");
        setReg(IoApic.REG_ID, 0x0A00_0000);
        assertEquals(0x0A00_0000, reg(IoApic.REG_ID));
        assertEquals(0x0A00_0000, reg(IoApic.REG_ARBITRATION));
        setReg(IoApic.REG_VERSION, 0);
        assertEquals(0x0017_0011, reg(IoApic.REG_VERSION), "read-only");
        assertEquals(0x1_0000, reg(0x10), "entries start masked");
        setReg(0x10, 0xFFFF_FFFF);
        assertEquals(0x1_AFFF, reg(0x10), "delivery status and remote IRR are read-only");
    }

    @Test
    void edgePinsSendOneMessagePerRisingEdge() {
        route(2, 0x30); // fixed, physical APIC 0, edge, unmasked
        io.setPin(2, true);
        io.setPin(2, true);
        assertEquals(0x30, cpu0.acknowledge());
        assertFalse(cpu0.hasPendingInterrupt(), "no second message without a new edge");
        cpu0.mmioWrite(LocalApic.REG_EOI, 4, 0);
        io.setPin(2, false);
        route(2, 0x30 | IoApic.RTE_MASKED);
        io.setPin(2, true);
        route(2, 0x30);
        assertFalse(cpu0.hasPendingInterrupt(), "an edge while masked is lost");
    }

    @Test
    void levelPinsHoldRemoteIrrUntilEoi() {
        route(11, 0x41 | IoApic.RTE_LEVEL | (1L << 56)); // to APIC 1
        io.setPin(11, true);
        assertEquals(0x41, cpu1.acknowledge());
        assertTrue((reg(0x10 + 22) & IoApic.RTE_REMOTE_IRR) != 0, "remote IRR set");
        io.setPin(11, true);
        assertFalse(cpu1.hasPendingInterrupt(), "no re-send while remote IRR is set");
        cpu1.mmioWrite(LocalApic.REG_EOI, 4, 0);   // still asserted: sent again
        assertTrue((reg(0x10 + 22) & IoApic.RTE_REMOTE_IRR) != 0);
        assertEquals(0x41, cpu1.acknowledge());
        io.setPin(11, false);
        cpu1.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(0, reg(0x10 + 22) & IoApic.RTE_REMOTE_IRR);
        assertFalse(cpu1.hasPendingInterrupt());
        assertFalse(cpu0.hasPendingInterrupt());
    }

    @Test
    void unmaskingAnAssertedLevelPinDelivers() {
        route(9, 0x59 | IoApic.RTE_LEVEL | IoApic.RTE_MASKED);
        io.setPin(9, true);
        assertFalse(cpu0.hasPendingInterrupt());
        route(9, 0x59 | IoApic.RTE_LEVEL);
        assertEquals(0x59, cpu0.acknowledge());
    }

    @Test
    void logicalAndLowestPriorityDestinations() {
        cpu0.mmioWrite(LocalApic.REG_LDR, 4, 0x01 << 24);
        cpu1.mmioWrite(LocalApic.REG_LDR, 4, 0x02 << 24);
        route(4, 0x44 | IoApic.RTE_DEST_LOGICAL | (0x03L << 56)); // fixed to both
        io.setPin(4, true);
        assertEquals(0x44, cpu0.acknowledge());
        cpu0.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertEquals(0x44, cpu1.acknowledge());
        cpu1.mmioWrite(LocalApic.REG_EOI, 4, 0);
        io.setPin(4, false);
        cpu0.mmioWrite(LocalApic.REG_TPR, 4, 0x30);
        route(4, 0x45 | (1 << 8) | IoApic.RTE_DEST_LOGICAL | (0x03L << 56)); // lowest priority
        io.setPin(4, true);
        assertEquals(0x45, cpu1.acknowledge(), "the APIC with the lower priority");
        cpu1.mmioWrite(LocalApic.REG_EOI, 4, 0);
        assertFalse(cpu0.hasPendingInterrupt());
    }

    @Test
    void hostileAccessesAreBounded() {
        Random r = new Random(11);
        for (int i = 0; i < 100_000; i++) {
            io.write(r.nextInt(0x40), 1 << r.nextInt(4), r.nextLong());
            io.read(r.nextInt(0x40), 1 << r.nextInt(4));
            io.setPin(r.nextInt(IoApic.PINS), r.nextBoolean());
            if (cpu0.hasPendingInterrupt()) {
                cpu0.acknowledge();
                cpu0.mmioWrite(LocalApic.REG_EOI, 4, 0);
            }
        }
        assertTrue(io.missedAccesses() > 0);
    }
}
