package io.p2vkit.agent.discovery;

import io.p2vkit.agent.fs.Filesystem;
import io.p2vkit.agent.partition.Partition;

import java.util.List;

/**
 * A partition (or an unpartitioned disk) and what is on it.
 *
 * @param device      /dev path of the partition, where the kernel created one
 * @param partition   the table entry, or null for a whole unpartitioned disk
 * @param filesystem  what its superblock says, or null
 * @param mountPoints where it is mounted
 * @param readWrite   mounted writable somewhere
 * @param usedBytes   bytes in use (the filesystem's own counters or its allocation map), or -1
 */
public record Volume(String device, Partition partition, Filesystem filesystem, List<String> mountPoints,
                     boolean readWrite, long usedBytes) {
}
