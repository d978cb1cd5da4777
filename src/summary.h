/* summary.h — the seed-aggregated view of an experiment: one row per config
 * point with its swept values, number of seeds, mean ± std of the final and
 * best test accuracy and the final test loss, and the number of diverged
 * runs; ranked by a metric. Reads results.h5, or the run files themselves
 * when results.h5 is absent or older than them (an experiment still running
 * or interrupted). */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdio.h>

enum { SUM_FINAL_TEST_ACC = 0, SUM_BEST_TEST_ACC, SUM_FINAL_TEST_LOSS, SUM_FINAL_TRAIN_ACC, SUM_FINAL_TRAIN_LOSS,
       SUM_SECONDS, SUM_N_METRICS };
extern const char *const summary_metric_names[]; /* "final_test_acc", ... NULL-terminated */

typedef struct {
    int config;
    int n_seeds, n_diverged;
    double mean[SUM_N_METRICS], std[SUM_N_METRICS]; /* over seeds with a finite value; std uses n - 1 */
    char **swept;                                   /* (n_swept) values as text */
} SummaryConfig;

typedef struct {
    int n_swept;
    char **swept_keys;      /* (n_swept) dotted setting names */
    int n_configs;
    SummaryConfig *configs; /* (n_configs) in config order until summary_sort */
    int n_runs;             /* runs read */
    int from_run_files;     /* 1: read from <dir>/runs, results.h5 absent or older */
    int n_missing;          /* runs of the experiment without a run file (from_run_files only) */
    int sorted_by;          /* the metric of summary_sort (SUM_*), shown even if not by default */
} SummaryTable;

/* path: a results.h5 file or an output folder. *out is the caller's. */
int summary_load(SummaryTable **out, const char *path, char *err);
/* Keep the config points whose swept setting KEY has VALUE ("KEY=VALUE";
 * numbers match by value, lists with or without spaces). An error names the
 * swept settings, or the values KEY takes. */
int summary_filter(SummaryTable *t, const char *where, char *err);
/* Rank by a metric: accuracies descending, losses and seconds ascending,
 * config points without a finite value last. */
int summary_sort(SummaryTable *t, const char *metric, char *err);
/* A table (or CSV with full precision) of the first `top` rows (all if top
 * <= 0): the final and best test accuracy, the final test loss, and the
 * metric sorted by if it is another. */
void summary_print(FILE *out, const SummaryTable *t, int top, int csv);
void summary_free(SummaryTable *t); /* NULL is fine */

#endif
