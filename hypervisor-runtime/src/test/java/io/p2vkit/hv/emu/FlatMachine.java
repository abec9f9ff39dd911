package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;

/** A test machine: guest memory regions, an empty bus, and an {@link EmuVcpu} with helpers. */
final class FlatMachine implements AutoCloseable {

    static final int FLAT_CODE32 = 0xC09B;  // present, code, readable, accessed, 32-bit, 4 KiB granular
    static final int FLAT_DATA32 = 0xC093;  // present, data, writable, accessed, 32-bit, 4 KiB granular

    final GuestMemory memory = new GuestMemory();
    final Bus bus = new Bus();
    final EmuVcpu vcpu;
    final Cpu cpu;

    FlatMachine(long[]... regions) {
        for (long[] r : regions) {
            memory.add("ram@" + Long.toHexString(r[0]), r[0], r[1], false);
        }
        vcpu = new EmuVcpu(memory, bus, null);
        cpu = vcpu.cpu();
        // Regions translated on the vCPU's own thread: tests count what ran compiled, and a short
        // program would end before a background translation is installed (RegionTranslatorTest).
        cpu.translator = null;
    }

    /** Flat 32-bit protected mode at CPL 0 without a GDT (descriptor caches loaded directly). */
    void flat32() {
        cpu.mmu.cr0 |= Cpu.CR0_PE;
        cpu.setSegmentCache(Cpu.CS, 0x08, 0, -1, FLAT_CODE32);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.setSegmentCache(s, 0x10, 0, -1, FLAT_DATA32);
        }
        cpu.setCpl(0);
        cpu.mmu.flush();
    }

    /** Real mode with CS:IP = cs:ip and all data segments = ds. */
    void real(int cs, int ip, int ds) {
        cpu.setSegmentCache(Cpu.CS, cs, cs << 4, 0xFFFF, Cpu.ATTR_P | Cpu.ATTR_S | Cpu.ATTR_CODE | 3);
        for (int s : new int[] {Cpu.ES, Cpu.SS, Cpu.DS, Cpu.FS, Cpu.GS}) {
            cpu.setSegmentCache(s, ds, ds << 4, 0xFFFF, Cpu.ATTR_P | Cpu.ATTR_S | 3);
        }
        cpu.eip = ip;
    }

    void load(long gpa, byte[] code) {
        memory.load(gpa, code);
        vcpu.invalidateCode(gpa, code.length);
    }

    /** Steps until EIP equals {@code eip} (in the current code segment) or {@code max} steps pass. */
    int runUntilEip(int eip, int max) {
        int steps = 0;
        while (cpu.eip != eip && steps < max) {
            Vcpu.Stop stop = vcpu.run(1);
            if (stop != Vcpu.Stop.REQUESTED) {
                throw new AssertionError("vCPU stopped: " + stop + " " + vcpu.stopReason());
            }
            steps++;
        }
        return steps;
    }

    /** Steps 64-bit code until RIP equals {@code rip}; fails after 100 steps or when the vCPU stops. */
    void runTo(long rip) {
        for (int i = 0; cpu.rip != rip; i++) {
            Vcpu.Stop stop = vcpu.run(1);
            if (stop != Vcpu.Stop.REQUESTED || i > 100) {
                throw new AssertionError(stop + " " + vcpu.stopReason());
            }
        }
    }

    /** Runs the one instruction {@code hex} placed at {@code eip}; the fault it raised, or null. */
    CpuFault step(int eip, String hex) {
        load(eip, hex(hex));
        cpu.eip = eip;
        try {
            cpu.runSlice(1);
            return null;
        } catch (CpuFault f) {
            return f;
        }
    }

    /** The vector of the fault the one instruction {@code hex} at {@code eip} raises (it must raise one). */
    int faultVector(int eip, String hex) {
        CpuFault f = step(eip, hex);
        if (f == null) {
            throw new AssertionError(hex + " should fault");
        }
        return f.vector;
    }

    static byte[] hex(String s) {
        String[] parts = s.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    @Override
    public void close() {
        memory.close();
    }
}
