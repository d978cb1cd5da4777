/* cfg.h — experiment files: YAML → a resolved, validated Experiment.
 *
 * Two phases, as darknet's parser but strict: node_load turns each file into
 * a tree that keeps every node's file:line:column; `base:` files are merged
 * under it and command-line overrides applied on top; then small binders
 * walk the tree section by section against a table of settings
 * (cfg_settings) and report the first problem as "FILE:LINE:COL: message".
 * Nothing is printed and nothing runs on a bad file. The same table drives
 * the resolved-YAML writer, the grid, and the per-setting attributes and
 * summary columns of the results file. */
#ifndef CFG_H
#define CFG_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "train.h"

/* Every setting of one run except its seed. */
typedef struct {
    DataConfig data;
    TrainConfig train;
} Settings;

/* SET_PAIR: two doubles in adjacent fields (training.betas: beta1, beta2),
 * written as a flow list [0.9, 0.999]; lo..hi bound each. */
typedef enum { SET_INT = 0, SET_I64, SET_FLOAT, SET_BOOL, SET_ENUM, SET_LAYERS, SET_STRING, SET_PATH, SET_PAIR } SettingType;

/* One setting: where it lives in Settings, its type and its allowed range. */
typedef struct {
    const char *key;            /* dotted: "training.learning_rate" */
    int type;                   /* SettingType */
    size_t offset, size;        /* of the field in Settings */
    const char *const *names;   /* SET_ENUM / SET_BOOL: allowed values, NULL-terminated */
    double lo, hi;              /* range of the value (of each element for layer lists and pairs) */
    int lo_open, hi_open;       /* 1: the bound itself is not allowed */
} SettingDef;

extern const SettingDef cfg_settings[];
extern const int cfg_n_settings;
/* The setting of that dotted key ("training.shuffle"), or NULL. */
const SettingDef *cfg_find_setting(const char *key);

/* One swept setting: its values, each held in a whole Settings (only this
 * setting's field is meaningful). */
typedef struct {
    const SettingDef *def;
    int n;
    Settings *values;
} GridAxis;

/* search.method: grid crosses the grid axes; random draws `trials` config
 * points; halving (successive halving) trains its config points rung by
 * rung, keeping the best 1/eta at each: the trials it draws (with
 * search.trials) or the grid's config points; hyperband runs the brackets
 * of Li et al. (2018), each a successive halving of trials it draws
 * (schedule.h sizes them). */
typedef enum { SEARCH_GRID = 0, SEARCH_RANDOM, SEARCH_HALVING, SEARCH_HYPERBAND } SearchMethod;
extern const char *const cfg_search_method_names[]; /* "grid", "random", "halving", "hyperband", NULL */

/* A distribution of search.space. */
typedef enum { DIST_UNIFORM = 0, DIST_LOG_UNIFORM, DIST_INT_UNIFORM, DIST_INT_LOG_UNIFORM, DIST_CHOICE } SearchDist;
extern const char *const cfg_dist_names[]; /* "uniform", ..., "choice", NULL */

/* One setting a random search samples. */
typedef struct {
    const SettingDef *def;
    int dist;           /* SearchDist */
    double lo, hi;      /* the uniform kinds: bounds, both valid values of the setting */
    int n;              /* DIST_CHOICE: the values, each held in a whole Settings as a grid axis's */
    Settings *values;
    int from_grid;      /* a grid: axis, which a random search samples as a choice */
} SearchParam;

typedef struct {
    int method;           /* SearchMethod */
    int trials;           /* random: config points drawn */
    int64_t seed;         /* random: trial i draws from the stream of (seed, i) */
    SearchParam *params;  /* (n_params) the space's settings in the order written, then the grid's axes:
                           * the order of the draws */
    int n_params;
    int drawn;            /* config points are drawn trials (random, hyperband, halving with trials), whose axes
                           * are zipped; else the grid's, crossed */
    int min_epochs, eta;  /* halving, hyperband: the first rung's epochs (>= 1); keep the best 1/eta (>= 2) */
} Search;

/* `storage:` what each run file keeps (docs/results-format.md). Curves and
 * the summary always; not part of the fingerprint: it changes no result. */
typedef enum { KEEP_ALL = 0, KEEP_BEST, KEEP_FINAL, KEEP_NONE } KeepWeights;
extern const char *const keep_weights_names[]; /* "all", "best", "final", "none" */
typedef struct {
    int keep_weights; /* KeepWeights: all = weights/ and best/ (with validation); best = best/ (without
                       * validation: weights/, the selected epoch being the last); final = weights/ */
    int keep_init;    /* init/ */
    int keep_pruned;  /* a run successive halving pruned keeps weights/, best/ and init/ as above; else
                       * none of them (default) */
} StorageConfig;

typedef struct {
    char *file;          /* the experiment file as named on the command line */
    char *name;          /* `name:`, default: the file's base name without .yaml */
    Settings settings;   /* resolved settings, every default filled in; a swept setting holds its axis's
                          * first value, a placeholder (grid_settings gives each config point's) */
    GridAxis *axes;      /* (n_axes) in the order they were first written */
    int n_axes;
    int n_configs;       /* product of the axes' lengths (1 without a grid); random: search.trials */
    Search search;       /* random: axes[k] holds params[k]'s draws (value i: trial i's), and config point
                          * i takes value i of every axis: the axes are zipped, not crossed */
    int64_t *seeds;      /* (n_seeds) distinct, >= 0 */
    int n_seeds;
    char *output;        /* output folder, default results/<name> */
    char *resolved;      /* the resolved experiment as YAML text (a swept setting only under grid:, a
                          * sampled one under search:, which holds the distributions, not the draws) */
    char fingerprint[17];/* hex FNV-1a of the resolved settings, grid, search, seeds (not name/output/storage) */
    StorageConfig storage;
    char *overrides;     /* the command-line overrides that made it, "KEY=VALUE\n" each, or NULL: written in
                          * the resolved text as "# override: KEY=VALUE" lines, and read back from them */
} Experiment;

/* Default settings: the tutorial's network (DESIGN.md). */
void cfg_defaults(Settings *s);

/* Load and validate an experiment file, its base chain and the command-line
 * overrides ("KEY=VALUE" sets one value, "KEY=a,b,c" a grid axis). A value
 * in a file, as one on the command line, removes the grid axis of its key
 * that the file's bases sweep; a file's own axis of a key wins over its own
 * value. dataset.scale given nowhere is standard for csv and hdf5, none for
 * the images. On failure returns -1 with "FILE:LINE:COL: message" in err.
 * *out is the caller's: cfg_free. */
int cfg_load(Experiment **out, const char *path, char *const *overrides, int n_overrides, char *err);
/* The same from text in memory; `name` stands for the file in messages and
 * is the folder that a relative `base:` is found from. */
int cfg_load_text(Experiment **out, const char *name, const char *text, size_t len, char *const *overrides,
                  int n_overrides, char *err);
void cfg_free(Experiment *ex); /* NULL is fine */

/* Replace the output folder (the -o option) and rewrite ex->resolved. */
int cfg_set_output(Experiment *ex, const char *output, char *err);

/* What differs between two experiments' settings, grid and seeds, one line
 * per difference ("  training.learning_rate: 0.01 -> 0.1"; a swept
 * setting's value is "(swept)"), into buf. Returns the number of differences. */
int cfg_differences(const Experiment *a, const Experiment *b, char *buf, size_t cap);

/* How experiment b relates to a, the one an output folder holds (--resume,
 * DESIGN.md "Extending an experiment"): CFG_SAME (the same fingerprint);
 * CFG_GROWS: b has more seeds, or more values on grid axes of a, and every
 * seed and value of a is still there in a's order (new ones anywhere), so
 * every run of a is a run of b and keeps its place relative to the others;
 * CFG_SHRINKS: b lacks seeds or values of a (their finished runs would be
 * dropped), nothing else differs; CFG_DIFFERS: anything else (a setting, an
 * axis added, removed or reordered, values or seeds reordered). The
 * differences, as cfg_differences lists them, in buf. */
enum { CFG_SAME = 0, CFG_GROWS, CFG_SHRINKS, CFG_DIFFERS };
int cfg_growth(const Experiment *a, const Experiment *b, char *buf, size_t cap);

/* FNV-1a of the settings a run of s depends on: every setting the resolved
 * text would write for them ("key", value as YAML text). Equal settings, in
 * any experiment, hash equal: a run's identity (grid_run_identity) starts here. */
uint64_t cfg_settings_hash(const Settings *s);

/* A setting's value as YAML text ("0.01", "[200, 100]", "sigmoid"). */
void cfg_format_value(char *buf, size_t cap, const SettingDef *def, const Settings *s);
/* Copy one setting's field from src to dst. */
void cfg_copy_setting(const SettingDef *def, Settings *dst, const Settings *src);

#endif
