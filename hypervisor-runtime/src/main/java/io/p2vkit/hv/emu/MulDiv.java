package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV with #DE on a zero divisor or a
 * quotient that does not fit (SDM Vol. 2 DIV/IDIV). Flags after a multiply: CF = OF = "the
 * upper half is significant"; SF, ZF, AF, PF are undefined, and we set them from the low half
 * as Intel hardware does.
 */
final class MulDiv {

    private MulDiv() {
    }

    private static void mulFlags(Cpu c, int size, int low, boolean overflow) {
        int f = Flags.szp(size, low);
        if (overflow) {
            f |= Flags.CF | Flags.OF;
        }
        c.flags.setArith(f);
    }

    static void mul(Cpu c, int size, int src) {
        switch (size) {
            case 1 -> {
                int p = (c.r32(Cpu.EAX) & 0xFF) * src;
                c.setReg(Cpu.EAX, 2, p);
                mulFlags(c, 1, p, (p & 0xFF00) != 0);
            }
            case 2 -> {
                int p = (c.r32(Cpu.EAX) & 0xFFFF) * src;
                c.setReg(Cpu.EAX, 2, p);
                c.setReg(Cpu.EDX, 2, p >>> 16);
                mulFlags(c, 2, p, (p >>> 16) != 0);
            }
            default -> {
                long p = (c.r32(Cpu.EAX) & 0xFFFF_FFFFL) * (src & 0xFFFF_FFFFL);
                c.set32(Cpu.EAX, (int) p);
                c.set32(Cpu.EDX, (int) (p >>> 32));
                mulFlags(c, 4, (int) p, (p >>> 32) != 0);
            }
        }
    }

    /** F6/F7 /5: one-operand IMUL into AX, DX:AX or EDX:EAX. */
    static void imul1(Cpu c, int size, int src) {
        switch (size) {
            case 1 -> {
                int p = (byte) c.r32(Cpu.EAX) * (byte) src;
                c.setReg(Cpu.EAX, 2, p);
                mulFlags(c, 1, p, p != (byte) p);
            }
            case 2 -> {
                int p = (short) c.r32(Cpu.EAX) * (short) src;
                c.setReg(Cpu.EAX, 2, p);
                c.setReg(Cpu.EDX, 2, p >>> 16);
                mulFlags(c, 2, p, p != (short) p);
            }
            default -> {
                long p = (long) c.r32(Cpu.EAX) * src;
                c.set32(Cpu.EAX, (int) p);
                c.set32(Cpu.EDX, (int) (p >>> 32));
                mulFlags(c, 4, (int) p, p != (int) p);
            }
        }
    }

    /** Signed multiply truncated to {@code size}, setting CF/OF when the truncation lost bits. */
    private static int imulTruncating(Cpu c, int size, int a, int b) {
        if (size == 2) {
            int p = (short) a * (short) b;
            mulFlags(c, 2, p, p != (short) p);
            return p & 0xFFFF;
        }
        long p = (long) a * b;
        mulFlags(c, 4, (int) p, p != (int) p);
        return (int) p;
    }

    /** 0F AF: IMUL Gv,Ev. */
    static void imul2(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        c.setReg(d.reg, size, imulTruncating(c, size, c.reg(d.reg, size), c.readRM(d, size)));
    }

    /** 69/6B: IMUL Gv,Ev,Iz/Ib. */
    static void imul3(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        c.setReg(d.reg, size, imulTruncating(c, size, c.readRM(d, size), d.imm));
    }

    static void div(Cpu c, int size, int src) {
        if (src == 0) {
            throw CpuFault.of(CpuFault.DE);
        }
        switch (size) {
            case 1 -> {
                int n = c.r32(Cpu.EAX) & 0xFFFF;
                int q = n / src;
                if (q > 0xFF) {
                    throw CpuFault.of(CpuFault.DE);
                }
                c.setReg(Cpu.EAX, 2, (n % src) << 8 | q);
            }
            case 2 -> {
                long n = (c.r32(Cpu.EDX) & 0xFFFFL) << 16 | (c.r32(Cpu.EAX) & 0xFFFF);
                long q = n / src;
                if (q > 0xFFFF) {
                    throw CpuFault.of(CpuFault.DE);
                }
                c.setReg(Cpu.EAX, 2, (int) q);
                c.setReg(Cpu.EDX, 2, (int) (n % src));
            }
            default -> {
                long hi = c.r32(Cpu.EDX) & 0xFFFF_FFFFL;
                long divisor = src & 0xFFFF_FFFFL;
                if (hi >= divisor) {
                    throw CpuFault.of(CpuFault.DE);
                }
                long n = hi << 32 | (c.r32(Cpu.EAX) & 0xFFFF_FFFFL);
                c.set32(Cpu.EAX, (int) Long.divideUnsigned(n, divisor));
                c.set32(Cpu.EDX, (int) Long.remainderUnsigned(n, divisor));
            }
        }
    }

    static void idiv(Cpu c, int size, int src) {
        if (src == 0) {
            throw CpuFault.of(CpuFault.DE);
        }
        switch (size) {
            case 1 -> {
                int n = (short) c.r32(Cpu.EAX);
                int s = (byte) src;
                int q = n / s;
                if (q != (byte) q) {
                    throw CpuFault.of(CpuFault.DE);
                }
                c.setReg(Cpu.EAX, 2, ((n % s) & 0xFF) << 8 | (q & 0xFF));
            }
            case 2 -> {
                int n = c.r32(Cpu.EDX) << 16 | (c.r32(Cpu.EAX) & 0xFFFF);
                int s = (short) src;
                long q = (long) n / s;
                if (q != (short) q) {
                    throw CpuFault.of(CpuFault.DE);
                }
                c.setReg(Cpu.EAX, 2, (int) q);
                c.setReg(Cpu.EDX, 2, (int) ((long) n % s));
            }
            default -> {
                long n = (long) c.r32(Cpu.EDX) << 32 | (c.r32(Cpu.EAX) & 0xFFFF_FFFFL);
                if (n == Long.MIN_VALUE && src == -1) {
                    throw CpuFault.of(CpuFault.DE);
                }
                long q = n / src;
                if (q != (int) q) {
                    throw CpuFault.of(CpuFault.DE);
                }
                c.set32(Cpu.EAX, (int) q);
                c.set32(Cpu.EDX, (int) (n % src));
            }
        }
    }
}
