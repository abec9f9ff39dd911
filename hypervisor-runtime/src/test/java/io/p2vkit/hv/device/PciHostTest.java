package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.bus.PortIoDevice;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PciHostTest {

    private final List<String> resets = new ArrayList<>();
    private final List<I440fx.PamSegment> pam = new ArrayList<>();
    private final PciHost host = new PciHost(resets::add);
    private final I440fx bridge = new I440fx(pam::add);
    private final Piix3Isa isa = new Piix3Isa();
    private final Bus bus = new Bus();

    PciHostTest() {
        host.plug(0, 0, bridge);
        host.plug(1, 0, isa);
        bridge.attach(bus);
        isa.attach(bus);
    }

    private int cfgRead(int dev, int fn, int reg, int size) {
        host.write(PciHost.PORT_ADDRESS, 4, 0x8000_0000 | dev << 11 | fn << 8 | (reg & 0xFC));
        return host.read(PciHost.PORT_DATA + (reg & 3), size);
    }

    private void cfgWrite(int dev, int fn, int reg, int size, int v) {
        host.write(PciHost.PORT_ADDRESS, 4, 0x8000_0000 | dev << 11 | fn << 8 | (reg & 0xFC));
        host.write(PciHost.PORT_DATA + (reg & 3), size, v);
    }

    @Test
    void identifiesAsQemuI440fxWithPiix3() {
        assertEquals(0x1237_8086, cfgRead(0, 0, 0, 4));
        assertEquals(0x1af4, cfgRead(0, 0, 0x2C, 2), "SeaBIOS checks the Red Hat subsystem vendor");
        assertEquals(0x1100, cfgRead(0, 0, 0x2E, 2));
        assertEquals(0x7000_8086, cfgRead(1, 0, 0, 4));
        assertEquals(0x80, cfgRead(1, 0, 0x0E, 1) & 0x80, "PIIX3 is multifunction");
        assertEquals(0x0601, cfgRead(1, 0, 0x0A, 2));
    }

    @Test
    void absentFunctionsAndDisabledAddressReadAllOnes() {
        assertEquals(-1, cfgRead(5, 0, 0, 4));
        host.write(PciHost.PORT_ADDRESS, 4, 0);   // enable bit clear
        assertEquals(0xFFFF, host.read(PciHost.PORT_DATA, 2));
        host.write(PciHost.PORT_ADDRESS, 4, 0x8001_0000);   // bus 1
        assertEquals(-1, host.read(PciHost.PORT_DATA, 4));
    }

    @Test
    void readOnlyRegistersIgnoreWrites() {
        cfgWrite(0, 0, 0, 4, 0);
        assertEquals(0x1237_8086, cfgRead(0, 0, 0, 4));
        assertTrue(bridge.missedAccesses() > 0);
    }

    @Test
    void pamWritesReportSegmentChanges() {
        cfgWrite(0, 0, I440fx.CFG_PAM0, 1, 0x30);         // 0xF0000 read/write RAM
        assertEquals(new I440fx.PamSegment(0xF0000, 0x10000, true, true), pam.getLast());
        pam.clear();
        cfgWrite(0, 0, 0x5A, 1, 0x31);                    // PAM1: C0000 read-only, C4000 read/write
        assertEquals(List.of(new I440fx.PamSegment(0xC0000, 0x4000, true, false),
                new I440fx.PamSegment(0xC4000, 0x4000, true, true)), pam);
        pam.clear();
        cfgWrite(0, 0, 0x5A, 1, 0x31);
        assertTrue(pam.isEmpty(), "no change, no event");
    }

    @Test
    void pirqRoutingRegisters() {
        assertEquals(-1, isa.route(0), "disabled after reset");
        cfgWrite(1, 0, Piix3Isa.CFG_PIRQ_ROUTE + 2, 1, 11);
        assertEquals(11, isa.route(2));
        cfgWrite(1, 0, Piix3Isa.CFG_PIRQ_ROUTE + 2, 1, 13);
        assertEquals(-1, isa.route(2), "reserved encoding");
    }

    @Test
    void resetControlAt0xCf9() {
        host.write(PciHost.PORT_RESET_CONTROL, 1, 0x02);
        assertTrue(resets.isEmpty());
        host.write(PciHost.PORT_RESET_CONTROL, 1, 0x06);
        assertEquals(1, resets.size());
    }

    /** A function with an I/O BAR: sizing, placing, moving and disabling it on the bus. */
    @Test
    void ioBarSizingAndMapping() {
        PortIoDevice regs = new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return 0x40 + offset;
            }

            @Override
            public void write(int offset, int size, int value) {
            }
        };
        PciFunction f = new PciFunction("test", 0x1234, 0x5678, 0x010000, 0) {
            {
                ioBar(0, 64, regs);
            }
        };
        host.plug(3, 0, f);
        f.attach(bus);
        cfgWrite(3, 0, 0x10, 4, 0xFFFF_FFFF);
        assertEquals(0xFFFF_FFC1, cfgRead(3, 0, 0x10, 4), "size mask with the I/O bit");
        cfgWrite(3, 0, 0x10, 4, 0xC000);
        assertEquals(0xFF, bus.pioRead(0xC000, 1), "not decoded before the command register enables I/O");
        cfgWrite(3, 0, 0x04, 2, PciFunction.COMMAND_IO);
        assertEquals(0x42, bus.pioRead(0xC002, 1));
        cfgWrite(3, 0, 0x10, 4, 0xD000);
        assertEquals(0xFF, bus.pioRead(0xC002, 1), "moved away");
        assertEquals(0x42, bus.pioRead(0xD002, 1));
        cfgWrite(3, 0, 0x04, 2, 0);
        assertEquals(0xFF, bus.pioRead(0xD002, 1), "decode disabled");
    }
}
