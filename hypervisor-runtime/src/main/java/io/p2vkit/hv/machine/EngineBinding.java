package io.p2vkit.hv.machine;

import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.cpu.Vcpu;

import java.lang.foreign.MemorySegment;

/** One engine bound to one machine. */
public interface EngineBinding extends AutoCloseable {

    /**
     * Whether the engine brings its own 8259 pair, 8254 and port 0x61 (KVM's in-kernel irqchip
     * and PIT). Then the machine leaves those off the bus and raises IRQs through {@link #irqLine}.
     */
    boolean hasInKernelIrqchip();

    /** The line for global system interrupt {@code gsi} (only with an in-kernel irqchip). */
    IrqLine irqLine(int gsi);

    /**
     * Makes {@code host} the guest's memory at {@code gpa}. Engines that read {@code GuestMemory}
     * directly (the emulator) need not do anything.
     */
    void mapMemory(long gpa, MemorySegment host, boolean readOnly);

    /** Changes whether a range previously given to {@link #mapMemory} accepts guest writes. */
    void setReadOnly(long gpa, boolean readOnly);

    /** Creates vCPU {@code index}; {@code pic} is the machine's PIC when the engine has none. */
    Vcpu createVcpu(int index, InterruptController pic);

    /**
     * Whether vCPUs are built around local APICs the machine models (the emulator), with the
     * machine's IOAPIC beside its 8259s; then the machine calls {@link #createVcpu(int, int, LocalApicAccess)}.
     */
    default boolean usesMachineApics() {
        return false;
    }

    /** Creates vCPU {@code index} of {@code count} around its local APIC. */
    default Vcpu createVcpu(int index, int count, LocalApicAccess apic) {
        throw new UnsupportedOperationException(describe() + " brings its own local APICs");
    }

    /** One line about the engine for reports ("kvm: API 12, in-kernel irqchip"). */
    String describe();

    @Override
    void close();
}
