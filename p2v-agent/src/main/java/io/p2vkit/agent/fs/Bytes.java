package io.p2vkit.agent.fs;

import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Small helpers for reading on-disk structures inside a partition. */
final class Bytes {

    private Bytes() {
    }

    /** Reads {@code length} bytes at {@code offset} of the partition, or null when it is too short. */
    static ByteBuffer read(VirtualDisk disk, long partStart, long partLength, long offset, int length)
            throws IOException {
        if (offset < 0 || offset + length > partLength || partStart + offset + length > disk.size()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        disk.read(partStart + offset, b);
        return b.flip();
    }

    static String ascii(ByteBuffer b, int off, int len) {
        byte[] a = new byte[len];
        b.get(off, a);
        int end = 0;
        while (end < len && a[end] != 0) {
            end++;
        }
        return new String(a, 0, end, StandardCharsets.ISO_8859_1).strip();
    }

    static boolean matches(ByteBuffer b, int off, String magic) {
        if (b == null || off + magic.length() > b.limit()) {
            return false;
        }
        for (int i = 0; i < magic.length(); i++) {
            if ((b.get(off + i) & 0xFF) != magic.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** 16 bytes as a standard big-endian UUID string (ext, XFS, Btrfs, swap store them so). */
    static String uuid(ByteBuffer b, int off) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10) {
                sb.append('-');
            }
            sb.append(String.format(Locale.ROOT, "%02x", b.get(off + i) & 0xFF));
        }
        return sb.toString();
    }
}
