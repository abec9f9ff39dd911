package io.p2vkit.hv.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/** The code page table against a HashMap, through growth and removals that shift probe runs back. */
class CodePageTableTest {

    @Test
    void behavesAsAMapThroughRandomPutsAndRemoves() {
        CodePageTable table = new CodePageTable();
        Map<Long, CodePage> expected = new HashMap<>();
        Random rnd = new Random(7);
        for (int step = 0; step < 200_000; step++) {
            // Page numbers from a small range collide and form long probe runs; page 0 is one too.
            long ppn = rnd.nextInt(4) == 0 ? rnd.nextInt(64) : rnd.nextInt(5000);
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    CodePage page = new CodePage(ppn);
                    table.put(ppn, page);
                    expected.put(ppn, page);
                }
                case 1 -> assertSame(expected.remove(ppn), table.remove(ppn), "remove " + ppn);
                default -> assertSame(expected.get(ppn), table.get(ppn), "get " + ppn);
            }
            assertEquals(expected.size(), table.size());
        }
        for (long ppn = 0; ppn < 5000; ppn++) {
            assertSame(expected.get(ppn), table.get(ppn));
            assertEquals(expected.containsKey(ppn), table.contains(ppn));
        }
        TreeSet<Long> listed = new TreeSet<>();
        table.forEachPageNumber(listed::add);
        assertEquals(new TreeSet<>(expected.keySet()), listed);
    }

    @Test
    void clearEmptiesIt() {
        CodePageTable table = new CodePageTable();
        for (long ppn = 0; ppn < 3000; ppn++) {
            table.put(ppn, new CodePage(ppn));
        }
        assertEquals(3000, table.size());
        table.clear();
        assertTrue(table.isEmpty());
        assertNull(table.get(5));
        assertFalse(table.contains(0));
        assertNull(table.remove(1));
    }
}
