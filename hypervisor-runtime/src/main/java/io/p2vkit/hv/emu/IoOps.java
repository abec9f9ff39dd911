package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/** IN and OUT to the {@link io.p2vkit.hv.bus.Bus}. */
final class IoOps {

    private IoOps() {
    }

    /**
     * In protected mode with CPL > IOPL the TSS I/O permission bitmap decides (SDM Vol. 1
     * §19.5.2); we do not read the bitmap and refuse all such accesses with #GP.
     */
    static void checkIoPermission(Cpu c) {
        if (c.protectedMode() && c.cpl > c.iopl()) {
            throw CpuFault.gp(0);
        }
    }

    /** E4/E5 (port Ib), EC/ED (port DX): IN. */
    static void in(Cpu c, DecodedInsn d) {
        checkIoPermission(c);
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int port = d.opcode < 0xE8 ? d.imm & 0xFF : c.r[Cpu.EDX] & 0xFFFF;
        c.setReg(Cpu.EAX, size, c.bus.pioRead(port, size));
    }

    /** E6/E7 (port Ib), EE/EF (port DX): OUT. */
    static void out(Cpu c, DecodedInsn d) {
        checkIoPermission(c);
        int size = (d.opcode & 1) == 0 ? 1 : d.opSize();
        int port = d.opcode < 0xE8 ? d.imm & 0xFF : c.r[Cpu.EDX] & 0xFFFF;
        c.bus.pioWrite(port, size, c.reg(Cpu.EAX, size));
        c.breakSlice = true; // a device may have raised an interrupt line
    }
}
