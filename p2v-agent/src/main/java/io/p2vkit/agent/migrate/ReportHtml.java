package io.p2vkit.agent.migrate;

import io.p2vkit.image.Sizes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * report.html: one page a person reads. It is well-formed XHTML (so an XML parser checks it) and
 * self-contained: the screenshot is embedded as well as linked. Everything the guest or the
 * source controls (console log, screen text, reasons, names) goes through {@link #text}.
 */
public final class ReportHtml {

    private static final String STYLE = """
            body { font-family: sans-serif; margin: 2em; max-width: 72em; color: #222; }
            h1 { padding: .3em .6em; color: #fff; }
            h1.migrated { background: #2a7d2e; }
            h1.failed { background: #b3261e; }
            table { border-collapse: collapse; }
            th { text-align: left; padding-right: 2em; font-weight: normal; color: #555; }
            td { font-family: monospace; }
            pre { background: #111; color: #ddd; padding: 1em; overflow-x: auto; max-height: 40em; }
            img { border: 1px solid #888; image-rendering: pixelated; }
            """;

    private ReportHtml() {
    }

    public static String write(MigrationReport r) throws IOException {
        StringBuilder h = new StringBuilder(16_384);
        boolean ok = r.migrated();
        h.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
                .append("<meta charset=\"utf-8\"/>\n<title>p2vkit migration of ").append(text(r.source().path()))
                .append(": ").append(r.result().name()).append("</title>\n<style>\n").append(STYLE)
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1 class=\"").append(ok ? "migrated" : "failed").append("\">").append(r.result().name())
                .append("</h1>\n<p class=\"reason\">").append(text(r.reason())).append("</p>\n");
        h.append("<p>Started ").append(text(r.started().toString())).append(", took ")
                .append(seconds(r.timings().total())).append(".</p>\n");

        h.append("<h2>Source</h2>\n<table>\n");
        row(h, "path", text(r.source().path()));
        row(h, "size", size(r.source().size()));
        row(h, "partition table", text(r.source().partitionTable()));
        h.append("</table>\n");

        MigrationReport.Image i = r.image();
        h.append("<h2>Image</h2>\n<table>\n");
        row(h, "file", link(i.path()));
        row(h, "format", text(i.format()));
        row(h, "virtual size", size(i.virtualSize()));
        row(h, "file size", size(i.fileSize()));
        row(h, "copied from the source", size(i.copiedBytes()));
        row(h, "SHA-256 of the disk contents", text(i.contentSha256()));
        row(h, "SHA-256 of the file", text(i.fileSha256()));
        row(h, "capture manifest", link(i.manifest()));
        h.append("</table>\n");

        BootOutcome b = r.boot();
        h.append("<h2>Boot</h2>\n<table>\n");
        row(h, "expected", "/" + text(r.expect().pattern()) + "/"
                + (r.expect().defaults() ? " (the default boot markers)" : ""));
        row(h, "decided on", text(b.matchedOn() == null ? "neither console nor screen" : b.matchedOn()));
        row(h, "engine", text(b.engine() + " (" + b.engineDetail() + ")"));
        row(h, "display", text(b.display() + (b.graphicsMode() == null ? "" : ", the guest selected " + b.graphicsMode())));
        if (!b.engineGaps().isEmpty()) {
            row(h, "engine gaps", text(b.engineGaps()));
        }
        row(h, "firmware banner", seconds(b.firmwareBanner()));
        row(h, "bootloader started", seconds(b.bootloaderStarted()));
        row(h, "expected text", seconds(b.expectedSeen()));
        row(h, "guest ran", seconds(b.elapsed()));
        h.append("</table>\n");

        h.append("<h2>Timings</h2>\n<table>\n");
        row(h, "capture", seconds(r.timings().capture()));
        row(h, "image checksum", seconds(r.timings().checksum()));
        row(h, "boot", seconds(r.timings().boot()));
        row(h, "total", seconds(r.timings().total()));
        h.append("</table>\n");

        if (!r.warnings().isEmpty()) {
            h.append("<h2>Capture warnings</h2>\n<ul>\n");
            for (String w : r.warnings()) {
                h.append("<li>").append(text(w)).append("</li>\n");
            }
            h.append("</ul>\n");
        }

        h.append("<h2>Last screen</h2>\n");
        screenshot(h, b.screenshot(), b.display());
        if (!b.screenText().isEmpty()) {
            h.append("<pre class=\"screen\">").append(text(b.screenText())).append("</pre>\n");
        }
        h.append("<h2>Serial console</h2>\n");
        h.append(b.consoleLog().isEmpty() ? "<p>The guest wrote nothing to its serial port.</p>\n"
                : "<pre class=\"console\">" + text(b.consoleLog()) + "</pre>\n");
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void screenshot(StringBuilder h, Path png, String display) throws IOException {
        if (png == null || !Files.isRegularFile(png)) {
            h.append("<p>No screenshot: the display was ").append(text(display)).append(".</p>\n");
            return;
        }
        h.append("<p><a href=\"").append(href(png)).append("\"><img alt=\"the guest's last screen\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(Files.readAllBytes(png))).append("\"/></a></p>\n");
    }

    private static void row(StringBuilder h, String name, String html) {
        h.append("<tr><th>").append(name).append("</th><td>").append(html).append("</td></tr>\n");
    }

    private static String link(Path file) {
        return "<a href=\"" + href(file) + "\">" + text(file.getFileName().toString()) + "</a>";
    }

    /** A relative link to a file beside the report, percent-encoded where a URI needs it. */
    static String href(Path file) {
        StringBuilder sb = new StringBuilder();
        for (byte b : file.getFileName().toString().getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c < 0x80 && (Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    private static String size(long bytes) {
        return text(Sizes.human(bytes) + " (" + bytes + " bytes)");
    }

    private static String seconds(Duration d) {
        return d == null ? "not seen" : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /**
     * Escapes text for element content and attribute values. A guest's console holds anything:
     * markup characters are escaped, control characters (which XML forbids) are shown as their
     * Unicode control pictures, and unpaired surrogates and non-characters become U+FFFD.
     */
    public static String text(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        s.codePoints().forEach(cp -> {
            switch (cp) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                case '\n', '\t' -> sb.append((char) cp);
                case '\r' -> { }
                default -> {
                    if (cp < 0x20) {
                        sb.append((char) (0x2400 + cp));            // ␀ … ␟
                    } else if (cp == 0x7F) {
                        sb.append('\u2421');                        // ␡
                    } else if (cp <= 0xFFFF && Character.isSurrogate((char) cp) || cp == 0xFFFE || cp == 0xFFFF) {
                        sb.append('\uFFFD');
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.toString();
    }
}
