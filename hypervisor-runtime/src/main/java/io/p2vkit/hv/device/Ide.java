package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;
import io.p2vkit.hv.cpu.IrqLine;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * One ATA channel (the primary: 0x1F0-0x1F7 and 0x3F6, IRQ 14) with a disk as device 0 and no
 * device 1. PIO only: IDENTIFY, READ/WRITE SECTORS and MULTIPLE in LBA28, LBA48 and CHS, with the
 * task-file registers shared by both device positions as on a real cable. Every transfer the guest
 * asks for is checked against the disk's size before a byte moves; a bad one ends in ERR with
 * IDNF or ABRT, as a drive reports it. Register map: ATA/ATAPI-6 (T13/1410D) §7.
 */
public final class Ide {

    public static final int REG_DATA = 0;
    public static final int REG_ERROR_FEATURES = 1;
    public static final int REG_COUNT = 2;
    public static final int REG_LBA_LOW = 3;
    public static final int REG_LBA_MID = 4;
    public static final int REG_LBA_HIGH = 5;
    public static final int REG_DEVICE = 6;
    public static final int REG_STATUS_COMMAND = 7;

    public static final int STATUS_ERR = 0x01;
    public static final int STATUS_DRQ = 0x08;
    public static final int STATUS_DSC = 0x10;
    public static final int STATUS_DRDY = 0x40;
    public static final int STATUS_BSY = 0x80;
    public static final int ERROR_ABRT = 0x04;
    public static final int ERROR_IDNF = 0x10;
    public static final int ERROR_UNC = 0x40;
    public static final int DEVICE_DEV1 = 0x10;
    public static final int DEVICE_LBA = 0x40;
    public static final int CONTROL_NIEN = 0x02;   // interrupts disabled
    public static final int CONTROL_SRST = 0x04;   // software reset
    public static final int CONTROL_HOB = 0x80;    // read the previous (high-order) LBA48 bytes

    public static final int CMD_RECALIBRATE = 0x10;
    public static final int CMD_READ_SECTORS = 0x20;
    public static final int CMD_READ_SECTORS_NORETRY = 0x21;
    public static final int CMD_READ_SECTORS_EXT = 0x24;
    public static final int CMD_READ_MULTIPLE_EXT = 0x29;
    public static final int CMD_WRITE_SECTORS = 0x30;
    public static final int CMD_WRITE_SECTORS_NORETRY = 0x31;
    public static final int CMD_WRITE_SECTORS_EXT = 0x34;
    public static final int CMD_WRITE_MULTIPLE_EXT = 0x39;
    public static final int CMD_VERIFY = 0x40;
    public static final int CMD_VERIFY_EXT = 0x42;
    public static final int CMD_SEEK = 0x70;
    public static final int CMD_DIAGNOSE = 0x90;
    public static final int CMD_INIT_PARAMETERS = 0x91;
    public static final int CMD_IDENTIFY_PACKET = 0xA1;
    public static final int CMD_READ_MULTIPLE = 0xC4;
    public static final int CMD_WRITE_MULTIPLE = 0xC5;
    public static final int CMD_SET_MULTIPLE = 0xC6;
    public static final int CMD_CHECK_POWER = 0xE5;
    public static final int CMD_FLUSH_CACHE = 0xE7;
    public static final int CMD_IDENTIFY = 0xEC;
    public static final int CMD_FLUSH_CACHE_EXT = 0xEA;
    public static final int CMD_SET_FEATURES = 0xEF;

    public static final int SECTOR = 512;
    /** Largest READ/WRITE MULTIPLE block we offer (IDENTIFY word 47). */
    public static final int MAX_MULTIPLE = 16;
    static final int HEADS = 16;
    static final int SECTORS_PER_TRACK = 63;

    private final VirtualDisk disk;
    private final long sectors;
    private final IrqLine irq;
    private final String serial;

    // Task file: "cur" is what the registers read; "prev" is the LBA48 high-order copy.
    private final int[] cur = new int[6];
    private final int[] prev = new int[6];
    private int device;
    private int status = STATUS_DRDY | STATUS_DSC;
    private int error = 0x01;
    private int control;
    private boolean intrq;
    private boolean irqLevel;
    private int multiple = MAX_MULTIPLE;

    // The PIO transfer in progress.
    private final byte[] buffer = new byte[SECTOR * MAX_MULTIPLE];
    private int bufferPos;
    private int bufferLen;
    private long xferLba;
    private long xferLeft;
    private int xferBlock;
    private boolean xferWrite;
    private long missed;
    private long ioErrors;

    public Ide(VirtualDisk disk, IrqLine irq, String serial) {
        this.disk = disk;
        this.sectors = disk.size() / SECTOR;
        this.irq = irq;
        this.serial = serial;
    }

    /** The command block, 8 ports (0x1F0 on the primary channel). */
    public PortIoDevice commandBlock() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                return readCommand(offset, size);
            }

            @Override
            public void write(int offset, int size, int value) {
                writeCommand(offset, size, value);
            }

            @Override
            public int readBlock(int offset, int size, MemorySegment dst, long dstOffset, int count) {
                return offset == REG_DATA ? readDataBlock(size, dst, dstOffset, count) : 0;
            }
        };
    }

    /** The control block, one port (0x3F6): alternate status / device control. */
    public PortIoDevice controlBlock() {
        return new PortIoDevice() {
            @Override
            public int read(int offset, int size) {
                synchronized (Ide.this) {
                    return selectedPresent() ? status : 0;
                }
            }

            @Override
            public void write(int offset, int size, int value) {
                writeControl(value & 0xFF);
            }
        };
    }

    private boolean selectedPresent() {
        return (device & DEVICE_DEV1) == 0;
    }

    synchronized int readCommand(int reg, int size) {
        if (reg == REG_DATA) {
            return readData(size);
        }
        if (size != 1) {
            missed++;
        }
        boolean hob = (control & CONTROL_HOB) != 0;
        return switch (reg) {
            case REG_ERROR_FEATURES -> selectedPresent() ? error : 0;
            case REG_COUNT, REG_LBA_LOW, REG_LBA_MID, REG_LBA_HIGH -> (hob ? prev[reg] : cur[reg]) & 0xFF;
            case REG_DEVICE -> device | 0xA0;
            case REG_STATUS_COMMAND -> {
                if (!selectedPresent()) {
                    yield 0;   // no device 1: device 0 answers with zeros for it
                }
                setIntrq(false);   // reading status acknowledges the interrupt
                yield status;
            }
            default -> 0xFF;
        };
    }

    synchronized void writeCommand(int reg, int size, int value) {
        if (reg == REG_DATA) {
            writeData(size, value);
            return;
        }
        if (size != 1) {
            missed++;
        }
        int v = value & 0xFF;
        control &= ~CONTROL_HOB;   // any task-file write clears HOB (ATA-6 §7.9.6)
        switch (reg) {
            case REG_ERROR_FEATURES, REG_COUNT, REG_LBA_LOW, REG_LBA_MID, REG_LBA_HIGH -> {
                prev[reg] = cur[reg];
                cur[reg] = v;
            }
            case REG_DEVICE -> device = v & 0x5F;
            case REG_STATUS_COMMAND -> {
                if (selectedPresent()) {
                    setIntrq(false);
                    command(v);
                }
            }
            default -> missed++;
        }
    }

    synchronized void writeControl(int v) {
        if ((v & CONTROL_SRST) != 0 && (control & CONTROL_SRST) == 0) {
            reset();
        }
        control = v;
        updateIrq();
    }

    private void reset() {
        status = STATUS_DRDY | STATUS_DSC;
        error = 0x01;   // diagnostic code: device 0 passed, device 1 absent
        device = 0;
        // ATA device signature.
        cur[REG_COUNT] = 1;
        cur[REG_LBA_LOW] = 1;
        cur[REG_LBA_MID] = 0;
        cur[REG_LBA_HIGH] = 0;
        bufferLen = 0;
        xferLeft = 0;
        setIntrq(false);
    }

    private void command(int cmd) {
        bufferLen = 0;
        bufferPos = 0;
        xferLeft = 0;
        error = 0;
        status = STATUS_DRDY | STATUS_DSC;
        switch (cmd) {
            case CMD_IDENTIFY -> {
                AtaIdentify.fill(buffer, sectors, multiple, serial);
                bufferLen = SECTOR;
                status |= STATUS_DRQ;
                setIntrq(true);
            }
            case CMD_READ_SECTORS, CMD_READ_SECTORS_NORETRY -> startTransfer(false, false, 1);
            case CMD_READ_SECTORS_EXT -> startTransfer(false, true, 1);
            case CMD_READ_MULTIPLE -> startTransfer(false, false, multiple);
            case CMD_READ_MULTIPLE_EXT -> startTransfer(false, true, multiple);
            case CMD_WRITE_SECTORS, CMD_WRITE_SECTORS_NORETRY -> startTransfer(true, false, 1);
            case CMD_WRITE_SECTORS_EXT -> startTransfer(true, true, 1);
            case CMD_WRITE_MULTIPLE -> startTransfer(true, false, multiple);
            case CMD_WRITE_MULTIPLE_EXT -> startTransfer(true, true, multiple);
            case CMD_VERIFY, CMD_VERIFY_EXT -> {
                long lba = lba(cmd == CMD_VERIFY_EXT);
                if (!inRange(lba, count(cmd == CMD_VERIFY_EXT))) {
                    fail(ERROR_IDNF);
                } else {
                    setIntrq(true);
                }
            }
            case CMD_SET_MULTIPLE -> {
                int n = cur[REG_COUNT];
                if (n == 0 || n > MAX_MULTIPLE || Integer.bitCount(n) != 1) {
                    fail(ERROR_ABRT);
                } else {
                    multiple = n;
                    setIntrq(true);
                }
            }
            case CMD_FLUSH_CACHE, CMD_FLUSH_CACHE_EXT -> {
                try {
                    disk.flush();
                    setIntrq(true);
                } catch (IOException e) {
                    ioErrors++;
                    fail(ERROR_ABRT);
                }
            }
            case CMD_CHECK_POWER -> {
                cur[REG_COUNT] = 0xFF;   // active or idle
                setIntrq(true);
            }
            case CMD_DIAGNOSE -> {
                reset();
                setIntrq(true);
            }
            case CMD_RECALIBRATE, CMD_SEEK, CMD_INIT_PARAMETERS, CMD_SET_FEATURES -> setIntrq(true);
            default -> {
                missed++;   // IDENTIFY PACKET (we are no ATAPI device), DMA, SMART...: abort
                fail(ERROR_ABRT);
            }
        }
    }

    private void startTransfer(boolean write, boolean ext, int block) {
        long lba = lba(ext);
        long n = count(ext);
        if (!inRange(lba, n)) {
            fail(ERROR_IDNF);
            return;
        }
        xferWrite = write;
        xferLba = lba;
        xferLeft = n;
        xferBlock = block;
        if (write) {
            beginBlock();
            status |= STATUS_DRQ;   // the first block is requested without an interrupt
        } else {
            fillReadBlock();
        }
    }

    private void beginBlock() {
        bufferLen = (int) Math.min(xferLeft, xferBlock) * SECTOR;
        bufferPos = 0;
    }

    private void fillReadBlock() {
        beginBlock();
        try {
            disk.read(xferLba * SECTOR, ByteBuffer.wrap(buffer, 0, bufferLen));
        } catch (IOException e) {
            ioErrors++;
            fail(ERROR_UNC);
            return;
        }
        status |= STATUS_DRQ;
        setIntrq(true);
    }

    private int readData(int size) {
        if (!selectedPresent() || xferWrite && xferLeft > 0 || bufferPos >= bufferLen) {
            missed++;
            return size == 4 ? -1 : (1 << (8 * size)) - 1;
        }
        int v = 0;
        for (int i = 0; i < size && bufferPos < bufferLen; i++) {
            v |= (buffer[bufferPos++] & 0xFF) << (8 * i);
        }
        bufferRead();
        return v;
    }

    /**
     * REP INSW/INSD from the data port: whole elements up to the end of the buffered block in
     * one copy, then what the last {@link #readData} of the block does. 0 where readData would
     * do anything else (no data, a write transfer, an element straddling the block's end).
     */
    private synchronized int readDataBlock(int size, MemorySegment dst, long dstOffset, int count) {
        if (!selectedPresent() || xferWrite && xferLeft > 0) {
            return 0;
        }
        int n = Math.min(count, (bufferLen - bufferPos) / size);
        if (n <= 0) {
            return 0;
        }
        MemorySegment.copy(buffer, bufferPos, dst, ValueLayout.JAVA_BYTE, dstOffset, n * size);
        bufferPos += n * size;
        bufferRead();
        return n;
    }

    /** After data was taken from the buffer: at its end, DRQ drops and the next block is read (or the command ends). */
    private void bufferRead() {
        if (bufferPos >= bufferLen) {
            status &= ~STATUS_DRQ;
            if (xferLeft > 0) {
                long done = bufferLen / SECTOR;
                xferLba += done;
                xferLeft -= done;
                if (xferLeft > 0) {
                    fillReadBlock();
                } else {
                    commitPosition(xferLba - 1);
                }
            }
        }
    }

    private void writeData(int size, int value) {
        if (!selectedPresent() || !xferWrite || xferLeft == 0 || bufferPos >= bufferLen) {
            missed++;
            return;
        }
        for (int i = 0; i < size && bufferPos < bufferLen; i++) {
            buffer[bufferPos++] = (byte) (value >>> (8 * i));
        }
        if (bufferPos < bufferLen) {
            return;
        }
        status &= ~STATUS_DRQ;
        try {
            disk.write(xferLba * SECTOR, ByteBuffer.wrap(buffer, 0, bufferLen));
        } catch (IOException e) {
            ioErrors++;
            xferLeft = 0;
            fail(ERROR_ABRT);
            return;
        }
        long done = bufferLen / SECTOR;
        xferLba += done;
        xferLeft -= done;
        if (xferLeft > 0) {
            beginBlock();
            status |= STATUS_DRQ;
        } else {
            commitPosition(xferLba - 1);
        }
        setIntrq(true);
    }

    /** After a transfer the task file holds the last sector's address (ATA-6 §8, normal outputs). */
    private void commitPosition(long lba) {
        cur[REG_LBA_LOW] = (int) lba & 0xFF;
        cur[REG_LBA_MID] = (int) (lba >> 8) & 0xFF;
        cur[REG_LBA_HIGH] = (int) (lba >> 16) & 0xFF;
    }

    private long lba(boolean ext) {
        if (ext) {
            return (long) cur[REG_LBA_LOW] | (long) cur[REG_LBA_MID] << 8 | (long) cur[REG_LBA_HIGH] << 16
                    | (long) prev[REG_LBA_LOW] << 24 | (long) prev[REG_LBA_MID] << 32
                    | (long) prev[REG_LBA_HIGH] << 40;
        }
        if ((device & DEVICE_LBA) != 0) {
            return cur[REG_LBA_LOW] | cur[REG_LBA_MID] << 8 | cur[REG_LBA_HIGH] << 16 | (device & 0xF) << 24;
        }
        int cylinder = cur[REG_LBA_MID] | cur[REG_LBA_HIGH] << 8;
        int sector = cur[REG_LBA_LOW];
        if (sector == 0 || sector > SECTORS_PER_TRACK) {
            return -1;   // CHS sector numbers start at 1
        }
        return ((long) cylinder * HEADS + (device & 0xF)) * SECTORS_PER_TRACK + sector - 1;
    }

    private long count(boolean ext) {
        int n = ext ? cur[REG_COUNT] | prev[REG_COUNT] << 8 : cur[REG_COUNT];
        return n != 0 ? n : ext ? 65536 : 256;
    }

    private boolean inRange(long lba, long n) {
        return lba >= 0 && n > 0 && lba <= sectors - n;
    }

    private void fail(int err) {
        error = err;
        status = STATUS_DRDY | STATUS_DSC | STATUS_ERR;
        xferLeft = 0;
        bufferLen = 0;
        setIntrq(true);
    }

    private void setIntrq(boolean on) {
        intrq = on;
        updateIrq();
    }

    private void updateIrq() {
        boolean level = intrq && (control & CONTROL_NIEN) == 0;
        if (level != irqLevel) {
            irqLevel = level;
            irq.set(level);
        }
    }

    public synchronized long missedAccesses() {
        return missed;
    }

    public synchronized long ioErrors() {
        return ioErrors;
    }
}
