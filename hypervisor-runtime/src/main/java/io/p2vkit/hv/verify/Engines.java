package io.p2vkit.hv.verify;

import io.p2vkit.hv.emu.EmuVcpus;
import io.p2vkit.hv.machine.AccelChooser;
import io.p2vkit.hv.machine.Engine;

/**
 * Where the engines meet: the machine knows engines only through {@link Engine}, the emulator
 * only through its vCPU; this is the one place that hands the emulator's vCPU to the machine.
 */
public final class Engines {

    private Engines() {
    }

    /** The engine {@code --accel auto|kvm|emu} asks for, with the chooser's reason. */
    public static AccelChooser.Choice choose(String accel) {
        return AccelChooser.choose(accel);
    }

    /** A ready engine for a choice: KVM, or the emulator with {@link EmuVcpus}. */
    public static Engine of(AccelChooser.Choice choice) {
        return choice.engine(new EmuVcpus());
    }
}
