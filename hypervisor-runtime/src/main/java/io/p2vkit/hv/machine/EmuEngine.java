package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;

import java.lang.foreign.MemorySegment;

/**
 * The emulator engine: vCPUs from a {@link VcpuFactory}, with the machine's own PIC and PIT on
 * the bus and, when the factory makes vCPUs with local APICs, the machine's IOAPIC and one
 * local APIC per vCPU. The emulator reads and writes {@code GuestMemory} itself, so memory mapping is a no-op;
 * PAM write protection of the BIOS area is therefore not enforced under this engine.
 */
public final class EmuEngine implements Engine {

    private final VcpuFactory factory;

    public EmuEngine(VcpuFactory factory) {
        this.factory = factory;
    }

    @Override
    public String name() {
        return "emu";
    }

    @Override
    public EngineBinding bind(GuestMemory memory, Bus bus) {
        boolean apics = factory.withApics(memory, bus, 1) != null;
        return new EngineBinding() {
            private VcpuFactory.ApicVcpus apicVcpus;

            @Override
            public boolean hasInKernelIrqchip() {
                return false;
            }

            @Override
            public IrqLine irqLine(int gsi) {
                throw new UnsupportedOperationException("the emulator uses the machine's PIC");
            }

            @Override
            public void mapMemory(long gpa, MemorySegment host, boolean readOnly) {
            }

            @Override
            public void setReadOnly(long gpa, boolean readOnly) {
            }

            @Override
            public Vcpu createVcpu(int index, InterruptController pic) {
                return factory.create(memory, bus, pic);
            }

            @Override
            public boolean usesMachineApics() {
                return apics;
            }

            @Override
            public Vcpu createVcpu(int index, int count, LocalApicAccess apic) {
                if (apicVcpus == null) {
                    apicVcpus = factory.withApics(memory, bus, count);   // one shared set per machine
                }
                return apicVcpus.create(index, apic);
            }

            @Override
            public String describe() {
                return apics ? "emu: x86 emulator, local APICs and IOAPIC" : "emu: x86 emulator";
            }

            @Override
            public void close() {
            }
        };
    }
}
