/* check_train.c — one run: same seed ⇒ same bits, curves' shape and
 * meaning, learning, divergence recorded as a status; the selected epoch on
 * validation (its weights are those of a shorter run) and early stopping at
 * the epoch its curve says. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <check.h>
#include <stdio.h>
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
static int count_epoch(void *ctx, int epoch)
{
    int *seen = ctx;
    seen[0]++;
    if (epoch >= 1 && epoch < 8) seen[epoch]++;
    return 0;
}

START_TEST(progress_hears_every_epoch)
{
    TrainConfig c = small();
    RunResult with, without;
    int seen[8] = {0};
    TrainProgress tp = {count_epoch, NULL, seen};
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

/* A stop asked inside the epoch: asks[0] counts the questions, asks[1] is
 * the question that answers yes (0: never). */
static int stop_at(void *ctx)
{
    int *asks = ctx;
    return ++asks[0] == asks[1];
}

static int no_epoch(void *ctx, int epoch)
{
    (void)ctx, (void)epoch;
    return 0;
}

START_TEST(a_stop_is_heard_inside_the_epoch)
{
    /* Digits' 1437 training examples are three blocks of TRAIN_STOP_EXAMPLES:
     * two questions an epoch, per example or in batches; a yes abandons the run
     * within the epoch, and asking changes nothing when the answer is no. */
    for (int batch = 1; batch <= 32; batch += 31) {
        TrainConfig c = small();
        c.batch_size = batch;
        int asks[2] = {0, 0};
        TrainProgress tp = {no_epoch, stop_at, asks};
        RunResult with, without;
        char err[NN_ERR_LEN];
        ck_assert_int_eq(train_run(&c, digits, 5, &tp, &with, err), 0);
        ck_assert_int_eq(asks[0], 2 * c.epochs);
        run(&c, 5, &without);
        ck_assert(same_bits(&with, &without));
        run_result_free(&with);
        run_result_free(&without);
        asks[0] = 0, asks[1] = 3; /* the second epoch's first question */
        ck_assert_int_eq(train_run(&c, digits, 5, &tp, &with, err), 1);
        ck_assert_int_eq(asks[0], 3);
    }
}
END_TEST

/* Two ReLU layers at an absurd rate: on raw pixels the loss overflows to inf/NaN within 5 epochs. */
static TrainConfig diverging(void)
{
    TrainConfig c = small();
    c.hidden.n = 2;
    c.hidden.units[0] = c.hidden.units[1] = 64;
    c.activation = ACT_RELU;
    c.learning_rate = 1e5;
    c.batch_size = 8;
    c.epochs = 5;
    return c;
}

START_TEST(divergence_is_a_status)
{
    /* Raw pixels (0..16) and an absurd rate: the loss overflows to inf/NaN. */
    DataConfig dc = {.source = DATA_DIGITS, .test_fraction = 0.2, .scale = SCALE_NONE};
    Dataset *raw;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(data_load(&dc, &raw, err), 0);
    TrainConfig c = diverging();
    RunResult r;
    int seen[8] = {0};
    TrainProgress tp = {count_epoch, NULL, seen};
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

/* ---- model selection on validation, early stopping ---------------------- */

/* The digits with a stratified validation share: 1149 training rows, 288
 * validation, 360 test. */
static Dataset *load_validated(int scale)
{
    DataConfig dc = {.source = DATA_DIGITS, .test_fraction = 0.2, .validation_fraction = 0.2, .stratify = 1,
                     .scale = scale};
    Dataset *d;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&dc, &d, err) == 0, "%s", err);
    ck_assert_int_eq(d->n_val, 288);
    return d;
}

static void run_on(const TrainConfig *c, const Dataset *d, uint64_t seed, RunResult *res)
{
    char err[NN_ERR_LEN];
    ck_assert_msg(train_run(c, d, seed, NULL, res, err) == 0, "%s", err);
}

/* Every curve of a and b holds the same bits at epochs 0 .. last. */
static void assert_same_curves(const RunResult *a, const RunResult *b, int last)
{
    ck_assert_int_eq(a->n_curves, b->n_curves);
    for (int k = 0; k < a->n_curves; k++)
        ck_assert_msg(!memcmp(a->curve[k], b->curve[k], (size_t)(last + 1) * sizeof(double)),
                      "%s differs at epochs 0..%d", curve_names[k], last);
}

/* Batches of 16, dropout and reshuffling, on standardised digits: the
 * validation loss is lowest early (epoch 3 of 15) and then wanders up. */
static TrainConfig overfitting(void)
{
    TrainConfig c = small();
    c.hidden.units[0] = 64;
    c.activation = ACT_RELU;
    c.learning_rate = 0.5;
    c.batch_size = 16;
    c.dropout = 0.2;
    c.shuffle = 1;
    c.epochs = 15;
    return c;
}

START_TEST(select_epoch_on_crafted_curves)
{
    const double ties[] = {3, 1, 2, 1, 5};
    ck_assert_int_eq(train_select_epoch(ties, 4, 0), 1); /* ties: the earliest */
    ck_assert_int_eq(train_select_epoch(ties, 0, 0), 0); /* epoch 0 counts */
    ck_assert_int_eq(train_select_epoch(ties, 4, 1), 4);
    const double falling[] = {3, 2, 1, 0};
    ck_assert_int_eq(train_select_epoch(falling, 2, 0), 2); /* nothing after `last` is looked at */
    ck_assert_int_eq(train_select_epoch(falling, 3, 0), 3);
    const double gaps[] = {NAN, 2, NAN, 0.5, INFINITY, 0.5, -INFINITY, NAN};
    ck_assert_int_eq(train_select_epoch(gaps, 7, 0), 3); /* non-finite values are skipped */
    ck_assert_int_eq(train_select_epoch(gaps, 7, 1), 1);
    ck_assert_int_eq(train_select_epoch(gaps, 2, 0), 1);
    const double acc[] = {0.1, 0.9, 0.5, 0.9, 0.2};
    ck_assert_int_eq(train_select_epoch(acc, 4, 1), 1); /* higher is better, ties: the earliest */
    ck_assert_int_eq(train_select_epoch(acc, 4, 0), 0);
    const double neg[] = {-1, -3, -2};
    ck_assert_int_eq(train_select_epoch(neg, 2, 0), 1);
    ck_assert_int_eq(train_select_epoch(neg, 2, 1), 0);
    const double none[] = {NAN, NAN, INFINITY, -INFINITY};
    ck_assert_int_eq(train_select_epoch(none, 3, 0), -1);
    ck_assert_int_eq(train_select_epoch(none, 3, 1), -1);
    ck_assert_int_eq(train_select_epoch(none, 0, 0), -1);
    const double late[] = {NAN, NAN, NAN, 7};
    ck_assert_int_eq(train_select_epoch(late, 3, 1), 3);
    ck_assert_int_eq(train_select_epoch(late, 2, 1), -1);
}
END_TEST

START_TEST(validation_curves_only_with_validation)
{
    TrainConfig c = small();
    c.patience = 1; /* means nothing without validation (the config check refuses it) */
    RunResult r;
    run(&c, 1, &r);
    ck_assert_int_eq(r.n_curves, CURVE_VAL_LOSS);
    ck_assert_ptr_null(r.curve[CURVE_VAL_LOSS]);
    ck_assert_ptr_null(r.curve[CURVE_VAL_ACC]);
    ck_assert_ptr_null(r.best);
    ck_assert_int_eq(r.epochs_done, 3);
    ck_assert_int_eq(r.best_epoch, 3);
    run_result_free(&r);
    Dataset *d = load_validated(SCALE_MINMAX);
    c.patience = 0;
    run_on(&c, d, 1, &r);
    ck_assert_int_eq(r.n_curves, N_CURVES);
    ck_assert_ptr_nonnull(r.best);
    for (int e = 0; e <= 3; e++) {
        ck_assert(isfinite(r.curve[CURVE_VAL_LOSS][e]));
        ck_assert(r.curve[CURVE_VAL_ACC][e] >= 0 && r.curve[CURVE_VAL_ACC][e] <= 1);
    }
    /* the curve's values are the model's on the validation rows */
    MlpWork *ws = mlp_work_create(&r.mlp, train_work_rows(&c, d));
    double loss, acc;
    train_evaluate(&r.mlp, r.weights, ws, d->x_val, d->y_val, d->n_val, &loss, &acc);
    ck_assert(loss == r.curve[CURVE_VAL_LOSS][3] && acc == r.curve[CURVE_VAL_ACC][3]);
    train_evaluate(&r.mlp, r.best, ws, d->x_val, d->y_val, d->n_val, &loss, &acc);
    ck_assert(loss == r.curve[CURVE_VAL_LOSS][r.best_epoch]);
    ck_assert_int_eq(r.best_epoch, train_select_epoch(r.curve[CURVE_VAL_LOSS], 3, 0));
    mlp_work_destroy(ws);
    run_result_free(&r);
    data_free(d);
}
END_TEST

/* The epoch early stopping must stop at, from a curve run to the end:
 * the reference is epoch 0's value, replaced by any epoch that improves on
 * it by more than min_delta; the run stops after `patience` epochs in a row
 * that do not. `epochs` if it never stops. */
static int predicted_stop(const double *v, int epochs, int patience, double min_delta, int higher_is_better)
{
    double ref = v[0];
    int wait = 0;
    for (int e = 1; e <= epochs; e++) {
        double gain = higher_is_better ? v[e] - ref : ref - v[e];
        if (gain > min_delta) ref = v[e], wait = 0;
        else if (++wait >= patience) return e;
    }
    return epochs;
}

START_TEST(early_stopping_at_the_predicted_epoch)
{
    Dataset *d = load_validated(SCALE_STANDARD);
    const struct {
        int select, patience;
        double min_delta;
    } cases[] = {{SELECT_VAL_LOSS, 3, 0}, {SELECT_VAL_LOSS, 1, 0},    {SELECT_VAL_LOSS, 1, 0.05},
                 {SELECT_VAL_LOSS, 2, 0.02}, {SELECT_VAL_ACC, 2, 0}, {SELECT_VAL_ACC, 1, 0.01}};
    int n_cases = (int)(sizeof cases / sizeof cases[0]), stops[8];
    for (int i = 0; i < n_cases; i++) {
        TrainConfig c = overfitting();
        c.select = cases[i].select;
        RunResult full, stopped, plain;
        run_on(&c, d, 1, &full); /* no early stopping: every epoch */
        ck_assert_int_eq(full.status, RUN_OK);
        ck_assert_int_eq(full.epochs_done, 15);
        int acc = c.select == SELECT_VAL_ACC, curve = acc ? CURVE_VAL_ACC : CURVE_VAL_LOSS;
        int stop = predicted_stop(full.curve[curve], 15, cases[i].patience, cases[i].min_delta, acc);
        stops[i] = stop;
        ck_assert_msg(stop < 15, "case %d: early stopping would not stop (the test wants a stop)", i);
        c.patience = cases[i].patience;
        c.min_delta = cases[i].min_delta;
        run_on(&c, d, 1, &stopped);
        ck_assert_int_eq(stopped.status, RUN_OK);
        ck_assert_msg(stopped.epochs_done == stop, "case %d (patience %d, min_delta %g): stopped after epoch %d, "
                      "the curve says %d", i, c.patience, c.min_delta, stopped.epochs_done, stop);
        ck_assert_int_eq(stopped.epochs, 15);
        assert_same_curves(&stopped, &full, stop); /* the same run up to the stop ... */
        for (int k = 0; k < N_CURVES; k++)           /* ... and NaN after it */
            for (int e = stop + 1; e <= 15; e++)
                ck_assert_msg(isnan(stopped.curve[k][e]), "%s[%d] after a stop at %d", curve_names[k], e, stop);
        /* the selected epoch is the best of the epochs run */
        ck_assert_int_eq(stopped.best_epoch, train_select_epoch(full.curve[curve], stop, acc));
        if (full.best_epoch <= stop) {
            ck_assert_int_eq(stopped.best_epoch, full.best_epoch);
            ck_assert_mem_eq(stopped.best, full.best, full.mlp.n_params * sizeof(float));
        }
        /* the final weights are those after epoch `stop` */
        TrainConfig p = overfitting();
        p.select = c.select;
        p.epochs = stop;
        run_on(&p, d, 1, &plain);
        ck_assert_mem_eq(stopped.weights, plain.weights, full.mlp.n_params * sizeof(float));
        ck_assert_mem_eq(stopped.best, plain.best, full.mlp.n_params * sizeof(float));
        run_result_free(&full);
        run_result_free(&stopped);
        run_result_free(&plain);
    }
    /* min_delta changes where it stops (else the cases above would not test it) */
    ck_assert_int_ne(stops[1], stops[2]);
    data_free(d);
}
END_TEST

/* res->best is the model of a run trained for best_epoch epochs: the same
 * bits as its final weights, and the same curves up to there. */
static void best_is_a_shorter_run(TrainConfig c, const Dataset *d, uint64_t seed)
{
    RunResult full, plain;
    run_on(&c, d, seed, &full);
    ck_assert_int_eq(full.status, RUN_OK);
    int b = full.best_epoch;
    ck_assert_msg(b > 1 && b < c.epochs, "batch %d: best epoch %d; the test wants one strictly between 1 and %d",
                  c.batch_size, b, c.epochs);
    ck_assert_int_eq(b, train_select_epoch(full.curve[CURVE_VAL_LOSS], full.epochs_done, 0));
    size_t bytes = full.mlp.n_params * sizeof(float);
    ck_assert(memcmp(full.best, full.weights, bytes) != 0);
    ck_assert(memcmp(full.best, full.init, bytes) != 0);
    c.epochs = b;
    run_on(&c, d, seed, &plain);
    ck_assert_int_eq(plain.epochs_done, b);
    ck_assert_msg(!memcmp(full.best, plain.weights, bytes), "batch %d: best weights are not those of a %d-epoch run",
                  c.batch_size, b);
    ck_assert_mem_eq(full.init, plain.init, bytes);
    assert_same_curves(&full, &plain, b);
    /* and they evaluate to the curves at best_epoch */
    MlpWork *ws = mlp_work_create(&full.mlp, train_work_rows(&c, d));
    double loss, acc;
    train_evaluate(&full.mlp, full.best, ws, d->x_val, d->y_val, d->n_val, &loss, &acc);
    ck_assert(loss == full.curve[CURVE_VAL_LOSS][b] && acc == full.curve[CURVE_VAL_ACC][b]);
    train_evaluate(&full.mlp, full.best, ws, d->x_test, d->y_test, d->n_test, &loss, &acc);
    ck_assert(loss == full.curve[CURVE_TEST_LOSS][b] && acc == full.curve[CURVE_TEST_ACC][b]);
    mlp_work_destroy(ws);
    run_result_free(&full);
    run_result_free(&plain);
}

START_TEST(best_weights_are_a_shorter_run)
{
    Dataset *mm = load_validated(SCALE_MINMAX), *st = load_validated(SCALE_STANDARD);
    /* one example at a time (the fused per-example path), plain and with dropout and reshuffling */
    TrainConfig one = small();
    one.hidden.units[0] = 64;
    one.activation = ACT_RELU;
    one.learning_rate = 0.15;
    one.epochs = 10;
    best_is_a_shorter_run(one, mm, 1);
    one.dropout = 0.2;
    one.shuffle = 1;
    best_is_a_shorter_run(one, mm, 1);
    /* batches of 16, dropout and reshuffling */
    best_is_a_shorter_run(overfitting(), st, 1);
    data_free(mm);
    data_free(st);
}
END_TEST

/* Train c for e1 epochs, pack the state, unpack it into a fresh one (as a
 * promoted run of successive halving continues from its run file or from
 * rank 0's message), train on to c.epochs: every bit as a straight run. */
static void continued_is_a_straight_run(TrainConfig c, const Dataset *d, int e1)
{
    char err[NN_ERR_LEN];
    RunResult straight, continued;
    ck_assert_msg(train_run(&c, d, 7, NULL, &straight, err) == 0, "%s", err);
    TrainState a, b;
    ck_assert_msg(train_start(&a, &c, d, 7, err) == 0, "%s", err);
    ck_assert_int_eq(train_advance(&a, &c, d, e1, NULL), 0);
    ck_assert_int_eq(a.res.epochs_done, e1);
    train_snapshot(&a); /* as a paused run file is written: training goes on after it */
    size_t n = train_pack_bytes(&a);
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    train_pack(&a, buf);
    train_state_free(&a);
    ck_assert_msg(train_alloc(&b, &c, d, err) == 0, "%s", err);
    ck_assert_int_eq(train_unpack(&b, buf, n), 0);
    ck_assert_int_eq(train_unpack(&b, buf, n - 1), -1); /* a buffer of another size does not fit */
    free(buf);
    ck_assert_int_eq(train_advance(&b, &c, d, c.epochs, NULL), 0);
    train_finish(&b, &continued);
    ck_assert_int_eq(continued.status, straight.status);
    ck_assert_int_eq(continued.epochs_done, straight.epochs_done);
    ck_assert(same_bits(&straight, &continued));
    run_result_free(&straight);
    run_result_free(&continued);
}

START_TEST(a_continued_run_is_a_straight_run)
{
    Dataset *mm = load_validated(SCALE_MINMAX), *st = load_validated(SCALE_STANDARD);
    TrainConfig one = small(); /* per example, momentum, dropout, reshuffled, a cosine schedule */
    one.optimizer = OPT_MOMENTUM;
    one.dropout = 0.2;
    one.shuffle = 1;
    one.epochs = 6;
    one.lr_schedule = LR_COSINE;
    continued_is_a_straight_run(one, mm, 1);
    continued_is_a_straight_run(one, mm, 3);
    TrainConfig adam = overfitting(); /* batches, adam's moments and step count, a step schedule */
    adam.optimizer = OPT_ADAM;
    adam.learning_rate = 0.003;
    adam.beta1 = 0.9, adam.beta2 = 0.999, adam.eps = 1e-8;
    adam.lr_schedule = LR_STEP;
    adam.step_size = 2;
    adam.gamma = 0.5;
    adam.epochs = 7;
    continued_is_a_straight_run(adam, st, 2);
    TrainConfig early = overfitting(); /* early stopping's count carried over the pause */
    early.patience = 2;
    early.epochs = 30;
    early.select = SELECT_VAL_ACC;
    continued_is_a_straight_run(early, st, 3);
    data_free(mm);
    data_free(st);
}
END_TEST

START_TEST(divergence_with_validation)
{
    /* Standardised digits, one example at a time at 0.1 with momentum: the
     * loss grows for a dozen epochs and then overflows. */
    Dataset *d = load_validated(SCALE_STANDARD);
    TrainConfig c = small();
    c.hidden.units[0] = 64;
    c.activation = ACT_RELU;
    c.learning_rate = 0.1;
    c.epochs = 30;
    int done = -1;
    for (int select = SELECT_VAL_LOSS; select <= SELECT_VAL_ACC; select++) {
        c.select = select;
        RunResult r;
        run_on(&c, d, 1, &r);
        ck_assert_int_eq(r.status, RUN_DIVERGED);
        ck_assert_int_ge(r.epochs_done, 2);
        ck_assert_int_lt(r.epochs_done, 30);
        if (done >= 0) ck_assert_int_eq(r.epochs_done, done); /* selection changes nothing in training */
        done = r.epochs_done;
        for (int k = 0; k < N_CURVES; k++) {
            for (int e = 0; e < r.epochs_done; e++)
                ck_assert_msg(isfinite(r.curve[k][e]), "%s[%d] before the divergence", curve_names[k], e);
            for (int e = r.epochs_done; e <= 30; e++) /* the accuracies too: never the share of class 0 */
                ck_assert_msg(isnan(r.curve[k][e]), "%s[%d] = %g at or after the divergence at %d", curve_names[k], e,
                              r.curve[k][e], r.epochs_done);
        }
        int acc = select == SELECT_VAL_ACC, curve = acc ? CURVE_VAL_ACC : CURVE_VAL_LOSS;
        ck_assert_int_lt(r.best_epoch, r.epochs_done);
        ck_assert_int_eq(r.best_epoch, train_select_epoch(r.curve[curve], r.epochs_done, acc));
        ck_assert(isfinite(r.curve[CURVE_VAL_LOSS][r.best_epoch]) && isfinite(r.curve[CURVE_VAL_ACC][r.best_epoch]));
        ck_assert(isfinite(r.curve[CURVE_TEST_ACC][r.best_epoch]));
        for (size_t i = 0; i < r.mlp.n_params; i++) ck_assert(isfinite(r.best[i]));
        if (r.best_epoch == 0) ck_assert_mem_eq(r.best, r.init, r.mlp.n_params * sizeof(float));
        if (acc) ck_assert_int_gt(r.best_epoch, 0); /* the accuracy peaks while the loss explodes */
        run_result_free(&r);
    }
    data_free(d);
    /* The absurd rate of divergence_is_a_status, now with validation. */
    DataConfig dc = {.source = DATA_DIGITS, .test_fraction = 0.2, .validation_fraction = 0.2, .stratify = 1};
    char err[NN_ERR_LEN];
    ck_assert_int_eq(data_load(&dc, &d, err), 0);
    c = diverging();
    c.patience = 2;
    RunResult r;
    run_on(&c, d, 3, &r);
    ck_assert_int_eq(r.status, RUN_DIVERGED);
    ck_assert_int_lt(r.best_epoch, r.epochs_done);
    ck_assert(isfinite(r.curve[CURVE_VAL_LOSS][r.best_epoch]));
    for (int k = 0; k < N_CURVES; k++)
        for (int e = r.epochs_done; e <= 5; e++) ck_assert(isnan(r.curve[k][e]));
    run_result_free(&r);
    data_free(d);
}
END_TEST

/* Rows r = 0 .. n-1 of a small CSV: features (r % 7, r % 5, r % 3), label r % 2;
 * row `huge` (if >= 0) has features of 3e38, near the float maximum, so that
 * a weighted sum of them overflows. */
static void write_rows(const char *path, int n, int huge)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int r = 0; r < n; r++) {
        if (r == huge) fprintf(f, "3e38,3e38,3e38,%d\n", r % 2);
        else fprintf(f, "%d,%d,%d,%d\n", r % 7, r % 5, r % 3, r % 2);
    }
    fclose(f);
}

START_TEST(divergence_on_validation_alone)
{
    /* One validation row whose logits overflow: the validation loss is not
     * finite from epoch 0 while the training and test losses are. That is a
     * divergence too, at epoch 0: every curve NaN, and best is the init. */
    char dir[] = "/tmp/nnlab_train_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    DataConfig dc = {.source = DATA_CSV, .label_column = -1, .validation_fraction = 0.25, .stratify = 1,
                     .split_seed = 5};
    snprintf(dc.path, sizeof dc.path, "%s/train.csv", dir);
    snprintf(dc.test_path, sizeof dc.test_path, "%s/test.csv", dir);
    write_rows(dc.path, 40, -1);
    write_rows(dc.test_path, 10, -1);
    Dataset *clean, *d;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&dc, &clean, err) == 0, "%s", err);
    int r = clean->val_index[0];
    write_rows(dc.path, 40, r); /* the split depends on labels and seed only */
    ck_assert_msg(data_load(&dc, &d, err) == 0, "%s", err);
    ck_assert_mem_eq(d->val_index, clean->val_index, (size_t)d->n_val * sizeof(int32_t));
    TrainConfig c = small();
    c.activation = ACT_RELU; /* (sigmoid units would saturate, finite) */
    c.epochs = 3;
    RunResult ok, bad;
    run_on(&c, clean, 2, &ok);
    ck_assert_int_eq(ok.status, RUN_OK);
    ck_assert_int_eq(ok.epochs_done, 3);
    run_on(&c, d, 2, &bad);
    ck_assert_int_eq(bad.status, RUN_DIVERGED);
    ck_assert_int_eq(bad.epochs_done, 0);
    for (int k = 0; k < N_CURVES; k++)
        for (int e = 0; e <= 3; e++) ck_assert_msg(isnan(bad.curve[k][e]), "%s[%d]", curve_names[k], e);
    ck_assert_int_eq(bad.best_epoch, 0);
    ck_assert_mem_eq(bad.best, bad.init, bad.mlp.n_params * sizeof(float));
    ck_assert_mem_eq(bad.weights, bad.init, bad.mlp.n_params * sizeof(float));
    run_result_free(&ok);
    run_result_free(&bad);
    data_free(clean);
    data_free(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(select_val_acc_or_val_loss)
{
    Dataset *d = load_validated(SCALE_STANDARD);
    TrainConfig c = overfitting();
    RunResult by_loss, by_acc;
    run_on(&c, d, 1, &by_loss);
    c.select = SELECT_VAL_ACC;
    run_on(&c, d, 1, &by_acc);
    /* the same training, selected two ways */
    assert_same_curves(&by_loss, &by_acc, 15);
    size_t bytes = by_loss.mlp.n_params * sizeof(float);
    ck_assert_mem_eq(by_loss.weights, by_acc.weights, bytes);
    ck_assert_int_eq(by_loss.best_epoch, train_select_epoch(by_loss.curve[CURVE_VAL_LOSS], 15, 0));
    ck_assert_int_eq(by_acc.best_epoch, train_select_epoch(by_acc.curve[CURVE_VAL_ACC], 15, 1));
    ck_assert_int_ne(by_loss.best_epoch, by_acc.best_epoch);
    ck_assert(memcmp(by_loss.best, by_acc.best, bytes) != 0);
    /* each is the best of its curve: no epoch beats it, none before it ties */
    for (int e = 0; e <= 15; e++) {
        ck_assert(by_loss.curve[CURVE_VAL_LOSS][e] >= by_loss.curve[CURVE_VAL_LOSS][by_loss.best_epoch]);
        ck_assert(by_acc.curve[CURVE_VAL_ACC][e] <= by_acc.curve[CURVE_VAL_ACC][by_acc.best_epoch]);
        if (e < by_acc.best_epoch)
            ck_assert(by_acc.curve[CURVE_VAL_ACC][e] < by_acc.curve[CURVE_VAL_ACC][by_acc.best_epoch]);
    }
    run_result_free(&by_loss);
    run_result_free(&by_acc);
    data_free(d);
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
    tcase_add_test(tc, a_stop_is_heard_inside_the_epoch);
    tcase_add_test(tc, divergence_is_a_status);
    tcase_add_test(tc, select_epoch_on_crafted_curves);
    tcase_add_test(tc, validation_curves_only_with_validation);
    tcase_add_test(tc, early_stopping_at_the_predicted_epoch);
    tcase_add_test(tc, best_weights_are_a_shorter_run);
    tcase_add_test(tc, a_continued_run_is_a_straight_run);
    tcase_add_test(tc, divergence_with_validation);
    tcase_add_test(tc, divergence_on_validation_alone);
    tcase_add_test(tc, select_val_acc_or_val_loss);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
