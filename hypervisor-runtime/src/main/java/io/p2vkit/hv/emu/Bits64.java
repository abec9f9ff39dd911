package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * 64-bit mode bit tests (BT/BTS/BTR/BTC), bit scans (BSF/BSR), XADD, CMPXCHG and the RCX loops
 * (LOOP/LOOPE/LOOPNE/JRCXZ). Bit tests set CF and leave the other flags as they were (their
 * OF/SF/AF/PF are undefined); a register bit offset into memory is signed and may address
 * beyond the operand (SDM Vol. 2 BT).
 */
final class Bits64 {

    private Bits64() {
    }

    /** 0F A3/AB/B3/BB: BT/BTS/BTR/BTC Ev,Gv; 0F BA /4-/7: the same with Ib. */
    static void bitTest(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        int bits = size * 8;
        int op;
        long offset;
        if (d.opcode == 0x1BA) {
            if ((d.reg & 7) < 4) {
                throw c.undefined(d);
            }
            op = (d.reg & 7) - 4;
            offset = d.imm & (bits - 1);
        } else {
            op = (d.opcode >>> 3) & 3; // A3: 0 (BT), AB: 1 (BTS), B3: 2 (BTR), BB: 3 (BTC)
            long r = Exec64.reg(c, d, d.reg, size);
            offset = switch (size) {
                case 2 -> (short) r;
                case 4 -> (int) r;
                default -> r;
            };
        }
        int bit = (int) (offset & (bits - 1));
        if (d.mod == 3) {
            long v = Exec64.reg(c, d, d.rm, size);
            c.flags.setCf(((v >>> bit) & 1) != 0);
            if (op != 0) {
                Exec64.setReg(c, d, d.rm, size, apply(op, v, bit));
            }
            return;
        }
        long ea = Exec64.ea(c, d);
        if (d.opcode != 0x1BA) {
            ea += (offset >> Integer.numberOfTrailingZeros(bits)) * size; // floor division: signed
            if (!d.addr64()) {
                ea &= 0xFFFF_FFFFL;
            }
        }
        long lin = Exec64.linear(c, d.seg, ea);
        long v = op == 0 ? Exec64.read(c, lin, size) : Exec64.readRmw(c, lin, size);
        c.flags.setCf(((v >>> bit) & 1) != 0);
        if (op != 0) {
            Exec64.write(c, lin, size, apply(op, v, bit));
        }
    }

    /**
     * BT (0), BTS (1), BTR (2), BTC (3) of bit {@code bit} of the register value {@code v}, for
     * compiled regions: CF gets the bit, the other flags stay; returns the new value.
     */
    static long bitTestValue(Cpu c, int op, long v, int bit) {
        c.flags.setCf(((v >>> bit) & 1) != 0);
        return op == 0 ? v : apply(op, v, bit);
    }

    private static long apply(int op, long v, int bit) {
        return switch (op) {
            case 1 -> v | (1L << bit);
            case 2 -> v & ~(1L << bit);
            default -> v ^ (1L << bit);
        };
    }

    /**
     * 0F BC: BSF; 0F BD: BSR. A zero source sets ZF and leaves the destination alone. The other
     * flags are undefined on x86: they are left as TEST of the source leaves them, which costs a
     * lazy record (and compiled regions keep them pending as a TEST's).
     */
    static void bitScan(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long v = Exec64.readRM(c, d, size);
        c.flags.set(Flags.LOGIC, size, v, 0, v);
        if (v != 0) {
            long idx = d.opcode == 0x1BC ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
            Exec64.setReg(c, d, d.reg, size, idx);
        }
    }

    /** 0F C0/C1: XADD Eb,Gb / Ev,Gv. */
    static void xadd(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x1C0 ? 1 : d.opSize();
        long src = Exec64.reg(c, d, d.reg, size);
        if (d.mod == 3) {
            long dest = Exec64.reg(c, d, d.rm, size);
            long sum = Ops64.alu(c, Alu.ADD, size, dest, src);
            Exec64.setReg(c, d, d.reg, size, dest);
            Exec64.setReg(c, d, d.rm, size, sum);
        } else {
            long lin = Exec64.rmLinear(c, d);
            long dest = Exec64.readRmw(c, lin, size);
            long sum = Ops64.alu(c, Alu.ADD, size, dest, src);
            Exec64.write(c, lin, size, sum);
            Exec64.setReg(c, d, d.reg, size, dest);
        }
    }

    /**
     * 0F B0/B1: CMPXCHG Eb,Gb / Ev,Gv. Equal: the destination takes the source; different: the
     * accumulator takes the destination, and a memory destination is written back unchanged.
     */
    static void cmpxchg(Cpu c, DecodedInsn d) {
        int size = d.opcode == 0x1B0 ? 1 : d.opSize();
        long acc = Exec64.reg(c, d, Cpu.EAX, size);
        if (d.mod == 3) {
            long dest = Exec64.reg(c, d, d.rm, size);
            Ops64.alu(c, Alu.CMP, size, acc, dest);
            if (acc == dest) {
                Exec64.setReg(c, d, d.rm, size, Exec64.reg(c, d, d.reg, size));
            } else {
                Exec64.setReg(c, d, Cpu.EAX, size, dest);
            }
            return;
        }
        long lin = Exec64.rmLinear(c, d);
        long dest = Exec64.readRmw(c, lin, size);
        Ops64.alu(c, Alu.CMP, size, acc, dest);
        if (acc == dest) {
            Exec64.write(c, lin, size, Exec64.reg(c, d, d.reg, size));
        } else {
            Exec64.write(c, lin, size, dest);
            Exec64.setReg(c, d, Cpu.EAX, size, dest);
        }
    }

    /**
     * 0F C7 /1: CMPXCHG8B m64 (EDX:EAX with ECX:EBX) and, with REX.W, CMPXCHG16B m128 (RDX:RAX
     * with RCX:RBX; #GP unless 16-byte aligned). ZF tells whether the exchange happened; the
     * memory is written either way, as on a real bus-locked cycle.
     */
    static void cmpxchgWide(Cpu c, DecodedInsn d) {
        if (d.mod == 3 || (d.reg & 7) != 1) {
            throw c.undefined(d);
        }
        long lin = Exec64.rmLinear(c, d);
        c.flags.materialize();
        if (d.op64()) {
            if ((lin & 15) != 0) {
                throw CpuFault.gp(0);
            }
            long lo = Exec64.readRmw(c, lin, 8);
            long hi = Exec64.readRmw(c, lin + 8, 8);
            boolean equal = lo == c.r[Cpu.EAX] && hi == c.r[Cpu.EDX];
            Exec64.write(c, lin, 8, equal ? c.r[Cpu.EBX] : lo);
            Exec64.write(c, lin + 8, 8, equal ? c.r[Cpu.ECX] : hi);
            if (!equal) {
                c.r[Cpu.EAX] = lo;
                c.r[Cpu.EDX] = hi;
            }
            c.flags.setBit(Flags.ZF, equal);
            return;
        }
        long v = Exec64.readRmw(c, lin, 8);
        long expected = (c.r[Cpu.EAX] & 0xFFFF_FFFFL) | c.r[Cpu.EDX] << 32;
        boolean equal = v == expected;
        Exec64.write(c, lin, 8, equal ? (c.r[Cpu.EBX] & 0xFFFF_FFFFL) | c.r[Cpu.ECX] << 32 : v);
        if (!equal) {
            c.r[Cpu.EAX] = v & 0xFFFF_FFFFL;
            c.r[Cpu.EDX] = v >>> 32;
        }
        c.flags.setBit(Flags.ZF, equal);
    }

    /** E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JRCXZ/JECXZ: the count is RCX, or ECX with 67. */
    static void loop(Cpu c, DecodedInsn d) {
        long count;
        if (d.opcode == 0xE3) {
            count = d.addr64() ? c.r[Cpu.ECX] : c.r[Cpu.ECX] & 0xFFFF_FFFFL;
        } else {
            if (d.addr64()) {
                count = --c.r[Cpu.ECX];
            } else {
                count = (c.r[Cpu.ECX] - 1) & 0xFFFF_FFFFL;
                c.r[Cpu.ECX] = count;
            }
        }
        boolean jump = switch (d.opcode) {
            case 0xE0 -> count != 0 && !c.flags.zf();
            case 0xE1 -> count != 0 && c.flags.zf();
            case 0xE2 -> count != 0;
            default -> count == 0;
        };
        if (jump) {
            c.rip = Exec64.checkTarget(c.rip + d.imm);
        }
    }
}
