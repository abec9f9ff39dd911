package io.p2vkit.agent.partition;

import java.util.List;

/**
 * A disk's partition table.
 *
 * @param scheme     "mbr", "gpt" or "none"
 * @param diskId     MBR disk signature (8 hex digits) or the GPT disk GUID
 * @param partitions in table order
 * @param warnings   problems found (a bad backup GPT header, a loop in the EBR chain...)
 */
public record PartitionTable(String scheme, String diskId, List<Partition> partitions, List<String> warnings) {

    public static PartitionTable none() {
        return new PartitionTable("none", "", List.of(), List.of());
    }
}
