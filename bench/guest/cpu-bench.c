/*
 * p2vkit guest CPU benchmark: integer, floating-point and string work with a deterministic
 * result. The same static binary runs natively, in the test guest under QEMU's emulator and under
 * p2vkit's emulator; the RESULT line must be identical everywhere (a correctness check of the
 * emulator), the TIME line says how long the work took in that environment.
 * Build: gcc -O2 -static -o cpu-bench cpu-bench.c -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Integer: a sieve, then multiply/divide/rotate mixing over the primes. */
static uint64_t integer_work(int n) {
    char *composite = calloc(n + 1, 1);
    uint64_t h = 1469598103934665603ull;
    for (int i = 2; i <= n; i++) {
        if (composite[i]) continue;
        for (long j = (long)i * i; j <= n; j += i) composite[j] = 1;
        h = (h ^ (uint64_t)i) * 1099511628211ull;
        h = (h << 13) | (h >> 51);
        h += h / ((uint64_t)i | 1) + (uint64_t)((int64_t)h % 97);
    }
    free(composite);
    return h;
}

/*
 * Our own sine and exponential from +, *, / only: libm picks FMA variants at run time by CPUID,
 * which would make the result depend on the CPU model rather than on correct emulation.
 */
static double my_sin(double x) {
    x = fmod(x, 6.283185307179586);
    double term = x, sum = x;
    for (int k = 1; k < 12; k++) {
        term *= -x * x / ((2 * k) * (2 * k + 1));
        sum += term;
    }
    return sum;
}

static double my_exp(double x) {
    double term = 1, sum = 1;
    for (int k = 1; k < 30; k++) {
        term *= x / k;
        sum += term;
    }
    return sum;
}

/* Floating point: a small dense matrix product, then sqrt (correctly rounded everywhere), sine and exp. */
static double float_work(int n, int rounds) {
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n), *c = malloc(sizeof(double) * n * n);
    for (int i = 0; i < n * n; i++) {
        a[i] = (double)(next() % 1000) / 997.0;
        b[i] = (double)(next() % 1000) / 991.0;
    }
    double acc = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += a[i * n + k] * b[k * n + j];
                c[i * n + j] = s;
            }
        for (int i = 0; i < n * n; i++) acc += sqrt(c[i]) * 1e-3 + my_sin(c[i] * 1e-2) * 1e-4 + my_exp(-c[i] * 1e-2) * 1e-5;
        double *t = a; a = c; c = t;
        for (int i = 0; i < n * n; i++) a[i] = fmod(a[i], 10.0) / 10.0;
    }
    free(a); free(b); free(c);
    return acc;
}

static int cmp(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Strings: build, sort, search and copy many short strings. */
static uint64_t string_work(int count) {
    char **words = malloc(sizeof(char *) * count);
    for (int i = 0; i < count; i++) {
        int len = 4 + (int)(next() % 24);
        words[i] = malloc(len + 1);
        for (int k = 0; k < len; k++) words[i][k] = (char)('a' + next() % 26);
        words[i][len] = 0;
    }
    qsort(words, count, sizeof(char *), cmp);
    uint64_t h = 0;
    char buf[64 * 32];
    for (int i = 0; i + 32 < count; i += 32) {
        buf[0] = 0;
        for (int k = 0; k < 32; k++) strcat(buf, words[i + k]);
        h = h * 31 + strlen(buf) + (strstr(buf, "abc") != NULL) + (uint64_t)(unsigned char)buf[strlen(buf) / 2];
        memmove(buf + 1, buf, strlen(buf) + 1);
    }
    for (int i = 0; i < count; i++) free(words[i]);
    free(words);
    return h;
}

static long ms_between(const struct timespec *a, const struct timespec *b) {
    return (long)((b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000);
}

int main(int argc, char **argv) {
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct timespec ti, tf;
    uint64_t i = integer_work(2000000 * scale);
    clock_gettime(CLOCK_MONOTONIC, &ti);
    double f = float_work(48, 8 * scale);
    clock_gettime(CLOCK_MONOTONIC, &tf);
    uint64_t s = string_work(60000 * scale);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("P2V-BENCH RESULT int=%016llx float=%.9e string=%016llx\n", (unsigned long long)i, f, (unsigned long long)s);
    printf("P2V-BENCH PHASES int=%ld float=%ld string=%ld\n", ms_between(&t0, &ti), ms_between(&ti, &tf), ms_between(&tf, &t1));
    printf("P2V-BENCH TIME ms=%ld\n", ms_between(&t0, &t1));
    return 0;
}
