package io.p2vkit.hv.machine;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;

import java.lang.foreign.MemorySegment;

/**
 * The emulator engine: vCPUs from a {@link VcpuFactory}, with the machine's own PIC and PIT on
 * the bus. The emulator reads and writes {@code GuestMemory} itself, so memory mapping is a no-op;
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
        return new EngineBinding() {
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
            public String describe() {
                return "emu: x86 emulator";
            }

            @Override
            public void close() {
            }
        };
    }
}
