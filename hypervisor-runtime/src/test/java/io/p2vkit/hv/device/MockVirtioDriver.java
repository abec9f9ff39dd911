package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.memory.GuestMemory;

import static io.p2vkit.hv.device.VirtioBlk.*;

/**
 * A legacy virtio driver for tests: lays out queue 0 in test memory the way the legacy transport
 * fixes it (descriptors at PFN×4096, avail right after, used on the next page), writes
 * descriptors, makes chains available and notifies. It can also write anything a hostile driver
 * would.
 */
final class MockVirtioDriver {

    static final long RING = 0x10000;   // page-aligned queue base
    static final int SIZE = VirtioBlk.QUEUE_SIZE;

    final GuestMemory mem;
    final PortIoDevice regs;
    final long desc = RING;
    final long avail = RING + 16L * SIZE;
    final long used = (avail + 6 + 2L * SIZE + 4095) / 4096 * 4096;
    int availIdx;

    MockVirtioDriver(GuestMemory mem, PortIoDevice regs) {
        this.mem = mem;
        this.regs = regs;
    }

    /** Reset, acknowledge, negotiate, place queue 0, DRIVER_OK (VIRTIO 1.2 §3.1.2 legacy flow). */
    void init() {
        regs.write(REG_STATUS, 1, 0);
        availIdx = 0;
        for (long a = RING; a < used + 8L * SIZE + 6; a += 8) {
            mem.writeLong(a, 0);
        }
        regs.write(REG_STATUS, 1, STATUS_ACKNOWLEDGE);
        regs.write(REG_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        regs.write(REG_GUEST_FEATURES, 4, regs.read(REG_DEVICE_FEATURES, 4));
        regs.write(REG_QUEUE_SELECT, 2, 0);
        regs.write(REG_QUEUE_PFN, 4, (int) (RING / 4096));
        regs.write(REG_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
    }

    void descriptor(long table, int index, long addr, long len, int flags, int next) {
        long d = table + 16L * index;
        mem.writeLong(d, addr);
        mem.writeInt(d + 8, (int) len);
        mem.writeShort(d + 12, (short) flags);
        mem.writeShort(d + 14, (short) next);
    }

    void descriptor(int index, long addr, long len, int flags, int next) {
        descriptor(desc, index, addr, len, flags, next);
    }

    /** Puts {@code head} in the avail ring and publishes it. */
    void publish(int head) {
        mem.writeShort(avail + 4 + 2L * (availIdx % SIZE), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        mem.writeShort(avail + 2, (short) availIdx);
    }

    void setAvailIdx(int idx) {
        availIdx = idx & 0xFFFF;
        mem.writeShort(avail + 2, (short) availIdx);
    }

    void notifyQueue() {
        regs.write(REG_QUEUE_NOTIFY, 2, 0);
    }

    int usedIdx() {
        return mem.readShort(used + 2) & 0xFFFF;
    }

    int usedLen(int slot) {
        return mem.readInt(used + 4 + 8L * slot + 4);
    }

    /** A block request: header at {@code hdr}, one data buffer, status byte at {@code status}. */
    void request(int type, long sector, long hdr, long data, int len, boolean deviceWrites, long status) {
        mem.writeInt(hdr, type);
        mem.writeInt(hdr + 4, 0);
        mem.writeLong(hdr + 8, sector);
        mem.writeByte(status, (byte) 0xFF);
        descriptor(0, hdr, 16, VirtQueue.DESC_F_NEXT, 1);
        descriptor(1, data, len, VirtQueue.DESC_F_NEXT | (deviceWrites ? VirtQueue.DESC_F_WRITE : 0), 2);
        descriptor(2, status, 1, VirtQueue.DESC_F_WRITE, 0);
        publish(0);
        notifyQueue();
    }
}
