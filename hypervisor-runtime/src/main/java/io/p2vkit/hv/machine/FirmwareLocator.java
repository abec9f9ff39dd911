package io.p2vkit.hv.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds the BIOS image at run time: the file the user named ({@code --bios}), else the
 * {@code P2VKIT_BIOS} environment variable, else Debian's SeaBIOS ({@code seabios} package) or
 * the copy QEMU ships. Firmware is never bundled with p2vkit.
 */
public final class FirmwareLocator {

    /** Where Debian and Fedora put SeaBIOS, most specific first. */
    public static final List<Path> DEFAULT_PATHS = List.of(
            Path.of("/usr/share/seabios/bios-256k.bin"),
            Path.of("/usr/share/qemu/bios-256k.bin"),
            Path.of("/usr/share/seabios/bios.bin"));

    /**
     * SeaBIOS's VGA BIOS for a plain ISA VGA (Debian's seabios package, or QEMU's copy). The ISA
     * build needs no PCI function: SeaBIOS runs it from fw_cfg "vgaroms/".
     */
    public static final List<Path> VGA_BIOS_PATHS = List.of(
            Path.of("/usr/share/seabios/vgabios-isavga.bin"),
            Path.of("/usr/share/qemu/vgabios-isavga.bin"));

    /** An option ROM lives in 0xC0000-0xDFFFF: at most 128 KiB. */
    public static final long MAX_OPTION_ROM = 128L << 10;

    /** Images must fit below 4 GiB without touching the KVM TSS pages: at most 16 MiB. */
    public static final long MAX_SIZE = 16L << 20;

    private FirmwareLocator() {
    }

    /** The firmware to use, or an exception that says where we looked. */
    public static Path locate(Path explicit) throws IOException {
        if (explicit != null) {
            return check(explicit);
        }
        String env = System.getenv("P2VKIT_BIOS");
        if (env != null && !env.isBlank()) {
            return check(Path.of(env));
        }
        for (Path p : DEFAULT_PATHS) {
            if (Files.isRegularFile(p)) {
                return check(p);
            }
        }
        throw new IOException("no BIOS image found (looked in " + DEFAULT_PATHS
                + "; install Debian's seabios package or pass --bios FILE)");
    }

    /** Reads and validates a BIOS image: a multiple of 64 KiB, 64 KiB to 16 MiB. */
    public static byte[] load(Path bios) throws IOException {
        Path p = check(bios);
        long size = Files.size(p);
        if (size < 0x10000 || size > MAX_SIZE || size % 0x10000 != 0) {
            throw new IOException(p + ": a BIOS image must be a multiple of 64 KiB between 64 KiB and 16 MiB, not "
                    + size + " bytes");
        }
        return Files.readAllBytes(p);
    }

    /**
     * The VGA BIOS to use: {@code explicit}, else {@code P2VKIT_VGABIOS}, else the first of
     * {@link #VGA_BIOS_PATHS} that exists; null when none does and none was named.
     */
    public static Path locateVgaBios(Path explicit) throws IOException {
        if (explicit != null) {
            return check(explicit);
        }
        String env = System.getenv("P2VKIT_VGABIOS");
        if (env != null && !env.isBlank()) {
            return check(Path.of(env));
        }
        for (Path p : VGA_BIOS_PATHS) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** Reads an option ROM: at most 128 KiB, starting with the 0x55 0xAA signature. */
    public static byte[] loadOptionRom(Path rom) throws IOException {
        Path p = check(rom);
        long size = Files.size(p);
        if (size < 3 || size > MAX_OPTION_ROM) {
            throw new IOException(p + ": an option ROM must be 3 bytes to 128 KiB, not " + size + " bytes");
        }
        byte[] b = Files.readAllBytes(p);
        if ((b[0] & 0xFF) != 0x55 || (b[1] & 0xFF) != 0xAA) {
            throw new IOException(p + ": not an option ROM (no 55 AA signature)");
        }
        return b;
    }

    private static Path check(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IOException("firmware image " + p + " does not exist or is not a file");
        }
        return p;
    }
}
