/* stats.h — the statistics of nnlab summary: Student t quantiles and tail
 * probabilities, Welch's and the paired t-test, and the t and percentile
 * bootstrap intervals of a mean.
 *
 * No libm special function is used (lgamma differs between C libraries and
 * CPython has its own): log-gamma is Lanczos's approximation with Godfrey's
 * coefficients, the regularized incomplete beta function Lentz's continued
 * fraction (Numerical Recipes, section 6.4). scripts/nnlab_results.py does
 * the same operations in the same order, so that both give the same bits.
 * Not a general statistics library: two-sided tests and 95% intervals are
 * what summary needs. */
#ifndef STATS_H
#define STATS_H

#include <stdint.h>

/* Bootstrap resamples, and the interval's level. */
#define STATS_BOOTSTRAP_RESAMPLES 10000
#define STATS_ALPHA 0.05

/* log Gamma(x) for x > 0 (relative error about 1e-15). */
double stats_lgamma(double x);
/* The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats_incbeta(double a, double b, double x);
/* Student t with df > 0 degrees of freedom: P(T > t). */
double stats_t_sf(double t, double df);
/* Student t: the p-quantile, 0 < p < 1 (bisection on stats_t_sf to the last bit). */
double stats_t_ppf(double p, double df);

/* A two-sided t-test of "the means are equal". */
typedef struct {
    double t;  /* (mean a - mean b) / standard error; +-inf when that is 0 and the means differ */
    double df; /* degrees of freedom */
    double p;  /* two-sided p-value: 1 for equal means with no spread, 0 for different ones */
} StatsTest;

/* Welch's test from each side's mean, sample std and n (both n >= 2), with
 * the Welch-Satterthwaite df. Returns -1 (and nothing) when an n is below 2. */
int stats_welch(double mean_a, double std_a, int n_a, double mean_b, double std_b, int n_b, StatsTest *out);
/* The paired test from the differences' mean, sample std and count
 * (n >= 2), df = n - 1. Returns -1 when n is below 2. */
int stats_paired(double mean_d, double std_d, int n, StatsTest *out);

/* The 95% t interval of a mean, mean -+ t_{0.975, n-1} std / sqrt(n). NaN for n < 2. */
void stats_t_interval(double mean, double std, int n, double *lo, double *hi);
/* The 95% percentile bootstrap interval of the mean of v[0..n): resample b
 * (0..9999) draws n indices with rng_below(n) from rng_stream(b,
 * RNG_BOOTSTRAP), its mean is the sum in draw order over n; of the sorted
 * means, lo is the 251st and hi the 9750th (250 lie beyond each). NaN for
 * n < 2. Returns -1 when out of memory. */
int stats_bootstrap_interval(const double *v, int n, double *lo, double *hi);
/* The same in two steps, for many intervals of one n: the draws (10000 x
 * n indices, resample b's in row b; malloc'd, the caller frees; NULL when
 * out of memory), then the interval of any n values from them. */
int32_t *stats_bootstrap_draws(int n);
int stats_bootstrap_interval_with(const double *v, int n, const int32_t *draws, double *lo, double *hi);

#endif
