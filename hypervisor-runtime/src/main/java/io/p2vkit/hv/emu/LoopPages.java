package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pages a region's loops reach through registers the loop never writes: a structure's
 * fields through its pointer, a constant address. Such an operand stays on one page for the
 * whole loop, so the region looks that page up in the TLB once, before the loop (its
 * preheader), and each access in the loop adds the page's host addend instead of making a TLB
 * lookup of its own: two dependent loads fewer on the access's path, as in XZ's dictionary copy,
 * whose position and limit are read and written through the dictionary's pointer every byte.
 * <p>
 * A loop here is a head (the target of a backward edge) with its body, the head's natural loop
 * (what reaches a backward edge into the head without passing through it). It qualifies only when every edge into the body other than into
 * the head comes from the body and the region does not start inside it: then the preheader runs
 * before any of the body's accesses, and again at each entry. Accesses through an operand group
 * (the same base, index and scale) whose registers no instruction of the body writes
 * ({@link RegionTraits#registersWritten}) share one lookup covering their displacements and 16 bytes
 * beyond (the widest operand); should that span not lie in one page the TLB maps for the access
 * (and for writing, if any of them writes), the accesses take their usual path. Caching the
 * translation for the loop is what a TLB does: nothing inside a region changes a translation
 * without leaving it, and a store into code still leaves at once.
 */
final class LoopPages {

    /** How many lookups one region may hoist: each holds a host register through its loop. */
    static final int MAX_GROUPS = 4;
    /** The widest operand an access makes from its address (a 16-byte SSE load). */
    private static final int WIDEST = 16;
    /** Hoisting on by default; -Dp2v.emu.loopPages=false for measuring. */
    static final boolean ENABLED = !"false".equals(System.getProperty("p2v.emu.loopPages"));

    /**
     * One hoisted lookup: made before loop {@code head}, for the operand
     * {@code base + (index << scale) + displacement} with displacements from {@code low} to
     * {@code low + span - WIDEST + 1}; {@code base} is {@link DecodedInsn#BASE_RIP} for absolute
     * addresses, which {@code low} then is. {@code write}: some access writes.
     */
    record Group(int head, int base, int index, int scale, long low, long span, boolean write) {
    }

    private static final LoopPages NONE = new LoopPages(new Group[0], null, new boolean[0][]);

    private final Group[] groups;
    /** Per instruction, the group its memory operand uses, or -1. */
    private final int[] groupOf;
    /** Per instruction that heads a loop with groups, its body (by instruction); else null. */
    private final boolean[][] bodyOf;

    private LoopPages(Group[] groups, int[] groupOf, boolean[][] bodyOf) {
        this.groups = groups;
        this.groupOf = groupOf;
        this.bodyOf = bodyOf;
    }

    /** The groups of the region, by number. */
    Group[] groups() {
        return groups;
    }

    /** The group instruction {@code i}'s memory operand goes through, or -1. */
    int groupOf(int i) {
        return groupOf == null ? -1 : groupOf[i];
    }

    /** Whether instruction {@code i} heads a loop with lookups to make before it. */
    boolean hasPreheader(int i) {
        return i < bodyOf.length && bodyOf[i] != null;
    }

    /**
     * Whether the edge from {@code from} into loop head {@code head} is the loop's own (it goes
     * round again, past the preheader) rather than an entry (through it).
     */
    boolean loopsBack(int from, int head) {
        return bodyOf[head][from];
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
        boolean[][] bodyOf = new boolean[n][];
        List<Group> groups = new ArrayList<>();
        for (int head = 0; head < n && groups.size() < MAX_GROUPS; head++) {
            if (!isHead(region, preds.get(head), head)) {
                continue;
            }
            boolean[] body = body(region, head, preds);
            if (!entersThroughHead(region, body, head, preds)) {
                continue;
            }
            int before = groups.size();
            group(region, head, body, groupOf, groups);
            if (groups.size() > before) {
                bodyOf[head] = body;
            }
        }
        return groups.isEmpty() ? NONE : new LoopPages(groups.toArray(Group[]::new), groupOf, bodyOf);
    }

    /** Whether some edge into {@code head} goes backwards (or to itself): a loop closes there. */
    private static boolean isHead(RegionScan.Region region, List<Integer> preds, int head) {
        for (int p : preds) {
            if (region.address()[p] >= region.address()[head]) {
                return true;
            }
        }
        return false;
    }

    /**
     * The natural loop of {@code head}: the head and every instruction that reaches one of its
     * backward edges' sources without passing through the head. (Not every cycle through the
     * head: an outer loop that passes through it is not its body.)
     */
    private static boolean[] body(RegionScan.Region region, int head, List<List<Integer>> preds) {
        boolean[] body = new boolean[region.size()];
        body[head] = true;
        ArrayList<Integer> work = new ArrayList<>();
        for (int p : preds.get(head)) {
            if (region.address()[p] >= region.address()[head] && !body[p]) {
                body[p] = true;
                work.add(p);
            }
        }
        while (!work.isEmpty()) {
            for (int p : preds.get(work.removeLast())) {
                if (!body[p]) {
                    body[p] = true;
                    work.add(p);
                }
            }
        }
        return body;
    }

    /** Whether control enters the body only at its head, and the region does not start inside it. */
    private static boolean entersThroughHead(RegionScan.Region region, boolean[] body, int head,
            List<List<Integer>> preds) {
        if (region.startIndex() != head && body[region.startIndex()]) {
            return false;
        }
        for (int i = 0; i < body.length; i++) {
            if (body[i] && i != head) {
                for (int p : preds.get(i)) {
                    if (!body[p]) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Adds the loop's groups: its memory operands through registers the body leaves alone. */
    private static void group(RegionScan.Region region, int head, boolean[] body, int[] groupOf, List<Group> groups) {
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
            if (!body[i] || groupOf[i] >= 0 || !eligible(d, written)) {
                continue;
            }
            boolean absolute = d.base == DecodedInsn.BASE_RIP;
            long offset = absolute ? region.next(i) + d.disp : d.disp;
            boolean write = RegionTraits.stores(d);
            int g = find(groups, first, d, absolute, offset);
            if (g < 0) {
                if (groups.size() == MAX_GROUPS) {
                    continue;
                }
                groups.add(new Group(head, d.base, d.index, d.scale, offset, WIDEST - 1, write));
                g = groups.size() - 1;
            } else {
                Group o = groups.get(g);
                long low = Math.min(o.low(), offset);
                long high = Math.max(o.low() + o.span(), offset + WIDEST - 1);
                groups.set(g, new Group(head, o.base(), o.index(), o.scale(), low, high - low, o.write() || write));
            }
            groupOf[i] = g;
        }
    }

    /**
     * The group of this loop (from {@code first}) that {@code d}'s operand joins: the same
     * registers, or for absolute addresses the same page. -1 for a new one.
     */
    private static int find(List<Group> groups, int first, DecodedInsn d, boolean absolute, long offset) {
        for (int g = first; g < groups.size(); g++) {
            Group o = groups.get(g);
            if (absolute ? o.base() == DecodedInsn.BASE_RIP && o.low() >>> 12 == offset >>> 12
                    : o.base() == d.base && o.index() == d.index && (d.index < 0 || o.scale() == d.scale)
                    && Math.abs(offset - o.low()) < 0x1000) {
                return g;
            }
        }
        return -1;
    }

    /**
     * Whether {@code d} has a memory operand a hoisted lookup may serve: 64-bit addressing, no
     * FS or GS base, and registers the loop does not write.
     */
    private static boolean eligible(DecodedInsn d, int written) {
        if (!d.isMemory() || !d.addr64() || d.seg == Cpu.FS || d.seg == Cpu.GS) {
            return false;
        }
        if (d.base == DecodedInsn.BASE_RIP) {
            return true;
        }
        return (d.base < 0 || (written & 1 << d.base) == 0) && (d.index < 0 || (written & 1 << d.index) == 0);
    }
}
