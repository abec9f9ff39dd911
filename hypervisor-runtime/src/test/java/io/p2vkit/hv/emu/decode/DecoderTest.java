package io.p2vkit.hv.emu.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DecoderTest {

    private static DecodedInsn decode(String hex, boolean code32) {
        String[] parts = hex.trim().split("\\s+");
        byte[] bytes = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return Decoder.decode(i -> {
            if (i >= bytes.length) {
                throw new IndexOutOfBoundsException("decoder read past the instruction: byte " + i);
            }
            return bytes[i] & 0xFF;
        }, code32);
    }

    @ParameterizedTest(name = "{0} ({1}-bit) is {2} bytes")
    @CsvSource({
        "90, 32, 1",
        "01 D8, 32, 2",                    // add eax, ebx
        "05 78 56 34 12, 32, 5",           // add eax, imm32
        "66 05 34 12, 32, 4",              // add ax, imm16
        "05 34 12, 16, 3",                 // add ax, imm16 in 16-bit code
        "66 05 78 56 34 12, 16, 6",        // add eax, imm32 in 16-bit code
        "83 C0 FF, 32, 3",                 // add eax, -1
        "81 04 24 78 56 34 12, 32, 7",     // add dword [esp], imm32
        "8B 44 24 08, 32, 4",              // mov eax, [esp+8]
        "8B 84 88 00 01 00 00, 32, 7",     // mov eax, [eax+ecx*4+0x100]
        "8B 05 00 10 00 00, 32, 6",        // mov eax, [0x1000]
        "8B 04 25 00 10 00 00, 32, 7",     // mov eax, [0x1000] via SIB without base
        "8B 07, 16, 2",                    // mov ax, [bx]
        "8B 06 34 12, 16, 4",              // mov ax, [0x1234]
        "8B 46 FE, 16, 3",                 // mov ax, [bp-2]
        "8B 87 00 80, 16, 4",              // mov ax, [bx+0x8000]
        "67 8B 04 24, 16, 4",              // mov ax, [esp] with an address-size prefix
        "67 8B 07, 32, 3",                 // mov eax, [bx] in 32-bit code
        "C7 05 00 10 00 00 78 56 34 12, 32, 10",
        "66 C7 05 00 10 00 00 34 12, 32, 9",
        "F6 C3 01, 32, 3",                 // test bl, 1
        "F7 C3 01 00 00 00, 32, 6",        // test ebx, 1
        "F7 E3, 32, 2",                    // mul ebx (no immediate)
        "F6 F3, 32, 2",                    // div bl
        "EA 00 10 08 00 00 00, 32, 7",     // jmp far 0008:00001000
        "EA 5B E0 00 F0, 16, 5",           // jmp far F000:E05B
        "66 EA 00 10 00 00 08 00, 16, 8",  // jmp dword far in 16-bit code
        "A1 00 10 00 00, 32, 5",           // mov eax, [moffs32]
        "A1 00 10, 16, 3",                 // mov ax, [moffs16]
        "67 A1 00 10 00 00, 16, 6",        // moffs with address-size prefix
        "C8 10 00 01, 32, 4",              // enter 16, 1
        "C2 08 00, 32, 3",                 // ret 8
        "CD 10, 16, 2",
        "0F 20 C0, 32, 3",                 // mov eax, cr0
        "0F 22 00, 32, 3",                 // mov cr0, eax encoded with mod=0: still a register
        "0F 84 00 00 00 00, 32, 6",        // jz rel32
        "0F 84 00 00, 16, 4",              // jz rel16
        "0F B6 04 1E, 32, 4",              // movzx eax, byte [esi+ebx]
        "0F BA E0 05, 32, 4",              // bt eax, 5
        "0F A4 C3 04, 32, 4",              // shld ebx, eax, 4
        "0F 01 15 00 10 00 00, 32, 7",     // lgdt [0x1000]
        "0F 01 16 00 10, 16, 5",           // lgdt [0x1000] in 16-bit code
        "F3 A5, 32, 2",                    // rep movsd
        "2E 8B 07, 16, 3",                 // mov ax, cs:[bx]
        "F0 0F B1 0B, 32, 4",              // lock cmpxchg [ebx], ecx
        "C1 E0 04, 32, 3",
        "69 C0 10 27 00 00, 32, 6",        // imul eax, eax, 10000
        "6B C0 0A, 32, 3",
        "D9 7D FE, 32, 3",                 // fnstcw [ebp-2]
        "DB E3, 32, 2",                    // fninit
        "8B 44 8D 00, 32, 4",              // [ebp+ecx*4+0]: disp8 with EBP base
        "8B 04 8D 00 10 00 00, 32, 7",     // [ecx*4+0x1000]: no base
    })
    void lengths(String hex, int bits, int length) {
        assertEquals(length, decode(hex, bits == 32).length, hex);
    }

    @Test
    void modrmAndSibFields() {
        DecodedInsn d = decode("8B 84 88 00 01 00 00", true);
        assertEquals(0x8B, d.opcode);
        assertEquals(2, d.mod);
        assertEquals(0, d.reg);
        assertEquals(0, d.base);
        assertEquals(1, d.index);
        assertEquals(2, d.scale);
        assertEquals(0x100, d.disp);
        assertEquals(3, d.seg);
        assertTrue(d.isMemory());
    }

    @Test
    void ebpAndEspBasesDefaultToStackSegment() {
        assertEquals(2, decode("8B 45 08", true).seg);       // [ebp+8]
        assertEquals(2, decode("8B 04 24", true).seg);       // [esp]
        assertEquals(3, decode("8B 04 8D 00 10 00 00", true).seg); // no base: DS
        assertEquals(2, decode("8B 46 FE", false).seg);      // [bp-2]
        assertEquals(2, decode("8B 02", false).seg);         // [bp+si]
        assertEquals(3, decode("8B 06 34 12", false).seg);   // [disp16]: DS, not BP
        assertEquals(5, decode("65 8B 45 08", true).seg);    // gs override wins
    }

    @Test
    void sixteenBitForms() {
        DecodedInsn d = decode("8B 40 FE", false); // mov ax, [bx+si-2]
        assertEquals(3, d.base);
        assertEquals(6, d.index);
        assertEquals(-2, d.disp);
        assertFalse(d.addr32());
        assertFalse(d.op32());
        d = decode("8B 06 FE FF", false); // [0xFFFE]: disp16 zero-extended
        assertEquals(-1, d.base);
        assertEquals(0xFFFE, d.disp);
    }

    @Test
    void immediatesAreSignExtendedByWidth() {
        assertEquals(-1, decode("83 C0 FF", true).imm);
        assertEquals(0xFFFF_8000, decode("66 05 00 80", true).imm);
        assertEquals(0x12345678, decode("B8 78 56 34 12", true).imm);
        assertEquals(0xFF, decode("E4 FF", true).imm);            // port numbers are unsigned
        assertEquals(0x80, decode("CD 80", true).imm);            // INT n is unsigned
        DecodedInsn far = decode("EA 5B E0 00 F0", false);
        assertEquals(0xE05B, far.imm);
        assertEquals(0xF000, far.imm2);
        DecodedInsn enter = decode("C8 10 00 03", true);
        assertEquals(0x10, enter.imm);
        assertEquals(3, enter.imm2);
    }

    @Test
    void prefixes() {
        DecodedInsn d = decode("F3 66 A5", true);
        assertTrue(d.rep());
        assertFalse(d.op32());
        d = decode("F3 F2 AE", true); // the last of F2/F3 wins
        assertTrue(d.repne());
        assertFalse(d.rep());
        d = decode("66 67 8B 07", true);
        assertFalse(d.op32());
        assertFalse(d.addr32());
        assertEquals(0x1B1, decode("F0 0F B1 0B", true).opcode);
        assertTrue((decode("F0 0F B1 0B", true).prefixes & DecodedInsn.PREFIX_LOCK) != 0);
    }

    @Test
    void moreThanFifteenBytesIsRefused() {
        assertThrows(DecodeException.class,
                () -> decode("66 66 66 66 66 66 66 66 66 66 66 66 66 66 05 00 00", false));
        assertThrows(DecodeException.class,
                () -> decode("66 ".repeat(15) + "90", true));
        assertEquals(15, decode("66 ".repeat(14) + "90", true).length);
    }

    @Test
    void twoByteOpcodesAreNumberedFrom0x100() {
        assertEquals(0x1A2, decode("0F A2", true).opcode);
        assertEquals(0x184, decode("0F 84 00 00 00 00", true).opcode);
    }
}
