package io.p2vkit.hv.device;

/**
 * The A20 address line gate, shared by the keyboard controller's output port and port 0x92.
 * The engines here run with A20 enabled (KVM cannot mask it); the gate records what the guest asked.
 */
public final class A20Gate {

    private volatile boolean enabled;
    private long changes;

    public boolean enabled() {
        return enabled;
    }

    public synchronized void set(boolean on) {
        if (on != enabled) {
            changes++;
        }
        enabled = on;
    }

    public synchronized long changes() {
        return changes;
    }
}
