package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The pages a region's loops reach through registers the loop never writes: a structure's
 * fields through its pointer, a constant address. Such an operand stays on one page for the
 * whole loop, so the region looks that page up in the TLB once, before the loop (its
 * preheader), and each access in the loop adds the page's host addend instead of making a TLB
 * lookup of its own: two dependent loads fewer on the access's path, as in XZ's dictionary copy,
 * whose position and limit are read and written through the dictionary's pointer every byte.
 * <p>
 * A loop here is what a backward edge closes: the instructions on a path from its target (the
 * head) to its source that passes through neither again. Control enters the body at its
 * entries: where an edge from outside lands (the head, or the test of a loop compiled as "jump
 * to the test at the bottom") and where the region starts, if inside. Each entry has a
 * preheader, through which every edge entering the loop there passes (an edge from inside the
 * body goes round past it): so the lookups are made before any of the body's accesses, and
 * again whenever control comes back into the body. Accesses through an operand group (the same
 * base, index and scale) whose base no instruction of the body writes
 * ({@link RegionTraits#registersWritten}), and whose index it does not write either or has just
 * bounded (a MOVZX from a byte before a table access: {@link RegionTraits#bound}), share one
 * lookup covering their displacements, the index's range and 16 bytes beyond (the widest
 * operand); should that span not lie in one page the TLB maps for the access (and for writing,
 * if any of them writes), the accesses take their usual path. Caching the translation for the
 * loop is what a TLB does: nothing inside a region changes a translation without leaving it,
 * and a store into code still leaves at once.
 */
final class LoopPages {

    /** How many lookups one region may hoist: each holds a host register through its loop. */
    static final int MAX_GROUPS = 4;
    /** The widest operand an access makes from its address (a 16-byte SSE load). */
    private static final int WIDEST = 16;
    /** Hoisting on by default; -Dp2v.emu.loopPages=false for measuring. */
    static final boolean ENABLED = !"false".equals(System.getProperty("p2v.emu.loopPages"));

    /**
     * One hoisted lookup: made on entering its loop, for the operand
     * {@code base + (index << scale) + displacement} with displacements from {@code low} to
     * {@code low + span - WIDEST + 1}; {@code base} is {@link DecodedInsn#BASE_RIP} for absolute
     * addresses, which {@code low} then is. {@code indexBound}: -1 when the index is the same
     * throughout the loop; else the index varies from 0 to that bound (a table indexed by a
     * byte), the span covers it and the lookup leaves the index out. {@code write}: some access
     * writes.
     */
    record Group(int base, int index, int scale, long indexBound, long low, long span, boolean write) {
    }

    /** A loop with groups: its body by instruction, its entries and its groups' numbers. */
    private record Loop(boolean[] body, boolean[] entry, int firstGroup, int endGroup) {
    }

    private static final LoopPages NONE = new LoopPages(new Group[0], null, List.of());

    private final Group[] groups;
    /** Per instruction, the group its memory operand uses, or -1. */
    private final int[] groupOf;
    private final List<Loop> loops;

    private LoopPages(Group[] groups, int[] groupOf, List<Loop> loops) {
        this.groups = groups;
        this.groupOf = groupOf;
        this.loops = loops;
    }

    /** The groups of the region, by number. */
    Group[] groups() {
        return groups;
    }

    /** The group instruction {@code i}'s memory operand goes through, or -1. */
    int groupOf(int i) {
        return groupOf == null ? -1 : groupOf[i];
    }

    /** Whether control may enter a loop with lookups at instruction {@code i}: it then needs a preheader. */
    boolean hasPreheader(int i) {
        for (Loop l : loops) {
            if (l.entry()[i]) {
                return true;
            }
        }
        return false;
    }

    /** The groups whose lookups instruction {@code i}'s preheader makes: those of the loops entered there. */
    int[] preheaderGroups(int i) {
        return loops.stream().filter(l -> l.entry()[i])
                .flatMapToInt(l -> IntStream.range(l.firstGroup(), l.endGroup())).toArray();
    }

    /**
     * Whether the edge from {@code from} to {@code to} enters a loop there (so it passes through
     * the preheader) rather than going round inside every loop {@code to} is an entry of.
     */
    boolean entersLoop(int from, int to) {
        for (Loop l : loops) {
            if (l.entry()[to] && !l.body()[from]) {
                return true;
            }
        }
        return false;
    }

    /** The plan for {@code region}. */
    static LoopPages plan(RegionScan.Region region) {
        if (!ENABLED) {
            return NONE;
        }
        int n = region.size();
        int[] fall = region.fall();
        int[] jump = region.jump();
        List<List<Integer>> preds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            preds.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            if (fall[i] >= 0) {
                preds.get(fall[i]).add(i);
            }
            if (jump[i] >= 0) {
                preds.get(jump[i]).add(i);
            }
        }
        int[] groupOf = new int[n];
        Arrays.fill(groupOf, -1);
        List<Loop> loops = new ArrayList<>();
        List<Group> groups = new ArrayList<>();
        for (int source = 0; source < n && groups.size() < MAX_GROUPS; source++) {
            for (int head : new int[] {fall[source], jump[source]}) {
                if (head < 0 || region.address()[source] < region.address()[head] || groups.size() == MAX_GROUPS) {
                    continue; // not a backward edge
                }
                boolean[] body = body(head, source, fall, jump, preds);
                int before = groups.size();
                group(region, body, preds, groupOf, groups);
                if (groups.size() > before) {
                    loops.add(new Loop(body, entries(region, body, preds), before, groups.size()));
                }
            }
        }
        return groups.isEmpty() ? NONE : new LoopPages(groups.toArray(Group[]::new), groupOf, loops);
    }

    /**
     * The loop that the backward edge from {@code source} to {@code head} closes: the
     * instructions on a path from the head to the source that passes through neither again.
     * (Not every cycle through the head: an outer loop may pass through it too.)
     */
    private static boolean[] body(int head, int source, int[] fall, int[] jump, List<List<Integer>> preds) {
        int n = fall.length;
        boolean[] fromHead = new boolean[n];
        ArrayList<Integer> work = new ArrayList<>(List.of(head));
        fromHead[head] = true;
        while (!work.isEmpty()) {
            int i = work.removeLast();
            if (i == source) {
                continue;
            }
            for (int s : new int[] {fall[i], jump[i]}) {
                if (s >= 0 && s != head && !fromHead[s]) {
                    fromHead[s] = true;
                    work.add(s);
                }
            }
        }
        boolean[] body = new boolean[n];
        work.add(source);
        body[source] = true;
        while (!work.isEmpty()) {
            int i = work.removeLast();
            if (i == head) {
                continue;
            }
            for (int p : preds.get(i)) {
                if (fromHead[p] && p != source && !body[p]) {
                    body[p] = true;
                    work.add(p);
                }
            }
        }
        body[head] = true;
        return body;
    }

    /** Where control enters the body: instructions with an edge from outside it, and the region's start if inside. */
    private static boolean[] entries(RegionScan.Region region, boolean[] body, List<List<Integer>> preds) {
        boolean[] entry = new boolean[body.length];
        entry[region.startIndex()] = body[region.startIndex()];
        for (int i = 0; i < body.length; i++) {
            if (body[i]) {
                for (int p : preds.get(i)) {
                    entry[i] |= !body[p];
                }
            }
        }
        return entry;
    }

    /**
     * Adds the loop's groups: its memory operands through registers the body leaves alone, or
     * through such a base and an index the code just before bounds to less than a page's span.
     */
    private static void group(RegionScan.Region region, boolean[] body, List<List<Integer>> preds, int[] groupOf,
            List<Group> groups) {
        DecodedInsn[] insns = region.insns();
        int written = 0;
        for (int i = 0; i < insns.length; i++) {
            if (body[i]) {
                written |= RegionTraits.registersWritten(insns[i]);
            }
        }
        int first = groups.size();
        for (int i = 0; i < insns.length; i++) {
            DecodedInsn d = insns[i];
            if (!body[i] || groupOf[i] >= 0 || !addressable(d)
                    || d.base >= 0 && d.base < 16 && (written & 1 << d.base) != 0) {
                continue; // no operand to serve, or a base the loop moves
            }
            long bound = -1;
            if (d.index >= 0 && (written & 1 << d.index) != 0) {
                bound = boundAt(region, i, d.index, preds);
                if (bound < 0 || bound << d.scale >= 0x1000) {
                    continue; // an index that moves over more than a page
                }
            }
            boolean absolute = d.base == DecodedInsn.BASE_RIP;
            long offset = absolute ? region.next(i) + d.disp : d.disp;
            long last = offset + (Math.max(bound, 0) << d.scale) + WIDEST - 1;
            boolean write = RegionTraits.stores(d);
            int g = find(groups, first, d, absolute, offset, bound >= 0);
            if (g < 0) {
                if (groups.size() == MAX_GROUPS) {
                    continue;
                }
                groups.add(new Group(d.base, d.index, d.scale, bound, offset, last - offset, write));
                g = groups.size() - 1;
            } else {
                Group o = groups.get(g);
                long low = Math.min(o.low(), offset);
                long high = Math.max(o.low() + o.span(), last);
                groups.set(g, new Group(o.base(), o.index(), o.scale(), Math.max(o.indexBound(), bound), low,
                        high - low, o.write() || write));
            }
            groupOf[i] = g;
        }
    }

    /**
     * The most register {@code x} can hold at instruction {@code i}, when the straight line of
     * code leading there (each instruction the only way into the next) last writes it with a
     * small known bound ({@link RegionTraits#bound}); else -1.
     */
    private static long boundAt(RegionScan.Region region, int i, int x, List<List<Integer>> preds) {
        int k = i;
        for (int steps = 0; steps < region.size() && k != region.startIndex() && preds.get(k).size() == 1; steps++) {
            int p = preds.get(k).get(0);
            DecodedInsn d = region.insns()[p];
            if ((RegionTraits.registersWritten(d) & 1 << x) != 0) {
                return RegionTraits.bound(d, x);
            }
            k = p;
        }
        return -1;
    }

    /**
     * The group of this loop (from {@code first}) that {@code d}'s operand joins: the same
     * registers, or for absolute addresses the same page. -1 for a new one.
     */
    private static int find(List<Group> groups, int first, DecodedInsn d, boolean absolute, long offset,
            boolean bounded) {
        for (int g = first; g < groups.size(); g++) {
            Group o = groups.get(g);
            if (absolute ? o.base() == DecodedInsn.BASE_RIP && o.low() >>> 12 == offset >>> 12
                    : o.base() == d.base && o.index() == d.index && (d.index < 0 || o.scale() == d.scale)
                    && o.indexBound() >= 0 == bounded && Math.abs(offset - o.low()) < 0x1000) {
                return g;
            }
        }
        return -1;
    }

    /** Whether {@code d} has a memory operand a hoisted lookup may serve: 64-bit addressing, no FS or GS base. */
    private static boolean addressable(DecodedInsn d) {
        return d.isMemory() && d.addr64() && d.seg != Cpu.FS && d.seg != Cpu.GS;
    }
}
