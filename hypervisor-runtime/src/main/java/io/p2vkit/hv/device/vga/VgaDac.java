package io.p2vkit.hv.device.vga;

/**
 * The VGA DAC (colour look-up table): 256 entries of three 6-bit intensities, loaded through a
 * write index (port 0x3C8) and read back through a read index (0x3C7), each auto-incrementing
 * after the blue component of an entry. The pixel mask (0x3C6) is ANDed with every colour index
 * before the look-up. Not thread-safe: {@link VgaCard} serialises access.
 */
final class VgaDac {

    static final int ENTRIES = 256;
    /** Port 0x3C7 read: the DAC was last given a read index (both bits) or a write index (0). */
    static final int STATE_READING = 0x03;
    static final int STATE_WRITING = 0x00;

    private final byte[] rgb = new byte[ENTRIES * 3];
    private int writeIndex;
    private int readIndex;
    private int writeComponent;
    private int readComponent;
    private int state = STATE_WRITING;
    private int pixelMask = 0xFF;

    void setWriteIndex(int index) {
        writeIndex = index & 0xFF;
        writeComponent = 0;
        state = STATE_WRITING;
    }

    void setReadIndex(int index) {
        readIndex = index & 0xFF;
        readComponent = 0;
        state = STATE_READING;
    }

    int writeIndex() {
        return writeIndex;
    }

    int state() {
        return state;
    }

    int pixelMask() {
        return pixelMask;
    }

    void setPixelMask(int mask) {
        pixelMask = mask & 0xFF;
    }

    /** Port 0x3C9 write: the next component of the entry at the write index (6 bits kept). */
    void writeData(int value) {
        rgb[writeIndex * 3 + writeComponent] = (byte) (value & 0x3F);
        if (++writeComponent == 3) {
            writeComponent = 0;
            writeIndex = (writeIndex + 1) & 0xFF;
        }
    }

    /** Port 0x3C9 read: the next component of the entry at the read index. */
    int readData() {
        int v = rgb[readIndex * 3 + readComponent];
        if (++readComponent == 3) {
            readComponent = 0;
            readIndex = (readIndex + 1) & 0xFF;
        }
        return v;
    }

    /** A copy of the 768 six-bit components, red green blue per entry. */
    byte[] table() {
        return rgb.clone();
    }
}
