package io.p2vkit.hv.device;

/**
 * The PIIX3 PCI-to-ISA bridge (PCI 00:1.0, 8086:7000, 82371SB datasheet §2.2). Guests program
 * its PIRQ route control registers (0x60-0x63) to steer PCI INTA#-INTD# to ISA IRQs; SeaBIOS
 * writes 10, 10, 11, 11. Bit 7 set disables a route.
 */
public final class Piix3Isa extends PciFunction {

    public static final int CFG_PIRQ_ROUTE = 0x60;
    public static final int PIRQ_DISABLED = 0x80;

    public Piix3Isa() {
        super("PIIX3 ISA bridge", 0x8086, 0x7000, 0x060100, 0x00);
        config[CFG_HEADER_TYPE] = (byte) HEADER_MULTIFUNCTION;
        put16(CFG_COMMAND, COMMAND_IO | COMMAND_MEMORY | COMMAND_BUS_MASTER);
        writable(CFG_PIRQ_ROUTE, 4);
        for (int i = 0; i < 4; i++) {
            config[CFG_PIRQ_ROUTE + i] = (byte) PIRQ_DISABLED;
        }
        writable(0x4C, 1);   // ISA I/O recovery timer
        writable(0x4E, 2);   // X-bus chip select, BIOS enable
        writable(0x69, 1);   // top of memory
        writable(0x6A, 2);   // miscellaneous status
        writable(0x70, 2);   // motherboard IRQ routing (MBIRQ0/1)
        writable(0x80, 1);   // APIC base address relocation
        writable(0xA0, 32);  // SMI and clock-control registers
    }

    /** The ISA IRQ PIRQ {@code pirq} (0 = A) is routed to, or -1 when disabled or out of range. */
    public synchronized int route(int pirq) {
        int v = config[CFG_PIRQ_ROUTE + (pirq & 3)] & 0xFF;
        if ((v & PIRQ_DISABLED) != 0 || v < 3 || v > 15 || v == 8 || v == 13) {
            return -1;   // 0-2, 8 and 13 are reserved encodings
        }
        return v;
    }
}
