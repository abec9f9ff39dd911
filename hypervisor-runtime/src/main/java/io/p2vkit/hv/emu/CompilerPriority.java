package io.p2vkit.hv.emu;

import io.p2vkit.image.io.Libc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Lowers the scheduling priority of the JIT's C2 threads while new regions keep arriving, and
 * gives it back once they stop. A kernel's initialisation translates ~1,400 regions, each of
 * which the guest runs in an interpreter until C1 has compiled it; on a host with two cores C1
 * and C2 share the one the vCPU leaves, evenly, and C2 only makes code that already runs
 * compiled faster. With C2 at nice 10 throughout, boot was 0.35 s shorter (8/8 pairs) but a
 * benchmark's hot loops, which wait for C2, 2% slower: hence only while regions are being built
 * (boot 0.2 s shorter, 8/8 pairs, and the benchmark 2% faster, 6/6; bench/RESULTS.md, tenth session).
 * Linux lets a process raise a thread's nice value but not lower it again without CAP_SYS_NICE or
 * a nice limit (RLIMIT_NICE) allowing 0, so without either the priorities are left alone, as they
 * are with -Dp2v.emu.c2Nice=0.
 */
final class CompilerPriority {

    static final int NICE = Integer.getInteger("p2v.emu.c2Nice", 10);
    static final boolean ENABLED = NICE != 0 && mayRestore();
    /** How long after the last region built C2 gets its priority back. */
    static final long QUIET_MILLIS = 200;

    private static boolean lowered;
    private static long lastBuild;

    private CompilerPriority() {
    }

    /** A region was just built: C2 yields to C1, which will compile it. */
    static synchronized void regionBuilt() {
        lastBuild = System.nanoTime();
        if (!lowered && ENABLED) {
            lowered = true;
            setC2Nice(NICE);
        }
    }

    /** Gives C2 its priority back when no region was built for {@link #QUIET_MILLIS}. */
    static synchronized void restoreIfQuiet() {
        if (lowered && System.nanoTime() - lastBuild >= QUIET_MILLIS * 1_000_000) {
            lowered = false;
            setC2Nice(0);
        }
    }

    /**
     * Sets the nice value of every C2 compiler thread (Linux names them "C2 CompilerThre…" in
     * /proc). Best effort: elsewhere, or refused, the JIT keeps the priorities it had.
     */
    private static void setC2Nice(int nice) {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (Files.readString(task.resolve("comm")).startsWith("C2 Compiler")) {
                        Libc.setThreadNice(Integer.parseInt(task.getFileName().toString()), nice);
                    }
                } catch (IOException | RuntimeException e) {
                    // a thread gone meanwhile: the others still count
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: a matter of speed only
        }
    }

    /**
     * Whether this process may set a thread's nice value back to 0 once it has raised it: its
     * effective user is root (CAP_SYS_NICE), or its soft nice limit is 20 (the limit L allows
     * nice values down to 20 - L). Read from /proc; false where it cannot be read.
     */
    private static boolean mayRestore() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:") && line.split("\\s+")[2].equals("0")) {
                    return true;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max nice priority")) {
                    String soft = line.substring("Max nice priority".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") || Integer.parseInt(soft) >= 20;
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc
        }
        return false;
    }
}
