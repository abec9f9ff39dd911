package io.p2vkit.agent.partition;

/**
 * One partition of a disk.
 *
 * @param number   1-based number as Linux names it (sda1; logical MBR partitions start at 5)
 * @param offset   first byte on the disk
 * @param length   bytes
 * @param type     MBR type byte as two hex digits ("83"), or the GPT type GUID
 * @param typeName what the type means ("Linux filesystem", "EFI System", "Extended")
 * @param name     GPT partition name, or "" for MBR
 * @param uuid     GPT unique partition GUID, or "" for MBR
 * @param container whether this is an MBR extended partition (it holds logical ones, no filesystem)
 */
public record Partition(int number, long offset, long length, String type, String typeName, String name,
                        String uuid, boolean container) {

    public long end() {
        return offset + length;
    }
}
