package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;

/**
 * How an emulator makes a vCPU: from the guest's memory, the bus its port I/O and MMIO go to,
 * and the interrupt controller it asks for interrupts. The emulator engine ({@code io.p2vkit.hv.emu})
 * supplies one of these; nothing else in the machine knows about it.
 */
@FunctionalInterface
public interface VcpuFactory {

    Vcpu create(GuestMemory memory, Bus bus, InterruptController pic);
}
