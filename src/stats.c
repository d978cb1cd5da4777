/* stats.c — t distribution, t-tests and intervals for nnlab summary (stats.h).
 * scripts/nnlab_results.py mirrors every function here operation for
 * operation: change one, change the other (tests/e2e_stats.py compares
 * their bits). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "rng.h"

/* Lanczos's approximation, g = 607/128, with Godfrey's 15 coefficients. */
double stats_lgamma(double x)
{
    static const double c[15] = {0.99999999999999709182,     57.156235665862923517,     -59.597960355475491248,
                                 14.136097974741747174,      -0.49191381609762019978,   .33994649984811888699e-4,
                                 .46523628927048575665e-4,   -.98374475304879564677e-4, .15808870322491248884e-3,
                                 -.21026444172410488319e-3,  .21743961811521264320e-3,  -.16431810653676389022e-3,
                                 .84418223983852743293e-4,   -.26190838401581408670e-4, .36899182659531622704e-5};
    double sum = 0.0;
    for (int i = 14; i > 0; i--) sum += c[i] / (x + (double)i); /* smallest terms first */
    sum += c[0];
    double tmp = x + 4.7421875 + 0.5; /* g + 1/2 */
    return (x + 0.5) * log(tmp) - tmp + log(2.5066282746310005 * sum / x);
}

#define CF_MAX_ITER 1000
#define CF_EPS 1e-16
#define CF_TINY 1e-300

/* The continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < CF_TINY) d = CF_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= CF_MAX_ITER; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY) d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY) c = CF_TINY;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < CF_EPS) break;
    }
    return h;
}

double stats_incbeta(double a, double b, double x)
{
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    double front = exp(stats_lgamma(a + b) - stats_lgamma(a) - stats_lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

double stats_t_sf(double t, double df)
{
    if (isnan(t)) return t;
    if (isinf(t)) return t > 0 ? 0.0 : 1.0;
    double tail = 0.5 * stats_incbeta(0.5 * df, 0.5, df / (df + t * t)); /* P(|T| > |t|) / 2 */
    return t >= 0 ? tail : 1.0 - tail;
}

double stats_t_ppf(double p, double df)
{
    if (!(p > 0.0 && p < 1.0)) return NAN;
    if (p == 0.5) return 0.0;
    if (p < 0.5) return -stats_t_ppf(1.0 - p, df);
    double q = 1.0 - p, lo = 0.0, hi = 1.0; /* stats_t_sf(t) = q, decreasing in t */
    while (stats_t_sf(hi, df) > q && hi < 1e300) lo = hi, hi *= 2.0;
    for (int i = 0; i < 2100; i++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        if (stats_t_sf(mid, df) > q) lo = mid;
        else hi = mid;
    }
    return hi;
}

/* The two-sided test of t = diff / se with df degrees of freedom, se >= 0. */
static void two_sided(double diff, double se, double df, StatsTest *out)
{
    out->df = df;
    if (se == 0.0) { /* no spread on either side: the means are equal or they are not */
        out->t = diff == 0.0 ? 0.0 : diff > 0 ? INFINITY : -INFINITY;
        out->p = diff == 0.0 ? 1.0 : 0.0;
        return;
    }
    out->t = diff / se;
    out->p = stats_incbeta(0.5 * df, 0.5, df / (df + out->t * out->t));
}

int stats_welch(double mean_a, double std_a, int n_a, double mean_b, double std_b, int n_b, StatsTest *out)
{
    if (n_a < 2 || n_b < 2) return -1;
    double va = std_a * std_a / n_a, vb = std_b * std_b / n_b;
    double df = (va + vb) * (va + vb) / (va * va / (n_a - 1) + vb * vb / (n_b - 1));
    two_sided(mean_a - mean_b, sqrt(va + vb), df, out);
    return 0;
}

int stats_paired(double mean_d, double std_d, int n, StatsTest *out)
{
    if (n < 2) return -1;
    two_sided(mean_d, std_d / sqrt((double)n), (double)(n - 1), out);
    return 0;
}

void stats_t_interval(double mean, double std, int n, double *lo, double *hi)
{
    if (n < 2) {
        *lo = *hi = NAN;
        return;
    }
    double half = stats_t_ppf(1.0 - STATS_ALPHA / 2, (double)(n - 1)) * std / sqrt((double)n);
    *lo = mean - half;
    *hi = mean + half;
}

/* The k-th smallest of a[0..n) (0-based), partly reordering a: quickselect
 * with a three-way partition, so that it is the value a full sort would put
 * at k, equal values included. */
static double select_kth(double *a, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        int lt = lo, i = lo, gt = hi; /* [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot */
        while (i <= gt) {
            double x = a[i];
            if (x < pivot) a[i++] = a[lt], a[lt++] = x;
            else if (x > pivot) a[i] = a[gt], a[gt--] = x;
            else i++;
        }
        if (k < lt) hi = lt - 1;
        else if (k > gt) lo = gt + 1;
        else return pivot;
    }
    return a[k];
}

int32_t *stats_bootstrap_draws(int n)
{
    if (n < 1) return NULL;
    int32_t *draws = malloc((size_t)STATS_BOOTSTRAP_RESAMPLES * (size_t)n * sizeof *draws);
    if (!draws) return NULL;
    for (int b = 0; b < STATS_BOOTSTRAP_RESAMPLES; b++) {
        Rng r;
        rng_stream(&r, (uint64_t)b, RNG_BOOTSTRAP);
        for (int j = 0; j < n; j++) draws[(size_t)b * (size_t)n + (size_t)j] = (int32_t)rng_below(&r, (uint64_t)n);
    }
    return draws;
}

int stats_bootstrap_interval_with(const double *v, int n, const int32_t *draws, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 2) return 0;
    double *means = malloc(STATS_BOOTSTRAP_RESAMPLES * sizeof *means);
    if (!means) return -1;
    for (int b = 0; b < STATS_BOOTSTRAP_RESAMPLES; b++) {
        const int32_t *d = draws + (size_t)b * (size_t)n;
        double sum = 0.0;
        for (int j = 0; j < n; j++) sum += v[d[j]];
        means[b] = sum / n;
    }
    int k = (int)(STATS_BOOTSTRAP_RESAMPLES * STATS_ALPHA / 2); /* 250 */
    *lo = select_kth(means, STATS_BOOTSTRAP_RESAMPLES, k);
    *hi = select_kth(means, STATS_BOOTSTRAP_RESAMPLES, STATS_BOOTSTRAP_RESAMPLES - 1 - k);
    free(means);
    return 0;
}

int stats_bootstrap_interval(const double *v, int n, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (n < 2) return 0;
    int32_t *draws = stats_bootstrap_draws(n);
    int rc = draws ? stats_bootstrap_interval_with(v, n, draws, lo, hi) : -1;
    free(draws);
    return rc;
}
