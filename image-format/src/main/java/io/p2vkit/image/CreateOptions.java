package io.p2vkit.image;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code -o key=value,...} options of {@code p2v image create/convert}, as qemu-img takes
 * them. A format reads the keys it knows and then calls {@link #rejectUnknown} so that a typo is
 * an error, never silently ignored.
 */
public final class CreateOptions {

    private final Map<String, String> values;
    private final Set<String> used = new TreeSet<>();
    private final java.nio.file.Path finalFolder;

    public CreateOptions(Map<String, String> values) {
        this(values, null);
    }

    private CreateOptions(Map<String, String> values, java.nio.file.Path finalFolder) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.finalFolder = finalFolder;
    }

    /**
     * Says where the image will live once complete. Outputs are written in a staging folder
     * first, but names in the options ({@code backing_file}) are relative to the final folder.
     */
    public CreateOptions inFolder(java.nio.file.Path folder) {
        return new CreateOptions(values, folder);
    }

    /** The folder that relative names in the options are resolved against, for an image created at {@code file}. */
    public java.nio.file.Path referenceFolder(java.nio.file.Path file) {
        return finalFolder != null ? finalFolder : file.toAbsolutePath().getParent();
    }

    public static CreateOptions none() {
        return new CreateOptions(Map.of());
    }

    /** Parses {@code "a=1,b=two,flag"}; a bare key means {@code on}. */
    public static CreateOptions parse(String spec) {
        Map<String, String> map = new LinkedHashMap<>();
        if (spec != null && !spec.isBlank()) {
            for (String part : spec.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                String key = (eq < 0 ? part : part.substring(0, eq)).trim();
                String value = eq < 0 ? "on" : part.substring(eq + 1).trim();
                map.put(key, value);
            }
        }
        return new CreateOptions(map);
    }

    /** Adds or replaces one option (the CLI's {@code -c} becomes {@code compress=on}). */
    public CreateOptions with(String key, String value) {
        Map<String, String> map = new LinkedHashMap<>(values);
        map.put(key, value);
        return new CreateOptions(map, finalFolder);
    }

    public String get(String key, String defaultValue) {
        used.add(key);
        return values.getOrDefault(key, defaultValue);
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    public boolean flag(String key, boolean defaultValue) throws ImageFormatException {
        String v = get(key, null);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "on", "true", "yes", "1" -> true;
            case "off", "false", "no", "0" -> false;
            default -> throw new ImageFormatException("option " + key + ": expected on or off, got '" + v + "'");
        };
    }

    /** A size with an optional K/M/G/T suffix (powers of 1024), as in qemu-img. */
    public long size(String key, long defaultValue) throws ImageFormatException {
        String v = get(key, null);
        if (v == null) {
            return defaultValue;
        }
        try {
            return Sizes.parse(v);
        } catch (IllegalArgumentException e) {
            throw new ImageFormatException("option " + key + ": " + e.getMessage());
        }
    }

    /** Fails on any key no format accessor asked for. */
    public void rejectUnknown(String formatName) throws ImageFormatException {
        for (String key : values.keySet()) {
            if (!used.contains(key)) {
                throw new ImageFormatException("format " + formatName + " has no option '" + key + "'");
            }
        }
    }

    public Map<String, String> asMap() {
        return values;
    }
}
