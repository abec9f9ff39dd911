package io.p2vkit.agent.capture;

import io.p2vkit.agent.fs.Filesystem;
import io.p2vkit.agent.partition.Partition;

/**
 * What capture decided for one partition.
 *
 * @param partition   the partition
 * @param filesystem  what was found on it, or null
 * @param mode        "used-blocks", "swap-header", "whole" or "container"
 * @param reason      why (for "whole": unknown filesystem, damaged bitmap, --all)
 * @param copiedBytes bytes of the partition that are copied
 */
public record PartitionPlan(Partition partition, Filesystem filesystem, String mode, String reason,
                            long copiedBytes) {
}
