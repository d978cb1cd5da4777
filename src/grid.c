/* grid.c — expansion of an experiment into runs. Every config point shares
 * the experiment's settings until grids arrive (issue 3); the ordering
 * contract (config-major, seed-minor) is already the final one. */
#include "grid.h"

#include <stdlib.h>

#include "nnlab.h"

int grid_n_configs(const Experiment *ex)
{
    (void)ex;
    return 1;
}

int grid_expand(const Experiment *ex, RunSpec **runs, int *n_runs, char *err)
{
    int configs = grid_n_configs(ex);
    long long n = (long long)configs * ex->n_seeds;
    if (n > 100000000) return nn_errf(err, "%lld runs; at most 100000000 are supported", n);
    RunSpec *r = nn_alloc((size_t)n, sizeof *r);
    if (!r) return nn_errf(err, "out of memory for %lld runs", n);
    int id = 0;
    for (int c = 0; c < configs; c++)
        for (int s = 0; s < ex->n_seeds; s++, id++) {
            r[id].id = id;
            r[id].config = c;
            r[id].seed = ex->seeds[s];
        }
    *runs = r;
    *n_runs = (int)n;
    return 0;
}

void grid_settings(const Experiment *ex, int config, Settings *out)
{
    (void)config;
    *out = ex->settings;
}
