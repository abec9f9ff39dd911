package io.p2vkit.image.io;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZerosTest {

    private static final int SIZE = (3 << 20) + 7; // crosses the 1 MiB zero block, odd length

    @Test
    void aSingleByteAnywhereIsFoundInDirectAndHeapBuffers() {
        for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocateDirect(SIZE), ByteBuffer.allocate(SIZE)}) {
            assertTrue(Zeros.isZero(buf, 0, SIZE));
            for (int at : new int[] {0, 4095, 4096, (1 << 20) - 1, 1 << 20, SIZE - 1}) {
                buf.put(at, (byte) 1);
                assertFalse(Zeros.isZero(buf, 0, SIZE), "byte at " + at);
                assertFalse(Zeros.isZero(buf, at, 1), "byte at " + at);
                assertTrue(at == 0 || Zeros.isZero(buf, 0, at), "before " + at);
                assertTrue(Zeros.isZero(buf, at + 1, SIZE - at - 1), "after " + at);
                buf.put(at, (byte) 0);
            }
        }
    }

    @Test
    void positionsAreAbsoluteWhateverTheBuffersPosition() {
        ByteBuffer buf = ByteBuffer.allocateDirect(8192);
        buf.put(100, (byte) 9);
        buf.position(4096);
        assertTrue(Zeros.isZero(buf, 4096, 4096));
        assertTrue(Zeros.isZero(buf));
        // A range that starts before the position still reads the bytes it names.
        assertFalse(Zeros.isZero(buf, 0, 4096));
        assertEquals(4096, buf.position(), "the buffer is not moved");
    }

    @Test
    void segmentsAreCheckedInPlace() {
        MemorySegment s = MemorySegment.ofArray(new byte[SIZE]);
        assertTrue(Zeros.isZero(s, 0, SIZE));
        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, SIZE - 1, (byte) -1);
        assertFalse(Zeros.isZero(s, 0, SIZE));
        assertTrue(Zeros.isZero(s, 0, SIZE - 1));
        assertTrue(Zeros.isZero(s, 5, 0));
    }
}
