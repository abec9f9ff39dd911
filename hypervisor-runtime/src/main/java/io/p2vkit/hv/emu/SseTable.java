package io.p2vkit.hv.emu;

/**
 * The SSE, SSE2 and MMX rows of the dispatch tables, one per 0F opcode with its instructions in
 * a comment (the mandatory prefix picks among them inside the handler). The same handlers serve
 * 64-bit mode and the legacy modes: operands widen with REX where the SDM says so.
 */
final class SseTable {

    private SseTable() {
    }

    /** Fills the SSE/SSE2/MMX rows of {@code t} (Dispatch for legacy modes, Dispatch64). */
    static void register(Handler[] t) {
        t[0x110] = SseMoves::movUnaligned; // MOVUPS/MOVUPD/MOVSS/MOVSD xmm, xmm/m
        t[0x111] = SseMoves::movUnaligned; // MOVUPS/MOVUPD/MOVSS/MOVSD xmm/m, xmm
        t[0x112] = SseMoves::movHalf; // MOVLPS/MOVLPD xmm, m64; MOVHLPS xmm, xmm
        t[0x113] = SseMoves::movHalf; // MOVLPS/MOVLPD m64, xmm
        t[0x114] = SseFloat::unpack; // UNPCKLPS/UNPCKLPD
        t[0x115] = SseFloat::unpack; // UNPCKHPS/UNPCKHPD
        t[0x116] = SseMoves::movHalf; // MOVHPS/MOVHPD xmm, m64; MOVLHPS xmm, xmm
        t[0x117] = SseMoves::movHalf; // MOVHPS/MOVHPD m64, xmm
        t[0x118] = SystemOps::nop; // group 16: PREFETCHNTA/T0/T1/T2 (hints), hint NOPs
        t[0x128] = SseMoves::movAligned; // MOVAPS/MOVAPD xmm, xmm/m128
        t[0x129] = SseMoves::movAligned; // MOVAPS/MOVAPD xmm/m128, xmm
        t[0x12A] = SseConvert::fromInt; // CVTPI2PS/CVTPI2PD/CVTSI2SS/CVTSI2SD
        t[0x12B] = SseMoves::movAligned; // MOVNTPS/MOVNTPD m128, xmm
        t[0x12C] = SseConvert::toInt; // CVTTPS2PI/CVTTPD2PI/CVTTSS2SI/CVTTSD2SI
        t[0x12D] = SseConvert::toInt; // CVTPS2PI/CVTPD2PI/CVTSS2SI/CVTSD2SI
        t[0x12E] = SseFloat::comis; // UCOMISS/UCOMISD
        t[0x12F] = SseFloat::comis; // COMISS/COMISD
        t[0x150] = SseMoves::moveMask; // MOVMSKPS/MOVMSKPD r32, xmm
        t[0x151] = SseFloat::arith; // SQRTPS/SQRTPD/SQRTSS/SQRTSD
        t[0x152] = SseFloat::reciprocal; // RSQRTPS/RSQRTSS
        t[0x153] = SseFloat::reciprocal; // RCPPS/RCPSS
        t[0x154] = SseFloat::logic; // ANDPS/ANDPD
        t[0x155] = SseFloat::logic; // ANDNPS/ANDNPD
        t[0x156] = SseFloat::logic; // ORPS/ORPD
        t[0x157] = SseFloat::logic; // XORPS/XORPD
        t[0x158] = SseFloat::arith; // ADDPS/ADDPD/ADDSS/ADDSD
        t[0x159] = SseFloat::arith; // MULPS/MULPD/MULSS/MULSD
        t[0x15A] = SseConvert::precision; // CVTPS2PD/CVTPD2PS/CVTSS2SD/CVTSD2SS
        t[0x15B] = SseConvert::dwordSingle; // CVTDQ2PS/CVTPS2DQ/CVTTPS2DQ
        t[0x15C] = SseFloat::arith; // SUBPS/SUBPD/SUBSS/SUBSD
        t[0x15D] = SseFloat::arith; // MINPS/MINPD/MINSS/MINSD
        t[0x15E] = SseFloat::arith; // DIVPS/DIVPD/DIVSS/DIVSD
        t[0x15F] = SseFloat::arith; // MAXPS/MAXPD/MAXSS/MAXSD
        t[0x160] = SsePackedInt::unpack; // PUNPCKLBW mm/xmm
        t[0x161] = SsePackedInt::unpack; // PUNPCKLWD mm/xmm
        t[0x162] = SsePackedInt::unpack; // PUNPCKLDQ mm/xmm
        t[0x163] = SsePackedInt::pack; // PACKSSWB mm/xmm
        t[0x164] = SsePackedInt::binary; // PCMPGTB mm/xmm
        t[0x165] = SsePackedInt::binary; // PCMPGTW mm/xmm
        t[0x166] = SsePackedInt::binary; // PCMPGTD mm/xmm
        t[0x167] = SsePackedInt::pack; // PACKUSWB mm/xmm
        t[0x168] = SsePackedInt::unpack; // PUNPCKHBW mm/xmm
        t[0x169] = SsePackedInt::unpack; // PUNPCKHWD mm/xmm
        t[0x16A] = SsePackedInt::unpack; // PUNPCKHDQ mm/xmm
        t[0x16B] = SsePackedInt::pack; // PACKSSDW mm/xmm
        t[0x16C] = SsePackedInt::unpack; // PUNPCKLQDQ (66)
        t[0x16D] = SsePackedInt::unpack; // PUNPCKHQDQ (66)
        t[0x16E] = SseMoves::movdLoad; // MOVD/MOVQ mm/xmm, r/m32/64
        t[0x16F] = SseMoves::movAligned; // MOVQ mm, mm/m64; MOVDQA/MOVDQU xmm, xmm/m128
        t[0x170] = SsePackedInt::shuffle; // PSHUFW/PSHUFD/PSHUFHW/PSHUFLW
        t[0x171] = SsePackedInt::shiftByImm; // group 12: PSRLW/PSRAW/PSLLW imm8
        t[0x172] = SsePackedInt::shiftByImm; // group 13: PSRLD/PSRAD/PSLLD imm8
        t[0x173] = SsePackedInt::shiftByImm; // group 14: PSRLQ/PSRLDQ/PSLLQ/PSLLDQ imm8
        t[0x174] = SsePackedInt::binary; // PCMPEQB
        t[0x175] = SsePackedInt::binary; // PCMPEQW
        t[0x176] = SsePackedInt::binary; // PCMPEQD
        t[0x177] = SsePackedInt::emms; // EMMS
        t[0x17E] = SseMoves::movdStore; // MOVD/MOVQ r/m32/64, mm/xmm; MOVQ xmm, xmm/m64 (F3)
        t[0x17F] = SseMoves::movAligned; // MOVQ mm/m64, mm; MOVDQA/MOVDQU xmm/m128, xmm
        t[0x1AE] = FxSave::group15; // group 15: FXSAVE/FXRSTOR/LDMXCSR/STMXCSR/CLFLUSH, LFENCE/MFENCE/SFENCE
        t[0x1C2] = SseFloat::cmp; // CMPPS/CMPPD/CMPSS/CMPSD imm8
        t[0x1C3] = SseMoves::movnti; // MOVNTI m32/64, r32/64
        t[0x1C4] = SsePackedInt::pinsrw; // PINSRW mm/xmm, r32/m16, imm8
        t[0x1C5] = SsePackedInt::pextrw; // PEXTRW r32, mm/xmm, imm8
        t[0x1C6] = SseFloat::shuffle; // SHUFPS/SHUFPD imm8
        t[0x1D1] = SsePackedInt::shiftByReg; // PSRLW mm/xmm
        t[0x1D2] = SsePackedInt::shiftByReg; // PSRLD mm/xmm
        t[0x1D3] = SsePackedInt::shiftByReg; // PSRLQ mm/xmm
        t[0x1D4] = SsePackedInt::binary; // PADDQ mm/xmm
        t[0x1D5] = SsePackedInt::binary; // PMULLW mm/xmm
        t[0x1D6] = SseMoves::movqD6; // MOVQ xmm/m64, xmm; MOVQ2DQ; MOVDQ2Q
        t[0x1D7] = SseMoves::pmovmskb; // PMOVMSKB r32, mm/xmm
        t[0x1D8] = SsePackedInt::binary; // PSUBUSB mm/xmm
        t[0x1D9] = SsePackedInt::binary; // PSUBUSW mm/xmm
        t[0x1DA] = SsePackedInt::binary; // PMINUB mm/xmm
        t[0x1DB] = SsePackedInt::binary; // PAND mm/xmm
        t[0x1DC] = SsePackedInt::binary; // PADDUSB mm/xmm
        t[0x1DD] = SsePackedInt::binary; // PADDUSW mm/xmm
        t[0x1DE] = SsePackedInt::binary; // PMAXUB mm/xmm
        t[0x1DF] = SsePackedInt::binary; // PANDN mm/xmm
        t[0x1E0] = SsePackedInt::binary; // PAVGB mm/xmm
        t[0x1E1] = SsePackedInt::shiftByReg; // PSRAW mm/xmm
        t[0x1E2] = SsePackedInt::shiftByReg; // PSRAD mm/xmm
        t[0x1E3] = SsePackedInt::binary; // PAVGW mm/xmm
        t[0x1E4] = SsePackedInt::binary; // PMULHUW mm/xmm
        t[0x1E5] = SsePackedInt::binary; // PMULHW mm/xmm
        t[0x1E6] = SseConvert::dwordDouble; // CVTTPD2DQ/CVTDQ2PD/CVTPD2DQ
        t[0x1E7] = SseMoves::movAligned; // MOVNTQ m64, mm; MOVNTDQ m128, xmm
        t[0x1E8] = SsePackedInt::binary; // PSUBSB mm/xmm
        t[0x1E9] = SsePackedInt::binary; // PSUBSW mm/xmm
        t[0x1EA] = SsePackedInt::binary; // PMINSW mm/xmm
        t[0x1EB] = SsePackedInt::binary; // POR mm/xmm
        t[0x1EC] = SsePackedInt::binary; // PADDSB mm/xmm
        t[0x1ED] = SsePackedInt::binary; // PADDSW mm/xmm
        t[0x1EE] = SsePackedInt::binary; // PMAXSW mm/xmm
        t[0x1EF] = SsePackedInt::binary; // PXOR mm/xmm
        t[0x1F1] = SsePackedInt::shiftByReg; // PSLLW mm/xmm
        t[0x1F2] = SsePackedInt::shiftByReg; // PSLLD mm/xmm
        t[0x1F3] = SsePackedInt::shiftByReg; // PSLLQ mm/xmm
        t[0x1F4] = SsePackedInt::binary; // PMULUDQ mm/xmm
        t[0x1F5] = SsePackedInt::binary; // PMADDWD mm/xmm
        t[0x1F6] = SsePackedInt::binary; // PSADBW mm/xmm
        t[0x1F7] = SseMoves::maskedStore; // MASKMOVQ/MASKMOVDQU
        t[0x1F8] = SsePackedInt::binary; // PSUBB mm/xmm
        t[0x1F9] = SsePackedInt::binary; // PSUBW mm/xmm
        t[0x1FA] = SsePackedInt::binary; // PSUBD mm/xmm
        t[0x1FB] = SsePackedInt::binary; // PSUBQ mm/xmm
        t[0x1FC] = SsePackedInt::binary; // PADDB mm/xmm
        t[0x1FD] = SsePackedInt::binary; // PADDW mm/xmm
        t[0x1FE] = SsePackedInt::binary; // PADDD mm/xmm
    }
}
