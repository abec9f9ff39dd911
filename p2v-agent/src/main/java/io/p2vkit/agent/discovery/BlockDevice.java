package io.p2vkit.agent.discovery;

import io.p2vkit.agent.partition.PartitionTable;

import java.util.List;

/**
 * A disk as `p2v disks` reports it.
 *
 * @param path              /dev/NAME
 * @param size              bytes
 * @param logicalSector     bytes per logical sector
 * @param physicalSector    bytes per physical sector
 * @param model             model, where the system knows it
 * @param vendor            vendor, where known
 * @param serial            serial number or WWID, where known
 * @param rotational        spinning disk
 * @param removable         removable medium
 * @param table             its partition table (scheme "none" when unpartitioned; null when unreadable)
 * @param volumes           each partition (or the whole disk when unpartitioned) with its filesystem
 * @param error             why the table could not be read (permissions), or ""
 */
public record BlockDevice(String path, long size, int logicalSector, int physicalSector, String model, String vendor,
                          String serial, boolean rotational, boolean removable, PartitionTable table,
                          List<Volume> volumes, String error) {
}
