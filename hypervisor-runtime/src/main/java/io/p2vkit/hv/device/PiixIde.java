package io.p2vkit.hv.device;

/**
 * The PIIX3 IDE function (PCI 00:1.1, 8086:7010) in legacy ("compatibility") mode: the channel
 * answers at the fixed ISA ports, so BARs 0-3 are unused, and we offer no bus-master DMA, so BAR4
 * is absent too and guests fall back to PIO. IDETIM (0x40/0x42) is writable because SeaBIOS
 * enables both channels there and Linux's ata_piix reads the enable bits back.
 */
public final class PiixIde extends PciFunction {

    public static final int CFG_IDETIM_PRIMARY = 0x40;
    public static final int CFG_IDETIM_SECONDARY = 0x42;

    public PiixIde() {
        super("PIIX3 IDE", 0x8086, 0x7010, 0x010180, 0x00);
        put16(CFG_COMMAND, COMMAND_IO);
        writable(CFG_IDETIM_PRIMARY, 4);
        writable(0x44, 1);   // slave IDE timing
    }
}
