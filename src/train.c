/* train.c — the epoch loop of one run: batches in split order (or reshuffled
 * every epoch), forward, backward, optimizer step, and full-set evaluation
 * after every epoch for the curves (of the training set only if asked). */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnlab.h"
#include "optim.h"
#include "rng.h"

const char *const run_status_names[] = {"ok", "diverged", "failed", NULL};
const char *const curve_names[] = {"train_loss", "test_loss", "train_acc", "test_acc", NULL};

/* Everything a run needs, allocated once by trainer_create. */
typedef struct {
    Mlp mlp;
    Optim opt;
    float *params, *grads, *vel; /* (n_params) each; vel NULL for sgd */
    MlpWork *ws;                 /* for work_rows() rows */
    int32_t *order;              /* (n_train) training rows of this epoch, in order */
    float *xb;                   /* (train_batch_rows(), features) gathered batch when shuffling */
    int32_t *yb;                 /* (train_batch_rows()) */
} Trainer;

int train_batch_rows(const TrainConfig *c, const Dataset *d)
{
    return c->batch_size < d->n_train ? c->batch_size : d->n_train;
}

/* Rows of the workspace: the largest batch, and the evaluation's blocks,
 * which are the workspace's rows (TRAIN_EVAL_ROWS, or the batch's if more).
 * Capped at the larger of the two sets, as a block that large evaluates
 * either set in one piece, as any larger block would: the curves' bits are
 * those of the uncapped block. */
static int work_rows(const TrainConfig *c, const Dataset *d)
{
    int largest = d->n_train > d->n_test ? d->n_train : d->n_test;
    int rows = c->batch_size < largest ? c->batch_size : largest;
    return rows > TRAIN_EVAL_ROWS ? rows : TRAIN_EVAL_ROWS;
}

double train_state_bytes(const TrainConfig *c, const Dataset *d)
{
    Mlp m;
    if (mlp_setup(&m, d->n_features, c->hidden.units, c->hidden.n, d->n_classes, c->activation, (float)c->dropout,
                  NULL))
        return 0; /* a layout the config check already refused */
    double buffers = c->optimizer == OPT_SGD ? 2 : 3;            /* params, grads, velocity */
    double bytes = (buffers + 2) * (double)m.n_params * sizeof(float); /* + the result's init and weights */
    bytes += (double)mlp_work_bytes(&m, work_rows(c, d));
    bytes += (double)d->n_train * sizeof(int32_t);
    bytes += (double)train_batch_rows(c, d) * ((double)d->n_features * sizeof(float) + sizeof(int32_t));
    bytes += 4.0 * (c->epochs + 1) * sizeof(double);
    return bytes;
}

static void trainer_destroy(Trainer *t)
{
    free(t->params);
    free(t->grads);
    free(t->vel);
    mlp_work_destroy(t->ws);
    free(t->order);
    free(t->xb);
    free(t->yb);
}

static int trainer_create(Trainer *t, const TrainConfig *c, const Dataset *d, char *err)
{
    memset(t, 0, sizeof *t);
    if (mlp_setup(&t->mlp, d->n_features, c->hidden.units, c->hidden.n, d->n_classes, c->activation,
                  (float)c->dropout, err))
        return -1;
    t->opt.kind = c->optimizer;
    t->opt.lr = (float)c->learning_rate;
    t->opt.momentum = (float)c->momentum;
    size_t np = t->mlp.n_params;
    t->params = nn_alloc(np, sizeof(float));
    t->grads = nn_alloc(np, sizeof(float));
    if (optim_needs_velocity(&t->opt)) t->vel = nn_calloc(np, sizeof(float));
    t->ws = mlp_work_create(&t->mlp, work_rows(c, d));
    t->order = nn_alloc((size_t)d->n_train, sizeof(int32_t));
    if (c->shuffle) {
        t->xb = nn_alloc((size_t)train_batch_rows(c, d) * (size_t)d->n_features, sizeof(float));
        t->yb = nn_alloc((size_t)train_batch_rows(c, d), sizeof(int32_t));
    }
    if (!t->params || !t->grads || (optim_needs_velocity(&t->opt) && !t->vel) || !t->ws || !t->order ||
        (c->shuffle && (!t->xb || !t->yb))) {
        trainer_destroy(t);
        return nn_errf(err, "out of memory for a run's state (%zu parameters)", np);
    }
    for (int i = 0; i < d->n_train; i++) t->order[i] = i;
    return 0;
}

void train_evaluate(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y,
                    int n, double *loss, double *acc)
{
    double sum = 0.0;
    int correct = 0;
    for (int i = 0; i < n; i += ws->max_batch) {
        int rows = n - i < ws->max_batch ? n - i : ws->max_batch;
        mlp_forward(m, params, ws, x + (size_t)i * m->size[0], y + i, rows, 0, &sum, &correct);
    }
    *loss = sum / n;
    *acc = (double)correct / n;
}

/* The curves at this epoch: the test set, and the training set unless
 * train_curves is off (its entries then stay NaN). */
static void record(Trainer *t, const TrainConfig *c, const Dataset *d, RunResult *res, int epoch)
{
    if (c->train_curves)
        train_evaluate(&t->mlp, t->params, t->ws, d->x_train, d->y_train, d->n_train,
                       &res->curve[CURVE_TRAIN_LOSS][epoch], &res->curve[CURVE_TRAIN_ACC][epoch]);
    train_evaluate(&t->mlp, t->params, t->ws, d->x_test, d->y_test, d->n_test,
                   &res->curve[CURVE_TEST_LOSS][epoch], &res->curve[CURVE_TEST_ACC][epoch]);
}

/* One pass over the training set in t->order. */
static void train_epoch(Trainer *t, const TrainConfig *c, const Dataset *d, Rng *dropout_rng)
{
    int B = c->batch_size, nf = d->n_features;
    float l2 = (float)c->l2;
    if (B == 1) { /* per-example steps, fused */
        mlp_sgd_examples(&t->mlp, t->params, t->vel, t->ws, d->x_train, d->y_train, t->order, d->n_train, &t->opt,
                         l2, dropout_rng);
        return;
    }
    for (int start = 0; start < d->n_train; start += B) {
        int rows = d->n_train - start < B ? d->n_train - start : B;
        const float *x;
        const int32_t *y;
        if (c->shuffle) {
            for (int r = 0; r < rows; r++) {
                int i = t->order[start + r];
                memcpy(t->xb + (size_t)r * nf, d->x_train + (size_t)i * nf, (size_t)nf * sizeof(float));
                t->yb[r] = d->y_train[i];
            }
            x = t->xb;
            y = t->yb;
        } else {
            x = d->x_train + (size_t)start * nf;
            y = d->y_train + start;
        }
        mlp_dropout_sample(&t->mlp, t->ws, rows, dropout_rng);
        mlp_forward(&t->mlp, t->params, t->ws, x, NULL, rows, 1, NULL, NULL); /* no loss needed here */
        mlp_backward(&t->mlp, t->params, t->grads, t->ws, x, y, rows, l2);
        optim_step(&t->opt, t->params, t->grads, t->vel, t->mlp.n_params);
    }
}

static int diverged(const TrainConfig *c, const RunResult *res, int epoch)
{
    return (c->train_curves && !isfinite(res->curve[CURVE_TRAIN_LOSS][epoch])) ||
           !isfinite(res->curve[CURVE_TEST_LOSS][epoch]);
}

void run_result_free(RunResult *res)
{
    if (!res) return;
    for (int k = 0; k < N_CURVES; k++) free(res->curve[k]);
    free(res->init);
    free(res->weights);
    memset(res, 0, sizeof *res);
}

int train_run(const TrainConfig *c, const Dataset *d, uint64_t seed, const TrainProgress *progress, RunResult *res,
              char *err)
{
    double t0 = nn_now();
    memset(res, 0, sizeof *res);
    Trainer t;
    if (trainer_create(&t, c, d, err)) return -1;
    res->epochs = c->epochs;
    res->mlp = t.mlp;
    for (int k = 0; k < N_CURVES; k++) res->curve[k] = nn_alloc((size_t)c->epochs + 1, sizeof(double));
    res->init = nn_alloc(t.mlp.n_params, sizeof(float));
    res->weights = nn_alloc(t.mlp.n_params, sizeof(float));
    if (!res->curve[N_CURVES - 1] || !res->curve[0] || !res->curve[1] || !res->curve[2] || !res->init ||
        !res->weights) {
        trainer_destroy(&t);
        run_result_free(res);
        return nn_errf(err, "out of memory for a run's results");
    }

    Rng init_rng, dropout_rng, shuffle_rng;
    rng_stream(&init_rng, seed, RNG_INIT);
    rng_stream(&dropout_rng, seed, RNG_DROPOUT);
    rng_stream(&shuffle_rng, seed, RNG_SHUFFLE);
    mlp_init(&t.mlp, t.params, c->init, &init_rng);
    memcpy(res->init, t.params, t.mlp.n_params * sizeof(float));

    for (int k = 0; k < N_CURVES; k++)
        for (int e = 0; e <= c->epochs; e++) res->curve[k][e] = NAN;
    res->status = RUN_OK;
    record(&t, c, d, res, 0);
    if (diverged(c, res, 0)) res->status = RUN_DIVERGED;
    for (int e = 1; e <= c->epochs && res->status == RUN_OK; e++) {
        double t_epoch = nn_now();
        if (c->shuffle) rng_shuffle(&shuffle_rng, t.order, d->n_train);
        train_epoch(&t, c, d, &dropout_rng);
        res->train_seconds += nn_now() - t_epoch;
        record(&t, c, d, res, e);
        res->epochs_done = e;
        if (diverged(c, res, e)) res->status = RUN_DIVERGED;
        if (progress) progress->fn(progress->ctx, e);
    }
    memcpy(res->weights, t.params, t.mlp.n_params * sizeof(float));
    trainer_destroy(&t);
    res->seconds = nn_now() - t0;
    return 0;
}
