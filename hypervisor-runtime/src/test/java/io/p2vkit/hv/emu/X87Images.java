package io.p2vkit.hv.emu;

import java.math.BigInteger;
import java.util.Map;

/**
 * Compares two FNSAVE images (108 bytes, 32-bit layout) held as changed scratch bytes: the
 * environment exactly except C1, each data register exactly or, when both are finite normal
 * numbers of the same sign, within 2^-50 of each other relative to the larger (denormals:
 * that or one unit in the last place).
 */
final class X87Images {

    static final int SIZE = 108;

    private X87Images() {
    }

    private static byte[] image(Map<Integer, Integer> changed, byte[] pattern, int at) {
        byte[] b = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            b[i] = (byte) (int) changed.getOrDefault(at + i, pattern[at + i] & 0xFF);
        }
        return b;
    }

    /**
     * Null when the images at scratch offset {@code at} agree closely (and then drops their bytes
     * from both maps so that the exact comparison skips them), else what differs.
     */
    static String compareClosely(Map<Integer, Integer> nativeMem, Map<Integer, Integer> emuMem, byte[] pattern, int at) {
        byte[] n = image(nativeMem, pattern, at);
        byte[] e = image(emuMem, pattern, at);
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < 28; i++) {
            int mask = i == 5 ? ~0x02 : ~0; // status high byte: C1 is not compared
            if (((n[i] ^ e[i]) & mask) != 0) {
                why.append(String.format(" env[%d] %02x/%02x", i, n[i] & 0xFF, e[i] & 0xFF));
            }
        }
        for (int r = 0; r < 8; r++) {
            int o = 28 + 10 * r;
            int seN = (n[o + 8] & 0xFF) | (n[o + 9] & 0xFF) << 8;
            int seE = (e[o + 8] & 0xFF) | (e[o + 9] & 0xFF) << 8;
            long sigN = 0;
            long sigE = 0;
            for (int b = 7; b >= 0; b--) {
                sigN = sigN << 8 | (n[o + b] & 0xFF);
                sigE = sigE << 8 | (e[o + b] & 0xFF);
            }
            if (!close(seN, sigN, seE, sigE)) {
                why.append(String.format(" ST%d %04x:%016x/%04x:%016x", r, seN, sigN, seE, sigE));
            }
        }
        for (int i = 0; i < SIZE; i++) {
            nativeMem.remove(at + i);
            emuMem.remove(at + i);
        }
        return why.isEmpty() ? null : "FNSAVE image (native/emu)" + why;
    }

    static boolean close(int seA, long sigA, int seB, long sigB) {
        if (seA == seB && sigA == sigB) {
            return true;
        }
        if (seA == seB && (seA & 0x7FFF) == 0 && sigA >= 0 && sigB >= 0) {
            // denormals: within one unit (the hosts' FPTAN of denormals) or 2^-50 relative
            long d = Math.abs(sigA - sigB);
            return d <= 1 || d <= Math.max(sigA, sigB) >>> 50;
        }
        if (Float80.kind(seA, sigA) != Float80.NORMAL || Float80.kind(seB, sigB) != Float80.NORMAL
                || (seA & 0x8000) != (seB & 0x8000)) {
            return false;
        }
        int ea = seA & 0x7FFF;
        int eb = seB & 0x7FFF;
        if (Math.abs(ea - eb) > 1) {
            return false;
        }
        int low = Math.min(ea, eb);
        BigInteger a = new BigInteger(Long.toUnsignedString(sigA)).shiftLeft(ea - low);
        BigInteger b = new BigInteger(Long.toUnsignedString(sigB)).shiftLeft(eb - low);
        return a.subtract(b).abs().shiftLeft(50).compareTo(a.max(b)) <= 0;
    }

    /**
     * AMD processors save and restore FIP, FCS, FOP, FDP and FDS only while an exception is
     * pending, so when the kernel preempts the native run between two x87 instructions (about
     * one run in 30,000 here, more on a loaded machine) an image the host stores afterwards holds
     * zeros there, or only in FDP and FDS when a later x87 instruction set FIP again. A pointer
     * of an image the program stores ({@code pointers}: {offset, length} from {@code base}) that
     * the host left all zeros is then not compared; everything else still is. Intel processors
     * leave FOP zero without a pending exception, and may leave the selectors zero.
     */
    static void forgetPreemptedPointers(Map<Integer, Integer> nativeMem, Map<Integer, Integer> emuMem,
            byte[] pattern, int base, java.util.List<int[]> pointers) {
        for (int[] area : pointers) {
            int from = base + area[0];
            boolean zeros = true;
            for (int off = from; off < from + area[1]; off++) {
                zeros &= nativeMem.getOrDefault(off, pattern[off] & 0xFF) == 0;
            }
            if (zeros) {
                for (int off = from; off < from + area[1]; off++) {
                    nativeMem.remove(off);
                    emuMem.remove(off);
                }
            }
        }
    }
}
