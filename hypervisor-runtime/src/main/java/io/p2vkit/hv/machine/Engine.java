package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.memory.GuestMemory;

/**
 * A CPU engine: KVM ({@code io.p2vkit.hv.kvm.KvmEngine}) or the emulator ({@link EmuEngine}).
 * The machine binds it to its memory and bus once; the binding then makes vCPUs and delivers IRQs.
 */
public interface Engine {

    /** "kvm" or "emu". */
    String name();

    /** Prepares a VM over {@code memory} whose port I/O and MMIO go to {@code bus}. */
    EngineBinding bind(GuestMemory memory, Bus bus);
}
