package io.p2vkit.image.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few Linux calls the JDK does not offer (lseek with SEEK_DATA/SEEK_HOLE, ioctl), through
 * java.lang.foreign. Each call returns its result, or a negative errno, so callers decide what an
 * error means; {@link #error} turns an errno into the C library's message.
 */
public final class Libc {

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_CLOEXEC = 0x80000;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;
    public static final int ENXIO = 6;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final MethodHandle OPEN;
    private static final MethodHandle CLOSE;
    private static final MethodHandle LSEEK;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        OPEN = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        LSEEK = linker.downcallHandle(libc.find("lseek").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT), errno);
    }

    /**
     * The calls only the capture agent and error messages need, linked at their first use: each
     * link costs milliseconds that every image command would otherwise pay at start-up.
     */
    private static final class Rare {
        static final MethodHandle IOCTL;
        static final MethodHandle STRERROR;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            IOCTL = linker.downcallHandle(libc.find("ioctl").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2),
                    Linker.Option.captureCallState("errno"));
            STRERROR = linker.downcallHandle(libc.find("strerror").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        }
    }

    /**
     * fallocate, which only writers of new images need: linked apart from the calls every image
     * command needs to read, so that a conversion's reader does not wait for it.
     */
    private static final class Space {
        static final MethodHandle FALLOCATE;

        static {
            Linker linker = Linker.nativeLinker();
            FALLOCATE = linker.downcallHandle(linker.defaultLookup().find("fallocate").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Linker.Option.captureCallState("errno"));
        }

        static void link() {
            // The static initializer has run by the time this body does.
        }
    }

    /** setpriority, which only the emulator's scheduling of the JIT's threads needs. */
    private static final class Priority {
        static final MethodHandle SETPRIORITY;

        static {
            Linker linker = Linker.nativeLinker();
            SETPRIORITY = linker.downcallHandle(linker.defaultLookup().find("setpriority").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT), Linker.Option.captureCallState("errno"));
        }
    }

    /**
     * The handle that reads errno from a call's captured state, made at the first failed call:
     * spinning it takes ~10 ms of CPU (and C1 compiles of the JDK's handle builders), and a
     * conversion's calls succeed.
     */
    private static final class Errno {
        static final VarHandle HANDLE = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    private Libc() {
    }

    private static int errno(MemorySegment state) {
        return (int) Errno.HANDLE.get(state, 0L);
    }

    /**
     * Does nothing but make sure the calls are linked: a launcher calls it on a spare thread so
     * that the first real call does not wait for the linker.
     */
    public static void link() {
        // The static initializer has run by the time this body does; then fallocate.
        Space.link();
    }

    /** {@code open(path, flags)}: a file descriptor, or -errno. */
    public static int open(String path, int flags) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags);
            return fd >= 0 ? fd : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) throws IOException {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code lseek(fd, offset, whence)}: the new offset, or -errno. */
    public static long lseek(int fd, long offset, int whence) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long r = (long) LSEEK.invokeExact(state, fd, offset, whence);
            return r >= 0 ? r : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code fallocate(fd, mode, offset, length)}: 0, or -errno. */
    public static int fallocate(int fd, int mode, long offset, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) Space.FALLOCATE.invokeExact(state, fd, mode, offset, length);
            return r >= 0 ? r : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, arg)} with an int argument: the result, or -errno. */
    public static int ioctl(int fd, long request, int arg) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) Rare.IOCTL.invokeExact(state, fd, request, arg);
            return r >= 0 ? r : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * {@code setpriority(PRIO_PROCESS, tid, nice)}: the nice value of one thread of this process
     * (Linux schedules threads, and a thread id names one): 0, or -errno.
     */
    public static int setThreadNice(int tid, int nice) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) Priority.SETPRIORITY.invokeExact(state, 0, tid, nice); // 0: PRIO_PROCESS
            return r >= 0 ? r : -errno(state);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The C library's message for {@code errno} ("Device or resource busy"). */
    public static String error(int errno) {
        try {
            MemorySegment msg = ((MemorySegment) Rare.STRERROR.invokeExact(errno)).reinterpret(256);
            return msg.getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static IOException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof IOException io ? io : new IOException(t);
    }
}
