package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/** IN and OUT to the {@link io.p2vkit.hv.bus.Bus}. */
final class IoOps {

    private IoOps() {
    }

    /**
     * In protected mode with CPL > IOPL the 32-bit (or 64-bit) TSS's I/O permission bitmap decides
     * (SDM Vol. 1 §19.5.2): every bit for the accessed ports must be clear and inside the TSS
     * limit, else #GP(0). A 16-bit TSS has no bitmap.
     */
    static void checkIoPermission(Cpu c, int port, int size) {
        if (!c.protectedMode() || c.cpl <= c.iopl()) {
            return;
        }
        int type = c.trAttr & 0xF;
        if (type != 9 && type != 0xB) {
            throw CpuFault.gp(0);
        }
        if (c.trLimit < 0x67) {
            throw CpuFault.gp(0);
        }
        int mapBase = c.mmu.systemRead(c.tableAddress(c.trBase64, 0x66), 2) & 0xFFFF;
        int byteOffset = mapBase + (port >>> 3);
        if (byteOffset + 1 > (c.trLimit & 0xFFFF_FFFFL)) {
            throw CpuFault.gp(0);
        }
        int bits = c.mmu.systemRead(c.tableAddress(c.trBase64, byteOffset), 2) & 0xFFFF;
        int mask = ((1 << size) - 1) << (port & 7);
        if ((bits & mask) != 0) {
            throw CpuFault.gp(0);
        }
    }

    /** The operand size of IN/OUT: 1, 2 or 4 bytes (REX.W does not widen it). */
    private static int size(DecodedInsn d) {
        return (d.opcode & 1) == 0 ? 1 : Math.min(d.opSize(), 4);
    }

    /** E4/E5 (port Ib), EC/ED (port DX): IN. */
    static void in(Cpu c, DecodedInsn d) {
        int size = size(d);
        int port = d.opcode < 0xE8 ? d.imm & 0xFF : c.r32(Cpu.EDX) & 0xFFFF;
        checkIoPermission(c, port, size);
        c.setReg(Cpu.EAX, size, c.bus.pioRead(port, size));
    }

    /** E6/E7 (port Ib), EE/EF (port DX): OUT. */
    static void out(Cpu c, DecodedInsn d) {
        int size = size(d);
        int port = d.opcode < 0xE8 ? d.imm & 0xFF : c.r32(Cpu.EDX) & 0xFFFF;
        checkIoPermission(c, port, size);
        c.bus.pioWrite(port, size, c.reg(Cpu.EAX, size));
        c.breakSlice = true; // a device may have raised an interrupt line
    }
}
