package io.p2vkit.hv.device;

import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

import static io.p2vkit.hv.device.Cmos.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CmosTest {

    private final RecordingIrq irq = new RecordingIrq();
    private final FakeClock clock = new FakeClock();
    private static final long T = LocalDateTime.of(2026, 11, 22, 13, 45, 30).toEpochSecond(ZoneOffset.UTC);
    private final Cmos cmos = new Cmos(irq, clock, T);

    private int reg(int r) {
        cmos.write(PORT_INDEX, 1, r);
        return cmos.read(PORT_DATA, 1);
    }

    private void set(int r, int v) {
        cmos.write(PORT_INDEX, 1, r);
        cmos.write(PORT_DATA, 1, v);
    }

    @Test
    void readsTimeInBcdAnd24Hours() {
        assertEquals(0x30, reg(REG_SECONDS));
        assertEquals(0x45, reg(REG_MINUTES));
        assertEquals(0x13, reg(REG_HOURS));
        assertEquals(0x22, reg(REG_DAY));
        assertEquals(0x11, reg(REG_MONTH));
        assertEquals(0x26, reg(REG_YEAR));
        assertEquals(0x20, reg(REG_CENTURY));
        clock.advance(2_000_000_000L);
        assertEquals(0x32, reg(REG_SECONDS));
    }

    @Test
    void binaryModeAndUipNeverSet() {
        set(REG_B, B_24H | B_BINARY);
        assertEquals(45, reg(REG_MINUTES));
        assertEquals(0, reg(REG_A) & A_UIP);
        assertEquals(D_VRT, reg(REG_D));
    }

    @Test
    void guestSetsTheClock() {
        set(REG_B, B_24H | B_SET);
        set(REG_HOURS, 0x08);
        set(REG_MINUTES, 0x00);
        set(REG_SECONDS, 0x00);
        set(REG_B, B_24H);
        assertEquals(0x08, reg(REG_HOURS));
        assertEquals(0x00, reg(REG_MINUTES));
        assertEquals(0x22, reg(REG_DAY), "the date is kept");
    }

    @Test
    void memorySizeBytesAndChecksum() {
        cmos.set(CMOS_EXT_MEM2_LOW, 0x00);
        cmos.set(CMOS_EXT_MEM2_LOW + 1, 0x0F);
        cmos.set(0x10, 0x01);
        cmos.updateChecksum();
        assertEquals(0x0F, reg(CMOS_EXT_MEM2_LOW + 1));
        assertEquals(0x01, reg(0x2F));
        assertEquals(0x00, reg(0x2E));
    }

    @Test
    void periodicInterruptRaisesIrq8UntilRegisterCIsRead() {
        set(REG_A, 0x26);                 // 1024 Hz
        set(REG_B, B_24H | B_PIE);
        clock.advance(2_000_000L);
        cmos.tick();
        assertTrue(irq.level);
        int c = reg(REG_C);
        assertEquals(C_IRQF | C_PF, c & (C_IRQF | C_PF));
        assertFalse(irq.level);
        assertEquals(0, reg(REG_C) & C_PF, "reading C acknowledges");
    }

    @Test
    void nmiMaskBitAndReadOnlyRegisters() {
        cmos.write(PORT_INDEX, 1, 0x80 | REG_SECONDS);
        assertTrue(cmos.nmiMasked());
        set(REG_D, 0);
        assertEquals(1, cmos.missedAccesses());
    }
}
