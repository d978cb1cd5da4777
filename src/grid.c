/* grid.c — expansion of an experiment into config points and runs. */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>

#include "nnlab.h"

int grid_n_configs(const Experiment *ex)
{
    return ex->n_configs > 0 ? ex->n_configs : 1;
}

/* Index into axis `axis`'s values of config point `config`: the last axis
 * varies fastest; a random search's axes are zipped (cfg.h). */
static int value_index(const Experiment *ex, int config, int axis)
{
    if (ex->search.drawn) return config;
    int stride = 1;
    for (int k = ex->n_axes - 1; k > axis; k--) stride *= ex->axes[k].n;
    return (config / stride) % ex->axes[axis].n;
}

void grid_settings(const Experiment *ex, int config, Settings *out)
{
    *out = ex->settings;
    for (int k = 0; k < ex->n_axes; k++)
        cfg_copy_setting(ex->axes[k].def, out, &ex->axes[k].values[value_index(ex, config, k)]);
}

void grid_describe(char *buf, size_t cap, const Experiment *ex, int config)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < ex->n_axes && len < cap; k++) {
        char value[2200];
        const GridAxis *a = &ex->axes[k];
        cfg_format_value(value, sizeof value, a->def, &a->values[value_index(ex, config, k)]);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", k ? " " : "", a->def->key, value);
    }
}

int grid_n_folds(const Experiment *ex)
{
    return data_n_sets(&ex->settings.data);
}

int grid_expand(const Experiment *ex, RunSpec **runs, int *n_runs, char *err)
{
    int configs = grid_n_configs(ex), folds = grid_n_folds(ex);
    long long n = (long long)configs * ex->n_seeds * folds;
    if (n > 100000000) return nn_errf(err, "%s: %lld runs; at most 100000000 are supported", ex->file, n);
    RunSpec *r = nn_alloc((size_t)n, sizeof *r);
    if (!r) return nn_errf(err, "out of memory for %lld runs", n);
    int id = 0;
    for (int c = 0; c < configs; c++)
        for (int s = 0; s < ex->n_seeds; s++)
            for (int k = 0; k < folds; k++, id++) {
                r[id].id = id;
                r[id].config = c;
                r[id].seed = ex->seeds[s];
                r[id].fold = k;
            }
    *runs = r;
    *n_runs = (int)n;
    return 0;
}

uint64_t grid_config_identity(const Experiment *ex, int config)
{
    Settings s;
    grid_settings(ex, config, &s);
    return cfg_settings_hash(&s);
}

uint64_t grid_run_identity(uint64_t config_identity, int64_t seed, int fold, const char *data_hash)
{
    char text[128];
    int n = snprintf(text, sizeof text, "seed=%lld fold=%d data=%.64s", (long long)seed, fold, data_hash);
    return nn_fnv1a_more(config_identity, text, (size_t)n + 1);
}
