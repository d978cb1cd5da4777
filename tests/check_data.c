/* check_data.c — the built-in digits, the seeded split, scaling fitted on
 * the training split, and CSV defects named with file and line. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "nnlab.h"

static Dataset *load(int scale, int64_t split_seed)
{
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .split_seed = split_seed, .scale = scale};
    Dataset *d = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&c, &d, err) == 0, "%s", err);
    return d;
}

START_TEST(digits_shape_and_values)
{
    Dataset *d = load(SCALE_NONE, 0);
    ck_assert_int_eq(d->n_train, 1437);
    ck_assert_int_eq(d->n_test, 360);
    ck_assert_int_eq(d->n_features, 64);
    ck_assert_int_eq(d->n_classes, 10);
    int counts[10] = {0};
    for (int i = 0; i < d->n_train; i++) {
        for (int j = 0; j < 64; j++) {
            float v = d->x_train[(size_t)i * 64 + j];
            ck_assert(v >= 0.0f && v <= 16.0f && v == floorf(v));
        }
        counts[d->y_train[i]]++;
    }
    for (int i = 0; i < d->n_test; i++) counts[d->y_test[i]]++;
    /* load_digits().target's class counts */
    const int want[10] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
    for (int k = 0; k < 10; k++) ck_assert_int_eq(counts[k], want[k]);
    data_free(d);
}
END_TEST

START_TEST(split_is_a_seeded_partition)
{
    Dataset *a = load(SCALE_NONE, 0), *b = load(SCALE_NONE, 0), *c = load(SCALE_NONE, 1);
    int seen[1797] = {0};
    for (int i = 0; i < a->n_train; i++) seen[a->train_index[i]]++;
    for (int i = 0; i < a->n_test; i++) seen[a->test_index[i]]++;
    for (int i = 0; i < 1797; i++) ck_assert_int_eq(seen[i], 1);
    ck_assert_mem_eq(a->train_index, b->train_index, sizeof(int32_t) * 1437);
    ck_assert_mem_eq(a->x_train, b->x_train, sizeof(float) * 1437 * 64);
    ck_assert(memcmp(a->test_index, c->test_index, sizeof(int32_t) * 360) != 0);
    data_free(a);
    data_free(b);
    data_free(c);
}
END_TEST

START_TEST(scaling_is_fitted_on_train)
{
    Dataset *raw = load(SCALE_NONE, 0), *mm = load(SCALE_MINMAX, 0), *st = load(SCALE_STANDARD, 0);
    for (int j = 0; j < 64; j++) {
        double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
        for (int i = 0; i < raw->n_train; i++) {
            double v = raw->x_train[(size_t)i * 64 + j];
            lo = fmin(lo, v), hi = fmax(hi, v), sum += v, sq += v * v;
        }
        double mean = sum / 1437, sd = sqrt(sq / 1437 - mean * mean);
        double mlo = INFINITY, mhi = -INFINITY, ssum = 0, ssq = 0;
        for (int i = 0; i < mm->n_train; i++) {
            mlo = fmin(mlo, mm->x_train[(size_t)i * 64 + j]);
            mhi = fmax(mhi, mm->x_train[(size_t)i * 64 + j]);
            ssum += st->x_train[(size_t)i * 64 + j];
            ssq += (double)st->x_train[(size_t)i * 64 + j] * st->x_train[(size_t)i * 64 + j];
        }
        if (hi > lo) {
            ck_assert_double_eq_tol(mlo, 0.0, 1e-6);
            ck_assert_double_eq_tol(mhi, 1.0, 1e-6);
            ck_assert_double_eq_tol(ssum / 1437, 0.0, 1e-5);
            ck_assert_double_eq_tol(ssq / 1437, 1.0, 1e-4);
        } else {
            ck_assert(mlo == 0.0 && mhi == 0.0); /* a constant pixel stays finite */
        }
        /* The test split uses the training split's parameters. */
        for (int i = 0; i < raw->n_test; i++) {
            double v = raw->x_test[(size_t)i * 64 + j];
            double want_mm = hi > lo ? (v - lo) / (hi - lo) : v - lo;
            double want_st = sd > 0 ? (v - mean) / sd : v - mean;
            ck_assert_double_eq_tol(mm->x_test[(size_t)i * 64 + j], want_mm, 1e-5);
            ck_assert_double_eq_tol(st->x_test[(size_t)i * 64 + j], want_st, 1e-4);
        }
    }
    data_free(raw);
    data_free(mm);
    data_free(st);
}
END_TEST

static void csv_fails(const char *text, const char *want)
{
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(data_parse_csv(&rows, text, strlen(text), 0, -1, "t.csv", err), 0);
    ck_assert_str_eq(err, want);
}

START_TEST(csv_defects_are_named)
{
    csv_fails("1,2,0\n3,x,1\n", "t.csv: line 2, column 2: not a finite number: 'x'");
    csv_fails("1,2,0\n3,1\n", "t.csv: line 2: 2 fields, expected 3");
    csv_fails("1,2,0\n3,4,5,1\n", "t.csv: line 2: 4 fields, expected 3");
    csv_fails("1,2,0\n3,4,1.5\n", "t.csv: line 2: label '1.5' is not an integer in 0..1000000");
    csv_fails("1,2,0\n3,4,-1\n", "t.csv: line 2: label '-1' is not an integer in 0..1000000");
    csv_fails("\n\n", "t.csv: no data rows");
    DataRows rows;
    char err[NN_ERR_LEN];
    const char *ok = "1, 2,0\r\n\n3.5,4e1,1\n";
    ck_assert_int_eq(data_parse_csv(&rows, ok, strlen(ok), 0, -1, "t.csv", err), 0);
    ck_assert_int_eq(rows.n, 2);
    ck_assert_int_eq(rows.d, 2);
    ck_assert(rows.x[2] == 3.5f && rows.x[3] == 40.0f && rows.y[1] == 1);
    data_rows_free(&rows);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, digits_shape_and_values);
    tcase_add_test(tc, split_is_a_seeded_partition);
    tcase_add_test(tc, scaling_is_fitted_on_train);
    tcase_add_test(tc, csv_defects_are_named);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
