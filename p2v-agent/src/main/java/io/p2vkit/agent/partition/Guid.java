package io.p2vkit.agent.partition;

import java.nio.ByteBuffer;
import java.util.Locale;

/** GUIDs as UEFI stores them: the first three fields little-endian, the rest as bytes. */
public final class Guid {

    public static final String ZERO = "00000000-0000-0000-0000-000000000000";

    private Guid() {
    }

    public static String format(ByteBuffer b, int off) {
        StringBuilder sb = new StringBuilder(36);
        int[] order = {3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15};
        for (int i : order) {
            if (i < 0) {
                sb.append('-');
            } else {
                sb.append(String.format(Locale.ROOT, "%02x", b.get(off + i) & 0xFF));
            }
        }
        return sb.toString();
    }
}
