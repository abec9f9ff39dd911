package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The MC146818 RTC and its 128 bytes of CMOS RAM, at ports 0x70 (index; bit 7 masks NMI) and
 * 0x71 (data). Time comes from the host clock plus whatever offset the guest set; the update
 * cycle is instantaneous, so UIP never reads as set (SeaBIOS and Linux wait on it). Periodic and
 * update-ended interrupts (IRQ 8) are computed from the injected clock when the machine calls
 * {@link #tick()} or when register C is read. Register map: Motorola MC146818A datasheet.
 */
public final class Cmos implements PortIoDevice {

    public static final int PORT_INDEX = 0;
    public static final int PORT_DATA = 1;

    public static final int REG_SECONDS = 0x00;
    public static final int REG_MINUTES = 0x02;
    public static final int REG_HOURS = 0x04;
    public static final int REG_WEEKDAY = 0x06;
    public static final int REG_DAY = 0x07;
    public static final int REG_MONTH = 0x08;
    public static final int REG_YEAR = 0x09;
    public static final int REG_A = 0x0A;
    public static final int REG_B = 0x0B;
    public static final int REG_C = 0x0C;
    public static final int REG_D = 0x0D;
    public static final int REG_CENTURY = 0x32;   // IBM PC convention, read by SeaBIOS and Linux

    // PC CMOS layout (what SeaBIOS reads for memory sizing; see SeaBIOS src/hw/rtc.h).
    public static final int CMOS_BASE_MEM_LOW = 0x15;        // KiB below 1 MiB
    public static final int CMOS_EXT_MEM_LOW = 0x30;         // KiB between 1 and 64 MiB
    public static final int CMOS_EXT_MEM2_LOW = 0x34;        // 64 KiB units between 16 MiB and 4 GiB
    public static final int CMOS_HIGH_MEM_LOW = 0x5B;        // 64 KiB units above 4 GiB (3 bytes)
    public static final int CMOS_SMP_COUNT = 0x5F;           // CPUs minus one

    public static final int A_UIP = 0x80;          // update in progress
    public static final int A_RATE_MASK = 0x0F;    // periodic rate select
    public static final int B_SET = 0x80;          // freeze the clock for setting
    public static final int B_PIE = 0x40;          // periodic interrupt enable
    public static final int B_AIE = 0x20;          // alarm interrupt enable
    public static final int B_UIE = 0x10;          // update-ended interrupt enable
    public static final int B_BINARY = 0x04;       // DM: binary instead of BCD
    public static final int B_24H = 0x02;
    public static final int C_IRQF = 0x80;
    public static final int C_PF = 0x40;
    public static final int C_AF = 0x20;
    public static final int C_UF = 0x10;
    public static final int D_VRT = 0x80;          // valid RAM and time: the battery is good

    private final byte[] ram = new byte[128];
    private final IrqLine irq;
    private final Clock clock;
    private final long baseEpochSecond;
    private final long baseNanos;
    private long offsetSeconds;
    private int index;
    private boolean nmiMasked;
    private long lastPeriodicNanos;
    private long lastUpdateSecond;
    private boolean irqLevel;
    private long missed;

    /** @param wallSecondAtStart the host's UTC time, in epoch seconds, at {@code clock.nanos()} now */
    public Cmos(IrqLine irq, Clock clock, long wallSecondAtStart) {
        this.irq = irq;
        this.clock = clock;
        this.baseEpochSecond = wallSecondAtStart;
        this.baseNanos = clock.nanos();
        this.lastPeriodicNanos = baseNanos;
        this.lastUpdateSecond = nowSecond();
        ram[REG_A] = 0x26;             // 32.768 kHz divider, 1024 Hz rate
        ram[REG_B] = B_24H;
        ram[REG_D] = (byte) D_VRT;
    }

    /** Host-side setup of a CMOS RAM byte (memory sizes, CPU count). */
    public synchronized void set(int reg, int value) {
        ram[reg & 0x7F] = (byte) value;
    }

    /** Stores the standard checksum of 0x10..0x2D at 0x2E (high) and 0x2F (low). */
    public synchronized void updateChecksum() {
        int sum = 0;
        for (int i = 0x10; i <= 0x2D; i++) {
            sum += ram[i] & 0xFF;
        }
        ram[0x2E] = (byte) (sum >> 8);
        ram[0x2F] = (byte) sum;
    }

    @Override
    public synchronized int read(int offset, int size) {
        if (size != 1) {
            missed++;
        }
        if (offset == PORT_INDEX) {
            return 0xFF;   // the index register is write-only
        }
        return readRegister(index);
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        if (size != 1) {
            missed++;
        }
        if (offset == PORT_INDEX) {
            index = value & 0x7F;
            nmiMasked = (value & 0x80) != 0;
            return;
        }
        writeRegister(index, value & 0xFF);
    }

    private int readRegister(int reg) {
        if (reg <= REG_YEAR || reg == REG_CENTURY) {
            if ((ram[REG_B] & B_SET) == 0 && isTimeRegister(reg)) {
                loadTime();
            }
            return ram[reg] & 0xFF;
        }
        return switch (reg) {
            case REG_A -> ram[REG_A] & ~A_UIP & 0xFF;
            case REG_C -> {
                tick();
                int v = ram[REG_C] & 0xFF;
                ram[REG_C] = 0;            // reading C acknowledges every flag
                updateIrq();
                yield v;
            }
            case REG_D -> D_VRT;
            default -> ram[reg] & 0xFF;
        };
    }

    /** Seconds, minutes, hours, weekday, day, month, year, century; 1, 3 and 5 are the alarm. */
    private static boolean isTimeRegister(int reg) {
        return reg == REG_CENTURY || reg <= REG_YEAR && (reg % 2 == 0 || reg >= REG_WEEKDAY);
    }

    private void writeRegister(int reg, int v) {
        switch (reg) {
            case REG_A -> ram[REG_A] = (byte) (v & 0x7F);
            case REG_B -> {
                boolean wasSet = (ram[REG_B] & B_SET) != 0;
                if (!wasSet && (v & B_SET) != 0) {
                    loadTime();   // freeze the current time in the registers for the guest to edit
                }
                ram[REG_B] = (byte) v;
                if (wasSet && (v & B_SET) == 0) {
                    storeTime();
                }
                updateIrq();
            }
            case REG_C, REG_D -> missed++;   // read-only
            default -> {
                ram[reg] = (byte) v;
                if (isTimeRegister(reg) && (ram[REG_B] & B_SET) == 0) {
                    storeTime();   // a write without SET still takes effect on the next update
                }
            }
        }
    }

    /** Raises periodic and update-ended flags that fell due; the machine calls this every ms or so. */
    public synchronized void tick() {
        long now = clock.nanos();
        long period = periodNanos();
        if (period > 0 && now - lastPeriodicNanos >= period) {
            lastPeriodicNanos = now - (now - lastPeriodicNanos) % period;
            ram[REG_C] |= C_PF;
        }
        long second = nowSecond();
        if (second != lastUpdateSecond) {
            lastUpdateSecond = second;
            ram[REG_C] |= C_UF;
        }
        updateIrq();
    }

    private long periodNanos() {
        int rate = ram[REG_A] & A_RATE_MASK;
        if (rate == 0) {
            return 0;
        }
        int hz = rate <= 2 ? (rate == 1 ? 256 : 128) : 32768 >> (rate - 1);
        return 1_000_000_000L / hz;
    }

    private void updateIrq() {
        int c = ram[REG_C] & 0x70;
        int enabled = ram[REG_B] & (B_PIE | B_AIE | B_UIE);
        boolean level = (c & enabled) != 0;
        ram[REG_C] = (byte) ((ram[REG_C] & 0x70) | (level ? C_IRQF : 0));
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    private long nowSecond() {
        return baseEpochSecond + offsetSeconds + Math.floorDiv(clock.nanos() - baseNanos, 1_000_000_000L);
    }

    private void loadTime() {
        LocalDateTime t = LocalDateTime.ofEpochSecond(nowSecond(), 0, ZoneOffset.UTC);
        ram[REG_SECONDS] = enc(t.getSecond());
        ram[REG_MINUTES] = enc(t.getMinute());
        int hour = t.getHour();
        if ((ram[REG_B] & B_24H) != 0) {
            ram[REG_HOURS] = enc(hour);
        } else {
            int h12 = hour % 12 == 0 ? 12 : hour % 12;
            ram[REG_HOURS] = (byte) (enc(h12) | (hour >= 12 ? 0x80 : 0));
        }
        ram[REG_WEEKDAY] = enc(t.getDayOfWeek().getValue() % 7 + 1);
        ram[REG_DAY] = enc(t.getDayOfMonth());
        ram[REG_MONTH] = enc(t.getMonthValue());
        ram[REG_YEAR] = enc(t.getYear() % 100);
        ram[REG_CENTURY] = enc(t.getYear() / 100);
    }

    private void storeTime() {
        try {
            int hourReg = ram[REG_HOURS] & 0xFF;
            int hour;
            if ((ram[REG_B] & B_24H) != 0) {
                hour = dec(hourReg);
            } else {
                hour = dec(hourReg & 0x7F) % 12 + ((hourReg & 0x80) != 0 ? 12 : 0);
            }
            int year = dec(ram[REG_CENTURY] & 0xFF) * 100 + dec(ram[REG_YEAR] & 0xFF);
            LocalDateTime t = LocalDateTime.of(year, dec(ram[REG_MONTH] & 0xFF), dec(ram[REG_DAY] & 0xFF),
                    hour, dec(ram[REG_MINUTES] & 0xFF), dec(ram[REG_SECONDS] & 0xFF));
            long wanted = t.toEpochSecond(ZoneOffset.UTC);
            offsetSeconds += wanted - nowSecond();
        } catch (java.time.DateTimeException e) {
            missed++;   // an impossible date: the chip would count from garbage; we keep our time
        }
    }

    private byte enc(int v) {
        return (byte) ((ram[REG_B] & B_BINARY) != 0 ? v : (v / 10) << 4 | v % 10);
    }

    private int dec(int v) {
        return (ram[REG_B] & B_BINARY) != 0 ? v : (v >> 4) * 10 + (v & 0x0F);
    }

    public synchronized boolean nmiMasked() {
        return nmiMasked;
    }

    /** Wrong-width accesses, writes to read-only registers and impossible dates. */
    public synchronized long missedAccesses() {
        return missed;
    }
}
