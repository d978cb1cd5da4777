/* driver.c — an experiment from start to end: its data, the memory it
 * needs, its output folder (outdir), the runs still to do (schedule), their
 * execution (execute), signals, the merge and the closing message; and
 * nnlab merge. Everything that can fail for a reason the user can fix (bad
 * data, absurd sizes, a folder in use or not nnlab's) is checked before the
 * output folder is touched. */
#define _POSIX_C_SOURCE 200809L
#include "driver.h"

#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data.h"
#include "execute.h"
#include "grid.h"
#include "grow.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"
#include "outdir.h"
#include "schedule.h"
#include "train.h"

/* Ctrl-C: no new run starts, the runs in flight finish, results.h5 is
 * merged; SIGTERM (what a scheduler sends before it kills a job): the runs
 * in flight stop too, within 512 examples. */
static void on_signal(int sig)
{
    static const char msg_int[] = "\nnnlab: stopping: no new runs start; the runs in flight finish and results.h5 "
                                  "is merged (Ctrl-C again to stop at once; finished runs are kept)\n";
    static const char msg_term[] = "\nnnlab: terminated: the runs in flight stop now (--resume runs "
                                   "them again) and the finished runs are merged into results.h5\n";
    execute_request_stop(sig == SIGTERM ? EXECUTE_STOP_NOW : EXECUTE_STOP_AFTER_RUNS);
    ssize_t unused = sig == SIGTERM ? write(STDERR_FILENO, msg_term, sizeof msg_term - 1) /* async-signal-safe */
                                    : write(STDERR_FILENO, msg_int, sizeof msg_int - 1);
    (void)unused;
}

/* The handler is reset to the default, so a second signal ends the process
 * at once; run files are written as .tmp + rename, so none that finished
 * can be half-written. */
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
static int load_data(const Experiment *ex, Dataset ***data, Dataset ***owned, int *n_owned, FILE *warn, char *err)
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
            char warnings[4096]; /* data that loads but is probably not what was meant */
            if (warn && data_warnings((*owned)[(size_t)k * folds], &s.data, warnings, sizeof warnings))
                fputs(warnings, warn);
            n_seen++;
            *n_owned += folds;
        }
        for (int j = 0; j < folds; j++) (*data)[(size_t)c * folds + j] = (*owned)[(size_t)k * folds + j];
    }
    free(seen);
    return rc;
}

static void free_data(Dataset **data, Dataset **owned, int n_owned)
{
    for (int i = 0; i < n_owned; i++) data_free(owned[i]);
    free(owned);
    free(data);
}

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

/* What growing the folder's experiment did (grow_prepare, grow_finish). */
static void report_growth(const char *dir, const GrowReport *g, int quiet)
{
    if (g->n_rejected)
        fprintf(stderr, "nnlab: %s: %d run file%s failed verification, moved to runs/rejected/: %s\n", dir,
                g->n_rejected, g->n_rejected == 1 ? "" : "s", g->rejected);
    if (quiet) return;
    if (g->finished)
        fprintf(stderr, "nnlab: %s: finished the growth of its experiment that an earlier nnlab began\n", dir);
    if (g->grew)
        fprintf(stderr, "nnlab: %s: the experiment grew from %d to %d runs; its %d finished runs are kept (%d under "
                "a new id)\n", dir, g->n_old, g->n_new, g->n_kept, g->n_moved);
}

/* With --resume or --shard and the folder's lock: finish a growth that was
 * interrupted, and grow the folder's experiment to ex if ex grows it. */
static int grow_folder(const Experiment *ex, Dataset *const *data, const DriverOptions *o, int *in_use,
                       int *input_error, char *err)
{
    char hash[32], busy[400];
    GrowReport g;
    h5io_hash_text(hash, sizeof hash, data[0]->hash);
    int others = o->shard_n && outdir_other_shards(ex->output, o->shard_k, o->shard_n, busy, sizeof busy);
    int rc = grow_prepare(ex, hash, others ? busy : NULL, &g, in_use, input_error, err);
    report_growth(ex->output, &g, o->quiet);
    return rc;
}

/* results.h5 holds every run that finished, or the status is a failure. */
static int merge_complete(const MergeReport *rep, const char *dir, char *err)
{
    if (!rep->n_rejected) return 0;
    return nn_errf(err, "%s/results.h5 lacks %d run%s whose file was damaged or replaced after it was written: %s "
                   "(moved to %s/runs/rejected/; --resume runs %s again)", dir, rep->n_rejected,
                   rep->n_rejected == 1 ? "" : "s", rep->rejected, dir, rep->n_rejected == 1 ? "it" : "them");
}

/* Successive halving's plan: its brackets, and what the run files say
 * (verified by runs_to_do: a missing one has not started); open[0 ..
 * *n_todo - 1] the runs not yet closed (room for n_runs), *epochs an
 * estimate of the epochs to train. */
static int plan_rungs(const Experiment *ex, const RunSpec *runs, int n_runs, Schedule *plan, int *open, int *n_todo,
                      double *epochs, char *err)
{
    const Search *se = &ex->search;
    Bracket b[SCHEDULE_MAX_RUNGS];
    int rpc = ex->n_seeds * grid_n_folds(ex), E = ex->settings.train.epochs;
    int n_b = schedule_brackets(se->method == SEARCH_HYPERBAND, grid_n_configs(ex), E, se->min_epochs, se->eta, b);
    RunRungs *rr = nn_calloc((size_t)n_runs, sizeof *rr);
    double *curve = nn_alloc(2 * ((size_t)E + 1), sizeof(double));
    int rc = !rr || !curve ? nn_errf(err, "out of memory") : 0;
    *n_todo = 0;
    *epochs = 0;
    for (int bi = 0; bi < n_b; bi++)
        for (int r = 0; r < b[bi].n_rungs; r++)
            *epochs += (double)b[bi].keep[r] * rpc * (b[bi].epochs[r] - (r ? b[bi].epochs[r - 1] : 0));
    for (int i = 0; i < n_runs && !rc; i++) {
        char path[4200], status[32];
        h5io_run_path(path, sizeof path, ex->output, runs[i].id);
        rr[i].reached = -1;
        if (access(path, F_OK) != 0) {
            open[(*n_todo)++] = i;
            continue;
        }
        RunResult res = {0}; /* its validation curves, for train_rung_value */
        res.epochs = E, res.n_curves = N_CURVES;
        res.curve[CURVE_VAL_LOSS] = curve, res.curve[CURVE_VAL_ACC] = curve + E + 1;
        if (h5io_read_progress(path, E, status, sizeof status, &res.rung, &res.epochs_done, curve, curve + E + 1) ||
            res.rung >= SCHEDULE_MAX_RUNGS) {
            rc = nn_errf(err, "%s: cannot read its rung and curves", path);
            break;
        }
        const Bracket *in = b;
        while (runs[i].config >= in->first + in->n) in++;
        rr[i].reached = res.rung < in->n_rungs ? res.rung : in->n_rungs - 1;
        rr[i].closed = strcmp(status, "paused") != 0;
        if (!rr[i].closed) open[(*n_todo)++] = i;
        for (int r = 0; r <= rr[i].reached; r++)
            rr[i].value[r] = train_rung_value(&res, ex->settings.train.select, in->epochs[r]);
    }
    if (!rc && schedule_init_rungs(plan, b, n_b, rpc, rr)) rc = nn_errf(err, "out of memory");
    free(rr);
    free(curve);
    return rc;
}

int driver_run(const Experiment *ex, const DriverOptions *o, char *err)
{
    if (o->shard_n && ex->search.method >= SEARCH_HALVING)
        return nn_errf(err, "%s: --shard cannot split a %s search: its rungs wait for every run of the one before; "
                       "run it whole (-j, or mpirun across nodes)", ex->file, cfg_search_method_names[ex->search.method]),
               NN_EXIT_INPUT;
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    mlp_blas_single_thread(); /* after reading OpenMP's default: it sets that to 1 too */
    Dataset **data = NULL, **owned = NULL;
    RunSpec *runs = NULL;
    int *todo = NULL, *reject = NULL;
    int n_runs = 0, n_owned = 0, n_todo = 0, n_reject = 0, status = NN_EXIT_INPUT;
    OutdirLock lock = {-1, -1, -1};
    Schedule plan;
    memset(&plan, 0, sizeof plan);
    int failed = load_data(ex, &data, &owned, &n_owned, o->mpi_rank == 0 ? stderr : NULL, err) || grid_expand(ex, &runs, &n_runs, err) ||
                 check_memory(ex, data, threads < n_runs ? threads : n_runs, err);
#ifdef NNLAB_HAVE_MPI
    int mpi = o->mpi_size > 1;
    if (mpi && execute_any_rank(failed) && !failed) {
        nn_errf(err, "another MPI rank could not load the experiment's data");
        failed = 1;
    }
    if (mpi && !failed && o->mpi_rank > 0) { /* a worker: wait for rank 0's folder, then train */
        if (execute_any_rank(0)) {
            status = NN_EXIT_OK; /* rank 0 reports why */
            goto done;
        }
        execute_mpi_work(ex, data, runs, threads);
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
        int grown = !(o->resume || o->shard_n) || grow_folder(ex, data, o, &in_use, &input_error, err) == 0;
        if (grown) todo = runs_to_do(ex, data, runs, n_runs, o, &n_todo, &reject, &n_reject, &input_error, err);
        prepared = todo && outdir_prepare(ex, mode, o->shard_k, o->shard_n, n_runs, &input_error, err) == 0 &&
                   reject_runs(ex, runs, reject, n_reject, err) == 0;
        outdir_setup_done(&lock);
        status = input_error ? NN_EXIT_INPUT : NN_EXIT_RUNTIME;
    }
#ifdef NNLAB_HAVE_MPI
    if (mpi) execute_any_rank(!prepared); /* the workers wait for this */
#endif
    if (!prepared) goto done;

    double epochs_total = 0;
    if (ex->search.method >= SEARCH_HALVING) {
        if (plan_rungs(ex, runs, n_runs, &plan, todo, &n_todo, &epochs_total, err)) goto done;
        plan.todo = todo, plan.n_todo = n_todo; /* the runs not closed: those an MPI job that ends lists */
    } else {
        schedule_init(&plan, todo, n_todo);
        for (int i = 0; i < n_todo; i++) {
            Settings s;
            grid_settings(ex, runs[todo[i]].config, &s);
            epochs_total += s.train.epochs;
        }
    }
    Execution L = {ex, data, runs, n_runs, &plan, o->fail_fast, {0}, 0, "", NULL};
    progress_start(&L.progress, n_todo, epochs_total, o->quiet);
    execute_reset_stop();
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
        execute_mpi_coordinate(&L, o->mpi_size);
    else
#endif
    {
        if (execute_threads(&L, threads, err)) goto done;
    }
    double run_phase = nn_now() - L.progress.start;
    int interrupted = execute_stop_requested() && !L.write_failed && !(o->fail_fast && L.progress.failed);
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
    schedule_free(&plan);
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
    if (outdir_same_version(dir, "merge", err) || cfg_load(&ex, path, NULL, 0, err) ||
        load_data(ex, &data, &owned, &n_owned, NULL, err) || grid_expand(ex, &runs, &n_runs, err))
        goto done;
    status = NN_EXIT_RUNTIME;
    if (outdir_lock(&lock, dir, 0, 0, &in_use, err)) goto done;
    char hash[32];
    int input_error = 0;
    GrowReport grown;
    h5io_hash_text(hash, sizeof hash, data[0]->hash);
    if (grow_finish(dir, hash, &grown, &input_error, err)) {
        status = input_error ? NN_EXIT_INPUT : NN_EXIT_RUNTIME;
        goto done;
    }
    report_growth(dir, &grown, 0);
    if (grown.finished) { /* experiment.yaml is the grown experiment now */
        cfg_free(ex);
        free(runs);
        free_data(data, owned, n_owned);
        ex = NULL, runs = NULL, data = owned = NULL, n_owned = 0;
        if (cfg_load(&ex, path, NULL, 0, err) || load_data(ex, &data, &owned, &n_owned, NULL, err) ||
            grid_expand(ex, &runs, &n_runs, err))
            goto done;
    }
    if (h5io_merge(dir, ex, runs, n_runs, data, &rep, err)) goto done;
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
