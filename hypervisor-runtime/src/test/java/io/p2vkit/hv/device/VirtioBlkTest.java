package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.p2vkit.hv.device.VirtioBlk.*;
import static io.p2vkit.hv.device.VirtQueue.DESC_F_INDIRECT;
import static io.p2vkit.hv.device.VirtQueue.DESC_F_NEXT;
import static io.p2vkit.hv.device.VirtQueue.DESC_F_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioBlkTest {

    static final long RAM = 2L << 20;
    static final long HDR = 0x30000;
    static final long DATA = 0x40000;
    static final long STATUS = 0x50000;
    static final long TABLE = 0x60000;

    private final GuestMemory mem = new GuestMemory();
    private final MemoryDisk disk = new MemoryDisk(2048);
    private final RecordingIrq irq = new RecordingIrq();
    private final VirtioBlk blk;
    private final PortIoDevice regs;
    private final MockVirtioDriver driver;

    VirtioBlkTest() {
        mem.add("ram", 0, RAM, false);
        blk = new VirtioBlk(mem, disk, irq, "SERIAL-1");
        // The BAR's register block, reached as the guest would after PCI setup.
        io.p2vkit.hv.bus.Bus bus = new io.p2vkit.hv.bus.Bus();
        blk.attach(bus);
        blk.writeConfig(0x10, 4, 0xC000);
        blk.writeConfig(0x04, 2, PciFunction.COMMAND_IO);
        regs = new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return bus.pioRead(0xC000 + offset, size);
            }

            @Override
            public void write(int offset, int size, int value) {
                bus.pioWrite(0xC000 + offset, size, value);
            }
        };
        driver = new MockVirtioDriver(mem, regs);
        driver.init();
    }

    @AfterEach
    void close() {
        mem.close();
    }

    private void assertFault(VirtQueue.Error e) {
        assertEquals(e, blk.lastError(), blk.lastErrorDetail());
        assertEquals(STATUS_NEEDS_RESET, blk.status() & STATUS_NEEDS_RESET);
        assertTrue(irq.level, "config-change interrupt tells the driver");
        assertStaysSane();
    }

    /** After any fault the device resets and serves a good request again. */
    private void assertStaysSane() {
        driver.init();
        assertEquals(0, blk.status() & STATUS_NEEDS_RESET);
        driver.request(T_IN, 3, HDR, DATA, 512, true, STATUS);
        assertEquals(S_OK, mem.readByte(STATUS));
        assertEquals(disk.data[3 * 512 + 9], mem.readByte(DATA + 9));
    }

    @Test
    void identityAndConfigSpace() {
        assertEquals(0x1001_1af4, blk.readConfig(0, 4));
        assertEquals(0x0002, blk.readConfig(0x2E, 2), "virtio subsystem 2: block");
        assertEquals(2048, regs.read(REG_CONFIG, 4), "capacity in sectors");
        assertEquals(512, regs.read(REG_CONFIG + 20, 4), "blk_size");
        assertEquals(QUEUE_SIZE, regs.read(REG_QUEUE_SIZE, 2));
    }

    @Test
    void readsAndWritesSectorsAndInterrupts() {
        driver.request(T_IN, 7, HDR, DATA, 1024, true, STATUS);
        assertEquals(S_OK, mem.readByte(STATUS));
        assertEquals(1, driver.usedIdx());
        assertEquals(1025, driver.usedLen(0), "data plus status byte");
        byte[] got = new byte[1024];
        mem.read(DATA, got, 0, 1024);
        assertEquals(disk.data[7 * 512 + 100], got[100]);
        assertTrue(irq.level);
        assertEquals(1, regs.read(REG_ISR, 1));
        assertEquals(0, regs.read(REG_ISR, 1), "reading ISR clears it");

        mem.write(DATA, new byte[] {1, 2, 3, 4}, 0, 4);
        driver.request(T_OUT, 9, HDR, DATA, 512, false, STATUS);
        assertEquals(S_OK, mem.readByte(STATUS));
        assertEquals(3, disk.data[9 * 512 + 2]);
        driver.request(T_FLUSH, 0, HDR, DATA, 0, false, STATUS);
        assertEquals(1, disk.flushes);
    }

    @Test
    void requestsOutsideTheDiskOrUnknownGetStatusNotFaults() {
        driver.request(T_IN, 2047, HDR, DATA, 1024, true, STATUS);
        assertEquals(S_IOERR, mem.readByte(STATUS));
        driver.request(T_IN, -1L, HDR, DATA, 512, true, STATUS);
        assertEquals(S_IOERR, mem.readByte(STATUS));
        driver.request(T_IN, 0, HDR, DATA, 100, true, STATUS);
        assertEquals(S_IOERR, mem.readByte(STATUS), "not a whole number of sectors");
        driver.request(99, 0, HDR, DATA, 512, true, STATUS);
        assertEquals(S_UNSUPP, mem.readByte(STATUS));
        driver.request(T_GET_ID, 0, HDR, DATA, 20, true, STATUS);
        assertEquals('S', mem.readByte(DATA));
        assertNull(blk.lastError());
    }

    @Test
    void bufferOutsideGuestRam() {
        mem.writeInt(HDR, T_IN);
        driver.descriptor(0, HDR, 16, DESC_F_NEXT, 1);
        driver.descriptor(1, RAM - 256, 512, DESC_F_NEXT | DESC_F_WRITE, 2);
        driver.descriptor(2, STATUS, 1, DESC_F_WRITE, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.BUFFER_OUT_OF_RANGE);
    }

    @Test
    void wrappingAddress() {
        driver.descriptor(0, -8L, 16, 0, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.BUFFER_OUT_OF_RANGE);
    }

    @Test
    void descriptorLoop() {
        driver.descriptor(0, HDR, 16, DESC_F_NEXT, 1);
        driver.descriptor(1, DATA, 512, DESC_F_NEXT | DESC_F_WRITE, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.CHAIN_LOOP);
    }

    @Test
    void headAndNextIndexOutOfRange() {
        driver.publish(QUEUE_SIZE + 5);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.DESC_INDEX_OUT_OF_RANGE);
        driver.descriptor(0, HDR, 16, DESC_F_NEXT, 999);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.DESC_INDEX_OUT_OF_RANGE);
    }

    @Test
    void availIndexJump() {
        driver.setAvailIdx(QUEUE_SIZE + 1);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.AVAIL_INDEX_JUMP);
    }

    @Test
    void nestedIndirectTables() {
        driver.descriptor(TABLE, 0, TABLE + 0x100, 32, DESC_F_INDIRECT, 0);
        driver.descriptor(0, TABLE, 16, DESC_F_INDIRECT, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.NESTED_INDIRECT);
    }

    @Test
    void badIndirectTableLength() {
        driver.descriptor(0, TABLE, 24, DESC_F_INDIRECT, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.BAD_INDIRECT_TABLE);
    }

    @Test
    void indirectChainWorks() {
        mem.writeInt(HDR, T_IN);
        mem.writeLong(HDR + 8, 4);
        driver.descriptor(TABLE, 0, HDR, 16, DESC_F_NEXT, 1);
        driver.descriptor(TABLE, 1, DATA, 512, DESC_F_NEXT | DESC_F_WRITE, 2);
        driver.descriptor(TABLE, 2, STATUS, 1, DESC_F_WRITE, 0);
        driver.descriptor(0, TABLE, 48, DESC_F_INDIRECT, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertEquals(S_OK, mem.readByte(STATUS));
        assertEquals(disk.data[4 * 512], mem.readByte(DATA));
    }

    /** 4097 descriptors of 1 MiB each (all in RAM) add up past 2^32: refused, not wrapped. */
    @Test
    void hugeTotalLength() {
        int n = 4097;
        long table = 0x100000;
        for (int i = 0; i < n; i++) {
            driver.descriptor(table, i, 0, 1 << 20, DESC_F_NEXT | DESC_F_WRITE, i + 1);
        }
        driver.descriptor(0, table, 16L * n, DESC_F_INDIRECT, 0);
        driver.publish(0);
        driver.notifyQueue();
        assertFault(VirtQueue.Error.CHAIN_TOO_LONG);
    }

    @Test
    void queueOutsideRamIsRefusedAtSetup() {
        regs.write(REG_QUEUE_PFN, 4, (int) (RAM / 4096));
        assertEquals(VirtQueue.Error.RING_OUT_OF_RANGE, blk.lastError());
        assertStaysSane();
    }

    @Test
    void queueRulesAtEnable() {
        VirtQueue q = new VirtQueue(mem, 256);
        assertEquals(VirtQueue.Error.BAD_QUEUE_SIZE,
                assertThrows(VirtQueue.Fault.class, () -> q.enable(100, 0x1000, 0x2000, 0x3000)).error());
        assertEquals(VirtQueue.Error.BAD_QUEUE_SIZE,
                assertThrows(VirtQueue.Fault.class, () -> q.enable(512, 0x1000, 0x2000, 0x3000)).error());
        assertEquals(VirtQueue.Error.MISALIGNED_RING,
                assertThrows(VirtQueue.Fault.class, () -> q.enable(256, 0x1008, 0x2000, 0x3000)).error());
        assertEquals(VirtQueue.Error.MISALIGNED_RING,
                assertThrows(VirtQueue.Fault.class, () -> q.enable(256, 0x1000, 0x2001, 0x3000)).error());
        assertEquals(VirtQueue.Error.NOT_READY, assertThrows(VirtQueue.Fault.class, q::next).error());
    }
}
