/* rng.c — xoshiro256** 1.0 and splitmix64, after the public-domain reference
 * code at prng.di.unimi.it. Deterministic on every platform: integer
 * arithmetic only, and libm's log/cos/sqrt in double for normal deviates. */
#include "rng.h"

#include <math.h>

uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(Rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = rng_splitmix64(&x);
}

void rng_stream(Rng *r, uint64_t seed, uint64_t purpose)
{
    /* Hash (seed, purpose) to one word first, so that streams of nearby seeds
     * and purposes do not start from overlapping splitmix64 sequences. */
    uint64_t x = seed;
    uint64_t h = rng_splitmix64(&x);
    x = h ^ (purpose * 0xd1b54a32d192ed03ULL);
    rng_seed(r, rng_splitmix64(&x));
}

double rng_uniform(Rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(Rng *r, uint64_t n)
{
    /* Reject the lowest (2^64 mod n) values so every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = rng_u64(r);
        if (x >= threshold) return x % n;
    }
}

double rng_normal(Rng *r)
{
    double u1 = 1.0 - rng_uniform(r); /* (0, 1]: log(u1) is finite */
    double u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rng_shuffle(Rng *r, int32_t *a, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint64_t)i + 1);
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
