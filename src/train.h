/* train.h — one training run: a private model, optimizer and random streams,
 * trained on a shared read-only Dataset, producing curves and weights.
 *
 * train_run allocates everything it needs before the first step; the
 * training step itself allocates nothing and does no I/O. It is safe to call
 * from many threads at once (no global state). */
#ifndef TRAIN_H
#define TRAIN_H

#include <stdint.h>

#include "data.h"
#include "mlp.h"

/* The model and training settings of one run (DESIGN.md "Experiment file"). */
/* Units of each hidden layer. */
typedef struct {
    int n;
    int units[MLP_MAX_HIDDEN];
} LayerSizes;

typedef struct {
    LayerSizes hidden;
    int activation;  /* MlpActivation */
    double dropout;  /* [0, 1) */
    int init;        /* MlpInit */
    int epochs;      /* >= 1 */
    int batch_size;  /* >= 1; a last partial batch counts */
    double learning_rate;
    int optimizer;   /* OptimKind */
    double momentum; /* [0, 1): momentum, nesterov */
    double beta1, beta2; /* training.betas, [0, 1): adam, adamw */
    double eps;          /* training.eps, > 0: adam, adamw, rmsprop */
    double alpha;        /* training.alpha, [0, 1): rmsprop's smoothing constant */
    double weight_decay; /* training.weight_decay, >= 0: adamw (decoupled) */
    int lr_schedule;     /* training.lr_schedule.type: LrScheduleKind */
    int warmup_epochs;   /* training.lr_schedule.warmup_epochs, >= 0 */
    int step_size;       /* training.lr_schedule.step_size, >= 1: step */
    double gamma;        /* training.lr_schedule.gamma, > 0: step, exponential */
    double min_lr;       /* training.lr_schedule.min_lr, >= 0: cosine */
    double l2;       /* >= 0 */
    int shuffle;     /* reshuffle the training set every epoch */
    int train_curves; /* evaluate the training set after every epoch; else its curves stay NaN */
    int select;       /* TrainSelect: the validation value that picks the selected epoch */
    int patience;     /* early stopping: stop after this many epochs without improvement; 0: never */
    double min_delta; /* early stopping: an improvement is a change of more than this */
} TrainConfig;

typedef enum { SELECT_VAL_LOSS = 0, SELECT_VAL_ACC } TrainSelect;
extern const char *const train_select_names[]; /* "val_loss", "val_acc" */

/* paused and pruned: successive halving's (a run paused at a rung; one not
 * promoted past it). Training itself sets only ok and diverged. */
typedef enum { RUN_OK = 0, RUN_DIVERGED, RUN_FAILED, RUN_PAUSED, RUN_PRUNED } RunStatus;
extern const char *const run_status_names[]; /* "ok", "diverged", "failed", "paused", "pruned" */

enum { CURVE_TRAIN_LOSS = 0, CURVE_TEST_LOSS, CURVE_TRAIN_ACC, CURVE_TEST_ACC, CURVE_VAL_LOSS, CURVE_VAL_ACC,
       N_CURVES };
extern const char *const curve_names[]; /* "train_loss", ... by index */
/* The curves a run of data set d has: the validation ones only with validation. */
#define TRAIN_N_CURVES(d) ((d)->n_val > 0 ? N_CURVES : CURVE_VAL_LOSS)

typedef struct {
    int status;          /* RunStatus */
    int epochs;          /* planned; each curve has epochs + 1 entries */
    int epochs_done;     /* completed epochs (the one that diverged included; fewer after an early stop) */
    int best_epoch;      /* the selected epoch: best validation value (ties: earliest); else epochs_done */
    int n_curves;        /* curves held: N_CURVES with validation, else the first CURVE_VAL_LOSS */
    int rung;            /* successive halving: the rung reached (0-based); 0 for other searches */
    double seconds;      /* wall time of the run */
    double train_seconds;/* of which in training steps (not evaluating the curves) */
    double *curve[N_CURVES]; /* (epochs + 1): index 0 before training; NaN from divergence on and after a stop */
    Mlp mlp;             /* layout of the buffers below */
    float *init;         /* (n_params) parameters at initialisation */
    float *weights;      /* (n_params) final parameters */
    float *best;         /* (n_params) parameters at best_epoch; NULL without validation */
} RunResult;

/* The optimizer of c, at step 0, at the configured learning rate. */
Optim train_optim(const TrainConfig *c);
/* The learning rate of epoch e (0-based) of a run of c: its schedule. */
double train_lr(const TrainConfig *c, int e);

/* Rows evaluated per forward pass when computing the curves. */
#define TRAIN_EVAL_ROWS 256

/* Bytes train_run allocates for one run (its state while training), in
 * double so that absurd layer sizes give an absurd number, not an overflow. */
double train_state_bytes(const TrainConfig *c, const Dataset *d);
/* Rows of the largest training batch: a batch larger than the training set
 * is the whole set, and needs no room for more. */
int train_batch_rows(const TrainConfig *c, const Dataset *d);
/* Rows of the workspace a run of c on d evaluates its curves with: the
 * same rows give the same bits (predict uses it). */
int train_work_rows(const TrainConfig *c, const Dataset *d);

/* For progress reports: fn(ctx, epoch) is called on the training thread
 * after each epoch's curves (epoch counts from 1). It sees nothing of the
 * run; a nonzero return stops the run there (SIGTERM). stop(ctx), if set,
 * is asked every TRAIN_STOP_EXAMPLES examples inside an epoch: a nonzero
 * return abandons the epoch half done, so that a large epoch does not
 * delay SIGTERM; the caller then discards the state. */
#define TRAIN_STOP_EXAMPLES 512
typedef struct {
    int (*fn)(void *ctx, int epoch);
    int (*stop)(void *ctx);
    void *ctx;
} TrainProgress;

/* A run in progress, trained epoch by epoch (successive halving pauses it
 * at a rung and continues it later, bit-identical to a run trained
 * straight through): the model, the optimizer's state and step count, the
 * dropout and shuffle streams with the current order of the training rows,
 * the selection and early-stopping state, and the result so far. The
 * schedule of learning rates depends on c->epochs only, never on where a
 * run paused. Owned by its creator: train_state_free (NULL is fine). */
typedef struct {
    Mlp mlp;
    Optim opt;                   /* opt.t: steps taken */
    float *params, *grads;       /* (n_params) each */
    float *state;                /* (n_state) the optimizer's state (optim_n_state × n_params); NULL for sgd */
    size_t n_state;
    Rng dropout_rng, shuffle_rng;
    int32_t *order;              /* (n_order = n_train) training rows of the last epoch, in order */
    int n_order;
    double sel_best, sel_ref;    /* selection: the best value so far; early stopping's reference value */
    int sel_wait;                /* early stopping: epochs since ref last improved by more than min_delta */
    int stopped;                 /* early stopping ended the run */
    RunResult res;               /* curves so far (NaN beyond epochs_done), init, best; weights: train_snapshot */
    MlpWork *ws;                 /* scratch, not state: for train_work_rows() rows */
    float *xb;                   /* (train_batch_rows(), features) gathered batch when shuffling */
    int32_t *yb;                 /* (train_batch_rows()) */
} TrainState;

/* Allocate a run's buffers (a result at epoch 0 of nothing: curves NaN);
 * train_start or train_unpack fill them. 0, or -1 with a message. */
int train_alloc(TrainState *t, const TrainConfig *c, const Dataset *d, char *err);
/* A new run from `seed`: initialised, epoch 0's curves recorded. */
int train_start(TrainState *t, const TrainConfig *c, const Dataset *d, uint64_t seed, char *err);
/* Train until epoch to_epoch (at most c->epochs) or until the run is over
 * (diverged, stopped early). 0, or 1 when progress stopped it after an
 * epoch (the state is that epoch's). */
int train_advance(TrainState *t, const TrainConfig *c, const Dataset *d, int to_epoch, const TrainProgress *progress);
/* Diverged or stopped early: no epoch would train. */
int train_over(const TrainState *t);
/* t->res as a run ending here reports it: weights = the parameters now,
 * best_epoch fixed up as train_run does. Training may go on after it. */
void train_snapshot(TrainState *t);
/* End the run here: its result moves into *res, t is freed. */
void train_finish(TrainState *t, RunResult *res);
void train_state_free(TrainState *t);

/* The state as one buffer (MPI messages, tests): train_pack_bytes(t)
 * bytes. train_unpack fills a state train_alloc made for the same config
 * and data; -1 if the buffer does not fit it. */
size_t train_pack_bytes(const TrainState *t);
void train_pack(const TrainState *t, char *buf);
int train_unpack(TrainState *t, const char *buf, size_t len);

/* Train one run from `seed`. Fills *res (freed with run_result_free).
 * Returns 0, or -1 with a message when memory could not be allocated, or 1
 * when progress stopped it (nothing in *res); a diverged run is a success
 * with res->status == RUN_DIVERGED. progress may be NULL. */
int train_run(const TrainConfig *c, const Dataset *d, uint64_t seed, const TrainProgress *progress, RunResult *res,
              char *err);
void run_result_free(RunResult *res);

/* Mean cross-entropy and accuracy of params over n rows, evaluation mode,
 * in blocks of ws->max_batch rows. With prob (n, classes) and pred (n) not
 * NULL, also each row's probabilities and predicted class (the first
 * largest logit, as the accuracy counts it); y may then be NULL (no loss or
 * accuracy). */
void train_evaluate(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y,
                    int n, double *loss, double *acc);
void train_predict(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y, int n,
                   float *prob, int32_t *pred, double *loss, double *acc);

/* A run's value at a rung ending at epoch `epoch` (successive halving):
 * its selection value (training.select) there, or at its last epoch if it
 * stopped early; lower is better (an accuracy negated); NaN when diverged. */
double train_rung_value(const RunResult *r, int select, int epoch);

/* The selected epoch of curves val (lower is better: a loss, or an
 * accuracy negated) over epochs 0 .. last: the first with the lowest
 * finite value, or -1 when none is finite. */
int train_select_epoch(const double *val, int last, int higher_is_better);

#endif
