/*
 * Runs x86 instruction sequences natively for the emulator's differential tests. Built with
 * gcc -m32 at test time. Each input line is:
 *   <code hex> <eax> <ecx> <edx> <ebx> <esp> <ebp> <esi> <edi> <eflags> <scratch seed>   (hex)
 * FS holds an LDT data segment based at the scratch area (limit 0xFFFF) for 16-bit addressing.
 * The scratch area is filled from the seed with xorshift32 (the Java side does the same), the
 * registers and flags are loaded, the code runs at CODE_ADDR + TEST_OFFSET, and one output line
 * gives the registers and flags afterwards plus every scratch byte that changed:
 *   <eax> <ecx> <edx> <ebx> <esp> <ebp> <esi> <edi> <eflags> | <offset>=<byte> ...
 * A crash prints "CRASH <signal> <eip>" and exits.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <asm/ldt.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_ADDR 0x20000000u
#define TEST_OFFSET 0x100u
#define SCRATCH_ADDR 0x10000000u
#define SCRATCH_SIZE 0x11000u

struct regs { uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi, eflags; };
static volatile struct regs in, out;
static volatile uint32_t saved_esp;
/* FS: an LDT data segment with base SCRATCH_ADDR and limit 0xFFFF, for 16-bit addressing forms. */
static volatile uint16_t fs_sel = 0x0007, null_sel = 0;

static uint32_t rng;
static uint8_t next_byte(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint8_t) rng;
}

static void on_crash(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "CRASH %d %08x\n", sig, (unsigned) uc->uc_mcontext.gregs[REG_EIP]);
    write(1, buf, n);
    _exit(3);
}

static uint8_t *emit(uint8_t *p, const uint8_t *bytes, int n) {
    memcpy(p, bytes, n);
    return p + n;
}

static uint8_t *emit_addr(uint8_t *p, uint8_t op1, uint8_t op2, int two, volatile void *addr) {
    *p++ = op1;
    if (two) *p++ = op2;
    uint32_t a = (uint32_t) (uintptr_t) addr;
    memcpy(p, &a, 4);
    return p + 4;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

int main(void) {
    uint8_t *code = mmap((void *) CODE_ADDR, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    uint8_t *scratch = mmap((void *) SCRATCH_ADDR, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (code == MAP_FAILED || scratch == MAP_FAILED) {
        printf("MAPFAIL\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    sigaction(SIGFPE, &sa, 0);
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGTRAP, &sa, 0);

    struct user_desc fs_desc;
    memset(&fs_desc, 0, sizeof fs_desc);
    fs_desc.entry_number = 0;
    fs_desc.base_addr = SCRATCH_ADDR;
    fs_desc.limit = 0xFFFF;
    fs_desc.seg_32bit = 1;
    fs_desc.useable = 1;
    if (syscall(SYS_modify_ldt, 1, &fs_desc, sizeof fs_desc) != 0) {
        printf("NOLDT\n");
        return 2;
    }

    static char line[1 << 16];
    static uint8_t orig[SCRATCH_SIZE];
    while (fgets(line, sizeof line, stdin)) {
        char *hex = strtok(line, " \n");
        if (!hex) continue;
        uint32_t v[10];
        for (int i = 0; i < 10; i++) v[i] = (uint32_t) strtoul(strtok(0, " \n"), 0, 16);
        in.eax = v[0]; in.ecx = v[1]; in.edx = v[2]; in.ebx = v[3]; in.esp = v[4];
        in.ebp = v[5]; in.esi = v[6]; in.edi = v[7]; in.eflags = v[8];
        rng = v[9];
        for (uint32_t i = 0; i < SCRATCH_SIZE; i++) scratch[i] = orig[i] = next_byte();

        uint8_t *p = code;
        *p++ = 0x60;                                   /* pushad */
        p = emit_addr(p, 0x89, 0x25, 1, &saved_esp);   /* mov [saved_esp], esp */
        p = emit_addr(p, 0xFF, 0x35, 1, &in.eflags);   /* push dword [in.eflags] */
        *p++ = 0x9D;                                   /* popfd */
        p = emit_addr(p, 0x8E, 0x25, 1, &fs_sel);      /* mov fs, [fs_sel] */
        p = emit_addr(p, 0x8B, 0x25, 1, &in.esp);      /* mov esp, [in.esp] */
        p = emit_addr(p, 0xA1, 0, 0, &in.eax);
        p = emit_addr(p, 0x8B, 0x0D, 1, &in.ecx);
        p = emit_addr(p, 0x8B, 0x15, 1, &in.edx);
        p = emit_addr(p, 0x8B, 0x1D, 1, &in.ebx);
        p = emit_addr(p, 0x8B, 0x2D, 1, &in.ebp);
        p = emit_addr(p, 0x8B, 0x35, 1, &in.esi);
        p = emit_addr(p, 0x8B, 0x3D, 1, &in.edi);
        while (p < code + TEST_OFFSET) *p++ = 0x90;    /* mov does not touch flags, nop neither */
        size_t n = strlen(hex) / 2;
        for (size_t i = 0; i < n; i++) *p++ = (uint8_t) (hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
        p = emit_addr(p, 0xA3, 0, 0, &out.eax);
        p = emit_addr(p, 0x89, 0x0D, 1, &out.ecx);
        p = emit_addr(p, 0x89, 0x15, 1, &out.edx);
        p = emit_addr(p, 0x89, 0x1D, 1, &out.ebx);
        p = emit_addr(p, 0x89, 0x25, 1, &out.esp);
        p = emit_addr(p, 0x89, 0x2D, 1, &out.ebp);
        p = emit_addr(p, 0x89, 0x35, 1, &out.esi);
        p = emit_addr(p, 0x89, 0x3D, 1, &out.edi);
        p = emit_addr(p, 0x8B, 0x25, 1, &saved_esp);   /* back to the C stack */
        p = emit_addr(p, 0x8E, 0x25, 1, &null_sel);    /* mov fs, [null_sel] */
        *p++ = 0x9C;                                   /* pushfd */
        p = emit_addr(p, 0x8F, 0x05, 1, &out.eflags);  /* pop dword [out.eflags] */
        static const uint8_t tail[] = {0xFC, 0x61, 0xC3}; /* cld; popad; ret */
        p = emit(p, tail, sizeof tail);

        ((void (*)(void)) code)();

        printf("%08x %08x %08x %08x %08x %08x %08x %08x %08x |", out.eax, out.ecx, out.edx, out.ebx,
               out.esp, out.ebp, out.esi, out.edi, out.eflags);
        for (uint32_t i = 0; i < SCRATCH_SIZE; i++) {
            if (scratch[i] != orig[i]) printf(" %x=%02x", i, scratch[i]);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
