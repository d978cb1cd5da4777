/* outdir.h — an output folder: who owns it, whether nnlab made it, and
 * preparing it for a run, --resume, --shard or --force.
 *
 * Ownership: a lock on <dir>/.nnlab.lock (flock), held for the life of the
 * process. run, --resume and merge hold it exclusively; every shard of a
 * --shard K/N job holds it shared, plus its own <dir>/.nnlab-shard-K-of-N.lock
 * exclusively, so shards run side by side but never beside another N, a
 * second K/N, or a run, --resume or merge of the folder. A held lock is
 * refused at once, naming the holder's pid and host. Readers (summary,
 * the Python scripts) take no lock: every file appears by rename, whole.
 *
 * Origin: nnlab marks a folder it creates with <dir>/.nnlab-output; --force
 * replaces results only in a marked folder, and removes only nnlab's own
 * names (results.h5, experiment.yaml, experiment.yaml.grow, runs/rNNNNNN.h5
 * of the experiment's runs and their .tmp files), regular files only, never
 * through a symlink.
 *
 * Not here: what runs (grid, driver), writing run files (h5io). */
#ifndef OUTDIR_H
#define OUTDIR_H

#include "cfg.h"

/* <dir>/OUTDIR_GROW_JOURNAL: the experiment a growth of the folder's
 * experiment renumbers its runs for, until it becomes experiment.yaml (grow.h). */
#define OUTDIR_GROW_JOURNAL "experiment.yaml.grow"

typedef struct {
    int fd;         /* <dir>/.nnlab.lock, held while open; -1 when none */
    int shard_fd;   /* --shard: <dir>/.nnlab-shard-K-of-N.lock; -1 */
    int setup_fd;   /* --shard: <dir>/.nnlab-setup.lock while the folder is prepared; -1 */
} OutdirLock;

/* What prepare does with a folder that has results. */
typedef enum { OUTDIR_NEW = 0, OUTDIR_RESUME, OUTDIR_FORCE } OutdirMode;

/* Create dir (and its parents) if needed and take its lock; shard_n > 0 for
 * shard shard_k of shard_n. Returns 0, or -1 with a message (exit 1 when the
 * folder is in use: *in_use set; exit 2 for a shard count that differs from
 * the shards running). */
int outdir_lock(OutdirLock *l, const char *dir, int shard_k, int shard_n, int *in_use, char *err);
/* Release the locks (the lock files stay: removing them would race). */
void outdir_unlock(OutdirLock *l);
/* With a shard's locks held: 1 if another shard of the folder is running
 * (its lock file is held; "shard K/N (pid ...)" in which), else 0. */
int outdir_other_shards(const char *dir, int shard_k, int shard_n, char *which, size_t cap);
/* A shard's folder is prepared: let the next shard prepare it too. */
void outdir_setup_done(OutdirLock *l);

/* With the lock held: check that ex may write into its output folder in
 * this mode and make it ready: a new folder gets the marker, experiment.yaml
 * and runs/; --resume (and shards) need the same experiment (its
 * fingerprint; grow_prepare has grown one that grows it) and discard their
 * own .tmp leftovers; fewer seeds or values are refused as such; --force clears
 * nnlab's own files of a marked folder. n_runs: this experiment's run
 * count (--force removes run files of ids below it and below the folder's
 * old experiment's). Returns 0, or -1 with a message; *input_error is set
 * when the cause is the user's (exit 2: not empty, not nnlab's, another
 * experiment, a symlinked runs/). */
int outdir_prepare(const Experiment *ex, OutdirMode mode, int shard_k, int shard_n, int n_runs, int *input_error,
                   char *err);

/* 0 if dir's experiment.yaml was written by this minor version of nnlab (or
 * is absent); else -1 with "cannot WHAT DIR: it was written by nnlab X.Y.Z ...":
 * another version's run files are not this one's to resume or merge. */
int outdir_same_version(const char *dir, const char *what, char *err);

/* 1 if dir has entries other than nnlab's lock files, 0 if empty or absent. */
int outdir_has_entries(const char *dir);

#endif
