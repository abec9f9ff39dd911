package io.p2vkit.hv.verify;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough of a 16-bit assembler for boot sectors in tests: raw opcode bytes, labels, short
 * jumps and absolute 16-bit label addresses (the sector runs at 0000:7C00).
 */
final class Asm16 {

    static final int ORG = 0x7C00;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Object[]> fixups = new ArrayList<>();   // {position, label, kind}

    Asm16 b(int... bytes) {
        for (int x : bytes) {
            out.write(x);
        }
        return this;
    }

    Asm16 label(String name) {
        labels.put(name, out.size());
        return this;
    }

    /** A short jump or Jcc/LOOP (one opcode byte, rel8) to {@code label}. */
    Asm16 jmp8(int opcode, String label) {
        out.write(opcode);
        fixups.add(new Object[] {out.size(), label, "rel8"});
        out.write(0);
        return this;
    }

    /** An opcode followed by the 16-bit absolute address of {@code label}. */
    Asm16 abs16(int opcode, String label) {
        out.write(opcode);
        fixups.add(new Object[] {out.size(), label, "abs16"});
        out.write(0);
        out.write(0);
        return this;
    }

    /** The 16-bit absolute address of {@code label} as data. */
    Asm16 abs16Data(String label) {
        fixups.add(new Object[] {out.size(), label, "abs16"});
        out.write(0);
        out.write(0);
        return this;
    }

    Asm16 imm16(int v) {
        return b(v & 0xFF, v >> 8 & 0xFF);
    }

    Asm16 asciz(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        out.write(bytes, 0, bytes.length);
        out.write(0);
        return this;
    }

    /** Prints the zero-terminated string at {@code label} through int 10h, AH=0Eh (teletype). */
    Asm16 printInt10(String label) {
        String loop = "int10_" + label;
        String done = "int10done_" + label;
        abs16(0xBE, label);                // mov si, label
        label(loop).b(0xAC);               // lodsb
        b(0x84, 0xC0);                     // test al, al
        jmp8(0x74, done);                  // jz done
        b(0xB4, 0x0E);                     // mov ah, 0x0E
        b(0xBB, 0x07, 0x00);               // mov bx, 7
        b(0xCD, 0x10);                     // int 10h
        jmp8(0xEB, loop);
        return label(done);
    }

    /** Prints the string at {@code label} straight to COM1's THR (port 0x3F8). */
    Asm16 printSerial(String label) {
        String loop = "ser_" + label;
        String done = "serdone_" + label;
        abs16(0xBE, label);                // mov si, label
        b(0xBA).imm16(0x3F8);              // mov dx, 0x3F8
        label(loop).b(0xAC);               // lodsb
        b(0x84, 0xC0);                     // test al, al
        jmp8(0x74, done);
        b(0xEE);                           // out dx, al
        jmp8(0xEB, loop);
        return label(done);
    }

    /** hlt in a loop, forever. */
    Asm16 haltForever() {
        String l = "halt" + out.size();
        label(l).b(0xF4);
        return jmp8(0xEB, l);
    }

    /** The 512-byte sector with the 0x55AA signature. */
    byte[] bootSector() {
        byte[] code = out.toByteArray();
        for (Object[] f : fixups) {
            int pos = (int) f[0];
            Integer target = labels.get((String) f[1]);
            if (target == null) {
                throw new IllegalStateException("undefined label " + f[1]);
            }
            if (f[2].equals("rel8")) {
                int rel = target - (pos + 1);
                if (rel < -128 || rel > 127) {
                    throw new IllegalStateException("jump to " + f[1] + " out of range");
                }
                code[pos] = (byte) rel;
            } else {
                int abs = ORG + target;
                code[pos] = (byte) abs;
                code[pos + 1] = (byte) (abs >> 8);
            }
        }
        if (code.length > 446) {
            throw new IllegalStateException("boot code of " + code.length + " bytes overlaps the partition table");
        }
        byte[] sector = new byte[512];
        System.arraycopy(code, 0, sector, 0, code.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        return sector;
    }

    /** Common prologue: flat real-mode segments, stack below the sector, DL (boot drive) kept. */
    static Asm16 prologue() {
        return new Asm16()
                .b(0xFA)                         // cli
                .b(0x31, 0xC0)                   // xor ax, ax
                .b(0x8E, 0xD8)                   // mov ds, ax
                .b(0x8E, 0xC0)                   // mov es, ax
                .b(0x8E, 0xD0)                   // mov ss, ax
                .b(0xBC).imm16(0x7C00)           // mov sp, 0x7C00
                .b(0xFB)                         // sti
                .b(0xFC);                        // cld
    }
}
