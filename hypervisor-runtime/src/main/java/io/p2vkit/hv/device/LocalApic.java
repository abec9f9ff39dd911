package io.p2vkit.hv.device;

import io.p2vkit.hv.cpu.InterruptController;
import io.p2vkit.hv.cpu.LocalApicAccess;

/**
 * One CPU's local APIC in xAPIC mode (SDM Vol. 3 ch. 11): the register page at IA32_APIC_BASE
 * (0xFEE00000 after reset), fixed interrupts through IRR/ISR with the task and processor
 * priorities, EOI (broadcast to the IOAPIC for level-triggered vectors), the LVT with the timer
 * ({@link LocalApicTimer}), LINT0/LINT1 and the error register, and IPIs through the ICR on the
 * {@link ApicBus}. LINT0 in ExtINT mode passes the 8259's interrupts through (virtual wire mode);
 * while the APIC is software- or globally disabled the 8259 reaches the CPU directly, as it does
 * on a machine without APIC. Every method is safe from any thread (vCPUs send each other IPIs,
 * devices raise IOAPIC pins from their own threads); messages to other APICs go out after this
 * APIC's lock is released.
 */
public final class LocalApic implements LocalApicAccess {

    public static final long DEFAULT_BASE = 0xFEE0_0000L;

    // Register offsets in the APIC page (SDM Table 11-1).
    static final int REG_ID = 0x20;
    static final int REG_VERSION = 0x30;
    static final int REG_TPR = 0x80;
    static final int REG_APR = 0x90;
    static final int REG_PPR = 0xA0;
    static final int REG_EOI = 0xB0;
    static final int REG_RRD = 0xC0;
    static final int REG_LDR = 0xD0;
    static final int REG_DFR = 0xE0;
    static final int REG_SVR = 0xF0;
    static final int REG_ISR = 0x100;
    static final int REG_TMR = 0x180;
    static final int REG_IRR = 0x200;
    static final int REG_ESR = 0x280;
    static final int REG_ICR_LOW = 0x300;
    static final int REG_ICR_HIGH = 0x310;
    static final int REG_LVT_TIMER = 0x320;
    static final int REG_LVT_THERMAL = 0x330;
    static final int REG_LVT_PERF = 0x340;
    static final int REG_LVT_LINT0 = 0x350;
    static final int REG_LVT_LINT1 = 0x360;
    static final int REG_LVT_ERROR = 0x370;
    static final int REG_TIMER_INITIAL = 0x380;
    static final int REG_TIMER_CURRENT = 0x390;
    static final int REG_TIMER_DIVIDE = 0x3E0;

    /** Integrated APIC (version 0x14) with six LVT entries: max LVT index 5 in bits 23:16. */
    static final int VERSION = 0x14 | (5 << 16);

    static final long BASE_BSP = 1L << 8;
    static final long BASE_ENABLE = 1L << 11;
    /** Physical address bits 35:12: MAXPHYADDR is 36 as CPUID reports no leaf 0x80000008. */
    static final long BASE_ADDRESS = 0x0000_000F_FFFF_F000L;

    static final int SVR_ENABLE = 1 << 8;
    static final int SVR_FOCUS_DISABLE = 1 << 9;
    static final int LVT_MASKED = 1 << 16;
    static final int LVT_LEVEL = 1 << 15;
    static final int LVT_DELIVERY_STATUS = 1 << 12;
    static final int LVT_TIMER_MODE_SHIFT = 17;

    // ESR bits (SDM Figure 11-9).
    static final int ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
    static final int ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;
    static final int ESR_ILLEGAL_REGISTER = 1 << 7;

    private static final int LVT_COUNT = 6;
    /** Writable bits per LVT entry: timer, thermal, performance, LINT0, LINT1, error (SDM Figure 11-8). */
    private static final int[] LVT_WRITABLE = {
        0x7_00FF, 0x1_07FF, 0x1_07FF, 0x1_A7FF, 0x1_A7FF, 0x1_00FF
    };
    private static final int LVT_TIMER = 0;
    private static final int LVT_LINT0 = 3;
    private static final int LVT_LINT1 = 4;
    private static final int LVT_ERROR = 5;

    private final int initialId;
    private final boolean bsp;
    private final ApicBus apicBus;
    private final InterruptController pic;
    private final LocalApicTimer timer;

    private long apicBase;
    private int id;
    private int tpr;
    private int ldr;
    private int dfr;
    private int svr;
    private final ApicVectorSet irr = new ApicVectorSet();
    private final ApicVectorSet isr = new ApicVectorSet();
    private final ApicVectorSet tmr = new ApicVectorSet();
    private int esrPending;
    private int esr;
    private int icrLow;
    private int icrHigh;
    private final int[] lvt = new int[LVT_COUNT];
    private boolean extIntPending;
    private int signals;
    private int startupVector;
    private volatile Runnable wakeup = () -> { };
    private long missedAccesses;

    /**
     * The APIC of CPU {@code id} (its initial APIC ID), attached to {@code apicBus}; {@code pic}
     * is the 8259 pair behind LINT0, {@code clock} the machine's clock the timer counts.
     */
    public LocalApic(int id, boolean bsp, ApicBus apicBus, InterruptController pic, Clock clock) {
        if (id < 0 || id >= 0xFF) {
            throw new IllegalArgumentException("APIC ID " + id);
        }
        this.initialId = id;
        this.bsp = bsp;
        this.apicBus = apicBus;
        this.pic = pic;
        this.timer = new LocalApicTimer(clock);
        this.apicBase = DEFAULT_BASE | BASE_ENABLE | (bsp ? BASE_BSP : 0);
        resetRegisters();
        apicBus.attach(this);
    }

    /** Power-up and INIT state of the registers (SDM §11.4.7.1); the ID and base are kept. */
    private void resetRegisters() {
        id = initialId;
        tpr = 0;
        ldr = 0;
        dfr = -1;
        svr = 0xFF;
        irr.clearAll();
        isr.clearAll();
        tmr.clearAll();
        esr = 0;
        esrPending = 0;
        icrLow = 0;
        icrHigh = 0;
        java.util.Arrays.fill(lvt, LVT_MASKED);
        timer.reset();
        extIntPending = false;
    }

    /** The APIC ID in bits 7:0 (the ID register's bits 31:24). */
    synchronized int id() {
        return id;
    }

    @Override
    public int initialApicId() {
        return initialId;
    }

    @Override
    public boolean isBootstrapProcessor() {
        return bsp;
    }

    private boolean globallyEnabled() {
        return (apicBase & BASE_ENABLE) != 0;
    }

    private boolean softwareEnabled() {
        return globallyEnabled() && (svr & SVR_ENABLE) != 0;
    }

    // ---- MSRs ----

    @Override
    public synchronized long apicBaseMsr() {
        return apicBase;
    }

    /**
     * IA32_APIC_BASE: the base (bits 35:12) and the global enable; the BSP flag is read-only,
     * x2APIC (bit 10) is not offered and reserved bits refuse the write. Clearing the enable
     * returns the registers to their power-up state (SDM §11.4.3).
     */
    @Override
    public synchronized boolean writeApicBaseMsr(long value) {
        long writable = BASE_ADDRESS | BASE_ENABLE;
        if ((value & ~(writable | BASE_BSP)) != 0) {
            return false;
        }
        boolean wasEnabled = globallyEnabled();
        apicBase = (value & writable) | (apicBase & BASE_BSP);
        if (wasEnabled && !globallyEnabled()) {
            resetRegisters();
        }
        return true;
    }

    @Override
    public synchronized long mmioBase() {
        return globallyEnabled() ? apicBase & BASE_ADDRESS : -1;
    }

    @Override
    public synchronized long tscDeadline() {
        return timer.deadline();
    }

    @Override
    public synchronized void writeTscDeadline(long tsc) {
        timer.writeDeadline(tsc);
    }

    @Override
    public synchronized void setTscOffset(long offset) {
        timer.setTscOffset(offset);
    }

    // ---- the CPU's side: interrupts it takes ----

    @Override
    public synchronized boolean hasPendingInterrupt() {
        pollTimer();
        return deliverableVector() >= 0 || extIntPending || picPassesThrough();
    }

    /**
     * The INTA cycle: the highest deliverable fixed interrupt moves from IRR to ISR, else the
     * 8259 answers (ExtINT); if priorities changed since the CPU looked, the spurious vector.
     */
    @Override
    public synchronized int acknowledge() {
        int v = deliverableVector();
        if (v >= 0) {
            irr.clear(v);
            isr.set(v);
            return v;
        }
        if (extIntPending || picPassesThrough()) {
            extIntPending = false;
            if (pic != null) {
                return pic.acknowledge();
            }
        }
        return svr & 0xFF;
    }

    /** The 8259's INTR reaches the CPU: APIC off (software or globally), or LINT0 unmasked in ExtINT mode. */
    private boolean picPassesThrough() {
        if (pic == null || !pic.hasPendingInterrupt()) {
            return false;
        }
        if (!globallyEnabled()) {
            return true; // no APIC: INTR is a plain pin
        }
        if (!softwareEnabled()) {
            return bsp; // as after reset on a PC, LINT0 of the BSP is the 8259's virtual wire (APs: masked)
        }
        int lint0 = lvt[LVT_LINT0];
        return (lint0 & LVT_MASKED) == 0 && ((lint0 >>> 8) & 7) == ApicBus.MODE_EXTINT;
    }

    /** The highest vector in IRR whose priority class is above the processor priority, or -1. */
    private int deliverableVector() {
        int v = irr.highest();
        if (v < 0 || (v & 0xF0) <= (ppr() & 0xF0)) {
            return -1;
        }
        return v;
    }

    /** PPR (SDM §11.8.3.1): the TPR if its class is at least that of the highest in service. */
    private int ppr() {
        int isrv = Math.max(isr.highest(), 0);
        return (tpr & 0xF0) >= (isrv & 0xF0) ? tpr & 0xFF : isrv & 0xF0;
    }

    /** Arbitration priority (SDM §11.6.2.4), what lowest-priority delivery compares. */
    synchronized int arbitrationPriority() {
        int irrv = Math.max(irr.highest(), 0);
        int isrv = Math.max(isr.highest(), 0);
        if ((tpr & 0xF0) >= (irrv & 0xF0) && (tpr & 0xF0) >= (isrv & 0xF0)) {
            return tpr & 0xFF;
        }
        return Math.max(tpr & 0xF0, Math.max(irrv & 0xF0, isrv & 0xF0));
    }

    /** Focus checking is on (SVR bit 9 clear) and {@code vector} is already pending or in service here. */
    synchronized boolean isFocusFor(int vector) {
        return (svr & SVR_FOCUS_DISABLE) == 0 && softwareEnabled() && (irr.contains(vector) || isr.contains(vector));
    }

    @Override
    public synchronized int takeSignals() {
        int s = signals;
        signals = 0;
        return s;
    }

    @Override
    public synchronized int startupVector() {
        return startupVector;
    }

    @Override
    public synchronized long nanosToNextEvent() {
        pollTimer(); // an expiry due now is taken here, so a halted core never waits on a past one
        return (lvt[LVT_TIMER] & LVT_MASKED) != 0 ? -1 : timer.nanosToExpiry();
    }

    @Override
    public void setWakeup(Runnable wakeup) {
        this.wakeup = wakeup;
    }

    @Override
    public synchronized int taskPriorityClass() {
        return (tpr >>> 4) & 0xF;
    }

    @Override
    public synchronized void setTaskPriorityClass(int value) {
        tpr = (value & 0xF) << 4;
    }

    // ---- messages arriving ----

    /**
     * An interrupt message for this APIC (from another APIC's ICR, the IOAPIC or its own LVT).
     * Fixed vectors 0-15 are illegal: refused with ESR bit 6 (SDM §11.5.3).
     */
    void accept(int mode, int vector, boolean level) {
        boolean error;
        synchronized (this) {
            error = acceptLocked(mode, vector, level);
        }
        if (error) {
            raiseError(ESR_RECEIVE_ILLEGAL_VECTOR);
        }
        wakeup.run();
    }

    private boolean acceptLocked(int mode, int vector, boolean level) {
        switch (mode) {
            case ApicBus.MODE_FIXED, ApicBus.MODE_LOWEST -> {
                if (!softwareEnabled()) {
                    return false; // a software-disabled APIC takes no fixed interrupts (SDM §11.4.7.2)
                }
                if (vector < 16) {
                    return true;
                }
                irr.set(vector);
                if (level) {
                    tmr.set(vector);
                } else {
                    tmr.clear(vector);
                }
            }
            case ApicBus.MODE_NMI -> signals |= SIGNAL_NMI;
            case ApicBus.MODE_INIT -> {
                resetRegisters();
                signals = (signals | SIGNAL_INIT) & ~SIGNAL_SIPI;
            }
            case ApicBus.MODE_STARTUP -> {
                startupVector = vector & 0xFF;
                signals |= SIGNAL_SIPI;
            }
            case ApicBus.MODE_EXTINT -> extIntPending = true;
            default -> apicBus.countDropped(); // SMI: no SMM in this machine
        }
        return false;
    }

    /** A local interrupt source (timer, LINT0/1, error) fires through its LVT entry. */
    private void fireLvt(int index) {
        int entry = lvt[index];
        if ((entry & LVT_MASKED) != 0 || !softwareEnabled()) {
            return;
        }
        int mode = index == LVT_TIMER || index == LVT_ERROR ? ApicBus.MODE_FIXED : (entry >>> 8) & 7;
        int vector = entry & 0xFF;
        if (mode == ApicBus.MODE_FIXED && vector < 16) {
            esrPending |= ESR_RECEIVE_ILLEGAL_VECTOR;
            return;
        }
        acceptLocked(mode, vector, false);
    }

    /** Raises LINT1 (the NMI line on a PC) or LINT0 from outside, edge-style. */
    public void pulseLint(int pin) {
        synchronized (this) {
            fireLvt(pin == 0 ? LVT_LINT0 : LVT_LINT1);
        }
        wakeup.run();
    }

    private void pollTimer() {
        if (timer.poll()) {
            fireLvt(LVT_TIMER);
        }
    }

    private void raiseError(int bit) {
        synchronized (this) {
            boolean first = esrPending == 0;
            esrPending |= bit;
            if (first) {
                fireLvt(LVT_ERROR);
            }
        }
        wakeup.run();
    }

    /** Whether {@code destination} (a logical destination) names this APIC under its DFR model. */
    synchronized boolean matchesLogical(int destination) {
        int logicalId = ldr >>> 24;
        if ((dfr >>> 28) == 0xF) {
            return (destination & logicalId) != 0; // flat: one bit per APIC
        }
        // Cluster: high nibble the cluster (0xF: all), low nibble a member bit mask.
        int cluster = destination >>> 4;
        return (cluster == 0xF || cluster == logicalId >>> 4) && (destination & logicalId & 0xF) != 0;
    }

    // ---- the register page ----

    @Override
    public long mmioRead(long offset, int size) {
        int reg = (int) (offset & 0xFF0);
        int shift = (int) (offset & 3) * 8;
        if ((offset & 0xF) + size > 4 && size != 8 || (offset & 0xF) >= 4) {
            synchronized (this) {
                missedAccesses++;
            }
            return 0;
        }
        long value = readRegister(reg) & 0xFFFF_FFFFL;
        if (size == 8) {
            return value;
        }
        return (value >>> shift) & ((1L << (size * 8)) - 1);
    }

    private synchronized int readRegister(int reg) {
        pollTimer();
        if (reg >= REG_ISR && reg < REG_ISR + 0x80) {
            return isr.word((reg - REG_ISR) >> 4);
        }
        if (reg >= REG_TMR && reg < REG_TMR + 0x80) {
            return tmr.word((reg - REG_TMR) >> 4);
        }
        if (reg >= REG_IRR && reg < REG_IRR + 0x80) {
            return irr.word((reg - REG_IRR) >> 4);
        }
        if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
            return lvt[(reg - REG_LVT_TIMER) >> 4];
        }
        return switch (reg) {
            case REG_ID -> id << 24;
            case REG_VERSION -> VERSION;
            case REG_TPR -> tpr;
            case REG_APR -> arbitrationPriority();
            case REG_PPR -> ppr();
            case REG_LDR -> ldr;
            case REG_DFR -> dfr;
            case REG_SVR -> svr;
            case REG_ESR -> esr;
            case REG_ICR_LOW -> icrLow; // delivery status 0: messages are sent at once
            case REG_ICR_HIGH -> icrHigh;
            case REG_TIMER_INITIAL -> timer.initialCount();
            case REG_TIMER_CURRENT -> timer.currentCount();
            case REG_TIMER_DIVIDE -> timer.divideConfig();
            case REG_EOI, REG_RRD -> 0;
            default -> {
                esrPending |= ESR_ILLEGAL_REGISTER;
                yield 0;
            }
        };
    }

    @Override
    public void mmioWrite(long offset, int size, long value) {
        if ((offset & 0xF) != 0 || size < 4) {
            synchronized (this) {
                missedAccesses++; // the SDM asks for aligned 32-bit stores; narrower ones are lost
            }
            return;
        }
        int reg = (int) (offset & 0xFF0);
        int v = (int) value;
        switch (reg) {
            case REG_EOI -> eoi();
            case REG_ICR_LOW -> sendIcr(v);
            default -> {
                boolean illegal;
                synchronized (this) {
                    illegal = writeRegister(reg, v);
                }
                if (illegal) {
                    raiseError(ESR_ILLEGAL_REGISTER);
                }
            }
        }
    }

    /** Returns true for a write to a register that does not exist or is read-only. */
    private boolean writeRegister(int reg, int v) {
        if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
            int index = (reg - REG_LVT_TIMER) >> 4;
            int value = v & LVT_WRITABLE[index];
            if (!softwareEnabled()) {
                value |= LVT_MASKED; // the mask bits stay set while the APIC is software-disabled
            }
            if (index == LVT_TIMER) {
                int mode = (value >>> LVT_TIMER_MODE_SHIFT) & 3;
                if (mode == 3) {
                    value &= ~(3 << LVT_TIMER_MODE_SHIFT); // reserved mode: treated as one-shot
                    mode = 0;
                }
                timer.setMode(mode);
            }
            lvt[index] = value | (lvt[index] & LVT_DELIVERY_STATUS);
            return false;
        }
        switch (reg) {
            case REG_ID -> id = v >>> 24;
            case REG_TPR -> tpr = v & 0xFF;
            case REG_LDR -> ldr = v & 0xFF00_0000;
            case REG_DFR -> dfr = v | 0x0FFF_FFFF;
            case REG_SVR -> {
                svr = v & (0xFF | SVR_ENABLE | SVR_FOCUS_DISABLE);
                if ((svr & SVR_ENABLE) == 0) {
                    for (int i = 0; i < LVT_COUNT; i++) {
                        lvt[i] |= LVT_MASKED;
                    }
                }
            }
            case REG_ESR -> {
                esr = esrPending; // a write latches the errors seen since the last one (SDM §11.5.3)
                esrPending = 0;
            }
            case REG_ICR_HIGH -> icrHigh = v & 0xFF00_0000;
            case REG_TIMER_INITIAL -> timer.writeInitialCount(v);
            case REG_TIMER_DIVIDE -> timer.writeDivide(v);
            default -> {
                return true;
            }
        }
        return false;
    }

    /** EOI: the highest in-service vector is done; a level-triggered one is also told to the IOAPIC. */
    private void eoi() {
        int vector;
        boolean level;
        synchronized (this) {
            vector = isr.highest();
            if (vector < 0) {
                return;
            }
            isr.clear(vector);
            level = tmr.contains(vector);
        }
        if (level) {
            apicBus.broadcastEoi(vector);
        }
        wakeup.run(); // a lower-priority interrupt may now be deliverable
    }

    /** A write to ICR low sends the IPI it describes (SDM Figure 11-12). */
    private void sendIcr(int low) {
        int destination;
        synchronized (this) {
            icrLow = low & 0x000C_CFFF;
            destination = icrHigh >>> 24;
        }
        int vector = low & 0xFF;
        int mode = (low >>> 8) & 7;
        boolean logical = (low & (1 << 11)) != 0;
        boolean assert_ = (low & (1 << 14)) != 0;
        boolean level = (low & (1 << 15)) != 0;
        int shorthand = (low >>> 18) & 3;
        if (mode == ApicBus.MODE_INIT && !assert_ && level) {
            return; // INIT level de-assert: only resynchronises arbitration IDs
        }
        if (mode == 3 || mode == ApicBus.MODE_EXTINT) {
            return; // reserved delivery modes send nothing
        }
        if ((mode == ApicBus.MODE_FIXED || mode == ApicBus.MODE_LOWEST) && vector < 16) {
            raiseError(ESR_SEND_ILLEGAL_VECTOR);
            return;
        }
        if (shorthand == 1 && mode != ApicBus.MODE_FIXED) {
            return; // only fixed self-IPIs are defined
        }
        apicBus.sendIpi(this, shorthand, destination, logical, mode, vector, false);
    }

    /** Accesses the APIC page did not honour (misaligned or narrow stores, odd offsets). */
    public synchronized long missedAccesses() {
        return missedAccesses;
    }
}
