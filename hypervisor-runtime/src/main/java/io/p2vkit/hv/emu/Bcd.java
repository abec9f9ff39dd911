package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/** Decimal adjust instructions: DAA, DAS, AAA, AAS, AAM, AAD (SDM Vol. 2 pseudo-code). */
final class Bcd {

    private Bcd() {
    }

    /** 27: DAA. */
    static void daa(Cpu c, DecodedInsn d) {
        int al = c.r32(Cpu.EAX) & 0xFF;
        boolean cf = c.flags.cf();
        boolean af = c.flags.af();
        int oldAl = al;
        boolean newCf = false;
        if ((al & 0xF) > 9 || af) {
            al += 6;
            newCf = cf || al > 0xFF;
            af = true;
        } else {
            af = false;
        }
        if (oldAl > 0x99 || cf) {
            al += 0x60;
            newCf = true;
        }
        al &= 0xFF;
        c.setReg(Cpu.EAX, 1, al);
        c.flags.setArith(Flags.szp(1, al) | (newCf ? Flags.CF : 0) | (af ? Flags.AF : 0));
    }

    /** 2F: DAS. */
    static void das(Cpu c, DecodedInsn d) {
        int al = c.r32(Cpu.EAX) & 0xFF;
        boolean cf = c.flags.cf();
        boolean af = c.flags.af();
        int oldAl = al;
        boolean newCf = false;
        if ((al & 0xF) > 9 || af) {
            newCf = cf || al < 6;
            al -= 6;
            af = true;
        } else {
            af = false;
        }
        if (oldAl > 0x99 || cf) {
            al -= 0x60;
            newCf = true;
        }
        al &= 0xFF;
        c.setReg(Cpu.EAX, 1, al);
        c.flags.setArith(Flags.szp(1, al) | (newCf ? Flags.CF : 0) | (af ? Flags.AF : 0));
    }

    /** 37: AAA; 3F: AAS. */
    static void aaaAas(Cpu c, DecodedInsn d) {
        int ax = c.r32(Cpu.EAX) & 0xFFFF;
        boolean adjust = (ax & 0xF) > 9 || c.flags.af();
        if (adjust) {
            ax = d.opcode == 0x37 ? ax + 0x106 : ax - 0x106;
        }
        c.setReg(Cpu.EAX, 2, ax & 0xFF0F);
        c.flags.setArith(Flags.szp(1, ax) | (adjust ? Flags.CF | Flags.AF : 0));
    }

    /** D4: AAM Ib (#DE on a zero base). */
    static void aam(Cpu c, DecodedInsn d) {
        int base = d.imm & 0xFF;
        if (base == 0) {
            throw CpuFault.of(CpuFault.DE);
        }
        int al = c.r32(Cpu.EAX) & 0xFF;
        int res = (al / base) << 8 | (al % base);
        c.setReg(Cpu.EAX, 2, res);
        c.flags.setArith(Flags.szp(1, res));
    }

    /** D5: AAD Ib. */
    static void aad(Cpu c, DecodedInsn d) {
        int ax = c.r32(Cpu.EAX);
        int al = ((ax & 0xFF) + ((ax >>> 8) & 0xFF) * (d.imm & 0xFF)) & 0xFF;
        c.setReg(Cpu.EAX, 2, al);
        c.flags.setArith(Flags.szp(1, al));
    }
}
