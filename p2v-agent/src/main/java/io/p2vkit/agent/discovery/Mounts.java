package io.p2vkit.agent.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The mounted filesystems, from /proc/self/mountinfo (which names devices by major:minor). */
public final class Mounts {

    /** One mount: the device number, where it is mounted and whether it is writable. */
    public record Mount(String majorMinor, String mountPoint, String source, boolean readWrite) {
    }

    private Mounts() {
    }

    public static List<Mount> read() {
        List<Mount> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                // id parent major:minor root mountpoint options ... - fstype source superoptions
                String[] f = line.split(" ");
                int dash = java.util.Arrays.asList(f).indexOf("-");
                if (f.length < 6 || dash < 0 || dash + 2 >= f.length) {
                    continue;
                }
                boolean rw = ("," + f[5] + ",").contains(",rw,");
                out.add(new Mount(f[2], unescape(f[4]), f[dash + 2], rw));
            }
        } catch (IOException e) {
            // not Linux, or /proc hidden: no mount information
        }
        return out;
    }

    /** mountinfo escapes spaces and tabs as octal (\040). */
    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Mounts of the block device with this {@code major:minor}. */
    public static List<Mount> of(List<Mount> all, String majorMinor) {
        return all.stream().filter(m -> m.majorMinor().equals(majorMinor)).toList();
    }
}
