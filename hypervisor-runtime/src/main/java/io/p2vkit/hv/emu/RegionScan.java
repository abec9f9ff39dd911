package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds the region to translate from a hot 64-bit address: the instructions reachable from it
 * through fall-through and relative jumps without leaving its 4 KiB page or meeting an
 * instruction the translator does not handle, up to {@link #MAX_INSNS}. Loops inside the page
 * stay inside the region. Then it works out, per instruction, whether the flags it computes must
 * be recorded in {@link Flags} (a later reader needs them there) or may stay pending in the
 * translated code ({@link PendingFlags}), by a backward liveness pass over the region.
 */
final class RegionScan {

    /**
     * The most instructions one region holds. 100 rather than 64 since regions keep few
     * registers in locals (below): fewer exits, and the larger methods no longer spill: boot
     * 7.97 -> 7.75 s, the guest benchmark equal; 128 and 200 no better (eleventh session).
     */
    static final int MAX_INSNS = 100;
    /**
     * How many guest registers a region keeps in JVM locals (the others it reads and writes in
     * {@link Cpu#r} where its code uses them). Each local costs a load at every entry and, once
     * written, a store at every exit, and with more of them than the host has registers to spare
     * the JIT kept most on its stack anyway, so the copies were pure cost: regions enter and
     * leave ~110 M times in a boot. Three rather than all: boot 8.00 -> 7.77 s, the guest
     * benchmark 2,595 -> 2,401 ms (bench/RESULTS.md, eleventh session); one to four measured alike.
     */
    static final int LOCAL_REGISTERS = 3;
    /**
     * How many instructions a region of user code may take from its tail page: the code a branch
     * leads to on another page (strcmp's ending, a function spread over two pages) runs inside
     * the region instead of as a region of its own after an exit, behind a check that the page
     * is still the same ({@link RegionEmitter}). Few, since that code is usually also a region of
     * its own. Not in kernel code: a kernel's initialisation runs most regions a few thousand
     * times, and there the extra bytecode for the JIT cost more than the exits saved (boot
     * +0.11 s); in user code region runs -14% and the guest benchmark ~1% faster
     * (bench/RESULTS.md, thirteenth session).
     */
    static final int MAX_TAIL_INSNS = Integer.getInteger("p2v.emu.tailInsns", 16);
    /** How many times an instruction inside a loop counts towards its registers' claim on a local. */
    private static final int LOOP_WEIGHT = 8;

    /**
     * A scanned region: instructions in address order and what the emitter needs about them.
     * {@code tail} is the code page of the one other page it may hold code of (the end of an
     * instruction across its page end, or code a branch leads to), {@code tailBase} that page's
     * linear address (-1 without).
     */
    record Region(long start, int startIndex, long[] address, DecodedInsn[] insns, int[] fall, int[] jump,
            boolean[] label, boolean[] recordFlags, int locals, int[] continuations, CodePage tail,
            long tailBase) {

        /** The addresses of its instructions on its own page (the start's), not on {@link #tail}'s. */
        long[] ownAddresses() {
            return Arrays.stream(address).filter(a -> (a ^ start) >>> 12 == 0).toArray();
        }

        /** Whether control passing from instruction {@code i} to {@code j} enters the tail page from the region's own. */
        boolean entersTail(int i, int j) {
            return (address[j] ^ start) >>> 12 != 0 && (address[i] ^ start) >>> 12 == 0;
        }

        int size() {
            return insns.length;
        }

        /** The address after instruction {@code i}. */
        long next(int i) {
            return address[i] + insns[i].length;
        }

        /** Whether instruction {@code i} ends on the next page (its tail is on {@link #tail}). */
        boolean crosses(int i) {
            return RegionScan.crosses(address[i], insns[i]);
        }

        /** The target of relative branch {@code i}. */
        long target(int i) {
            return next(i) + insns[i].imm;
        }
    }

    private RegionScan() {
    }

    /**
     * The region starting at linear {@code start}, or null when its first instruction does not
     * translate. Only code the interpreter has run on {@code page} (and on the tail page, for
     * user code) joins it: paths never taken stay exits, which keeps regions (and the JVM's work
     * compiling them) to the code in use.
     */
    static Region scan(Cpu c, long start, int maxInsns, CodePage page) {
        TreeMap<Long, DecodedInsn> found = new TreeMap<>();
        ArrayDeque<Long> work = new ArrayDeque<>();
        work.add(start);
        long base = start & ~0xFFFL;
        CodePage tail = null;
        long tailBase = -1; // the linear page the region found tail on
        int onTail = 0;
        int tailLimit = c.mmu.user ? MAX_TAIL_INSNS : 0;
        while (!work.isEmpty() && found.size() < maxInsns) {
            long at = work.poll();
            if (found.containsKey(at)) {
                continue;
            }
            if ((at & ~0xFFFL) != base) {
                // Code the region branches to on another page joins it while that page is the
                // one tail page it may have and the interpreter has run the code there.
                if (onTail >= tailLimit || tail != null && tailBase != (at & ~0xFFFL)) {
                    continue;
                }
                CodePage there = tailPage(c, at);
                if (there == null || tail != null && there != tail || !there.ran((int) at & 0xFFF)) {
                    continue;
                }
                DecodedInsn d = translatableAt(c, at);
                if (d == null || crosses(at, d)) {
                    continue;
                }
                tail = there;
                tailBase = at & ~0xFFFL;
                onTail++;
                found.put(at, d);
                follow(work, at, d);
                continue;
            }
            if (at != start && !page.executed((int) at & 0xFFF)) {
                continue;
            }
            DecodedInsn d = translatableAt(c, at);
            if (d != null && crosses(at, d)) {
                // One instruction across the page end may end the region, run while RIP's next
                // page is still the code page it is now (RegionEmitter checks before it).
                CodePage next = tail == null ? tailPage(c, at + d.length - 1) : null;
                if (next == null) {
                    d = null;
                } else {
                    tail = next;
                    tailBase = base + 0x1000;
                }
            }
            if (d == null) {
                if (RegionCompiler.TRACE) {
                    System.err.printf("region %x stops at %x: %s%n", start, at, describe(c, at));
                }
                continue; // the region exits to the interpreter there
            }
            found.put(at, d);
            follow(work, at, d);
        }
        if (!found.containsKey(start)) {
            return null;
        }
        return analyse(start, found, continuations(found, work, base, page), tail, tailBase);
    }

    /** Queues where control goes after {@code d} at {@code at}: its branch target, the next instruction. */
    private static void follow(ArrayDeque<Long> work, long at, DecodedInsn d) {
        long next = at + d.length;
        int op = d.opcode;
        if (RegionTraits.isJmp(op) || RegionTraits.isJcc(op)) {
            work.add(next + d.imm);
        }
        if (!RegionTraits.isJmp(op) && !RegionTraits.leaves(d)) {
            work.add(next);
        }
    }

    /** Whether {@code d}, at linear {@code at}, ends on the next page. */
    static boolean crosses(long at, DecodedInsn d) {
        return (at & 0xFFF) + d.length > 0x1000;
    }

    /** The code page {@code lin} is on (a region's tail page), or null (MMIO, a fault). */
    private static CodePage tailPage(Cpu c, long lin) {
        try {
            return c.codePage(lin);
        } catch (CpuFault f) {
            return null;
        }
    }

    /**
     * The page offsets of code the region left out only because it was full: instructions the
     * interpreter has run, reached from the region and still waiting in {@code work}.
     */
    private static int[] continuations(TreeMap<Long, DecodedInsn> found, ArrayDeque<Long> work, long base,
            CodePage page) {
        return work.stream().filter(at -> (at & ~0xFFFL) == base && !found.containsKey(at)
                && page.executed((int) (at & 0xFFF))).mapToInt(at -> (int) (at & 0xFFF)).distinct().toArray();
    }

    private static String describe(Cpu c, long at) {
        try {
            return c.decodeAt(at).toString();
        } catch (CpuFault f) {
            return "fetch fault";
        }
    }

    /** The instruction at {@code at} if a region may hold it, else null. */
    private static DecodedInsn translatableAt(Cpu c, long at) {
        DecodedInsn d;
        try {
            d = c.decodeAt(at);
        } catch (CpuFault f) {
            return null; // a fetch fault belongs to the interpreter, at the exact instruction
        }
        if (!RegionTraits.translatable(d)) {
            return null;
        }
        int op = d.opcode;
        if (crosses(at, d) && RegionTraits.leaves(d)) {
            return null; // across the page end an instruction that goes on, or a relative branch
        }
        if (RegionTraits.isJmp(op) || RegionTraits.isJcc(op) || op == 0xE8) {
            long target = at + d.length + d.imm;
            if (target << 16 >> 16 != target) {
                return null; // the branch itself raises #GP: the interpreter does that
            }
        }
        return d;
    }

    private static Region analyse(long start, TreeMap<Long, DecodedInsn> found, int[] continuations, CodePage tail,
            long tailBase) {
        int n = found.size();
        long[] address = new long[n];
        DecodedInsn[] insns = new DecodedInsn[n];
        Map<Long, Integer> index = new TreeMap<>();
        int k = 0;
        for (Map.Entry<Long, DecodedInsn> e : found.entrySet()) {
            address[k] = e.getKey();
            insns[k] = e.getValue();
            index.put(e.getKey(), k++);
        }
        int[] fall = new int[n];
        int[] jump = new int[n];
        boolean[] label = new boolean[n];
        int registers = 0;
        for (int i = 0; i < n; i++) {
            DecodedInsn d = insns[i];
            long next = address[i] + d.length;
            fall[i] = index.getOrDefault(next, -1);
            jump[i] = index.getOrDefault(next + d.imm, -1);
            if (RegionTraits.isJmp(d.opcode) || RegionTraits.isJcc(d.opcode)) {
                if (jump[i] >= 0) {
                    label[jump[i]] = true;
                }
            } else {
                jump[i] = -1;
            }
            if (RegionTraits.isJmp(d.opcode) || RegionTraits.leaves(d)) {
                fall[i] = -1;
            } else if (fall[i] >= 0 && fall[i] != i + 1) {
                label[fall[i]] = true; // reached by a goto, not by falling through
            }
            registers |= RegionTraits.registers(d);
        }
        int startIndex = index.get(start);
        label[startIndex] = true;
        int[] liveOut = liveness(insns, fall, jump);
        boolean[] record = new boolean[n];
        for (int i = 0; i < n; i++) {
            record[i] = mustRecord(i, insns, fall, jump, label, liveOut);
        }
        return new Region(start, startIndex, address, insns, fall, jump, label, record,
                locals(insns, jump, registers), continuations, tail, tailBase);
    }

    /**
     * The {@link #LOCAL_REGISTERS} of {@code registers} the region uses most, an instruction
     * between a backward branch and its target counting {@link #LOOP_WEIGHT} times.
     */
    static int locals(DecodedInsn[] insns, int[] jump, int registers) {
        int n = insns.length;
        int[] weight = new int[n];
        Arrays.fill(weight, 1);
        for (int i = 0; i < n; i++) {
            if (jump[i] >= 0 && jump[i] <= i) {
                Arrays.fill(weight, jump[i], i + 1, LOOP_WEIGHT);
            }
        }
        int[] uses = new int[16];
        for (int i = 0; i < n; i++) {
            int touched = RegionTraits.registers(insns[i]);
            for (int r = 0; r < 16; r++) {
                if ((touched & 1 << r) != 0) {
                    uses[r] += weight[i];
                }
            }
        }
        int locals = 0;
        for (int k = 0; k < LOCAL_REGISTERS && locals != registers; k++) {
            int best = -1;
            for (int r = 0; r < 16; r++) {
                if ((registers & ~locals & 1 << r) != 0 && (best < 0 || uses[r] > uses[best])) {
                    best = r;
                }
            }
            locals |= 1 << best;
        }
        return locals;
    }

    /**
     * Flags live after each instruction: read later through {@link Flags} or a condition. The
     * region's exits and faults are not readers: there the region applies its pending flags
     * ({@link PendingFlags}) itself.
     */
    private static int[] liveness(DecodedInsn[] insns, int[] fall, int[] jump) {
        int n = insns.length;
        int[] liveOut = new int[n];
        int[] liveIn = new int[n];
        boolean changed = true;
        while (changed) {
            changed = false;
            for (int i = n - 1; i >= 0; i--) {
                int out = successorsLive(insns[i], fall[i], jump[i], liveIn);
                int in = reads(insns[i]) | (out & ~RegionTraits.writes(insns[i]));
                if (out != liveOut[i] || in != liveIn[i]) {
                    liveOut[i] = out;
                    liveIn[i] = in;
                    changed = true;
                }
            }
        }
        return liveOut;
    }

    private static int successorsLive(DecodedInsn d, int fall, int jump, int[] liveIn) {
        int op = d.opcode;
        if (RegionTraits.leaves(d)) {
            return 0;
        }
        int live = 0;
        if ((RegionTraits.isJmp(op) || RegionTraits.isJcc(op)) && jump >= 0) {
            live |= liveIn[jump];
        }
        if (!RegionTraits.isJmp(op) && fall >= 0) {
            live |= liveIn[fall];
        }
        return live;
    }

    /**
     * The flags {@code d} needs from {@link Flags}: those it reads, and CF for INC and DEC, whose
     * pending flags keep the CF Flags holds.
     */
    private static int reads(DecodedInsn d) {
        int kind = RegionTraits.kind(d);
        return RegionTraits.reads(d) | (kind == Flags.INC || kind == Flags.DEC ? RegionTraits.CF : 0);
    }

    /**
     * Whether producer {@code p} must record its flags in {@link Flags} rather than leave them
     * pending: some flag it writes is read later where the translated code cannot test it from
     * the operands it keeps — a reader that is not a fast condition, or any reader past a join
     * point (where the emitter no longer knows which operation the locals describe).
     */
    private static boolean mustRecord(int p, DecodedInsn[] insns, int[] fall, int[] jump, boolean[] label,
            int[] liveOut) {
        int remaining = liveOut[p] & RegionTraits.mayWrite(insns[p]);
        if (remaining == 0) {
            return false;
        }
        int kind = RegionTraits.kind(insns[p]);
        boolean fast = true;
        int q = fall[p];
        while (q >= 0) {
            DecodedInsn d = insns[q];
            fast &= !label[q];
            int op = d.opcode;
            boolean carry = RegionTraits.withCarry(d); // ADC and SBB test CF as JB (condition 2) does
            int cc = carry ? 2 : op & 0xF;
            boolean condition = carry || RegionTraits.isJcc(op) || RegionTraits.isCmov(op) || RegionTraits.isSetcc(op);
            if ((reads(d) & remaining) != 0 && !(fast && condition && RegionTraits.fastCondition(kind, cc))) {
                return true;
            }
            remaining &= ~RegionTraits.writes(d);
            if (remaining == 0) {
                return false;
            }
            if (RegionTraits.isJmp(op) || RegionTraits.isJcc(op) || RegionTraits.leaves(d)) {
                return (liveOut[q] & remaining) != 0;
            }
            q = fall[q];
        }
        return false; // the region's exit applies the pending flags
    }
}
