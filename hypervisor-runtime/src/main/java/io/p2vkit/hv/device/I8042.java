package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;

import java.util.ArrayDeque;

/**
 * The 8042 keyboard controller (data 0x60, status/command 0x64) with a keyboard that answers
 * its commands but never types. What guests need from it: the self tests SeaBIOS and Linux run,
 * the command byte, reset by pulsing output line 0 (command 0xFE, Linux's and DOS's reboot), and
 * A20 through the output port (0xD1). No mouse is attached. Commands: IBM PS/2 Technical
 * Reference, "Keyboard/Auxiliary Device Controller".
 */
public final class I8042 {

    public static final int STATUS_OBF = 0x01;       // output buffer full
    public static final int STATUS_SYS = 0x04;       // system flag (self test passed)
    public static final int STATUS_CMD = 0x08;       // last write was to 0x64
    public static final int STATUS_UNLOCKED = 0x10;  // keyboard not inhibited
    public static final int STATUS_AUX_OBF = 0x20;

    public static final int CCB_KBD_INT = 0x01;
    public static final int CCB_SYS = 0x04;
    public static final int CCB_TRANSLATE = 0x40;

    public static final int CMD_READ_CCB = 0x20;
    public static final int CMD_WRITE_CCB = 0x60;
    public static final int CMD_DISABLE_AUX = 0xA7;
    public static final int CMD_ENABLE_AUX = 0xA8;
    public static final int CMD_TEST_AUX = 0xA9;
    public static final int CMD_SELF_TEST = 0xAA;
    public static final int CMD_TEST_KBD = 0xAB;
    public static final int CMD_DISABLE_KBD = 0xAD;
    public static final int CMD_ENABLE_KBD = 0xAE;
    public static final int CMD_READ_OUTPUT = 0xD0;
    public static final int CMD_WRITE_OUTPUT = 0xD1;
    public static final int CMD_WRITE_KBD_BUFFER = 0xD2;
    public static final int CMD_WRITE_AUX_BUFFER = 0xD3;
    public static final int CMD_WRITE_AUX = 0xD4;
    public static final int CMD_DISABLE_A20 = 0xDD;
    public static final int CMD_ENABLE_A20 = 0xDF;
    public static final int CMD_PULSE_RESET = 0xFE;

    public static final int OUTPUT_RESET = 0x01;     // active low: 0 holds the CPU in reset
    public static final int OUTPUT_A20 = 0x02;

    public static final int KBD_ACK = 0xFA;
    public static final int KBD_RESEND = 0xFE;
    public static final int KBD_BAT_OK = 0xAA;

    private final IrqLine irq1;
    private final ResetSignal reset;
    private final A20Gate a20;
    private final ArrayDeque<Integer> out = new ArrayDeque<>();
    private int ccb = CCB_KBD_INT | CCB_SYS | CCB_TRANSLATE;
    private int status = STATUS_UNLOCKED;
    private int pendingCommand = -1;      // controller command waiting for its data byte
    private int pendingKeyboard = -1;     // keyboard command waiting for its argument
    private boolean irqLevel;
    private long missed;

    public I8042(IrqLine irq1, ResetSignal reset, A20Gate a20) {
        this.irq1 = irq1;
        this.reset = reset;
        this.a20 = a20;
    }

    public PortIoDevice dataPort() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return readData();
            }

            @Override
            public void write(int offset, int size, int value) {
                writeData(value & 0xFF);
            }
        };
    }

    public PortIoDevice commandPort() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (I8042.this) {
                    return status | (out.isEmpty() ? 0 : STATUS_OBF);
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                command(value & 0xFF);
            }
        };
    }

    synchronized int readData() {
        Integer b = out.pollFirst();
        update();
        return b == null ? 0 : b;
    }

    synchronized void writeData(int v) {
        status &= ~STATUS_CMD;
        int cmd = pendingCommand;
        pendingCommand = -1;
        switch (cmd) {
            case CMD_WRITE_CCB -> {
                ccb = v;
                status = (status & ~STATUS_SYS) | (v & CCB_SYS);
            }
            case CMD_WRITE_OUTPUT -> writeOutputPort(v);
            case CMD_WRITE_KBD_BUFFER, CMD_WRITE_AUX_BUFFER -> push(v);
            case CMD_WRITE_AUX -> missed++;   // no mouse: the byte goes nowhere
            default -> keyboard(v);
        }
        update();
    }

    synchronized void command(int v) {
        status |= STATUS_CMD;
        switch (v) {
            case CMD_READ_CCB -> push(ccb);
            case CMD_WRITE_CCB, CMD_WRITE_OUTPUT, CMD_WRITE_KBD_BUFFER, CMD_WRITE_AUX_BUFFER, CMD_WRITE_AUX ->
                    pendingCommand = v;
            case CMD_DISABLE_AUX, CMD_ENABLE_AUX -> { }
            case CMD_TEST_AUX, CMD_TEST_KBD -> push(0x00);   // interface test passed
            case CMD_SELF_TEST -> {
                status |= STATUS_SYS;
                push(0x55);
            }
            case CMD_DISABLE_KBD -> ccb |= 0x10;
            case CMD_ENABLE_KBD -> ccb &= ~0x10;
            case CMD_READ_OUTPUT -> push(OUTPUT_RESET | (a20.enabled() ? OUTPUT_A20 : 0));
            case CMD_DISABLE_A20 -> a20.set(false);
            case CMD_ENABLE_A20 -> a20.set(true);
            default -> {
                if (v >= 0xF0) {
                    // Pulse output lines: bit 0 clear in the mask pulses the reset line.
                    if ((v & 1) == 0) {
                        reset.request("keyboard controller reset (command 0x" + Integer.toHexString(v) + ")");
                    }
                } else {
                    missed++;
                }
            }
        }
        update();
    }

    private void writeOutputPort(int v) {
        a20.set((v & OUTPUT_A20) != 0);
        if ((v & OUTPUT_RESET) == 0) {
            reset.request("keyboard controller output port reset bit cleared");
        }
    }

    /** The keyboard's side of the data port (IBM PS/2 keyboard command set). */
    private void keyboard(int v) {
        if (pendingKeyboard >= 0) {
            int cmd = pendingKeyboard;
            pendingKeyboard = -1;
            push(KBD_ACK);
            if (cmd == 0xF0 && v == 0) {
                push(0x02);   // current scan code set
            }
            return;
        }
        switch (v) {
            case 0xFF -> {
                push(KBD_ACK);
                push(KBD_BAT_OK);
            }
            case 0xF2 -> {
                push(KBD_ACK);
                push(0xAB);
                push(0x83);   // MF2 keyboard
            }
            case 0xED, 0xF3, 0xF0 -> {
                pendingKeyboard = v;
                push(KBD_ACK);
            }
            case 0xEE -> push(0xEE);
            case 0xF4, 0xF5, 0xF6 -> push(KBD_ACK);
            default -> push(KBD_RESEND);
        }
    }

    private void push(int b) {
        if (out.size() < 16) {
            out.addLast(b & 0xFF);
        }
    }

    private void update() {
        boolean level = !out.isEmpty() && (ccb & CCB_KBD_INT) != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq1.set(level);
        }
    }

    public synchronized int commandByte() {
        return ccb;
    }

    public synchronized long missedAccesses() {
        return missed;
    }
}
