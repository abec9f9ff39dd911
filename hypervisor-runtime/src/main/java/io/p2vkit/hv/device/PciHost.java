package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/**
 * PCI configuration mechanism #1 (PCI 3.0 §3.2.2.3.2) at ports 0xCF8-0xCFF, for bus 0: a dword
 * CONFIG_ADDRESS at 0xCF8 and a CONFIG_DATA window at 0xCFC-0xCFF. Byte 0xCF9 is the PIIX3 reset
 * control register, which SeaBIOS and Linux use to reboot. Functions that do not exist read all
 * ones, which is how firmware enumerates the bus.
 */
public final class PciHost implements PortIoDevice {

    public static final int PORT_ADDRESS = 0;        // 0xCF8, dword only
    public static final int PORT_RESET_CONTROL = 1;  // 0xCF9, byte: PIIX3 RCR
    public static final int PORT_DATA = 4;           // 0xCFC-0xCFF

    public static final int ADDRESS_ENABLE = 0x8000_0000;
    public static final int RCR_SYSTEM_RESET = 0x02; // hard reset when the CPU-reset bit rises
    public static final int RCR_RESET_CPU = 0x04;

    private final PciFunction[][] functions = new PciFunction[32][8];
    private final ResetSignal reset;
    private int address;
    private int resetControl;
    private long missed;

    public PciHost(ResetSignal reset) {
        this.reset = reset;
    }

    /** Plugs {@code f} in at bus 0, {@code device}.{@code function} (machine builder only). */
    public synchronized void plug(int device, int function, PciFunction f) {
        if (functions[device][function] != null) {
            throw new IllegalArgumentException("PCI 00:" + device + "." + function + " is taken by "
                    + functions[device][function].name());
        }
        functions[device][function] = f;
    }

    public synchronized PciFunction at(int device, int function) {
        return functions[device][function];
    }

    @Override
    public synchronized int read(int offset, int size) {
        if (offset == PORT_ADDRESS && size == 4) {
            return address;
        }
        if (offset == PORT_RESET_CONTROL && size == 1) {
            return resetControl;
        }
        if (offset >= PORT_DATA) {
            PciFunction f = selected();
            int reg = (address & 0xFC) + (offset - PORT_DATA);
            if (f == null || reg + size > 256) {
                return ones(size);
            }
            return f.readConfig(reg, size);
        }
        missed++;
        return ones(size);
    }

    @Override
    public synchronized void write(int offset, int size, int value) {
        if (offset == PORT_ADDRESS && size == 4) {
            address = value & 0x80FF_FFFC;
            return;
        }
        if (offset == PORT_RESET_CONTROL && size == 1) {
            boolean rising = (value & RCR_RESET_CPU) != 0 && (resetControl & RCR_RESET_CPU) == 0;
            resetControl = value & 0x0E;
            if (rising) {
                reset.request("PIIX3 reset control (port 0xCF9) = 0x" + Integer.toHexString(value & 0xFF));
            }
            return;
        }
        if (offset >= PORT_DATA) {
            PciFunction f = selected();
            int reg = (address & 0xFC) + (offset - PORT_DATA);
            if (f == null || reg + size > 256) {
                missed++;
                return;
            }
            f.writeConfig(reg, size, value);
            return;
        }
        missed++;
    }

    /** The function CONFIG_ADDRESS names, or null (disabled, another bus, or nothing there). */
    private PciFunction selected() {
        if ((address & ADDRESS_ENABLE) == 0 || ((address >> 16) & 0xFF) != 0) {
            return null;
        }
        return functions[(address >> 11) & 0x1F][(address >> 8) & 0x7];
    }

    private static int ones(int size) {
        return size == 4 ? -1 : (1 << (8 * size)) - 1;
    }

    /** Accesses of the wrong width, and configuration cycles to absent functions. */
    public synchronized long missedAccesses() {
        return missed;
    }
}
