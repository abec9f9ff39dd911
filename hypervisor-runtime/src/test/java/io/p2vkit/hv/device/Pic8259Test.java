package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Pic8259Test {

    private final Pic8259 pic = new Pic8259();
    private final PortIoDevice master = pic.masterPorts();
    private final PortIoDevice slave = pic.slavePorts();

    /** The sequence Linux and SeaBIOS use: vectors 0x08/0x70 here, 0x20/0x28 in Linux. */
    private void init(int masterBase, int slaveBase) {
        master.write(0, 1, 0x11);
        master.write(1, 1, masterBase);
        master.write(1, 1, 0x04);
        master.write(1, 1, 0x01);
        slave.write(0, 1, 0x11);
        slave.write(1, 1, slaveBase);
        slave.write(1, 1, 0x02);
        slave.write(1, 1, 0x01);
        master.write(1, 1, 0x00);
        slave.write(1, 1, 0x00);
    }

    @Test
    void deliversMasterInterruptWithProgrammedVector() {
        init(0x20, 0x28);
        pic.setIrq(4, true);
        assertTrue(pic.hasPendingInterrupt());
        assertEquals(0x24, pic.acknowledge());
        assertFalse(pic.hasPendingInterrupt(), "in service now");
        master.write(0, 1, 0x20);   // EOI
        pic.setIrq(4, false);
        pic.setIrq(4, true);
        assertEquals(0x24, pic.acknowledge(), "a new edge after EOI");
    }

    @Test
    void cascadesSlaveThroughIrq2() {
        init(0x20, 0x28);
        pic.setIrq(14, true);
        assertTrue(pic.hasPendingInterrupt());
        assertEquals(0x2E, pic.acknowledge());
        slave.write(0, 1, 0x20);
        master.write(0, 1, 0x20);
        assertFalse(pic.hasPendingInterrupt());
    }

    @Test
    void masksAndPriority() {
        init(0x20, 0x28);
        master.write(1, 1, 0x01);   // mask IRQ0
        pic.setIrq(0, true);
        assertFalse(pic.hasPendingInterrupt());
        pic.setIrq(3, true);
        pic.setIrq(1, true);
        assertEquals(0x21, pic.acknowledge(), "lower number, higher priority");
        assertEquals(0x01, master.read(1, 1));
    }

    @Test
    void readsIrrAndIsrThroughOcw3() {
        init(0x20, 0x28);
        pic.setIrq(5, true);
        master.write(0, 1, 0x0A);
        assertEquals(0x20, master.read(0, 1) & 0x20);
        pic.acknowledge();
        master.write(0, 1, 0x0B);
        assertEquals(0x20, master.read(0, 1));
    }

    @Test
    void levelTriggeredViaElcrFollowsTheLine() {
        init(0x20, 0x28);
        pic.elcrPorts().write(1, 1, 0x08);   // IRQ 11 level
        pic.setIrq(11, true);
        assertEquals(0x2B, pic.acknowledge());
        slave.write(0, 1, 0x20);
        master.write(0, 1, 0x20);
        assertTrue(pic.hasPendingInterrupt(), "still asserted, so still requested");
        pic.setIrq(11, false);
        assertFalse(pic.hasPendingInterrupt());
    }

    @Test
    void spuriousWhenNothingPending() {
        init(0x20, 0x28);
        assertEquals(0x27, pic.acknowledge());
        assertEquals(1, pic.spuriousInterrupts());
    }
}
