/* execute.h — running the runs a schedule hands out: on OpenMP threads in
 * this process, or (MPI build) on the threads of worker ranks with rank 0
 * the only writer; saving each finished run (HDF5 writes the .tmp on the
 * training thread under the writer lock, a committer thread makes it
 * durable), per-epoch progress, and the stop flag that signals set.
 *
 * Not here: which runs (schedule), the output folder (outdir), the merge and
 * the final messages (driver). */
#ifndef EXECUTE_H
#define EXECUTE_H

#include "cfg.h"
#include "data.h"
#include "grid.h"
#include "nnlab.h"
#include "progress.h"
#include "schedule.h"

/* One execution of an experiment's runs. */
typedef struct {
    const Experiment *ex;
    Dataset *const *data; /* (configs x folds) the data set of each config point and fold */
    const RunSpec *runs;  /* every run of the experiment */
    int n_runs_total;
    Schedule *plan;       /* hands out indices into runs */
    int fail_fast;
    Progress progress;
    int write_failed;
    char write_err[NN_ERR_LEN];
    TrainState **paused;  /* successive halving: (n_runs_total) runs paused at a rung, kept in memory; NULL
                           * for a run whose state is only in its run file (after --resume) */
} Execution;

/* Free the paused runs still held (an interrupted search). */
void execute_free_paused(Execution *E);

/* How to stop: no new run starts (Ctrl-C, --fail-fast, a failed write), or
 * the runs in flight stop too, within 512 examples (SIGTERM). */
enum { EXECUTE_STOP_AFTER_RUNS = 1, EXECUTE_STOP_NOW = 2 };
void execute_request_stop(int how); /* async-signal-safe; never lowers a request */
int execute_stop_requested(void);
void execute_reset_stop(void);

/* The data set run spec trains on. */
Dataset *execute_run_data(const Experiment *ex, Dataset *const *data, const RunSpec *spec);

/* Train the plan's runs on `threads` threads and save them. Returns 0, or -1
 * with a message if it could not start; failures of runs and writes are in E. */
int execute_threads(Execution *E, int threads, char *err);
/* A run that could not be trained, and a write that failed: counted, said. */
void execute_run_failed(Execution *E, const RunSpec *spec, const char *train_err);
void execute_write_failed(Execution *E, const char *err);

#ifdef NNLAB_HAVE_MPI
/* Rank 0 hands out the plan's runs to the worker ranks and saves what comes
 * back; under successive halving it keeps the schedule and the paused runs'
 * states, and hands out rung work with the state of the run. */
void execute_mpi_coordinate(Execution *E, int size);
/* A worker rank: `threads` threads ask rank 0 for runs until there are none. */
void execute_mpi_work(const Experiment *ex, Dataset *const *data, const RunSpec *runs, int threads);
/* 1 if any rank reports a failure (every rank calls it). */
int execute_any_rank(int failed);
#endif

#endif
