package io.p2vkit.cli.agent;

import io.p2vkit.agent.discovery.BlockDevice;
import io.p2vkit.agent.discovery.BlockDevices;
import io.p2vkit.agent.discovery.Volume;
import io.p2vkit.cli.P2vCommand;
import io.p2vkit.image.Sizes;
import io.p2vkit.image.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code p2v disks}: the disks of this machine, their tables, filesystems and use. */
@Command(name = "disks", mixinStandardHelpOptions = true,
        description = {"List block devices (or the given devices/raw image files) with size, sector "
                + "sizes, model, partition table, each partition's type, filesystem, label, UUID, "
                + "mount point and used space.",
                "Filesystems are recognised by their superblocks. Reading partition tables needs root."},
        footer = {"", "Examples:", "  p2v disks", "  p2v disks --output json /dev/sda"})
public final class DisksCommand extends P2vCommand {

    @Parameters(paramLabel = "DEVICE", arity = "0..*", description = "Devices or raw image files (default: all disks).")
    List<Path> devices = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<BlockDevice> disks = new ArrayList<>();
        if (devices.isEmpty()) {
            disks.addAll(BlockDevices.list());
        } else {
            for (Path d : devices) {
                disks.add(BlockDevices.describe(d));
            }
        }
        if (common.json()) {
            System.out.println(Json.write(disks));
            return 0;
        }
        for (BlockDevice d : disks) {
            System.out.printf(Locale.ROOT, "%s  %s  sectors %d/%d  %s%s%s%n", d.path(), Sizes.human(d.size()),
                    d.logicalSector(), d.physicalSector(), (d.vendor() + " " + d.model()).strip(),
                    d.rotational() ? "  rotational" : "", d.removable() ? "  removable" : "");
            if (!d.error().isEmpty()) {
                System.out.println("  " + d.error());
                continue;
            }
            System.out.println("  table: " + d.table().scheme() + (d.table().diskId().isEmpty() ? "" : " " + d.table().diskId()));
            d.table().warnings().forEach(w -> System.out.println("  warning: " + w));
            for (Volume v : d.volumes()) {
                String part = v.partition() == null ? "(whole disk)" : String.format(Locale.ROOT, "#%-2d %-22s %9s",
                        v.partition().number(), v.partition().typeName(), Sizes.human(v.partition().length()));
                String fs = v.filesystem() == null ? "-" : v.filesystem().type()
                        + (v.filesystem().label().isEmpty() ? "" : " \"" + v.filesystem().label() + "\"")
                        + (v.filesystem().uuid().isEmpty() ? "" : " " + v.filesystem().uuid());
                String used = v.usedBytes() < 0 ? "" : " used " + Sizes.human(v.usedBytes());
                String mnt = v.mountPoints().isEmpty() ? "" : " on " + String.join(",", v.mountPoints())
                        + (v.readWrite() ? " (rw)" : " (ro)");
                System.out.println("  " + part + "  " + fs + used + mnt);
            }
        }
        return 0;
    }
}
