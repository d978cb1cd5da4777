/* data.h — data sets: loading, the train/test split and feature scaling.
 *
 * A Dataset is built once per experiment and then only read, by every
 * training thread at once. It holds the two splits as contiguous row-major
 * float32 matrices, already scaled, so a batch without shuffling is a plain
 * pointer into x_train. */
#ifndef DATA_H
#define DATA_H

#include <stddef.h>
#include <stdint.h>

typedef enum { DATA_DIGITS = 0, DATA_CSV, DATA_HDF5, DATA_IDX } DataSource;
typedef enum { SCALE_NONE = 0, SCALE_MINMAX, SCALE_STANDARD } DataScale;

#define DATA_PATH_LEN 1024
#define DATA_NAME_LEN 256

typedef struct {
    int source;           /* DataSource */
    char path[DATA_PATH_LEN]; /* csv/hdf5: the file; idx: the folder of the four MNIST-format files */
    int header;           /* csv: the first line is a header */
    int label_column;     /* csv: 0-based column of the label; -1 = the last */
    char x[DATA_NAME_LEN];/* hdf5: dataset of the features (n, d) */
    char y[DATA_NAME_LEN];/* hdf5: dataset of the labels (n) */
    double test_fraction; /* in (0, 1): n_test = ceil(test_fraction * n), as scikit-learn;
                             ignored by idx, which has its own test files */
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

typedef struct {
    int n_features, n_classes;
    int n_train, n_test;
    float *x_train;       /* (n_train, n_features) */
    int32_t *y_train;     /* (n_train) in 0..n_classes-1 */
    float *x_test;        /* (n_test, n_features) */
    int32_t *y_test;      /* (n_test) */
    int32_t *train_index; /* (n_train) source row of each training row, in split order */
    int32_t *test_index;  /* (n_test) */
    char **class_names;   /* (n_classes) when the labels were names (CSV): class k's name; else NULL */
} Dataset;

extern const char *const data_source_names[]; /* NULL-terminated, by DataSource */
extern const char *const data_scale_names[];  /* NULL-terminated, by DataScale */

/* Load, split and scale. *out is the caller's, freed with data_free. */
int data_load(const DataConfig *c, Dataset **out, char *err);
void data_free(Dataset *d); /* NULL is fine */

/* Parse comma-separated rows of numbers; column label_column (-1: the last)
 * is an integer label >= 0, or in every row a class name (numbered in sorted
 * order, the names in rows->class_names); a header line is skipped when
 * header != 0.
 * `name` names the input in messages ("FILE: line 12: ..."). rows is the
 * caller's, freed with data_rows_free. */
int data_parse_csv(DataRows *rows, const char *text, size_t len, int header, int label_column, const char *name,
                   char *err);
void data_rows_free(DataRows *rows);

#endif
