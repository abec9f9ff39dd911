package io.p2vkit.hv.emu;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Decoded-code coherence between the vCPUs of one machine. Each vCPU's {@link Mmu} keeps its
 * own decode cache; this class records which physical pages hold decoded code on which vCPU, so
 * that (1) no vCPU keeps a fast-path write entry for a page another vCPU runs from, and (2) a
 * write to such a page tells the vCPUs that decoded it to forget it. Messages go to each vCPU's
 * {@link Inbox} and are acted on by that vCPU's own thread between slices: like a real CPU that
 * sees cross-modified code only after a serializing event (SDM Vol. 3 §9.1.3), a vCPU may finish
 * its current slice on the old bytes.
 */
final class SharedCode {

    static final int MAX_VCPUS = 32;

    /** Physical page number → bit mask of the vCPUs that hold decoded code for it. */
    private final ConcurrentHashMap<Long, Integer> holders = new ConcurrentHashMap<>();
    private final Inbox[] inboxes = new Inbox[MAX_VCPUS];

    /** Registers vCPU {@code index}'s inbox. */
    synchronized void join(int index, Inbox inbox) {
        if (index < 0 || index >= MAX_VCPUS || inboxes[index] != null) {
            throw new IllegalArgumentException("vCPU index " + index);
        }
        inboxes[index] = inbox;
    }

    boolean isCode(long ppn) {
        return holders.containsKey(ppn);
    }

    /** Whether vCPU {@code index} holds decoded code for {@code ppn}. */
    boolean isCodeOn(long ppn, int index) {
        Integer mask = holders.get(ppn);
        return mask != null && (mask & (1 << index)) != 0;
    }

    /** vCPU {@code index} decoded code on {@code ppn}: the others revoke their write entries for it. */
    void codeCreated(long ppn, int index) {
        int before = holders.getOrDefault(ppn, 0);
        holders.merge(ppn, 1 << index, (a, b) -> a | b);
        if (before == 0) {
            for (int i = 0; i < MAX_VCPUS; i++) {
                Inbox box = inboxes[i];
                if (box != null && i != index) {
                    box.post(Inbox.REVOKE_WRITES, ppn);
                }
            }
        }
    }

    /** vCPU {@code index} dropped its decoded code for {@code ppn}. */
    void codeDropped(long ppn, int index) {
        holders.computeIfPresent(ppn, (k, mask) -> (mask & ~(1 << index)) == 0 ? null : mask & ~(1 << index));
    }

    /** {@code ppn} was written (by vCPU {@code writer}, or by a device when -1): holders forget it. */
    void written(long ppn, int writer) {
        Integer mask = holders.get(ppn);
        if (mask == null) {
            return;
        }
        for (int i = 0; i < MAX_VCPUS; i++) {
            if ((mask & (1 << i)) != 0 && i != writer && inboxes[i] != null) {
                inboxes[i].post(Inbox.DROP_CODE, ppn);
            }
        }
    }

    /**
     * One vCPU's queue of page messages, filled by any thread and drained by its own. Bounded:
     * when it overflows the vCPU drops all decoded code and revokes every write entry instead.
     */
    static final class Inbox {
        static final int REVOKE_WRITES = 0;
        static final int DROP_CODE = 1;
        private static final int CAPACITY = 256;

        private final long[] messages = new long[CAPACITY];
        private int count;
        private boolean overflowed;
        /** Read without the lock on the run loop's path; set under it. */
        volatile boolean pending;

        synchronized void post(int kind, long ppn) {
            if (count == CAPACITY) {
                overflowed = true;
            } else {
                messages[count++] = ppn << 1 | kind;
            }
            pending = true;
        }

        /** Moves the messages into {@code into} and returns how many, or -1 after an overflow. */
        synchronized int drain(long[] into) {
            pending = false;
            int n = overflowed ? -1 : count;
            if (n > 0) {
                System.arraycopy(messages, 0, into, 0, n);
            }
            count = 0;
            overflowed = false;
            return n;
        }

        static long[] buffer() {
            return new long[CAPACITY];
        }
    }
}
