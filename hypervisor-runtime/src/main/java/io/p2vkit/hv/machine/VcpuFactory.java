package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;

/**
 * How an emulator makes a vCPU: from the guest's memory, the bus its port I/O and MMIO go to,
 * and the interrupt controller it asks for interrupts. The emulator engine ({@code io.p2vkit.hv.emu})
 * supplies one of these; nothing else in the machine knows about it.
 */
@FunctionalInterface
public interface VcpuFactory {

    /** A lone vCPU whose interrupts come from {@code pic} (the 8259 pair; null for none). */
    Vcpu create(GuestMemory memory, Bus bus, InterruptController pic);

    /**
     * The vCPUs of one machine with local APICs ({@code count} of them sharing memory), or null
     * when this factory makes only the lone PIC-driven kind.
     */
    default ApicVcpus withApics(GuestMemory memory, Bus bus, int count) {
        return null;
    }

    /** Makes vCPU {@code index} around its local APIC. */
    @FunctionalInterface
    interface ApicVcpus {
        Vcpu create(int index, LocalApicAccess apic);
    }
}
