/* execute.c — running a schedule's runs (see execute.h): OpenMP threads
 * with one HDF5 writer at a time and a committer thread, or MPI ranks with
 * rank 0 the only writer. Every run is computed by one thread from its own
 * seed, so results do not depend on the thread or rank count or the order
 * runs finish in. */
#define _POSIX_C_SOURCE 200809L
#include "execute.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef NNLAB_HAVE_MPI
#include <mpi.h>
#endif

#include "grid.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"

/* Set by SIGINT/SIGTERM (and by a failed write or --fail-fast): no new run
 * starts; EXECUTE_STOP_NOW also stops the runs in flight at their next
 * epoch. The one piece of mutable global state, as a signal handler can
 * reach nothing else; a lock-free atomic, so the handler and every thread
 * may touch it. */
static atomic_int stop_requested;

void execute_request_stop(int how)
{
    if (how > atomic_load(&stop_requested)) atomic_store(&stop_requested, how);
}

int execute_stop_requested(void)
{
    return atomic_load(&stop_requested);
}

void execute_reset_stop(void)
{
    atomic_store(&stop_requested, 0);
}

Dataset *execute_run_data(const Experiment *ex, Dataset *const *data, const RunSpec *spec)
{
    return data[(size_t)spec->config * grid_n_folds(ex) + spec->fold];
}

/* ---- the run loop ---------------------------------------------------------- */

/* A run that could not be trained: reported, counted. */
void execute_run_failed(Execution *L, const RunSpec *spec, const char *train_err)
{
    Progress *p = &L->progress;
    p->failed++;
    fprintf(stderr, "%snnlab: run %d (seed %lld) failed: %s\n", p->tty ? "\n" : "", spec->id, (long long)spec->seed,
            train_err);
    if (L->fail_fast) execute_request_stop(EXECUTE_STOP_AFTER_RUNS);
}

/* A write that failed: the experiment stops (the disk is full or gone). */
void execute_write_failed(Execution *L, const char *err)
{
    if (!L->write_failed) snprintf(L->write_err, sizeof L->write_err, "%s", err);
    L->write_failed = 1;
    execute_request_stop(EXECUTE_STOP_AFTER_RUNS);
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
            execute_request_stop(EXECUTE_STOP_AFTER_RUNS);
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
static void save_run(Execution *L, Committer *c, const RunSpec *spec, const Settings *s, const RunResult *res)
{
    char path[4200], err[NN_ERR_LEN];
    h5io_run_path(path, sizeof path, L->ex->output, spec->id);
    const Dataset *d = execute_run_data(L->ex, L->data, spec);
    int rc;
#pragma omp critical(nnlab_writer)
    rc = L->write_failed || (c && atomic_load(&c->failed)) ? 1 : h5io_write_run_tmp(path, L->ex, spec, s, res, d, err);
    if (rc == 0 && c) committer_push(c, spec->id);
    else if (rc == 0) rc = h5io_commit_run(path, spec->id, err);
#pragma omp critical(nnlab_progress)
    {
        if (rc < 0) execute_write_failed(L, err);
        else if (rc == 0) progress_run_done(&L->progress, res);
    }
}

/* A run's epochs as they finish, for the progress line. */
typedef struct {
    Execution *L;
    int id; /* the run's id, for the crash test */
    int reported;
} RunEpochs;

static int epoch_done(void *ctx, int epoch)
{
    RunEpochs *re = ctx;
    re->reported = epoch;
    if (epoch == 1) nn_crash_point("train", re->id); /* the crash test: killed mid-run */
#pragma omp critical(nnlab_progress)
    progress_epochs(&re->L->progress, 1);
    return stop_requested == EXECUTE_STOP_NOW;
}

static int stop_now(void *ctx)
{
    (void)ctx;
    return stop_requested == EXECUTE_STOP_NOW;
}

/* ---- successive halving: a run rung by rung ---------------------------- */

void execute_free_paused(Execution *L)
{
    for (int i = 0; L->paused && i < L->n_runs_total; i++) {
        train_state_free(L->paused[i]);
        free(L->paused[i]);
        L->paused[i] = NULL;
    }
}

/* Run index's state to continue: held in memory, else read from its paused
 * run file (after --resume), else a new run. NULL with a message. */
static TrainState *rung_state(Execution *L, int index, const Settings *s, char *err)
{
    TrainState *t = L->paused[index];
    if (t) {
        L->paused[index] = NULL;
        return t;
    }
    const RunSpec *spec = &L->runs[index];
    const Dataset *d = execute_run_data(L->ex, L->data, spec);
    char path[4200];
    h5io_run_path(path, sizeof path, L->ex->output, spec->id);
    if (!(t = malloc(sizeof *t))) {
        snprintf(err, NN_ERR_LEN, "out of memory");
        return NULL;
    }
    int rc, fresh = access(path, F_OK) != 0;
    if (fresh) {
        rc = train_start(t, &s->train, d, (uint64_t)spec->seed, err);
    } else if ((rc = train_alloc(t, &s->train, d, err)) == 0) {
#pragma omp critical(nnlab_writer)
        rc = h5io_read_paused(path, t, err);
        if (rc) train_state_free(t);
    }
    if (rc) {
        free(t);
        return NULL;
    }
    return t;
}

/* A paused run's file: written and committed on this thread (a run's next
 * rung may write the same .tmp before a committer would have renamed it). */
static int save_paused(Execution *L, const RunSpec *spec, const Settings *s, const TrainState *t, int rung)
{
    char path[4200], err[NN_ERR_LEN];
    h5io_run_path(path, sizeof path, L->ex->output, spec->id);
    int rc;
#pragma omp critical(nnlab_writer)
    rc = L->write_failed ? 1 : h5io_write_paused_tmp(path, L->ex, spec, s, t, rung, execute_run_data(L->ex, L->data, spec), err);
    if (rc == 0) rc = h5io_commit_run(path, spec->id, err);
    if (rc < 0) {
#pragma omp critical(nnlab_progress)
        execute_write_failed(L, err);
    }
    return rc;
}

/* One piece of successive halving's work on run w->index: train it to the
 * end of its rung (then pause it, or end it at the bracket's last rung), or
 * end it as pruned. Returns the run's value at the rung (NaN: none). */
static double rung_work(Execution *L, const Work *w)
{
    const RunSpec *spec = &L->runs[w->index];
    Settings s;
    grid_settings(L->ex, spec->config, &s);
    char err[NN_ERR_LEN] = "";
    TrainState *t = rung_state(L, w->index, &s, err);
    if (!t) {
#pragma omp critical(nnlab_progress)
        execute_run_failed(L, spec, err);
        return NAN;
    }
    RunResult res;
    if (w->kind == WORK_PRUNE) {
        int diverged = t->res.status == RUN_DIVERGED;
        train_finish(t, &res);
        free(t);
        res.status = diverged ? RUN_DIVERGED : RUN_PRUNED;
        res.rung = w->rung;
        save_run(L, NULL, spec, &s, &res);
        run_result_free(&res);
        nn_crash_point("pruned", spec->id); /* the crash test: a run file rewritten as pruned */
        return NAN;
    }
    int before = t->res.epochs_done;
    RunEpochs re = {L, spec->id, before};
    TrainProgress tp = {epoch_done, stop_now, &re};
    const Dataset *d = execute_run_data(L->ex, L->data, spec);
    if (train_advance(t, &s.train, d, w->epochs, &tp)) { /* SIGTERM: the rung again on --resume */
        train_state_free(t);
        free(t);
        return NAN;
    }
#pragma omp critical(nnlab_progress)
    progress_epochs(&L->progress, w->epochs - re.reported); /* those a run that ended early skipped */
    double value = NAN;
    if (w->last) {
        train_finish(t, &res);
        free(t);
        res.rung = w->rung;
        value = train_rung_value(&res, s.train.select, w->epochs);
        save_run(L, NULL, spec, &s, &res);
        run_result_free(&res);
        return value;
    }
    train_snapshot(t);
    value = train_rung_value(&t->res, s.train.select, w->epochs);
    if (save_paused(L, spec, &s, t, w->rung) == 0) {
        L->paused[w->index] = t;
        char where[32];
        snprintf(where, sizeof where, "rung%d", w->rung);
        nn_crash_point(where, spec->id); /* the crash test: paused at a rung, not yet reported */
    } else {
        train_state_free(t);
        free(t);
    }
    return value;
}

/* Threads take runs from the schedule one at a time (as OpenMP's
 * schedule(dynamic, 1) would): a run's bits do not depend on which thread
 * trains it, nor when. Under successive halving a thread with nothing ready
 * waits for the rung's last runs (the plan decides when they are in). */
static void run_all(Execution *L, Committer *c, int threads)
{
#pragma omp parallel num_threads(threads)
    for (;;) {
        int index, got, done;
        Work w;
#pragma omp critical(nnlab_schedule)
        {
            if (stop_requested) schedule_stop(L->plan);
            got = schedule_next_work(L->plan, &w);
            done = schedule_done(L->plan);
        }
        if (!got && done) break;
        if (!got) {
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (L->plan->n_brackets) {
            double value = rung_work(L, &w);
            int bracket = 0, rung = -1, left = 0;
#pragma omp critical(nnlab_schedule)
            {
                schedule_finished_value(L->plan, w.index, value);
                if (!schedule_rung_status(L->plan, &bracket, &rung, &left)) rung = -1;
            }
#pragma omp critical(nnlab_progress)
            L->progress.bracket = bracket, L->progress.rung = rung, L->progress.rung_left = left;
            continue;
        }
        index = w.index;
        const RunSpec *spec = &L->runs[index];
        Settings s;
        grid_settings(L->ex, spec->config, &s);
        RunResult res;
        char err[NN_ERR_LEN] = "";
        RunEpochs re = {L, spec->id, 0};
        TrainProgress tp = {epoch_done, stop_now, &re};
        int rc = train_run(&s.train, execute_run_data(L->ex, L->data, spec), (uint64_t)spec->seed, &tp, &res, err);
#pragma omp critical(nnlab_progress)
        progress_epochs(&L->progress, s.train.epochs - re.reported); /* those a run that ended early skipped */
        if (rc == 0) {
            save_run(L, c, spec, &s, &res);
            run_result_free(&res);
        } else if (rc < 0) {
#pragma omp critical(nnlab_progress)
            execute_run_failed(L, spec, err);
        }
#pragma omp critical(nnlab_schedule)
        schedule_finished(L->plan, index);
    }
}

int execute_threads(Execution *L, int threads, char *err)
{
    Committer c;
    if (L->plan->n_brackets && !(L->paused = nn_calloc((size_t)L->n_runs_total, sizeof *L->paused)))
        return nn_errf(err, "out of memory");
    if (committer_start(&c, L->ex->output, L->plan->n_todo, err)) {
        free(L->paused);
        L->paused = NULL;
        return -1;
    }
    run_all(L, &c, threads);
    if (committer_finish(&c)) execute_write_failed(L, c.err);
    execute_free_paused(L);
    free(L->paused);
    L->paused = NULL;
    return 0;
}

#ifdef NNLAB_HAVE_MPI
/* ---- MPI: rank 0 coordinates and writes, the other ranks train ---------- *
 * Messages: a worker thread sends TAG_REQUEST and gets back TAG_WORK with an
 * index into runs (-1: no more work); it sends each finished run as
 * TAG_RESULT (header, curves, init, weights) or TAG_FAILED (a message). A
 * worker rank sends TAG_DONE when all its threads are done. MPI calls of a
 * worker's threads are serialised (MPI_THREAD_SERIALIZED).
 *
 * Successive halving: rank 0 owns the schedule (rung barriers, decisions)
 * and the paused runs' states. TAG_WORK is then a WorkMessage, followed by
 * the packed state (train_pack) of a paused run, or nothing for a new one;
 * index -2 says "nothing ready: the rung waits for runs in flight", and the
 * thread asks again after a short sleep (no request is held, so no thread
 * blocks in MPI while another of its rank has a result to send). The
 * worker trains to the rung's end and sends TAG_RESULT at the bracket's last
 * rung, else TAG_PAUSED (the index, then the packed state); rank 0 writes
 * the run file (paused or final), keeps the state and reports the value to
 * the schedule. Prunes need no training: rank 0 does them itself. */

enum { TAG_REQUEST = 1, TAG_WORK, TAG_RESULT, TAG_FAILED, TAG_DONE, TAG_PAUSED };

enum { WORK_NONE = -1, WORK_WAIT = -2 };

typedef struct {
    int32_t index, rung, epochs, last, has_state, pad;
} WorkMessage;

/* Rank 0 polls for messages with this pause between looks when halving
 * (MPI_Probe would spin a core while the workers train); a worker told to
 * wait asks again after WAIT_NS. */
#define POLL_NS 500000L
#define WAIT_NS 5000000L

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
static int unpack_result(const char *buf, size_t len, const Execution *L, RunResult *r, int *index)
{
    ResultHeader h;
    if (len < sizeof h) return -1;
    memcpy(&h, buf, sizeof h);
    if (h.index < 0 || h.index >= L->n_runs_total) return -1;
    const RunSpec *spec = &L->runs[h.index];
    Settings s;
    grid_settings(L->ex, spec->config, &s);
    memset(r, 0, sizeof *r);
    const Dataset *d = execute_run_data(L->ex, L->data, spec);
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

/* Successive halving on rank 0: the work handed out to each run in flight,
 * and the epochs the run had done before it (for progress). */
typedef struct {
    Work w;  /* w.index -1 when not in flight */
    int before;
} RungFlight;

/* Rank 0: run index's work on the current rung is over with `value`. */
static void rung_reported(Execution *L, int index, double value)
{
    int bracket = 0, rung = -1, left = 0;
    schedule_finished_value(L->plan, index, value);
    if (!schedule_rung_status(L->plan, &bracket, &rung, &left)) rung = -1;
    L->progress.bracket = bracket, L->progress.rung = rung, L->progress.rung_left = left;
}

static void out_of_memory(size_t bytes)
{
    fprintf(stderr, "nnlab: out of memory for an MPI message of %zu bytes\n", bytes);
    MPI_Abort(MPI_COMM_WORLD, NN_EXIT_RUNTIME); /* finished run files are intact: --resume */
}

/* Rank 0 answers a worker thread's request under successive halving: the
 * next rung's work with the run's state (prunes on the way are done here),
 * WORK_WAIT while the rung waits for runs in flight, or WORK_NONE. */
static void rung_hand_out(Execution *L, int dest, RungFlight *flight, volatile unsigned char *saved)
{
    for (;;) {
        Work w;
        if (stop_requested) schedule_stop(L->plan);
        if (!schedule_next_work(L->plan, &w)) {
            WorkMessage m = {schedule_done(L->plan) ? WORK_NONE : WORK_WAIT, 0, 0, 0, 0, 0};
            MPI_Send(&m, (int)sizeof m, MPI_BYTE, dest, TAG_WORK, MPI_COMM_WORLD);
            return;
        }
        const RunSpec *spec = &L->runs[w.index];
        if (w.kind == WORK_PRUNE) { /* no training: the state (memory or file) ends as pruned, written here */
            double value = rung_work(L, &w);
            if (saved && !L->write_failed) saved[w.index] = SAVED;
            rung_reported(L, w.index, value);
            continue;
        }
        char path[4200], err[NN_ERR_LEN] = "";
        h5io_run_path(path, sizeof path, L->ex->output, spec->id);
        TrainState *t = NULL;
        if (L->paused[w.index] || access(path, F_OK) == 0) { /* a paused run: its state goes with the work */
            Settings s;
            grid_settings(L->ex, spec->config, &s);
            if (!(t = rung_state(L, w.index, &s, err))) {
                execute_run_failed(L, spec, err);
                rung_reported(L, w.index, NAN);
                continue;
            }
        }
        size_t n = sizeof(WorkMessage) + (t ? train_pack_bytes(t) : 0);
        char *msg = malloc(n);
        if (!msg) out_of_memory(n);
        WorkMessage m = {w.index, w.rung, w.epochs, w.last, t != NULL, 0};
        memcpy(msg, &m, sizeof m);
        flight[w.index].w = w;
        flight[w.index].before = t ? t->res.epochs_done : 0;
        if (t) {
            train_pack(t, msg + sizeof m);
            train_state_free(t);
            free(t);
        }
        MPI_Send(msg, (int)n, MPI_BYTE, dest, TAG_WORK, MPI_COMM_WORLD);
        free(msg);
        return;
    }
}

/* Rank 0: a worker's run paused at the end of its rung (TAG_PAUSED: the
 * index, then its packed state): write its paused file, keep its state,
 * report its value. */
static void rung_paused(Execution *L, const char *buf, size_t len, RungFlight *flight)
{
    int32_t index;
    if (len < sizeof index) goto malformed;
    memcpy(&index, buf, sizeof index);
    if (index < 0 || index >= L->n_runs_total || flight[index].w.index != index || flight[index].w.last) goto malformed;
    Work w = flight[index].w;
    flight[index].w.index = -1;
    const RunSpec *spec = &L->runs[index];
    const Dataset *d = execute_run_data(L->ex, L->data, spec);
    Settings s;
    grid_settings(L->ex, spec->config, &s);
    char err[NN_ERR_LEN] = "out of memory";
    TrainState *t = malloc(sizeof *t);
    if (!t || train_alloc(t, &s.train, d, err)) {
        free(t);
        execute_run_failed(L, spec, err);
        rung_reported(L, index, NAN);
        return;
    }
    if (train_unpack(t, buf + sizeof index, len - sizeof index)) {
        train_state_free(t);
        free(t);
        goto malformed;
    }
    L->progress.epochs_done += w.epochs - flight[index].before; /* the workers report whole rungs */
    train_snapshot(t); /* the weights: not in the packed state */
    double value = train_rung_value(&t->res, s.train.select, w.epochs);
    if (save_paused(L, spec, &s, t, w.rung) == 0) {
        L->paused[index] = t;
        char where[32];
        snprintf(where, sizeof where, "rung%d", w.rung);
        nn_crash_point(where, spec->id); /* the crash test: paused at a rung, not yet reported */
    } else {
        train_state_free(t);
        free(t);
    }
    rung_reported(L, index, value);
    return;
malformed:
    execute_write_failed(L, "a worker sent a malformed paused state (mismatched builds of nnlab?)");
}

/* Rank 0: hand out the schedule's runs, save what comes back, until every worker is done. */
void execute_mpi_coordinate(Execution *L, int size)
{
    int done_ranks = 0, halving = L->plan->n_brackets > 0;
    volatile unsigned char *saved = calloc((size_t)L->n_runs_total, 1);
    RungFlight *flight = NULL;
    if (halving) {
        L->paused = nn_calloc((size_t)L->n_runs_total, sizeof *L->paused);
        flight = nn_alloc((size_t)L->n_runs_total, sizeof *flight);
        if (!L->paused || !flight) out_of_memory((size_t)L->n_runs_total * sizeof *flight);
        for (int i = 0; i < L->n_runs_total; i++) flight[i].w.index = -1;
    }
    teardown.runs = L->runs, teardown.todo = L->plan->todo, teardown.n_todo = L->plan->n_todo, teardown.saved = saved;
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
        if (halving) { /* workers wait at rung barriers: poll, rather than spin a core in MPI_Probe */
            int flag = 0;
            struct timespec poll = {0, POLL_NS};
            for (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st); !flag;
                 MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st))
                nanosleep(&poll, NULL);
        } else {
            MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        }
        int len;
        MPI_Get_count(&st, MPI_BYTE, &len);
        char *buf = malloc(len > 0 ? (size_t)len : 1);
        if (!buf) {
            fprintf(stderr, "nnlab: rank 0 is out of memory receiving a result of %d bytes\n", len);
            MPI_Abort(MPI_COMM_WORLD, NN_EXIT_RUNTIME); /* finished run files are intact: --resume */
        }
        MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == TAG_REQUEST && halving) {
            rung_hand_out(L, st.MPI_SOURCE, flight, saved);
        } else if (st.MPI_TAG == TAG_PAUSED && halving) {
            rung_paused(L, buf, (size_t)len, flight);
        } else if (st.MPI_TAG == TAG_REQUEST) {
            if (stop_requested) schedule_stop(L->plan);
            int index = schedule_next(L->plan);
            MPI_Send(&index, 1, MPI_INT, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
        } else if (st.MPI_TAG == TAG_RESULT) {
            RunResult r;
            int index;
            if (unpack_result(buf, (size_t)len, L, &r, &index) == 0 &&
                (!halving || (flight[index].w.index == index && flight[index].w.last))) {
                Settings s;
                grid_settings(L->ex, L->runs[index].config, &s);
                double value = NAN;
                if (halving) { /* the bracket's last rung: the run ends here */
                    r.rung = flight[index].w.rung;
                    value = train_rung_value(&r, s.train.select, flight[index].w.epochs);
                    L->progress.epochs_done += flight[index].w.epochs - flight[index].before;
                    flight[index].w.index = -1;
                } else {
                    L->progress.epochs_done += s.train.epochs; /* the workers report whole runs */
                }
                if (saved && !halving) saved[index] = SAVING; /* halving: its paused file is there already */
                save_run(L, NULL, &L->runs[index], &s, &r);
                if (saved) saved[index] = L->write_failed ? 0 : SAVED;
                if (halving) rung_reported(L, index, value);
                else schedule_finished(L->plan, index);
            } else {
                execute_write_failed(L, "a worker sent a malformed result (mismatched builds of nnlab?)");
            }
        } else if (st.MPI_TAG == TAG_FAILED) {
            int index;
            memcpy(&index, buf, sizeof index);
            Settings s;
            grid_settings(L->ex, L->runs[index].config, &s);
            if (halving) {
                flight[index].w.index = -1;
            } else {
                L->progress.epochs_done += s.train.epochs;
            }
            execute_run_failed(L, &L->runs[index], buf + sizeof index);
            if (halving) rung_reported(L, index, NAN);
            else schedule_finished(L->plan, index);
        } else if (st.MPI_TAG == TAG_DONE) {
            done_ranks++;
        }
        free(buf);
    }
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    teardown.saved = NULL;
    free((void *)saved);
    if (halving) {
        execute_free_paused(L);
        free(L->paused);
        L->paused = NULL;
        free(flight);
    }
}

/* A worker thread under successive halving: train the run of work m (its
 * state after m, or a new run) to the rung's end; the message to send back
 * (TAG_RESULT, TAG_PAUSED or TAG_FAILED) into *buf, *len, *tag. */
static void rung_train(const Experiment *ex, Dataset *const *data, const RunSpec *runs, const WorkMessage *m,
                       const char *state, size_t state_len, char **buf, size_t *len, int *tag)
{
    const RunSpec *spec = &runs[m->index];
    const Dataset *d = execute_run_data(ex, data, spec);
    Settings s;
    grid_settings(ex, spec->config, &s);
    char err[NN_ERR_LEN] = "out of memory";
    TrainState *t = malloc(sizeof *t);
    int rc = t ? 0 : -1;
    if (t && m->has_state) {
        rc = train_alloc(t, &s.train, d, err);
        if (rc == 0 && train_unpack(t, state, state_len)) {
            train_state_free(t);
            rc = nn_errf(err, "rank 0 sent a state that does not fit run %d (mismatched builds of nnlab?)", spec->id);
        }
    } else if (t) {
        rc = train_start(t, &s.train, d, (uint64_t)spec->seed, err);
    }
    *buf = NULL;
    if (rc == 0) {
        train_advance(t, &s.train, d, m->epochs, NULL);
        if (m->last) {
            RunResult r;
            train_finish(t, &r);
            *buf = pack_result(m->index, &r, len);
            run_result_free(&r);
            *tag = TAG_RESULT;
        } else {
            train_snapshot(t);
            *len = sizeof(int32_t) + train_pack_bytes(t);
            if ((*buf = malloc(*len))) {
                memcpy(*buf, &m->index, sizeof(int32_t));
                train_pack(t, *buf + sizeof(int32_t));
            }
            train_state_free(t);
            *tag = TAG_PAUSED;
        }
        if (!*buf) snprintf(err, sizeof err, "out of memory sending run %d", spec->id);
    }
    free(t);
    if (!*buf) {
        *len = sizeof(int) + NN_ERR_LEN;
        if (!(*buf = calloc(1, *len))) out_of_memory(*len);
        int index = m->index;
        memcpy(*buf, &index, sizeof index);
        memcpy(*buf + sizeof index, err, NN_ERR_LEN);
        *tag = TAG_FAILED;
    }
}

/* A worker rank under successive halving: its threads ask rank 0 for work
 * until there is none, and sleep a little when told to wait. */
static void work_rungs(const Experiment *ex, Dataset *const *data, const RunSpec *runs, int threads)
{
#pragma omp parallel num_threads(threads)
    for (;;) {
        int ask = 0, n = 0;
        char *msg = NULL;
#pragma omp critical(nnlab_mpi)
        {
            MPI_Status st;
            MPI_Send(&ask, 1, MPI_INT, 0, TAG_REQUEST, MPI_COMM_WORLD);
            MPI_Probe(0, TAG_WORK, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &n);
            if (n < (int)sizeof(WorkMessage) || !(msg = malloc((size_t)n))) out_of_memory((size_t)n);
            MPI_Recv(msg, n, MPI_BYTE, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
        WorkMessage m;
        memcpy(&m, msg, sizeof m);
        if (m.index == WORK_NONE) {
            free(msg);
            break;
        }
        if (m.index == WORK_WAIT) { /* the rung waits for runs in flight elsewhere */
            free(msg);
            struct timespec pause = {0, WAIT_NS};
            nanosleep(&pause, NULL);
            continue;
        }
        char *buf;
        size_t len;
        int tag;
        rung_train(ex, data, runs, &m, msg + sizeof m, (size_t)n - sizeof m, &buf, &len, &tag);
        free(msg);
#pragma omp critical(nnlab_mpi)
        MPI_Send(buf, (int)len, MPI_BYTE, 0, tag, MPI_COMM_WORLD);
        free(buf);
    }
}

/* A worker rank: `threads` threads ask rank 0 for runs until there are none. */
void execute_mpi_work(const Experiment *ex, Dataset *const *data, const RunSpec *runs, int threads)
{
    if (ex->search.method >= SEARCH_HALVING) {
        work_rungs(ex, data, runs, threads);
        goto done;
    }
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
        if (train_run(&s.train, execute_run_data(ex, data, spec), (uint64_t)spec->seed, NULL, &r, err) == 0) {
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
done:;
    int bye = 0;
    MPI_Send(&bye, 1, MPI_INT, 0, TAG_DONE, MPI_COMM_WORLD);
}

/* 1 if any rank reports a failure. */
int execute_any_rank(int failed)
{
    int any = failed;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}
#endif
