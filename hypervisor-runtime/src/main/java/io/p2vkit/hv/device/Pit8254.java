package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;

/**
 * The 8254 programmable interval timer at 0x40-0x43, clocked at 1.193182 MHz. Counters are
 * computed from the injected clock when read, never ticked one by one. Channel 0 drives IRQ 0
 * (the machine calls {@link #poll()} often, which raises it when a period has passed); channel
 * 2's gate and output are wired to port 0x61, where SeaBIOS and Linux calibrate the TSC. Used by
 * the emulator engine; on KVM the in-kernel PIT answers these ports. Modes and the read-back
 * command: Intel 82C54 datasheet.
 */
public final class Pit8254 implements PortIoDevice {

    public static final long FREQUENCY_HZ = 1_193_182;
    public static final int PORT_CONTROL = 3;

    public static final int CW_SELECT_SHIFT = 6;     // 3 = read-back
    public static final int CW_ACCESS_SHIFT = 4;     // 0 = latch, 1 = LSB, 2 = MSB, 3 = LSB then MSB
    public static final int CW_MODE_SHIFT = 1;
    public static final int CW_BCD = 0x01;
    public static final int READBACK_NO_COUNT = 0x20;   // active low: latch count when clear
    public static final int READBACK_NO_STATUS = 0x10;  // active low: latch status when clear

    private static final int ACCESS_LATCH = 0;
    private static final int ACCESS_LSB = 1;
    private static final int ACCESS_MSB = 2;
    private static final int ACCESS_WORD = 3;

    /** One counter. */
    private final class Channel {
        int mode;
        int access = ACCESS_WORD;
        boolean bcd;
        int reload = 0x10000;      // 0 written means 65536
        long loadNanos;
        boolean counting;          // a count has been written since the control word
        boolean gate;
        long frozenTicks = -1;     // ticks elapsed when the gate fell (modes 0 and 4)
        int latched = -1;
        boolean latchedSecondByte;
        int status = -1;
        boolean writeHigh;         // in LSB-then-MSB access, the next write is the MSB
        boolean readHigh;
        int writeLow;
        long periodsSeen;

        long ticks() {
            if (!counting) {
                return 0;
            }
            if (frozenTicks >= 0) {
                return frozenTicks;
            }
            return (clock.nanos() - loadNanos) * FREQUENCY_HZ / 1_000_000_000L;
        }

        int count() {
            long t = ticks();
            if (!counting) {
                return reload & 0xFFFF;
            }
            long c;
            switch (mode) {
                case 2 -> c = reload - t % reload;
                case 3 -> c = (reload - (2 * t) % reload) & ~1L;
                default -> c = reload - t;   // 0, 1, 4, 5: count down and wrap
            }
            return (int) (c & 0xFFFF);
        }

        boolean output() {
            long t = ticks();
            if (!counting) {
                return mode != 0;
            }
            return switch (mode) {
                case 0 -> t >= reload;
                case 1 -> t >= reload;
                case 2 -> t % reload != reload - 1;
                case 3 -> t % reload < (reload + 1) / 2;
                case 4, 5 -> t != reload;
                default -> true;
            };
        }
    }

    private final Channel[] channels = new Channel[3];
    private final Clock clock;
    private final IrqLine irq0;
    private long missed;

    public Pit8254(Clock clock, IrqLine irq0) {
        this.clock = clock;
        this.irq0 = irq0;
        for (int i = 0; i < 3; i++) {
            channels[i] = new Channel();
        }
        channels[0].gate = true;
        channels[1].gate = true;
    }

    @Override
    public synchronized int read(int offset, int size) {
        if (size != 1) {
            missed++;
        }
        if (offset == PORT_CONTROL) {
            missed++;
            return 0xFF;   // the control word register cannot be read
        }
        Channel c = channels[offset];
        if (c.status >= 0) {
            int s = c.status;
            c.status = -1;
            return s;
        }
        int value = c.latched >= 0 ? c.latched : c.count();
        int out;
        switch (c.access) {
            case ACCESS_LSB -> out = value & 0xFF;
            case ACCESS_MSB -> out = value >> 8 & 0xFF;
            default -> {
                out = c.readHigh ? value >> 8 & 0xFF : value & 0xFF;
                c.readHigh = !c.readHigh;
            }
        }
        if (c.latched >= 0 && (c.access != ACCESS_WORD || !c.readHigh)) {
            c.latched = -1;   // the latch holds until every byte of it was read
        }
        return out;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        if (size != 1) {
            missed++;
        }
        int v = value & 0xFF;
        if (offset == PORT_CONTROL) {
            control(v);
            return;
        }
        Channel c = channels[offset];
        switch (c.access) {
            case ACCESS_LSB -> load(c, v);
            case ACCESS_MSB -> load(c, v << 8);
            default -> {
                if (!c.writeHigh) {
                    c.writeLow = v;
                    c.writeHigh = true;
                } else {
                    c.writeHigh = false;
                    load(c, c.writeLow | v << 8);
                }
            }
        }
    }

    private void control(int v) {
        int select = v >> CW_SELECT_SHIFT;
        if (select == 3) {
            readBack(v);
            return;
        }
        Channel c = channels[select];
        int access = v >> CW_ACCESS_SHIFT & 3;
        if (access == ACCESS_LATCH) {
            if (c.latched < 0) {
                c.latched = c.count();
                c.readHigh = false;
            }
            return;
        }
        c.access = access;
        c.mode = v >> CW_MODE_SHIFT & 7;
        if (c.mode > 5) {
            c.mode -= 4;   // 6 and 7 are aliases of 2 and 3
        }
        c.bcd = (v & CW_BCD) != 0;
        c.counting = false;
        c.writeHigh = false;
        c.readHigh = false;
        c.latched = -1;
        c.frozenTicks = -1;
    }

    private void readBack(int v) {
        for (int i = 0; i < 3; i++) {
            if ((v & (2 << i)) == 0) {
                continue;
            }
            Channel c = channels[i];
            if ((v & READBACK_NO_COUNT) == 0 && c.latched < 0) {
                c.latched = c.count();
                c.readHigh = false;
            }
            if ((v & READBACK_NO_STATUS) == 0 && c.status < 0) {
                c.status = (c.output() ? 0x80 : 0) | (c.counting ? 0 : 0x40) | c.access << 4 | c.mode << 1
                        | (c.bcd ? 1 : 0);
            }
        }
    }

    private void load(Channel c, int value) {
        c.reload = value == 0 ? 0x10000 : value;
        if (c.mode == 3 && c.reload == 1) {
            c.reload = 2;   // the chip cannot halve a count of one
        }
        c.loadNanos = clock.nanos();
        c.counting = true;
        c.frozenTicks = c.gate || c == channels[0] || c == channels[1] ? -1 : 0;
        c.periodsSeen = 0;
    }

    /** Port 0x61 bit 0: channel 2's gate. A rising edge restarts modes 1, 2, 3 and 5. */
    public synchronized void setGate2(boolean on) {
        Channel c = channels[2];
        if (on == c.gate) {
            return;
        }
        c.gate = on;
        if (!c.counting) {
            return;
        }
        if (on) {
            if (c.mode == 0 || c.mode == 4) {
                long elapsed = Math.max(c.frozenTicks, 0);
                c.loadNanos = clock.nanos() - elapsed * 1_000_000_000L / FREQUENCY_HZ;
                c.frozenTicks = -1;
            } else {
                c.loadNanos = clock.nanos();
                c.frozenTicks = -1;
            }
        } else if (c.mode == 0 || c.mode == 4 || c.mode == 2 || c.mode == 3) {
            c.frozenTicks = c.ticks();
        }
    }

    /** Port 0x61 bit 5: channel 2's output. */
    public synchronized boolean output2() {
        return channels[2].output();
    }

    /**
     * Raises IRQ 0 when channel 0 reached terminal count (mode 0) or completed a period (2, 3)
     * since the last poll. At most one interrupt per call, as a late PIC would deliver them.
     */
    public synchronized void poll() {
        Channel c = channels[0];
        if (!c.counting) {
            return;
        }
        long t = c.ticks();
        long periods = c.mode == 0 || c.mode == 4 ? (t >= c.reload ? 1 : 0) : t / c.reload;
        if (periods > c.periodsSeen) {
            c.periodsSeen = periods;
            irq0.pulse();
        }
    }

    /** Nanoseconds from now until channel 0's next interrupt, or -1 when none is due. */
    public synchronized long nanosToNextIrq0() {
        Channel c = channels[0];
        if (!c.counting || (c.mode == 0 || c.mode == 4) && c.periodsSeen > 0) {
            return -1;
        }
        long ticksLeft = c.reload - c.ticks() % c.reload;
        return ticksLeft * 1_000_000_000L / FREQUENCY_HZ;
    }

    public synchronized long missedAccesses() {
        return missed;
    }
}
