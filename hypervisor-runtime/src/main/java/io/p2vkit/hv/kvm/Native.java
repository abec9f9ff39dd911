package io.p2vkit.hv.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls KVM needs, bound through java.lang.foreign: open, close, ioctl, mmap,
 * munmap, and what it takes to interrupt a vCPU thread blocked in KVM_RUN (sigaction,
 * pthread_self, pthread_kill). Each call captures errno.
 */
final class Native {

    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int EINTR = 4;
    static final int EAGAIN = 11;
    static final int E2BIG = 7;

    /** The signal that kicks a vCPU out of KVM_RUN: SIGRTMIN + 6, which the JVM does not use. */
    static final int SIG_KICK = 40;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option SAVE_ERRNO = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), SAVE_ERRNO);
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IOCTL_LONG = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), SAVE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_PTR = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), SAVE_ERRNO,
            Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = bind("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), SAVE_ERRNO);
    private static final MethodHandle MUNMAP = bind("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle PTHREAD_SELF = bind("pthread_self", FunctionDescriptor.of(JAVA_LONG));
    private static final MethodHandle PTHREAD_KILL = bind("pthread_kill",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SIGACTION = bind("sigaction",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), SAVE_ERRNO);

    private static volatile boolean kickInstalled;

    private Native() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    /** Per-thread space for errno. */
    static MemorySegment errnoSpace(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment space) {
        return (int) ERRNO.get(space, 0L);
    }

    static int open(String path) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = errnoSpace(a);
            int fd = (int) OPEN.invokeExact(err, a.allocateFrom(path), O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                throw new KvmException("open " + path, errno(err));
            }
            return fd;
        } catch (KvmException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        try {
            int r = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ioctl with an integer argument; returns the result or -errno. */
    static int ioctl(MemorySegment err, int fd, long request, long arg) {
        try {
            int r = (int) IOCTL_LONG.invokeExact(err, fd, request, arg);
            return r < 0 ? -errno(err) : r;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ioctl with a pointer argument; returns the result or -errno. */
    static int ioctl(MemorySegment err, int fd, long request, MemorySegment arg) {
        try {
            int r = (int) IOCTL_PTR.invokeExact(err, fd, request, arg);
            return r < 0 ? -errno(err) : r;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ioctl that must succeed. */
    static int check(String what, int result) {
        if (result < 0) {
            throw new KvmException(what, -result);
        }
        return result;
    }

    static MemorySegment mmapShared(int fd, long size) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = errnoSpace(a);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(err, MemorySegment.NULL, size,
                    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
            if (p.address() == -1L) {
                throw new KvmException("mmap of the kvm_run page", errno(err));
            }
            return p.reinterpret(size);
        } catch (KvmException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void munmap(MemorySegment seg) {
        try {
            int r = (int) MUNMAP.invokeExact(seg, seg.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static long pthreadSelf() {
        try {
            return (long) PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void pthreadKill(long thread, int sig) {
        try {
            int r = (int) PTHREAD_KILL.invokeExact(thread, sig);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Installs a handler for {@link #SIG_KICK} without SA_RESTART, so the signal makes a blocked
     * KVM_RUN return EINTR. The handler is libc's getpid: it must be a native function (a Java
     * upcall is not safe in signal context) and must do nothing that matters.
     */
    static synchronized void installKickHandler() {
        if (kickInstalled) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            // glibc x86-64 struct sigaction: handler at 0, sa_mask (128 bytes) at 8, sa_flags at 136.
            MemorySegment act = a.allocate(152, 8);
            act.set(ADDRESS, 0, LIBC.find("getpid").orElseThrow());
            act.set(JAVA_INT, 136, 0);
            MemorySegment err = errnoSpace(a);
            int r = (int) SIGACTION.invokeExact(err, SIG_KICK, act, MemorySegment.NULL);
            if (r != 0) {
                throw new KvmException("sigaction", errno(err));
            }
            kickInstalled = true;
        } catch (KvmException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 2 -> "ENOENT";
            case 4 -> "EINTR";
            case 7 -> "E2BIG";
            case 11 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 13 -> "EACCES";
            case 14 -> "EFAULT";
            case 16 -> "EBUSY";
            case 17 -> "EEXIST";
            case 19 -> "ENODEV";
            case 22 -> "EINVAL";
            case 25 -> "ENOTTY";
            default -> "errno " + errno;
        };
    }
}
