package io.p2vkit.cli.image;

import picocli.CommandLine.Command;

/** {@code p2v image ...}: qemu-img's verbs for virtual disk images. */
@Command(name = "image", mixinStandardHelpOptions = true,
        description = {"Inspect, convert, check and compare disk images (raw, vpc/vhd, vmdk, qcow2), as "
                + "qemu-img does.",
                "Formats are found by probing content, never by file name; -f forces one."},
        subcommands = {InfoCommand.class, ConvertCommand.class, CompareCommand.class, CheckCommand.class,
                MapCommand.class, CreateCommand.class})
public final class ImageCommand {
}
