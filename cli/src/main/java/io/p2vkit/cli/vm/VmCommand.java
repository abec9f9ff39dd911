package io.p2vkit.cli.vm;

import picocli.CommandLine.Command;

/** {@code p2v vm ...}: boot disks in p2vkit's own virtual machine. */
@Command(name = "vm", mixinStandardHelpOptions = true,
        description = {"Boot disk images in p2vkit's virtual machine: a PC (i440FX/PIIX3, SeaBIOS, "
                + "16550, IDE, virtio-blk) on KVM or on p2vkit's own x86 emulator. The images are "
                + "never changed unless --writable."},
        subcommands = {VmVerifyCommand.class, VmBootCommand.class})
public final class VmCommand {
}
