package io.p2vkit.hv.emu.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** 64-bit mode decoding from byte strings (SDM Vol. 2 §2.2.1 and Appendix A). */
class Decoder64Test {

    private static DecodedInsn decode64(String hex) {
        byte[] bytes = bytes(hex);
        return Decoder.decode64(i -> {
            if (i >= bytes.length) {
                throw new IndexOutOfBoundsException("decoder read past the instruction: byte " + i);
            }
            return bytes[i] & 0xFF;
        });
    }

    private static byte[] bytes(String hex) {
        String[] parts = hex.trim().split("\\s+");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    @ParameterizedTest(name = "{0}: {1} bytes, operand size {2}")
    @CsvSource({
        "01 D8, 2, 4",                          // add eax, ebx
        "48 01 D8, 3, 8",                       // add rax, rbx
        "66 01 D8, 3, 2",                       // add ax, bx
        "66 48 01 D8, 4, 8",                    // REX.W wins over 66
        "48 66 01 D8, 4, 2",                    // a REX before 66 is ignored: add ax, bx
        "48 05 78 56 34 12, 6, 8",              // add rax, imm32 (sign-extended)
        "48 C7 C0 FF FF FF FF, 7, 8",           // mov rax, -1
        "48 B8 88 77 66 55 44 33 22 11, 10, 8", // mov rax, imm64
        "B8 78 56 34 12, 5, 4",                 // mov eax, imm32
        "66 B8 34 12, 4, 2",                    // mov ax, imm16
        "50, 1, 8",                             // push rax (d64)
        "66 50, 2, 2",                          // push ax
        "41 5F, 2, 8",                          // pop r15
        "6A FF, 2, 8",                          // push -1
        "68 00 10 00 00, 5, 8",                 // push imm32
        "FF F0, 2, 8",                          // push rax (FF /6)
        "FF C0, 2, 4",                          // inc eax
        "FF D0, 2, 8",                          // call rax (f64)
        "66 FF E0, 3, 8",                       // jmp rax: 66 ignored (Intel)
        "E8 00 00 00 00, 5, 8",                 // call rel32
        "66 E9 00 00 00 00, 6, 8",              // jmp rel32 (66 ignored, still rel32)
        "0F 84 00 01 00 00, 6, 8",              // jz rel32
        "C3, 1, 8",                             // ret
        "9C, 1, 8",                             // pushfq
        "48 63 C3, 3, 8",                       // movsxd rax, ebx
        "0F 22 C0, 3, 8",                       // mov cr0, rax
        "48 F7 C0 00 00 00 80, 7, 8",           // test rax, imm32
        "48 A1 08 07 06 05 04 03 02 01, 10, 8", // mov rax, [moffs64]
        "67 A1 04 03 02 01, 6, 4",              // mov eax, [moffs32]
        "40 90, 2, 4",                          // REX then nop
        "F3 48 AB, 3, 8",                       // rep stosq
    })
    void lengthAndOperandSize(String hex, int length, int opSize) {
        DecodedInsn d = decode64(hex);
        assertEquals(length, d.length, d.toString());
        assertEquals(opSize, d.opSize(), d.toString());
        assertTrue(d.code64());
        assertFalse(d.invalid());
    }

    @Test
    void rexExtendsRegisterFields() {
        DecodedInsn d = decode64("4C 01 C0");           // add rax, r8
        assertEquals(8, d.reg);
        assertEquals(0, d.rm);
        d = decode64("49 01 C7");                       // add r15, rax
        assertEquals(0, d.reg);
        assertEquals(15, d.rm);
        d = decode64("41 50");                          // push r8
        assertEquals(8, d.rm);
        d = decode64("49 91");                          // xchg r9, rax
        assertEquals(9, d.rm);
        assertEquals(8, d.opSize());
        d = decode64("41 0F C8");                       // bswap r8d
        assertEquals(8, d.rm);
        assertEquals(4, d.opSize());
        d = decode64("49 BC 01 00 00 00 00 00 00 80");  // mov r12, 0x8000000000000001
        assertEquals(12, d.rm);
        assertEquals(0x8000_0000_0000_0001L, d.imm64());
        d = decode64("48 A1 08 07 06 05 04 03 02 81");  // mov rax, [moffs64]: both halves of the offset
        assertEquals(0x8102_0304_0506_0708L, d.imm64());
        d = decode64("44 0F 22 C0");                    // mov cr8, rax
        assertEquals(8, d.reg);
        d = decode64("B4 01");                          // mov ah, 1 (no REX: AH)
        assertEquals(4, d.rm);
        assertEquals(0, d.rex);
    }

    @Test
    void byteRegistersWithRexAreSplBplSilDil() {
        DecodedInsn d = decode64("40 88 F0");           // mov al, sil
        assertEquals(6, d.reg);
        assertEquals(0x40, d.rex);
        d = decode64("88 F0");                          // mov al, dh
        assertEquals(6, d.reg);
        assertEquals(0, d.rex);
    }

    @Test
    void ripRelativeAndSibForms() {
        DecodedInsn d = decode64("48 8B 05 10 00 00 00"); // mov rax, [rip+0x10]
        assertEquals(DecodedInsn.BASE_RIP, d.base);
        assertEquals(-1, d.index);
        assertEquals(0x10, d.disp);
        assertTrue(d.addr64());
        d = decode64("67 8B 05 F0 FF FF FF");           // mov eax, [eip-0x10]
        assertEquals(DecodedInsn.BASE_RIP, d.base);
        assertEquals(-0x10, d.disp);
        assertTrue(d.addr32());
        assertFalse(d.addr64());
        d = decode64("8B 04 25 00 10 00 00");           // mov eax, [0x1000] (SIB, no base: absolute)
        assertEquals(-1, d.base);
        assertEquals(-1, d.index);
        assertEquals(0x1000, d.disp);
        assertEquals(7, d.length);
        d = decode64("42 8B 04 A5 00 10 00 00");        // mov eax, [r12*4+0x1000]
        assertEquals(-1, d.base);
        assertEquals(12, d.index);
        assertEquals(2, d.scale);
        d = decode64("41 8B 04 24");                    // mov eax, [r12]
        assertEquals(12, d.base);
        assertEquals(-1, d.index);
        assertEquals(3, d.seg, "r12 is not rSP: DS");
        d = decode64("41 8B 45 00");                    // mov eax, [r13+0]
        assertEquals(13, d.base);
        assertEquals(4, d.length);
        assertEquals(3, d.seg);
        d = decode64("48 8B 44 24 08");                 // mov rax, [rsp+8]
        assertEquals(4, d.base);
        assertEquals(2, d.seg);
        d = decode64("4A 8D 04 C8");                    // lea rax, [rax+r9*8]
        assertEquals(0, d.base);
        assertEquals(9, d.index);
        assertEquals(3, d.scale);
    }

    @Test
    void segmentOverridesOtherThanFsGsAreIgnored() {
        DecodedInsn d = decode64("2E 8B 00");           // cs: mov eax, [rax]
        assertEquals(3, d.seg);
        assertEquals(0, d.prefixes & DecodedInsn.PREFIX_SEG);
        d = decode64("65 48 8B 04 25 28 00 00 00");     // mov rax, gs:[0x28]
        assertEquals(5, d.seg);
        assertEquals(9, d.length);
    }

    @ParameterizedTest(name = "{0} is invalid in 64-bit mode")
    @CsvSource({"06", "07", "0E", "16", "17", "1E", "1F", "27", "2F", "37", "3F", "60", "61", "62",
        "82", "9A", "C4", "C5", "CE", "D4", "D5", "D6", "EA"})
    void i64OpcodesAreInvalid(String hex) {
        assertTrue(decode64(hex).invalid());
    }

    @Test
    void fortyToFourFAreRexOnlyIn64BitMode() {
        DecodedInsn d = Decoder.decode(i -> new int[] {0x48, 0x01, 0xD8}[i], true);
        assertEquals(0x48, d.opcode, "dec eax in 32-bit code");
        assertEquals(1, d.length);
        assertFalse(d.code64());
        d = decode64("48 48 48 01 D8");                 // repeated REX: the last counts
        assertEquals(0x01, d.opcode);
        assertEquals(5, d.length);
        assertEquals(8, d.opSize());
    }

    @Test
    void fifteenByteLimitCountsRex() {
        // 10 operand-size prefixes, REX.W, mov rax, imm64 = 20 bytes.
        assertThrows(DecodeException.class,
                () -> decode64("66 66 66 66 66 48 B8 01 02 03 04 05 06 07 08"
                        .replace("66 66 66 66 66", "66 66 66 66 66 66 66 66 66 66") + " 09 0A"));
        DecodedInsn d = decode64("66 66 66 66 66 48 B8 01 02 03 04 05 06 07 08");
        assertEquals(15, d.length);
    }
}
