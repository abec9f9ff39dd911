package io.p2vkit.hv.emu;

import io.p2vkit.hv.bus.Bus;
import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.LocalApicAccess;
import io.p2vkit.hv.cpu.Vcpu;
import io.p2vkit.hv.memory.GuestMemory;
import java.lang.management.ManagementFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * A vCPU run by our x86 interpreter: 16-bit real mode and 32-bit protected mode with paging.
 * It starts in the power-on state (CS:IP = F000:FFF0 with CS base FFFF0000), so firmware mapped
 * at the top of 4 GiB runs. Faults are delivered to the guest; three in a row stop the vCPU with
 * {@link Stop#TRIPLE_FAULT}.
 *
 * <p>The machine creates one per guest CPU: {@code new EmuVcpu(memory, bus, pic)} and calls
 * {@link #run()} on its own thread. Devices that write guest memory behind the CPU's back (DMA)
 * must call {@link #invalidateCode} for the range, or code the guest then runs from there may be
 * stale.
 */
public final class EmuVcpu implements Vcpu {

    /** Instructions between looks at interrupts and stop requests. */
    private static final int SLICE = 2048;
    /** How long a halted CPU sleeps between looks at the interrupt controller. */
    private static final long HALT_POLL_NANOS = 100_000;
    /** Logs every fault delivered to the guest on stderr: a debugging aid for guest bring-up. */
    private static final boolean TRACE_FAULTS = Boolean.getBoolean("p2v.emu.traceFaults");
    /** Prints, when a vCPU stops, what it ran and the CPU time its thread took: for benchmarks. */
    private static final boolean STATS = Boolean.getBoolean("p2v.emu.stats");

    private final Cpu cpu;
    private final InterruptController interrupts;
    /** This vCPU's local APIC, or null (then {@link #interrupts} is the 8259 or nothing). */
    private final LocalApicAccess apic;
    /** No other vCPU exists, so nothing can send this one an NMI or INIT. */
    private final boolean lone;
    /** An application processor after INIT: it runs nothing until a start-up IPI (SDM Vol. 3 §9.4). */
    private volatile boolean waitingForStartup;
    private boolean nmiPending;
    /** Set by the APIC (from any thread) when an interrupt, INIT, SIPI or NMI arrived. */
    private volatile boolean apicEvent;
    private volatile boolean stopRequested;
    private volatile boolean resetRequested;
    private volatile String stopReason = "not started";
    private long faultsDelivered;
    private long haltedNanos;
    private volatile Thread runner;

    public EmuVcpu(GuestMemory memory, Bus bus, InterruptController interrupts) {
        this.cpu = new Cpu(new Mmu(memory, bus), bus);
        this.cpu.translator = RegionTranslator.ENABLED ? new RegionTranslator() : null;
        this.interrupts = interrupts;
        this.apic = null;
        this.lone = true;
    }

    /**
     * A vCPU with its own local APIC. {@code smp} is what the vCPUs of a machine with several
     * share (decoded-code coherence, the split-lock), or null for a lone vCPU. An application
     * processor (not the APIC's BSP) waits for INIT and a start-up IPI before it runs.
     */
    EmuVcpu(GuestMemory memory, Bus bus, LocalApicAccess apic, EmuVcpus.Smp smp, int index) {
        Mmu mmu = new Mmu(memory, bus, apic, smp == null ? null : smp.code(), index);
        this.cpu = new Cpu(mmu, bus, apic, smp == null ? null : new LockedAccess(smp.splitLock()));
        this.cpu.translator = RegionTranslator.ENABLED ? new RegionTranslator() : null;
        this.interrupts = apic;
        this.apic = apic;
        this.lone = smp == null;
        this.waitingForStartup = !apic.isBootstrapProcessor();
        apic.setWakeup(() -> {
            apicEvent = true;
            Thread t = runner;
            if (t != null) {
                LockSupport.unpark(t);
            }
        });
    }

    @Override
    public Stop run() {
        return run(Long.MAX_VALUE);
    }

    /**
     * Runs at most {@code maxInstructions} more instructions or delivered exceptions (tests and
     * lockstep traces use this); returns {@link Stop#REQUESTED} when the budget is spent.
     */
    public Stop run(long maxInstructions) {
        runner = Thread.currentThread();
        // The budget counts delivered exceptions too: a handler that faults again forever would
        // otherwise never retire an instruction and never spend it.
        long start = cpu.retired + faultsDelivered;
        long end = start + maxInstructions < start ? Long.MAX_VALUE : start + maxInstructions;
        try {
            for (;;) {
                if (stopRequested) {
                    stopRequested = false;
                    return stop(Stop.REQUESTED, "stop requested");
                }
                if (resetRequested) {
                    resetRequested = false;
                    cpu.reset();
                }
                if (apicEvent) {
                    apicEvent = false;
                    takeApicSignals();
                }
                if (cpu.translator != null && cpu.translator.ready()) {
                    cpu.translator.install(cpu);
                }
                if (cpu.mmu.hasCodeMessages()) {
                    cpu.mmu.drainCodeMessages();
                }
                if (waitingForStartup) {
                    park(HALT_POLL_NANOS);
                    continue;
                }
                if (cpu.retired + faultsDelivered >= end) {
                    return stop(Stop.REQUESTED, "instruction budget spent");
                }
                if (nmiPending && !cpu.nmiBlocked && !cpu.interruptShadow) {
                    nmiPending = false;
                    deliverNmi();
                }
                if (cpu.halted && apic != null && !(lone && !cpu.interruptsEnabled())) {
                    if (cpu.interruptsEnabled() && apic.hasPendingInterrupt()) {
                        cpu.halted = false;
                    } else {
                        // INIT, NMI and (with IF=1) interrupts wake the core: sleep until the APIC says so.
                        long next = apic.nanosToNextEvent();
                        park(next < 0 ? HALT_POLL_NANOS : Math.min(next, HALT_POLL_NANOS));
                        continue;
                    }
                }
                if (cpu.halted && !waitForInterrupt()) {
                    // Nothing can wake a CPU halted with IF=0 (no NMI or INIT source is modelled),
                    // nor one without an interrupt controller.
                    if (!cpu.interruptsEnabled()) {
                        return stop(Stop.SHUTDOWN, "HLT with interrupts disabled");
                    }
                    if (interrupts == null) {
                        return stop(Stop.SHUTDOWN, "HLT with no interrupt controller");
                    }
                    continue;
                }
                boolean shadow = cpu.interruptShadow;
                cpu.interruptShadow = false;
                if (!shadow) {
                    acceptInterrupt();
                }
                // EFLAGS.TF: one instruction at a time, then a single-step #DB trap (SDM Vol. 3
                // §17.3.1.4). Instructions that change TF end their slice, so this is exact.
                boolean stepping = cpu.flags.isSet(Flags.TF);
                long left = end - cpu.retired - faultsDelivered;
                int slice = shadow || stepping ? 1 : (int) Math.min(SLICE, left);
                cpu.sliceMayOvershoot = slice == SLICE && left >= SLICE + RegionScan.MAX_INSNS;
                long before = cpu.retired;
                cpu.deliveredInterrupt = false;
                try {
                    cpu.runSlice(slice);
                    if (stepping && cpu.retired > before && !cpu.deliveredInterrupt) {
                        cpu.dr[6] |= 0x4000; // DR6.BS
                        cpu.insnEip = cpu.eip;
                        cpu.insnRip = cpu.rip;
                        cpu.insnEsp = cpu.r[Cpu.ESP];
                        Interrupts.deliver(cpu, CpuFault.DB, 0, false, Interrupts.EXCEPTION, cpu.eip);
                    }
                } catch (CpuFault fault) {
                    cpu.eip = cpu.insnEip;
                    cpu.rip = cpu.insnRip;
                    cpu.r[Cpu.ESP] = cpu.insnEsp;
                    if (TRACE_FAULTS) {
                        traceFault(fault);
                    }
                    faultsDelivered++;
                    Interrupts.deliverFault(cpu, fault);
                }
            }
        } catch (TripleFault t) {
            return stop(Stop.TRIPLE_FAULT, "triple fault: " + t.getMessage());
        } catch (RuntimeException bug) {
            // Our own bug or a host failure: stop this vCPU cleanly, the JVM lives on.
            StackTraceElement[] where = bug.getStackTrace();
            return stop(Stop.ERROR, "emulator error: " + bug + (where.length > 0 ? " at " + where[0] : ""));
        }
    }

    /** INIT resets the core (an AP then waits for a start-up IPI), SIPI starts it, NMI is noted. */
    private void takeApicSignals() {
        int signals = apic.takeSignals();
        if ((signals & LocalApicAccess.SIGNAL_INIT) != 0) {
            cpu.init();
            nmiPending = false;
            waitingForStartup = !apic.isBootstrapProcessor();
        }
        if ((signals & LocalApicAccess.SIGNAL_SIPI) != 0 && waitingForStartup) {
            // Real mode at vector << 12: CS = vector << 8, IP = 0 (SDM Vol. 3 §9.4.4.1).
            int vector = apic.startupVector();
            cpu.setSegmentCache(Cpu.CS, vector << 8, vector << 12, 0xFFFF,
                    Cpu.ATTR_P | Cpu.ATTR_S | Cpu.ATTR_CODE | 0x3);
            cpu.eip = 0;
            waitingForStartup = false;
        }
        if ((signals & LocalApicAccess.SIGNAL_NMI) != 0) {
            nmiPending = true;
        }
    }

    /** NMI: vector 2 whatever IF says; further NMIs wait for the handler's IRET. */
    private void deliverNmi() {
        cpu.insnEip = cpu.eip;
        cpu.insnRip = cpu.rip;
        cpu.insnEsp = cpu.r[Cpu.ESP];
        cpu.nmiBlocked = true;
        try {
            Interrupts.deliver(cpu, 2, 0, false, Interrupts.EXTERNAL, cpu.eip);
        } catch (CpuFault fault) {
            cpu.eip = cpu.insnEip;
            cpu.rip = cpu.insnRip;
            cpu.r[Cpu.ESP] = cpu.insnEsp;
            Interrupts.deliverFault(cpu, fault);
        }
    }

    private void park(long nanos) {
        if (!apicEvent && !stopRequested && !resetRequested) {
            sleep(nanos);
        }
    }

    /** Sleeps while halted, counting the time for {@link #STATS}. */
    private void sleep(long nanos) {
        long t0 = System.nanoTime();
        LockSupport.parkNanos(this, nanos);
        haltedNanos += System.nanoTime() - t0;
    }

    /** Whether this vCPU is an application processor still waiting for its start-up IPI. */
    public boolean waitingForStartup() {
        return waitingForStartup;
    }

    /** Delivers a pending maskable interrupt if IF allows; a fault while doing so is handled. */
    private void acceptInterrupt() {
        if (interrupts == null || !cpu.interruptsEnabled() || !interrupts.hasPendingInterrupt()) {
            return;
        }
        int vector = interrupts.acknowledge() & 0xFF;
        cpu.insnEip = cpu.eip;
        cpu.insnRip = cpu.rip;
        cpu.insnEsp = cpu.r[Cpu.ESP];
        try {
            Interrupts.deliver(cpu, vector, 0, false, Interrupts.EXTERNAL, cpu.eip);
        } catch (CpuFault fault) {
            cpu.eip = cpu.insnEip;
            cpu.rip = cpu.insnRip;
            cpu.r[Cpu.ESP] = cpu.insnEsp;
            Interrupts.deliverFault(cpu, fault);
        }
    }

    /**
     * A halted CPU sleeps until an interrupt it can take is pending or a stop is requested.
     * Returns true when execution should continue (the interrupt will be taken next).
     */
    private boolean waitForInterrupt() {
        if (!cpu.interruptsEnabled() || interrupts == null) {
            return false;
        }
        if (interrupts.hasPendingInterrupt()) {
            cpu.halted = false;
            return true;
        }
        sleep(HALT_POLL_NANOS);
        return false;
    }

    /** Prints a fault the guest is about to receive (-Dp2v.emu.traceFaults=true, for debugging guests). */
    private void traceFault(CpuFault fault) {
        System.err.printf("emu: fault %d code %x at %04X:%016X rsp %016X cr2 %016X cr3 %X after %d%n",
                fault.vector, fault.errorCode, cpu.segSel[Cpu.CS], cpu.mode64 ? cpu.rip : cpu.eip & 0xFFFF_FFFFL,
                cpu.r[Cpu.ESP], cpu.cr2, cpu.mmu.cr3, cpu.retired);
    }

    private Stop stop(Stop why, String detail) {
        stopReason = detail + " at " + (cpu.mode64 ? String.format("%04X:%016X", cpu.segSel[Cpu.CS], cpu.rip)
                : String.format("%04X:%08X", cpu.segSel[Cpu.CS], cpu.eip))
                + " after " + cpu.retired + " instructions";
        if (STATS) {
            printStats();
        }
        return why;
    }

    /** What this vCPU ran, its thread's CPU time and its time halted, on stderr ({@link #STATS}). */
    private void printStats() {
        System.err.printf("emu: %s: %,d instructions (%.1f%% in compiled regions, %,d region runs), "
                + "%,d regions compiled (%,d bytecode bytes, %,d ms), %,d ms thread CPU, %,d ms halted, %s%n",
                Thread.currentThread().getName(), cpu.retired, 100.0 * cpu.regionRetired / Math.max(1, cpu.retired),
                cpu.regionRuns, cpu.regionsCompiled, cpu.regionBytecode, cpu.regionCompileNanos / 1_000_000,
                ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() / 1_000_000,
                haltedNanos / 1_000_000, stopReason);
    }

    @Override
    public void requestStop() {
        stopRequested = true;
        Thread t = runner;
        if (t != null) {
            LockSupport.unpark(t); // wake a halted CPU now rather than at its next poll
        }
    }

    /**
     * Asks for a CPU reset (the i8042 pulse or port 0xCF9 the machine models): the vCPU returns
     * to its power-on state at its next instruction boundary and keeps running. Memory is not
     * touched. Safe from any thread.
     */
    public void requestReset() {
        resetRequested = true;
        Thread t = runner;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public String stopReason() {
        return stopReason;
    }

    @Override
    public long instructionsRetired() {
        return cpu.retired;
    }

    /** Forgets decoded instructions in {@code [gpa, gpa + length)}: call after DMA into guest RAM. */
    @Override
    public void memoryWritten(long gpa, long length) {
        invalidateCode(gpa, length);
    }

    public void invalidateCode(long gpa, long length) {
        for (long page = gpa >>> 12; page <= (gpa + Math.max(length, 1) - 1) >>> 12; page++) {
            cpu.mmu.hostWrote(page);
        }
    }

    /** Locked instructions that found their operand changed by another vCPU and ran again. */
    public long lockedRetries() {
        return cpu.lockedAccess == null ? 0 : cpu.lockedAccess.retries();
    }

    /** Exceptions delivered to the guest so far. */
    public long faultsDelivered() {
        return faultsDelivered;
    }

    /** Opcodes executed that we do not implement (each raised #UD in the guest). */
    public long undefinedOpcodes() {
        return cpu.undefinedOpcodes;
    }

    @Override
    public String missingFeatures() {
        long n = cpu.undefinedOpcodes;
        return n == 0 ? "" : n + " instruction(s) the emulator does not implement raised #UD in the guest (last: "
                + lastUndefinedOpcode() + ")";
    }

    /** The last opcode that raised #UD because we lack it, and where, or an empty string. */
    public String lastUndefinedOpcode() {
        if (cpu.lastUndefinedOpcode < 0) {
            return "";
        }
        int op = cpu.lastUndefinedOpcode;
        return (op >= 0x100 ? "0F " : "") + String.format("%02X", op & 0xFF) + cpu.lastUndefinedForm
                + " at " + cpu.lastUndefinedAt;
    }

    /** A one-line register dump for logs and test failures. */
    public String registers() {
        return String.format(
                "EAX=%08X EBX=%08X ECX=%08X EDX=%08X ESI=%08X EDI=%08X EBP=%08X ESP=%08X EIP=%08X "
                        + "EFL=%08X CS=%04X SS=%04X DS=%04X ES=%04X CR0=%08X",
                cpu.r32(Cpu.EAX), cpu.r32(Cpu.EBX), cpu.r32(Cpu.ECX), cpu.r32(Cpu.EDX), cpu.r32(Cpu.ESI),
                cpu.r32(Cpu.EDI), cpu.r32(Cpu.EBP), cpu.r32(Cpu.ESP), cpu.eip, cpu.eflags(),
                cpu.segSel[Cpu.CS], cpu.segSel[Cpu.SS], cpu.segSel[Cpu.DS], cpu.segSel[Cpu.ES], cpu.cr0());
    }

    /** The CPU state, for tests in this package. */
    Cpu cpu() {
        return cpu;
    }
}
