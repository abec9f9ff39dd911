package io.p2vkit.image;

import java.io.IOException;
import java.nio.file.Path;

/** Opens a disk of any format by probing; formats use it to open backing and parent disks. */
@FunctionalInterface
public interface DiskOpener {
    VirtualDisk open(Path file, OpenOptions options) throws IOException;
}
