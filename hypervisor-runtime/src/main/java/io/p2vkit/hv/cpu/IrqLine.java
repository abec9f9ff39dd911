package io.p2vkit.hv.cpu;

/** An interrupt line a device raises and lowers; the machine wires it to the PIC/IOAPIC or KVM. */
@FunctionalInterface
public interface IrqLine {

    void set(boolean level);

    default void pulse() {
        set(true);
        set(false);
    }
}
