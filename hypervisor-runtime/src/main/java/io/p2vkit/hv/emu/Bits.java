package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Shifts and rotates (group 2, SHLD/SHRD), bit tests (BT/BTS/BTR/BTC) and bit scans (BSF/BSR).
 * Flag rules from SDM Vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD, BT, BSF: a masked
 * count of zero changes nothing, including flags.
 */
final class Bits {

    private Bits() {
    }

    /** C0/C1 (Ib), D0/D1 (1), D2/D3 (CL): group 2. */
    static void group2(Cpu c, DecodedInsn d) {
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int count = switch (d.opcode) {
            case 0xC0, 0xC1 -> d.imm;
            case 0xD0, 0xD1 -> 1;
            default -> c.r32(Cpu.ECX);
        } & 0x1F;
        if (count == 0) {
            if (d.mod != 3) {
                c.readRM(d, size); // the memory operand is still accessed and may fault
            }
            return;
        }
        if (d.mod == 3) {
            c.setReg(d.rm, size, shift(c, d.reg, size, c.reg(d.rm, size), count));
        } else {
            int lin = c.rmLinearWrite(d, size);
            int v = c.mmu.readRmw(lin, size);
            int res = shift(c, d.reg, size, v, count);
            c.mmu.write(lin, size, res);
        }
    }

    /** Shifts or rotates {@code a} by a non-zero masked {@code count}; sets flags, returns the result. */
    static int shift(Cpu c, int kind, int size, int a, int count) {
        int bits = size * 8;
        int mask = Flags.mask(size);
        int sign = Flags.sign(size);
        long v = a & (mask & 0xFFFF_FFFFL);
        Flags f = c.flags;
        switch (kind) {
            case 0 -> { // ROL: only CF and OF change
                int n = count & (bits - 1);
                int res = (int) (((v << n) | (v >>> (bits - n))) & mask);
                f.materialize();
                boolean cf = (res & 1) != 0;
                f.setBit(Flags.CF, cf);
                f.setBit(Flags.OF, ((res & sign) != 0) ^ cf);
                return res;
            }
            case 1 -> { // ROR
                int n = count & (bits - 1);
                int res = (int) (((v >>> n) | (v << (bits - n))) & mask);
                f.materialize();
                boolean msb = (res & sign) != 0;
                f.setBit(Flags.CF, msb);
                f.setBit(Flags.OF, msb ^ ((res & (sign >>> 1)) != 0));
                return res;
            }
            case 2 -> { // RCL: rotate through CF, a (bits+1)-bit rotation
                int n = bits == 32 ? count : count % (bits + 1);
                if (n == 0) {
                    return a & mask;
                }
                long cf = f.cf() ? 1 : 0;
                long wide = v | (cf << bits); // bits+1 wide
                long all = (1L << (bits + 1)) - 1;
                wide = ((wide << n) | (wide >>> (bits + 1 - n))) & all;
                int res = (int) (wide & mask);
                boolean newCf = (wide >>> bits) != 0;
                f.materialize();
                f.setBit(Flags.CF, newCf);
                f.setBit(Flags.OF, ((res & sign) != 0) ^ newCf);
                return res;
            }
            case 3 -> { // RCR
                int n = bits == 32 ? count : count % (bits + 1);
                if (n == 0) {
                    return a & mask;
                }
                long cf = f.cf() ? 1 : 0;
                boolean of = ((a & sign) != 0) ^ (cf != 0);
                long wide = v | (cf << bits);
                long all = (1L << (bits + 1)) - 1;
                wide = ((wide >>> n) | (wide << (bits + 1 - n))) & all;
                int res = (int) (wide & mask);
                f.materialize();
                f.setBit(Flags.CF, (wide >>> bits) != 0);
                f.setBit(Flags.OF, of);
                return res;
            }
            case 4, 6 -> { // SHL/SAL
                int res = (int) ((v << count) & mask);
                boolean cf = count <= bits && ((v >>> (bits - count)) & 1) != 0;
                int fl = Flags.szp(size, res) | (cf ? Flags.CF : 0);
                if (((res & sign) != 0) ^ cf) {
                    fl |= Flags.OF;
                }
                f.setArith(fl);
                return res;
            }
            case 5 -> { // SHR
                int res = count >= bits ? 0 : (int) (v >>> count);
                boolean cf = count <= bits && ((v >>> (count - 1)) & 1) != 0;
                int fl = Flags.szp(size, res) | (cf ? Flags.CF : 0);
                if ((a & sign) != 0) {
                    fl |= Flags.OF;
                }
                f.setArith(fl);
                return res;
            }
            default -> { // SAR
                long sv = size == 1 ? (byte) a : size == 2 ? (short) a : a;
                int n = Math.min(count, bits);
                int res = (int) ((sv >> n) & mask);
                boolean cf = ((sv >> (n - 1)) & 1) != 0;
                f.setArith(Flags.szp(size, res) | (cf ? Flags.CF : 0));
                return res;
            }
        }
    }

    /** 0F A4/A5 SHLD, 0F AC/AD SHRD (Ev, Gv, Ib/CL). */
    static void doubleShift(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int bits = size * 8;
        int count = ((d.opcode & 1) == 0 ? d.imm : c.r32(Cpu.ECX)) & 0x1F;
        boolean left = d.opcode < 0x1A8;
        int lin = 0;
        int dest;
        if (d.mod == 3) {
            dest = c.reg(d.rm, size);
        } else {
            lin = c.rmLinearWrite(d, size);
            dest = c.mmu.readRmw(lin, size);
        }
        if (count == 0) {
            return;
        }
        long mask = Flags.mask(size) & 0xFFFF_FFFFL;
        long dv = dest & mask;
        long sv = c.reg(d.reg, size) & mask;
        long res;
        boolean cf;
        if (left) {
            // A 16-bit count above 16 gives an undefined result; this is one of the possibilities.
            int n = Math.min(count, bits);
            res = ((dv << n) | (sv >>> (bits - n))) & mask;
            cf = ((dv >>> (bits - n)) & 1) != 0;
        } else {
            long wide = (sv << bits) | dv; // src:dest
            res = (wide >>> count) & mask;
            cf = ((wide >>> (count - 1)) & 1) != 0;
        }
        int r = (int) res;
        int sign = Flags.sign(size);
        int fl = Flags.szp(size, r) | (cf ? Flags.CF : 0);
        if (((dest ^ r) & sign) != 0) {
            fl |= Flags.OF;
        }
        if (d.mod == 3) {
            c.setReg(d.rm, size, r);
        } else {
            c.mmu.write(lin, size, r);
        }
        c.flags.setArith(fl);
    }

    /** 0F A3/AB/B3/BB: BT/BTS/BTR/BTC Ev,Gv (the register's bit offset may reach any address). */
    static void bitTestReg(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int op = switch (d.opcode) {
            case 0x1A3 -> 0;
            case 0x1AB -> 1;
            case 0x1B3 -> 2;
            default -> 3;
        };
        int offset = c.reg(d.reg, size);
        if (d.mod == 3) {
            bitOpReg(c, d, size, op, offset & (size * 8 - 1));
        } else {
            int signed = size == 2 ? (short) offset : offset;
            int ea = c.ea(d) + (signed >> (size == 2 ? 4 : 5)) * size;
            if (!d.addr32()) {
                ea &= 0xFFFF;
            }
            int lin = op == 0 ? c.linear(d.seg, ea, size) : c.linearWrite(d.seg, ea, size);
            bitOpMem(c, op, size, lin, offset & (size * 8 - 1));
        }
    }

    /** 0F BA: group 8, BT/BTS/BTR/BTC Ev,Ib. */
    static void group8(Cpu c, DecodedInsn d) {
        if (d.reg < 4) {
            throw c.undefined(d);
        }
        int size = d.opSize();
        int bit = d.imm & (size * 8 - 1);
        if (d.mod == 3) {
            bitOpReg(c, d, size, d.reg - 4, bit);
        } else {
            bitOpMem(c, d.reg - 4, size, d.reg == 4 ? c.rmLinear(d, size) : c.rmLinearWrite(d, size), bit);
        }
    }

    private static int apply(int op, int v, int bit) {
        return switch (op) {
            case 1 -> v | (1 << bit);
            case 2 -> v & ~(1 << bit);
            default -> v ^ (1 << bit);
        };
    }

    private static void bitOpReg(Cpu c, DecodedInsn d, int size, int op, int bit) {
        int v = c.reg(d.rm, size);
        c.flags.setCf(((v >>> bit) & 1) != 0);
        if (op != 0) {
            c.setReg(d.rm, size, apply(op, v, bit));
        }
    }

    private static void bitOpMem(Cpu c, int op, int size, int lin, int bit) {
        int v = op == 0 ? c.mmu.read(lin, size) : c.mmu.readRmw(lin, size);
        if (op != 0) {
            c.mmu.write(lin, size, apply(op, v, bit));
        }
        c.flags.setCf(((v >>> bit) & 1) != 0);
    }

    /** 0F BC/BD: BSF/BSR; a zero source sets ZF and leaves the destination unchanged. */
    static void bitScan(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int v = c.readRM(d, size);
        c.flags.materialize();
        if (v == 0) {
            c.flags.setBit(Flags.ZF, true);
            return;
        }
        c.flags.setBit(Flags.ZF, false);
        int idx = d.opcode == 0x1BC ? Integer.numberOfTrailingZeros(v) : 31 - Integer.numberOfLeadingZeros(v);
        c.setReg(d.reg, size, idx);
    }
}
