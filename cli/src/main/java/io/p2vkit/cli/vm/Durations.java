package io.p2vkit.cli.vm;

import io.p2vkit.image.ImageFormatException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code 60s}, {@code 2m}, {@code 1h}, {@code 500ms} or a plain number of seconds. */
public final class Durations {

    private static final Pattern FORM = Pattern.compile("(\\d+)(ms|s|m|h)?");

    private Durations() {
    }

    public static Duration parse(String option, String text) throws ImageFormatException {
        Matcher m = FORM.matcher(text.trim());
        if (!m.matches()) {
            throw new ImageFormatException(option + ": not a duration: '" + text + "' (e.g. 60s, 2m)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
        if (d.isZero()) {
            throw new ImageFormatException(option + " must be positive");
        }
        return d;
    }
}
