package io.p2vkit.hv.device;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The APIC message path that joins the local APICs and the IOAPIC: it picks the APICs an
 * interrupt message is for (physical or logical destination, the ICR shorthands, lowest-priority
 * arbitration) and carries EOIs for level-triggered vectors back to the IOAPIC (SDM Vol. 3
 * §11.6.2-§11.6.3, §11.8.5). Callers must not hold an APIC's lock while sending.
 */
public final class ApicBus {

    /** Delivery modes of the ICR (SDM Vol. 3 Figure 11-12) and of IOAPIC redirection entries (82093AA §3.2.4). */
    public static final int MODE_FIXED = 0;
    public static final int MODE_LOWEST = 1;
    public static final int MODE_SMI = 2;
    public static final int MODE_NMI = 4;
    public static final int MODE_INIT = 5;
    public static final int MODE_STARTUP = 6;
    public static final int MODE_EXTINT = 7;

    static final int BROADCAST = 0xFF;

    private final List<LocalApic> apics = new ArrayList<>();
    private volatile IntConsumer eoiListener = v -> { };
    private int lowestRotor;
    private long dropped;

    /** Adds the next CPU's APIC; its ID is the order of attachment. */
    synchronized void attach(LocalApic apic) {
        apics.add(apic);
    }

    /** Who hears EOIs of level-triggered vectors (the IOAPIC's remote IRR). */
    public void setEoiListener(IntConsumer listener) {
        this.eoiListener = listener;
    }

    void broadcastEoi(int vector) {
        eoiListener.accept(vector);
    }

    public synchronized List<LocalApic> apics() {
        return List.copyOf(apics);
    }

    /**
     * Sends an interrupt message to the APICs {@code destination} names ({@code logical}: a
     * logical destination matched against each APIC's LDR and DFR; else an APIC ID, 0xFF for
     * all). Lowest priority goes to one of them, the one with the lowest arbitration priority.
     */
    public void deliver(int destination, boolean logical, int mode, int vector, boolean level) {
        List<LocalApic> targets = new ArrayList<>(2);
        for (LocalApic a : apics()) {
            if (logical ? a.matchesLogical(destination) : (destination == BROADCAST || a.id() == destination)) {
                targets.add(a);
            }
        }
        send(targets, mode, vector, level);
    }

    /** An IPI from {@code source}'s ICR: shorthand 0 uses the destination field. */
    void sendIpi(LocalApic source, int shorthand, int destination, boolean logical, int mode, int vector,
            boolean level) {
        List<LocalApic> targets = new ArrayList<>(2);
        for (LocalApic a : apics()) {
            boolean match = switch (shorthand) {
                case 1 -> a == source;
                case 2 -> true;
                case 3 -> a != source;
                default -> logical ? a.matchesLogical(destination)
                        : destination == BROADCAST || a.id() == destination;
            };
            if (match) {
                targets.add(a);
            }
        }
        send(targets, mode, vector, level);
    }

    private void send(List<LocalApic> targets, int mode, int vector, boolean level) {
        if (targets.isEmpty()) {
            return;
        }
        if (mode == MODE_LOWEST) {
            targets = List.of(lowestPriority(targets, vector));
            mode = MODE_FIXED;
        }
        for (LocalApic a : targets) {
            a.accept(mode, vector, level);
        }
    }

    /**
     * The focus processor if one of the targets already has {@code vector} pending or in service
     * (SDM §11.6.2.4), else the target with the lowest arbitration priority; ties rotate so that
     * repeated lowest-priority interrupts spread over equal CPUs, as arbitration ID rotation does.
     */
    private LocalApic lowestPriority(List<LocalApic> targets, int vector) {
        for (LocalApic a : targets) {
            if (a.isFocusFor(vector)) {
                return a;
            }
        }
        int n = targets.size();
        int start;
        synchronized (this) {
            start = lowestRotor++ % n;
        }
        LocalApic best = null;
        int bestPriority = Integer.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            LocalApic a = targets.get((start + i) % n);
            int p = a.arbitrationPriority() & 0xF0;
            if (p < bestPriority) {
                best = a;
                bestPriority = p;
            }
        }
        return best;
    }

    synchronized void countDropped() {
        dropped++;
    }

    /** Messages no model takes (SMI: this machine has no SMM). */
    public synchronized long droppedMessages() {
        return dropped;
    }
}
