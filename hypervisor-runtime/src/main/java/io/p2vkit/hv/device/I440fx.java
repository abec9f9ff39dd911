package io.p2vkit.hv.device;

/**
 * The Intel 82441FX host bridge (PCI 00:0.0) as QEMU presents it: vendor 8086, device 1237, and
 * the Red Hat subsystem IDs 1af4:1100 that SeaBIOS checks before it trusts fw_cfg. Its PAM
 * registers (0x59-0x5F, 82441FX datasheet §3.2.19) decide whether the BIOS area 0xC0000-0xFFFFF
 * reads and writes RAM or ROM; SeaBIOS opens them to copy itself into RAM and closes them again to
 * write-protect that copy. The machine turns each change into memory-map changes.
 */
public final class I440fx extends PciFunction {

    public static final int CFG_PAM0 = 0x59;       // 0xF0000-0xFFFFF in bits 4-5
    public static final int PAM_REGISTERS = 7;     // PAM0..PAM6
    public static final int CFG_SMRAM = 0x72;
    public static final int PAM_READ_ENABLE = 0x1; // per nibble: reads go to RAM
    public static final int PAM_WRITE_ENABLE = 0x2;

    /** One shadowed segment of the BIOS area and whether the guest may read and write its RAM. */
    public record PamSegment(long base, long size, boolean readRam, boolean writeRam) {
    }

    /** Receives each segment whose attributes changed. */
    @FunctionalInterface
    public interface PamListener {
        void changed(PamSegment segment);
    }

    private final PamListener listener;
    private final int[] attributes = new int[13];

    public I440fx(PamListener listener) {
        super("i440FX host bridge", 0x8086, 0x1237, 0x060000, 0x02);
        this.listener = listener;
        put16(CFG_SUBSYSTEM_VENDOR, 0x1af4);
        put16(CFG_SUBSYSTEM_ID, 0x1100);
        put16(CFG_COMMAND, COMMAND_MEMORY | COMMAND_IO);
        writable(CFG_PAM0, PAM_REGISTERS);
        writable(CFG_SMRAM, 1);
        config[CFG_SMRAM] = 0x02;
    }

    /** The 13 segments: 0xF0000 (64 KiB), then 0xC0000..0xEC000 in 16 KiB steps. */
    public static PamSegment segment(int index, int attr) {
        boolean r = (attr & PAM_READ_ENABLE) != 0;
        boolean w = (attr & PAM_WRITE_ENABLE) != 0;
        if (index == 0) {
            return new PamSegment(0xF0000, 0x10000, r, w);
        }
        return new PamSegment(0xC0000 + (index - 1) * 0x4000L, 0x4000, r, w);
    }

    /** Current attribute nibble (read enable, write enable) of segment {@code index}. */
    public synchronized int attributes(int index) {
        return attributes[index];
    }

    @Override
    protected void configWritten(int off, int size) {
        for (int i = 0; i < attributes.length; i++) {
            int reg = CFG_PAM0 + (i + 1) / 2;
            int value = config[reg] & 0xFF;
            // PAM0 holds only the high nibble (0xF0000); PAMn: low nibble first segment, high second.
            int attr = i == 0 ? value >> 4 : ((i - 1) % 2 == 0 ? value : value >> 4);
            attr &= 0x3;
            if (attr != attributes[i]) {
                attributes[i] = attr;
                listener.changed(segment(i, attr));
            }
        }
    }
}
