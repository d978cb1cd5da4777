/* check_rng.c — the generator against published reference outputs, and the
 * independence of streams. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "rng.h"

#include "check_main.h"

START_TEST(splitmix64_reference)
{
    /* The first outputs of splitmix64 from state 1234567 (Vigna's reference code). */
    const uint64_t want[] = {6457827717110365317ULL, 3203168211198807973ULL, 9817491932198370423ULL,
                             4593380528125082431ULL, 16408922859458223821ULL};
    uint64_t x = 1234567;
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(rng_splitmix64(&x), want[i]);
}
END_TEST

START_TEST(xoshiro256ss_reference)
{
    /* xoshiro256** 1.0 from state {1, 2, 3, 4}. */
    const uint64_t want[] = {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL, 1216172134540287360ULL,
                             607988272756665600ULL};
    Rng r = {{1, 2, 3, 4}};
    for (int i = 0; i < 6; i++) ck_assert_uint_eq(rng_u64(&r), want[i]);
}
END_TEST

START_TEST(seed_is_splitmix_expansion)
{
    Rng r;
    rng_seed(&r, 1234567);
    ck_assert_uint_eq(r.s[0], 6457827717110365317ULL);
    ck_assert_uint_eq(r.s[3], 4593380528125082431ULL);
}
END_TEST

START_TEST(streams_differ)
{
    /* Different purposes of one seed, and one purpose of neighbouring seeds,
     * give different streams; the same (seed, purpose) the same stream. */
    Rng a, b, c, d;
    rng_stream(&a, 7, RNG_INIT);
    rng_stream(&b, 7, RNG_DROPOUT);
    rng_stream(&c, 8, RNG_INIT);
    rng_stream(&d, 7, RNG_INIT);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 64; i++) {
        uint64_t x = rng_u64(&a), y = rng_u64(&b), z = rng_u64(&c), w = rng_u64(&d);
        same_ab += x == y;
        same_ac += x == z;
        ck_assert_uint_eq(x, w);
    }
    ck_assert_int_eq(same_ab, 0);
    ck_assert_int_eq(same_ac, 0);
}
END_TEST

START_TEST(uniform_and_normal_moments)
{
    Rng r;
    rng_stream(&r, 42, RNG_INIT);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        su += u;
        double z = rng_normal(&r);
        ck_assert(isfinite(z));
        sn += z;
        sn2 += z * z;
    }
    /* 5-sigma bounds: mean of U(0,1) has sd 0.289/sqrt(n); of N(0,1) 1/sqrt(n). */
    ck_assert_double_eq_tol(su / n, 0.5, 5 * 0.2887 / sqrt(n));
    ck_assert_double_eq_tol(sn / n, 0.0, 5 / sqrt(n));
    ck_assert_double_eq_tol(sn2 / n, 1.0, 5 * sqrt(2.0 / n));
}
END_TEST

START_TEST(below_and_shuffle)
{
    Rng r;
    rng_stream(&r, 3, RNG_SHUFFLE);
    int counts[5] = {0};
    for (int i = 0; i < 50000; i++) {
        uint64_t k = rng_below(&r, 5);
        ck_assert_uint_lt(k, 5);
        counts[k]++;
    }
    for (int k = 0; k < 5; k++) ck_assert_int_gt(counts[k], 9500); /* expected 10000, sd 89 */
    int32_t a[100], seen[100] = {0};
    for (int i = 0; i < 100; i++) a[i] = i;
    rng_shuffle(&r, a, 100);
    int moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 100; i++) ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 50);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* Check's default 4 s is too short on a loaded machine or under ASan */
    tcase_add_test(tc, splitmix64_reference);
    tcase_add_test(tc, xoshiro256ss_reference);
    tcase_add_test(tc, seed_is_splitmix_expansion);
    tcase_add_test(tc, streams_differ);
    tcase_add_test(tc, uniform_and_normal_moments);
    tcase_add_test(tc, below_and_shuffle);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
