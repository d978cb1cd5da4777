/* grow.h — --resume of an experiment that grew (DESIGN.md "Extending an
 * experiment"): more seeds or more values on a grid axis than the
 * experiment its output folder holds (cfg_growth says which). Every
 * finished run keeps its identity (grid_run_identity) and moves to its id
 * in the grown experiment; the runs it adds run as usual afterwards.
 *
 * Renumbering, and why a SIGKILL anywhere loses nothing:
 *  1. read only: every run file to keep is verified, with the data hash (a
 *     changed data file refuses the growth, exit 2, nothing written).
 *  2. the journal <dir>/experiment.yaml.grow (OUTDIR_GROW_JOURNAL) gets the
 *     grown experiment's resolved text (tmp + fsync + rename).
 *  3. from the highest old id down: old run i's file is copied to its new
 *     id n(i) with its id, config point, settings and fingerprint rewritten
 *     (h5io_renumber_run: tmp + fsync + rename), then the old name is
 *     removed when it differs. Ids only grow (n(i) >= i, and n is
 *     increasing: growth keeps the old seeds' and values' order), so the
 *     new name is never an old run's file still to move.
 *  4. the journal is renamed to experiment.yaml: the folder is the grown
 *     experiment's.
 * Until 4, experiment.yaml is the old experiment and the journal the new,
 * so the map is derived again on every start; a file at an old name is
 * moved only if it is that old run's (its checksum, fingerprint, id and
 * identity say so), a file of the new experiment at its own name is left.
 * Each step is thus idempotent: any process that takes the folder's lock
 * (--resume, a shard, merge) first finishes a journal it finds.
 *
 * Crash points (NNLAB_CRASH_AT): grow-journal:0, grow-write:N and
 * grow-renamed:N (new id N), grow-removed:I (old id I), grow-commit:0,
 * grow-done:0.
 *
 * Not here: refusing other changes (outdir_prepare), resuming (driver). */
#ifndef GROW_H
#define GROW_H

#include "cfg.h"

typedef struct {
    int finished;       /* a growth that was interrupted was finished first */
    int grew;           /* ex grew the folder's experiment: its runs were renumbered */
    int n_old, n_new;   /* runs of the folder's experiment and of the grown one */
    int n_kept;         /* finished runs renumbered (or rewritten in place) */
    int n_moved;        /* of which under another id */
    int n_rejected;     /* run files that failed verification: moved to runs/rejected/ */
    char rejected[512]; /* "r000017.h5 (why); ..." */
} GrowReport;

/* With the folder's lock held (and, for a shard, its setup lock): finish
 * an interrupted growth, then grow the folder's experiment to ex if ex
 * grows it. data_hash: the data set's (h5io_hash_text). busy: what else
 * runs in the folder (other shards), or NULL; a growth is refused while it
 * runs (exit 1, *in_use). Does nothing if the folder holds no experiment,
 * the same one, or one that ex does not grow (outdir_prepare refuses it).
 * Returns 0, or -1 with a message (*input_error: exit 2: the data changed,
 * another nnlab version's folder). */
int grow_prepare(const Experiment *ex, const char *data_hash, const char *busy, GrowReport *rep, int *in_use,
                 int *input_error, char *err);

/* Only finish an interrupted growth of dir's experiment (nnlab merge). */
int grow_finish(const char *dir, const char *data_hash, GrowReport *rep, int *input_error, char *err);

#endif
