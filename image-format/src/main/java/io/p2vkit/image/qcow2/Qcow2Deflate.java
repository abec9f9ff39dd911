package io.p2vkit.image.qcow2;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.zip.Deflater;

/**
 * Compresses one cluster the way QEMU does (block/qcow2-threads.c): raw deflate with a 4 KiB
 * window (windowBits -12), because QEMU inflates with that window and rejects back-references
 * further than 4 KiB. java.util.zip always uses a 32 KiB window, so the system zlib is called
 * through java.lang.foreign. Without libz, java.util.zip's Huffman-only mode is used: it has
 * no back-references at all, so any inflater reads it, at a worse ratio.
 *
 * <p>One instance per thread; {@link #close} frees the native stream.
 */
final class Qcow2Deflate implements AutoCloseable {

    private static final int Z_DEFLATED = 8;
    private static final int Z_FINISH = 4;
    private static final int Z_STREAM_END = 1;
    private static final int Z_DEFAULT_STRATEGY = 0;
    /**
     * zlib level 1 (deflate_fast), where QEMU uses 6: on disk data it costs a few percent of
     * size and saves a third to two thirds of the time (docs/formats/qcow2.md has the figures).
     */
    static final int LEVEL = 1;
    private static final int WINDOW_BITS = -12;
    private static final int MEM_LEVEL = 8;

    // struct z_stream on LP64 (zlib.h): the fields we touch and the total size.
    private static final long NEXT_IN = 0;
    private static final long AVAIL_IN = 8;
    private static final long NEXT_OUT = 24;
    private static final long AVAIL_OUT = 32;
    private static final long TOTAL_OUT = 40;
    private static final int Z_STREAM_SIZE = 112;

    private static final MethodHandle DEFLATE_INIT2;
    private static final MethodHandle DEFLATE;
    private static final MethodHandle DEFLATE_RESET;
    private static final MethodHandle DEFLATE_END;
    private static final MemorySegment VERSION;

    static {
        MethodHandle init = null;
        MethodHandle deflate = null;
        MethodHandle reset = null;
        MethodHandle end = null;
        MemorySegment version = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup zlib = SymbolLookup.libraryLookup("libz.so.1", Arena.global());
            MethodHandle zlibVersion = linker.downcallHandle(zlib.findOrThrow("zlibVersion"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            version = ((MemorySegment) zlibVersion.invokeExact()).reinterpret(64);
            init = linker.downcallHandle(zlib.findOrThrow("deflateInit2_"), FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT));
            deflate = linker.downcallHandle(zlib.findOrThrow("deflate"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            reset = linker.downcallHandle(zlib.findOrThrow("deflateReset"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            end = linker.downcallHandle(zlib.findOrThrow("deflateEnd"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        } catch (Throwable t) {
            init = null; // no system zlib or no native access: Huffman-only fallback
        }
        DEFLATE_INIT2 = init;
        DEFLATE = deflate;
        DEFLATE_RESET = reset;
        DEFLATE_END = end;
        VERSION = version;
    }

    private final int clusterSize;
    private final Arena arena;
    private final MemorySegment stream;
    private final MemorySegment in;
    private final MemorySegment out;
    private final Deflater fallback;

    Qcow2Deflate(int clusterSize) {
        this.clusterSize = clusterSize;
        MemorySegment s = null;
        Arena a = null;
        if (DEFLATE_INIT2 != null) {
            a = Arena.ofShared();
            s = a.allocate(Z_STREAM_SIZE, 8);
            int rc;
            try {
                rc = (int) DEFLATE_INIT2.invokeExact(s, LEVEL, Z_DEFLATED, WINDOW_BITS, MEM_LEVEL,
                        Z_DEFAULT_STRATEGY, VERSION, Z_STREAM_SIZE);
            } catch (Throwable t) {
                rc = -1;
            }
            if (rc != 0) {
                a.close();
                a = null;
                s = null;
            }
        }
        this.arena = a;
        this.stream = s;
        this.in = a == null ? null : a.allocate(clusterSize);
        this.out = a == null ? null : a.allocate(clusterSize);
        this.fallback = a == null ? new Deflater(LEVEL, true) : null;
        if (fallback != null) {
            fallback.setStrategy(Deflater.HUFFMAN_ONLY);
        }
    }

    /**
     * Whether {@code data} looks like noise (already compressed or encrypted data): its byte
     * histogram is as flat as that of random bytes, so Huffman coding cannot shrink it, and
     * such data has no repeats for LZ77 to find either. Deflating it would be wasted work; QEMU
     * would try and then store it uncompressed, which is what we do without trying.
     */
    static boolean looksRandom(byte[] data, int length) {
        int[] counts = new int[256];
        for (int i = 0; i < length; i++) {
            counts[data[i] & 0xFF]++;
        }
        double bits = 0;
        for (int c : counts) {
            if (c > 0) {
                double p = (double) c / length;
                bits -= p * Math.log(p);
            }
        }
        bits /= Math.log(2);
        // A finite sample of random bytes falls short of 8 bits by about 255 / (2 n ln 2).
        double shortfall = 255 / (2.0 * length * Math.log(2));
        return bits > 8 - 3 * shortfall - 0.002;
    }

    /** Whether the system zlib (QEMU's window) is in use rather than the Huffman-only fallback. */
    static boolean nativeAvailable() {
        return DEFLATE_INIT2 != null;
    }

    /**
     * Compresses {@code data[0, clusterSize)} into {@code dst}; returns the compressed length, or
     * -1 when the result would not be smaller than {@code limit} bytes.
     */
    int compress(byte[] data, byte[] dst, int limit) {
        if (stream == null) {
            return compressFallback(data, dst, limit);
        }
        MemorySegment.copy(data, 0, in, ValueLayout.JAVA_BYTE, 0, clusterSize);
        stream.set(ValueLayout.ADDRESS, NEXT_IN, in);
        stream.set(ValueLayout.JAVA_INT, AVAIL_IN, clusterSize);
        stream.set(ValueLayout.ADDRESS, NEXT_OUT, out);
        stream.set(ValueLayout.JAVA_INT, AVAIL_OUT, limit);
        try {
            int rc = (int) DEFLATE.invokeExact(stream, Z_FINISH);
            long produced = stream.get(ValueLayout.JAVA_LONG, TOTAL_OUT);
            int reset = (int) DEFLATE_RESET.invokeExact(stream);
            if (reset != 0) {
                throw new IllegalStateException("deflateReset failed: " + reset);
            }
            if (rc != Z_STREAM_END || produced >= limit) {
                return -1;
            }
            MemorySegment.copy(out, ValueLayout.JAVA_BYTE, 0, dst, 0, (int) produced);
            return (int) produced;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("zlib deflate failed", t);
        }
    }

    private int compressFallback(byte[] data, byte[] dst, int limit) {
        fallback.reset();
        fallback.setInput(data, 0, clusterSize);
        fallback.finish();
        int n = 0;
        while (!fallback.finished() && n < limit) {
            n += fallback.deflate(dst, n, limit - n);
        }
        return fallback.finished() && n < limit ? n : -1;
    }

    @Override
    public void close() {
        if (arena != null) {
            try {
                int ignored = (int) DEFLATE_END.invokeExact(stream);
            } catch (Throwable t) {
                // Freeing failed: nothing more can be done; the arena still goes.
            }
            arena.close();
        }
        if (fallback != null) {
            fallback.end();
        }
    }
}
