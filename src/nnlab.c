/* nnlab.c — the shared helpers declared in nnlab.h. */
#define _POSIX_C_SOURCE 200809L
#include "nnlab.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int nn_errf(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, NN_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Cache-line aligned (so vectors of floats never straddle lines), rounded up
 * to whole lines as aligned_alloc wants; free() releases it. */
void *nn_alloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - NN_ALIGN) / size) return NULL;
    size_t bytes = (count * size + NN_ALIGN - 1) / NN_ALIGN * NN_ALIGN;
    return aligned_alloc(NN_ALIGN, bytes > 0 ? bytes : NN_ALIGN);
}

void *nn_calloc(size_t count, size_t size)
{
    void *p = nn_alloc(count, size);
    if (p) memset(p, 0, count * size);
    return p;
}

char *nn_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

uint64_t nn_fnv1a(const void *data, size_t len)
{
    return nn_fnv1a_more(NN_FNV1A_BASIS, data, len);
}

uint64_t nn_fnv1a_more(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

double nn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn_crash_point(const char *where, int n)
{
    const char *at = getenv("NNLAB_CRASH_AT");
    if (!at) return;
    char want[64];
    snprintf(want, sizeof want, "%s:%d", where, n);
    if (strcmp(at, want)) return;
    const char *sig = getenv("NNLAB_CRASH_SIGNAL");
    raise(!sig                   ? SIGKILL
          : !strcmp(sig, "TERM") ? SIGTERM
          : !strcmp(sig, "INT")  ? SIGINT
          : !strcmp(sig, "STOP") ? SIGSTOP /* the test changes files, then sends SIGCONT */
                                 : SIGKILL);
}
