package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;

import java.util.ArrayDeque;

/**
 * A 16550A UART (COM1 at 0x3F8, IRQ 4 on a PC). Transmission is instant: a byte written to THR
 * goes to the sink and THR is empty again, so the THRE interrupt fires at once when enabled —
 * which is what Linux's 8250 driver probes for at startup. Register map: National Semiconductor
 * PC16550D datasheet, table II.
 */
public final class Serial16550 implements PortIoDevice {

    // Register offsets (DLAB = LCR bit 7 selects the divisor latch at 0 and 1).
    public static final int REG_DATA = 0;      // RBR (read) / THR (write) / DLL (DLAB)
    public static final int REG_IER = 1;       // interrupt enable / DLM (DLAB)
    public static final int REG_IIR_FCR = 2;   // interrupt identification (read) / FIFO control (write)
    public static final int REG_LCR = 3;       // line control
    public static final int REG_MCR = 4;       // modem control
    public static final int REG_LSR = 5;       // line status
    public static final int REG_MSR = 6;       // modem status
    public static final int REG_SCR = 7;       // scratch

    public static final int IER_RDA = 0x01;    // received data available
    public static final int IER_THRE = 0x02;   // transmitter holding register empty
    public static final int IER_RLS = 0x04;    // receiver line status
    public static final int IER_MS = 0x08;     // modem status

    public static final int IIR_NONE = 0x01;   // no interrupt pending
    public static final int IIR_MS = 0x00;
    public static final int IIR_THRE = 0x02;
    public static final int IIR_RDA = 0x04;
    public static final int IIR_RLS = 0x06;
    public static final int IIR_FIFO_ENABLED = 0xC0; // both bits: a 16550A with working FIFOs

    public static final int FCR_ENABLE = 0x01;
    public static final int FCR_CLEAR_RX = 0x02;
    public static final int FCR_CLEAR_TX = 0x04;

    public static final int LCR_DLAB = 0x80;

    public static final int MCR_DTR = 0x01;
    public static final int MCR_RTS = 0x02;
    public static final int MCR_OUT1 = 0x04;
    public static final int MCR_OUT2 = 0x08;   // gates the interrupt to the PIC on a PC
    public static final int MCR_LOOP = 0x10;

    public static final int LSR_DR = 0x01;     // data ready
    public static final int LSR_OE = 0x02;     // overrun error
    public static final int LSR_BI = 0x10;     // break interrupt
    public static final int LSR_THRE = 0x20;   // THR empty
    public static final int LSR_TEMT = 0x40;   // transmitter empty

    public static final int MSR_DCTS = 0x01;
    public static final int MSR_DDSR = 0x02;
    public static final int MSR_TERI = 0x04;
    public static final int MSR_DDCD = 0x08;
    public static final int MSR_CTS = 0x10;
    public static final int MSR_DSR = 0x20;
    public static final int MSR_RI = 0x40;
    public static final int MSR_DCD = 0x80;

    /** Receive FIFO depth (the chip has 16; a deeper buffer loses less pasted input, as kvmtool does). */
    static final int RX_CAPACITY = 64;

    private final IrqLine irq;
    private final ByteSink out;

    private final ArrayDeque<Integer> rx = new ArrayDeque<>();
    private int ier;
    private int lcr = 0x03;
    private int mcr = MCR_OUT2;
    private int lsrErrors;
    private int msr = MSR_DCD | MSR_DSR | MSR_CTS;
    private int scr;
    private int dll = 0x0C;   // 9600 baud
    private int dlm;
    private boolean fifoEnabled;
    private boolean thrInterruptPending;
    private boolean irqLevel;
    private long missed;
    private long transmitted;

    public Serial16550(IrqLine irq, ByteSink out) {
        this.irq = irq;
        this.out = out;
    }

    @Override
    public synchronized int read(int offset, int size) {
        if (size != 1) {
            missed++;
        }
        int v = switch (offset) {
            case REG_DATA -> (lcr & LCR_DLAB) != 0 ? dll : readRbr();
            case REG_IER -> (lcr & LCR_DLAB) != 0 ? dlm : ier;
            case REG_IIR_FCR -> readIir();
            case REG_LCR -> lcr;
            case REG_MCR -> mcr;
            case REG_LSR -> readLsr();
            case REG_MSR -> readMsr();
            case REG_SCR -> scr;
            default -> {
                missed++;
                yield 0xFF;
            }
        };
        update();
        return v;
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        if (size != 1) {
            missed++;
        }
        int v = value & 0xFF;
        switch (offset) {
            case REG_DATA -> {
                if ((lcr & LCR_DLAB) != 0) {
                    dll = v;
                } else {
                    transmit(v);
                }
            }
            case REG_IER -> {
                if ((lcr & LCR_DLAB) != 0) {
                    dlm = v;
                } else {
                    // Enabling THRE while THR is empty raises it at once (8250 driver's THRE test).
                    if ((v & IER_THRE) != 0 && (ier & IER_THRE) == 0) {
                        thrInterruptPending = true;
                    }
                    ier = v & 0x0F;
                }
            }
            case REG_IIR_FCR -> {
                fifoEnabled = (v & FCR_ENABLE) != 0;
                if ((v & FCR_CLEAR_RX) != 0 || !fifoEnabled) {
                    rx.clear();
                }
            }
            case REG_LCR -> lcr = v;
            case REG_MCR -> writeMcr(v & 0x1F);
            case REG_LSR, REG_MSR -> missed++;   // read-only on the 16550 (factory test only)
            case REG_SCR -> scr = v;
            default -> missed++;
        }
        update();
    }

    /** Host input for the guest (a keyboard on the console). Bytes beyond the FIFO overrun. */
    public synchronized void receive(byte[] data) {
        for (byte b : data) {
            enqueue(b & 0xFF);
        }
        update();
    }

    private void transmit(int v) {
        if ((mcr & MCR_LOOP) != 0) {
            enqueue(v);
        } else {
            out.put(v);
            transmitted++;
        }
        thrInterruptPending = true;   // THR is empty again at once
    }

    private void enqueue(int v) {
        if (rx.size() >= (fifoEnabled ? RX_CAPACITY : 1)) {
            lsrErrors |= LSR_OE;
            return;
        }
        rx.addLast(v);
    }

    private int readRbr() {
        Integer b = rx.pollFirst();
        return b == null ? 0 : b;
    }

    private int readIir() {
        int id = pendingInterrupt();
        if (id == IIR_THRE) {
            thrInterruptPending = false;   // reading IIR with THRE as the source clears it
        }
        return id | (fifoEnabled ? IIR_FIFO_ENABLED : 0);
    }

    private int readLsr() {
        int v = LSR_THRE | LSR_TEMT | lsrErrors | (rx.isEmpty() ? 0 : LSR_DR);
        lsrErrors = 0;
        return v;
    }

    private int readMsr() {
        int v = msr;
        msr &= 0xF0;   // reading clears the delta bits
        return v;
    }

    private void writeMcr(int v) {
        int old = mcr;
        mcr = v;
        int status;
        if ((v & MCR_LOOP) != 0) {
            // Loopback: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD (Linux's autoconfig checks this).
            status = ((v & MCR_RTS) != 0 ? MSR_CTS : 0) | ((v & MCR_DTR) != 0 ? MSR_DSR : 0)
                    | ((v & MCR_OUT1) != 0 ? MSR_RI : 0) | ((v & MCR_OUT2) != 0 ? MSR_DCD : 0);
        } else {
            status = MSR_DCD | MSR_DSR | MSR_CTS;
        }
        int changed = (status ^ msr) & 0xF0;
        int delta = ((changed & MSR_CTS) != 0 ? MSR_DCTS : 0) | ((changed & MSR_DSR) != 0 ? MSR_DDSR : 0)
                | ((changed & MSR_DCD) != 0 ? MSR_DDCD : 0)
                | ((msr & MSR_RI) != 0 && (status & MSR_RI) == 0 ? MSR_TERI : 0);
        msr = status | (msr & 0x0F) | delta;
        if (((old ^ v) & MCR_LOOP) != 0) {
            rx.clear();
        }
    }

    /** The highest-priority pending source (datasheet table IV), or IIR_NONE. */
    private int pendingInterrupt() {
        if ((ier & IER_RLS) != 0 && lsrErrors != 0) {
            return IIR_RLS;
        }
        if ((ier & IER_RDA) != 0 && !rx.isEmpty()) {
            return IIR_RDA;
        }
        if ((ier & IER_THRE) != 0 && thrInterruptPending) {
            return IIR_THRE;
        }
        if ((ier & IER_MS) != 0 && (msr & 0x0F) != 0) {
            return IIR_MS;
        }
        return IIR_NONE;
    }

    private void update() {
        boolean level = pendingInterrupt() != IIR_NONE && (mcr & MCR_OUT2) != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /** Accesses of a wrong width or to a read-only register. */
    public synchronized long missedAccesses() {
        return missed;
    }

    public synchronized long transmittedBytes() {
        return transmitted;
    }
}
