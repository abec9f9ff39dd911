package io.p2vkit.agent.fs;

/**
 * A filesystem found by its superblock.
 *
 * @param type      ext2, ext3, ext4, xfs, btrfs, ntfs, fat12, fat16, fat32, exfat, swap, lvm2_member, crypto_luks
 * @param label     volume label, or "" when none (or when it lives where we do not read)
 * @param uuid      volume UUID or serial as blkid prints it, or ""
 * @param size      bytes the filesystem spans, or -1 when the superblock does not say
 * @param usedBytes bytes in use according to its own counters, or -1 when not known
 */
public record Filesystem(String type, String label, String uuid, long size, long usedBytes) {
}
