package io.p2vkit.image;

import java.util.Locale;

/** Human sizes: parsing {@code 10G}, {@code 512}, {@code 1.5M}; printing {@code 2 GiB}. */
public final class Sizes {

    private Sizes() {
    }

    /** Parses a byte count with an optional B/K/M/G/T/P/E suffix (binary multiples). */
    public static long parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        int shift = 0;
        if (!t.isEmpty()) {
            char last = t.charAt(t.length() - 1);
            int idx = "BKMGTPE".indexOf(last);
            if (idx >= 0) {
                shift = idx * 10;
                t = t.substring(0, t.length() - 1);
            }
        }
        if (t.isEmpty()) {
            throw new IllegalArgumentException("not a size: '" + text + "'");
        }
        try {
            if (t.contains(".")) {
                double d = Double.parseDouble(t) * Math.pow(2, shift);
                if (d < 0 || d >= 0x1p63) {
                    throw new IllegalArgumentException("size out of range: '" + text + "'");
                }
                return (long) d;
            }
            long n = Long.parseLong(t);
            if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
                throw new IllegalArgumentException("size out of range: '" + text + "'");
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "'");
        }
    }

    /** {@code 1073741824} → {@code "1 GiB"}, {@code 1536} → {@code "1.5 KiB"}. */
    public static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String num = v >= 100 || v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v)
                : String.format(Locale.ROOT, "%.3g", v);
        return num + " " + units[u];
    }
}
