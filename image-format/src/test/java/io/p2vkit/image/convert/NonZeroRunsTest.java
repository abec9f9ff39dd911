package io.p2vkit.image.convert;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class NonZeroRunsTest {

    private static ByteBuffer chunk(int size, int... nonZeroAt) {
        ByteBuffer b = ByteBuffer.allocateDirect(size);
        for (int at : nonZeroAt) {
            b.put(at, (byte) 0x5a);
        }
        return b;
    }

    @Test
    void runsAreWholeBlocksAlignedToTheDisk() {
        // Blocks 1 and 2 hold data, block 3 is zeros, the last one holds data again.
        ByteBuffer b = chunk(5 * 4096, 4096, 3 * 4096 - 1, 4 * 4096 + 17);
        assertArrayEquals(new int[] {4096, 3 * 4096, 4 * 4096, 5 * 4096}, NonZeroRuns.find(1L << 30, b));
    }

    @Test
    void aChunkThatStartsMidBlockEndsItsFirstRunAtTheDisksBlockBoundary() {
        // The chunk starts 512 bytes before a disk block boundary: its first "block" is 512 bytes.
        ByteBuffer b = chunk(512 + 2 * 4096, 0, 512 + 4096 + 1);
        assertArrayEquals(new int[] {0, 512, 512 + 4096, 512 + 2 * 4096}, NonZeroRuns.find(4096 - 512, b));
    }

    @Test
    void allZerosHasNoRunsAndATailShorterThanABlockCounts() {
        assertArrayEquals(new int[0], NonZeroRuns.find(0, chunk(3 * 4096 + 100)));
        assertArrayEquals(new int[] {3 * 4096, 3 * 4096 + 100}, NonZeroRuns.find(0, chunk(3 * 4096 + 100, 3 * 4096 + 99)));
    }

    @Test
    void manyRunsGrowTheResult() {
        int blocks = 64;
        int[] at = new int[blocks / 2];
        int[] expected = new int[blocks];
        for (int i = 0; i < blocks / 2; i++) {
            at[i] = 2 * i * 4096;
            expected[2 * i] = 2 * i * 4096;
            expected[2 * i + 1] = (2 * i + 1) * 4096;
        }
        assertArrayEquals(expected, NonZeroRuns.find(0, chunk(blocks * 4096, at)));
    }
}
