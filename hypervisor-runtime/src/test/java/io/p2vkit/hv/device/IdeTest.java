package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import org.junit.jupiter.api.Test;

import static io.p2vkit.hv.device.Ide.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdeTest {

    private final MemoryDisk disk = new MemoryDisk(2048);
    private final RecordingIrq irq = new RecordingIrq();
    private final Ide ide = new Ide(disk, irq, "TESTSERIAL");
    private final PortIoDevice cmd = ide.commandBlock();
    private final PortIoDevice ctl = ide.controlBlock();

    private void lba28(long lba, int count, int command) {
        cmd.write(REG_DEVICE, 1, DEVICE_LBA | (int) (lba >> 24 & 0xF));
        cmd.write(REG_COUNT, 1, count);
        cmd.write(REG_LBA_LOW, 1, (int) lba & 0xFF);
        cmd.write(REG_LBA_MID, 1, (int) (lba >> 8) & 0xFF);
        cmd.write(REG_LBA_HIGH, 1, (int) (lba >> 16) & 0xFF);
        cmd.write(REG_STATUS_COMMAND, 1, command);
    }

    private void lba48(long lba, int count, int command) {
        cmd.write(REG_DEVICE, 1, DEVICE_LBA);
        cmd.write(REG_COUNT, 1, count >> 8);
        cmd.write(REG_LBA_LOW, 1, (int) (lba >> 24) & 0xFF);
        cmd.write(REG_LBA_MID, 1, (int) (lba >> 32) & 0xFF);
        cmd.write(REG_LBA_HIGH, 1, (int) (lba >> 40) & 0xFF);
        cmd.write(REG_COUNT, 1, count & 0xFF);
        cmd.write(REG_LBA_LOW, 1, (int) lba & 0xFF);
        cmd.write(REG_LBA_MID, 1, (int) (lba >> 8) & 0xFF);
        cmd.write(REG_LBA_HIGH, 1, (int) (lba >> 16) & 0xFF);
        cmd.write(REG_STATUS_COMMAND, 1, command);
    }

    private byte[] readSectors(int n) {
        byte[] out = new byte[n * 512];
        for (int i = 0; i < out.length; i += 2) {
            int w = cmd.read(REG_DATA, 2);
            out[i] = (byte) w;
            out[i + 1] = (byte) (w >> 8);
        }
        return out;
    }

    private byte[] expected(long lba, int n) {
        byte[] e = new byte[n * 512];
        System.arraycopy(disk.data, (int) lba * 512, e, 0, e.length);
        return e;
    }

    @Test
    void identifyReportsSizeLba48AndModel() {
        cmd.write(REG_DEVICE, 1, 0);
        cmd.write(REG_STATUS_COMMAND, 1, CMD_IDENTIFY);
        assertTrue(irq.level);
        assertEquals(STATUS_DRDY | STATUS_DSC | STATUS_DRQ, cmd.read(REG_STATUS_COMMAND, 1));
        assertFalse(irq.level, "reading status acknowledges");
        int[] w = new int[256];
        for (int i = 0; i < 256; i++) {
            w[i] = cmd.read(REG_DATA, 2);
        }
        assertEquals(0x0040, w[0]);
        assertEquals(2048, w[60] | w[61] << 16);
        assertEquals(2048, w[100] | w[101] << 16);
        assertEquals(0x0400, w[83] & 0x0400, "LBA48");
        assertEquals('P' << 8 | '2', w[27], "model string, byte-swapped per word");
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ);
    }

    @Test
    void readSectorsLba28OneInterruptPerSector() {
        lba28(5, 3, CMD_READ_SECTORS);
        assertEquals(1, irq.raises);
        // PIO data-in protocol: the handler reads status (acknowledging INTRQ), then the block.
        cmd.read(REG_STATUS_COMMAND, 1);
        byte[] first = readSectors(1);
        assertEquals(2, irq.raises, "the next block is ready: INTRQ again");
        cmd.read(REG_STATUS_COMMAND, 1);
        byte[] second = readSectors(1);
        cmd.read(REG_STATUS_COMMAND, 1);
        byte[] third = readSectors(1);
        assertEquals(3, irq.raises, "one interrupt per sector");
        byte[] rest = new byte[1024];
        System.arraycopy(second, 0, rest, 0, 512);
        System.arraycopy(third, 0, rest, 512, 512);
        byte[] all = new byte[1536];
        System.arraycopy(first, 0, all, 0, 512);
        System.arraycopy(rest, 0, all, 512, 1024);
        assertEquals(java.util.Arrays.toString(expected(5, 3)), java.util.Arrays.toString(all));
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ);
    }

    @Test
    void blockReadsStopAtEachSectorEndAsReadsWould() {
        lba28(7, 2, CMD_READ_SECTORS);
        cmd.read(REG_STATUS_COMMAND, 1);
        java.lang.foreign.MemorySegment dst = java.lang.foreign.MemorySegment.ofArray(new byte[1024 + 8]);
        assertEquals(100, cmd.readBlock(REG_DATA, 4, dst, 4, 100), "as many dwords as asked");
        assertEquals(28, cmd.readBlock(REG_DATA, 4, dst, 404, 1000), "then only to the sector's end");
        assertEquals(2, irq.raises, "the next sector is ready, as after the last word read");
        assertEquals(0, cmd.readBlock(REG_STATUS_COMMAND, 1, dst, 0, 1), "only the data port");
        cmd.read(REG_STATUS_COMMAND, 1);
        assertEquals(256, cmd.readBlock(REG_DATA, 2, dst, 516, 256));
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ, "the command is done");
        assertEquals(0, cmd.readBlock(REG_DATA, 2, dst, 0, 1), "no data left: the word-wise path answers");
        byte[] got = java.util.Arrays.copyOfRange(dst.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), 4, 1028);
        assertEquals(java.util.Arrays.toString(expected(7, 2)), java.util.Arrays.toString(got));
    }

    @Test
    void readMultipleAndLba48AndDwordAccess() {
        cmd.write(REG_COUNT, 1, 4);
        cmd.write(REG_STATUS_COMMAND, 1, CMD_SET_MULTIPLE);
        cmd.read(REG_STATUS_COMMAND, 1);
        lba48(100, 8, CMD_READ_MULTIPLE_EXT);
        byte[] got = new byte[8 * 512];
        for (int i = 0; i < got.length; i += 4) {
            int v = cmd.read(REG_DATA, 4);
            got[i] = (byte) v;
            got[i + 1] = (byte) (v >> 8);
            got[i + 2] = (byte) (v >> 16);
            got[i + 3] = (byte) (v >> 24);
        }
        assertEquals(java.util.Arrays.toString(expected(100, 8)), java.util.Arrays.toString(got));
        assertEquals(2, irq.raises, "one interrupt per 4-sector block");
    }

    @Test
    void writeSectorsReachTheDisk() {
        lba28(10, 2, CMD_WRITE_SECTORS);
        assertEquals(STATUS_DRQ, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ, "first block without an interrupt");
        for (int i = 0; i < 512; i++) {
            cmd.write(REG_DATA, 2, 0xBEEF);
        }
        assertEquals((byte) 0xEF, disk.data[10 * 512]);
        assertEquals((byte) 0xBE, disk.data[12 * 512 - 1]);
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ);
    }

    @Test
    void writeMultipleExtInBlocks() {
        cmd.write(REG_COUNT, 1, 2);
        cmd.write(REG_STATUS_COMMAND, 1, CMD_SET_MULTIPLE);
        cmd.read(REG_STATUS_COMMAND, 1);
        lba48(2000, 4, CMD_WRITE_MULTIPLE_EXT);
        for (int block = 0; block < 2; block++) {
            assertEquals(STATUS_DRQ, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_DRQ);
            for (int i = 0; i < 512; i++) {
                cmd.write(REG_DATA, 2, 0x1100 + block);
            }
        }
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & (STATUS_DRQ | STATUS_ERR));
        assertEquals(0x00, disk.data[2000 * 512]);
        assertEquals(0x11, disk.data[2000 * 512 + 1]);
        assertEquals(0x01, disk.data[2003 * 512 + 510]);
        assertEquals(0xFFFF, cmd.read(REG_DATA, 2), "no more data phase");
    }

    @Test
    void chsAddressing() {
        // Cylinder 1, head 2, sector 3 = (1 * 16 + 2) * 63 + 2 = LBA 1136.
        cmd.write(REG_DEVICE, 1, 2);
        cmd.write(REG_COUNT, 1, 1);
        cmd.write(REG_LBA_LOW, 1, 3);
        cmd.write(REG_LBA_MID, 1, 1);
        cmd.write(REG_LBA_HIGH, 1, 0);
        cmd.write(REG_STATUS_COMMAND, 1, CMD_READ_SECTORS);
        cmd.read(REG_STATUS_COMMAND, 1);
        assertEquals(java.util.Arrays.toString(expected(1136, 1)), java.util.Arrays.toString(readSectors(1)));
        cmd.write(REG_LBA_LOW, 1, 0);   // sector numbers start at 1
        cmd.write(REG_STATUS_COMMAND, 1, CMD_READ_SECTORS);
        assertEquals(ERROR_IDNF, cmd.read(REG_ERROR_FEATURES, 1));
    }

    @Test
    void outOfRangeTransfersFailWithIdnfAndNothingMoves() {
        lba28(2047, 2, CMD_READ_SECTORS);
        assertEquals(STATUS_ERR, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_ERR);
        assertEquals(ERROR_IDNF, cmd.read(REG_ERROR_FEATURES, 1));
        lba48(1L << 40, 1, CMD_WRITE_SECTORS_EXT);
        assertEquals(ERROR_IDNF, cmd.read(REG_ERROR_FEATURES, 1));
        assertEquals(0xFFFF, cmd.read(REG_DATA, 2), "no data phase");
        lba28(0, 0, CMD_READ_SECTORS);   // count 0 means 256 sectors: fits in 2048
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1) & STATUS_ERR);
    }

    @Test
    void absentSlaveReadsZeroStatusAndIgnoresCommands() {
        cmd.write(REG_DEVICE, 1, DEVICE_DEV1);
        assertEquals(0, cmd.read(REG_STATUS_COMMAND, 1));
        cmd.write(REG_STATUS_COMMAND, 1, CMD_IDENTIFY);
        assertEquals(0, irq.raises);
    }

    @Test
    void softResetLeavesAtaSignatureAndNienMasksIrq() {
        ctl.write(0, 1, CONTROL_SRST | CONTROL_NIEN);
        ctl.write(0, 1, CONTROL_NIEN);
        assertEquals(1, cmd.read(REG_COUNT, 1));
        assertEquals(1, cmd.read(REG_LBA_LOW, 1));
        assertEquals(0, cmd.read(REG_LBA_MID, 1));
        lba28(0, 1, CMD_READ_SECTORS);
        assertFalse(irq.level, "nIEN masks INTRQ");
        assertEquals(STATUS_DRQ, ctl.read(0, 1) & STATUS_DRQ);
    }

    @Test
    void unknownCommandAborts() {
        cmd.write(REG_STATUS_COMMAND, 1, 0xC8);   // READ DMA: we offer no DMA
        assertEquals(ERROR_ABRT, cmd.read(REG_ERROR_FEATURES, 1));
        cmd.write(REG_STATUS_COMMAND, 1, CMD_FLUSH_CACHE);
        assertEquals(1, disk.flushes);
    }
}
