/* driver.h — running an experiment: output folder, the parallel loop over
 * runs, the single writer, progress, interruption, and the final merge.
 *
 * Threads: OpenMP `parallel for schedule(dynamic,1)`; each run is computed
 * by one thread from its own seed, so results do not depend on the thread
 * count or the order runs finish in. HDF5 is only called by one thread at a
 * time (a named critical section). */
#ifndef DRIVER_H
#define DRIVER_H

#include "cfg.h"

typedef struct {
    int threads;         /* 0: OpenMP's default (OMP_NUM_THREADS or the cores) */
    int force;           /* replace the results in a non-empty output folder */
    int resume;          /* keep the finished runs of the same experiment, run the rest */
    int fail_fast;       /* stop at the first run that fails */
    int shard_k, shard_n;/* --shard K/N: only runs K, K+N, K+2N, ... (shard_n = 0: all runs) */
    int mpi_rank, mpi_size;/* under mpirun (MPI build): rank 0 hands out runs and writes, the others train */
    int quiet;           /* no progress line */
} DriverOptions;

/* Under MPI (mpi_size > 1) every rank calls driver_run: rank 0 prepares the
 * output folder, hands out run ids one at a time to the threads of the other
 * ranks, writes every run file as results come back and merges; the others
 * only train. The files are the same as a single process writes. */

/* Run every run of ex into ex->output. Returns an exit status (NN_EXIT_*);
 * on anything but NN_EXIT_OK a message is in err. Progress goes to stderr. */
int driver_run(const Experiment *ex, const DriverOptions *o, char *err);

/* With --shard, several processes share one output folder: each keeps the
 * finished runs of its share (as --resume), writes no results.h5, and
 * `nnlab merge DIR` joins them when all are done. */

/* Rebuild <dir>/results.h5 from <dir>/experiment.yaml and <dir>/runs/. */
int driver_merge(const char *dir, char *err);

#endif
