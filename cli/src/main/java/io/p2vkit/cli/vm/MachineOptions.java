package io.p2vkit.cli.vm;

import io.p2vkit.hv.machine.AccelChooser;
import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.hv.verify.Engines;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.VirtualDisk;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/**
 * The options that describe the machine (memory, CPUs, engine, bus, firmware, display), shared by
 * {@code p2v vm boot}, {@code p2v vm verify}, {@code p2v migrate} and {@code p2v demo} ({@code @Mixin}).
 */
public final class MachineOptions {

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "512M", description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "1", description = "vCPUs (default: ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--accel", paramLabel = "auto|kvm|emu", defaultValue = "auto",
            description = "CPU engine: kvm (hardware virtualization), emu (p2vkit's x86 emulator), or auto: "
                    + "kvm only where a short probe shows real hardware virtualization (default: "
                    + "${DEFAULT-VALUE}).")
    String accel;

    @Option(names = "--disk-bus", paramLabel = "ide|virtio", defaultValue = "ide", description = "How disks are attached (default: ${DEFAULT-VALUE}).")
    String diskBus;

    @Option(names = "--bios", paramLabel = "FILE", description = "Firmware image (default: SeaBIOS from Debian's seabios package).")
    Path bios;

    @Option(names = "--display", paramLabel = "auto|vga|none", defaultValue = "auto",
            description = "Display adapter: vga (a standard VGA with SeaBIOS's VGA BIOS, which must be found), "
                    + "none (serial console only), or auto: vga when the VGA BIOS is installed (default: "
                    + "${DEFAULT-VALUE}).")
    String display;

    @Option(names = "--no-vga", description = "No display adapter (the same as --display none).")
    boolean noVga;

    @Option(names = "--vga-bios", paramLabel = "FILE", description = "VGA BIOS option ROM (default: vgabios-isavga.bin from Debian's seabios package).")
    Path vgaBios;

    /** A machine with {@code open} attached on the chosen bus, the first one booting. */
    public MachineConfig config(List<VirtualDisk> open, MachineConfig.DiskMode mode) throws ImageFormatException {
        long bytes;
        try {
            bytes = Sizes.parse(memory);
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException("--memory: " + e.getMessage());
        }
        MachineConfig.DiskInterface bus = switch (diskBus.toLowerCase(java.util.Locale.ROOT)) {
            case "ide" -> MachineConfig.DiskInterface.IDE;
            case "virtio" -> MachineConfig.DiskInterface.VIRTIO;
            default -> throw new ImageFormatException("--disk-bus must be ide or virtio, not " + diskBus);
        };
        MachineConfig c;
        try {
            c = new MachineConfig().memoryMiB(bytes >> 20).cpus(cpus);
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(e.getMessage());
        }
        if (bios != null) {
            c.bios(bios);
        }
        c.display(noVga ? MachineConfig.Display.NONE : switch (display.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> MachineConfig.Display.AUTO;
            case "vga" -> MachineConfig.Display.VGA;
            case "none" -> MachineConfig.Display.NONE;
            default -> throw new ImageFormatException("--display must be auto, vga or none, not " + display);
        });
        if (vgaBios != null) {
            c.vgaBios(vgaBios);
        }
        try {
            for (VirtualDisk d : open) {
                c.disk(d, bus, mode);
            }
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException(e.getMessage());
        }
        return c;
    }

    /** Chooses the engine as {@code --accel} says, and tells why on stderr. */
    public Engine engine() throws ImageFormatException {
        AccelChooser.Choice choice;
        try {
            choice = Engines.choose(accel);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ImageFormatException(e.getMessage());
        }
        System.err.println("p2v: engine " + choice.engine() + ": " + choice.reason());
        return Engines.of(choice);
    }
}
