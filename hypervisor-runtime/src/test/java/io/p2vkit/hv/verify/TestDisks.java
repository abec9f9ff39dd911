package io.p2vkit.hv.verify;

import io.p2vkit.image.Formats;
import io.p2vkit.image.OpenOptions;
import io.p2vkit.image.VirtualDisk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Raw test disks holding a boot sector, and their hashes. */
final class TestDisks {

    private TestDisks() {
    }

    /** A 1 MiB raw image with {@code sector0} at LBA 0 and zeros elsewhere. */
    static Path raw(Path dir, String name, byte[] sector0) throws IOException {
        Path p = dir.resolve(name);
        byte[] image = new byte[1 << 20];
        System.arraycopy(sector0, 0, image, 0, sector0.length);
        Files.write(p, image);
        return p;
    }

    static VirtualDisk open(Path p) throws IOException {
        return Formats.get().open(p, OpenOptions.READ_ONLY);
    }

    static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Prints a line through int 10h (which SeaBIOS's sercon mirrors to COM1), then writes its own
     * code to LBA 1 with int 13h, reads it back and says (int 10h again: sercon buffers, so direct
     * port output would interleave) whether the bytes came back.
     */
    static byte[] printAndWriteSector() {
        return Asm16.prologue()
                .b(0x52)                                   // push dx (boot drive)
                .printInt10("hello")
                .b(0x5A)                                   // pop dx
                .b(0xB8).imm16(0x0301)                     // mov ax, 0x0301: write 1 sector
                .b(0xB9).imm16(0x0002)                     // mov cx, 2: cylinder 0, sector 2
                .b(0xB6, 0x00)                             // mov dh, 0
                .b(0xBB).imm16(0x7C00)                     // mov bx, 0x7C00
                .b(0xCD, 0x13)                             // int 13h
                .jmp8(0x72, "fail")                        // jc fail
                .b(0xB8).imm16(0x0201)                     // mov ax, 0x0201: read 1 sector
                .b(0xB9).imm16(0x0002)
                .b(0xB6, 0x00)
                .b(0xBB).imm16(0x8000)                     // mov bx, 0x8000
                .b(0xCD, 0x13)
                .jmp8(0x72, "fail")
                .b(0xA1).imm16(0x7C20)                     // mov ax, [0x7C20]
                .b(0x3B, 0x06).imm16(0x8020)               // cmp ax, [0x8020]
                .jmp8(0x75, "fail")                        // jne fail
                .printInt10("ok")
                .haltForever()
                .label("fail")
                .printInt10("bad")
                .haltForever()
                .label("hello").asciz("P2VKIT BOOT SECTOR OK\r\n")
                .label("ok").asciz("DISK WRITE READBACK OK\r\n")
                .label("bad").asciz("DISK WRITE READBACK FAILED\r\n")
                .bootSector();
    }
}
