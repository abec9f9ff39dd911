package io.p2vkit.hv.device;

import io.p2vkit.hv.bus.PortIoDevice;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU): a 16-bit selector at
 * port 0x510 and a byte-wide data port at 0x511 that streams the selected item from offset 0.
 * Only the traditional port interface is offered (ID bit 1, DMA, stays clear), so SeaBIOS reads
 * items with {@code insb}. Named files get selectors from 0x20 in name order, as QEMU assigns them;
 * the directory (item 0x19) is big-endian, the legacy items little-endian.
 */
public final class FwCfg implements PortIoDevice {

    public static final int PORT_SELECTOR = 0;
    public static final int PORT_DATA = 1;

    public static final int KEY_SIGNATURE = 0x00;    // "QEMU"
    public static final int KEY_ID = 0x01;           // feature bits: 1 = traditional interface
    public static final int KEY_UUID = 0x02;
    public static final int KEY_RAM_SIZE = 0x03;     // u64
    public static final int KEY_NOGRAPHIC = 0x04;    // u16: SeaBIOS then adds etc/sercon-port = COM1
    public static final int KEY_NB_CPUS = 0x05;      // u16
    public static final int KEY_NUMA = 0x0D;         // u64 node count, then per-CPU and per-node u64s
    public static final int KEY_BOOT_MENU = 0x0E;    // u16
    public static final int KEY_MAX_CPUS = 0x0F;     // u16
    public static final int KEY_FILE_DIR = 0x19;
    public static final int KEY_FILE_FIRST = 0x20;
    public static final int KEY_ACPI_TABLES = 0x8000;    // u16 count
    public static final int KEY_SMBIOS_ENTRIES = 0x8001; // u16 count
    public static final int KEY_IRQ0_OVERRIDE = 0x8002;  // u8
    public static final int KEY_E820_TABLE = 0x8003;     // u32 count of reservations

    public static final int ID_TRADITIONAL = 0x01;
    public static final int FILE_NAME_BYTES = 56;
    public static final int MAX_FILES = 0x1000;

    private final Map<Integer, byte[]> items = new TreeMap<>();
    private final TreeMap<String, byte[]> files = new TreeMap<>();
    private boolean sealed;
    private byte[] selected = new byte[0];
    private int selectedKey = -1;
    private int offset;
    private long missed;

    public FwCfg() {
        items.put(KEY_SIGNATURE, "QEMU".getBytes(StandardCharsets.US_ASCII));
        items.put(KEY_ID, le(ID_TRADITIONAL, 4));
        items.put(KEY_UUID, new byte[16]);
        items.put(KEY_ACPI_TABLES, le(0, 2));
        items.put(KEY_SMBIOS_ENTRIES, le(0, 2));
        items.put(KEY_E820_TABLE, le(0, 4));
        items.put(KEY_NUMA, le(0, 8));
    }

    /** Sets a legacy numbered item (host-side setup). */
    public synchronized FwCfg item(int key, byte[] value) {
        requireOpen();
        if (key == KEY_FILE_DIR || key >= KEY_FILE_FIRST && key < KEY_FILE_FIRST + MAX_FILES) {
            throw new IllegalArgumentException("fw_cfg key 0x" + Integer.toHexString(key) + " is for files");
        }
        items.put(key, value.clone());
        return this;
    }

    /** Adds a named file such as {@code etc/e820} or {@code bootorder} (host-side setup). */
    public synchronized FwCfg file(String name, byte[] contents) {
        requireOpen();
        if (name.getBytes(StandardCharsets.US_ASCII).length >= FILE_NAME_BYTES) {
            throw new IllegalArgumentException("fw_cfg file name too long: " + name);
        }
        if (files.size() >= MAX_FILES) {
            throw new IllegalArgumentException("too many fw_cfg files");
        }
        files.put(name, contents.clone());
        return this;
    }

    /** Freezes the contents and builds the file directory; call before the guest runs. */
    public synchronized void seal() {
        if (sealed) {
            return;
        }
        ByteBuffer dir = ByteBuffer.allocate(4 + files.size() * 64).order(ByteOrder.BIG_ENDIAN);
        dir.putInt(files.size());
        int key = KEY_FILE_FIRST;
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            dir.putInt(f.getValue().length);
            dir.putShort((short) key);
            dir.putShort((short) 0);
            byte[] name = new byte[FILE_NAME_BYTES];
            byte[] ascii = f.getKey().getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(ascii, 0, name, 0, ascii.length);
            dir.put(name);
            items.put(key++, f.getValue());
        }
        items.put(KEY_FILE_DIR, dir.array());
        sealed = true;
    }

    @Override
    public synchronized int read(int port, int size) {
        if (port != PORT_DATA) {
            missed++;           // the selector is write-only
            return 0;
        }
        seal();
        if (size != 1) {
            missed++;           // the port interface is byte-wide; wider reads gather bytes like QEMU
        }
        int v = 0;
        for (int i = 0; i < size; i++) {
            v |= nextByte() << (8 * i);
        }
        return v;
    }

    @Override
    public synchronized void write(int port, int size, int value) {
        seal();
        if (port == PORT_SELECTOR) {
            if (size != 2) {
                missed++;
            }
            selectedKey = value & 0xFFFF;
            byte[] item = items.get(selectedKey);
            if (item == null) {
                missed++;       // unknown key: reads give zeros, as QEMU does
                item = new byte[0];
            }
            selected = item;
            offset = 0;
        } else {
            missed++;           // data writes have been ignored since QEMU 2.4
        }
    }

    private int nextByte() {
        if (offset >= selected.length) {
            return 0;           // past the end: zeros
        }
        return selected[offset++] & 0xFF;
    }

    private void requireOpen() {
        if (sealed) {
            throw new IllegalStateException("fw_cfg is sealed once the guest runs");
        }
    }

    /** The selector last written (for tests and diagnostics). */
    public synchronized int selectedKey() {
        return selectedKey;
    }

    /** Wrong-width accesses, unknown keys and writes. */
    public synchronized long missedAccesses() {
        return missed;
    }

    /** Little-endian encoding of {@code value} in {@code bytes} bytes. */
    public static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            b[i] = (byte) (value >>> (8 * i));
        }
        return b;
    }
}
