package io.p2vkit.image.raw;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a file holds data and where it has holes, from Linux's {@code lseek(SEEK_DATA/SEEK_HOLE)}
 * (called through java.lang.foreign: the JDK has no API for it). Where the filesystem or the file
 * type cannot say, everything counts as data.
 */
public final class SparseFiles {

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;
    private static final int ENXIO = 6;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle OPEN;
    private static final MethodHandle LSEEK;
    private static final MethodHandle CLOSE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        OPEN = linker.downcallHandle(libc.find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        LSEEK = linker.downcallHandle(libc.find("lseek").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
        CLOSE = linker.downcallHandle(libc.find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    }

    private SparseFiles() {
    }

    /** Data runs {@code [start, end)} within {@code [from, to)}, in order. */
    public record Regions(List<long[]> data) {
    }

    /** The data runs of {@code path} within {@code [from, to)}. */
    public static Regions dataRegions(FileChannel channel, Path path, long from, long to) throws IOException {
        List<long[]> out = new ArrayList<>();
        if (!Files.isRegularFile(path)) {
            out.add(new long[] {from, to});
            return new Regions(out);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(path.toString()), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                out.add(new long[] {from, to});
                return new Regions(out);
            }
            try {
                long pos = from;
                while (pos < to) {
                    long data = (long) LSEEK.invokeExact(state, fd, pos, SEEK_DATA);
                    if (data < 0) {
                        int errno = (int) ERRNO.get(state, 0L);
                        if (errno == ENXIO) {
                            break; // only a hole from pos to the end of the file
                        }
                        out.clear();
                        out.add(new long[] {from, to}); // filesystem cannot tell: all data
                        break;
                    }
                    if (data >= to) {
                        break;
                    }
                    long hole = (long) LSEEK.invokeExact(state, fd, data, SEEK_HOLE);
                    if (hole < 0) {
                        hole = to;
                    }
                    hole = Math.min(hole, to);
                    out.add(new long[] {data, hole});
                    pos = hole;
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("lseek failed on " + path, t);
        }
        return new Regions(out);
    }

    /** Bytes of {@code path} that hold data (its size less its holes). */
    public static long allocatedBytes(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return 0;
        }
        long size = Files.size(path);
        try (FileChannel ch = FileChannel.open(path)) {
            long sum = 0;
            for (long[] r : dataRegions(ch, path, 0, size).data()) {
                sum += r[1] - r[0];
            }
            return sum;
        }
    }
}
