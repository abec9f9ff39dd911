package io.p2vkit.agent.partition;

import java.util.Map;

/** Names of the partition types a server disk commonly carries. */
final class PartitionTypes {

    private static final Map<Integer, String> MBR = Map.ofEntries(
            Map.entry(0x01, "FAT12"), Map.entry(0x04, "FAT16 <32M"), Map.entry(0x05, "Extended"),
            Map.entry(0x06, "FAT16"), Map.entry(0x07, "HPFS/NTFS/exFAT"), Map.entry(0x0B, "W95 FAT32"),
            Map.entry(0x0C, "W95 FAT32 (LBA)"), Map.entry(0x0E, "W95 FAT16 (LBA)"), Map.entry(0x0F, "W95 Extended (LBA)"),
            Map.entry(0x27, "Hidden NTFS WinRE"), Map.entry(0x42, "Windows dynamic"), Map.entry(0x82, "Linux swap"),
            Map.entry(0x83, "Linux"), Map.entry(0x85, "Linux extended"), Map.entry(0x8E, "Linux LVM"),
            Map.entry(0xEE, "GPT protective"), Map.entry(0xEF, "EFI System"), Map.entry(0xFD, "Linux raid autodetect"));

    private static final Map<String, String> GPT = Map.ofEntries(
            Map.entry("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "EFI System"),
            Map.entry("21686148-6449-6e6f-744e-656564454649", "BIOS boot"),
            Map.entry("0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"),
            Map.entry("0657fd6d-a4ab-43c4-84e5-0933c84b4f4f", "Linux swap"),
            Map.entry("e6d6d379-f507-44c2-a23c-238f2a3df928", "Linux LVM"),
            Map.entry("a19d880f-05fc-4d3b-a006-743f0f84911e", "Linux RAID"),
            Map.entry("4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "Linux root (x86-64)"),
            Map.entry("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "Microsoft basic data"),
            Map.entry("e3c9e316-0b5c-4db8-817d-f92df00215ae", "Microsoft reserved"),
            Map.entry("de94bba4-06d1-4d40-a16a-bfd50179d6ac", "Windows recovery"),
            Map.entry("6a898cc3-1dd2-11b2-99a6-080020736631", "ZFS"));

    private PartitionTypes() {
    }

    static String mbrName(int type) {
        return MBR.getOrDefault(type, "unknown");
    }

    static String gptName(String guid) {
        return GPT.getOrDefault(guid, "unknown");
    }
}
