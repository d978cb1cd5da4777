/* rng.h — xoshiro256** seeded by splitmix64 (Blackman & Vigna).
 *
 * The state is a value owned by its user: no global state, no rand(). A run
 * draws from independent streams derived from (seed, purpose), so that, say,
 * turning dropout on does not change the initial weights. */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} Rng;

/* What a stream is for; part of the stream's derivation, so never renumber. */
enum { RNG_SPLIT = 1, RNG_INIT = 2, RNG_DROPOUT = 3, RNG_SHUFFLE = 4, RNG_SEARCH = 5, RNG_BOOTSTRAP = 6 };

/* One step of splitmix64: advances *x and returns the next output. */
uint64_t rng_splitmix64(uint64_t *x);

/* Seed the generator from one 64-bit seed (state words = 4 splitmix64 outputs). */
void rng_seed(Rng *r, uint64_t seed);
/* The stream for (seed, purpose): distinct purposes give unrelated streams. */
void rng_stream(Rng *r, uint64_t seed, uint64_t purpose);

static inline uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 bits. Inline: dropout draws one per hidden unit per example. */
static inline uint64_t rng_u64(Rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

double rng_uniform(Rng *r);            /* [0, 1), 53 random bits */
uint64_t rng_below(Rng *r, uint64_t n); /* uniform in [0, n), unbiased; n >= 1 */
double rng_normal(Rng *r);             /* N(0, 1), Box-Muller, one deviate per call */
void rng_shuffle(Rng *r, int32_t *a, int n); /* Fisher-Yates */

#endif
