package io.p2vkit.hv.verify;

import io.p2vkit.hv.kvm.Kvm;
import io.p2vkit.hv.kvm.KvmRequirement;
import io.p2vkit.hv.kvm.KvmEngine;
import io.p2vkit.hv.machine.MachineConfig;
import io.p2vkit.image.VirtualDisk;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Guests that misbehave on purpose: the VM stops (or carries on) with a clear reason, the JVM lives. */
class KvmHostileGuestTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void needKvm() {
        KvmRequirement.require();
    }

    private BootReport boot(byte[] sector, Pattern expect, int seconds) throws Exception {
        Path image = TestDisks.raw(dir, "hostile.raw", sector);
        try (VirtualDisk disk = TestDisks.open(image)) {
            return new BootVerifier(new KvmEngine())
                    .expect(expect)
                    .timeout(Duration.ofSeconds(seconds))
                    .verify(new MachineConfig().memoryMiB(64).disk(disk, MachineConfig.DiskInterface.IDE));
        }
    }

    /**
     * Thousands of pseudo-random port reads and writes (every port but the reset ones and COM1)
     * and MMIO to the unmapped VGA hole and the write-protected BIOS, then a deliberate write to
     * the reset vector at F000:FFF0 that PAM protection must drop.
     */
    @Test
    void randomPortIoAndMmioLeaveMachineRunning() throws Exception {
        byte[] sector = Asm16.prologue()
                .b(0xFA)                                   // cli
                .b(0xBE).imm16(0xACE1)                     // mov si, seed
                .b(0xB9).imm16(4000)                       // mov cx, iterations
                .label("loop")
                .b(0x89, 0xF0)                             // mov ax, si
                .b(0x89, 0xC3).b(0xC1, 0xE3, 0x07).b(0x31, 0xD8)   // xorshift16: x ^= x << 7
                .b(0x89, 0xC3).b(0xC1, 0xEB, 0x09).b(0x31, 0xD8)   //             x ^= x >> 9
                .b(0x89, 0xC3).b(0xC1, 0xE3, 0x08).b(0x31, 0xD8)   //             x ^= x << 8
                .b(0x89, 0xC6)                             // mov si, ax
                .b(0x89, 0xC2)                             // mov dx, ax
                .b(0x81, 0xFA).imm16(0x64).jmp8(0x74, "skip")      // keyboard controller (0xFE resets)
                .b(0x81, 0xFA).imm16(0x92).jmp8(0x74, "skip")      // port A fast reset
                .b(0x89, 0xD3).b(0x81, 0xE3).imm16(0xFFF8)         // mov bx, dx; and bx, ~7
                .b(0x81, 0xFB).imm16(0x0CF8).jmp8(0x74, "skip")    // PCI config + 0xCF9 reset
                .b(0x81, 0xFB).imm16(0x03F8).jmp8(0x74, "skip")    // COM1: our report channel
                .b(0xEE)                                   // out dx, al
                .b(0xEC)                                   // in al, dx
                .b(0xED)                                   // in ax, dx
                .label("skip")
                .b(0x89, 0xF0).b(0x25).imm16(0x1FFF).b(0x05).imm16(0xA000)   // ax = 0xA000 + (si & 0x1FFF)
                .b(0x8E, 0xC0)                             // mov es, ax  (VGA hole: MMIO exits)
                .b(0x89, 0xF7)                             // mov di, si
                .b(0x89, 0xF0)                             // mov ax, si
                .b(0x26, 0x88, 0x05)                       // mov es:[di], al
                .b(0x26, 0x8A, 0x05)                       // mov al, es:[di]
                .b(0xBB).imm16(0xF000).b(0x8E, 0xC3)       // mov bx, 0xF000; mov es, bx
                .b(0x26, 0x88, 0x05)                       // mov es:[di], al  (write-protected BIOS)
                .b(0x49)                                   // dec cx
                .jmp8(0x75, "loop")                        // jnz loop
                .b(0xBB).imm16(0xF000).b(0x8E, 0xC3)       // es = 0xF000
                .b(0xBF).imm16(0xFFF0)                     // mov di, 0xFFF0
                .b(0x26, 0xC6, 0x05, 0x00)                 // mov byte es:[di], 0
                .b(0x26, 0x8A, 0x05)                       // mov al, es:[di]
                .b(0x3C, 0xEA)                             // cmp al, 0xEA (far jmp of the reset vector)
                .jmp8(0x75, "written")
                .b(0xFB)                                   // sti (sercon flushes on the timer)
                .printInt10("ok")
                .haltForever()
                .label("written")
                .b(0xFB)
                .printInt10("bad")
                .haltForever()
                .label("ok").asciz("SURVIVED: ROM WRITE-PROTECTED\r\n")
                .label("bad").asciz("SURVIVED: ROM WAS WRITTEN\r\n")
                .bootSector();
        BootReport r = boot(sector, Pattern.compile("SURVIVED: ROM (WRITE-PROTECTED|WAS WRITTEN)"), 60);
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
        assertTrue(r.consoleLog().contains("SURVIVED: ROM WRITE-PROTECTED"), r.consoleLog());
    }

    /**
     * 32-bit flat protected mode, thousands of pseudo-random dword and byte writes and reads
     * anywhere in 0x80000000-0xFFFFFFFF: the PCI hole (no device), the in-kernel IOAPIC, the KVM
     * TSS pages and the read-only BIOS. Only the local APIC page is spared (a random ICR write
     * may INIT the CPU). Then a line straight to COM1.
     */
    @Test
    void random32BitMmioLeavesMachineRunning() throws Exception {
        byte[] sector = Asm16.prologue()
                .b(0xFA)                                   // cli
                .b(0x0F, 0x01).abs16(0x16, "gdtr")         // lgdt [gdtr]
                .b(0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0)   // cr0.PE = 1
                .abs16(0xEA, "pm").b(0x08, 0x00)           // jmp 0x08:pm (32-bit code)
                .label("pm")
                .b(0x66, 0xB8, 0x10, 0x00)                 // mov ax, 0x10
                .b(0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0)     // ds = es = ss = flat data
                .b(0xBE, 0x78, 0x56, 0x34, 0x12)           // mov esi, seed
                .b(0xB9, 0xA0, 0x0F, 0x00, 0x00)           // mov ecx, 4000
                .label("loop32")
                .b(0x89, 0xF0)                             // mov eax, esi
                .b(0x89, 0xC3, 0xC1, 0xE3, 0x0D, 0x31, 0xD8)   // xorshift32: x ^= x << 13
                .b(0x89, 0xC3, 0xC1, 0xEB, 0x11, 0x31, 0xD8)   //             x ^= x >> 17
                .b(0x89, 0xC3, 0xC1, 0xE3, 0x05, 0x31, 0xD8)   //             x ^= x << 5
                .b(0x89, 0xC6)                             // mov esi, eax
                .b(0x89, 0xC7)                             // mov edi, eax
                .b(0x81, 0xCF, 0x00, 0x00, 0x00, 0x80)     // or edi, 0x80000000
                .b(0x89, 0xFA)                             // mov edx, edi
                .b(0x81, 0xE2, 0x00, 0x00, 0xF0, 0xFF)     // and edx, 0xFFF00000
                .b(0x81, 0xFA, 0x00, 0x00, 0xE0, 0xFE)     // cmp edx, 0xFEE00000 (local APIC)
                .jmp8(0x74, "skip32")
                .b(0x89, 0x07)                             // mov [edi], eax
                .b(0x8B, 0x07)                             // mov eax, [edi]
                .b(0x88, 0x07)                             // mov [edi], al
                .label("skip32")
                .b(0x49)                                   // dec ecx
                .jmp8(0x75, "loop32")
                .b(0xBE).abs16Data("msg32").b(0, 0)        // mov esi, msg32
                .b(0x66, 0xBA, 0xF8, 0x03)                 // mov dx, 0x3F8
                .label("print32").b(0xAC, 0x84, 0xC0)      // lodsb; test al, al
                .jmp8(0x74, "done32")
                .b(0xEE)                                   // out dx, al
                .jmp8(0xEB, "print32")
                .label("done32")
                .haltForever()
                .label("gdt")
                .b(0, 0, 0, 0, 0, 0, 0, 0)
                .b(0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0)     // 0x08 code, flat, 32-bit
                .b(0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0)     // 0x10 data, flat
                .label("gdtr").b(23, 0).abs16Data("gdt").b(0, 0)
                .label("msg32").asciz("SURVIVED 32-BIT MMIO\r\n")
                .bootSector();
        BootReport r = boot(sector, Pattern.compile("SURVIVED 32-BIT MMIO"), 60);
        assertTrue(r.passed(), r.summary() + "\n" + r.consoleLog());
    }

    @Test
    void tripleFaultStopsTheVmWithReasonAndJvmBootsAgain() throws Exception {
        // Protected mode with an empty IDT: ud2 → #UD → #GP → #DF → shutdown (a triple fault).
        byte[] sector = Asm16.prologue()
                .b(0xFA)                                   // cli
                .b(0x0F, 0x01).abs16(0x16, "gdtr")         // lgdt [gdtr]
                .b(0x0F, 0x01).abs16(0x1E, "idtr")         // lidt [idtr]: limit 0
                .b(0x0F, 0x20, 0xC0)                       // mov eax, cr0
                .b(0x0C, 0x01)                             // or al, 1 (PE)
                .b(0x0F, 0x22, 0xC0)                       // mov cr0, eax
                .abs16(0xEA, "pm").b(0x08, 0x00)           // jmp 0x08:pm (32-bit code segment)
                .label("pm")
                .b(0x0F, 0x0B)                             // ud2
                .haltForever()
                .label("gdt")
                .b(0, 0, 0, 0, 0, 0, 0, 0)                 // null descriptor
                .b(0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0)     // 0x08: code, base 0, limit 4 GiB, 32-bit
                .label("gdtr").b(15, 0).abs16Data("gdt").b(0, 0)
                .label("idtr").b(0, 0, 0, 0, 0, 0)
                .bootSector();
        BootReport r = boot(sector, Pattern.compile("never printed"), 30);
        assertFalse(r.passed());
        assertTrue(r.reason().contains("triple fault"), r.reason());
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(25)) < 0, "stopped at the fault, not at the timeout");

        BootReport again = new BootVerifier(new KvmEngine()).expect(BootVerifier.FIRMWARE_BANNER)
                .timeout(Duration.ofSeconds(20)).verify(new MachineConfig().memoryMiB(64));
        assertTrue(again.passed(), again.reason());
    }

    @Test
    void stopFromAnotherThreadEndsAHaltedGuest() throws Exception {
        byte[] sector = Asm16.prologue()
                .b(0xFA)                                   // cli
                .haltForever()                             // hlt with interrupts off: only a kick ends it
                .bootSector();
        BootReport r = boot(sector, Pattern.compile("never printed"), 8);
        assertFalse(r.passed());
        assertTrue(r.reason().startsWith("timeout"), r.reason());
        assertTrue(r.elapsed().compareTo(Duration.ofSeconds(12)) < 0, "the halted vCPU was stopped promptly");
    }
}
