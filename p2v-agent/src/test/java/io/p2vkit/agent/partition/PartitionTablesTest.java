package io.p2vkit.agent.partition;

import io.p2vkit.agent.testing.Sh;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;
import io.p2vkit.image.raw.RawFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tables made by sfdisk, read back, then damaged on purpose. */
class PartitionTablesTest {

    @TempDir
    Path dir;

    private PartitionTable read(Path file) throws Exception {
        try (VirtualDisk d = new RawFormat().open(file, OpenOptions.READ_ONLY, null)) {
            return PartitionTables.read(d, 512);
        }
    }

    private Path disk(String name, String script) throws Exception {
        Sh.require("sfdisk");
        Path f = dir.resolve(name);
        Sh.run("truncate", "-s", "64M", f.toString());
        Sh.runWithInput(script, "sfdisk", "-q", f.toString());
        return f;
    }

    private static void poke(Path f, long offset, byte[] bytes) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    /** Inverts one byte, so the change never depends on what was there. */
    private static void flip(Path f, long offset) throws Exception {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            ch.write(ByteBuffer.wrap(new byte[] {(byte) ~b.get(0)}), offset);
        }
    }

    @Test
    void mbrWithLogicalPartitions() throws Exception {
        Path f = disk("mbr.img", "label: dos\nlabel-id: 0x12345678\n,8M,83\n,,5\n,8M,82\n,8M,7\n");
        PartitionTable t = read(f);
        assertEquals("mbr", t.scheme());
        assertEquals("12345678", t.diskId());
        assertEquals("1 2 5 6", String.join(" ", t.partitions().stream().map(p -> "" + p.number()).toList()));
        Partition six = t.partitions().get(3);
        assertEquals("07", six.type());
        assertEquals(8L << 20, six.length());
        assertTrue(t.warnings().isEmpty(), t.warnings().toString());
    }

    @Test
    void ebrChainThatLoopsIsCutWithAWarning() throws Exception {
        Path f = disk("loop.img", "label: dos\n,8M,83\n,,5\n,8M,82\n,8M,7\n");
        PartitionTable t = read(f);
        Partition ext = t.partitions().get(1);
        long firstEbr = ext.offset();
        // Point the first EBR's "next" link back at itself.
        poke(f, firstEbr + 446 + 16 + 4, new byte[] {0x05});
        poke(f, firstEbr + 446 + 16 + 8, new byte[] {0, 0, 0, 0});
        poke(f, firstEbr + 446 + 16 + 12, new byte[] {1, 0, 0, 0});
        PartitionTable looped = read(f);
        assertTrue(looped.warnings().stream().anyMatch(w -> w.contains("loops")), looped.warnings().toString());
        assertEquals(3, looped.partitions().size());
    }

    @Test
    void gptWithDamagedPrimaryFallsBackToTheBackup() throws Exception {
        Path f = disk("gpt.img", "label: gpt\nsize=8M, type=L, name=one\nsize=8M, type=S, name=two\n");
        PartitionTable good = read(f);
        assertEquals("gpt", good.scheme());
        assertEquals(2, good.partitions().size());
        assertEquals("one", good.partitions().get(0).name());
        assertEquals("0fc63daf-8483-4772-8e79-3d69d8477de4", good.partitions().get(0).type());

        flip(f, 512 + 60); // inside the disk GUID: breaks the header CRC
        PartitionTable fallback = read(f);
        assertEquals(2, fallback.partitions().size());
        assertTrue(fallback.warnings().stream().anyMatch(w -> w.contains("using the backup")), fallback.warnings().toString());

        long last = 64L * 1024 * 1024 - 512;
        flip(f, last + 60);
        assertThrows(PartitionTableException.class, () -> read(f));
    }

    @Test
    void absurdGptEntryCountIsRefused() throws Exception {
        Path f = disk("gpt2.img", "label: gpt\nsize=8M, type=L\n");
        ByteBuffer header = ByteBuffer.allocate(92).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(f)) {
            ch.read(header, 512);
        }
        // A header whose CRC is right but whose entry count would need gigabytes.
        header.putInt(80, 0x7FFFFFFF).putInt(16, 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(header.array());
        header.putInt(16, (int) crc.getValue());
        poke(f, 512, header.array());
        PartitionTable t = read(f);
        assertTrue(t.warnings().stream().anyMatch(w -> w.contains("entry array of 2147483647")), t.warnings().toString());
    }
}
