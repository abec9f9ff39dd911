package io.p2vkit.cli.vm;

import io.p2vkit.hv.machine.Engine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.Formats;
import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The machine options {@code p2v vm boot} and {@code p2v vm verify} share ({@code @Mixin}). */
public final class VmOptions {

    @Parameters(paramLabel = "DISK", arity = "1..*", description = "Disk images of any format (raw, vpc, vmdk, qcow2), first one boots.")
    List<Path> disks = new ArrayList<>();

    @Mixin
    MachineOptions machine;

    @Option(names = "--writable", description = "Write guest changes through to the images (default: a copy-on-write overlay; the images are never changed).")
    boolean writable;

    @Option(names = "--allow-external", description = "Follow image references that leave the image's folder.")
    boolean allowExternal;

    /** Opens the disks; the caller closes them. */
    List<VirtualDisk> openDisks() throws IOException {
        List<VirtualDisk> open = new ArrayList<>();
        OpenOptions o = (writable ? OpenOptions.READ_WRITE : OpenOptions.READ_ONLY).withAllowExternal(allowExternal);
        try {
            for (Path p : disks) {
                open.add(Formats.get().open(p, o));
            }
        } catch (IOException e) {
            for (VirtualDisk d : open) {
                d.close();
            }
            throw e;
        }
        return open;
    }

    MachineConfig config(List<VirtualDisk> open) throws ImageFormatException {
        return machine.config(open, writable ? MachineConfig.DiskMode.WRITE_THROUGH : MachineConfig.DiskMode.COPY_ON_WRITE);
    }

    Engine engine() throws ImageFormatException {
        return machine.engine();
    }
}
