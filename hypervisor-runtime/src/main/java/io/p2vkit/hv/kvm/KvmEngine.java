package io.p2vkit.hv.kvm;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.EngineBinding;
import io.p2vkit.hv.memory.GuestMemory;

import java.lang.foreign.MemorySegment;

/**
 * The KVM engine: a VM with the in-kernel irqchip and PIT, the machine's memory mapped as slots,
 * and vCPUs whose exits go to the bus.
 */
public final class KvmEngine implements Engine {

    @Override
    public String name() {
        return "kvm";
    }

    @Override
    public EngineBinding bind(GuestMemory memory, Bus bus) {
        Kvm kvm = Kvm.open();
        KvmVm vm;
        try {
            vm = kvm.createVm();
            vm.setupRealModeSupport();
            vm.createIrqchipAndPit();
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
        return new EngineBinding() {
            @Override
            public boolean hasInKernelIrqchip() {
                return true;
            }

            @Override
            public IrqLine irqLine(int gsi) {
                return vm.irqLine(gsi);
            }

            @Override
            public void mapMemory(long gpa, MemorySegment host, boolean readOnly) {
                vm.map(gpa, host, readOnly);
            }

            @Override
            public void setReadOnly(long gpa, boolean readOnly) {
                vm.setReadOnly(gpa, readOnly);
            }

            @Override
            public Vcpu createVcpu(int index, InterruptController pic) {
                return vm.createVcpu(index, bus);
            }

            @Override
            public String describe() {
                return "kvm: API " + Kvm.API_VERSION + ", in-kernel irqchip and PIT, read-only slots "
                        + (vm.readOnlyMemorySupported() ? "supported" : "unsupported");
            }

            @Override
            public void close() {
                vm.close();
                kvm.close();
            }
        };
    }
}
