package io.p2vkit.hv.memory;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class GuestMemoryTest {

    @Test
    void findAnswersEachRangeWhicheverRegionItFoundLast() {
        try (GuestMemory memory = new GuestMemory()) {
            GuestMemory.Region low = memory.add("low", 0, 0x10000, false);
            GuestMemory.Region high = memory.add("high", 0x20000, 0x10000, true);
            for (int round = 0; round < 3; round++) {
                assertSame(low, memory.find(0xFFF8, 8));
                assertNull(memory.find(0xFFFC, 8), "runs past the region just found");
                assertSame(high, memory.find(0x20000, 1));
                assertNull(memory.find(0x1FFFF, 2), "starts in the hole below the region just found");
                assertNull(memory.find(0x18000, 1), "a hole");
                assertSame(high, memory.find(0x2FFFF, 1));
                assertSame(low, memory.find(0, 0x10000));
            }
        }
    }
}
