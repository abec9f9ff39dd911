package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Far transfers in 64-bit mode: RETF (CB, CA Iw) and the indirect far JMP/CALL (FF /5, FF /3)
 * to a code segment, which may be 64-bit or compatibility-mode code (SDM Vol. 2 JMP, CALL, RET).
 * Offsets are 4 bytes by default, 8 with REX.W and 2 with 66. Call gates are {@link CallGates64}'s.
 */
final class Far64 {

    private Far64() {
    }

    /** FF /3 (CALL m16:offset) and FF /5 (JMP m16:offset). */
    static void indirect(Cpu c, DecodedInsn d) {
        if (d.mod == 3) {
            throw c.undefined(d);
        }
        int size = d.opSize();
        long ea = Exec64.ea(c, d);
        long offset = Exec64.read(c, Exec64.linear(c, d.seg, ea), size);
        int sel = (int) Exec64.read(c, Exec64.linear(c, d.seg, ea + size), 2);
        long desc = Segments.checkFarTarget(c, sel);
        if (CallGates.isCallGate(desc)) {
            CallGates64.transfer(c, sel, desc, (d.reg & 7) == 3); // the offset is not used
            return;
        }
        long target = targetOffset(desc, offset);
        if ((d.reg & 7) == 3) {
            Exec64.push(c, size, c.segSel[Cpu.CS]);
            Exec64.push(c, size, c.rip);
        }
        Segments.commitCs(c, sel, desc, c.cpl);
        land(c, target);
    }

    /** CB, CA Iw: far RET, to the same privilege or (popping RSP and SS too) an outer one. */
    static void retFar(Cpu c, DecodedInsn d) {
        int size = d.opSize();
        long release = d.opcode == 0xCA ? d.imm & 0xFFFF : 0;
        long sp = c.r[Cpu.ESP];
        long offset = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp), size);
        int sel = (int) Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + size), size) & 0xFFFF;
        long desc = Segments.checkReturnTarget(c, sel);
        long target = targetOffset(desc, offset);
        int rpl = sel & 3;
        if (rpl == c.cpl) {
            Segments.commitCs(c, sel, desc, rpl);
            c.r[Cpu.ESP] = sp + 2L * size + release;
        } else {
            long newSp = Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + 2L * size + release), size);
            int newSs = (int) Exec64.read(c, Exec64.linear(c, Cpu.SS, sp + 3L * size + release), size) & 0xFFFF;
            Segments.commitCs(c, sel, desc, rpl);
            Segments.load(c, Cpu.SS, newSs);
            c.r[Cpu.ESP] = newSp + release;
            Segments.nullifyForOuterRing(c);
        }
        land(c, target);
    }

    /** The offset in the target segment: canonical for 64-bit code, 32 bits for compatibility code. */
    private static long targetOffset(long desc, long offset) {
        if ((Segments.attr(desc) & Cpu.ATTR_L) != 0) {
            return Exec64.checkTarget(offset);
        }
        return offset & 0xFFFF_FFFFL;
    }

    private static void land(Cpu c, long target) {
        if (c.mode64) {
            c.jumpTo64(target);
        } else {
            c.rip = target;
            c.eip = (int) target;
        }
        c.breakSlice = true;
    }
}
