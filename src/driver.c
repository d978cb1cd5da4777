/* driver.c — the experiment loop. Everything that can fail for a reason the
 * user can fix (bad data, absurd sizes, a non-empty output folder) is checked
 * before the output folder is touched. */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "grid.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"
#include "outdir.h"
#include "train.h"

/* Set by SIGINT/SIGTERM (and by a failed write): no new run starts. The one
 * piece of mutable global state, as a signal handler can reach nothing else;
 * a lock-free atomic, so the handler and every thread may touch it. */
static atomic_int stop_requested;
enum { STOP_AFTER_RUNS = 1, STOP_NOW = 2 }; /* values of stop_requested: SIGINT's, SIGTERM's */

static void on_signal(int sig)
{
    static const char msg_int[] = "\nnnlab: stopping: no new runs start; the runs in flight finish and results.h5 "
                                  "is merged (Ctrl-C again to stop at once; finished runs are kept)\n";
    static const char msg_term[] = "\nnnlab: terminated: the runs in flight stop at their next epoch (--resume runs "
                                   "them again) and the finished runs are merged into results.h5\n";
    stop_requested = sig == SIGTERM ? STOP_NOW : STOP_AFTER_RUNS;
    ssize_t unused = sig == SIGTERM ? write(STDERR_FILENO, msg_term, sizeof msg_term - 1) /* async-signal-safe */
                                    : write(STDERR_FILENO, msg_int, sizeof msg_int - 1);
    (void)unused;
}

/* First Ctrl-C: finish the runs in flight, then merge; SIGTERM (what a
 * scheduler sends before it kills a job): stop the runs in flight at their
 * next epoch, then merge. The handler is reset to the default, so a second
 * signal ends the process at once; run files are written as .tmp + rename,
 * so none that finished can be half-written. */
static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Bytes of a loaded data set. */
static double data_bytes(const Dataset *d)
{
    return ((double)d->n_train + d->n_val + d->n_test) * ((double)d->n_features * sizeof(float) + 2 * sizeof(int32_t));
}

/* The largest state of one run over the config points; its config point in
 * *which (when not NULL). */
static double run_state_bytes(const Experiment *ex, Dataset *const *data, int *which)
{
    double worst = 0;
    for (int c = 0; c < grid_n_configs(ex); c++) {
        Settings s;
        grid_settings(ex, c, &s);
        double b = train_state_bytes(&s.train, data[c * grid_n_folds(ex)]);
        if (b > worst || c == 0) {
            worst = b;
            if (which) *which = c;
        }
    }
    return worst;
}

/* bytes as GiB in buf: 3 significant digits, whole GiB from 100 on. */
static const char *gib_text(char *buf, size_t cap, double bytes)
{
    double g = bytes / 1073741824.0;
    snprintf(buf, cap, g < 100 ? "%.3g GiB" : "%.0f GiB", g);
    return buf;
}

/* Refuse runs whose state would not fit in memory, before allocating any:
 * fewer threads when one run fits, else the layout that makes it too big. */
static int check_memory(const Experiment *ex, Dataset *const *data, int threads, char *err)
{
    char t1[32], t2[32], t3[32];
    double page = (double)sysconf(_SC_PAGESIZE), pages = (double)sysconf(_SC_PHYS_PAGES);
    double machine = page > 0 && pages > 0 ? page * pages : 0;
    int c = 0;
    double worst = run_state_bytes(ex, data, &c);
    if (machine <= 0 || worst * threads <= machine) return 0;
    if (worst <= machine)
        return nn_errf(err, "%s: %d threads need %s (%s per run) but this machine has %s; -j %d fits", ex->file,
                       threads, gib_text(t1, sizeof t1, worst * threads), gib_text(t2, sizeof t2, worst),
                       gib_text(t3, sizeof t3, machine), (int)(machine / worst));
    Settings s;
    grid_settings(ex, c, &s);
    const TrainConfig *t = &s.train;
    const Dataset *dc = data[c * grid_n_folds(ex)];
    Mlp m; /* its layout: train_state_bytes, which sized it, set it up the same way */
    if (mlp_setup(&m, dc->n_features, t->hidden.units, t->hidden.n, dc->n_classes, t->activation,
                  (float)t->dropout, err))
        return -1;
    char layers[16 * MLP_MAX_HIDDEN] = "", point[32] = "";
    size_t len = 0;
    for (int l = 1; l < m.n_layers && len < sizeof layers; l++)
        len += (size_t)snprintf(layers + len, sizeof layers - len, "%s%d", l > 1 ? ", " : "", m.size[l]);
    if (grid_n_configs(ex) > 1) snprintf(point, sizeof point, " of config point c%04d", c);
    TrainConfig one = *t; /* what the batch adds: the run's state beyond that of batches of one row */
    one.batch_size = 1;
    double batch = worst - train_state_bytes(&one, dc);
    if (batch > worst / 2) /* mostly the batch's buffers: a smaller model would hardly help */
        return nn_errf(err, "%s: one run%s needs %s but this machine has %s, %s of it for batches of %d rows "
                       "through %d inputs, model.hidden [%s] and %d classes; make training.batch_size smaller",
                       ex->file, point, gib_text(t1, sizeof t1, worst), gib_text(t2, sizeof t2, machine),
                       gib_text(t3, sizeof t3, batch),
                       train_batch_rows(t, dc), m.size[0], layers,
                       m.size[m.n_layers]);
    return nn_errf(err, "%s: one run%s needs %s but this machine has %s: %d inputs, model.hidden [%s] and %d "
                   "classes make %.3g parameters; make the model smaller", ex->file, point,
                   gib_text(t1, sizeof t1, worst), gib_text(t2, sizeof t2, machine), m.size[0], layers,
                   m.size[m.n_layers], (double)m.n_params);
}

/* One data set per distinct dataset setting (only dataset.scale can be
 * swept) and fold: data[c * folds + k] points at config c's fold k
 * (k = 0 without folds). All of them in *owned. */
static int load_data(const Experiment *ex, Dataset ***data, Dataset ***owned, int *n_owned, char *err)
{
    int n = grid_n_configs(ex), folds = grid_n_folds(ex);
    DataConfig *seen = nn_alloc((size_t)n, sizeof *seen);
    *data = nn_calloc((size_t)n * folds, sizeof **data);
    *owned = nn_calloc((size_t)n * folds, sizeof **owned);
    *n_owned = 0;
    if (!seen || !*data || !*owned) {
        free(seen);
        return nn_errf(err, "out of memory");
    }
    int rc = 0, n_seen = 0;
    for (int c = 0; c < n && !rc; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        int k = 0;
        while (k < n_seen && memcmp(&seen[k], &s.data, sizeof s.data)) k++;
        if (k == n_seen) {
            seen[k] = s.data;
            rc = data_load(&s.data, *owned + (size_t)k * folds, err);
            if (rc) break;
            n_seen++;
            *n_owned += folds;
        }
        for (int j = 0; j < folds; j++) (*data)[(size_t)c * folds + j] = (*owned)[(size_t)k * folds + j];
    }
    free(seen);
    return rc;
}

/* The data set a run trains on. */
static Dataset *run_data(const Experiment *ex, Dataset *const *data, const RunSpec *spec)
{
    return data[(size_t)spec->config * grid_n_folds(ex) + spec->fold];
}

static void free_data(Dataset **data, Dataset **owned, int n_owned)
{
    for (int i = 0; i < n_owned; i++) data_free(owned[i]);
    free(owned);
    free(data);
}

/* ---- progress ------------------------------------------------------------ */

typedef struct {
    int total, done, diverged, failed;
    double epochs_total, epochs_done; /* over the runs to do: ETA and the share done while runs are long */
    double start, last_print, best_acc; /* best_acc: the best validation accuracy at a selected epoch */
    int tty, quiet;
} Progress;

static void progress_show(Progress *p, int final)
{
    if (p->quiet || p->total == 0) return; /* nothing to run: no progress to show */
    double now = nn_now(), elapsed = now - p->start;
    if (!final && !p->tty && now - p->last_print < 2.0) return;
    if (!final && p->tty && now - p->last_print < 0.1) return;
    p->last_print = now;
    double rate = elapsed > 0 ? p->done / elapsed : 0;
    char eta[32] = "-", share[32] = "";
    if (p->epochs_done > 0 && p->done < p->total) {
        snprintf(eta, sizeof eta, "%.0fs", (p->epochs_total - p->epochs_done) * elapsed / p->epochs_done);
        snprintf(share, sizeof share, ", %.0f%% of epochs", 100.0 * p->epochs_done / p->epochs_total);
    }
    char best[48] = ""; /* the test set is never the measure of "best" */
    if (p->best_acc >= 0) snprintf(best, sizeof best, "  best val acc %.4f", p->best_acc);
    char diverged[32] = "";
    if (p->diverged) snprintf(diverged, sizeof diverged, "  (%d diverged)", p->diverged);
    fprintf(stderr, "%s[%d/%d runs%s] %.2f runs/s  ETA %s%s%s%s", p->tty ? "\r" : "", p->done,
            p->total, share, rate, eta, best, diverged, p->tty ? "\033[K" : "\n");
    if (p->tty && final) fputc('\n', stderr);
    fflush(stderr);
}

/* ---- the run loop ---------------------------------------------------------- */

typedef struct {
    const Experiment *ex;
    Dataset *const *data; /* (n_configs) the data set of each config point */
    const RunSpec *runs;
    int n_runs_total;
    const int *todo;      /* indices into runs of the runs to do */
    int n_todo;
    int fail_fast;
    Progress progress;
    int write_failed;
    char write_err[NN_ERR_LEN];
} Loop;

/* A run that could not be trained: reported, counted. */
static void run_failed(Loop *L, const RunSpec *spec, const char *train_err)
{
    Progress *p = &L->progress;
    p->failed++;
    fprintf(stderr, "%snnlab: run %d (seed %lld) failed: %s\n", p->tty ? "\n" : "", spec->id, (long long)spec->seed,
            train_err);
    if (L->fail_fast) stop_requested = 1;
}

/* A write that failed: the experiment stops (the disk is full or gone). */
static void write_failed(Loop *L, const char *err)
{
    if (!L->write_failed) snprintf(L->write_err, sizeof L->write_err, "%s", err);
    L->write_failed = 1;
    stop_requested = 1;
}

static void run_done(Loop *L, const RunResult *res)
{
    Progress *p = &L->progress;
    p->done++;
    p->diverged += res->status == RUN_DIVERGED;
    double acc = res->n_curves > CURVE_VAL_ACC ? res->curve[CURVE_VAL_ACC][res->best_epoch] : NAN;
    if (!isnan(acc) && acc > p->best_acc) p->best_acc = acc;
    progress_show(p, 0);
}

/* Run files are made durable (fsync, rename, fsync of the folder: a few
 * milliseconds of waiting on the disk, as long as a tenth of a small run) by
 * one background thread, so the threads that train never wait on the disk.
 * HDF5, which is not thread-safe, writes each .tmp on the training thread
 * under the writer lock. A crash before the commit leaves a .tmp, which
 * --resume discards and runs again, as for a crash during training. */
typedef struct {
    const char *output;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int *ids;             /* (capacity) run ids to commit, in order; head .. tail queued */
    int head, tail, closed;
    atomic_int failed;    /* a commit failed: err says why */
    char err[NN_ERR_LEN];
} Committer;

static void *committer_main(void *arg)
{
    Committer *c = arg;
    char path[4200], err[NN_ERR_LEN];
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->head == c->tail && !c->closed) pthread_cond_wait(&c->cv, &c->mu);
        if (c->head == c->tail) break;
        int id = c->ids[c->head++];
        pthread_mutex_unlock(&c->mu);
        h5io_run_path(path, sizeof path, c->output, id);
        int rc = atomic_load(&c->failed) ? 0 : h5io_commit_run(path, id, err);
        pthread_mutex_lock(&c->mu);
        if (rc && !atomic_load(&c->failed)) {
            snprintf(c->err, sizeof c->err, "%s", err);
            atomic_store(&c->failed, 1);
            stop_requested = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static int committer_start(Committer *c, const char *output, int capacity, char *err)
{
    memset(c, 0, sizeof *c);
    c->output = output;
    c->ids = nn_alloc(capacity > 0 ? (size_t)capacity : 1, sizeof *c->ids);
    if (!c->ids) return nn_errf(err, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c->ids);
        return nn_errf(err, "cannot start the thread that commits run files");
    }
    return 0;
}

static void committer_push(Committer *c, int id)
{
    pthread_mutex_lock(&c->mu);
    c->ids[c->tail++] = id;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Commit everything queued, stop the thread; nonzero if a commit failed. */
static int committer_finish(Committer *c)
{
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->ids);
    return atomic_load(&c->failed);
}

/* Save a finished run: HDF5 writes the .tmp under the single-writer lock;
 * the committer c makes it durable while this thread trains the next run
 * (without one, as rank 0 of an MPI job, this thread commits it). */
static void save_run(Loop *L, Committer *c, const RunSpec *spec, const Settings *s, const RunResult *res)
{
    char path[4200], err[NN_ERR_LEN];
    h5io_run_path(path, sizeof path, L->ex->output, spec->id);
    const Dataset *d = run_data(L->ex, L->data, spec);
    int rc;
#pragma omp critical(nnlab_writer)
    rc = L->write_failed || (c && atomic_load(&c->failed)) ? 1 : h5io_write_run_tmp(path, L->ex, spec, s, res, d, err);
    if (rc == 0 && c) committer_push(c, spec->id);
    else if (rc == 0) rc = h5io_commit_run(path, spec->id, err);
#pragma omp critical(nnlab_progress)
    {
        if (rc < 0) write_failed(L, err);
        else if (rc == 0) run_done(L, res);
    }
}

/* A run's epochs as they finish, for the progress line. */
typedef struct {
    Loop *L;
    int id; /* the run's id, for the crash test */
    int reported;
} RunEpochs;

static int epoch_done(void *ctx, int epoch)
{
    RunEpochs *re = ctx;
    re->reported = epoch;
    if (epoch == 1) nn_crash_point("train", re->id); /* the crash test: killed mid-run */
#pragma omp critical(nnlab_progress)
    {
        re->L->progress.epochs_done++;
        progress_show(&re->L->progress, 0);
    }
    return stop_requested == STOP_NOW;
}

static void run_all(Loop *L, Committer *c, int threads)
{
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < L->n_todo; i++) {
        if (stop_requested) continue;
        const RunSpec *spec = &L->runs[L->todo[i]];
        Settings s;
        grid_settings(L->ex, spec->config, &s);
        RunResult res;
        char err[NN_ERR_LEN] = "";
        RunEpochs re = {L, spec->id, 0};
        TrainProgress tp = {epoch_done, &re};
        int rc = train_run(&s.train, run_data(L->ex, L->data, spec), (uint64_t)spec->seed, &tp, &res, err);
#pragma omp critical(nnlab_progress)
        L->progress.epochs_done += s.train.epochs - re.reported; /* those a diverged or failed run skipped */
        if (rc == 0) {
            save_run(L, c, spec, &s, &res);
            run_result_free(&res);
        } else if (rc < 0) {
#pragma omp critical(nnlab_progress)
            run_failed(L, spec, err);
        }
    }
}

#ifdef NNLAB_HAVE_MPI
/* ---- MPI: rank 0 coordinates and writes, the other ranks train ---------- *
 * Messages: a worker thread sends TAG_REQUEST and gets back TAG_WORK with an
 * index into runs (-1: no more work); it sends each finished run as
 * TAG_RESULT (header, curves, init, weights) or TAG_FAILED (a message). A
 * worker rank sends TAG_DONE when all its threads are done. MPI calls of a
 * worker's threads are serialised (MPI_THREAD_SERIALIZED). */
#include <mpi.h>

enum { TAG_REQUEST = 1, TAG_WORK, TAG_RESULT, TAG_FAILED, TAG_DONE };

typedef struct {
    int32_t index, status, epochs, epochs_done, best_epoch, n_curves, has_best, pad;
    int64_t n_params;
    double seconds, train_seconds;
} ResultHeader;

static size_t result_bytes(const RunResult *r)
{
    return sizeof(ResultHeader) + (size_t)r->n_curves * ((size_t)r->epochs + 1) * sizeof(double) +
           (2 + (r->best != NULL)) * r->mlp.n_params * sizeof(float);
}

/* One finished run as one buffer (the caller frees it). */
static char *pack_result(int index, const RunResult *r, size_t *len)
{
    *len = result_bytes(r);
    char *buf = malloc(*len), *p = buf;
    if (!buf) return NULL;
    ResultHeader h = {index, r->status, r->epochs, r->epochs_done, r->best_epoch, r->n_curves, r->best != NULL, 0,
                      (int64_t)r->mlp.n_params, r->seconds, r->train_seconds};
    memcpy(p, &h, sizeof h), p += sizeof h;
    for (int k = 0; k < r->n_curves; k++) {
        size_t n = ((size_t)r->epochs + 1) * sizeof(double);
        memcpy(p, r->curve[k], n), p += n;
    }
    memcpy(p, r->init, r->mlp.n_params * sizeof(float)), p += r->mlp.n_params * sizeof(float);
    memcpy(p, r->weights, r->mlp.n_params * sizeof(float)), p += r->mlp.n_params * sizeof(float);
    if (r->best) memcpy(p, r->best, r->mlp.n_params * sizeof(float));
    return buf;
}

/* A RunResult whose arrays point into buf (do not run_result_free it). */
static int unpack_result(const char *buf, size_t len, const Loop *L, RunResult *r, int *index)
{
    ResultHeader h;
    if (len < sizeof h) return -1;
    memcpy(&h, buf, sizeof h);
    if (h.index < 0 || h.index >= L->n_runs_total) return -1;
    const RunSpec *spec = &L->runs[h.index];
    Settings s;
    grid_settings(L->ex, spec->config, &s);
    memset(r, 0, sizeof *r);
    const Dataset *d = run_data(L->ex, L->data, spec);
    if (mlp_setup(&r->mlp, d->n_features, s.train.hidden.units, s.train.hidden.n, d->n_classes, s.train.activation,
                  (float)s.train.dropout, NULL) || (int64_t)r->mlp.n_params != h.n_params || h.epochs != s.train.epochs ||
        h.n_curves != TRAIN_N_CURVES(d) || h.has_best != (d->n_val > 0))
        return -1;
    r->status = h.status, r->epochs = h.epochs, r->epochs_done = h.epochs_done, r->best_epoch = h.best_epoch;
    r->n_curves = h.n_curves;
    r->seconds = h.seconds, r->train_seconds = h.train_seconds;
    const char *p = buf + sizeof h;
    if (h.has_best) r->best = (float *)p; /* for result_bytes; set below */
    if (len != result_bytes(r)) return -1;
    for (int k = 0; k < r->n_curves; k++) r->curve[k] = (double *)p, p += ((size_t)h.epochs + 1) * sizeof(double);
    r->init = (float *)p, p += r->mlp.n_params * sizeof(float);
    r->weights = (float *)p, p += r->mlp.n_params * sizeof(float);
    if (h.has_best) r->best = (float *)p;
    *index = h.index;
    return 0;
}

/* When a rank dies, mpirun tears the job down: rank 0 gets SIGTERM and is
 * killed soon after, so its handler can only say which runs did not finish
 * and leave. What the handler reads, set by mpi_coordinate (a handler can
 * reach nothing else). */
static struct {
    const RunSpec *runs;
    const int *todo;
    int n_todo;
    volatile unsigned char *saved; /* by run index: SAVING while its file is written, then SAVED */
    char path[4200];               /* "<output>/runs/r", h5io_run_path up to the id; unused if too long */
    size_t path_len;
} teardown;

/* Decimal digits of v (>= 0) at p, zero-padded to `width`; returns the end. */
static char *put_uint(char *p, unsigned long v, int width)
{
    char digits[24];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n < width) digits[n++] = '0';
    while (n) *p++ = digits[--n];
    return p;
}

enum { SAVING = 1, SAVED = 2 };

/* Whether run id's file is in place, with async-signal-safe calls only: a
 * run stopped while SAVING is finished if its file was renamed into place
 * (the commit) before the signal came. */
static int run_file_exists(int id)
{
    if (!teardown.path_len) return 0;
    char *p = put_uint(teardown.path + teardown.path_len, (unsigned long)id, 6);
    memcpy(p, ".h5", 4);
    return access(teardown.path, F_OK) == 0;
}

static void on_teardown(int sig)
{
    (void)sig;
    static char buf[16384];
    static const char head[] = "\nnnlab: the MPI job is ending (a rank died or it was stopped); runs not finished:";
    static const char tail[] = "\nnnlab: finished run files are intact; run again with --resume to complete the rest\n";
    char *p = buf, *end = buf + sizeof buf - sizeof tail - 16;
    memcpy(p, head, sizeof head - 1), p += sizeof head - 1;
    int listed = 0;
    for (int i = 0; i < teardown.n_todo && teardown.saved; i++) {
        int index = teardown.todo[i];
        if (teardown.saved[index] == SAVED ||
            (teardown.saved[index] == SAVING && run_file_exists(teardown.runs[index].id)))
            continue;
        if (p + 9 >= end) {
            memcpy(p, " ...", 4), p += 4;
            break;
        }
        *p++ = ' ', *p++ = 'r';
        p = put_uint(p, (unsigned long)teardown.runs[index].id, 6);
        listed++;
    }
    if (!listed) memcpy(p, " none", 5), p += 5;
    memcpy(p, tail, sizeof tail - 1), p += sizeof tail - 1;
    ssize_t unused = write(STDERR_FILENO, buf, (size_t)(p - buf));
    (void)unused;
    _exit(NN_EXIT_RUNTIME);
}

/* Rank 0: hand out L->todo, save what comes back, until every worker is done. */
static void mpi_coordinate(Loop *L, int size)
{
    int next = 0, done_ranks = 0;
    volatile unsigned char *saved = calloc((size_t)L->n_runs_total, 1);
    teardown.runs = L->runs, teardown.todo = L->todo, teardown.n_todo = L->n_todo, teardown.saved = saved;
    int n = snprintf(teardown.path, sizeof teardown.path, "%s/runs/r", L->ex->output);
    teardown.path_len = n > 0 && (size_t)n + 32 < sizeof teardown.path ? (size_t)n : 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_teardown;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (done_ranks < size - 1) {
        MPI_Status st;
        MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        int len;
        MPI_Get_count(&st, MPI_BYTE, &len);
        char *buf = malloc(len > 0 ? (size_t)len : 1);
        if (!buf) {
            fprintf(stderr, "nnlab: rank 0 is out of memory receiving a result of %d bytes\n", len);
            MPI_Abort(MPI_COMM_WORLD, NN_EXIT_RUNTIME); /* finished run files are intact: --resume */
        }
        MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_REQUEST) {
            int index = stop_requested || next >= L->n_todo ? -1 : L->todo[next++];
            MPI_Send(&index, 1, MPI_INT, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
        } else if (st.MPI_TAG == TAG_RESULT) {
            RunResult r;
            int index;
            if (unpack_result(buf, (size_t)len, L, &r, &index) == 0) {
                Settings s;
                grid_settings(L->ex, L->runs[index].config, &s);
                if (saved) saved[index] = SAVING;
                L->progress.epochs_done += s.train.epochs; /* the workers report whole runs */
                save_run(L, NULL, &L->runs[index], &s, &r);
                if (saved) saved[index] = L->write_failed ? 0 : SAVED;
            } else {
                write_failed(L, "a worker sent a malformed result (mismatched builds of nnlab?)");
            }
        } else if (st.MPI_TAG == TAG_FAILED) {
            int index;
            memcpy(&index, buf, sizeof index);
            Settings s;
            grid_settings(L->ex, L->runs[index].config, &s);
            L->progress.epochs_done += s.train.epochs;
            run_failed(L, &L->runs[index], buf + sizeof index);
        } else if (st.MPI_TAG == TAG_DONE) {
            done_ranks++;
        }
        free(buf);
    }
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    teardown.saved = NULL;
    free((void *)saved);
}

/* A worker rank: `threads` threads ask rank 0 for runs until there are none. */
static void mpi_work(const Experiment *ex, Dataset *const *data, const RunSpec *runs, int threads)
{
#pragma omp parallel num_threads(threads)
    for (;;) {
        int index, ask = 0;
#pragma omp critical(nnlab_mpi)
        {
            MPI_Send(&ask, 1, MPI_INT, 0, TAG_REQUEST, MPI_COMM_WORLD);
            MPI_Recv(&index, 1, MPI_INT, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        if (index < 0) break;
        const RunSpec *spec = &runs[index];
        Settings s;
        grid_settings(ex, spec->config, &s);
        RunResult r;
        char err[NN_ERR_LEN] = "", failed[sizeof(int) + NN_ERR_LEN];
        size_t len = 0;
        char *buf = NULL;
        if (train_run(&s.train, run_data(ex, data, spec), (uint64_t)spec->seed, NULL, &r, err) == 0) {
            buf = pack_result(index, &r, &len);
            run_result_free(&r);
            if (!buf) snprintf(err, sizeof err, "out of memory sending run %d", spec->id);
        }
        if (!buf) {
            memcpy(failed, &index, sizeof index);
            memcpy(failed + sizeof index, err, NN_ERR_LEN);
        }
#pragma omp critical(nnlab_mpi)
        {
            if (buf) MPI_Send(buf, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
            else MPI_Send(failed, (int)sizeof failed, MPI_BYTE, 0, TAG_FAILED, MPI_COMM_WORLD);
        }
        free(buf);
    }
    int bye = 0;
    MPI_Send(&bye, 1, MPI_INT, 0, TAG_DONE, MPI_COMM_WORLD);
}

/* 1 if any rank reports a failure. */
static int any_rank(int failed)
{
    int any = failed;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}
#endif

/* The data file a run file's data hash stands for, for messages. */
static const char *data_file_name(const Experiment *ex)
{
    const DataConfig *d = &ex->settings.data;
    return d->source == DATA_DIGITS ? "the built-in digits" : d->path;
}

/* The runs still to do: all of them, or with --resume (and shards) those
 * without a sound run file: each one there is verified (h5io_check_run).
 * One that fails is listed in *reject (run indices, *n_reject of them), to
 * be moved aside once the folder is prepared, and run again. A sound run
 * trained on other data (its data hash differs) refuses the resume: exit 2
 * (*input_error set). Reads only. */
static int *runs_to_do(const Experiment *ex, Dataset *const *data, const RunSpec *runs, int n_runs,
                       const DriverOptions *o, int *n_todo, int **reject, int *n_reject, int *input_error, char *err)
{
    int resume = o->resume || o->shard_n;
    int *todo = nn_alloc((size_t)n_runs, sizeof *todo);
    *reject = nn_alloc((size_t)n_runs, sizeof **reject);
    *n_todo = *n_reject = 0;
    if (!todo || !*reject) {
        free(todo);
        nn_errf(err, "out of memory");
        return NULL;
    }
    char hash[32], why[256];
    h5io_hash_text(hash, sizeof hash, data[0]->hash);
    for (int i = 0; i < n_runs; i++) {
        char path[4200];
        h5io_run_path(path, sizeof path, ex->output, runs[i].id);
        if (o->shard_n && runs[i].id % o->shard_n != o->shard_k) continue;
        int check = resume ? h5io_check_run(path, ex, &runs[i], hash, why, sizeof why) : H5IO_RUN_MISSING;
        if (check == H5IO_RUN_OTHER_DATA) {
            nn_errf(err, "cannot resume %s: %s has changed since its runs were trained (%s was %s); use another -o "
                    "DIR, or --force to replace those results", ex->output, data_file_name(ex), path, why);
            *input_error = 1;
            free(todo);
            return NULL;
        }
        if (check == H5IO_RUN_BAD) (*reject)[(*n_reject)++] = i;
        if (check != H5IO_RUN_OK) todo[(*n_todo)++] = i;
    }
    return todo;
}

/* Move the run files that failed verification aside, saying so. */
static int reject_runs(const Experiment *ex, const RunSpec *runs, const int *reject, int n_reject, char *err)
{
    for (int i = 0; i < n_reject; i++) {
        char path[4200], why[256];
        const RunSpec *spec = &runs[reject[i]];
        h5io_run_path(path, sizeof path, ex->output, spec->id);
        h5io_check_run(path, ex, spec, NULL, why, sizeof why);
        if (h5io_reject_run(ex->output, spec->id, err)) return -1;
        fprintf(stderr, "nnlab: %s: %s; moved to %s/runs/rejected/, run %d runs again\n", path, why, ex->output,
                spec->id);
    }
    return 0;
}

/* results.h5 holds every run that finished, or the status is a failure. */
static int merge_complete(const MergeReport *rep, const char *dir, char *err)
{
    if (!rep->n_rejected) return 0;
    return nn_errf(err, "%s/results.h5 lacks %d run%s whose file was damaged or replaced after it was written: %s "
                   "(moved to %s/runs/rejected/; --resume runs %s again)", dir, rep->n_rejected,
                   rep->n_rejected == 1 ? "" : "s", rep->rejected, dir, rep->n_rejected == 1 ? "it" : "them");
}

int driver_run(const Experiment *ex, const DriverOptions *o, char *err)
{
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    mlp_blas_single_thread(); /* after reading OpenMP's default: it sets that to 1 too */
    Dataset **data = NULL, **owned = NULL;
    RunSpec *runs = NULL;
    int *todo = NULL, *reject = NULL;
    int n_runs = 0, n_owned = 0, n_todo = 0, n_reject = 0, status = NN_EXIT_INPUT;
    OutdirLock lock = {-1, -1, -1};
    int failed = load_data(ex, &data, &owned, &n_owned, err) || grid_expand(ex, &runs, &n_runs, err) ||
                 check_memory(ex, data, threads < n_runs ? threads : n_runs, err);
#ifdef NNLAB_HAVE_MPI
    int mpi = o->mpi_size > 1;
    if (mpi && any_rank(failed) && !failed) {
        nn_errf(err, "another MPI rank could not load the experiment's data");
        failed = 1;
    }
    if (mpi && !failed && o->mpi_rank > 0) { /* a worker: wait for rank 0's folder, then train */
        if (any_rank(0)) {
            status = NN_EXIT_OK; /* rank 0 reports why */
            goto done;
        }
        mpi_work(ex, data, runs, threads);
        status = NN_EXIT_OK;
        goto done;
    }
#endif
    if (failed) goto done;
    /* The folder: its lock first (exit 1 while another process has it), then
     * what it holds (exit 2 for a refusal: not empty, not nnlab's, another
     * experiment, changed data), then nothing is written until all is checked. */
    int in_use = 0, input_error = 0, prepared = 0;
    OutdirMode mode = o->resume ? OUTDIR_RESUME : o->force ? OUTDIR_FORCE : OUTDIR_NEW;
    status = NN_EXIT_RUNTIME;
    if (outdir_lock(&lock, ex->output, o->shard_k, o->shard_n, &in_use, err) == 0) {
        todo = runs_to_do(ex, data, runs, n_runs, o, &n_todo, &reject, &n_reject, &input_error, err);
        prepared = todo && outdir_prepare(ex, mode, o->shard_k, o->shard_n, n_runs, &input_error, err) == 0 &&
                   reject_runs(ex, runs, reject, n_reject, err) == 0;
        outdir_setup_done(&lock);
        status = input_error ? NN_EXIT_INPUT : NN_EXIT_RUNTIME;
    }
#ifdef NNLAB_HAVE_MPI
    if (mpi) any_rank(!prepared); /* the workers wait for this */
#endif
    if (!prepared) goto done;

    Loop L = {ex, data, runs, n_runs, todo, n_todo, o->fail_fast, {0}, 0, ""};
    L.progress.total = n_todo;
    for (int i = 0; i < n_todo; i++) {
        Settings s;
        grid_settings(ex, runs[todo[i]].config, &s);
        L.progress.epochs_total += s.train.epochs;
    }
    L.progress.start = L.progress.last_print = nn_now();
    L.progress.best_acc = -1;
    L.progress.tty = isatty(fileno(stderr));
    L.progress.quiet = o->quiet;
    stop_requested = 0;
    install_handlers();
    if (!o->quiet) {
        char folds[32] = "";
        if (grid_n_folds(ex) > 1) snprintf(folds, sizeof folds, " x %d folds", grid_n_folds(ex));
        fprintf(stderr, "nnlab: %s: %d runs (%d config points x %d seeds%s) on %d threads%s -> %s\n", ex->name, n_runs,
                grid_n_configs(ex), ex->n_seeds, folds, threads, o->mpi_size > 1 ? " in each worker rank" : "",
                ex->output);
        double data_total = 0;
        for (int i = 0; i < n_owned; i++) data_total += data_bytes(owned[i]);
        fprintf(stderr, "nnlab: memory: data %.1f MiB, %.2f MiB per run in flight\n", data_total / 1048576.0,
                run_state_bytes(ex, data, NULL) / 1048576.0);
        if (o->shard_n)
            fprintf(stderr, "nnlab: shard %d/%d: %d of its runs to run\n", o->shard_k, o->shard_n, n_todo);
        else if (o->resume)
            fprintf(stderr, "nnlab: resuming: %d runs already done, %d to run\n", n_runs - n_todo, n_todo);
    }
#ifdef NNLAB_HAVE_MPI
    if (mpi)
        mpi_coordinate(&L, o->mpi_size);
    else
#endif
    {
        Committer c;
        if (committer_start(&c, ex->output, n_todo, err)) goto done;
        run_all(&L, &c, threads);
        if (committer_finish(&c)) write_failed(&L, c.err);
    }
    double run_phase = nn_now() - L.progress.start;
    int interrupted = stop_requested && !L.write_failed && !(o->fail_fast && L.progress.failed);
    progress_show(&L.progress, 1);

    MergeReport rep;
    if (L.write_failed) {
        nn_errf(err, "%s (finished run files are intact in %s/runs; --resume runs the rest)", L.write_err, ex->output);
        goto done;
    }
    if (o->shard_n) { /* the shards' runs are merged by `nnlab merge` once all are done */
        if (interrupted) {
            nn_errf(err, "interrupted: shard %d/%d stopped; run it again to finish its runs", o->shard_k, o->shard_n);
            status = NN_EXIT_INTERRUPTED;
        } else if (L.progress.failed) {
            nn_errf(err, "%d runs of shard %d/%d failed (see above)", L.progress.failed, o->shard_k, o->shard_n);
        } else {
            status = NN_EXIT_OK;
            if (!o->quiet)
                fprintf(stderr, "nnlab: shard %d/%d: %d runs done in %.3f s; when every shard is done: nnlab merge %s\n",
                        o->shard_k, o->shard_n, L.progress.done, run_phase, ex->output);
        }
        goto done;
    }
    if (h5io_merge(ex->output, ex, runs, n_runs, data, &rep, err)) goto done;
    if (interrupted) {
        nn_errf(err, "interrupted: %d of %d runs finished, merged into %s/results.h5; --resume runs the rest",
                rep.n_merged, n_runs, ex->output);
        status = NN_EXIT_INTERRUPTED;
    } else if (L.progress.failed) {
        nn_errf(err, "%d runs failed (see above)%s; the %d finished runs are in %s/results.h5", L.progress.failed,
                o->fail_fast ? " and --fail-fast stopped the experiment" : "", rep.n_merged, ex->output);
    } else if (merge_complete(&rep, ex->output, err) == 0 && rep.n_merged != n_runs) {
        nn_errf(err, "%s/results.h5 holds %d of the experiment's %d runs (%d run files missing): --resume runs the rest",
                ex->output, rep.n_merged, n_runs, rep.n_missing);
    } else if (!rep.n_rejected) {
        status = NN_EXIT_OK;
        if (!o->quiet && n_todo == 0)
            fprintf(stderr, "nnlab: nothing to run: all %d runs were done; merged in %.3f s: %s/results.h5\n", n_runs,
                    nn_now() - L.progress.start - run_phase, ex->output);
        else if (!o->quiet)
            fprintf(stderr, "nnlab: %d runs done (%d diverged) in %.3f s (%.2f runs/s), merged in %.3f s: %s/results.h5\n",
                    L.progress.done, L.progress.diverged, run_phase, run_phase > 0 ? L.progress.done / run_phase : 0.0,
                    nn_now() - L.progress.start - run_phase, ex->output);
    }
done:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    outdir_unlock(&lock);
    free(todo);
    free(reject);
    free(runs);
    free_data(data, owned, n_owned);
    return status;
}

int driver_merge(const char *dir, char *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/experiment.yaml", dir);
    Experiment *ex = NULL;
    Dataset **data = NULL, **owned = NULL;
    RunSpec *runs = NULL;
    OutdirLock lock = {-1, -1, -1};
    int n_runs = 0, n_owned = 0, in_use = 0, status = NN_EXIT_INPUT;
    MergeReport rep;
    struct stat st;
    if (stat(dir, &st) != 0) {
        nn_errf(err, "%s: cannot open: %s", dir, strerror(errno));
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        nn_errf(err, "%s: not a folder; merge takes an output folder (with experiment.yaml and runs/)", dir);
        goto done;
    }
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        nn_errf(err, "%s: no experiment.yaml: not an nnlab output folder", dir);
        goto done;
    }
    if (cfg_load(&ex, path, NULL, 0, err) || load_data(ex, &data, &owned, &n_owned, err) ||
        grid_expand(ex, &runs, &n_runs, err))
        goto done;
    status = NN_EXIT_RUNTIME;
    if (outdir_lock(&lock, dir, 0, 0, &in_use, err) || h5io_merge(dir, ex, runs, n_runs, data, &rep, err)) goto done;
    if (rep.n_merged == n_runs) {
        status = NN_EXIT_OK;
        fprintf(stderr, "nnlab: %s/results.h5: merged all %d runs\n", dir, n_runs);
        goto done;
    }
    if (rep.n_rejected)
        fprintf(stderr, "nnlab: %s: %d run file%s failed verification, moved to runs/rejected/: %s\n", dir,
                rep.n_rejected, rep.n_rejected == 1 ? "" : "s", rep.rejected);
    char list[512] = "";
    size_t len = 0;
    int shown = 0, n_out = n_runs - rep.n_merged;
    for (int i = 0; i < n_runs && shown < 10; i++) {
        char run[4200], why[256];
        h5io_run_path(run, sizeof run, dir, runs[i].id);
        if (h5io_check_run(run, ex, &runs[i], NULL, why, sizeof why) == H5IO_RUN_OK) continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%sr%06d", shown++ ? ", " : "", runs[i].id);
    }
    nn_errf(err, "%s/results.h5: merged %d of %d runs; %d run%s missing or rejected: %s%s (nnlab run "
            "%s/experiment.yaml -o %s --resume runs %s)", dir, rep.n_merged, n_runs, n_out, n_out == 1 ? " is" : "s are",
            list, n_out > shown ? ", ..." : "", dir, dir, n_out == 1 ? "it" : "them");
done:
    outdir_unlock(&lock);
    free(runs);
    free_data(data, owned, n_owned);
    cfg_free(ex);
    return status;
}
