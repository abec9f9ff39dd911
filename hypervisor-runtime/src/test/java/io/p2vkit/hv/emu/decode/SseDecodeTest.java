package io.p2vkit.hv.emu.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Lengths and fields of SSE, SSE2 and MMX encodings (SDM Vol. 2 Appendix A): mandatory
 * prefixes, REX with 66/F2/F3, the immediates of PSHUF*, shift groups 12-14, CMPPS, PINSRW,
 * PEXTRW and SHUFPS, EMMS without a ModRM byte, group 15 register and memory forms.
 */
class SseDecodeTest {

    private static DecodedInsn d64(String hex) {
        byte[] b = bytes(hex);
        return Decoder.decode64(i -> b[i] & 0xFF);
    }

    private static DecodedInsn d32(String hex) {
        byte[] b = bytes(hex);
        return Decoder.decode(i -> b[i] & 0xFF, true);
    }

    private static byte[] bytes(String hex) {
        String[] parts = hex.trim().split("\\s+");
        byte[] b = new byte[parts.length + 15];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    @Test
    void immediatesAndModrm() {
        assertEquals(5, d32("66 0f 70 c1 1b").length, "pshufd xmm0, xmm1, 0x1b");
        assertEquals(4, d32("0f 70 c1 1b").length, "pshufw mm0, mm1, 0x1b");
        assertEquals(5, d32("66 0f 73 fb 08").length, "pslldq xmm3, 8");
        assertEquals(4, d32("0f 71 f0 03").length, "psllw mm0, 3");
        assertEquals(4, d32("0f c2 c1 07").length, "cmpps xmm0, xmm1, 7");
        assertEquals(9, d32("f2 0f c2 05 00 20 00 00 01").length, "cmpsd xmm0, [0x2000], 1");
        assertEquals(5, d32("66 0f c4 c0 05").length, "pinsrw xmm0, eax, 5");
        assertEquals(5, d32("66 0f c5 c1 07").length, "pextrw eax, xmm1, 7");
        assertEquals(4, d32("0f c6 c1 e4").length, "shufps xmm0, xmm1, 0xe4");
        assertEquals(0xE4, d32("0f c6 c1 e4").imm & 0xFF);
        assertEquals(2, d32("0f 77").length, "emms has no ModRM");
        assertEquals(3, d32("0f ae f8").length, "sfence");
        assertEquals(7, d32("0f ae 05 00 20 00 00").length, "fxsave [0x2000]");
        assertEquals(4, d32("f3 0f 58 c1").length, "addss");
    }

    @Test
    void rexWithMandatoryPrefixes() {
        DecodedInsn cvt = d64("f2 48 0f 2c c8");             // cvttsd2si rcx, xmm0
        assertEquals(5, cvt.length);
        assertEquals(DecodedInsn.PREFIX_REPNE, cvt.prefixes & DecodedInsn.PREFIX_REPNE);
        assertEquals(0x48, cvt.rex);
        assertEquals(1, cvt.reg);
        DecodedInsn movq = d64("66 4c 0f 6e c8");            // movq xmm9, rax
        assertEquals(9, movq.reg);
        assertEquals(0, movq.rm);
        assertEquals(DecodedInsn.PREFIX_OPSIZE, movq.prefixes & DecodedInsn.PREFIX_OPSIZE);
        DecodedInsn sh = d64("66 41 0f 73 fd 04");           // pslldq xmm13, 4
        assertEquals(6, sh.length);
        assertEquals(13, sh.rm);
        assertEquals(7, sh.reg);
        assertEquals(9, d64("f3 44 0f 6f 05 10 00 00 00").length, "movdqu xmm8, [rip+0x10]");
        assertEquals(DecodedInsn.BASE_RIP, d64("f3 44 0f 6f 05 10 00 00 00").base);
        assertEquals(5, d64("48 0f ae 40 10").length, "fxsave64 [rax+0x10]");
    }
}
