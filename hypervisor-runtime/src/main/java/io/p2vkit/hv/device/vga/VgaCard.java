package io.p2vkit.hv.device.vga;

import io.p2vkit.hv.bus.MmioDevice;
import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.device.Clock;

/**
 * A standard VGA adapter: the register file ({@link #ports()}, to be placed at 0x3B0-0x3DF) and the
 * memory window ({@link #memoryWindow()}, at 0xA0000-0xBFFFF) over four 64 KiB planes. The vCPU
 * drives both; another thread takes {@link #snapshot()}s to read or draw the screen, so every
 * access holds the card's lock. A graphics mode is noticed when the guest selects it.
 */
public final class VgaCard {

    public static final int PORT_BASE = VgaRegisters.BASE_PORT;
    public static final int PORT_COUNT = VgaRegisters.PORT_COUNT;
    public static final long WINDOW_BASE = VgaMemory.WINDOW_BASE;
    public static final int WINDOW_SIZE = VgaMemory.WINDOW_SIZE;

    private final VgaRegisters regs;
    private final VgaMemory memory;
    private final PortIoDevice ports;
    private final MmioDevice window;
    private volatile boolean graphicsEntered;

    public VgaCard(Clock clock) {
        regs = new VgaRegisters(clock);
        memory = new VgaMemory(regs);
        regs.modeListener = () -> {
            if (regs.graphicsMode()) {
                graphicsEntered = true;
            }
        };
        ports = new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (VgaCard.this) {
                    return regs.read(offset, size);
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                synchronized (VgaCard.this) {
                    regs.write(offset, size, value);
                }
            }
        };
        window = new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                synchronized (VgaCard.this) {
                    return memory.read(offset, size);
                }
            }

            @Override
            public void write(long offset, int size, long value) {
                synchronized (VgaCard.this) {
                    memory.write(offset, size, value);
                }
            }
        };
    }

    /** The registers, offsets from port 0x3B0. */
    public PortIoDevice ports() {
        return ports;
    }

    /** The CPU's window onto the planes, offsets from 0xA0000. */
    public MmioDevice memoryWindow() {
        return window;
    }

    /** A consistent copy of the planes and registers, for reading and drawing the screen. */
    public synchronized VgaSnapshot snapshot() {
        return new VgaSnapshot(memory.planes.clone(), regs.seq.clone(), regs.crtc.clone(), regs.gc.clone(),
                regs.attr.registers(), regs.attr.paletteSourceOn(), regs.dac.table(), regs.dac.pixelMask(), regs.misc);
    }

    /** Whether the guest has selected a graphics mode at any time (it may have gone back to text). */
    public boolean graphicsEntered() {
        return graphicsEntered;
    }

    /** Register accesses that hit no register and memory accesses outside the mapped window. */
    public synchronized long missedAccesses() {
        return regs.missedAccesses() + memory.outsideWindowAccesses();
    }
}
