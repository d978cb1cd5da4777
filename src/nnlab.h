/* nnlab.h — what every module shares: the version, the error-buffer
 * convention and a few helpers. Not a place for global state: there is none.
 *
 * Error convention: a function that can fail takes `char *err` (NN_ERR_LEN
 * bytes), returns nonzero on failure and leaves a one-line message there.
 * Library code never prints and never exits; main.c decides. */
#ifndef NNLAB_H
#define NNLAB_H

#include <stddef.h>
#include <stdint.h>

#define NNLAB_VERSION "0.4.0"
#define NN_ERR_LEN 1024

/* Exit statuses of the command line (DESIGN.md). */
enum { NN_EXIT_OK = 0, NN_EXIT_RUNTIME = 1, NN_EXIT_INPUT = 2, NN_EXIT_INTERRUPTED = 130 };

/* Hot kernels (NN_HOT) are compiled three times, for x86-64-v4 (AVX-512),
 * x86-64-v3 (AVX2 + FMA) and baseline x86-64, and the CPU picks one at load
 * time. Multiply-adds are written as fmaf(), which is correctly rounded
 * everywhere (an instruction in the v3 and v4 clones, glibc's exact fmaf
 * elsewhere), sums are taken in the order the C code states, and the
 * compiler contracts nothing on its own (ISO C mode: -ffp-contract=off), so
 * all three compute the same bits. e2e_isa checks it with builds that have
 * one kernel each, NNLAB_ONE_ISA: compiled once, for the compiler's -march. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NNLAB_ONE_ISA)
#define NN_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define NN_HOT
#endif

/* printf into err (NN_ERR_LEN bytes); returns -1 so callers can `return nn_errf(...)`. */
int nn_errf(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* malloc/calloc that refuse sizes whose product overflows size_t, aligned to
 * NN_ALIGN bytes (a cache line); free() releases them. NULL on failure. */
#define NN_ALIGN 64
void *nn_alloc(size_t count, size_t size);
void *nn_calloc(size_t count, size_t size);
char *nn_strdup(const char *s);

/* FNV-1a 64-bit hash of a byte string (used for the experiment fingerprint). */
uint64_t nn_fnv1a(const void *data, size_t len);
/* The same hash continued over more bytes: h = NN_FNV1A_BASIS to start. */
#define NN_FNV1A_BASIS 0xcbf29ce484222325ULL
uint64_t nn_fnv1a_more(uint64_t h, const void *data, size_t len);

/* Test hook for the crash tests: when the environment variable
 * NNLAB_CRASH_AT is "WHERE:N" (e.g. "write:3", "merge:2", "train:8": run 8
 * has trained one epoch), the process kills itself with SIGKILL at that
 * point, or sends itself SIGTERM (as mpirun does when it ends a job) with
 * NNLAB_CRASH_SIGNAL=TERM, or SIGINT (Ctrl-C) with NNLAB_CRASH_SIGNAL=INT,
 * or stops itself (SIGSTOP, until SIGCONT) with NNLAB_CRASH_SIGNAL=STOP.
 * Called at I/O points and from the progress report between epochs, never
 * inside the training numerics. */
void nn_crash_point(const char *where, int n);

/* Seconds from an arbitrary fixed point (monotonic clock). */
double nn_now(void);

#endif
