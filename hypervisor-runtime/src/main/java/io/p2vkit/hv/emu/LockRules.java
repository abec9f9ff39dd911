package io.p2vkit.hv.emu;

import io.p2vkit.hv.emu.decode.DecodedInsn;

/**
 * Which instructions accept a LOCK prefix (SDM Vol. 2 LOCK): read-modify-write forms with a
 * memory destination only. Everything else raises #UD.
 */
final class LockRules {

    private LockRules() {
    }

    static boolean allowed(DecodedInsn d) {
        if (!d.isMemory()) {
            return false;
        }
        int op = d.opcode;
        if (op < 0x40) {
            return (op & 7) <= 1 && (op & 0x38) != 0x38; // ALU Eb,Gb / Ev,Gv except CMP
        }
        return switch (op) {
            case 0x80, 0x81, 0x82, 0x83 -> d.reg != 7;        // group 1 except CMP
            case 0x86, 0x87 -> true;                          // XCHG
            case 0xF6, 0xF7 -> d.reg == 2 || d.reg == 3;      // NOT, NEG
            case 0xFE, 0xFF -> d.reg <= 1;                    // INC, DEC
            case 0x1AB, 0x1B3, 0x1BB -> true;                 // BTS, BTR, BTC
            case 0x1BA -> (d.reg & 7) >= 5;                       // BTS/BTR/BTC Ev,Ib
            case 0x1B0, 0x1B1, 0x1C0, 0x1C1 -> true;          // CMPXCHG, XADD
            case 0x1C7 -> (d.reg & 7) == 1;                       // CMPXCHG8B
            default -> false;
        };
    }
}
