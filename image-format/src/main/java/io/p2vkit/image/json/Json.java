package io.p2vkit.image.json;

import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * Writes JSON from maps, lists, strings, numbers, booleans and records of those. Enough for
 * {@code --output json} and reports; p2vkit never needs to parse JSON it did not write.
 */
public final class Json {

    private Json() {
    }

    /** Pretty-printed JSON with two-space indentation. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, int indent) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> quote(sb, s);
            case Boolean b -> sb.append(b);
            case Double d -> sb.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.6g", d).replaceAll("0+$", "").replaceAll("\\.$", "") : "null");
            case Float f -> write(sb, f.doubleValue(), indent);
            case Number n -> sb.append(n);
            case Map<?, ?> m -> writeMap(sb, m, indent);
            case Collection<?> c -> writeList(sb, c, indent);
            case Object[] a -> writeList(sb, java.util.Arrays.asList(a), indent);
            case Enum<?> e -> quote(sb, e.name().toLowerCase(Locale.ROOT));
            case Record r -> writeMap(sb, recordToMap(r), indent);
            default -> quote(sb, v.toString());
        }
    }

    private static Map<String, Object> recordToMap(Record r) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (var c : r.getClass().getRecordComponents()) {
            try {
                m.put(c.getName(), c.getAccessor().invoke(r));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    private static void writeMap(StringBuilder sb, Map<?, ?> m, int indent) {
        if (m.isEmpty()) {
            sb.append("{}");
            return;
        }
        sb.append("{\n");
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            pad(sb, indent + 1);
            quote(sb, String.valueOf(e.getKey()));
            sb.append(": ");
            write(sb, e.getValue(), indent + 1);
            sb.append(++i < m.size() ? ",\n" : "\n");
        }
        pad(sb, indent);
        sb.append('}');
    }

    private static void writeList(StringBuilder sb, Collection<?> c, int indent) {
        if (c.isEmpty()) {
            sb.append("[]");
            return;
        }
        sb.append("[\n");
        int i = 0;
        for (Object o : c) {
            pad(sb, indent + 1);
            write(sb, o, indent + 1);
            sb.append(++i < c.size() ? ",\n" : "\n");
        }
        pad(sb, indent);
        sb.append(']');
    }

    private static void pad(StringBuilder sb, int indent) {
        sb.append("  ".repeat(indent));
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        sb.append('"');
    }
}
