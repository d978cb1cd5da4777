/* data.h — data sets: loading, the train/validation/test splits (or the
 * folds of cross-validation) and feature scaling.
 *
 * A Dataset is built once per experiment (once per fold with
 * cross-validation) and then only read, by every training thread at once.
 * It holds its splits as contiguous row-major float32 matrices, already
 * scaled by a scaler fitted on its own training rows, so a batch without
 * shuffling is a plain pointer into x_train. */
#ifndef DATA_H
#define DATA_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DATA_DIGITS = 0, DATA_CSV, DATA_HDF5, DATA_IDX } DataSource;
typedef enum { SCALE_NONE = 0, SCALE_MINMAX, SCALE_STANDARD } DataScale;

#define DATA_PATH_LEN 1024
#define DATA_NO_LABEL (-2) /* label_column of rows without labels */
#define DATA_NAME_LEN 256

typedef struct {
    int source;           /* DataSource */
    char path[DATA_PATH_LEN]; /* csv/hdf5: the file; idx: the folder of the four MNIST-format files */
    int header;           /* csv: the first line is a header */
    int label_column;     /* csv: 0-based column of the label; -1 = the last */
    char x[DATA_NAME_LEN];/* hdf5: dataset of the features (n, d) */
    char y[DATA_NAME_LEN];/* hdf5: dataset of the labels (n) */
    char test_path[DATA_PATH_LEN]; /* csv/hdf5: a test file of the same format ("" : split one off) */
    double test_fraction; /* in (0, 1): n_test = ceil(test_fraction * n), as scikit-learn;
                             ignored by idx and with test_path, which have their own test rows */
    double validation_fraction; /* [0, 1): n_val = ceil(v * training rows); 0: no validation split */
    int folds;            /* K >= 2: K-fold cross-validation over the training rows; 0: none */
    int stratify;         /* every split keeps each class's share of rows */
    int64_t split_seed;   /* the split's stream; shared by all runs of an experiment */
    int scale;            /* DataScale, fitted on the training split only */
} DataConfig;

/* Rows of a source before the split: x (n, d) and integer labels y (n). */
typedef struct {
    int n, d;
    float *x;
    int32_t *y;
    char **class_names; /* (n_class_names) when the labels were names: class k is class_names[k]; else NULL */
    int n_class_names;
} DataRows;

/* One view of the data: what a run trains on, validates on and tests on. */
typedef struct {
    int n_features, n_classes;
    int n_train, n_val, n_test;
    float *x_train;       /* (n_train, n_features) */
    int32_t *y_train;     /* (n_train) in 0..n_classes-1 */
    float *x_val;         /* (n_val, n_features); NULL without validation */
    int32_t *y_val;       /* (n_val) */
    float *x_test;        /* (n_test, n_features) */
    int32_t *y_test;      /* (n_test) */
    int32_t *train_index; /* (n_train) source row of each training row, in split order */
    int32_t *val_index;   /* (n_val) */
    int32_t *test_index;  /* (n_test); rows of the test file when it has its own */
    int n_folds;          /* K with cross-validation, else 0 */
    int fold;             /* this view's fold (validates on part `fold`); 0 without folds */
    int n_pool;           /* with folds: every training row of the folds ... */
    int32_t *pool_index;  /* (n_pool) its source row, in split order */
    int8_t *pool_fold;    /* (n_pool) and the fold it validates in */
    float *block_x;       /* when the splits are parts of the rows as loaded (one view): */
    int32_t *block_y;     /* the arrays to free, x_train .. x_test pointing into them, */
    float *block_test_x;  /* and a test file's rows */
    int32_t *block_test_y;
    double *scale_offset; /* (n_features) the scaler: x' = (x - offset) * factor */
    double *scale_factor; /* (n_features) */
    uint64_t hash;        /* FNV-1a of the rows loaded (data_hash in the results) */
    char **class_names;   /* (n_classes) when the labels were names (CSV): class k's name; else NULL */
} Dataset;

extern const char *const data_source_names[]; /* NULL-terminated, by DataSource */
extern const char *const data_scale_names[];  /* NULL-terminated, by DataScale */

/* Views data_load makes: the folds, or 1. */
int data_n_sets(const DataConfig *c);
/* Whether the config has a validation split or folds. */
int data_has_validation(const DataConfig *c);

/* Load, split and scale into out[0 .. data_n_sets(c) - 1] (one view per
 * fold). Each is the caller's, freed with data_free. */
int data_load(const DataConfig *c, Dataset **out, char *err);
void data_free(Dataset *d); /* NULL is fine */

/* Load a data file's rows unsplit and unscaled (for predictions on new
 * data): the source, path, header, label_column, x and y of c. rows is the
 * caller's, freed with data_rows_free. */
int data_load_rows(const DataConfig *c, DataRows *rows, char *err);
/* x (n, d) row-major: x[i][j] = (x[i][j] - offset[j]) * factor[j], in double. */
void data_apply_scale(float *x, int n, int d, const double *offset, const double *factor);

/* Parse comma-separated rows of numbers; column label_column (-1: the last)
 * is an integer label >= 0, or in every row a class name (numbered in sorted
 * order, the names in rows->class_names); a header line is skipped when
 * header != 0. With label_column DATA_NO_LABEL every column is a feature
 * and every label -1 (rows to predict).
 * `name` names the input in messages ("FILE: line 12: ..."). rows is the
 * caller's, freed with data_rows_free. */
int data_parse_csv(DataRows *rows, const char *text, size_t len, int header, int label_column, const char *name,
                   char *err);
void data_rows_free(DataRows *rows);

/* What loaded but is probably not what was meant, for the caller to print
 * as is (warnings, never errors): one line per warning, "\n"-terminated,
 * into buf, each "NAME: warning: ...", NAME the data file (or "digits
 * (built in)"); truncated at cap. Returns the number of warnings (0: buf
 * is "").
 *  - class numbers no row has (classes are 0..max label, so labels 1..3
 *    make a class 0 the model must learn never to predict);
 *  - with dataset.scale: none, a feature whose range is over 100 times
 *    another's (constant features aside): its inputs swamp the others'.
 * d is one view of c's data (any fold: each holds every row loaded),
 * loaded with any dataset.scale: the ranges are the raw values'. */
int data_warnings(const Dataset *d, const DataConfig *c, char *buf, size_t cap);

/* The accuracy of always predicting the majority class on validation: the
 * class with the most validation rows (over all folds; ties: the lower),
 * its share of each view's validation rows as a run's accuracy is computed
 * (count / n_val), averaged over the n_sets views (the folds, or the one
 * view). NaN without validation. */
double data_val_majority_share(Dataset *const *sets, int n_sets);

#endif
