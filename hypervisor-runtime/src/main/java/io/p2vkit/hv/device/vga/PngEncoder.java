package io.p2vkit.hv.device.vga;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A minimal PNG writer (PNG specification, ISO/IEC 15948): one IHDR for 8-bit truecolour, one
 * zlib-compressed IDAT with filter type 0 on every row, and IEND, each chunk with its CRC-32.
 */
public final class PngEncoder {

    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int COLOUR_TYPE_RGB = 2;

    private PngEncoder() {
    }

    public static byte[] encode(TextRenderer.Image image) {
        int w = image.width();
        int h = image.height();
        if (w <= 0 || h <= 0) {
            throw new IllegalArgumentException("an image needs at least one pixel, not " + w + "x" + h);
        }
        byte[] raw = new byte[Math.multiplyExact(h, Math.addExact(1, Math.multiplyExact(w, 3)))];
        int o = 0;
        for (int y = 0; y < h; y++) {
            raw[o++] = 0;   // filter: none
            for (int x = 0; x < w; x++) {
                int p = image.pixel(x, y);
                raw[o++] = (byte) (p >> 16);
                raw[o++] = (byte) (p >> 8);
                raw[o++] = (byte) p;
            }
        }
        Deflater deflater = new Deflater(Deflater.BEST_SPEED);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        while (!deflater.finished()) {
            compressed.write(buf, 0, deflater.deflate(buf));
        }
        deflater.end();

        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(SIGNATURE);
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h)
                .put((byte) 8).put((byte) COLOUR_TYPE_RGB).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(png, "IHDR", ihdr.array());
        chunk(png, "IDAT", compressed.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
