package io.p2vkit.hv.emu.decode;

/**
 * Decodes one x86 instruction (SDM Vol. 2 ch. 2: prefixes, REX, ModRM, SIB, displacement,
 * immediate) of 16-, 32- or 64-bit code. A pure function of the bytes and the code mode.
 */
public final class Decoder {

    /** The architectural limit; longer instructions raise #GP (SDM Vol. 2 §2.3.11). */
    public static final int MAX_LENGTH = 15;

    private static final int SEG_NONE = -1;
    private static final int DS = 3;
    private static final int SS = 2;

    // 16-bit addressing forms (SDM Vol. 2 Table 2-1): base and index register per rm value.
    private static final int[] BASE16 = {3, 3, 5, 5, -1, -1, 5, 3};  // BX, BX, BP, BP, -, -, BP, BX
    private static final int[] INDEX16 = {6, 7, 6, 7, 6, 7, -1, -1}; // SI, DI, SI, DI, SI, DI, -, -

    private Decoder() {
    }

    /** Decodes the instruction at {@code src}; {@code code32} is the code segment's D bit. */
    public static DecodedInsn decode(ByteSource src, boolean code32) {
        return decode(src, code32, false);
    }

    /**
     * Decodes the instruction at {@code src} as 64-bit code (SDM Vol. 2 §2.2.1): 40-4F are REX
     * prefixes (honoured only right before the opcode), operands default to 32 bits (REX.W: 64;
     * d64/f64 opcodes: 64), addresses to 64 bits (67: 32), mod 00 rm 101 is RIP-relative, ES/CS/
     * SS/DS overrides are ignored, and the i64 opcodes come back {@link DecodedInsn#invalid}.
     */
    public static DecodedInsn decode64(ByteSource src) {
        return decode(src, false, true);
    }

    private static DecodedInsn decode(ByteSource src, boolean code32, boolean code64) {
        int pos = 0;
        int prefixes = 0;
        int segOverride = SEG_NONE;
        int rex = 0;
        int b;
        // Prefixes (SDM Vol. 2 §2.1.1); the last segment override wins, repeats are allowed.
        for (;;) {
            if (pos >= MAX_LENGTH) {
                throw new DecodeException("instruction longer than 15 bytes");
            }
            b = src.byteAt(pos++);
            if (code64 && (b & 0xF0) == 0x40) {
                rex = b;
                continue;
            }
            switch (b) {
                case 0x26, 0x2E, 0x36, 0x3E -> {
                    if (!code64) {
                        segOverride = b >>> 3 & 3;
                    }
                }
                case 0x64 -> segOverride = 4;
                case 0x65 -> segOverride = 5;
                case 0x66 -> prefixes |= DecodedInsn.PREFIX_OPSIZE;
                case 0x67 -> prefixes |= DecodedInsn.PREFIX_ADSIZE;
                case 0xF0 -> prefixes |= DecodedInsn.PREFIX_LOCK;
                case 0xF2 -> prefixes = (prefixes & ~DecodedInsn.PREFIX_REP) | DecodedInsn.PREFIX_REPNE;
                case 0xF3 -> prefixes = (prefixes & ~DecodedInsn.PREFIX_REPNE) | DecodedInsn.PREFIX_REP;
                default -> {
                    return decodeOpcode(src, code32, code64, pos, b, prefixes, segOverride, rex);
                }
            }
            rex = 0; // a REX followed by another prefix is ignored (SDM Vol. 2 §2.2.1)
        }
    }

    private static DecodedInsn decodeOpcode(ByteSource src, boolean code32, boolean code64, int pos,
            int b, int prefixes, int segOverride, int rex) {
        boolean opPrefix = (prefixes & DecodedInsn.PREFIX_OPSIZE) != 0;
        boolean adPrefix = (prefixes & DecodedInsn.PREFIX_ADSIZE) != 0;
        boolean op32 = code32 ^ opPrefix;
        boolean addr32 = code64 ? adPrefix : code32 ^ adPrefix;
        boolean addr64 = code64 && !adPrefix;
        if (segOverride != SEG_NONE) {
            prefixes |= DecodedInsn.PREFIX_SEG;
        }
        int opcode = b;
        if (b == 0x0F) {
            opcode = 0x100 | byteAt(src, pos++);
        }
        int form = OperandForms.FORMS[opcode];
        int rexR = (rex & 4) << 1;
        int rexX = (rex & 2) << 2;
        int rexB = (rex & 1) << 3;
        if (code64 && (form & OperandForms.INV64) != 0) {
            return new DecodedInsn(pos, opcode, prefixes, false, false, false, false, 0, 0, 0,
                    -1, -1, 0, 0, DS, 0, 0, true, false, addr64, rex, true);
        }

        boolean hasModrm = (form & OperandForms.MODRM) != 0;
        int mod = 0;
        int reg = 0;
        int rm = 0;
        int base = -1;
        int index = -1;
        int scale = 0;
        int disp = 0;
        int defaultSeg = DS;
        if (hasModrm) {
            int modrm = byteAt(src, pos++);
            mod = modrm >>> 6;
            reg = ((modrm >>> 3) & 7) | rexR;
            rm = modrm & 7;
            if ((form & OperandForms.REGONLY) != 0) {
                mod = 3;
            }
            if (mod == 3) {
                rm |= rexB;
            } else if (addr32 || addr64) {
                if (rm == 4) {
                    int sib = byteAt(src, pos++);
                    scale = sib >>> 6;
                    index = ((sib >>> 3) & 7) | rexX;
                    if (index == 4) {
                        index = -1;
                    }
                    base = (sib & 7) | rexB;
                    if ((sib & 7) == 5 && mod == 0) {
                        base = -1;
                        disp = imm32(src, pos);
                        pos += 4;
                    }
                } else if (rm == 5 && mod == 0) {
                    base = code64 ? DecodedInsn.BASE_RIP : -1;
                    disp = imm32(src, pos);
                    pos += 4;
                } else {
                    base = rm | rexB;
                }
                if (mod == 1) {
                    disp = (byte) byteAt(src, pos++);
                } else if (mod == 2) {
                    disp = imm32(src, pos);
                    pos += 4;
                }
                if (base == 4 || base == 5) {
                    defaultSeg = SS;
                }
            } else {
                if (mod == 0 && rm == 6) {
                    disp = imm16(src, pos);
                    pos += 2;
                } else {
                    base = BASE16[rm];
                    index = INDEX16[rm];
                    if (base == 5) {
                        defaultSeg = SS;
                    }
                }
                if (mod == 1) {
                    disp = (byte) byteAt(src, pos++);
                } else if (mod == 2) {
                    disp = (short) imm16(src, pos);
                    pos += 2;
                }
            }
        }

        boolean op64 = false;
        if (code64) {
            boolean w = (rex & 8) != 0;
            int ff = opcode == 0xFF ? reg & 7 : -1;
            if ((form & OperandForms.F64) != 0 || ff == 2 || ff == 4) {
                op64 = true;                       // near branches, MOV CR/DR; CALL/JMP Ev
            } else if ((form & OperandForms.D64) != 0 || ff == 6) {
                op64 = w || !opPrefix;             // stack operations; PUSH Ev
            } else {
                op64 = w;
            }
            op32 = !op64 && !opPrefix;
            if ((form & OperandForms.OPREG) != 0) {
                rm = (opcode & 7) | rexB;
            }
        }

        int imm = 0;
        int imm2 = 0;
        if ((form & OperandForms.MOFFS) != 0) {
            if (addr64) {
                long offset = imm64(src, pos);     // halves in disp and imm: DecodedInsn.imm64()
                disp = (int) offset;
                imm = (int) (offset >>> 32);
                pos += 8;
            } else if (addr32) {
                disp = imm32(src, pos);
                pos += 4;
            } else {
                disp = imm16(src, pos);
                pos += 2;
            }
        }
        boolean grp3Imm = (form & OperandForms.GRP3) != 0 && (reg & 7) < 2;
        if (op64 && opcode >= 0xB8 && opcode <= 0xBF) {
            long v = imm64(src, pos);              // MOV r64, imm64: halves in imm and disp
            imm = (int) v;
            disp = (int) (v >>> 32);
            pos += 8;
        } else if ((form & OperandForms.IB) != 0 || (grp3Imm && opcode == 0xF6)) {
            int v = byteAt(src, pos++);
            imm = (form & OperandForms.IB_UNSIGNED) != 0 ? v : (byte) v;
        } else if ((form & OperandForms.IW) != 0) {
            imm = imm16(src, pos);
            pos += 2;
        } else if ((form & (OperandForms.IZ | OperandForms.FAR)) != 0 || (grp3Imm && opcode == 0xF7)) {
            if (op32 || op64) {
                imm = imm32(src, pos);             // with 64-bit operands: sign-extended by the user
                pos += 4;
            } else {
                imm = (short) imm16(src, pos);
                pos += 2;
            }
            if ((form & OperandForms.FAR) != 0) {
                imm &= op32 ? -1 : 0xFFFF;
                imm2 = imm16(src, pos);
                pos += 2;
            }
        } else if ((form & OperandForms.ENTER) != 0) {
            imm = imm16(src, pos);
            imm2 = byteAt(src, pos + 2);
            pos += 3;
        }
        if (pos > MAX_LENGTH) {
            throw new DecodeException("instruction longer than 15 bytes");
        }
        boolean memOperand = (hasModrm && mod != 3) || (form & OperandForms.MOFFS) != 0;
        int seg = segOverride != SEG_NONE ? segOverride : (memOperand ? defaultSeg : DS);
        return new DecodedInsn(pos, opcode, prefixes, code32, op32, addr32, hasModrm, mod, reg, rm,
                base, index, scale, disp, seg, imm, imm2, code64, op64, addr64, rex, false);
    }

    private static int byteAt(ByteSource src, int pos) {
        if (pos >= MAX_LENGTH) {
            throw new DecodeException("instruction longer than 15 bytes");
        }
        return src.byteAt(pos);
    }

    private static int imm16(ByteSource src, int pos) {
        return byteAt(src, pos) | byteAt(src, pos + 1) << 8;
    }

    private static int imm32(ByteSource src, int pos) {
        return byteAt(src, pos) | byteAt(src, pos + 1) << 8 | byteAt(src, pos + 2) << 16
                | byteAt(src, pos + 3) << 24;
    }

    private static long imm64(ByteSource src, int pos) {
        return (imm32(src, pos) & 0xFFFF_FFFFL) | (long) imm32(src, pos + 4) << 32;
    }
}
