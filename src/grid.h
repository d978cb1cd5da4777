/* grid.h — an Experiment expanded into runs: config point × seed.
 *
 * Run ids are indices in expansion order, config-major and seed-minor, so the
 * same file always names every run the same way (resume, shards, merge rely
 * on it). Config points are numbered the same way. */
#ifndef GRID_H
#define GRID_H

#include <stdint.h>

#include "cfg.h"

typedef struct {
    int id;       /* run id: index in expansion order */
    int config;   /* config point */
    int64_t seed;
} RunSpec;

/* Number of config points of the experiment. */
int grid_n_configs(const Experiment *ex);

/* All runs in order; *runs is the caller's (free). */
int grid_expand(const Experiment *ex, RunSpec **runs, int *n_runs, char *err);

/* The resolved settings of config point `config`. */
void grid_settings(const Experiment *ex, int config, Settings *out);

#endif
