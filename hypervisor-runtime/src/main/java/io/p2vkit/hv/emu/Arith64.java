package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * 64-bit mode shifts and rotates (group 2) and multiplies and divides (group 3 /4-/7, IMUL with
 * two and three operands). Counts are masked to 6 bits for 64-bit operands, 5 otherwise; a
 * masked count of zero changes nothing. 8/16/32-bit MUL/DIV go through {@link MulDiv} (its
 * 32-bit register writes zero-extend); 64-bit ones use 128-bit arithmetic without allocating.
 * Flags follow SDM Vol. 2 (SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, MUL, IMUL, DIV, IDIV); the
 * undefined ones are set as the 32-bit code sets them.
 */
final class Arith64 {

    private Arith64() {
    }

    /** C0/C1 (Ib), D0/D1 (1), D2/D3 (CL): group 2. */
    static void group2(Cpu c, DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int count = switch (d.opcode) {
            case 0xC0, 0xC1 -> d.imm;
            case 0xD0, 0xD1 -> 1;
            default -> (int) c.r[Cpu.ECX];
        } & (size == 8 ? 0x3F : 0x1F);
        if (d.mod == 3) {
            long v = Exec64.reg(c, d, d.rm, size);
            // A count of zero changes no flag, but a 32-bit register is still written (zero-extended).
            Exec64.setReg(c, d, d.rm, size, count == 0 ? v : shift(c, d.reg & 7, size, v, count));
        } else {
            long lin = Exec64.rmLinear(c, d);
            if (count == 0) {
                Exec64.read(c, lin, size); // still accessed, may fault
                return;
            }
            long v = Exec64.readRmw(c, lin, size);
            Exec64.write(c, lin, size, shift(c, d.reg & 7, size, v, count));
        }
    }

    /** Shifts or rotates {@code v} (zero-extended) by a non-zero masked count; returns the result. */
    static long shift(Cpu c, int kind, int size, long v, int count) {
        int bits = size * 8;
        long mask = Flags.mask64(size);
        long sign = Flags.sign64(size);
        Flags f = c.flags;
        switch (kind) {
            case 0 -> { // ROL: only CF and OF change
                int n = count & (bits - 1);
                long res = n == 0 ? v : ((v << n) | (v >>> (bits - n))) & mask;
                f.materialize();
                boolean cf = (res & 1) != 0;
                f.setBit(Flags.CF, cf);
                f.setBit(Flags.OF, ((res & sign) != 0) ^ cf);
                return res;
            }
            case 1 -> { // ROR
                int n = count & (bits - 1);
                long res = n == 0 ? v : ((v >>> n) | (v << (bits - n))) & mask;
                f.materialize();
                boolean msb = (res & sign) != 0;
                f.setBit(Flags.CF, msb);
                f.setBit(Flags.OF, msb ^ ((res & (sign >>> 1)) != 0));
                return res;
            }
            case 2, 3 -> { // RCL, RCR: a (bits+1)-bit rotation through CF, one bit at a time
                int n = bits >= 32 ? count : count % (bits + 1);
                if (n == 0) {
                    return v;
                }
                boolean cf = f.cf();
                boolean rcrOf = ((v & sign) != 0) ^ cf;
                long res = v;
                for (int i = 0; i < n; i++) {
                    boolean out;
                    if (kind == 2) {
                        out = (res & sign) != 0;
                        res = ((res << 1) | (cf ? 1 : 0)) & mask;
                    } else {
                        out = (res & 1) != 0;
                        res = (res >>> 1) | (cf ? sign : 0);
                    }
                    cf = out;
                }
                f.materialize();
                f.setBit(Flags.CF, cf);
                f.setBit(Flags.OF, kind == 2 ? ((res & sign) != 0) ^ cf : rcrOf);
                return res;
            }
            case 4, 6 -> { // SHL/SAL
                long res = (v << count) & mask;
                boolean cf = count <= bits && ((v >>> (bits - count)) & 1) != 0;
                int fl = Flags.szp(size, res) | (cf ? Flags.CF : 0);
                if (((res & sign) != 0) ^ cf) {
                    fl |= Flags.OF;
                }
                f.setArith(fl);
                return res;
            }
            case 5 -> { // SHR
                long res = count >= bits ? 0 : v >>> count;
                boolean cf = count <= bits && ((v >>> (count - 1)) & 1) != 0;
                int fl = Flags.szp(size, res) | (cf ? Flags.CF : 0);
                if ((v & sign) != 0) {
                    fl |= Flags.OF;
                }
                f.setArith(fl);
                return res;
            }
            default -> { // SAR
                long sv = switch (size) {
                    case 1 -> (byte) v;
                    case 2 -> (short) v;
                    case 4 -> (int) v;
                    default -> v;
                };
                int n = Math.min(count, bits);
                long res = (sv >> n) & mask;
                boolean cf = ((sv >> (n - 1)) & 1) != 0;
                f.setArith(Flags.szp(size, res) | (cf ? Flags.CF : 0));
                return res;
            }
        }
    }

    /**
     * 0F A4/A5 SHLD, 0F AC/AD SHRD Ev, Gv, Ib/CL: shifts the destination, filling from the
     * source. The count is masked to 5 bits (6 with REX.W); a zero count changes nothing. For a
     * 16-bit count above 16 the result is undefined: this computes one of the possibilities.
     */
    static void doubleShift(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int bits = size * 8;
        int count = (int) ((d.opcode & 1) == 0 ? d.imm : c.r[Cpu.ECX]) & (size == 8 ? 0x3F : 0x1F);
        boolean left = d.opcode < 0x1A8;
        long lin = 0;
        long dest;
        if (d.mod == 3) {
            dest = Exec64.reg(c, d, d.rm, size);
        } else {
            lin = Exec64.rmLinear(c, d);
            dest = Exec64.readRmw(c, lin, size);
        }
        if (count == 0) {
            if (d.mod == 3) {
                Exec64.setReg(c, d, d.rm, size, dest); // a 32-bit register is still zero-extended
            }
            return;
        }
        long mask = Flags.mask64(size);
        long src = Exec64.reg(c, d, d.reg, size);
        long res;
        boolean cf;
        if (count < bits) {
            if (left) {
                res = ((dest << count) | (src >>> (bits - count))) & mask;
                cf = ((dest >>> (bits - count)) & 1) != 0;
            } else {
                res = (dest >>> count) | ((src << (bits - count)) & mask);
                cf = ((dest >>> (count - 1)) & 1) != 0;
            }
        } else { // a 16-bit operand shifted by 16-31: bit by bit, the source refilling cyclically
            res = dest;
            cf = false;
            for (int i = 0; i < count; i++) {
                if (left) {
                    cf = ((res >>> (bits - 1)) & 1) != 0;
                    res = ((res << 1) | ((src >>> (bits - 1 - (i % bits))) & 1)) & mask;
                } else {
                    cf = (res & 1) != 0;
                    res = (res >>> 1) | (((src >>> (i % bits)) & 1) << (bits - 1));
                }
            }
        }
        long sign = Flags.sign64(size);
        int fl = Flags.szp(size, res) | (cf ? Flags.CF : 0);
        if (((dest ^ res) & sign) != 0) {
            fl |= Flags.OF;
        }
        if (d.mod == 3) {
            Exec64.setReg(c, d, d.rm, size, res);
        } else {
            Exec64.write(c, lin, size, res);
        }
        c.flags.setArith(fl);
    }

    // ---- multiply and divide ----

    /** F6/F7 /4-/7: MUL, IMUL, DIV, IDIV of rAX (and rDX) by the ModRM operand. */
    static void mulDiv(Cpu c, DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        mulDiv(c, d.reg & 7, size, Exec64.readRM(c, d, size));
    }

    /**
     * MUL (4), IMUL (5), DIV (6) or IDIV (7) of rAX (and rDX) in {@link Cpu#r} by the source
     * value {@code src} of {@code size} bytes: compiled regions come here with the operand they
     * read and RAX/RDX stored.
     */
    static void mulDiv(Cpu c, int op, int size, long src) {
        if (size < 8) {
            switch (op) {
                case 4 -> MulDiv.mul(c, size, (int) src);
                case 5 -> MulDiv.imul1(c, size, (int) src);
                case 6 -> MulDiv.div(c, size, (int) src);
                default -> MulDiv.idiv(c, size, (int) src);
            }
            return;
        }
        long a = c.r[Cpu.EAX];
        switch (op) {
            case 4 -> {
                long hi = Math.unsignedMultiplyHigh(a, src);
                c.r[Cpu.EAX] = a * src;
                c.r[Cpu.EDX] = hi;
                mulFlags(c, a * src, hi != 0);
            }
            case 5 -> {
                long lo = a * src;
                long hi = Math.multiplyHigh(a, src);
                c.r[Cpu.EAX] = lo;
                c.r[Cpu.EDX] = hi;
                mulFlags(c, lo, hi != lo >> 63);
            }
            case 6 -> {
                long hi = c.r[Cpu.EDX];
                if (src == 0 || Long.compareUnsigned(hi, src) >= 0) {
                    throw CpuFault.of(CpuFault.DE);
                }
                long q = divide128(hi, a, src);
                c.r[Cpu.EAX] = q;
                c.r[Cpu.EDX] = a - q * src; // the remainder: below the divisor, so exact mod 2^64
            }
            default -> {
                long hi = c.r[Cpu.EDX];
                if (src == 0) {
                    throw CpuFault.of(CpuFault.DE);
                }
                boolean negN = hi < 0;
                long nlo = a;
                long nhi = hi;
                if (negN) { // |RDX:RAX|
                    nlo = -a;
                    nhi = ~hi + (a == 0 ? 1 : 0);
                }
                boolean negD = src < 0;
                long dv = negD ? -src : src; // 2^63 stays 0x8000...: read as unsigned
                if (Long.compareUnsigned(nhi, dv) >= 0) {
                    throw CpuFault.of(CpuFault.DE);
                }
                long q = divide128(nhi, nlo, dv);
                long r = nlo - q * dv;
                boolean negQ = negN ^ negD;
                if (negQ ? Long.compareUnsigned(q, 1L << 63) > 0 : q < 0) {
                    throw CpuFault.of(CpuFault.DE); // the quotient does not fit
                }
                c.r[Cpu.EAX] = negQ ? -q : q;
                c.r[Cpu.EDX] = negN ? -r : r;
            }
        }
    }

    private static void mulFlags(Cpu c, long low, boolean overflow) {
        int f = Flags.szp(8, low);
        if (overflow) {
            f |= Flags.CF | Flags.OF;
        }
        c.flags.setArith(f);
    }

    /**
     * Unsigned {@code hi:lo / divisor} with {@code hi < divisor}: the host's division when the
     * dividend fits 64 bits (compiled C clears RDX before DIV), else restoring division, 64 steps.
     */
    static long divide128(long hi, long lo, long divisor) {
        if (hi == 0) {
            return Long.divideUnsigned(lo, divisor);
        }
        long rem = hi;
        long q = 0;
        for (int i = 63; i >= 0; i--) {
            boolean carry = rem < 0;
            rem = (rem << 1) | ((lo >>> i) & 1);
            q <<= 1;
            if (carry || Long.compareUnsigned(rem, divisor) >= 0) {
                rem -= divisor;
                q |= 1;
            }
        }
        return q;
    }

    /** 0F AF: IMUL Gv,Ev; 69: IMUL Gv,Ev,Iz; 6B: IMUL Gv,Ev,Ib. */
    static void imul(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long a = Exec64.readRM(c, d, size);
        long b = d.opcode == 0x1AF ? Exec64.reg(c, d, d.reg, size) : d.imm;
        Exec64.setReg(c, d, d.reg, size, imul(c, size, a, b));
    }

    /** The truncated signed product of the two-operand IMUL forms, with its flags (SDM Vol. 2 IMUL). */
    static long imul(Cpu c, int size, long a, long b) {
        long res = size == 8 ? a * b : signExtend(a, size) * signExtend(b, size) & Flags.mask64(size);
        imulFlags(c, size, res, imulOverflows(size, a, b));
        return res;
    }

    /** Whether the signed product of {@code a} and {@code b} does not fit {@code size} bytes (CF = OF = 1). */
    static boolean imulOverflows(int size, long a, long b) {
        if (size == 8) {
            return Math.multiplyHigh(a, b) != (a * b) >> 63;
        }
        return productOverflows(size, signExtend(a, size) * signExtend(b, size));
    }

    /**
     * Whether {@code product}, the exact signed product of two operands of {@code size} 1, 2 or 4
     * bytes (it fits 64 bits), does not fit {@code size} bytes.
     */
    static boolean productOverflows(int size, long product) {
        return product != signExtend(product & Flags.mask64(size), size);
    }

    static void imulFlags(Cpu c, int size, long res, boolean overflow) {
        c.flags.setArith(Flags.szp(size, res) | (overflow ? Flags.CF | Flags.OF : 0));
    }

    private static long signExtend(long v, int size) {
        return switch (size) {
            case 1 -> (byte) v;
            case 2 -> (short) v;
            case 4 -> (int) v;
            default -> v;
        };
    }
}
