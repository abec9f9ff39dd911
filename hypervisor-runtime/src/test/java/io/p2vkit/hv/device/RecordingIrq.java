package io.p2vkit.hv.device;

import io.p2vkit.hv.cpu.IrqLine;

/** An IRQ line that remembers its level and counts rising edges. */
final class RecordingIrq implements IrqLine {

    boolean level;
    int raises;

    @Override
    public void set(boolean on) {
        if (on && !level) {
            raises++;
        }
        level = on;
    }
}
