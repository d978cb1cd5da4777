/* check_stats.c — the t distribution, the tests and the intervals against
 * scipy's values (scipy 1.x, computed once and pinned here: the tests do not
 * need scipy). */
#include <check.h>
#include <math.h>

#include "stats.h"

#include "check_main.h"

START_TEST(t_quantiles)
{
    /* scipy.stats.t.ppf(0.975, df): scipy's own inversion is good to about
     * 4e-10 (df = 1: tan(0.475 pi) = 12.70620473617470, scipy says
     * ...6432095; df = 5 is off by 1e-9), hence 1e-9 against it, and 1e-13 against the same
     * quantiles to 20 digits (mpmath at 40 digits: findroot on betainc). */
    const double df[] = {1, 2, 3, 5, 10, 30, 100, 1000};
    const double scipy[] = {12.706204736432095, 4.302652729911275, 3.182446305284263, 2.5705818366147395,
                            2.2281388519649385, 2.0422724563012373, 1.9839715184496334, 1.9623390808264074};
    const double exact[] = {12.706204736174704646, 4.3026527297494638523, 3.1824463052837095927,
                            2.5705818356363155147, 2.2281388519862747484, 2.04227245630123831,
                            1.9839715185235522866, 1.962339080826408485};
    for (int i = 0; i < 8; i++) {
        ck_assert_double_eq_tol(stats_t_ppf(0.975, df[i]), scipy[i], 1e-9 * scipy[i]);
        ck_assert_double_eq_tol(stats_t_ppf(0.975, df[i]), exact[i], 1e-13 * exact[i]);
        ck_assert_double_eq_tol(stats_t_ppf(0.025, df[i]), -exact[i], 1e-13 * exact[i]);
    }
    ck_assert_double_eq(stats_t_ppf(0.5, 7), 0.0);
    ck_assert(isnan(stats_t_ppf(0.0, 7)) && isnan(stats_t_ppf(1.0, 7)));
}
END_TEST

START_TEST(t_tail)
{
    /* scipy.stats.t.sf(t, df) */
    const double t[] = {0.5, 2.0, 1.5, 4.0, 0.1, 3.0};
    const double df[] = {1, 3, 7.5, 10, 1000, 2.3};
    const double want[] = {0.3524163823495668, 0.06966298427942155, 0.08724028529323215, 0.0012591663123683462,
                           0.4601821845118021, 0.040247752023050275};
    for (int i = 0; i < 6; i++) {
        ck_assert_double_eq_tol(stats_t_sf(t[i], df[i]), want[i], 1e-12 * want[i]);
        ck_assert_double_eq_tol(stats_t_sf(-t[i], df[i]), 1 - want[i], 1e-12);
    }
    ck_assert_double_eq(stats_t_sf(INFINITY, 3), 0.0);
    ck_assert_double_eq(stats_t_sf(-INFINITY, 3), 1.0);
}
END_TEST

START_TEST(incomplete_beta)
{
    /* scipy.special.betainc(a, b, x) */
    const double a[] = {0.5, 2, 500, 1.5, 10}, b[] = {0.5, 3, 0.5, 0.5, 20}, x[] = {0.3, 0.4, 0.999, 0.9, 0.2};
    const double want[] = {0.3690101195655454, 0.5247999999999999, 0.317310447309558, 0.604181303590592,
                           0.049263517304212585};
    for (int i = 0; i < 5; i++) ck_assert_double_eq_tol(stats_incbeta(a[i], b[i], x[i]), want[i], 1e-12 * want[i]);
    ck_assert_double_eq(stats_incbeta(2, 3, 0), 0.0);
    ck_assert_double_eq(stats_incbeta(2, 3, 1), 1.0);
}
END_TEST

START_TEST(log_gamma)
{
    ck_assert_double_eq_tol(stats_lgamma(1), 0, 1e-15);
    ck_assert_double_eq_tol(stats_lgamma(0.5), 0.5723649429247001, 1e-15); /* log sqrt(pi) */
    ck_assert_double_eq_tol(stats_lgamma(10), 12.801827480081469, 1e-13);  /* log 9! */
    ck_assert_double_eq_tol(stats_lgamma(500.5), 2608.2229044109868, 1e-10);
}
END_TEST

/* Mean and sample std of v[0..n), two-pass (the tests' own, not summary's). */
static void mean_std(const double *v, int n, double *mean, double *std)
{
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++) s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *std = sqrt(ss / (n - 1));
}

START_TEST(welch_and_paired)
{
    const double a[] = {0.95, 0.97, 0.96, 0.99}, b[] = {0.91, 0.96, 0.93, 0.92};
    const double c[] = {0.5, 0.7, 0.6, 0.9, 0.8, 0.75, 0.65}, d[] = {0.4, 0.45};
    double ma, sa, mb, sb, mc, sc, md, sd;
    mean_std(a, 4, &ma, &sa);
    mean_std(b, 4, &mb, &sb);
    mean_std(c, 7, &mc, &sc);
    mean_std(d, 2, &md, &sd);
    StatsTest r;
    /* scipy.stats.ttest_ind(x, y, equal_var=False) */
    ck_assert_int_eq(stats_welch(ma, sa, 4, mb, sb, 4, &r), 0);
    ck_assert_double_eq_tol(r.t, 2.7235238970096107, 1e-12);
    ck_assert_double_eq_tol(r.p, 0.036344453733953015, 1e-12);
    ck_assert_int_eq(stats_welch(mc, sc, 7, md, sd, 2, &r), 0);
    ck_assert_double_eq_tol(r.t, 4.919349550499538, 1e-12);
    ck_assert_double_eq_tol(r.p, 0.0018494461739266017, 1e-13);
    /* scipy.stats.ttest_rel(a, b) */
    double diff[4], mdiff, sdiff;
    for (int i = 0; i < 4; i++) diff[i] = a[i] - b[i];
    mean_std(diff, 4, &mdiff, &sdiff);
    ck_assert_int_eq(stats_paired(mdiff, sdiff, 4, &r), 0);
    ck_assert_double_eq_tol(r.t, 2.9999999999999982, 1e-12);
    ck_assert_double_eq_tol(r.p, 0.057668885622437396, 1e-12);
    ck_assert_double_eq(r.df, 3);
    /* untestable, and no spread */
    ck_assert_int_eq(stats_welch(ma, sa, 1, mb, sb, 4, &r), -1);
    ck_assert_int_eq(stats_paired(mdiff, sdiff, 1, &r), -1);
    ck_assert_int_eq(stats_welch(0.9, 0, 3, 0.9, 0, 3, &r), 0);
    ck_assert_double_eq(r.p, 1.0);
    ck_assert_int_eq(stats_welch(0.9, 0, 3, 0.8, 0, 3, &r), 0);
    ck_assert_double_eq(r.p, 0.0);
    ck_assert_int_eq(stats_paired(0.0, 0.0, 3, &r), 0);
    ck_assert_double_eq(r.p, 1.0);
    ck_assert_int_eq(stats_paired(0.01, 0.0, 3, &r), 0);
    ck_assert_double_eq(r.p, 0.0);
}
END_TEST

START_TEST(intervals)
{
    /* scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=sem) */
    const double a[] = {0.95, 0.97, 0.96, 0.99}, e[] = {1, 2, 4, 8, 16};
    double m, s, lo, hi;
    mean_std(a, 4, &m, &s);
    stats_t_interval(m, s, 4, &lo, &hi);
    ck_assert_double_eq_tol(lo, 0.9403246911620351, 1e-12);
    ck_assert_double_eq_tol(hi, 0.994675308837965, 1e-12);
    mean_std(e, 5, &m, &s);
    stats_t_interval(m, s, 5, &lo, &hi);
    ck_assert_double_eq_tol(lo, -1.3731325632789178, 1e-12);
    ck_assert_double_eq_tol(hi, 13.773132563278917, 1e-12);
    stats_t_interval(m, s, 1, &lo, &hi);
    ck_assert(isnan(lo) && isnan(hi));
}
END_TEST

START_TEST(bootstrap)
{
    const double e[] = {1, 2, 4, 8, 16};
    double lo, hi, lo2, hi2;
    ck_assert_int_eq(stats_bootstrap_interval(e, 5, &lo, &hi), 0);
    /* the draws of rng_stream(b, RNG_BOOTSTRAP): 2 and 11.4 (means of 5 draws; tests/e2e_stats.py pins the
     * loader's to the same bits), and the same again */
    ck_assert(lo == 2.0 && hi == 0x1.6cccccccccccdp+3);
    ck_assert_int_eq(stats_bootstrap_interval(e, 5, &lo2, &hi2), 0);
    ck_assert(lo == lo2 && hi == hi2);
    /* constant values: the interval is that value */
    const double k[] = {0.5, 0.5, 0.5};
    ck_assert_int_eq(stats_bootstrap_interval(k, 3, &lo, &hi), 0);
    ck_assert(lo == 0.5 && hi == 0.5);
    ck_assert_int_eq(stats_bootstrap_interval(e, 1, &lo, &hi), 0);
    ck_assert(isnan(lo) && isnan(hi));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, t_quantiles);
    tcase_add_test(tc, t_tail);
    tcase_add_test(tc, incomplete_beta);
    tcase_add_test(tc, log_gamma);
    tcase_add_test(tc, welch_and_paired);
    tcase_add_test(tc, intervals);
    tcase_add_test(tc, bootstrap);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
