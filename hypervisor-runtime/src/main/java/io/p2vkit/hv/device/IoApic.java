package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.MmioDevice;
import io.p2vkit.hv.cpu.IrqLine;

/**
 * The 82093AA I/O APIC at 0xFEC00000: IOREGSEL at offset 0x00 and IOWIN at 0x10, the ID,
 * version (0x11, 24 redirection entries) and arbitration registers, and 24 redirection entries
 * that turn pin changes into interrupt messages on the {@link ApicBus} (82093AA datasheet §3).
 * Edge-triggered pins send one message per rising edge while unmasked; level-triggered pins send
 * one while asserted and set remote IRR until the local APIC's EOI for that vector comes back.
 * Lines are logical: a device's "asserted" is the pin's active state whatever the polarity bit,
 * which the guest may set and read (SeaBIOS's MP table declares every line active high).
 */
public final class IoApic implements MmioDevice {

    public static final long DEFAULT_BASE = 0xFEC0_0000L;
    public static final int PINS = 24;

    static final int IOREGSEL = 0x00;
    static final int IOWIN = 0x10;
    static final int REG_ID = 0x00;
    static final int REG_VERSION = 0x01;
    static final int REG_ARBITRATION = 0x02;
    static final int REG_REDIRECTION = 0x10;
    static final int VERSION = 0x11 | ((PINS - 1) << 16);

    static final long RTE_DELIVERY_STATUS = 1L << 12;
    static final long RTE_POLARITY_LOW = 1L << 13;
    static final long RTE_REMOTE_IRR = 1L << 14;
    static final long RTE_LEVEL = 1L << 15;
    static final long RTE_MASKED = 1L << 16;
    static final long RTE_DEST_LOGICAL = 1L << 11;
    /** Bits the guest may write: vector, delivery and destination mode, polarity, trigger, mask, destination. */
    static final long RTE_WRITABLE = 0xFF00_0000_0001_AFFFL;

    private final ApicBus apicBus;
    private final long[] redirection = new long[PINS];
    private int pinLevels;
    private int select;
    private int id;
    private long missedAccesses;

    public IoApic(ApicBus apicBus) {
        this.apicBus = apicBus;
        java.util.Arrays.fill(redirection, RTE_MASKED);
        apicBus.setEoiListener(this::eoi);
    }

    /** The line for pin {@code pin} (0-23), which a device or the machine's IRQ router drives. */
    public IrqLine pin(int pin) {
        if (pin < 0 || pin >= PINS) {
            throw new IllegalArgumentException("IOAPIC pin " + pin);
        }
        return level -> setPin(pin, level);
    }

    public synchronized void setPin(int pin, boolean level) {
        int bit = 1 << pin;
        boolean was = (pinLevels & bit) != 0;
        pinLevels = level ? pinLevels | bit : pinLevels & ~bit;
        long rte = redirection[pin];
        if ((rte & RTE_LEVEL) != 0) {
            if (level) {
                service(pin);
            }
        } else if (level && !was && (rte & RTE_MASKED) == 0) {
            send(rte, false);
        }
    }

    /** A level-triggered pin that is asserted, unmasked and not awaiting EOI sends its message. */
    private void service(int pin) {
        long rte = redirection[pin];
        if ((rte & RTE_LEVEL) == 0 || (rte & (RTE_MASKED | RTE_REMOTE_IRR)) != 0 || (pinLevels & (1 << pin)) == 0) {
            return;
        }
        int mode = (int) (rte >>> 8) & 7;
        if (mode == ApicBus.MODE_FIXED || mode == ApicBus.MODE_LOWEST) {
            redirection[pin] = rte | RTE_REMOTE_IRR; // cleared by the EOI for this vector
        }
        send(rte, true);
    }

    /**
     * Sends the entry's message. The local APICs take their own locks; they never call back
     * into the IOAPIC while holding them, so holding ours here cannot deadlock.
     */
    private void send(long rte, boolean level) {
        int mode = (int) (rte >>> 8) & 7;
        int vector = (int) rte & 0xFF;
        int destination = (int) (rte >>> 56) & 0xFF;
        apicBus.deliver(destination, (rte & RTE_DEST_LOGICAL) != 0, mode, vector, level);
    }

    /** The local APICs' EOI of a level-triggered {@code vector}: clears remote IRR and re-sends a still-asserted pin. */
    synchronized void eoi(int vector) {
        for (int pin = 0; pin < PINS; pin++) {
            long rte = redirection[pin];
            if ((rte & RTE_REMOTE_IRR) != 0 && (int) (rte & 0xFF) == vector) {
                redirection[pin] = rte & ~RTE_REMOTE_IRR;
                service(pin);
            }
        }
    }

    @Override
    public synchronized long read(long offset, int size) {
        if (size != 4 || (offset != IOREGSEL && offset != IOWIN)) {
            missedAccesses++;
            return offset == IOREGSEL && size == 1 ? select : 0;
        }
        if (offset == IOREGSEL) {
            return select;
        }
        return registerValue(select) & 0xFFFF_FFFFL;
    }

    private int registerValue(int reg) {
        switch (reg) {
            case REG_ID:
                return id << 24;
            case REG_VERSION:
                return VERSION;
            case REG_ARBITRATION:
                return id << 24;
            default:
                int index = reg - REG_REDIRECTION;
                if (index < 0 || index >= 2 * PINS) {
                    return 0;
                }
                long rte = redirection[index >> 1];
                return (int) ((index & 1) == 0 ? rte : rte >>> 32);
        }
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        if (offset == IOREGSEL && (size == 4 || size == 1)) {
            select = (int) value & 0xFF;
            return;
        }
        if (offset != IOWIN || size != 4) {
            missedAccesses++;
            return;
        }
        int v = (int) value;
        if (select == REG_ID) {
            id = (v >>> 24) & 0xF;
            return;
        }
        int index = select - REG_REDIRECTION;
        if (index < 0 || index >= 2 * PINS) {
            missedAccesses++; // version, arbitration and unimplemented registers are read-only
            return;
        }
        int pin = index >> 1;
        long old = redirection[pin];
        long written = (index & 1) == 0
                ? (old & 0xFFFF_FFFF_0000_0000L) | (v & 0xFFFF_FFFFL)
                : (old & 0xFFFF_FFFFL) | ((long) v << 32);
        redirection[pin] = (written & RTE_WRITABLE) | (old & RTE_REMOTE_IRR);
        if ((redirection[pin] & RTE_LEVEL) == 0) {
            redirection[pin] &= ~RTE_REMOTE_IRR; // remote IRR is undefined for edge entries; keep it clear
        }
        service(pin); // an unmasked level pin that is already asserted fires now
    }

    /** Guest accesses with a width or at an offset the chip does not decode. */
    public synchronized long missedAccesses() {
        return missedAccesses;
    }
}
