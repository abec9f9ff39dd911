package io.p2vkit.image.vmdk;

import io.p2vkit.image.ImageFormatException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A VMDK text descriptor (spec, "The Descriptor File"): a header of {@code key=value} lines
 * (version, CID, parentCID, createType...), one line per extent, and the disk database of
 * {@code ddb.key = "value"} lines. Parsing keeps every key, in order, so that info can show them.
 */
record Descriptor(Map<String, String> header, List<ExtentLine> extents, Map<String, String> ddb) {

    /** {@code parentCID} of a disk without a parent. */
    static final long NO_PARENT = 0xFFFF_FFFFL;

    /** The access keywords that start an extent line. */
    private static final List<String> ACCESS = List.of("RW", "RDONLY", "NOACCESS");

    Descriptor {
        header = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(header));
        extents = List.copyOf(extents);
        ddb = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ddb));
    }

    /** One extent line: {@code RW 2097152 SPARSE "x-s001.vmdk"} or {@code RW 20480 FLAT "x-flat.vmdk" 0}. */
    record ExtentLine(String access, long sectors, String type, String fileName, long offsetSectors) {

        boolean isZero() {
            return type.equals("ZERO");
        }

        boolean isFlat() {
            return type.equals("FLAT") || type.equals("VMFS") || type.equals("VMFSRDM") || type.equals("VMFSRAW");
        }

        boolean isSparse() {
            return type.equals("SPARSE");
        }

        boolean readOnly() {
            return !access.equals("RW");
        }

        String toLine() {
            StringBuilder sb = new StringBuilder().append(access).append(' ').append(sectors).append(' ').append(type);
            if (fileName != null) {
                sb.append(" \"").append(fileName).append('"');
                if (isFlat()) {
                    sb.append(' ').append(offsetSectors);
                }
            }
            return sb.toString();
        }
    }

    String createType() {
        return header.getOrDefault("createType", "");
    }

    /** The content ID, or -1 when it is missing or not hex. */
    long cid() {
        return hex(header.get("CID"));
    }

    long parentCid() {
        String p = header.get("parentCID");
        return p == null ? NO_PARENT : hex(p);
    }

    String parentFileNameHint() {
        return header.get("parentFileNameHint");
    }

    /** Whether this is a child (differencing) disk. */
    boolean hasParent() {
        return parentCid() != NO_PARENT || parentFileNameHint() != null;
    }

    long totalSectors() {
        long total = 0;
        for (ExtentLine e : extents) {
            total += e.sectors();
        }
        return total;
    }

    private static long hex(String s) {
        if (s == null) {
            return -1;
        }
        try {
            return Long.parseLong(s.trim(), 16) & 0xFFFF_FFFFL;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Parses descriptor text (at most {@link VmdkConstants#MAX_DESCRIPTOR_BYTES}, bounded by the
     * caller before reading). {@code where} names the descriptor in errors.
     */
    static Descriptor parse(String text, String where) throws ImageFormatException {
        if (text.length() > VmdkConstants.MAX_DESCRIPTOR_BYTES) {
            throw new ImageFormatException(where + " is larger than " + VmdkConstants.MAX_DESCRIPTOR_BYTES + " bytes");
        }
        Map<String, String> header = new LinkedHashMap<>();
        Map<String, String> ddb = new LinkedHashMap<>();
        List<ExtentLine> extents = new ArrayList<>();
        long total = 0;
        int lineNo = 0;
        for (String raw : text.split("\r?\n|\r", -1)) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String first = line.split("\\s+", 2)[0];
            if (ACCESS.contains(first)) {
                if (extents.size() >= VmdkConstants.MAX_EXTENTS) {
                    throw new ImageFormatException(where + " lists more than " + VmdkConstants.MAX_EXTENTS + " extents");
                }
                ExtentLine e = parseExtent(line, where, lineNo);
                total += e.sectors();
                if (total > VmdkConstants.MAX_CAPACITY_SECTORS) {
                    throw new ImageFormatException(where + ": extents add up to more than "
                            + VmdkConstants.MAX_CAPACITY_SECTORS + " sectors");
                }
                extents.add(e);
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ImageFormatException(where + " line " + lineNo + " is neither key=value nor an extent: '"
                        + abbreviate(line) + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = unquote(line.substring(eq + 1).strip());
            (key.startsWith("ddb.") ? ddb : header).put(key, value);
        }
        Descriptor d = new Descriptor(header, extents, ddb);
        if (extents.isEmpty()) {
            throw new ImageFormatException(where + " lists no extents");
        }
        if (!header.containsKey("createType")) {
            throw new ImageFormatException(where + " has no createType");
        }
        return d;
    }

    private static ExtentLine parseExtent(String line, String where, int lineNo) throws ImageFormatException {
        String at = where + " line " + lineNo;
        String rest = line;
        String[] parts = rest.split("\\s+", 4);
        if (parts.length < 3) {
            throw new ImageFormatException(at + ": extent line is incomplete: '" + abbreviate(line) + "'");
        }
        String access = parts[0];
        long sectors;
        try {
            sectors = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            throw new ImageFormatException(at + ": extent size '" + abbreviate(parts[1]) + "' is not a number");
        }
        if (sectors <= 0 || sectors > VmdkConstants.MAX_CAPACITY_SECTORS) {
            throw new ImageFormatException(at + ": extent size " + sectors + " sectors is out of range");
        }
        String type = parts[2].toUpperCase(Locale.ROOT);
        String tail = parts.length > 3 ? parts[3].strip() : "";
        if (type.equals("ZERO")) {
            return new ExtentLine(access, sectors, type, null, 0);
        }
        if (!(type.equals("SPARSE") || type.equals("FLAT") || type.equals("VMFS") || type.equals("VMFSRDM")
                || type.equals("VMFSRAW"))) {
            throw new ImageFormatException(at + ": extent type '" + abbreviate(parts[2]) + "' is not supported"
                    + " (FLAT, SPARSE, ZERO and VMFS are)");
        }
        if (!tail.startsWith("\"") || tail.indexOf('"', 1) < 0) {
            throw new ImageFormatException(at + ": extent file name is not quoted");
        }
        int close = tail.indexOf('"', 1);
        String name = tail.substring(1, close);
        String after = tail.substring(close + 1).strip();
        long offset = 0;
        if (!after.isEmpty()) {
            try {
                offset = Long.parseLong(after.split("\\s+")[0]);
            } catch (NumberFormatException e) {
                throw new ImageFormatException(at + ": extent offset '" + abbreviate(after) + "' is not a number");
            }
            if (offset < 0 || offset > VmdkConstants.MAX_CAPACITY_SECTORS) {
                throw new ImageFormatException(at + ": extent offset " + offset + " is out of range");
            }
        }
        return new ExtentLine(access, sectors, type, name, offset);
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    /** The descriptor as text, in the layout VMware writes (header, extents, disk database). */
    String toText() {
        StringBuilder sb = new StringBuilder("# Disk DescriptorFile\n");
        for (Map.Entry<String, String> e : header.entrySet()) {
            boolean quoted = !e.getKey().equals("version") && !e.getKey().equals("CID")
                    && !e.getKey().equals("parentCID");
            sb.append(e.getKey()).append('=').append(quoted ? "\"" + e.getValue() + "\"" : e.getValue()).append('\n');
        }
        sb.append("\n# Extent description\n");
        for (ExtentLine e : extents) {
            sb.append(e.toLine()).append('\n');
        }
        sb.append("\n# The Disk Data Base\n#DDB\n\n");
        for (Map.Entry<String, String> e : ddb.entrySet()) {
            sb.append(e.getKey()).append(" = \"").append(e.getValue()).append("\"\n");
        }
        return sb.toString();
    }
}
