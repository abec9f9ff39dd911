package io.p2vkit.hv.machine;

import io.p2vkit.hv.device.ByteSink;
import io.p2vkit.image.VirtualDisk;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What to build: memory size, firmware, disks, engine, and where console output goes.
 * Disks are used through a copy-on-write overlay unless attached {@link DiskMode#WRITE_THROUGH}.
 */
public final class MachineConfig {

    /** Which controller a disk hangs on. */
    public enum DiskInterface {
        /** Primary master of the PIIX3 IDE function (ports 0x1F0/0x3F6, IRQ 14). */
        IDE,
        /** A virtio-blk PCI function (legacy transport). */
        VIRTIO
    }

    /** Whether guest writes reach the image. */
    public enum DiskMode {
        /** Guest writes go to a temporary overlay; the image is never written (the default). */
        COPY_ON_WRITE,
        /** Guest writes go to the image. */
        WRITE_THROUGH
    }

    /** Whether the machine has a screen. */
    public enum Display {
        /** A VGA adapter when a VGA BIOS is found ({@link FirmwareLocator#locateVgaBios}), else none. */
        AUTO,
        /** A VGA adapter; building the machine fails when no VGA BIOS is found. */
        VGA,
        /** No display adapter: the serial port is the only console. */
        NONE
    }

    /** One attached disk. */
    public record Disk(VirtualDisk disk, DiskInterface bus, DiskMode mode) {
    }

    public static final long MIN_MEMORY = 16L << 20;
    public static final long MAX_MEMORY = 64L << 30;

    public static final int MAX_CPUS = 8;

    private long memoryBytes = 256L << 20;
    private int cpus = 1;
    private Path bios;
    private Display display = Display.AUTO;
    private Path vgaBios;
    private final List<Disk> disks = new ArrayList<>();
    private Engine engine;
    private ByteSink serialSink = ByteSink.NONE;
    private ByteSink debugSink = ByteSink.NONE;

    public MachineConfig memoryMiB(long mib) {
        long bytes = Math.multiplyExact(mib, 1L << 20);
        if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) {
            throw new IllegalArgumentException("memory must be between 16 MiB and 64 GiB, not " + mib + " MiB");
        }
        this.memoryBytes = bytes;
        return this;
    }

    /** vCPUs (1 to 8); more than one needs an engine with local APICs (KVM). */
    public MachineConfig cpus(int n) {
        if (n < 1 || n > MAX_CPUS) {
            throw new IllegalArgumentException("vCPUs must be between 1 and " + MAX_CPUS + ", not " + n);
        }
        this.cpus = n;
        return this;
    }

    public int cpus() {
        return cpus;
    }

    /** The BIOS image ({@code --bios FILE}); default: SeaBIOS found by {@link FirmwareLocator}. */
    public MachineConfig bios(Path file) {
        this.bios = file;
        return this;
    }

    /** The display adapter (default {@link Display#AUTO}). */
    public MachineConfig display(Display d) {
        this.display = java.util.Objects.requireNonNull(d);
        return this;
    }

    public Display display() {
        return display;
    }

    /** The VGA BIOS option ROM; default: SeaBIOS's ISA VGA BIOS found by {@link FirmwareLocator}. */
    public MachineConfig vgaBios(Path file) {
        this.vgaBios = file;
        return this;
    }

    public Path vgaBios() {
        return vgaBios;
    }

    public MachineConfig disk(VirtualDisk disk, DiskInterface bus) {
        return disk(disk, bus, DiskMode.COPY_ON_WRITE);
    }

    public MachineConfig disk(VirtualDisk disk, DiskInterface bus, DiskMode mode) {
        if (bus == DiskInterface.IDE && disks.stream().anyMatch(d -> d.bus() == DiskInterface.IDE)) {
            throw new IllegalArgumentException("only one IDE disk (primary master) is supported");
        }
        if (disks.size() >= 8) {
            throw new IllegalArgumentException("at most 8 disks");
        }
        if (mode == DiskMode.WRITE_THROUGH && disk.isReadOnly()) {
            throw new IllegalArgumentException("a read-only disk cannot be attached write-through");
        }
        disks.add(new Disk(disk, bus, mode));
        return this;
    }

    public MachineConfig engine(Engine engine) {
        this.engine = engine;
        return this;
    }

    /** Receives every byte the guest writes to COM1. */
    public MachineConfig serialSink(ByteSink sink) {
        this.serialSink = sink;
        return this;
    }

    /** Receives the firmware's debug log (port 0x402). */
    public MachineConfig debugSink(ByteSink sink) {
        this.debugSink = sink;
        return this;
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    public Path bios() {
        return bios;
    }

    public List<Disk> disks() {
        return List.copyOf(disks);
    }

    public Engine engine() {
        return engine;
    }

    public ByteSink serialSink() {
        return serialSink;
    }

    public ByteSink debugSink() {
        return debugSink;
    }
}
