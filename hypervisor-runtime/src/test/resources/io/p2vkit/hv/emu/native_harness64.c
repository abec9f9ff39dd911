/*
 * Runs 64-bit x86 instruction sequences natively: the oracle for the emulator's 64-bit
 * differential tests. Built with plain gcc (x86-64) at test time. Each input line is, in hex:
 *   <code> <rax> <rcx> <rdx> <rbx> <rsp> <rbp> <rsi> <rdi> <r8> ... <r15> <rflags> <scratch seed>
 *   <mxcsr> <xmm0 low> <xmm0 high> ... <xmm15 high> <mm0> ... <mm7>
 * The scratch area (SCRATCH_ADDR) is filled from the seed with xorshift32, as the Java side does;
 * MXCSR, XMM0-15, MM0-7, the 16 registers and the flags are loaded, the code runs at CODE_ADDR +
 * TEST_OFFSET, and one output line gives the same state afterwards plus every scratch byte that
 * changed:  <rax> ... <r15> <rflags> <mxcsr> <xmm...> <mm...> | <offset>=<byte> ...
 * The host's MXCSR is restored and EMMS executed before returning to C. A SIMD floating-point
 * exception (#XM, SIGFPE) ends the sequence: its line is "FPE <rip>" followed by the same state
 * at the fault, taken from the signal frame (which goes to an alternate stack, so the scratch
 * memory only shows the sequence's own stores), and the harness goes on with the next input.
 * A crash prints "CRASH <signal> <rip>" and exits. The trampoline addresses its variables with
 * absolute 32-bit addresses, so they live in a page mapped below 2 GiB (VARS_ADDR).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define CODE_ADDR 0x20000000u
#define TEST_OFFSET 0x200u
#define VARS_ADDR 0x20010000u
#define SCRATCH_ADDR 0x10000000u
#define SCRATCH_SIZE 0x11000u

struct vars {
    uint64_t in[17];   /* 16 registers in x86 numbering, then RFLAGS */
    uint64_t out[17];
    uint64_t saved_rsp;
    uint64_t xin[32];  /* XMM0-15 as low, high halves */
    uint64_t xout[32];
    uint64_t mmin[8];
    uint64_t mmout[8];
    uint32_t mxin;
    uint32_t mxout;
    uint32_t host_mxcsr;
};

static uint32_t rng;
static uint8_t next_byte(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return (uint8_t) rng;
}

static uint8_t *scratch_area;
static uint8_t orig_scratch[SCRATCH_SIZE];
static sigjmp_buf fpe_return;

/* x86 register numbering -> gregs index */
static const int greg_of[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

static void on_fpe(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    printf("FPE %llx ", (unsigned long long) uc->uc_mcontext.gregs[REG_RIP]);
    for (int i = 0; i < 16; i++) printf("%llx ", (unsigned long long) uc->uc_mcontext.gregs[greg_of[i]]);
    printf("%llx %x ", (unsigned long long) uc->uc_mcontext.gregs[REG_EFL], fp->mxcsr);
    for (int i = 0; i < 16; i++) {
        uint32_t *e = fp->_xmm[i].element;
        printf("%llx %llx ", (unsigned long long) e[0] | (unsigned long long) e[1] << 32,
               (unsigned long long) e[2] | (unsigned long long) e[3] << 32);
    }
    for (int i = 0; i < 8; i++) {
        unsigned short *s = fp->_st[i].significand;
        printf("%llx ", (unsigned long long) s[0] | (unsigned long long) s[1] << 16
               | (unsigned long long) s[2] << 32 | (unsigned long long) s[3] << 48);
    }
    printf("|");
    for (uint32_t i = 0; i < SCRATCH_SIZE; i++) {
        if (scratch_area[i] != orig_scratch[i]) printf(" %x=%02x", i, scratch_area[i]);
    }
    printf("\n");
    fflush(stdout);
    siglongjmp(fpe_return, 1);
}

static void on_crash(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "CRASH %d %llx\n", sig,
                     (unsigned long long) uc->uc_mcontext.gregs[REG_RIP]);
    write(1, buf, n);
    _exit(3);
}

/* op with a ModRM of mod 00, rm 100 and a SIB of 25: [disp32], an absolute address. */
static uint8_t *abs_op(uint8_t *p, uint8_t rex, uint8_t op, int reg, volatile void *addr) {
    if (rex) *p++ = rex;
    *p++ = op;
    *p++ = (uint8_t) (0x04 | (reg & 7) << 3);
    *p++ = 0x25;
    uint32_t a = (uint32_t) (uintptr_t) addr;
    memcpy(p, &a, 4);
    return p + 4;
}

/* An instruction of opcode bytes {pre} whose ModRM names [disp32] as abs_op does. */
static uint8_t *abs_insn(uint8_t *p, const uint8_t *pre, int npre, int reg, volatile void *addr) {
    memcpy(p, pre, npre);
    p += npre;
    *p++ = (uint8_t) (0x04 | (reg & 7) << 3);
    *p++ = 0x25;
    uint32_t a = (uint32_t) (uintptr_t) addr;
    memcpy(p, &a, 4);
    return p + 4;
}

/* movdqu xmm<n>, m128 (load) or movdqu m128, xmm<n> (store). */
static uint8_t *movdqu(uint8_t *p, int n, int store, volatile void *addr) {
    uint8_t pre[4] = {0xF3, 0x44, 0x0F, store ? 0x7F : 0x6F};
    if (n >= 8) return abs_insn(p, pre, 4, n, addr);
    uint8_t pre3[3] = {0xF3, 0x0F, store ? 0x7F : 0x6F};
    return abs_insn(p, pre3, 3, n, addr);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

int main(void) {
    uint8_t *code = mmap((void *) CODE_ADDR, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    struct vars *v = mmap((void *) VARS_ADDR, 0x1000, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    uint8_t *scratch = mmap((void *) SCRATCH_ADDR, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (code == MAP_FAILED || v == MAP_FAILED || scratch == MAP_FAILED) {
        printf("MAPFAIL\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    static uint8_t altstack[1 << 16];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, 0);
    struct sigaction fpe;
    memset(&fpe, 0, sizeof fpe);
    fpe.sa_sigaction = on_fpe;
    fpe.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGFPE, &fpe, 0);
    sa.sa_flags |= SA_ONSTACK;
    sigaction(SIGBUS, &sa, 0);
    sigaction(SIGTRAP, &sa, 0);

    static char line[1 << 16];
    uint8_t *orig = orig_scratch;
    scratch_area = scratch;
    while (fgets(line, sizeof line, stdin)) {
        char *hex = strtok(line, " \n");
        if (!hex) continue;
        uint64_t seed = 0;
        for (int i = 0; i < 18 + 1 + 32 + 8; i++) {
            char *tok = strtok(0, " \n");
            if (!tok) {
                printf("BADLINE\n");
                return 2;
            }
            uint64_t x = strtoull(tok, 0, 16);
            if (i < 17) v->in[i] = x;
            else if (i == 17) seed = x;
            else if (i == 18) v->mxin = (uint32_t) x;
            else if (i < 51) v->xin[i - 19] = x;
            else v->mmin[i - 51] = x;
        }
        rng = (uint32_t) seed;
        for (uint32_t i = 0; i < SCRATCH_SIZE; i++) scratch[i] = orig[i] = next_byte();

        uint8_t *p = code;
        static const uint8_t save[] = {0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57};
        memcpy(p, save, sizeof save);                  /* push rbx, rbp, r12-r15 */
        p += sizeof save;
        p = abs_op(p, 0x48, 0x89, 4, &v->saved_rsp);   /* mov [saved_rsp], rsp */
        static const uint8_t stmx[] = {0x0F, 0xAE}, ldmx[] = {0x0F, 0xAE};
        static const uint8_t movq_load[] = {0x0F, 0x6F}, movq_store[] = {0x0F, 0x7F};
        p = abs_insn(p, stmx, 2, 3, &v->host_mxcsr);     /* stmxcsr [host_mxcsr] */
        for (int n = 0; n < 16; n++) p = movdqu(p, n, 0, &v->xin[2 * n]);
        for (int n = 0; n < 8; n++) p = abs_insn(p, movq_load, 2, n, &v->mmin[n]);
        p = abs_insn(p, ldmx, 2, 2, &v->mxin);           /* ldmxcsr [mxin] */
        p = abs_op(p, 0, 0xFF, 6, &v->in[16]);         /* push qword [in.rflags] */
        *p++ = 0x9D;                                   /* popfq */
        for (int r = 0; r < 16; r++) {                 /* mov r64, [in[r]] (RSP too) */
            p = abs_op(p, (uint8_t) (0x48 | (r >= 8 ? 4 : 0)), 0x8B, r, &v->in[r]);
        }
        while (p < code + TEST_OFFSET) *p++ = 0x90;    /* neither mov nor nop touch flags */
        size_t n = strlen(hex) / 2;
        for (size_t i = 0; i < n; i++) *p++ = (uint8_t) (hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
        for (int r = 0; r < 16; r++) {                 /* mov [out[r]], r64 */
            p = abs_op(p, (uint8_t) (0x48 | (r >= 8 ? 4 : 0)), 0x89, r, &v->out[r]);
        }
        p = abs_insn(p, stmx, 2, 3, &v->mxout);          /* stmxcsr [mxout] */
        for (int n = 0; n < 16; n++) p = movdqu(p, n, 1, &v->xout[2 * n]);
        for (int n = 0; n < 8; n++) p = abs_insn(p, movq_store, 2, n, &v->mmout[n]);
        static const uint8_t emms[] = {0x0F, 0x77};
        memcpy(p, emms, 2);
        p += 2;
        p = abs_insn(p, ldmx, 2, 2, &v->host_mxcsr);     /* ldmxcsr [host_mxcsr] */
        p = abs_op(p, 0x48, 0x8B, 4, &v->saved_rsp);   /* back to the C stack */
        *p++ = 0x9C;                                   /* pushfq */
        p = abs_op(p, 0, 0x8F, 0, &v->out[16]);        /* pop qword [out.rflags] */
        static const uint8_t tail[] = {0xFC, 0x41, 0x5F, 0x41, 0x5E, 0x41, 0x5D, 0x41, 0x5C, 0x5D, 0x5B, 0xC3};
        memcpy(p, tail, sizeof tail);                  /* cld; pop r15-r12, rbp, rbx; ret */

        if (sigsetjmp(fpe_return, 1) != 0) {
            continue; /* on_fpe printed the state at the fault */
        }
        ((void (*)(void)) code)();

        for (int i = 0; i < 17; i++) printf("%llx ", (unsigned long long) v->out[i]);
        printf("%x ", v->mxout);
        for (int i = 0; i < 32; i++) printf("%llx ", (unsigned long long) v->xout[i]);
        for (int i = 0; i < 8; i++) printf("%llx ", (unsigned long long) v->mmout[i]);
        printf("|");
        for (uint32_t i = 0; i < SCRATCH_SIZE; i++) {
            if (scratch[i] != orig[i]) printf(" %x=%02x", i, scratch[i]);
        }
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
