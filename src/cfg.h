/* cfg.h — experiment files: YAML → a resolved, validated Experiment.
 *
 * Two phases, as darknet's parser but strict: libyaml loads the file into a
 * generic tree that keeps every node's file:line:column; then small binders
 * walk the tree section by section against a table of settings (cfg_settings)
 * and report the first problem as "FILE:LINE:COL: message". Nothing is
 * printed and nothing runs on a bad file. The settings table also drives the
 * resolved-YAML writer and the per-setting attributes of the results file. */
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

typedef enum { SET_INT = 0, SET_I64, SET_FLOAT, SET_BOOL, SET_ENUM, SET_INT_LIST } SettingType;

/* One setting: where it lives in Settings, its type and its allowed range. */
typedef struct {
    const char *key;            /* dotted: "training.learning_rate" */
    int type;                   /* SettingType */
    size_t offset;              /* in Settings */
    const char *const *names;   /* SET_ENUM: allowed values, NULL-terminated */
    double lo, hi;              /* range of the value (of each element for lists) */
    int lo_open, hi_open;       /* 1: the bound itself is not allowed */
} SettingDef;

extern const SettingDef cfg_settings[];
extern const int cfg_n_settings;

typedef struct {
    char *file;          /* the experiment file as named on the command line */
    char *name;          /* `name:`, default: the file's base name without .yaml */
    Settings settings;   /* resolved settings, every default filled in */
    int64_t *seeds;      /* (n_seeds) distinct, >= 0 */
    int n_seeds;
    char *output;        /* output folder, default results/<name> */
    char *resolved;      /* the resolved experiment as YAML text */
    char fingerprint[17];/* hex FNV-1a of the resolved settings and seeds (not name/output) */
} Experiment;

/* Default settings: the tutorial's network (DESIGN.md). */
void cfg_defaults(Settings *s);

/* Load and validate an experiment file. On failure returns -1 with
 * "FILE:LINE:COL: message" in err. *out is the caller's: cfg_free. */
int cfg_load(Experiment **out, const char *path, char *err);
/* The same from text in memory; `name` stands for the file in messages. */
int cfg_load_text(Experiment **out, const char *name, const char *text, size_t len, char *err);
void cfg_free(Experiment *ex); /* NULL is fine */

/* Replace the output folder (the -o option) and rewrite ex->resolved. */
int cfg_set_output(Experiment *ex, const char *output, char *err);

/* A setting's value as YAML text ("0.01", "[200, 100]", "sigmoid"). */
void cfg_format_value(char *buf, size_t cap, const SettingDef *def, const Settings *s);

#endif
