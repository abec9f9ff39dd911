package io.p2vkit.hv.device;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Pit8254Test {

    private final FakeClock clock = new FakeClock();
    private final RecordingIrq irq0 = new RecordingIrq();
    private final Pit8254 pit = new Pit8254(clock, irq0);

    private static long ticks(long n) {
        return n * 1_000_000_000L / Pit8254.FREQUENCY_HZ + 1;
    }

    private int latchAndRead(int channel) {
        pit.write(3, 1, channel << 6);
        int lo = pit.read(channel, 1);
        int hi = pit.read(channel, 1);
        return lo | hi << 8;
    }

    @Test
    void rateGeneratorCountsDownAndInterruptsEachPeriod() {
        pit.write(3, 1, 0x34);   // channel 0, LSB then MSB, mode 2
        pit.write(0, 1, 0x00);
        pit.write(0, 1, 0x10);   // 4096
        clock.advance(ticks(1000));
        int c = latchAndRead(0);
        assertTrue(c <= 4096 - 1000 && c >= 4096 - 1001, "count " + c);
        pit.poll();
        assertEquals(0, irq0.raises);
        clock.advance(ticks(3200));
        pit.poll();
        assertEquals(1, irq0.raises);
        assertTrue(pit.nanosToNextIrq0() > 0);
    }

    @Test
    void mode0OnChannel2GatedByPort61() {
        SystemControlB portB = new SystemControlB(pit, clock);
        pit.write(3, 1, 0xB0);   // channel 2, LSB then MSB, mode 0
        pit.write(2, 1, 0xFF);
        pit.write(2, 1, 0xFF);
        clock.advance(ticks(5000));
        assertEquals(0xFFFF, latchAndRead(2), "gate low: not counting");
        portB.write(0, 1, SystemControlB.B_GATE2);
        clock.advance(ticks(5000));
        int c = latchAndRead(2);
        assertTrue(Math.abs(0xFFFF - 5000 - c) <= 1, "count " + c);
        assertEquals(0, portB.read(0, 1) & SystemControlB.B_OUT2, "output low until terminal count");
        clock.advance(ticks(0x10000));
        assertEquals(SystemControlB.B_OUT2, portB.read(0, 1) & SystemControlB.B_OUT2);
    }

    @Test
    void latchHoldsTheValueUntilBothBytesAreRead() {
        pit.write(3, 1, 0x34);
        pit.write(0, 1, 0x00);
        pit.write(0, 1, 0x00);   // 65536
        clock.advance(ticks(100));
        pit.write(3, 1, 0x00);   // latch channel 0
        clock.advance(ticks(1000));
        int lo = pit.read(0, 1);
        int hi = pit.read(0, 1);
        int latched = lo | hi << 8;
        assertTrue(Math.abs(0x10000 - 100 - latched) <= 1, "latched " + latched);
    }

    @Test
    void readBackStatus() {
        pit.write(3, 1, 0x36);   // channel 0, mode 3
        pit.write(3, 1, 0xE2);   // read-back: status only, channel 0
        int status = pit.read(0, 1);
        assertEquals(0x36 & 0x3F, status & 0x3F);
        assertEquals(0x40, status & 0x40, "null count until a count is written");
    }

    @Test
    void controlPortIsWriteOnly() {
        assertEquals(0xFF, pit.read(3, 1));
        assertEquals(1, pit.missedAccesses());
        assertFalse(irq0.level);
    }
}
