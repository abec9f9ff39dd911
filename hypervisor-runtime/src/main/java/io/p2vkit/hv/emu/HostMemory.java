package io.p2vkit.hv.emu;

import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * Loads and stores at host addresses in the guest's RAM (native memory that stays allocated
 * while a vCPU runs), for the TLB's fast paths and page walks.
 *
 * <p>Unsafe rather than a MemorySegment spanning the address space: a compiled region inlines
 * one of these at every guest memory access, and the segment's path (a VarHandle, its guards,
 * the scoped access, the bounds check) is some eight methods deep for the JIT to parse and fold
 * at each. With one intrinsic per access the JIT threads, which compete with the vCPU for this
 * machine's second core, spend ~1 s less per Linux boot (C2 on regions: 3.5 s → 2.4 s) and the
 * boot is ~0.8 s faster (bench/RESULTS.md). bin/p2v and the tests run with --sun-misc-unsafe-memory-access=allow.
 */
final class HostMemory {

    private static final Unsafe UNSAFE = unsafe();

    private HostMemory() {
    }

    static byte getByte(long address) {
        return UNSAFE.getByte(address);
    }

    static short getShort(long address) {
        return UNSAFE.getShort(address);
    }

    static int getInt(long address) {
        return UNSAFE.getInt(address);
    }

    static long getLong(long address) {
        return UNSAFE.getLong(address);
    }

    static void putByte(long address, byte v) {
        UNSAFE.putByte(address, v);
    }

    static void putShort(long address, short v) {
        UNSAFE.putShort(address, v);
    }

    static void putInt(long address, int v) {
        UNSAFE.putInt(address, v);
    }

    static void putLong(long address, long v) {
        UNSAFE.putLong(address, v);
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
