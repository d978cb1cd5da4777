/* h5io.h — the results format (format_version 2, docs/results-format.md).
 *
 * A finished run is written alone to <out>/runs/rNNNNNN.h5 (as .tmp, fsync,
 * rename): the file holds group /run. results.h5's /runs/rNNNNNN are
 * external links to those groups (relative names, runs/rNNNNNN.h5), so a
 * run's data is on disk once; merging is a verification and a link per run
 * plus the summary table and the per-config aggregates. Merging reads only run files, so a merged file can
 * be rebuilt at any time from what is on disk.
 *
 * HDF5 is not thread-safe here: callers serialise every h5io call. */
#ifndef H5IO_H
#define H5IO_H

#include "cfg.h"
#include "data.h"
#include "grid.h"
#include "train.h"

#define H5IO_FORMAT_VERSION 2

/* "<dir>/runs/r000017.h5" into buf. */
void h5io_run_path(char *buf, size_t cap, const char *dir, int run_id);

/* Write one finished run atomically (tmp + fsync + rename): the two steps
 * below. Only the first calls HDF5 (serialise it); the second, fsync and
 * rename, may run in parallel with other runs' writing. */
int h5io_write_run(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                   const RunResult *res, const Dataset *d, char *err);
int h5io_write_run_tmp(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                       const RunResult *res, const Dataset *d, char *err);
int h5io_commit_run(const char *path, int run_id, char *err);
/* The .tmp of a run paused at `rung` (successive halving): status
 * "paused", the result so far (train_snapshot it first) and group state/
 * with all else it continues from (docs/results-format.md); the checksum
 * covers it. h5io_commit_run makes it durable. */
int h5io_write_paused_tmp(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                          const TrainState *t, int rung, const Dataset *d, char *err);
/* A paused run file (verified by h5io_check_run) into t, which train_alloc
 * made for its config and data: continuing it gives a straight run's bits. */
int h5io_read_paused(const char *path, TrainState *t, char *err);
/* What a verified run file of a search with validation says: its status,
 * rung, epochs_done and validation curves (epochs + 1 each). */
int h5io_read_progress(const char *path, int epochs, char *status, size_t cap, int *rung, int *epochs_done,
                       double *val_loss, double *val_acc);

/* Copy run file `from` to `to` as run spec of ex (settings s), durably
 * (tmp + fsync + rename): the same run, with its id, config point,
 * settings and experiment fingerprint rewritten and its checksum computed
 * again, as a fresh run of ex writes them. `from` is left as it is. */
int h5io_renumber_run(const char *from, const char *to, const Experiment *ex, const RunSpec *spec, const Settings *s,
                      char *err);

/* What a run file is: H5IO_RUN_OK, a complete run file of this run of ex
 * whose contents match its checksum; H5IO_RUN_MISSING; H5IO_RUN_BAD
 * (damaged, truncated, foreign, another run's or another experiment's);
 * H5IO_RUN_OTHER_DATA: sound, but trained on data whose hash is not
 * data_hash (not checked when data_hash is NULL). why says what is wrong. */
enum { H5IO_RUN_OK = 0, H5IO_RUN_MISSING, H5IO_RUN_BAD, H5IO_RUN_OTHER_DATA };
int h5io_check_run(const char *path, const Experiment *ex, const RunSpec *spec, const char *data_hash, char *why,
                   size_t cap);
/* Move <dir>/runs/rNNNNNN.h5 aside to <dir>/runs/rejected/ (never over
 * another file there). */
int h5io_reject_run(const char *dir, int run_id, char *err);

/* A data hash as results files write it: 16 hex digits. */
void h5io_hash_text(char *buf, size_t cap, uint64_t hash);

/* What a merge found. */
typedef struct {
    int n_merged;         /* runs in the merged file */
    int n_missing;        /* runs without a run file */
    int n_rejected;       /* run files that failed verification: left out */
    int n_other_data;     /* of which sound, but trained on other data (not moved) */
    char rejected[1024];  /* "r000017.h5 (why); ..." */
} MergeReport;

/* Build <dir>/results.h5 (in memory, then written, fsync, rename) from the
 * run files of `runs`, each verified (h5io_check_run against sets[0]'s data
 * hash); /data from sets, the first config point's views (one per fold).
 * Missing runs are left out; failing run files are left out and moved to
 * <dir>/runs/rejected/ (those trained on other data stay). */
int h5io_merge(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, Dataset *const *sets,
               MergeReport *rep, char *err);

/* The same merge into an in-memory HDF5 file, without /data and /runs: an
 * open file id (close with H5Fclose) holding /summary and /aggregate, for
 * summarising an experiment still running. -1 on failure. */
int64_t h5io_merge_memory(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, MergeReport *rep,
                          char *err);

/* ---- reading a stored model (nnlab predict) ---- */

/* An open results.h5 for reading a stored model (h5io_stored_close). */
typedef struct {
    int64_t file;          /* HDF5 file id */
    char path[4200];
    int n_features, n_classes;
    char data_hash[32];
    char fingerprint[32];  /* the experiment's: every run file it links to must carry it */
    char **class_names;    /* (n_classes) when the labels were names, else NULL */
    char *experiment;      /* the resolved experiment text */
} StoredResults;

/* Open path (a results.h5 or an output folder) of format 2. Returns 0, or
 * -1 with a message (not a results file, format 1, unreadable). */
int h5io_stored_open(StoredResults *r, const char *path, char *err);
void h5io_stored_close(StoredResults *r);
/* Whether run `id` is in the file. */
int h5io_stored_has_run(const StoredResults *r, int id);
/* Run id's parameters (which: "best", "weights" or "init") in m's layout,
 * and its scaler (n_features each). A run results.h5 links to is read from
 * its run file, found beside results.h5 (never through the current
 * folder) and verified (checksum, experiment, run id). 1 if the run has no
 * such weights ("best" without validation), 0 on success, 2 with a message
 * when its run file is missing or fails verification or the weights were
 * not kept (storage.keep_weights), -1 with a message otherwise. */
int h5io_stored_model(const StoredResults *r, int id, const char *which, const Mlp *m, float *params, double *offset,
                      double *factor, char *err);
/* Run id's value of a /summary column (as double); NAN if absent. */
double h5io_stored_summary(const StoredResults *r, int id, const char *column);

/* Call before any other HDF5 use: HDF5 errors become our messages, not
 * stack dumps; and HDF5 does not close files at exit, where a file whose
 * close already failed (disk full) would crash its clean-up. */
void h5io_init(void);

#endif
