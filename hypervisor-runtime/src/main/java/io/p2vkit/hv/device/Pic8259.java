package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.IrqLine;

/**
 * The PC's cascaded pair of 8259A interrupt controllers: the master at 0x20-0x21 with the slave
 * on its IR2, the slave at 0xA0-0xA1, and the PIIX edge/level control registers (ELCR) at
 * 0x4D0-0x4D1. The emulator engine asks {@link #hasPendingInterrupt()} and runs the INTA cycle with
 * {@link #acknowledge()}; on KVM the in-kernel PIC takes the same ports instead. Initialization
 * command words, fully nested priority with rotation off: Intel 8259A datasheet, "Programming".
 */
public final class Pic8259 implements InterruptController {

    public static final int ICW1_IC4 = 0x01;      // ICW4 follows
    public static final int ICW1_SINGLE = 0x02;   // no cascade: ICW3 is skipped
    public static final int ICW1_INIT = 0x10;
    public static final int ICW4_AEOI = 0x02;     // automatic end of interrupt
    public static final int OCW2_EOI = 0x20;
    public static final int OCW2_SPECIFIC = 0x40;
    public static final int OCW3_MARKER = 0x08;
    public static final int OCW3_READ_REG = 0x02; // with bit 0: 0 = IRR, 1 = ISR
    public static final int OCW3_POLL = 0x04;
    public static final int SLAVE_INPUT = 2;

    /** One 8259A. */
    static final class Chip {
        int irr;
        int imr = 0xFF;
        int isr;
        int elcr;
        int lines;
        int vectorBase;
        int initStep;       // 0 = operational; 2..4 = next ICW expected
        boolean expectIcw4;
        boolean single;
        boolean autoEoi;
        boolean readIsr;
        boolean poll;

        /** Highest-priority pending input (0 highest) not blocked by one in service, or -1. */
        int pending() {
            int requests = irr & ~imr;
            for (int i = 0; i < 8; i++) {
                if ((isr & (1 << i)) != 0) {
                    return -1;   // an equal or higher one is in service
                }
                if ((requests & (1 << i)) != 0) {
                    return i;
                }
            }
            return -1;
        }

        void setLine(int irq, boolean level) {
            int bit = 1 << irq;
            boolean was = (lines & bit) != 0;
            if (level) {
                lines |= bit;
                if (!was || (elcr & bit) != 0) {
                    irr |= bit;   // edge mode latches the rising edge; level mode follows the line
                }
            } else {
                lines &= ~bit;
                if ((elcr & bit) != 0) {
                    irr &= ~bit;
                }
            }
        }

        void ack(int irq) {
            int bit = 1 << irq;
            if ((elcr & bit) == 0) {
                irr &= ~bit;
            }
            if (!autoEoi) {
                isr |= bit;
            }
        }
    }

    private final Chip master = new Chip();
    private final Chip slave = new Chip();
    private long missed;
    private long spurious;

    public Pic8259() {
        master.vectorBase = 0x08;
        slave.vectorBase = 0x70;
    }

    /** Ports 0x20-0x21. */
    public PortIoDevice masterPorts() {
        return ports(master);
    }

    /** Ports 0xA0-0xA1. */
    public PortIoDevice slavePorts() {
        return ports(slave);
    }

    /** ELCR1/ELCR2 at 0x4D0-0x4D1. IRQ 0, 1, 2, 8 and 13 are always edge (PIIX datasheet). */
    public PortIoDevice elcrPorts() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (Pic8259.this) {
                    return (offset == 0 ? master : slave).elcr;
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                synchronized (Pic8259.this) {
                    if (offset == 0) {
                        master.elcr = value & 0xF8;
                    } else {
                        slave.elcr = value & 0xDE;
                    }
                }
            }
        };
    }

    /** The IRQ line for ISA interrupt {@code irq} (0-15). */
    public IrqLine line(int irq) {
        return level -> setIrq(irq, level);
    }

    public synchronized void setIrq(int irq, boolean level) {
        if (irq < 8) {
            master.setLine(irq, level);
        } else {
            slave.setLine(irq - 8, level);
            cascade();
        }
    }

    /**
     * The slave's INT output drives master input 2 as a level: requested while the slave has an
     * unmasked request not blocked by its in-service bits, withdrawn when that goes away.
     */
    private void cascade() {
        if (slave.pending() >= 0) {
            master.irr |= 1 << SLAVE_INPUT;
        } else {
            master.irr &= ~(1 << SLAVE_INPUT);
        }
    }

    @Override
    public synchronized boolean hasPendingInterrupt() {
        return master.pending() >= 0;
    }

    @Override
    public synchronized int acknowledge() {
        int irq = master.pending();
        if (irq < 0) {
            spurious++;
            return master.vectorBase + 7;   // spurious IRQ 7
        }
        master.ack(irq);
        if (irq != SLAVE_INPUT || master.single) {
            return master.vectorBase + irq;
        }
        int s = slave.pending();
        int vector;
        if (s < 0) {
            spurious++;
            vector = slave.vectorBase + 7;   // spurious IRQ 15
        } else {
            slave.ack(s);
            vector = slave.vectorBase + s;
        }
        cascade();
        return vector;
    }

    private PortIoDevice ports(Chip chip) {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (Pic8259.this) {
                    if (size != 1) {
                        missed++;
                    }
                    if (chip.poll) {
                        chip.poll = false;
                        int irq = chip.pending();
                        if (irq < 0) {
                            return 0;
                        }
                        chip.ack(irq);
                        return 0x80 | irq;
                    }
                    if (offset == 1) {
                        return chip.imr;
                    }
                    return chip.readIsr ? chip.isr : chip.irr;
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                synchronized (Pic8259.this) {
                    if (size != 1) {
                        missed++;
                    }
                    writeChip(chip, offset, value & 0xFF);
                    if (chip == slave) {
                        cascade();
                    }
                }
            }
        };
    }

    private void writeChip(Chip c, int offset, int v) {
        if (offset == 0) {
            if ((v & ICW1_INIT) != 0) {
                c.initStep = 2;
                c.expectIcw4 = (v & ICW1_IC4) != 0;
                c.single = (v & ICW1_SINGLE) != 0;
                c.imr = 0;
                c.isr = 0;
                c.irr = 0;
                c.autoEoi = false;
                c.readIsr = false;
                c.lines = 0;
            } else if ((v & OCW3_MARKER) != 0) {
                if ((v & OCW3_READ_REG) != 0) {
                    c.readIsr = (v & 1) != 0;
                }
                c.poll = (v & OCW3_POLL) != 0;
            } else {
                ocw2(c, v);
            }
            return;
        }
        switch (c.initStep) {
            case 2 -> {
                c.vectorBase = v & 0xF8;
                c.initStep = c.single ? (c.expectIcw4 ? 4 : 0) : 3;
            }
            case 3 -> c.initStep = c.expectIcw4 ? 4 : 0;   // cascade wiring is fixed on a PC
            case 4 -> {
                c.autoEoi = (v & ICW4_AEOI) != 0;
                c.initStep = 0;
            }
            default -> c.imr = v;
        }
    }

    private void ocw2(Chip c, int v) {
        if ((v & OCW2_EOI) == 0) {
            missed++;   // rotation commands without EOI: we keep fixed priority
            return;
        }
        if ((v & OCW2_SPECIFIC) != 0) {
            c.isr &= ~(1 << (v & 7));
        } else {
            for (int i = 0; i < 8; i++) {
                if ((c.isr & (1 << i)) != 0) {
                    c.isr &= ~(1 << i);   // non-specific EOI clears the highest in service
                    break;
                }
            }
        }
    }

    public synchronized int masterImr() {
        return master.imr;
    }

    public synchronized long spuriousInterrupts() {
        return spurious;
    }

    public synchronized long missedAccesses() {
        return missed;
    }
}
