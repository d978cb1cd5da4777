/* train.c — the epoch loop of one run: batches in split order (or reshuffled
 * every epoch), forward, backward, optimizer step, and full-set evaluation
 * after every epoch for the curves (of the training set only if asked); the
 * selected epoch on validation, its weights, and early stopping. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnlab.h"
#include "optim.h"
#include "rng.h"

const char *const run_status_names[] = {"ok", "diverged", "failed", "paused", "pruned", NULL};
const char *const curve_names[] = {"train_loss", "test_loss", "train_acc", "test_acc", "val_loss", "val_acc", NULL};
const char *const train_select_names[] = {"val_loss", "val_acc", NULL};

int train_batch_rows(const TrainConfig *c, const Dataset *d)
{
    return c->batch_size < d->n_train ? c->batch_size : d->n_train;
}

/* Rows of the workspace: the largest batch, and the evaluation's blocks,
 * which are the workspace's rows (TRAIN_EVAL_ROWS, or the batch's if more).
 * Capped at the larger of the two sets, as a block that large evaluates
 * either set in one piece, as any larger block would: the curves' bits are
 * those of the uncapped block. */
int train_work_rows(const TrainConfig *c, const Dataset *d)
{
    int largest = d->n_train > d->n_test ? d->n_train : d->n_test;
    largest = d->n_val > largest ? d->n_val : largest;
    int rows = c->batch_size < largest ? c->batch_size : largest;
    return rows > TRAIN_EVAL_ROWS ? rows : TRAIN_EVAL_ROWS;
}

double train_state_bytes(const TrainConfig *c, const Dataset *d)
{
    Mlp m;
    if (mlp_setup(&m, d->n_features, c->hidden.units, c->hidden.n, d->n_classes, c->activation, (float)c->dropout,
                  NULL))
        return 0; /* a layout the config check already refused */
    double buffers = 2 + optim_n_state(c->optimizer); /* params, grads, the optimizer's state */
    buffers += d->n_val > 0 ? 3 : 2; /* + the result's init, weights and best weights */
    double bytes = buffers * (double)m.n_params * sizeof(float);
    bytes += (double)mlp_work_bytes(&m, train_work_rows(c, d));
    bytes += (double)d->n_train * sizeof(int32_t);
    bytes += (double)train_batch_rows(c, d) * ((double)d->n_features * sizeof(float) + sizeof(int32_t));
    bytes += (double)TRAIN_N_CURVES(d) * (c->epochs + 1) * sizeof(double);
    return bytes;
}

void train_state_free(TrainState *t)
{
    if (!t) return;
    free(t->params);
    free(t->grads);
    free(t->state);
    mlp_work_destroy(t->ws);
    free(t->order);
    free(t->xb);
    free(t->yb);
    run_result_free(&t->res);
    memset(t, 0, sizeof *t);
}

Optim train_optim(const TrainConfig *c)
{
    Optim o = {0};
    o.kind = c->optimizer;
    o.lr = (float)c->learning_rate;
    o.momentum = (float)c->momentum;
    o.beta1 = (float)c->beta1;
    o.beta2 = (float)c->beta2;
    o.eps = (float)c->eps;
    o.alpha = (float)c->alpha;
    o.weight_decay = (float)c->weight_decay;
    return o;
}

double train_lr(const TrainConfig *c, int e)
{
    return optim_schedule_lr(c->lr_schedule, c->learning_rate, e, c->epochs, c->warmup_epochs, c->step_size,
                             c->gamma, c->min_lr);
}

/* The buffers of a run and of its result: everything train_start and a
 * restore need, allocated at once; the curves all NaN. */
int train_alloc(TrainState *t, const TrainConfig *c, const Dataset *d, char *err)
{
    memset(t, 0, sizeof *t);
    if (mlp_setup(&t->mlp, d->n_features, c->hidden.units, c->hidden.n, d->n_classes, c->activation,
                  (float)c->dropout, err))
        return -1;
    t->opt = train_optim(c);
    size_t np = t->mlp.n_params, ns = (size_t)optim_n_state(c->optimizer);
    t->n_state = ns * np;
    t->n_order = d->n_train;
    t->params = nn_alloc(np, sizeof(float));
    t->grads = nn_alloc(np, sizeof(float));
    if (ns) t->state = nn_calloc(ns * np, sizeof(float));
    t->ws = mlp_work_create(&t->mlp, train_work_rows(c, d));
    t->order = nn_alloc((size_t)d->n_train, sizeof(int32_t));
    if (c->shuffle) {
        t->xb = nn_alloc((size_t)train_batch_rows(c, d) * (size_t)d->n_features, sizeof(float));
        t->yb = nn_alloc((size_t)train_batch_rows(c, d), sizeof(int32_t));
    }
    RunResult *res = &t->res;
    res->epochs = c->epochs;
    res->mlp = t->mlp;
    res->n_curves = TRAIN_N_CURVES(d);
    res->best_epoch = -1;
    res->status = RUN_OK;
    int oom = !t->params || !t->grads || (ns && !t->state) || !t->ws || !t->order || (c->shuffle && (!t->xb || !t->yb));
    for (int k = 0; k < res->n_curves; k++) {
        oom |= !(res->curve[k] = nn_alloc((size_t)c->epochs + 1, sizeof(double)));
        for (int e = 0; res->curve[k] && e <= c->epochs; e++) res->curve[k][e] = NAN;
    }
    oom |= !(res->init = nn_alloc(np, sizeof(float))) || !(res->weights = nn_alloc(np, sizeof(float)));
    if (d->n_val) oom |= !(res->best = nn_alloc(np, sizeof(float)));
    if (oom) {
        train_state_free(t);
        return nn_errf(err, "out of memory for a run's state (%zu parameters)", np);
    }
    for (int i = 0; i < d->n_train; i++) t->order[i] = i;
    return 0;
}

void train_predict(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y, int n,
                   float *prob, int32_t *pred, double *loss, double *acc)
{
    double sum = 0.0;
    int correct = 0, classes = m->size[m->n_layers];
    for (int i = 0; i < n; i += ws->max_batch) {
        int rows = n - i < ws->max_batch ? n - i : ws->max_batch;
        mlp_forward(m, params, ws, x + (size_t)i * m->size[0], y ? y + i : NULL, rows, 0, &sum, &correct);
        if (prob) memcpy(prob + (size_t)i * classes, ws->act[m->n_layers - 1], (size_t)rows * classes * sizeof(float));
        for (int r = 0; pred && r < rows; r++) { /* the first largest logit, as the accuracy counts */
            const float *z = ws->logits + (size_t)r * classes;
            int arg = 0;
            for (int j = 1; j < classes; j++)
                if (z[j] > z[arg]) arg = j;
            pred[i + r] = arg;
        }
    }
    if (loss) *loss = y ? sum / n : NAN;
    if (acc) *acc = y ? (double)correct / n : NAN;
}

void train_evaluate(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y,
                    int n, double *loss, double *acc)
{
    train_predict(m, params, ws, x, y, n, NULL, NULL, loss, acc);
}

int train_select_epoch(const double *val, int last, int higher_is_better)
{
    int best = -1;
    for (int e = 0; e <= last; e++) {
        double v = higher_is_better ? -val[e] : val[e];
        if (isfinite(v) && (best < 0 || v < (higher_is_better ? -val[best] : val[best]))) best = e;
    }
    return best;
}

/* The curves at this epoch: the test set, the validation set, and the
 * training set unless train_curves is off (its entries then stay NaN). */
static void record(TrainState *t, const TrainConfig *c, const Dataset *d, RunResult *res, int epoch)
{
    if (c->train_curves)
        train_evaluate(&t->mlp, t->params, t->ws, d->x_train, d->y_train, d->n_train,
                       &res->curve[CURVE_TRAIN_LOSS][epoch], &res->curve[CURVE_TRAIN_ACC][epoch]);
    if (d->n_val)
        train_evaluate(&t->mlp, t->params, t->ws, d->x_val, d->y_val, d->n_val, &res->curve[CURVE_VAL_LOSS][epoch],
                       &res->curve[CURVE_VAL_ACC][epoch]);
    train_evaluate(&t->mlp, t->params, t->ws, d->x_test, d->y_test, d->n_test,
                   &res->curve[CURVE_TEST_LOSS][epoch], &res->curve[CURVE_TEST_ACC][epoch]);
}

/* Asked between blocks of examples: abandon the epoch? */
static int stop_asked(const TrainProgress *progress)
{
    return progress && progress->stop && progress->stop(progress->ctx);
}

/* One pass over the training set in t->order; 1 if stopped from outside
 * part way (the state is then half an epoch on, to be discarded). */
static int train_epoch(TrainState *t, const TrainConfig *c, const Dataset *d, Rng *dropout_rng,
                       const TrainProgress *progress)
{
    int B = c->batch_size, nf = d->n_features;
    float l2 = (float)c->l2;
    if (B == 1) { /* per-example steps, fused, in blocks that give the same bits as one */
        for (int start = 0; start < d->n_train; start += TRAIN_STOP_EXAMPLES) {
            if (start > 0 && stop_asked(progress)) return 1;
            int n = d->n_train - start < TRAIN_STOP_EXAMPLES ? d->n_train - start : TRAIN_STOP_EXAMPLES;
            mlp_sgd_examples(&t->mlp, t->params, t->state, t->ws, d->x_train, d->y_train, t->order + start, n,
                             &t->opt, l2, dropout_rng);
        }
        return 0;
    }
    for (int start = 0, asked = 0; start < d->n_train; start += B) {
        if (start - asked >= TRAIN_STOP_EXAMPLES) {
            if (stop_asked(progress)) return 1;
            asked = start;
        }
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
        mlp_step(&t->mlp, &t->opt, t->params, t->grads, t->state);
    }
    return 0;
}

/* A non-finite loss on any set evaluated: the run diverged at this epoch,
 * whose every metric is then NaN (NaN outputs would otherwise count as
 * class 0 in the accuracies). */
static int diverged(const TrainConfig *c, RunResult *res, int epoch)
{
    int bad = (c->train_curves && !isfinite(res->curve[CURVE_TRAIN_LOSS][epoch])) ||
              !isfinite(res->curve[CURVE_TEST_LOSS][epoch]) ||
              (res->n_curves > CURVE_VAL_LOSS && !isfinite(res->curve[CURVE_VAL_LOSS][epoch]));
    for (int k = 0; bad && k < N_CURVES; k++)
        if (res->curve[k]) res->curve[k][epoch] = NAN;
    return bad;
}

/* Selection and early stopping on the validation curve, after epoch e's
 * curves; returns 1 when early stopping ends the run. */
static int select_step(TrainState *t, const TrainConfig *c, int e)
{
    RunResult *res = &t->res;
    double v = res->curve[c->select == SELECT_VAL_ACC ? CURVE_VAL_ACC : CURVE_VAL_LOSS][e];
    if (c->select == SELECT_VAL_ACC) v = -v;
    if (!isfinite(v)) return 0;
    if (res->best_epoch < 0 || v < t->sel_best) {
        res->best_epoch = e;
        t->sel_best = v;
        memcpy(res->best, t->params, t->mlp.n_params * sizeof(float));
    }
    if (e == 0 || v < t->sel_ref - c->min_delta) {
        t->sel_ref = v;
        t->sel_wait = 0;
        return 0;
    }
    return c->patience > 0 && ++t->sel_wait >= c->patience;
}

void run_result_free(RunResult *res)
{
    if (!res) return;
    for (int k = 0; k < N_CURVES; k++) free(res->curve[k]);
    free(res->init);
    free(res->weights);
    free(res->best);
    memset(res, 0, sizeof *res);
}

int train_start(TrainState *t, const TrainConfig *c, const Dataset *d, uint64_t seed, char *err)
{
    double t0 = nn_now();
    if (train_alloc(t, c, d, err)) return -1;
    Rng init_rng;
    rng_stream(&init_rng, seed, RNG_INIT);
    rng_stream(&t->dropout_rng, seed, RNG_DROPOUT);
    rng_stream(&t->shuffle_rng, seed, RNG_SHUFFLE);
    mlp_init(&t->mlp, t->params, c->init, &init_rng);
    memcpy(t->res.init, t->params, t->mlp.n_params * sizeof(float));
    record(t, c, d, &t->res, 0);
    if (diverged(c, &t->res, 0)) t->res.status = RUN_DIVERGED;
    else if (t->res.best) t->stopped = select_step(t, c, 0);
    t->res.seconds += nn_now() - t0;
    return 0;
}

int train_over(const TrainState *t)
{
    return t->res.status != RUN_OK || t->stopped;
}

int train_advance(TrainState *t, const TrainConfig *c, const Dataset *d, int to_epoch, const TrainProgress *progress)
{
    double t0 = nn_now();
    RunResult *res = &t->res;
    to_epoch = to_epoch < c->epochs ? to_epoch : c->epochs;
    for (int e = res->epochs_done + 1; e <= to_epoch && !train_over(t); e++) {
        double t_epoch = nn_now();
        if (c->shuffle) rng_shuffle(&t->shuffle_rng, t->order, d->n_train);
        t->opt.lr = (float)train_lr(c, e - 1);
        unsigned mode = optim_flush_begin(c->optimizer);
        int stopped = train_epoch(t, c, d, &t->dropout_rng, progress);
        optim_flush_end(mode);
        if (stopped) {
            res->seconds += nn_now() - t0;
            return 1;
        }
        res->train_seconds += nn_now() - t_epoch;
        record(t, c, d, res, e);
        res->epochs_done = e;
        if (diverged(c, res, e)) res->status = RUN_DIVERGED;
        else if (res->best) t->stopped = select_step(t, c, e);
        if (progress && progress->fn(progress->ctx, e)) { /* stopped from outside */
            res->seconds += nn_now() - t0;
            return 1;
        }
    }
    res->seconds += nn_now() - t0;
    return 0;
}

void train_snapshot(TrainState *t)
{
    RunResult *res = &t->res;
    if (!res->best) res->best_epoch = res->epochs_done; /* without validation: the last epoch */
    else if (res->best_epoch < 0) { /* diverged before any finite validation value */
        res->best_epoch = 0;
        memcpy(res->best, res->init, t->mlp.n_params * sizeof(float));
    }
    memcpy(res->weights, t->params, t->mlp.n_params * sizeof(float));
}

void train_finish(TrainState *t, RunResult *res)
{
    train_snapshot(t);
    *res = t->res;
    memset(&t->res, 0, sizeof t->res);
    train_state_free(t);
}

int train_run(const TrainConfig *c, const Dataset *d, uint64_t seed, const TrainProgress *progress, RunResult *res,
              char *err)
{
    TrainState t;
    memset(res, 0, sizeof *res);
    if (train_start(&t, c, d, seed, err)) return -1;
    if (train_advance(&t, c, d, c->epochs, progress)) { /* stopped from outside: nothing to keep */
        train_state_free(&t);
        return 1;
    }
    train_finish(&t, res);
    return 0;
}

/* ---- a run's state as one buffer ------------------------------------------ */

typedef struct {
    int32_t epochs, epochs_done, best_epoch, status, stopped, sel_wait, n_curves, has_best;
    int64_t n_params, n_state, n_order, steps;
    double sel_best, sel_ref, seconds, train_seconds;
    uint64_t dropout[4], shuffle[4];
} PackedHeader;

size_t train_pack_bytes(const TrainState *t)
{
    const RunResult *r = &t->res;
    return sizeof(PackedHeader) + (size_t)r->n_curves * ((size_t)r->epochs + 1) * sizeof(double) +
           ((2 + (r->best != NULL)) * t->mlp.n_params + t->n_state) * sizeof(float) + (size_t)t->n_order * sizeof(int32_t);
}

/* Copy n bytes between the buffer at *p and v, in the direction `out`. */
static void pack_copy(char **p, void *v, size_t n, int out)
{
    if (out) memcpy(*p, v, n);
    else memcpy(v, *p, n);
    *p += n;
}

/* Pack (out) or unpack the fields after the header, in one order. */
static void pack_body(TrainState *t, char *p, int out)
{
    RunResult *r = &t->res;
    size_t np = t->mlp.n_params;
    for (int k = 0; k < r->n_curves; k++) pack_copy(&p, r->curve[k], ((size_t)r->epochs + 1) * sizeof(double), out);
    pack_copy(&p, t->params, np * sizeof(float), out);
    pack_copy(&p, r->init, np * sizeof(float), out);
    if (r->best) pack_copy(&p, r->best, np * sizeof(float), out);
    if (t->n_state) pack_copy(&p, t->state, t->n_state * sizeof(float), out);
    pack_copy(&p, t->order, (size_t)t->n_order * sizeof(int32_t), out);
}

void train_pack(const TrainState *t, char *buf)
{
    const RunResult *r = &t->res;
    PackedHeader h;
    memset(&h, 0, sizeof h);
    h.epochs = r->epochs, h.epochs_done = r->epochs_done, h.best_epoch = r->best_epoch, h.status = r->status;
    h.stopped = t->stopped, h.sel_wait = t->sel_wait, h.n_curves = r->n_curves, h.has_best = r->best != NULL;
    h.n_params = (int64_t)t->mlp.n_params, h.n_state = (int64_t)t->n_state, h.n_order = t->n_order;
    h.steps = t->opt.t, h.sel_best = t->sel_best, h.sel_ref = t->sel_ref;
    h.seconds = r->seconds, h.train_seconds = r->train_seconds;
    memcpy(h.dropout, t->dropout_rng.s, sizeof h.dropout);
    memcpy(h.shuffle, t->shuffle_rng.s, sizeof h.shuffle);
    memcpy(buf, &h, sizeof h);
    pack_body((TrainState *)t, buf + sizeof h, 1); /* reads only */
}

int train_unpack(TrainState *t, const char *buf, size_t len)
{
    PackedHeader h;
    RunResult *r = &t->res;
    if (len != train_pack_bytes(t)) return -1;
    memcpy(&h, buf, sizeof h);
    if (h.epochs != r->epochs || h.n_curves != r->n_curves || h.has_best != (r->best != NULL) ||
        h.n_params != (int64_t)t->mlp.n_params || h.n_state != (int64_t)t->n_state || h.n_order != t->n_order ||
        h.epochs_done < 0 || h.epochs_done > h.epochs || h.best_epoch < -1 || h.best_epoch > h.epochs_done)
        return -1;
    r->epochs_done = h.epochs_done, r->best_epoch = h.best_epoch, r->status = h.status;
    t->stopped = h.stopped, t->sel_wait = h.sel_wait, t->opt.t = h.steps;
    t->sel_best = h.sel_best, t->sel_ref = h.sel_ref;
    r->seconds = h.seconds, r->train_seconds = h.train_seconds;
    memcpy(t->dropout_rng.s, h.dropout, sizeof h.dropout);
    memcpy(t->shuffle_rng.s, h.shuffle, sizeof h.shuffle);
    pack_body(t, (char *)buf + sizeof h, 0); /* writes into t only */
    return 0;
}

double train_rung_value(const RunResult *r, int select, int epoch)
{
    if (r->n_curves <= CURVE_VAL_ACC) return NAN; /* a diverged run's curves are NaN from there on */
    int e = epoch < r->epochs_done ? epoch : r->epochs_done;
    double v = r->curve[select == SELECT_VAL_ACC ? CURVE_VAL_ACC : CURVE_VAL_LOSS][e];
    if (!isfinite(v)) return NAN;
    return select == SELECT_VAL_ACC ? -v : v;
}
