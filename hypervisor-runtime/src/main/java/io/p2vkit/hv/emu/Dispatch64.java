package io.p2vkit.hv.emu;

import java.util.Arrays;

/**
 * The dispatch table of 64-bit mode: one row per opcode (0x000-0x0FF one-byte map, 0x100-0x1FF
 * the 0F map) with the instruction in a comment. What has no row raises #UD and is counted as
 * unimplemented; the i64 opcodes never get here (the decoder marks them invalid: plain #UD).
 */
final class Dispatch64 {

    private static final Handler UNDEFINED = SystemOps::undefined;

    static final Handler[] TABLE = build();

    private Dispatch64() {
    }

    private static Handler[] build() {
        Handler[] t = new Handler[512];
        Arrays.fill(t, UNDEFINED);
        t[0x000] = Ops64::arith; // ADD Eb,Gb
        t[0x001] = Ops64::arith; // ADD Ev,Gv
        t[0x002] = Ops64::arith; // ADD Gb,Eb
        t[0x003] = Ops64::arith; // ADD Gv,Ev
        t[0x004] = Ops64::arith; // ADD AL,Ib
        t[0x005] = Ops64::arith; // ADD rAX,Iz
        t[0x008] = Ops64::arith; // OR Eb,Gb
        t[0x009] = Ops64::arith; // OR Ev,Gv
        t[0x00A] = Ops64::arith; // OR Gb,Eb
        t[0x00B] = Ops64::arith; // OR Gv,Ev
        t[0x00C] = Ops64::arith; // OR AL,Ib
        t[0x00D] = Ops64::arith; // OR rAX,Iz
        t[0x010] = Ops64::arith; // ADC Eb,Gb
        t[0x011] = Ops64::arith; // ADC Ev,Gv
        t[0x012] = Ops64::arith; // ADC Gb,Eb
        t[0x013] = Ops64::arith; // ADC Gv,Ev
        t[0x014] = Ops64::arith; // ADC AL,Ib
        t[0x015] = Ops64::arith; // ADC rAX,Iz
        t[0x018] = Ops64::arith; // SBB Eb,Gb
        t[0x019] = Ops64::arith; // SBB Ev,Gv
        t[0x01A] = Ops64::arith; // SBB Gb,Eb
        t[0x01B] = Ops64::arith; // SBB Gv,Ev
        t[0x01C] = Ops64::arith; // SBB AL,Ib
        t[0x01D] = Ops64::arith; // SBB rAX,Iz
        t[0x020] = Ops64::arith; // AND Eb,Gb
        t[0x021] = Ops64::arith; // AND Ev,Gv
        t[0x022] = Ops64::arith; // AND Gb,Eb
        t[0x023] = Ops64::arith; // AND Gv,Ev
        t[0x024] = Ops64::arith; // AND AL,Ib
        t[0x025] = Ops64::arith; // AND rAX,Iz
        t[0x028] = Ops64::arith; // SUB Eb,Gb
        t[0x029] = Ops64::arith; // SUB Ev,Gv
        t[0x02A] = Ops64::arith; // SUB Gb,Eb
        t[0x02B] = Ops64::arith; // SUB Gv,Ev
        t[0x02C] = Ops64::arith; // SUB AL,Ib
        t[0x02D] = Ops64::arith; // SUB rAX,Iz
        t[0x030] = Ops64::arith; // XOR Eb,Gb
        t[0x031] = Ops64::arith; // XOR Ev,Gv
        t[0x032] = Ops64::arith; // XOR Gb,Eb
        t[0x033] = Ops64::arith; // XOR Gv,Ev
        t[0x034] = Ops64::arith; // XOR AL,Ib
        t[0x035] = Ops64::arith; // XOR rAX,Iz
        t[0x038] = Ops64::arith; // CMP Eb,Gb
        t[0x039] = Ops64::arith; // CMP Ev,Gv
        t[0x03A] = Ops64::arith; // CMP Gb,Eb
        t[0x03B] = Ops64::arith; // CMP Gv,Ev
        t[0x03C] = Ops64::arith; // CMP AL,Ib
        t[0x03D] = Ops64::arith; // CMP rAX,Iz
        for (int op = 0x050; op <= 0x057; op++) {
            t[op] = Ops64::pushReg; // PUSH r64
        }
        for (int op = 0x058; op <= 0x05F; op++) {
            t[op] = Ops64::popReg; // POP r64
        }
        t[0x063] = Ops64::movsxd; // MOVSXD Gv,Ed
        t[0x068] = Ops64::pushImm; // PUSH Iz
        t[0x069] = Arith64::imul; // IMUL Gv,Ev,Iz
        t[0x06A] = Ops64::pushImm; // PUSH Ib
        t[0x06B] = Arith64::imul; // IMUL Gv,Ev,Ib
        t[0x06C] = StringOps64::string; // INSB
        t[0x06D] = StringOps64::string; // INSW/D
        t[0x06E] = StringOps64::string; // OUTSB
        t[0x06F] = StringOps64::string; // OUTSW/D
        for (int op = 0x070; op <= 0x07F; op++) {
            t[op] = Ops64::jcc; // Jcc rel8
        }
        t[0x080] = Ops64::group1; // group 1 Eb,Ib
        t[0x081] = Ops64::group1; // group 1 Ev,Iz
        t[0x083] = Ops64::group1; // group 1 Ev,Ib
        t[0x084] = Ops64::test; // TEST Eb,Gb
        t[0x085] = Ops64::test; // TEST Ev,Gv
        t[0x086] = Ops64::xchg; // XCHG Eb,Gb
        t[0x087] = Ops64::xchg; // XCHG Ev,Gv
        t[0x088] = Ops64::mov; // MOV Eb,Gb
        t[0x089] = Ops64::mov; // MOV Ev,Gv
        t[0x08A] = Ops64::mov; // MOV Gb,Eb
        t[0x08B] = Ops64::mov; // MOV Gv,Ev
        t[0x08C] = System64::movFromSeg; // MOV Ev,Sreg
        t[0x08D] = Ops64::lea; // LEA Gv,M
        t[0x08E] = System64::movToSeg; // MOV Sreg,Ew
        t[0x08F] = Ops64::popRm; // POP Ev
        for (int op = 0x090; op <= 0x097; op++) {
            t[op] = Ops64::xchgAcc; // XCHG r,rAX (90: NOP, PAUSE)
        }
        t[0x098] = Ops64::convert; // CBW/CWDE/CDQE
        t[0x099] = Ops64::convert; // CWD/CDQ/CQO
        t[0x09B] = X87::fwait; // FWAIT
        t[0x09C] = StringOps64::pushf; // PUSHFQ
        t[0x09D] = StringOps64::popf; // POPFQ
        t[0x09E] = Moves::sahf; // SAHF
        t[0x09F] = Moves::lahf; // LAHF
        t[0x0A0] = Ops64::movMoffs; // MOV AL,Ob
        t[0x0A1] = Ops64::movMoffs; // MOV rAX,Ov
        t[0x0A2] = Ops64::movMoffs; // MOV Ob,AL
        t[0x0A3] = Ops64::movMoffs; // MOV Ov,rAX
        t[0x0A4] = StringOps64::string; // MOVSB
        t[0x0A5] = StringOps64::string; // MOVSW/D/Q
        t[0x0A6] = StringOps64::string; // CMPSB
        t[0x0A7] = StringOps64::string; // CMPSW/D/Q
        t[0x0A8] = Ops64::test; // TEST AL,Ib
        t[0x0A9] = Ops64::test; // TEST rAX,Iz
        t[0x0AA] = StringOps64::string; // STOSB
        t[0x0AB] = StringOps64::string; // STOSW/D/Q
        t[0x0AC] = StringOps64::string; // LODSB
        t[0x0AD] = StringOps64::string; // LODSW/D/Q
        t[0x0AE] = StringOps64::string; // SCASB
        t[0x0AF] = StringOps64::string; // SCASW/D/Q
        for (int op = 0x0B0; op <= 0x0BF; op++) {
            t[op] = Ops64::movImmReg; // MOV r8,Ib / MOV r,Iz / MOV r64,imm64
        }
        t[0x0C0] = Arith64::group2; // group 2 Eb,Ib
        t[0x0C1] = Arith64::group2; // group 2 Ev,Ib
        t[0x0C2] = Ops64::ret; // RET Iw
        t[0x0C3] = Ops64::ret; // RET
        t[0x0C6] = Ops64::movImmRm; // MOV Eb,Ib
        t[0x0C7] = Ops64::movImmRm; // MOV Ev,Iz
        t[0x0C8] = StringOps64::enter; // ENTER Iw,Ib
        t[0x0C9] = StringOps64::leave; // LEAVE
        t[0x0CA] = Far64::retFar; // RETF Iw
        t[0x0CB] = Far64::retFar; // RETF
        t[0x0CC] = ControlFlow::softwareInterrupt; // INT3
        t[0x0CD] = ControlFlow::softwareInterrupt; // INT Ib
        t[0x0CF] = Interrupts64::iret; // IRETQ / IRETD / IRET
        t[0x0D0] = Arith64::group2; // group 2 Eb,1
        t[0x0D1] = Arith64::group2; // group 2 Ev,1
        t[0x0D2] = Arith64::group2; // group 2 Eb,CL
        t[0x0D3] = Arith64::group2; // group 2 Ev,CL
        t[0x0D7] = Ops64::xlat; // XLAT
        for (int op = 0x0D8; op <= 0x0DF; op++) {
            t[op] = X87::escape; // x87 escapes D8-DF
        }
        t[0x0E0] = Bits64::loop; // LOOPNE rel8
        t[0x0E1] = Bits64::loop; // LOOPE rel8
        t[0x0E2] = Bits64::loop; // LOOP rel8
        t[0x0E3] = Bits64::loop; // JRCXZ rel8
        t[0x0E4] = IoOps::in; // IN AL,Ib
        t[0x0E5] = IoOps::in; // IN eAX,Ib
        t[0x0E6] = IoOps::out; // OUT Ib,AL
        t[0x0E7] = IoOps::out; // OUT Ib,eAX
        t[0x0E8] = Ops64::callRel; // CALL rel32
        t[0x0E9] = Ops64::jmpRel; // JMP rel32
        t[0x0EB] = Ops64::jmpRel; // JMP rel8
        t[0x0EC] = IoOps::in; // IN AL,DX
        t[0x0ED] = IoOps::in; // IN eAX,DX
        t[0x0EE] = IoOps::out; // OUT DX,AL
        t[0x0EF] = IoOps::out; // OUT DX,eAX
        t[0x0F1] = ControlFlow::softwareInterrupt; // INT1
        t[0x0F4] = SystemOps::hlt; // HLT
        t[0x0F5] = Moves::flagOp; // CMC
        t[0x0F6] = Ops64::group3; // group 3 Eb
        t[0x0F7] = Ops64::group3; // group 3 Ev
        t[0x0F8] = Moves::flagOp; // CLC
        t[0x0F9] = Moves::flagOp; // STC
        t[0x0FA] = Moves::cliSti; // CLI
        t[0x0FB] = Moves::cliSti; // STI
        t[0x0FC] = Moves::flagOp; // CLD
        t[0x0FD] = Moves::flagOp; // STD
        t[0x0FE] = Ops64::group4; // group 4 (INC/DEC Eb)
        t[0x0FF] = Ops64::group5; // group 5
        t[0x100] = System64::group6; // group 6: SLDT, STR, LLDT, LTR, VERR, VERW
        t[0x101] = System64::group7; // group 7: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG, SWAPGS, XGETBV, XSETBV
        t[0x105] = Syscall64::syscall; // SYSCALL
        t[0x106] = SystemOps::clts; // CLTS
        t[0x107] = Syscall64::sysret; // SYSRET
        t[0x108] = SystemOps::cacheFlush; // INVD
        t[0x109] = SystemOps::cacheFlush; // WBINVD
        t[0x10B] = SystemOps::ud2; // UD2
        t[0x10D] = SystemOps::nop; // prefetch
        for (int op = 0x118; op <= 0x11F; op++) {
            t[op] = SystemOps::nop; // hint NOPs (0F 1F: the multi-byte NOP)
        }
        t[0x120] = SystemOps::movCr64; // MOV r64,CRn
        t[0x121] = System64::movDr; // MOV r64,DRn
        t[0x122] = SystemOps::movCr64; // MOV CRn,r64
        t[0x123] = System64::movDr; // MOV DRn,r64
        t[0x130] = SystemOps::wrmsr; // WRMSR
        t[0x131] = SystemOps::rdtsc; // RDTSC
        t[0x132] = SystemOps::rdmsr; // RDMSR
        for (int op = 0x140; op <= 0x14F; op++) {
            t[op] = Ops64::cmov; // CMOVcc
        }
        for (int op = 0x180; op <= 0x18F; op++) {
            t[op] = Ops64::jcc; // Jcc rel32
        }
        for (int op = 0x190; op <= 0x19F; op++) {
            t[op] = Ops64::setcc; // SETcc Eb
        }
        t[0x1A0] = System64::pushSeg; // PUSH FS
        t[0x1A1] = System64::popSeg; // POP FS
        t[0x1A2] = SystemOps::cpuid; // CPUID
        t[0x1A3] = Bits64::bitTest; // BT Ev,Gv
        t[0x1A4] = Arith64::doubleShift; // SHLD Ev,Gv,Ib
        t[0x1A5] = Arith64::doubleShift; // SHLD Ev,Gv,CL
        t[0x1A8] = System64::pushSeg; // PUSH GS
        t[0x1A9] = System64::popSeg; // POP GS
        t[0x1AB] = Bits64::bitTest; // BTS Ev,Gv
        t[0x1AC] = Arith64::doubleShift; // SHRD Ev,Gv,Ib
        t[0x1AD] = Arith64::doubleShift; // SHRD Ev,Gv,CL
        t[0x1AF] = Arith64::imul; // IMUL Gv,Ev
        t[0x1B0] = Bits64::cmpxchg; // CMPXCHG Eb,Gb
        t[0x1B1] = Bits64::cmpxchg; // CMPXCHG Ev,Gv
        t[0x1B2] = System64::loadFarPointer; // LSS Gv,Mp
        t[0x1B3] = Bits64::bitTest; // BTR Ev,Gv
        t[0x1B4] = System64::loadFarPointer; // LFS Gv,Mp
        t[0x1B5] = System64::loadFarPointer; // LGS Gv,Mp
        t[0x1B6] = Ops64::movx; // MOVZX Gv,Eb
        t[0x1B7] = Ops64::movx; // MOVZX Gv,Ew
        t[0x1BA] = Bits64::bitTest; // group 8: BT/BTS/BTR/BTC Ev,Ib
        t[0x1BB] = Bits64::bitTest; // BTC Ev,Gv
        t[0x1BC] = Bits64::bitScan; // BSF Gv,Ev
        t[0x1BD] = Bits64::bitScan; // BSR Gv,Ev
        t[0x1BE] = Ops64::movx; // MOVSX Gv,Eb
        t[0x1BF] = Ops64::movx; // MOVSX Gv,Ew
        t[0x1C0] = Bits64::xadd; // XADD Eb,Gb
        t[0x1C1] = Bits64::xadd; // XADD Ev,Gv
        t[0x1C7] = Bits64::cmpxchgWide; // group 9: CMPXCHG8B/16B
        for (int op = 0x1C8; op <= 0x1CF; op++) {
            t[op] = Ops64::bswap; // BSWAP
        }
        SseTable.register(t); // SSE, SSE2, MMX: 0F 10-17, 28-2F, 50-7F, AE, C2-C6, D1-FE
        return t;
    }
}
