/* grid.h — an Experiment expanded into runs: config point × seed × fold.
 *
 * Config points are the cartesian product of the grid axes, the first axis
 * varying slowest (nested loops in the order the axes were written); in a
 * random search, config point i is trial i, the values it drew. Run
 * ids are indices in expansion order, config-major, then seed, then fold
 * (fold-minor; one "fold" without cross-validation), so the
 * same file always names every run the same way (resume, shards and merge
 * rely on it). */
#ifndef GRID_H
#define GRID_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

typedef struct {
    int id;       /* run id: index in expansion order */
    int config;   /* config point */
    int64_t seed;
    int fold;     /* cross-validation fold; 0 without folds */
} RunSpec;

/* Number of config points of the experiment (1 without a grid). */
int grid_n_configs(const Experiment *ex);

/* Folds per config point and seed: dataset.folds, or 1. */
int grid_n_folds(const Experiment *ex);

/* All runs in order; *runs is the caller's (free). */
int grid_expand(const Experiment *ex, RunSpec **runs, int *n_runs, char *err);

/* The resolved settings of config point `config`. */
void grid_settings(const Experiment *ex, int config, Settings *out);

/* "model.activation=relu training.optimizer=sgd" (empty without a grid). */
void grid_describe(char *buf, size_t cap, const Experiment *ex, int config);

/* A run's identity (DESIGN.md "Extending an experiment"): its config
 * point's resolved settings, its seed, its fold and the data set's hash
 * (16 hex digits, as results files write it). A run keeps its identity when
 * its experiment grows, whatever its id becomes; run files store it.
 * grid_config_identity is the settings' part (cfg_settings_hash). */
uint64_t grid_config_identity(const Experiment *ex, int config);
uint64_t grid_run_identity(uint64_t config_identity, int64_t seed, int fold, const char *data_hash);

#endif
