package io.p2vkit.agent.discovery;

import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

import java.nio.file.Path;

/** The POSIX facts capture needs, through jnr-posix: who we are and which device holds a path. */
public final class Posix {

    private static final POSIX POSIX = POSIXFactory.getNativePOSIX();

    private Posix() {
    }

    public static boolean isRoot() {
        return POSIX.geteuid() == 0;
    }

    /** The device number of the filesystem holding {@code path} (st_dev), or -1 if it cannot be stat'ed. */
    public static long deviceOf(Path path) {
        FileStat st = POSIX.allocateStat();
        return POSIX.stat(path.toAbsolutePath().toString(), st) == 0 ? st.dev() : -1;
    }

    /** Whether {@code path} is a block device. */
    public static boolean isBlockDevice(Path path) {
        FileStat st = POSIX.allocateStat();
        return POSIX.stat(path.toString(), st) == 0 && st.isBlockDev();
    }
}
