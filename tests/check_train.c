/* check_train.c — one run: same seed ⇒ same bits, curves' shape and
 * meaning, learning, divergence recorded as a status. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "mlp.h"
#include "nnlab.h"
#include "optim.h"
#include "train.h"

#include "check_main.h"

static Dataset *digits;

static void setup(void)
{
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .scale = SCALE_MINMAX};
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&c, &digits, err) == 0, "%s", err);
}

static void teardown(void)
{
    data_free(digits);
}

static TrainConfig small(void)
{
    TrainConfig c = {.hidden = {1, {32}}, .activation = ACT_SIGMOID, .dropout = 0.0,
                     .init = INIT_LECUN_NORMAL, .epochs = 3, .batch_size = 1, .learning_rate = 0.05,
                     .optimizer = OPT_SGD, .momentum = 0.9, .l2 = 0.0, .shuffle = 0,
                     .train_curves = 1};
    return c;
}

static void run(const TrainConfig *c, uint64_t seed, RunResult *res)
{
    char err[NN_ERR_LEN];
    ck_assert_msg(train_run(c, digits, seed, NULL, res, err) == 0, "%s", err);
}

static int same_bits(const RunResult *a, const RunResult *b)
{
    size_t n = a->mlp.n_params;
    if (n != b->mlp.n_params || memcmp(a->weights, b->weights, n * sizeof(float)) ||
        memcmp(a->init, b->init, n * sizeof(float)))
        return 0;
    if (a->n_curves != b->n_curves || a->best_epoch != b->best_epoch || (a->best == NULL) != (b->best == NULL) ||
        (a->best && memcmp(a->best, b->best, n * sizeof(float))))
        return 0;
    for (int k = 0; k < a->n_curves; k++)
        if (memcmp(a->curve[k], b->curve[k], (size_t)(a->epochs + 1) * sizeof(double))) return 0;
    return 1;
}

START_TEST(same_seed_same_bits)
{
    /* Every feature that draws random numbers: dropout, shuffle, momentum, L2, batches. */
    TrainConfig c = small();
    c.dropout = 0.2;
    c.shuffle = 1;
    c.optimizer = OPT_NESTEROV;
    c.l2 = 1e-3;
    c.batch_size = 7;
    c.activation = ACT_RELU;
    RunResult a, b, other;
    run(&c, 11, &a);
    run(&c, 11, &b);
    run(&c, 12, &other);
    ck_assert(same_bits(&a, &b));
    ck_assert(!same_bits(&a, &other));
    ck_assert(memcmp(a.init, other.init, a.mlp.n_params * sizeof(float)) != 0);
    run_result_free(&a);
    run_result_free(&b);
    run_result_free(&other);
}
END_TEST

START_TEST(dropout_does_not_change_init)
{
    /* Separate streams: turning dropout on leaves the initial weights alone. */
    TrainConfig c = small();
    RunResult a, b;
    run(&c, 5, &a);
    c.dropout = 0.5;
    run(&c, 5, &b);
    ck_assert_mem_eq(a.init, b.init, a.mlp.n_params * sizeof(float));
    ck_assert(memcmp(a.weights, b.weights, a.mlp.n_params * sizeof(float)) != 0);
    run_result_free(&a);
    run_result_free(&b);
}
END_TEST

START_TEST(curves_and_learning)
{
    TrainConfig c = small();
    RunResult r;
    run(&c, 1, &r);
    ck_assert_int_eq(r.status, RUN_OK);
    ck_assert_int_eq(r.epochs_done, 3);
    /* Index 0 is the untrained network: near chance on 10 classes. */
    ck_assert_double_lt(r.curve[CURVE_TEST_ACC][0], 0.35);
    ck_assert_double_gt(r.curve[CURVE_TEST_ACC][3], 0.90);
    ck_assert_double_lt(r.curve[CURVE_TRAIN_LOSS][3], r.curve[CURVE_TRAIN_LOSS][0]);
    /* The recorded init evaluates to curve[0]: recompute it. */
    MlpWork *ws = mlp_work_create(&r.mlp, TRAIN_EVAL_ROWS);
    double loss, acc;
    train_evaluate(&r.mlp, r.init, ws, digits->x_test, digits->y_test, digits->n_test, &loss, &acc);
    ck_assert(loss == r.curve[CURVE_TEST_LOSS][0] && acc == r.curve[CURVE_TEST_ACC][0]);
    train_evaluate(&r.mlp, r.weights, ws, digits->x_train, digits->y_train, digits->n_train, &loss, &acc);
    ck_assert(loss == r.curve[CURVE_TRAIN_LOSS][3] && acc == r.curve[CURVE_TRAIN_ACC][3]);
    mlp_work_destroy(ws);
    run_result_free(&r);
}
END_TEST

START_TEST(without_train_curves)
{
    /* Evaluation never changes training: without the training set's curves,
     * the weights and the test curves keep their bits and the train curves
     * are NaN (divergence_is_a_status checks that divergence is still seen). */
    TrainConfig c = small();
    RunResult a, b;
    run(&c, 4, &a);
    c.train_curves = 0;
    run(&c, 4, &b);
    ck_assert_int_eq(b.status, RUN_OK);
    ck_assert_int_eq(b.epochs_done, 3);
    ck_assert_mem_eq(a.weights, b.weights, a.mlp.n_params * sizeof(float));
    for (int e = 0; e <= 3; e++) {
        ck_assert(a.curve[CURVE_TEST_LOSS][e] == b.curve[CURVE_TEST_LOSS][e]);
        ck_assert(a.curve[CURVE_TEST_ACC][e] == b.curve[CURVE_TEST_ACC][e]);
        ck_assert(isnan(b.curve[CURVE_TRAIN_LOSS][e]) && isnan(b.curve[CURVE_TRAIN_ACC][e]));
    }
    run_result_free(&a);
    run_result_free(&b);
}
END_TEST

START_TEST(batch_size_not_dividing_the_set)
{
    /* 1437 = 4·359 + 1: the last batch has one row, and still counts. */
    TrainConfig c = small();
    c.batch_size = 4;
    c.learning_rate = 0.5;
    c.epochs = 1;
    RunResult r;
    run(&c, 2, &r);
    ck_assert_int_eq(r.status, RUN_OK);
    ck_assert_double_gt(r.curve[CURVE_TEST_ACC][1], 0.5);
    run_result_free(&r);
}
END_TEST

START_TEST(batch_larger_than_the_set)
{
    /* A batch of more rows than the training set is the whole set: the run
     * needs the memory of a batch of the larger set's rows (the test set's
     * here, 60% of the digits), not of 2^24, and gives the same bits, shuffled
     * or not; its evaluation blocks, which take the workspace's rows, still
     * hold either set in one piece. */
    DataConfig dc = {.source = DATA_DIGITS, .test_fraction = 0.6, .scale = SCALE_MINMAX};
    Dataset *d;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&dc, &d, err) == 0, "%s", err);
    ck_assert_int_gt(d->n_test, d->n_train);
    for (int shuffle = 0; shuffle < 2; shuffle++) {
        TrainConfig whole = small(), huge = small();
        whole.batch_size = d->n_test, huge.batch_size = 1 << 24;
        whole.shuffle = huge.shuffle = shuffle;
        whole.epochs = huge.epochs = 2;
        ck_assert_double_eq(train_state_bytes(&huge, d), train_state_bytes(&whole, d));
        ck_assert_double_lt(train_state_bytes(&huge, d), 16.0 * 1048576);
        RunResult a, b;
        ck_assert_msg(train_run(&whole, d, 5, NULL, &a, err) == 0, "%s", err);
        ck_assert_msg(train_run(&huge, d, 5, NULL, &b, err) == 0, "%s", err);
        ck_assert_msg(same_bits(&a, &b), "shuffle %d: a batch of 2^24 rows differs from one of the set", shuffle);
        run_result_free(&a);
        run_result_free(&b);
    }
    data_free(d);
}
END_TEST

/* TrainProgress for the tests: seen[0] counts the calls, seen[epoch] each epoch's. */
static void count_epoch(void *ctx, int epoch)
{
    int *seen = ctx;
    seen[0]++;
    if (epoch >= 1 && epoch < 8) seen[epoch]++;
}

START_TEST(progress_hears_every_epoch)
{
    TrainConfig c = small();
    RunResult with, without;
    int seen[8] = {0};
    TrainProgress tp = {count_epoch, seen};
    char err[NN_ERR_LEN];
    ck_assert_int_eq(train_run(&c, digits, 5, &tp, &with, err), 0);
    ck_assert_int_eq(seen[0], 3);
    for (int k = 1; k <= 3; k++) ck_assert_int_eq(seen[k], 1);
    run(&c, 5, &without);
    ck_assert(same_bits(&with, &without)); /* reporting changes nothing */
    run_result_free(&with);
    run_result_free(&without);
}
END_TEST

START_TEST(divergence_is_a_status)
{
    /* Raw pixels (0..16) and an absurd rate: the loss overflows to inf/NaN. */
    DataConfig dc = {.source = DATA_DIGITS, .test_fraction = 0.2, .scale = SCALE_NONE};
    Dataset *raw;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(data_load(&dc, &raw, err), 0);
    TrainConfig c = small();
    c.hidden.n = 2;
    c.hidden.units[0] = c.hidden.units[1] = 64;
    c.activation = ACT_RELU;
    c.learning_rate = 1e5;
    c.batch_size = 8;
    c.epochs = 5;
    RunResult r;
    int seen[8] = {0};
    TrainProgress tp = {count_epoch, seen};
    ck_assert_int_eq(train_run(&c, raw, 3, &tp, &r, err), 0);
    ck_assert_int_eq(r.status, RUN_DIVERGED);
    ck_assert_int_ge(r.epochs_done, 1);
    ck_assert_int_eq(seen[0], r.epochs_done); /* progress heard of each epoch run, the diverged one last */
    for (int k = 1; k <= 5; k++) ck_assert_int_eq(seen[k], k <= r.epochs_done);
    ck_assert_int_le(r.epochs_done, 5);
    ck_assert(isfinite(r.curve[CURVE_TRAIN_LOSS][0]));
    int e = r.epochs_done;
    ck_assert(!isfinite(r.curve[CURVE_TRAIN_LOSS][e]) || !isfinite(r.curve[CURVE_TEST_LOSS][e]));
    for (int k = e + 1; k <= 5; k++) ck_assert(isnan(r.curve[CURVE_TEST_ACC][k]));
    run_result_free(&r);
    /* Without train curves the test loss alone shows it. */
    c.train_curves = 0;
    ck_assert_int_eq(train_run(&c, raw, 3, NULL, &r, err), 0);
    ck_assert_int_eq(r.status, RUN_DIVERGED);
    ck_assert(!isfinite(r.curve[CURVE_TEST_LOSS][r.epochs_done]));
    run_result_free(&r);
    data_free(raw);
}
END_TEST

int main(void)
{
    mlp_blas_single_thread(); /* as the driver does: each run on one thread */
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, same_seed_same_bits);
    tcase_add_test(tc, dropout_does_not_change_init);
    tcase_add_test(tc, curves_and_learning);
    tcase_add_test(tc, without_train_curves);
    tcase_add_test(tc, batch_size_not_dividing_the_set);
    tcase_add_test(tc, batch_larger_than_the_set);
    tcase_add_test(tc, progress_hears_every_epoch);
    tcase_add_test(tc, divergence_is_a_status);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
