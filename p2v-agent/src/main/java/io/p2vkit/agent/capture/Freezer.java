package io.p2vkit.agent.capture;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Freezes mounted filesystems for the duration of a capture (Linux FIFREEZE/FITHAW ioctls on the
 * mount point), so that a live capture is consistent rather than only crash-consistent. Thawing
 * happens in {@link #close()}, whatever happened in between.
 */
final class Freezer implements AutoCloseable {

    private static final long FIFREEZE = 0xC0045877L; // _IOWR('X', 119, int)
    private static final long FITHAW = 0xC0045878L;   // _IOWR('X', 120, int)
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0x10000;

    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN;
    private static final MethodHandle IOCTL;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        OPEN = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        IOCTL = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT),
                Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        STRERROR = linker.downcallHandle(libc.find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    private final List<Path> frozen = new ArrayList<>();

    /** Freezes the filesystem mounted at {@code mountPoint}. */
    void freeze(Path mountPoint) throws IOException {
        ioctl(mountPoint, FIFREEZE);
        frozen.add(mountPoint);
    }

    List<Path> frozen() {
        return List.copyOf(frozen);
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Path p : frozen.reversed()) {
            try {
                ioctl(p, FITHAW);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        frozen.clear();
        if (first != null) {
            throw first;
        }
    }

    private static void ioctl(Path dir, long request) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(dir.toString()), O_RDONLY | O_DIRECTORY);
            if (fd < 0) {
                throw new IOException("cannot open mount point " + dir);
            }
            try {
                int rc = (int) IOCTL.invokeExact(state, fd, request, 0);
                if (rc != 0) {
                    int errno = (int) ERRNO.get(state, 0L);
                    MemorySegment msg = ((MemorySegment) STRERROR.invokeExact(errno)).reinterpret(256);
                    throw new IOException((request == FIFREEZE ? "cannot freeze " : "cannot thaw ") + dir + ": "
                            + msg.getString(0));
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("ioctl failed on " + dir, t);
        }
    }
}
