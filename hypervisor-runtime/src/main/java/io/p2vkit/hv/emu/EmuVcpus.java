package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.machine.VcpuFactory;
import io.p2vkit.hv.memory.GuestMemory;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The emulator's vCPU factory: lone vCPUs on the 8259, or the vCPUs of a machine with local
 * APICs. Several vCPUs of one machine share a {@link Smp}: decoded-code coherence and the lock
 * that split locked instructions take.
 */
public final class EmuVcpus implements VcpuFactory {

    /** What the vCPUs of one machine share besides guest memory. */
    record Smp(SharedCode code, ReentrantLock splitLock) {
    }

    @Override
    public Vcpu create(GuestMemory memory, Bus bus, InterruptController pic) {
        return new EmuVcpu(memory, bus, pic);
    }

    @Override
    public ApicVcpus withApics(GuestMemory memory, Bus bus, int count) {
        Smp smp = count > 1 ? new Smp(new SharedCode(), new ReentrantLock()) : null;
        return (index, apic) -> new EmuVcpu(memory, bus, apic, smp, index);
    }
}
