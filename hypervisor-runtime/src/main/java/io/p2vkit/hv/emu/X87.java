package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * The x87 escapes D8-DF and WAIT (9B) in every mode: #NM when CR0.EM or CR0.TS says so (SDM
 * Vol. 3 §2.5, Table 2-2), #MF for a pending unmasked exception before any waiting instruction
 * when CR0.NE = 1, the routing of each ModRM form to its family ({@link X87Arith},
 * {@link X87Transfers}, {@link X87Transcendental}, {@link X87Environment}), and the last
 * instruction's opcode, code pointer and data pointer (FOP, FIP/FCS, FDP/FDS) for every
 * non-control instruction (SDM Vol. 1 §8.1.8-8.1.9). In real mode the pointers are linear.
 *
 * <p>With CR0.NE = 0 the legacy FERR#/IGNNE# path (IRQ 13 through the PIC) is not modelled:
 * a pending exception is then ignored, as if IGNNE# were asserted, and the instruction runs.
 */
final class X87 {

    private X87() {
    }

    /** D8-DF. */
    static void escape(Cpu c, DecodedInsn d) {
        if ((c.cr0() & (Cpu.CR0_EM | Cpu.CR0_TS)) != 0) {
            throw CpuFault.of(CpuFault.NM);
        }
        X87State s = c.fpu;
        int esc = d.opcode & 7;
        boolean mem = d.mod != 3;
        int reg = d.reg & 7;
        int rm = d.rm & 7;
        if (!noWait(esc, mem, reg, rm) && (s.status & X87Registers.SW_ES) != 0
                && (c.cr0() & Cpu.CR0_NE) != 0) {
            throw CpuFault.of(CpuFault.MF);
        }
        if (mem) {
            memoryForm(c, d, esc, reg);
        } else {
            registerForm(c, d, esc, reg, rm);
        }
        if (!control(esc, mem, reg, rm)) {
            record(c, d, esc, mem);
        }
    }

    /**
     * Every valid x87 encoding has a handler, so what is left is reserved: #UD by definition,
     * not counted as an opcode the emulator lacks.
     */
    static CpuFault reserved() {
        return CpuFault.ud();
    }

    /** 9B: WAIT/FWAIT (#NM when both MP and TS are set; #MF for a pending exception). */
    static void fwait(Cpu c, DecodedInsn d) {
        int cr0 = c.cr0();
        if ((cr0 & (Cpu.CR0_MP | Cpu.CR0_TS)) == (Cpu.CR0_MP | Cpu.CR0_TS)) {
            throw CpuFault.of(CpuFault.NM);
        }
        if ((c.fpu.status & X87Registers.SW_ES) != 0 && (cr0 & Cpu.CR0_NE) != 0) {
            throw CpuFault.of(CpuFault.MF);
        }
    }

    /** FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE and the 8087/287 no-ops do not wait. */
    private static boolean noWait(int esc, boolean mem, int reg, int rm) {
        if (mem) {
            return esc == 1 && (reg == 6 || reg == 7) || esc == 5 && (reg == 6 || reg == 7);
        }
        return esc == 3 && reg == 4 || esc == 7 && reg == 4 && rm == 0;
    }

    /** Control instructions leave FOP, FIP and FDP alone (SDM §8.1.8). */
    private static boolean control(int esc, boolean mem, int reg, int rm) {
        if (mem) {
            return esc == 1 && reg >= 4 || esc == 5 && (reg == 4 || reg >= 6);
        }
        return esc == 3 && reg == 4 || esc == 7 && reg == 4 && rm == 0;
    }

    private static void record(Cpu c, DecodedInsn d, int esc, boolean mem) {
        X87State s = c.fpu;
        s.opcode = esc << 8 | d.mod << 6 | (d.reg & 7) << 3 | (d.rm & 7);
        boolean real = !c.protectedMode();
        if (c.mode64) {
            s.instructionPointer = c.insnRip;
        } else if (real) {
            s.instructionPointer = (c.segBase[Cpu.CS] + c.insnEip) & 0xFFFF_FFFFL;
        } else {
            s.instructionPointer = c.insnEip & 0xFFFF_FFFFL;
        }
        s.codeSelector = real ? 0 : c.segSel[Cpu.CS];
        if (mem) {
            long off = X87Memory.offset(c, d);
            s.dataPointer = real ? (c.segBase[d.seg] + off) & 0xFFFF_FFFFL : off;
            s.dataSelector = real ? 0 : c.segSel[d.seg];
        }
    }

    private static void memoryForm(Cpu c, DecodedInsn d, int esc, int reg) {
        switch (esc) {
            case 0 -> X87Arith.memory(c, d, X87Arith.FP32);
            case 2 -> X87Arith.memory(c, d, X87Arith.INT32);
            case 4 -> X87Arith.memory(c, d, X87Arith.FP64);
            case 6 -> X87Arith.memory(c, d, X87Arith.INT16);
            case 1 -> {
                switch (reg) {
                    case 0 -> X87Transfers.load(c, d, X87Transfers.M32FP);
                    case 2, 3 -> X87Transfers.store(c, d, X87Transfers.M32FP, reg == 3, false);
                    case 4 -> X87Environment.fldenv(c, d);
                    case 5 -> X87Environment.loadControl(c.fpu, X87Memory.read16(c, X87Memory.address(c, d, 2, false)));
                    case 6 -> X87Environment.fnstenv(c, d);
                    case 7 -> X87Memory.write16(c, X87Memory.address(c, d, 2, true), c.fpu.control);
                    default -> throw X87.reserved();
                }
            }
            case 3 -> {
                switch (reg) {
                    case 0 -> X87Transfers.load(c, d, X87Transfers.M32INT);
                    case 1 -> X87Transfers.store(c, d, X87Transfers.M32INT, true, true);
                    case 2, 3 -> X87Transfers.store(c, d, X87Transfers.M32INT, reg == 3, false);
                    case 5 -> X87Transfers.load(c, d, X87Transfers.M80FP);
                    case 7 -> X87Transfers.store(c, d, X87Transfers.M80FP, true, false);
                    default -> throw X87.reserved();
                }
            }
            case 5 -> {
                switch (reg) {
                    case 0 -> X87Transfers.load(c, d, X87Transfers.M64FP);
                    case 1 -> X87Transfers.store(c, d, X87Transfers.M64INT, true, true);
                    case 2, 3 -> X87Transfers.store(c, d, X87Transfers.M64FP, reg == 3, false);
                    case 4 -> X87Environment.frstor(c, d);
                    case 6 -> X87Environment.fnsave(c, d);
                    case 7 -> X87Memory.write16(c, X87Memory.address(c, d, 2, true), c.fpu.status);
                    default -> throw X87.reserved();
                }
            }
            default -> {
                switch (reg) {
                    case 0 -> X87Transfers.load(c, d, X87Transfers.M16INT);
                    case 1 -> X87Transfers.store(c, d, X87Transfers.M16INT, true, true);
                    case 2, 3 -> X87Transfers.store(c, d, X87Transfers.M16INT, reg == 3, false);
                    case 4 -> X87Transfers.load(c, d, X87Transfers.M80BCD);
                    case 5 -> X87Transfers.load(c, d, X87Transfers.M64INT);
                    case 6 -> X87Transfers.store(c, d, X87Transfers.M80BCD, true, false);
                    default -> X87Transfers.store(c, d, X87Transfers.M64INT, true, false);
                }
            }
        }
    }

    private static void registerForm(Cpu c, DecodedInsn d, int esc, int reg, int rm) {
        switch (esc) {
            case 0 -> X87Arith.register(c, d, false, false);
            case 1 -> d9Register(c, d, reg, rm);
            case 2 -> {
                if (reg < 4) {
                    X87Transfers.conditionalMove(c, rm, FCMOV_CONDITIONS[reg]);
                } else if (reg == 5 && rm == 1) {
                    X87Arith.ucom(c, 1, 2); // FUCOMPP
                } else {
                    throw X87.reserved();
                }
            }
            case 3 -> {
                if (reg < 4) {
                    X87Transfers.conditionalMove(c, rm, FCMOV_CONDITIONS[reg] ^ 1);
                } else if (reg == 4) {
                    dbControl(c, d, rm);
                } else if (reg == 5 || reg == 6) {
                    X87Arith.comi(c, rm, reg == 5, false);
                } else {
                    throw X87.reserved();
                }
            }
            case 4 -> X87Arith.register(c, d, true, false);
            case 5 -> {
                switch (reg) {
                    case 0 -> X87Transfers.free(c, rm, false);
                    case 1 -> X87Transfers.exchange(c, rm); // FXCH4 alias
                    case 2, 3 -> X87Transfers.storeRegister(c, rm, reg == 3);
                    case 4, 5 -> X87Arith.ucom(c, rm, reg == 5 ? 1 : 0);
                    default -> throw X87.reserved();
                }
            }
            case 6 -> X87Arith.register(c, d, true, true);
            default -> {
                switch (reg) {
                    case 0 -> X87Transfers.free(c, rm, true); // FFREEP
                    case 1 -> X87Transfers.exchange(c, rm); // FXCH7 alias
                    case 2, 3 -> X87Transfers.storeRegister(c, rm, true); // FSTP8/FSTP9 aliases
                    case 4 -> {
                        if (rm != 0) {
                            throw X87.reserved();
                        }
                        c.setReg(Cpu.EAX, 2, c.fpu.status); // FNSTSW AX
                    }
                    case 5, 6 -> X87Arith.comi(c, rm, reg == 5, true);
                    default -> throw X87.reserved();
                }
            }
        }
    }

    /** FCMOVB, FCMOVE, FCMOVBE, FCMOVU as Jcc condition numbers (B, E, BE, P); DB negates. */
    private static final int[] FCMOV_CONDITIONS = {0x2, 0x4, 0x6, 0xA};

    private static void dbControl(Cpu c, DecodedInsn d, int rm) {
        switch (rm) {
            case 0, 1, 4 -> {
                // FNENI, FNDISI, FNSETPM: 8087/287 controls that a 387 and later execute as NOPs
            }
            case 2 -> c.fpu.status &= 0x7F00; // FNCLEX
            case 3 -> X87Environment.fninit(c.fpu);
            default -> throw X87.reserved();
        }
    }

    private static void d9Register(Cpu c, DecodedInsn d, int reg, int rm) {
        switch (reg) {
            case 0 -> X87Transfers.loadRegister(c, rm);
            case 1 -> X87Transfers.exchange(c, rm);
            case 2 -> {
                if (rm != 0) {
                    throw X87.reserved();
                }
                // FNOP
            }
            case 3 -> X87Transfers.storeRegister(c, rm, true); // FSTP1 alias
            case 4 -> {
                switch (rm) {
                    case 0, 1 -> X87Arith.signOp(c, rm == 1);
                    case 4 -> X87Arith.ftst(c);
                    case 5 -> X87Arith.fxam(c);
                    default -> throw X87.reserved();
                }
            }
            case 5 -> {
                if (rm == 7) {
                    throw X87.reserved();
                }
                X87Transfers.loadConstant(c, rm);
            }
            case 6 -> {
                switch (rm) {
                    case 0 -> X87Transcendental.f2xm1(c);
                    case 1 -> X87Transcendental.fyl2x(c, false);
                    case 2 -> X87Transcendental.trig(c, X87Transcendental.TAN);
                    case 3 -> X87Transcendental.fpatan(c);
                    case 4 -> X87Arith.fxtract(c);
                    case 5 -> X87Arith.fprem(c, true);
                    case 6 -> X87Transfers.moveTop(c, -1);
                    default -> X87Transfers.moveTop(c, 1);
                }
            }
            default -> {
                switch (rm) {
                    case 0 -> X87Arith.fprem(c, false);
                    case 1 -> X87Transcendental.fyl2x(c, true);
                    case 2 -> X87Arith.unary(c, true);
                    case 3 -> X87Transcendental.trig(c, X87Transcendental.SINCOS);
                    case 4 -> X87Arith.unary(c, false);
                    case 5 -> X87Arith.fscale(c);
                    case 6 -> X87Transcendental.trig(c, X87Transcendental.SIN);
                    default -> X87Transcendental.trig(c, X87Transcendental.COS);
                }
            }
        }
    }
}
