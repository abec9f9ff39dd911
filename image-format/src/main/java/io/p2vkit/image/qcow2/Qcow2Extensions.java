package io.p2vkit.image.qcow2;

import io.p2vkit.image.ImageFormatException;
import io.p2vkit.image.io.Fields;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.p2vkit.image.qcow2.Qcow2Constants.*;

/**
 * The header extensions that follow the fixed header in the first cluster (spec "Header
 * extensions"): {type u32, length u32, data padded to 8 bytes}, ended by type 0.
 *
 * @param backingFormat  the backing file's format name, or null
 * @param dataFile       the external data file's name, or null
 * @param featureNames   "type:bit" (type 0 incompatible, 1 compatible, 2 autoclear) to name
 * @param bitmaps        the bitmaps extension, or null
 * @param unknownTypes   types we do not know (QEMU ignores them; so do we)
 */
record Qcow2Extensions(String backingFormat, String dataFile, Map<String, String> featureNames,
                       Bitmaps bitmaps, List<Integer> unknownTypes) {

    static final Qcow2Extensions NONE = new Qcow2Extensions(null, null, Map.of(), null, List.of());

    /** The bitmaps extension (spec "Bitmaps extension"): where the bitmap directory is. */
    record Bitmaps(long count, long directorySize, long directoryOffset) {
    }

    /** Size of one feature name table entry: type, bit number, 46-byte name. */
    static final int FEATURE_ENTRY = 48;

    /**
     * Parses the extensions of {@code head} (the first cluster, or the whole file if shorter)
     * between the end of the fixed header and {@code end}.
     */
    static Qcow2Extensions parse(ByteBuffer head, Qcow2Header h) throws ImageFormatException {
        ByteBuffer b = head.duplicate().order(ByteOrder.BIG_ENDIAN);
        long end = Math.min(b.limit(), h.clusterSize());
        if (h.backingFileOffset() != 0) {
            end = Math.min(end, h.backingFileOffset());
        }
        String backingFormat = null;
        String dataFile = null;
        Map<String, String> names = new LinkedHashMap<>();
        Bitmaps bitmaps = null;
        List<Integer> unknown = new ArrayList<>();
        long pos = h.version() >= 3 ? h.headerLength() : V2_HEADER_LENGTH;
        while (pos + 8 <= end) {
            int type = b.getInt((int) pos);
            long length = Fields.u32(b.getInt((int) pos + 4));
            if (type == EXT_END) {
                break;
            }
            long data = pos + 8;
            Fields.require(length <= end - data, "qcow2 header extension 0x" + Integer.toHexString(type)
                    + " (" + length + " bytes) runs past the header area", pos);
            switch (type) {
                case EXT_BACKING_FORMAT -> backingFormat = string(b, data, length);
                case EXT_DATA_FILE -> dataFile = string(b, data, length);
                case EXT_FEATURE_NAMES -> {
                    for (long e = data; e + FEATURE_ENTRY <= data + length; e += FEATURE_ENTRY) {
                        int kind = b.get((int) e) & 0xFF;
                        int bit = b.get((int) e + 1) & 0xFF;
                        names.put(kind + ":" + bit, string(b, e + 2, FEATURE_ENTRY - 2));
                    }
                }
                case EXT_BITMAPS -> {
                    Fields.require(length >= 24, "qcow2 bitmaps extension is shorter than 24 bytes", pos);
                    bitmaps = new Bitmaps(Fields.u32(b.getInt((int) data)), b.getLong((int) data + 8),
                            b.getLong((int) data + 16));
                }
                case EXT_CRYPTO -> {
                    // Only meaningful with crypt_method 2, which the header already refused.
                }
                default -> {
                    if (unknown.size() < 16) {
                        unknown.add(type);
                    }
                }
            }
            pos = data + ((length + 7) & ~7L);
        }
        return new Qcow2Extensions(backingFormat, dataFile, names, bitmaps, unknown);
    }

    /** A NUL-terminated or NUL-padded string; bytes after the first NUL are ignored. */
    private static String string(ByteBuffer b, long pos, long length) {
        int n = 0;
        while (n < length && b.get((int) (pos + n)) != 0) {
            n++;
        }
        byte[] bytes = new byte[n];
        b.get((int) pos, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The name the image gives an incompatible feature bit, or a generic one. */
    String incompatibleName(int bit) {
        String n = featureNames.get("0:" + bit);
        if (n != null && !n.isEmpty()) {
            return n;
        }
        return switch (bit) {
            case 0 -> "dirty bit";
            case 1 -> "corrupt bit";
            case 2 -> "external data file";
            case 3 -> "compression type";
            case 4 -> "extended L2 entries";
            default -> "unknown incompatible feature bit " + bit;
        };
    }

    /**
     * Writes the extensions our writer emits: the backing format (if any) and a feature name
     * table for the bits we set, then the end marker. Returns the bytes.
     */
    static byte[] encode(String backingFormat, boolean withFeatureNames) {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.BIG_ENDIAN);
        if (backingFormat != null) {
            byte[] f = backingFormat.getBytes(StandardCharsets.UTF_8);
            b.putInt(EXT_BACKING_FORMAT).putInt(f.length).put(f);
            pad(b);
        }
        if (withFeatureNames) {
            String[][] features = {{"0", "0", "dirty bit"}, {"0", "1", "corrupt bit"},
                {"0", "2", "external data file"}, {"0", "3", "compression type"},
                {"0", "4", "extended L2 entries"}, {"1", "0", "lazy refcounts"},
                {"2", "0", "bitmaps"}, {"2", "1", "raw external data"}};
            b.putInt(EXT_FEATURE_NAMES).putInt(features.length * FEATURE_ENTRY);
            for (String[] f : features) {
                byte[] name = f[2].getBytes(StandardCharsets.US_ASCII);
                b.put((byte) Integer.parseInt(f[0])).put((byte) Integer.parseInt(f[1])).put(name);
                b.put(new byte[FEATURE_ENTRY - 2 - name.length]);
            }
        }
        b.putInt(EXT_END).putInt(0);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static void pad(ByteBuffer b) {
        while (b.position() % 8 != 0) {
            b.put((byte) 0);
        }
    }
}
