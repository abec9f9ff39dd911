package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.hv.memory.GuestMemory;
import io.p2vkit.hv.memory.GuestMemoryException;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A virtio block device on the legacy PCI transport (VIRTIO 1.2 §4.1.4.8: transitional device
 * 1af4:1001, one I/O BAR), which SeaBIOS and Linux both drive. Requests are served on the vCPU
 * thread that notifies the queue. A driver that breaks a virtqueue rule gets NEEDS_RESET in the
 * status byte and the queue stops until it resets the device; the error is kept by name.
 */
public final class VirtioBlk extends PciFunction {

    // Legacy register block (VIRTIO 1.2 §4.1.4.8), offsets in BAR0.
    public static final int REG_DEVICE_FEATURES = 0x00;
    public static final int REG_GUEST_FEATURES = 0x04;
    public static final int REG_QUEUE_PFN = 0x08;
    public static final int REG_QUEUE_SIZE = 0x0C;
    public static final int REG_QUEUE_SELECT = 0x0E;
    public static final int REG_QUEUE_NOTIFY = 0x10;
    public static final int REG_STATUS = 0x12;
    public static final int REG_ISR = 0x13;
    public static final int REG_CONFIG = 0x14;   // device configuration (no MSI-X)

    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_NEEDS_RESET = 0x40;
    public static final int STATUS_FAILED = 0x80;

    public static final int F_SEG_MAX = 1 << 2;
    public static final int F_RO = 1 << 5;
    public static final int F_BLK_SIZE = 1 << 6;
    public static final int F_FLUSH = 1 << 9;
    public static final int F_RING_INDIRECT_DESC = 1 << 28;

    public static final int T_IN = 0;
    public static final int T_OUT = 1;
    public static final int T_FLUSH = 4;
    public static final int T_GET_ID = 8;
    public static final int S_OK = 0;
    public static final int S_IOERR = 1;
    public static final int S_UNSUPP = 2;

    public static final int QUEUE_SIZE = 256;
    public static final int LEGACY_ALIGN = 4096;
    public static final int SEG_MAX = QUEUE_SIZE - 2;
    private static final int SECTOR = 512;
    private static final int CHUNK = 64 * 1024;

    private final GuestMemory memory;
    private final VirtualDisk disk;
    private final IrqLine irq;
    private final String serial;
    private final VirtQueue queue;
    private final byte[] chunk = new byte[CHUNK];
    private int guestFeatures;
    private int status;
    private int isr;
    private int queueSelect;
    private int queuePfn;
    private VirtQueue.Error lastError;
    private String lastErrorDetail;
    private long faults;
    private long requests;
    private long ioErrors;
    private long missed;
    private boolean irqLevel;

    public VirtioBlk(GuestMemory memory, VirtualDisk disk, IrqLine irq, String serial) {
        super("virtio-blk", 0x1af4, 0x1001, 0x010000, 0x00);
        this.memory = memory;
        this.disk = disk;
        this.irq = irq;
        this.serial = serial;
        this.queue = new VirtQueue(memory, QUEUE_SIZE);
        put16(CFG_SUBSYSTEM_VENDOR, 0x1af4);
        put16(CFG_SUBSYSTEM_ID, 0x0002);     // virtio device type 2: block
        config[CFG_INTERRUPT_PIN] = 1;       // INTA#
        ioBar(0, 64, new Registers());
    }

    private int deviceFeatures() {
        return F_SEG_MAX | F_BLK_SIZE | F_FLUSH | F_RING_INDIRECT_DESC | (disk.isReadOnly() ? F_RO : 0);
    }

    /** The BAR0 register block. */
    private final class Registers implements PortIoDevice {
        @Override
        public int read(int offset, int size) {
            return readRegister(offset, size);
        }

        @Override
        public void write(int offset, int size, int value) {
            writeRegister(offset, size, value);
        }
    }

    synchronized int readRegister(int off, int size) {
        if (off >= REG_CONFIG) {
            return readDeviceConfig(off - REG_CONFIG, size);
        }
        return switch (off) {
            case REG_DEVICE_FEATURES -> deviceFeatures();
            case REG_GUEST_FEATURES -> guestFeatures;
            case REG_QUEUE_PFN -> queueSelect == 0 ? queuePfn : 0;
            case REG_QUEUE_SIZE -> queueSelect == 0 ? QUEUE_SIZE : 0;
            case REG_QUEUE_SELECT -> queueSelect;
            case REG_STATUS -> status;
            case REG_ISR -> {
                int v = isr;
                isr = 0;   // reading ISR acknowledges the interrupt (§4.1.4.5)
                updateIrq();
                yield v;
            }
            default -> {
                missed++;
                yield 0;
            }
        };
    }

    synchronized void writeRegister(int off, int size, int value) {
        switch (off) {
            case REG_GUEST_FEATURES -> guestFeatures = value & deviceFeatures();
            case REG_QUEUE_PFN -> writeQueuePfn(value);
            case REG_QUEUE_SELECT -> queueSelect = value & 0xFFFF;
            case REG_QUEUE_NOTIFY -> {
                if ((value & 0xFFFF) == 0) {
                    processQueue();
                } else {
                    missed++;
                }
            }
            case REG_STATUS -> {
                status = value & 0xFF;
                if (status == 0) {
                    reset();
                }
            }
            default -> missed++;
        }
    }

    private void writeQueuePfn(int pfn) {
        if (queueSelect != 0) {
            missed++;
            return;
        }
        queuePfn = pfn;
        if (pfn == 0) {
            queue.reset();
            return;
        }
        long desc = (pfn & 0xFFFFFFFFL) * LEGACY_ALIGN;
        long avail = desc + (long) VirtQueue.DESC_SIZE * QUEUE_SIZE;
        long used = (avail + 6 + 2L * QUEUE_SIZE + LEGACY_ALIGN - 1) / LEGACY_ALIGN * LEGACY_ALIGN;
        try {
            queue.enable(QUEUE_SIZE, desc, avail, used);
        } catch (VirtQueue.Fault f) {
            fault(f);
        }
    }

    private void reset() {
        queue.reset();
        queuePfn = 0;
        guestFeatures = 0;
        isr = 0;
        status = 0;
        updateIrq();
    }

    private int readDeviceConfig(int off, int size) {
        ByteBuffer c = ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        c.putLong(disk.size() / SECTOR);   // capacity in 512-byte sectors
        c.putInt(0);                       // size_max (feature not offered)
        c.putInt(SEG_MAX);
        c.putShort((short) 0).put((byte) 0).put((byte) 0);   // geometry (not offered)
        c.putInt(SECTOR);                  // blk_size
        if (off < 0 || off + size > 24) {
            missed++;
            return 0;
        }
        int v = 0;
        for (int i = 0; i < size; i++) {
            v |= (c.get(off + i) & 0xFF) << (8 * i);
        }
        return v;
    }

    private void processQueue() {
        if ((status & STATUS_NEEDS_RESET) != 0 || !queue.ready()) {
            missed++;
            return;
        }
        boolean any = false;
        try {
            VirtQueue.Chain chain;
            while ((chain = queue.next()) != null) {
                long written = serve(chain);
                queue.pushUsed(chain.head(), written);
                any = true;
                requests++;
            }
        } catch (VirtQueue.Fault f) {
            fault(f);
        } catch (GuestMemoryException e) {
            fault(new VirtQueue.Fault(VirtQueue.Error.BUFFER_OUT_OF_RANGE, e.getMessage()));
        }
        if (any) {
            isr |= 1;
            updateIrq();
        }
    }

    /** Serves one request (VIRTIO 1.2 §5.2.6); returns the bytes written into driver buffers. */
    private long serve(VirtQueue.Chain chain) throws VirtQueue.Fault {
        var bufs = chain.buffers();
        VirtQueue.Buffer header = bufs.get(0);
        VirtQueue.Buffer statusBuf = bufs.get(bufs.size() - 1);
        if (bufs.size() < 2 || header.deviceWritable() || header.len() < 16
                || !statusBuf.deviceWritable() || statusBuf.len() < 1) {
            // Not a framing we can answer (header first, status byte last): nothing to write to.
            throw new VirtQueue.Fault(VirtQueue.Error.BUFFER_OUT_OF_RANGE,
                    "request without a 16-byte header and a writable status byte");
        }
        int type = memory.readInt(header.addr());
        long sector = memory.readLong(header.addr() + 8);
        long statusAddr = statusBuf.addr() + statusBuf.len() - 1;
        var data = bufs.subList(1, bufs.size());
        long dataLen = 0;
        for (int i = 0; i < data.size(); i++) {
            dataLen += i == data.size() - 1 ? data.get(i).len() - 1 : data.get(i).len();
        }
        int result;
        long written = 1;
        switch (type) {
            case T_IN, T_OUT -> {
                boolean in = type == T_IN;
                long bytes = dataLen;
                if (sector < 0 || bytes % SECTOR != 0 || sector > disk.size() / SECTOR
                        || bytes > disk.size() - sector * SECTOR || !directionsMatch(data, in)) {
                    result = S_IOERR;
                } else if (!in && disk.isReadOnly()) {
                    result = S_IOERR;
                } else {
                    result = transfer(data, sector * SECTOR, in);
                    if (in && result == S_OK) {
                        written += bytes;
                    }
                }
            }
            case T_FLUSH -> {
                try {
                    disk.flush();
                    result = S_OK;
                } catch (IOException e) {
                    ioErrors++;
                    result = S_IOERR;
                }
            }
            case T_GET_ID -> {
                byte[] id = new byte[20];
                byte[] s = serial.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(s, 0, id, 0, Math.min(20, s.length));
                VirtQueue.Buffer b = data.isEmpty() ? null : data.get(0);
                if (b == null || !b.deviceWritable() || b.len() < (data.size() == 1 ? 21 : 20)) {
                    result = S_IOERR;
                } else {
                    memory.write(b.addr(), id, 0, 20);
                    written += 20;
                    result = S_OK;
                }
            }
            default -> result = S_UNSUPP;
        }
        memory.writeByte(statusAddr, (byte) result);
        return written;
    }

    /** Data buffers must be device-writable for reads and device-readable for writes. */
    private static boolean directionsMatch(java.util.List<VirtQueue.Buffer> data, boolean in) {
        for (int i = 0; i < data.size() - 1; i++) {
            if (data.get(i).deviceWritable() != in) {
                return false;
            }
        }
        return true;
    }

    private int transfer(java.util.List<VirtQueue.Buffer> data, long offset, boolean in) {
        long pos = offset;
        for (int i = 0; i < data.size(); i++) {
            VirtQueue.Buffer b = data.get(i);
            long len = i == data.size() - 1 ? b.len() - 1 : b.len();   // the last byte is the status
            for (long done = 0; done < len; ) {
                int n = (int) Math.min(CHUNK, len - done);
                try {
                    if (in) {
                        disk.read(pos, ByteBuffer.wrap(chunk, 0, n));
                        memory.write(b.addr() + done, chunk, 0, n);
                    } else {
                        memory.read(b.addr() + done, chunk, 0, n);
                        disk.write(pos, ByteBuffer.wrap(chunk, 0, n));
                    }
                } catch (IOException e) {
                    ioErrors++;
                    return S_IOERR;
                }
                done += n;
                pos += n;
            }
        }
        return S_OK;
    }

    private void fault(VirtQueue.Fault f) {
        faults++;
        lastError = f.error();
        lastErrorDetail = f.getMessage();
        status |= STATUS_NEEDS_RESET;
        queue.reset();
        isr |= 2;   // configuration change: tells a modern driver to look at the status
        updateIrq();
    }

    private void updateIrq() {
        boolean level = isr != 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    /** The last virtqueue rule the driver broke, or null. */
    public synchronized VirtQueue.Error lastError() {
        return lastError;
    }

    public synchronized String lastErrorDetail() {
        return lastErrorDetail;
    }

    public synchronized long faults() {
        return faults;
    }

    public synchronized long requests() {
        return requests;
    }

    public synchronized int status() {
        return status;
    }

    public synchronized long missedAccesses() {
        return missed;
    }
}
