package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

/** Port 0x92, "system control port A" (fast A20 and fast reset), as on PS/2 and every chipset since. */
public final class Port92 implements PortIoDevice {

    public static final int A_FAST_RESET = 0x01;
    public static final int A_A20 = 0x02;

    private final A20Gate a20;
    private final ResetSignal reset;

    public Port92(A20Gate a20, ResetSignal reset) {
        this.a20 = a20;
        this.reset = reset;
    }

    @Override
    public int read(int offset, int size) {
        return a20.enabled() ? A_A20 : 0;
    }

    @Override
    public void write(int offset, int size, int value) {
        a20.set((value & A_A20) != 0);
        if ((value & A_FAST_RESET) != 0) {
            reset.request("fast reset through port 0x92");
        }
    }
}
