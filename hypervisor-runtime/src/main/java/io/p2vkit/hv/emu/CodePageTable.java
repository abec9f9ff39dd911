package io.p2vkit.hv.emu;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * An MMU's code pages by physical page number: open addressing over primitive keys with linear
 * probing. Every TLB fill asks whether its page holds code, and a {@code HashMap<Long, ...>}
 * boxed each page number it was asked about (~1% of a kernel's initialisation).
 */
final class CodePageTable {

    private static final int INITIAL_CAPACITY = 1024;

    /** Page number + 1 per slot (0: empty), so that page 0 is a key like any other. */
    private long[] keys;
    private CodePage[] pages;
    private int size;

    CodePageTable() {
        this(INITIAL_CAPACITY);
    }

    /** A table of {@code capacity} slots to begin with, a power of two (tests use small ones). */
    CodePageTable(int capacity) {
        keys = new long[capacity];
        pages = new CodePage[capacity];
    }

    CodePage get(long ppn) {
        long key = ppn + 1;
        for (int i = slot(key); ; i = next(i)) {
            if (keys[i] == key) {
                return pages[i];
            }
            if (keys[i] == 0) {
                return null;
            }
        }
    }

    boolean contains(long ppn) {
        return get(ppn) != null;
    }

    void put(long ppn, CodePage page) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        long key = ppn + 1;
        int i = slot(key);
        while (keys[i] != 0 && keys[i] != key) {
            i = next(i);
        }
        if (keys[i] == 0) {
            size++;
        }
        keys[i] = key;
        pages[i] = page;
    }

    /** Removes {@code ppn}'s page; returns it, or null if there was none. */
    CodePage remove(long ppn) {
        long key = ppn + 1;
        int i = slot(key);
        while (keys[i] != key) {
            if (keys[i] == 0) {
                return null;
            }
            i = next(i);
        }
        CodePage removed = pages[i];
        size--;
        // Shift later entries of the probe run back, so that no lookup stops at the hole.
        for (int hole = i, j = next(i); ; j = next(j)) {
            if (keys[j] == 0) {
                keys[hole] = 0;
                pages[hole] = null;
                return removed;
            }
            int home = slot(keys[j]);
            if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
                keys[hole] = keys[j];
                pages[hole] = pages[j];
                hole = j;
            }
        }
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    void clear() {
        Arrays.fill(keys, 0);
        Arrays.fill(pages, null);
        size = 0;
    }

    void forEachPageNumber(LongConsumer action) {
        for (long key : keys) {
            if (key != 0) {
                action.accept(key - 1);
            }
        }
    }

    private int slot(long key) {
        return homeSlot(key - 1, keys.length);
    }

    /** Where page {@code ppn}'s probe run starts in a table of {@code capacity} slots. */
    static int homeSlot(long ppn, int capacity) {
        return (int) (((ppn + 1) * 0x9E37_79B9_7F4A_7C15L) >>> 40) & (capacity - 1);
    }

    private int next(int i) {
        return (i + 1) & (keys.length - 1);
    }

    private void grow() {
        long[] oldKeys = keys;
        CodePage[] oldPages = pages;
        keys = new long[2 * oldKeys.length];
        pages = new CodePage[2 * oldKeys.length];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != 0) {
                put(oldKeys[i] - 1, oldPages[i]);
            }
        }
    }
}
