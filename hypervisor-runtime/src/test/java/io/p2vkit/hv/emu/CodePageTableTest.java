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
        behavesAsAMap(new CodePageTable(), 5000, 200_000);
    }

    @Test
    void aSmallTableWrapsItsProbeRunsAroundTheEndAndStillBehaves() {
        // A few keys in 32 slots: runs cross the table's end, where a removal's shift must wrap.
        behavesAsAMap(new CodePageTable(4), 14, 100_000);
    }

    @Test
    void removingFromARunThatWrapsAroundTheEndKeepsTheOthersFound() {
        // In 64 slots: two pages at home in each of slots 62, 63, 0 and 1 make one run across the
        // table's end. Inserted in several orders, each removed in turn: the others stay found,
        // whichever side of the end they and the hole lie on.
        java.util.List<Long> pages = new java.util.ArrayList<>();
        int[] wanted = {62, 62, 63, 63, 0, 0, 1, 1};
        boolean[] taken = new boolean[wanted.length];
        for (long ppn = 0; pages.size() < wanted.length; ppn++) {
            int home = CodePageTable.homeSlot(ppn, 64);
            for (int k = 0; k < wanted.length; k++) {
                if (!taken[k] && wanted[k] == home) {
                    taken[k] = true;
                    pages.add(ppn);
                    break;
                }
            }
        }
        Random rnd = new Random(3);
        for (int order = 0; order < 20; order++) {
            java.util.Collections.shuffle(pages, rnd);
            for (long gone : pages) {
                CodePageTable table = new CodePageTable(64);
                Map<Long, CodePage> expected = new HashMap<>();
                for (long ppn : pages) {
                    CodePage page = new CodePage(ppn);
                    table.put(ppn, page);
                    expected.put(ppn, page);
                }
                assertSame(expected.remove(gone), table.remove(gone));
                for (Map.Entry<Long, CodePage> e : expected.entrySet()) {
                    assertSame(e.getValue(), table.get(e.getKey()), "page " + e.getKey() + " after removing " + gone);
                }
                assertNull(table.get(gone));
            }
        }
    }

    private static void behavesAsAMap(CodePageTable table, int keys, int steps) {
        Map<Long, CodePage> expected = new HashMap<>();
        Random rnd = new Random(7);
        for (int step = 0; step < steps; step++) {
            // Page numbers from a small range collide and form long probe runs; page 0 is one too.
            long ppn = rnd.nextInt(4) == 0 ? rnd.nextInt(Math.min(64, keys)) : rnd.nextInt(keys);
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
        for (long ppn = 0; ppn < keys; ppn++) {
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
