/* summary.h — the seed-aggregated view of an experiment: one row per config
 * point with its swept values, number of runs (seeds × folds), mean ± std
 * of its metrics, and the number of diverged runs; ranked on validation
 * (mean val_acc) when the experiment has it, else on the test set, said in
 * a header line. Reads results.h5 (format 2, or 1 with its old columns),
 * or the run files themselves when results.h5 is absent or older than them
 * (an experiment still running or interrupted). */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#define SUM_MAX_METRICS 16
/* The metrics (columns of /summary) of format 2 and of format 1, NULL-terminated. */
extern const char *const summary_metric_names[];
extern const char *const summary_metric_names_v1[];
/* The header line of a ranking without validation. */
extern const char summary_test_ranking_note[];

typedef struct {
    int config;
    int n_runs, n_diverged;
    double mean[SUM_MAX_METRICS], std[SUM_MAX_METRICS]; /* over runs with a finite value; std uses n - 1 */
    char **swept;                                   /* (n_swept) values as text */
    int one_class;          /* its mean val_acc is val_majority_share (to 1e-12): it predicts one class */
    int rung;               /* successive halving: the rung its runs reached (0 otherwise) */
    int pruned;             /* successive halving: not promoted to its bracket's last rung (pruned or paused) */
    int n[SUM_MAX_METRICS]; /* runs with a finite value of each metric */
    double ci_lo[SUM_MAX_METRICS], ci_hi[SUM_MAX_METRICS]; /* 95% interval of the mean (summary_stats); NaN for n < 2 */
    int64_t *seed, *fold;   /* (n_runs) each run's seed and fold (fold 0 without folds), in file order */
    double *values;         /* (n_runs x n_metrics) each run's metrics, in file order */
    int experiment;         /* which of the table's experiments it is from (0 for one) */
    int tied;               /* SummaryTie, against rank 1 on the metric ranked by (summary_stats) */
    double p_value;         /* that test's two-sided p; NaN when there is no test (rank 1 itself too) */
    int paired, n_pairs;    /* the test was paired, on n_pairs (seed, fold) pairs with both values finite */
} SummaryConfig;

/* A config point against rank 1: its difference is not significant (rank 1
 * itself too), is, cannot be tested (fewer than 2 values or pairs on a
 * side), or is not compared (pruned or paused by a search: it did not
 * train to the end). */
enum { SUM_TIED = 0, SUM_NOT_TIED, SUM_UNTESTABLE, SUM_NOT_COMPARED };
/* The interval of summary_stats. */
enum { SUM_CI_T = 0, SUM_CI_BOOTSTRAP };

typedef struct {
    int format_version;     /* 1 or 2 */
    int validation;         /* the experiment has validation: ranked on it */
    const char *const *metrics; /* summary_metric_names or _v1: the columns of mean and std */
    int rank_metric;        /* the default ranking: val_acc, test_acc or (format 1) final_test_acc */
    int n_swept;
    char **swept_keys;      /* (n_swept) dotted setting names */
    int n_configs;
    SummaryConfig *configs; /* (n_configs) in config order until summary_sort */
    int n_runs;             /* runs read */
    int from_run_files;     /* 1: read from <dir>/runs, results.h5 absent or older */
    int n_missing;          /* runs of the experiment without a run file (from_run_files only) */
    int n_rejected;         /* run files left out: damaged or foreign (from_run_files only) */
    char rejected[1024];    /* which, and why */
    int sorted_by;          /* the metric of summary_sort (index into metrics), shown even if not by default */
    double val_majority_share; /* /data's val_majority_share: always predicting the majority class; NaN if absent */
    char *name;             /* the experiment's name (the file's name attribute), or "" */
    char *resolved;         /* the resolved experiment as stored (the experiment attribute), or NULL */
    int has_keys;           /* /summary has seed (and fold) columns: runs can be paired */
    int n_experiments;      /* 1, or how many summary_concat joined */
    char **experiments;     /* (n_experiments) their labels: the experiment's name, or name (folder) */
    int ci;                 /* SUM_CI_T or SUM_CI_BOOTSTRAP, of summary_stats */
    int stats_done;         /* summary_stats has filled the intervals and the tied marks */
    char tie_note[1024];    /* summary_stats: the line that says which test decided `tied` */
    int has_rungs;          /* successive halving: some config point was pruned; ranked after those that were not,
                             * by the rung reached, and each point's rung is shown */
} SummaryTable;

/* path: a results.h5 file or an output folder. *out is the caller's. */
int summary_load(SummaryTable **out, const char *path, char *err);
/* Keep the config points whose swept setting KEY has VALUE ("KEY=VALUE";
 * numbers match by value, lists with or without spaces). An error names the
 * swept settings, or the values KEY takes. */
int summary_filter(SummaryTable *t, const char *where, char *err);
/* Rank by a metric (NULL: t->rank_metric): accuracies descending, losses,
 * epochs and seconds ascending, equal means (to the last bit) by config id,
 * config points without a finite value last. */
int summary_sort(SummaryTable *t, const char *metric, char *err);
/* A table (or CSV with full precision) of the first `top` rows (all if top
 * <= 0): val_acc, test_acc and val_loss with validation, test_acc and
 * test_loss without (format 1: its final and best test accuracy and final
 * test loss), and the metric sorted by if it is another; for each, n, mean,
 * std and the interval of summary_stats; then diverged and tied (CSV: also
 * p_value), and a first column experiment for several. Then a line for
 * each of those rows that predicts one class (one_class): "c0003 predicts
 * one class: ..." and the two notes on the cells and on tied (to stderr
 * with csv, as the ranking note). Needs summary_stats first. */
void summary_print(FILE *out, const SummaryTable *t, int top, int csv);
/* Several experiments' tables as one (nnlab summary A B ...): config
 * points labelled by experiment (its name; two of one name as "name
 * (folder)"), the union of their swept settings, and a column for each
 * setting that is not swept but differs between them (from the resolved
 * experiments); a key one experiment does not sweep takes its resolved
 * value. Refuses experiments ranked on different things (with and without
 * validation, or format 1 beside 2). Takes the parts (freed, whatever the
 * result); *out is the caller's. */
int summary_concat(SummaryTable **out, SummaryTable **parts, int n, const char *const *paths, char *err);
/* After summary_sort: each config point's 95% interval of the mean of
 * every metric (ci: SUM_CI_T, Student t; SUM_CI_BOOTSTRAP, stats.h's
 * percentile bootstrap) and its `tied` mark against rank 1 on the metric
 * ranked by: two-sided, alpha 0.05, the paired t-test when both points are
 * of the same experiment and their runs have the same (seed, fold) pairs
 * (pairs with a non-finite value left out), else Welch's. tie_note says
 * which, and what could not be tested. */
int summary_stats(SummaryTable *t, int ci, char *err);
void summary_free(SummaryTable *t); /* NULL is fine */

#endif
