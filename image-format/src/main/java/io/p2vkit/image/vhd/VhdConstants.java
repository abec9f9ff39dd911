package io.p2vkit.image.vhd;

import java.nio.charset.StandardCharsets;

/**
 * Numbers from the "Virtual Hard Disk Image Format Specification" (Microsoft, version 1.0,
 * October 2006), cited below as "spec" with its section names. All fields are big-endian.
 */
final class VhdConstants {

    private VhdConstants() {
    }

    /** Spec "Hard Disk Footer Format": the footer is one 512-byte sector. */
    static final int FOOTER_SIZE = 512;
    /** Virtual PC before 2004 wrote a footer of 511 bytes; the spec tells readers to accept it. */
    static final int OLD_FOOTER_SIZE = 511;
    /** Spec "Dynamic Disk Header Format": 1024 bytes. */
    static final int DYNAMIC_HEADER_SIZE = 1024;
    static final int SECTOR = 512;

    static final byte[] FOOTER_COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
    static final byte[] HEADER_COOKIE = "cxsparse".getBytes(StandardCharsets.US_ASCII);

    /** Footer "Features": bit 1 is reserved and must always be set. */
    static final int FEATURE_RESERVED = 0x2;
    /** Footer "File Format Version" and header "Header Version": 1.0. */
    static final int VERSION_1_0 = 0x0001_0000;
    /** Footer "Data Offset" of a fixed disk, and header "Data Offset" (all 64 bits set). */
    static final long NO_OFFSET = -1L;

    /** Footer "Disk Type". */
    static final int TYPE_FIXED = 2;
    static final int TYPE_DYNAMIC = 3;
    static final int TYPE_DIFFERENCING = 4;

    /** An unused Block Allocation Table entry. */
    static final int BAT_UNUSED = 0xFFFF_FFFF;

    /** Timestamps count seconds from 2000-01-01 00:00:00 UTC. */
    static final long TIMESTAMP_EPOCH = 946_684_800L;

    /**
     * The spec's largest disk: 2040 GiB (0xFF000000 sectors; Hyper-V and qemu refuse more). A
     * dynamic disk cannot hold much more anyway: BAT entries are 32-bit sector numbers.
     */
    static final long MAX_VIRTUAL_SIZE = 0xFF00_0000L * SECTOR;
    /** What open() accepts before refusing a size as damage (check reports above MAX_VIRTUAL_SIZE). */
    static final long MAX_READABLE_SIZE = 1L << 46;

    /** Spec "Dynamic Disk Header Format", "Block Size": 2 MiB by default. */
    static final int DEFAULT_BLOCK_SIZE = 2 << 20;
    static final int MIN_BLOCK_SIZE = SECTOR;
    static final int MAX_BLOCK_SIZE = 256 << 20;
    /** Bounds the in-memory BAT (64 MiB); 2040 GiB in 512 KiB blocks needs only 4 Mi entries. */
    static final long MAX_BAT_ENTRIES = 16L << 20;

    /** Spec appendix "CHS Calculation": the largest geometry, 65535 x 16 x 255. */
    static final int MAX_CYLINDERS = 65535;
    static final int MAX_HEADS = 16;
    static final int MAX_SECTORS_PER_TRACK = 255;
    static final long MAX_GEOMETRY_SECTORS = (long) MAX_CYLINDERS * MAX_HEADS * MAX_SECTORS_PER_TRACK;

    /** Parent locator platform codes (spec "Dynamic Disk Header Format", "Platform Code"). */
    static final int PLATFORM_NONE = 0;
    static final int PLATFORM_WI2R = 0x5769_3272; // "Wi2r": relative path, deprecated
    static final int PLATFORM_WI2K = 0x5769_326B; // "Wi2k": absolute path, deprecated
    static final int PLATFORM_W2RU = 0x5732_7275; // "W2ru": relative path, UTF-16LE
    static final int PLATFORM_W2KU = 0x5732_6B75; // "W2ku": absolute path, UTF-16LE
    static final int PLATFORM_MAC = 0x4D61_6320;  // "Mac ": a Mac OS alias blob
    static final int PLATFORM_MACX = 0x4D61_6358; // "MacX": a file:// URL, UTF-8
    static final int LOCATOR_COUNT = 8;
    /** Longest locator we read: a Windows path of 32767 UTF-16 units. */
    static final int MAX_LOCATOR_BYTES = 65536;

    /** Creator host OS codes. */
    static final int OS_WINDOWS = 0x5769_326B; // "Wi2k"
    static final int OS_MAC = 0x4D61_6320;     // "Mac "

    /** What we write as creator: ours, with CHS-exact sizes; Hyper-V's for current-size semantics. */
    static final String CREATOR_P2VKIT = "p2vk";
    static final int CREATOR_P2VKIT_VERSION = 0x0000_0001;
    static final String CREATOR_HYPERV = "win ";
    static final int CREATOR_HYPERV_VERSION = 0x000A_0000;

    /** Footer field offsets (spec "Hard Disk Footer Format"). */
    static final int F_COOKIE = 0;
    static final int F_FEATURES = 8;
    static final int F_VERSION = 12;
    static final int F_DATA_OFFSET = 16;
    static final int F_TIMESTAMP = 24;
    static final int F_CREATOR_APP = 28;
    static final int F_CREATOR_VERSION = 32;
    static final int F_CREATOR_OS = 36;
    static final int F_ORIGINAL_SIZE = 40;
    static final int F_CURRENT_SIZE = 48;
    static final int F_GEOMETRY = 56;
    static final int F_DISK_TYPE = 60;
    static final int F_CHECKSUM = 64;
    static final int F_UNIQUE_ID = 68;
    static final int F_SAVED_STATE = 84;

    /** Dynamic header field offsets (spec "Dynamic Disk Header Format"). */
    static final int H_COOKIE = 0;
    static final int H_DATA_OFFSET = 8;
    static final int H_TABLE_OFFSET = 16;
    static final int H_VERSION = 24;
    static final int H_MAX_TABLE_ENTRIES = 28;
    static final int H_BLOCK_SIZE = 32;
    static final int H_CHECKSUM = 36;
    static final int H_PARENT_ID = 40;
    static final int H_PARENT_TIMESTAMP = 56;
    static final int H_PARENT_NAME = 64;
    static final int H_PARENT_NAME_BYTES = 512;
    static final int H_LOCATORS = 576;
    static final int H_LOCATOR_SIZE = 24;
}
