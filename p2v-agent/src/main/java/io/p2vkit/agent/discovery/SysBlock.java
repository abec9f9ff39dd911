package io.p2vkit.agent.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads the attributes Linux publishes for a block device under /sys/class/block/NAME. */
final class SysBlock {

    private final Path dir;

    private SysBlock(Path dir) {
        this.dir = dir;
    }

    /** The sysfs folder of the device behind {@code devicePath} (/dev/sda, /dev/loop0p1). */
    static Optional<SysBlock> of(Path devicePath) {
        try {
            Path real = devicePath.toRealPath();
            Path dir = Path.of("/sys/class/block", real.getFileName().toString());
            return Files.isDirectory(dir) ? Optional.of(new SysBlock(dir.toRealPath())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static SysBlock named(String name) {
        return new SysBlock(Path.of("/sys/block", name));
    }

    String name() {
        return dir.getFileName().toString();
    }

    /** For a partition, its disk's folder (partitions have no queue/ of their own). */
    SysBlock disk() {
        return Files.exists(dir.resolve("partition")) ? new SysBlock(dir.getParent()) : this;
    }

    String text(String attr) {
        try {
            return Files.readString(dir.resolve(attr)).strip();
        } catch (IOException e) {
            return "";
        }
    }

    long number(String attr, long dflt) {
        try {
            return Long.parseLong(text(attr));
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
