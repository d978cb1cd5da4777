/* data.c — data sets: the built-in digits (gzip-compressed CSV compiled into
 * the binary), CSV files, HDF5 files and IDX (MNIST-format) folders; the
 * seeded train/test split and scaling. Every defect of a file is reported
 * with the file's name. HDF5 is only called before training starts. */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nnlab.h"
#include "rng.h"

extern const unsigned char nnlab_digits_csv_gz[];
extern const size_t nnlab_digits_csv_gz_len;

const char *const data_source_names[] = {"digits", "csv", "hdf5", "idx", NULL};
const char *const data_scale_names[] = {"none", "minmax", "standard", NULL};

/* Inflate a whole gzip stream into a malloc'ed, NUL-terminated buffer. */
static int gunzip(char **out, size_t *out_len, const unsigned char *in, size_t in_len,
                  const char *name, char *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return nn_errf(err, "%s: zlib init failed", name);
    size_t cap = in_len * 4 + 1024, len = 0;
    char *buf = malloc(cap);
    int rc = Z_OK;
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)in_len;
    while (buf && rc == Z_OK) {
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) break;
            buf = grown;
            cap *= 2;
        }
        z.next_out = (unsigned char *)buf + len;
        z.avail_out = (uInt)(cap - len - 1);
        rc = inflate(&z, Z_NO_FLUSH);
        len = cap - 1 - z.avail_out;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return nn_errf(err, "%s: %s", name, buf ? "corrupt gzip data" : "out of memory");
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static void free_names(char **names, int n)
{
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

void data_rows_free(DataRows *rows)
{
    if (!rows) return;
    free(rows->x);
    free(rows->y);
    free_names(rows->class_names, rows->n_class_names);
    memset(rows, 0, sizeof *rows);
}

/* The next line of text (without its \n or \r\n); NULL at the end. */
static const char *next_line(const char **p, const char *end, size_t *len)
{
    if (*p >= end) return NULL;
    const char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
    const char *stop = nl ? nl : end;
    *p = nl ? nl + 1 : end;
    *len = (size_t)(stop - line);
    if (*len && line[*len - 1] == '\r') (*len)--;
    return line;
}

static int blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t') return 0;
    return 1;
}

static int count_fields(const char *line, size_t len)
{
    int n = 1;
    for (size_t i = 0; i < len; i++) n += line[i] == ',';
    return n;
}

/* What a cell holds (parse_number). */
enum { CELL_NUMBER, CELL_NOT_NUMBER, CELL_NOT_DECIMAL, CELL_NUL };

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the decimal number that starts s: an optional sign, digits
 * with an optional fraction (or a fraction alone), an optional exponent;
 * 0 if there is none. */
static size_t decimal_length(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-') i++;
    for (; digit(s[i]); i++) digits++;
    if (s[i] == '.')
        for (i++; digit(s[i]); i++) digits++;
    if (!digits) return 0;
    size_t e = i + 1;
    if ((s[i] == 'e' || s[i] == 'E') && (s[e] == '+' || s[e] == '-')) e++;
    if ((s[i] == 'e' || s[i] == 'E') && digit(s[e]))
        for (i = e; digit(s[i]); i++) {}
    return i;
}

/* The cell as a number, spaces around it allowed: CELL_NUMBER with *v, or
 * what it is instead. Only decimal numbers are numbers, not the hexadecimal,
 * inf or nan that strtod also reads, and a NUL byte (where strtod would
 * stop) is an error of its own. A value that underflows becomes 0 or a
 * denormal; one beyond double range is ±inf (beyond float range either way:
 * the caller's check). */
static int parse_number(const char *cell, int cl, double *v)
{
    char buf[512];
    if (cl > 0 && memchr(cell, '\0', (size_t)cl)) return CELL_NUL;
    while (cl > 0 && (*cell == ' ' || *cell == '\t')) cell++, cl--;
    while (cl > 0 && (cell[cl - 1] == ' ' || cell[cl - 1] == '\t')) cl--;
    if (cl <= 0 || cl >= (int)sizeof buf) return CELL_NOT_NUMBER;
    memcpy(buf, cell, (size_t)cl);
    buf[cl] = '\0';
    if (decimal_length(buf) != (size_t)cl) {
        const char *u = buf + (buf[0] == '+' || buf[0] == '-');
        return u[0] == '0' && (u[1] == 'x' || u[1] == 'X') ? CELL_NOT_DECIMAL : CELL_NOT_NUMBER;
    }
    *v = strtod(buf, NULL); /* correctly rounded */
    return CELL_NUMBER;
}

typedef struct {
    const char *s;
    int len, row;
} Label;

static int compare_labels(const void *pa, const void *pb)
{
    const Label *a = pa, *b = pb;
    int c = memcmp(a->s, b->s, (size_t)(a->len < b->len ? a->len : b->len));
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Class names (label[r] for row r) numbered in sorted order: rows->y and
 * rows->class_names. Sorts label. */
static int number_classes(DataRows *rows, Label *label, const char *name, char *err)
{
    qsort(label, (size_t)rows->n, sizeof *label, compare_labels);
    int k = 0;
    for (int i = 0; i < rows->n; i++) k += i == 0 || compare_labels(&label[i - 1], &label[i]);
    rows->class_names = nn_calloc((size_t)k, sizeof(char *));
    if (!rows->class_names) return nn_errf(err, "%s: out of memory for %d class names", name, k);
    rows->n_class_names = k;
    for (int i = 0, c = -1; i < rows->n; i++) {
        if (i == 0 || compare_labels(&label[i - 1], &label[i])) {
            rows->class_names[++c] = nn_alloc((size_t)label[i].len + 1, 1);
            if (!rows->class_names[c]) return nn_errf(err, "%s: out of memory for %d class names", name, k);
            memcpy(rows->class_names[c], label[i].s, (size_t)label[i].len);
            rows->class_names[c][label[i].len] = '\0';
        }
        rows->y[label[i].row] = c;
    }
    return 0;
}

int data_parse_csv(DataRows *rows, const char *text, size_t len, int header, int label_column, const char *name,
                   char *err)
{
    memset(rows, 0, sizeof *rows);
    const char *p = text, *end = text + len, *line, *first = NULL;
    size_t ll, first_len = 0;
    int n = 0, fields = 0, first_data = 0, line_no = 0;
    /* First pass: the shape. */
    while ((line = next_line(&p, end, &ll))) {
        line_no++;
        if (header && line_no == 1) continue;
        if (blank(line, ll)) continue;
        if (!n) fields = count_fields(line, ll), first_data = line_no, first = line, first_len = ll;
        n++;
    }
    if (n == 0) return nn_errf(err, "%s: no data rows", name);
    int unlabelled = label_column == DATA_NO_LABEL;
    if (fields < 2 && !unlabelled) {
        const char *sep = memchr(first, ';', first_len) ? "';'" : memchr(first, '\t', first_len) ? "tabs" : NULL;
        return nn_errf(err, "%s: line %d: need at least one feature and a label%s%s%s", name, first_data,
                       sep ? " (values are separated by commas; this line has " : "", sep ? sep : "", sep ? ")" : "");
    }
    int label = unlabelled ? -1 : label_column < 0 ? fields - 1 : label_column;
    if (label >= fields)
        return nn_errf(err, "%s: label_column %d, but line %d has only %d columns", name, label_column, first_data,
                       fields);
    int d = unlabelled ? fields : fields - 1;
    rows->x = nn_alloc((size_t)n * (size_t)d, sizeof(float));
    rows->y = nn_alloc((size_t)n, sizeof(int32_t));
    if (!rows->x || !rows->y) {
        data_rows_free(rows);
        return nn_errf(err, "%s: out of memory for %d rows", name, n);
    }
    rows->n = n;
    rows->d = d;
    /* Second pass: the values. Labels are class numbers, or class names
     * (numbered in sorted order) if the first row's is not a number. */
    Label *names = NULL;
    int names_line = 0;
    p = text;
    line_no = 0;
    for (int r = 0; (line = next_line(&p, end, &ll));) {
        line_no++;
        if ((header && line_no == 1) || blank(line, ll)) continue;
        int got = count_fields(line, ll);
        if (got != fields) {
            nn_errf(err, "%s: line %d: %d fields, expected %d", name, line_no, got, fields);
            goto fail;
        }
        const char *cell = line, *line_end = line + ll;
        for (int f = 0, j = 0; f < fields; f++) {
            const char *cell_end = memchr(cell, ',', (size_t)(line_end - cell));
            if (!cell_end) cell_end = line_end;
            int cl = (int)(cell_end - cell), shown = cl > 40 ? 40 : cl;
            double v = 0;
            int form = parse_number(cell, cl, &v), ok = form == CELL_NUMBER;
            if (form == CELL_NUL) {
                nn_errf(err, "%s: line %d, column %d: a NUL byte in the value", name, line_no, f + 1);
                goto fail;
            }
            if (f == label && r == 0 && !ok) {
                names = nn_alloc((size_t)n, sizeof *names);
                if (!names) {
                    nn_errf(err, "%s: out of memory for %d labels", name, n);
                    goto fail;
                }
                names_line = line_no;
            }
            if (f == label && names) {
                while (cl > 0 && (*cell == ' ' || *cell == '\t')) cell++, cl--;
                while (cl > 0 && (cell[cl - 1] == ' ' || cell[cl - 1] == '\t')) cl--;
                if (cl == 0) {
                    nn_errf(err, "%s: line %d: the label is empty", name, line_no);
                    goto fail;
                }
                if (ok) {
                    nn_errf(err, "%s: line %d: label '%.*s' is a number, but line %d's is a class name (labels are "
                            "all class numbers 0, 1, ... or all class names)", name, line_no, cl > 40 ? 40 : cl, cell,
                            names_line);
                    goto fail;
                }
                names[r] = (Label){cell, cl, r};
            } else if (f == label) {
                if (!ok || v < 0 || v != floor(v) || v > 1e6) {
                    char why[96] = "";
                    if (!ok)
                        snprintf(why, sizeof why, " (labels are all class numbers or all class names, as on line %d)",
                                 first_data);
                    nn_errf(err, "%s: line %d: label '%.*s' is not an integer in 0..1000000%s", name, line_no, shown,
                            cell, why);
                    goto fail;
                }
                rows->y[r] = (int32_t)v;
            } else if (form == CELL_NOT_DECIMAL) {
                nn_errf(err, "%s: line %d, column %d: not a decimal number: '%.*s'", name, line_no, f + 1, shown,
                        cell);
                goto fail;
            } else if (!ok) {
                nn_errf(err, "%s: line %d, column %d: not a finite number: '%.*s'%s", name, line_no, f + 1, shown,
                        cell, line_no == 1 && !header ? " (a header line? set dataset.header: true)" : "");
                goto fail;
            } else if (!(fabs(v) <= FLT_MAX)) {
                nn_errf(err, "%s: line %d, column %d: '%.*s' is not a number in float range (up to %.1e)", name,
                        line_no, f + 1, shown, cell, FLT_MAX);
                goto fail;
            } else {
                rows->x[(size_t)r * (size_t)d + (size_t)j++] = (float)v;
            }
            cell = cell_end + 1;
        }
        r++;
    }
    if (names && number_classes(rows, names, name, err)) goto fail;
    for (int r = 0; unlabelled && r < n; r++) rows->y[r] = -1;
    free(names);
    return 0;
fail:
    free(names);
    data_rows_free(rows);
    return -1;
}

void data_free(Dataset *d)
{
    if (!d) return;
    if (d->block_x) { /* the splits are parts of the rows as loaded */
        free(d->block_x);
        free(d->block_y);
        free(d->block_test_x);
        free(d->block_test_y);
    } else {
        free(d->x_train);
        free(d->y_train);
        free(d->x_test);
        free(d->y_test);
        free(d->x_val);
        free(d->y_val);
    }
    free(d->train_index);
    free(d->val_index);
    free(d->test_index);
    free(d->pool_index);
    free(d->pool_fold);
    free(d->scale_offset);
    free(d->scale_factor);
    free_names(d->class_names, d->n_classes);
    free(d);
}

void data_apply_scale(float *x, int n, int d, const double *offset, const double *factor)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float *v = &x[(size_t)i * d + j];
            *v = (float)((*v - offset[j]) * factor[j]);
        }
}

/* The scaler fitted on the view's training rows, applied to all of its
 * splits. Constant features are left centred but unscaled (factor 1), so
 * they never become NaN. Every pass goes through the rows in order, all
 * features at a time: each feature's sums take its values in row order, as
 * one column at a time would, without a cache miss per value (Fashion-MNIST
 * loaded 0.4 s slower that way). */
static void scale_features(Dataset *ds, int how)
{
    int d = ds->n_features, n = ds->n_train;
    double *offset = ds->scale_offset, *factor = ds->scale_factor;
    for (int j = 0; j < d; j++) offset[j] = 0.0, factor[j] = 1.0;
    if (how == SCALE_NONE) return; /* (x - 0) * 1 is x: nothing to apply */
    const float *x = ds->x_train;
    if (how == SCALE_MINMAX) {
        double *lo = offset, *hi = factor;
        for (int j = 0; j < d; j++) lo[j] = INFINITY, hi[j] = -INFINITY;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double v = x[(size_t)i * d + j];
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
        for (int j = 0; j < d; j++) factor[j] = hi[j] > lo[j] ? 1.0 / (hi[j] - lo[j]) : 1.0;
    } else {
        double *sum = offset, *sq = factor;
        for (int j = 0; j < d; j++) sum[j] = 0, sq[j] = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) sum[j] += x[(size_t)i * d + j];
        for (int j = 0; j < d; j++) offset[j] = sum[j] / n; /* the mean */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double t = x[(size_t)i * d + j] - offset[j];
                sq[j] += t * t;
            }
        for (int j = 0; j < d; j++) {
            double sd = sqrt(sq[j] / n);
            factor[j] = sd > 0 ? 1.0 / sd : 1.0;
        }
    }
    data_apply_scale(ds->x_train, ds->n_train, d, offset, factor);
    if (ds->x_val) data_apply_scale(ds->x_val, ds->n_val, d, offset, factor);
    data_apply_scale(ds->x_test, ds->n_test, d, offset, factor);
}

int data_n_sets(const DataConfig *c)
{
    return c->folds >= 2 ? c->folds : 1;
}

int data_has_validation(const DataConfig *c)
{
    return c->folds >= 2 || c->validation_fraction > 0;
}

/* How many rows of each class to take so that they add up to `want` and
 * each class gets its share of want within one row: the whole part of
 * want·count[c]/total, and the rows left over to the classes with the
 * largest remainders (ties: the lower class). */
static void class_quotas(const int *count, int n_classes, int total, int want, int *quota)
{
    int given = 0;
    for (int c = 0; c < n_classes; c++) {
        quota[c] = (int)((int64_t)want * count[c] / total);
        given += quota[c];
    }
    for (; given < want; given++) {
        int best = -1;
        int64_t best_rem = -1;
        for (int c = 0; c < n_classes; c++) {
            int64_t rem = (int64_t)want * count[c] % total;
            if (quota[c] < count[c] && rem > best_rem && quota[c] == (int)((int64_t)want * count[c] / total))
                best = c, best_rem = rem;
        }
        if (best < 0) break;
        quota[best]++;
    }
}

/* Choose `want` of the rows order[0 .. n-1] (labels y[order[i]]): the
 * first want in that order, or with stratify the first quota of each
 * class. chosen[i] = 1 for those taken. */
static int choose_rows(const int32_t *order, int n, const int32_t *y, int n_classes, int want, int stratify,
                       unsigned char *chosen)
{
    memset(chosen, 0, (size_t)n);
    if (!stratify) {
        for (int i = 0; i < want; i++) chosen[i] = 1;
        return 0;
    }
    int *count = nn_calloc((size_t)n_classes * 2, sizeof(int));
    if (!count) return -1;
    int *quota = count + n_classes;
    for (int i = 0; i < n; i++) count[y[order[i]]]++;
    class_quotas(count, n_classes, n, want, quota);
    for (int i = 0; i < n; i++) {
        int c = y[order[i]];
        if (quota[c] > 0) chosen[i] = 1, quota[c]--;
    }
    free(count);
    return 0;
}

/* The fold of each of the rows order[0 .. n-1]: dealt in turn, 0, 1, ...,
 * K-1, 0, ...; with stratify class by class (each class's rows in that
 * order), so every fold has each class's share within one row. */
static int deal_folds(const int32_t *order, int n, const int32_t *y, int n_classes, int k, int stratify,
                      int8_t *fold)
{
    if (!stratify) {
        for (int i = 0; i < n; i++) fold[i] = (int8_t)(i % k);
        return 0;
    }
    int *start = nn_calloc((size_t)n_classes + 1, sizeof(int));
    int *by_class = nn_alloc((size_t)n, sizeof(int));
    if (!start || !by_class) {
        free(start);
        free(by_class);
        return -1;
    }
    for (int i = 0; i < n; i++) start[y[order[i]] + 1]++;
    for (int c = 0; c < n_classes; c++) start[c + 1] += start[c];
    for (int i = 0; i < n; i++) by_class[start[y[order[i]]]++] = i; /* stable: each class in order */
    for (int j = 0; j < n; j++) fold[by_class[j]] = (int8_t)(j % k);
    free(start);
    free(by_class);
    return 0;
}

/* Copy rows idx[0 .. n-1] of src into x (n, d) and y (n). */
static void gather(float *x, int32_t *y, const DataRows *src, const int32_t *idx, int n)
{
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * src->d, src->x + (size_t)idx[i] * src->d, (size_t)src->d * sizeof(float));
        y[i] = src->y[idx[i]];
    }
}

static char **copy_names(char *const *names, int n)
{
    char **copy = nn_calloc((size_t)n, sizeof *copy);
    for (int i = 0; copy && i < n; i++)
        if (!(copy[i] = nn_strdup(names[i]))) {
            free_names(copy, n);
            return NULL;
        }
    return copy;
}

/* The rows the splits are made of: where each training row (pool, in split
 * order) goes, and which rows are the test set. */
typedef struct {
    const DataRows *rows, *test; /* test: the test file's rows, or rows itself when split off */
    int32_t *test_index;         /* (n_test) into test */
    int n_test, n_pool;
    int32_t *pool;               /* (n_pool) into rows, in split order */
    int8_t *role;                /* (n_pool) ROLE_TRAIN, ROLE_VAL, or the fold */
    int n_classes, n_folds;
} Split;

enum { ROLE_TRAIN = -1, ROLE_VAL = -2 };

/* The only view takes the loaded rows themselves: they are put in the
 * order training, validation, test in place (a permutation applied by
 * following its cycles, one row of scratch), and the splits are parts of
 * them; a test file's rows are its test set as they are. The data is then
 * in memory once, not twice (Fashion-MNIST: 180 MiB less at the peak). */
static int take_rows(Dataset *ds, DataRows *rows, DataRows *test)
{
    int n = rows->n, d = rows->d, at = 0;
    int32_t *order = nn_alloc((size_t)n, sizeof(int32_t));
    unsigned char *placed = nn_calloc((size_t)n, 1);
    float *row = nn_alloc((size_t)d, sizeof(float));
    if (!order || !placed || !row) {
        free(order);
        free(placed);
        free(row);
        return -1;
    }
    for (int i = 0; i < ds->n_train; i++) order[at++] = ds->train_index[i];
    for (int i = 0; i < ds->n_val; i++) order[at++] = ds->val_index[i];
    for (int i = 0; !test && i < ds->n_test; i++) order[at++] = ds->test_index[i];
    for (int start = 0; start < n; start++) { /* x[j] = old x[order[j]], one cycle at a time */
        if (placed[start]) continue;
        memcpy(row, rows->x + (size_t)start * d, (size_t)d * sizeof(float));
        int32_t label = rows->y[start];
        int j = start;
        for (;;) {
            placed[j] = 1;
            int from = order[j];
            if (from == start) {
                memcpy(rows->x + (size_t)j * d, row, (size_t)d * sizeof(float));
                rows->y[j] = label;
                break;
            }
            memcpy(rows->x + (size_t)j * d, rows->x + (size_t)from * d, (size_t)d * sizeof(float));
            rows->y[j] = rows->y[from];
            j = from;
        }
    }
    free(order);
    free(placed);
    free(row);
    ds->block_x = rows->x, ds->block_y = rows->y;
    rows->x = NULL, rows->y = NULL;
    ds->x_train = ds->block_x, ds->y_train = ds->block_y;
    ds->x_val = ds->n_val ? ds->x_train + (size_t)ds->n_train * d : NULL;
    ds->y_val = ds->n_val ? ds->y_train + ds->n_train : NULL;
    if (test) {
        ds->block_test_x = ds->x_test = test->x, ds->block_test_y = ds->y_test = test->y;
        test->x = NULL, test->y = NULL;
    } else {
        ds->x_test = ds->x_train + (size_t)(ds->n_train + ds->n_val) * d;
        ds->y_test = ds->y_train + ds->n_train + ds->n_val;
    }
    return 0;
}

/* One view: fold k's (or the only one), scaled. With own_rows (the only
 * view), it takes the rows loaded (and the test file's, own_test) instead
 * of copying them. */
static Dataset *view_create(const Split *sp, const DataConfig *c, int k, DataRows *own_rows, DataRows *own_test)
{
    Dataset *ds = nn_calloc(1, sizeof *ds);
    if (!ds) return NULL;
    int d = sp->rows->d, val_role = sp->n_folds ? k : ROLE_VAL;
    ds->n_features = d;
    ds->n_classes = sp->n_classes;
    ds->n_folds = sp->n_folds;
    ds->fold = sp->n_folds ? k : 0;
    for (int i = 0; i < sp->n_pool; i++) ds->n_val += sp->role[i] == val_role;
    ds->n_train = sp->n_pool - ds->n_val;
    ds->n_test = sp->n_test;
    ds->train_index = nn_alloc((size_t)ds->n_train, sizeof(int32_t));
    ds->test_index = nn_alloc((size_t)ds->n_test, sizeof(int32_t));
    ds->scale_offset = nn_alloc((size_t)d, sizeof(double));
    ds->scale_factor = nn_alloc((size_t)d, sizeof(double));
    int ok = ds->train_index && ds->test_index && ds->scale_offset && ds->scale_factor;
    if (ok && ds->n_val) ok = (ds->val_index = nn_alloc((size_t)ds->n_val, sizeof(int32_t))) != NULL;
    if (ok && !own_rows) {
        ds->x_train = nn_alloc((size_t)ds->n_train * d, sizeof(float));
        ds->y_train = nn_alloc((size_t)ds->n_train, sizeof(int32_t));
        ds->x_test = nn_alloc((size_t)ds->n_test * d, sizeof(float));
        ds->y_test = nn_alloc((size_t)ds->n_test, sizeof(int32_t));
        ok = ds->x_train && ds->y_train && ds->x_test && ds->y_test;
    }
    if (ok && !own_rows && ds->n_val) {
        ds->x_val = nn_alloc((size_t)ds->n_val * d, sizeof(float));
        ds->y_val = nn_alloc((size_t)ds->n_val, sizeof(int32_t));
        ok = ds->x_val && ds->y_val;
    }
    if (ok && sp->n_folds) {
        ds->n_pool = sp->n_pool;
        ds->pool_index = nn_alloc((size_t)sp->n_pool, sizeof(int32_t));
        ds->pool_fold = nn_alloc((size_t)sp->n_pool, sizeof(int8_t));
        ok = ds->pool_index && ds->pool_fold;
        if (ok) {
            memcpy(ds->pool_index, sp->pool, (size_t)sp->n_pool * sizeof(int32_t));
            memcpy(ds->pool_fold, sp->role, (size_t)sp->n_pool);
        }
    }
    if (ok && sp->rows->class_names) ok = (ds->class_names = copy_names(sp->rows->class_names, sp->n_classes)) != NULL;
    if (!ok) {
        data_free(ds);
        return NULL;
    }
    for (int i = 0, t = 0, v = 0; i < sp->n_pool; i++) {
        if (sp->role[i] == val_role) ds->val_index[v++] = sp->pool[i];
        else ds->train_index[t++] = sp->pool[i];
    }
    memcpy(ds->test_index, sp->test_index, (size_t)sp->n_test * sizeof(int32_t));
    if (own_rows) {
        if (take_rows(ds, own_rows, own_test)) {
            data_free(ds);
            return NULL;
        }
    } else {
        gather(ds->x_train, ds->y_train, sp->rows, ds->train_index, ds->n_train);
        if (ds->n_val) gather(ds->x_val, ds->y_val, sp->rows, ds->val_index, ds->n_val);
        gather(ds->x_test, ds->y_test, sp->test, ds->test_index, ds->n_test);
    }
    scale_features(ds, c->scale);
    return ds;
}

/* The hash of the rows loaded: features, labels and class names of the
 * rows, then of the test file's. */
static uint64_t rows_hash(uint64_t h, const DataRows *r)
{
    int32_t shape[2] = {r->n, r->d};
    h = nn_fnv1a_more(h, shape, sizeof shape);
    h = nn_fnv1a_more(h, r->x, (size_t)r->n * (size_t)r->d * sizeof(float));
    h = nn_fnv1a_more(h, r->y, (size_t)r->n * sizeof(int32_t));
    for (int i = 0; i < r->n_class_names; i++) h = nn_fnv1a_more(h, r->class_names[i], strlen(r->class_names[i]) + 1);
    return h;
}

/* The test set: a seeded share of the rows (sp->test == rows), or the test
 * file's rows in file order. The rest (all rows with a test file) is the
 * pool, in split order: the permutation's, or the file's. */
static int split_test(Split *sp, const DataConfig *c, const char *name, int32_t *perm, unsigned char *chosen,
                      char *err)
{
    const DataRows *rows = sp->rows;
    int n = rows->n;
    if (sp->test != rows) {
        sp->n_test = sp->test->n;
        sp->n_pool = n;
        for (int i = 0; i < sp->n_test; i++) sp->test_index[i] = i;
        for (int i = 0; i < n; i++) sp->pool[i] = i;
        return 0;
    }
    int n_test = (int)ceil(c->test_fraction * n);
    if (n_test < 1 || n_test >= n)
        return nn_errf(err, "%s: test_fraction %g of %d rows leaves an empty split (%d test, %d training)", name,
                       c->test_fraction, n, n_test, n - n_test);
    Rng rng;
    rng_stream(&rng, (uint64_t)c->split_seed, RNG_SPLIT);
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_shuffle(&rng, perm, n);
    if (choose_rows(perm, n, rows->y, sp->n_classes, n_test, c->stratify, chosen))
        return nn_errf(err, "out of memory splitting %d rows", n);
    for (int i = 0; i < n; i++) {
        if (chosen[i]) sp->test_index[sp->n_test++] = perm[i];
        else sp->pool[sp->n_pool++] = perm[i];
    }
    return 0;
}

/* Validation rows or folds within the pool. Rows are taken in the pool's
 * order when it is a seeded permutation; a pool in file order is first
 * permuted from split_seed, so that validation is a random share. */
static int split_validation(Split *sp, const DataConfig *c, const char *name, int32_t *order, unsigned char *chosen,
                            char *err)
{
    int n = sp->n_pool;
    for (int i = 0; i < n; i++) sp->role[i] = ROLE_TRAIN;
    if (!data_has_validation(c)) return 0;
    int32_t *pos = nn_alloc((size_t)n, sizeof(int32_t)), *rows_in_order = order;
    int8_t *fold = nn_alloc((size_t)n, sizeof(int8_t));
    if (!pos || !fold) {
        free(pos);
        free(fold);
        return nn_errf(err, "out of memory splitting %d rows", n);
    }
    for (int i = 0; i < n; i++) pos[i] = i;
    if (sp->test != sp->rows) {
        Rng rng;
        rng_stream(&rng, (uint64_t)c->split_seed, RNG_SPLIT);
        rng_shuffle(&rng, pos, n);
    }
    for (int i = 0; i < n; i++) rows_in_order[i] = sp->pool[pos[i]];
    int rc = 0;
    if (c->folds >= 2) {
        if (c->folds > n)
            rc = nn_errf(err, "%s: dataset.folds %d but only %d training rows", name, c->folds, n);
        else if (deal_folds(rows_in_order, n, sp->rows->y, sp->n_classes, c->folds, c->stratify, fold))
            rc = nn_errf(err, "out of memory splitting %d rows", n);
        for (int i = 0; i < n && !rc; i++) sp->role[pos[i]] = fold[i];
        sp->n_folds = c->folds;
    } else {
        int n_val = (int)ceil(c->validation_fraction * n);
        if (n_val < 1 || n_val >= n)
            rc = nn_errf(err, "%s: validation_fraction %g of %d training rows leaves an empty split (%d validation, "
                         "%d training)", name, c->validation_fraction, n, n_val, n - n_val);
        else if (choose_rows(rows_in_order, n, sp->rows->y, sp->n_classes, n_val, c->stratify, chosen))
            rc = nn_errf(err, "out of memory splitting %d rows", n);
        for (int i = 0; i < n && !rc; i++)
            if (chosen[i]) sp->role[pos[i]] = ROLE_VAL;
    }
    free(pos);
    free(fold);
    return rc;
}

/* Number the test file's class names as the training file's (sorted names
 * of the training file); a name that is not there is an error. */
static int align_test_names(DataRows *test, const DataRows *rows, const char *test_name, char *err)
{
    if (!rows->class_names && !test->class_names) return 0;
    if (!rows->class_names || !test->class_names)
        return nn_errf(err, "%s: labels are class %s, but the training file's are class %s", test_name,
                       test->class_names ? "names" : "numbers", rows->class_names ? "names" : "numbers");
    int *map = nn_alloc((size_t)test->n_class_names, sizeof(int));
    if (!map) return nn_errf(err, "%s: out of memory", test_name);
    for (int k = 0; k < test->n_class_names; k++) {
        map[k] = -1;
        for (int j = 0; j < rows->n_class_names && map[k] < 0; j++)
            if (!strcmp(test->class_names[k], rows->class_names[j])) map[k] = j;
        if (map[k] < 0) {
            nn_errf(err, "%s: class '%.60s' does not occur in the training file", test_name, test->class_names[k]);
            free(map);
            return -1;
        }
    }
    for (int i = 0; i < test->n; i++) test->y[i] = map[test->y[i]];
    free(map);
    return 0;
}

/* Split rows (and the test file's rows, when test is not NULL) into the
 * views of c: out[0 .. data_n_sets(c) - 1]. rows and test stay the
 * caller's to free, but a single view takes their arrays (left NULL). */
static int build_views(Dataset **out, DataRows *rows, DataRows *test, const DataConfig *c, const char *name,
                       char *err)
{
    Split sp;
    memset(&sp, 0, sizeof sp);
    sp.rows = rows;
    sp.test = test ? test : rows;
    if (test && test->d != rows->d)
        return nn_errf(err, "%s: %d features, but %s has %d", c->test_path[0] ? c->test_path : name, test->d, name,
                       rows->d);
    int max_label = 0;
    for (int i = 0; i < rows->n; i++) max_label = rows->y[i] > max_label ? rows->y[i] : max_label;
    for (int i = 0; test && i < test->n; i++) max_label = test->y[i] > max_label ? test->y[i] : max_label;
    sp.n_classes = max_label + 1;
    if (sp.n_classes < 2) {
        if (rows->class_names)
            return nn_errf(err, "%s: every label is '%s'; need at least 2 classes", name, rows->class_names[0]);
        return nn_errf(err, "%s: every label is 0; need at least 2 classes", name);
    }
    int n = rows->n, n_sets = data_n_sets(c), rc = -1;
    sp.test_index = nn_alloc((size_t)sp.test->n, sizeof(int32_t));
    sp.pool = nn_alloc((size_t)n, sizeof(int32_t));
    sp.role = nn_alloc((size_t)n, sizeof(int8_t));
    int32_t *scratch = nn_alloc((size_t)n, sizeof(int32_t));
    unsigned char *chosen = nn_alloc((size_t)n, 1);
    uint64_t hash = rows_hash(NN_FNV1A_BASIS, rows);
    if (test) hash = rows_hash(hash, test);
    if (!sp.test_index || !sp.pool || !sp.role || !scratch || !chosen) {
        nn_errf(err, "out of memory splitting %d rows of %d features", n, rows->d);
        goto done;
    }
    if (split_test(&sp, c, name, scratch, chosen, err) || split_validation(&sp, c, name, scratch, chosen, err))
        goto done;
    for (int k = 0; k < n_sets; k++) out[k] = NULL;
    for (int k = 0; k < n_sets; k++) {
        int only = n_sets == 1; /* the only view takes the rows loaded */
        if (!(out[k] = view_create(&sp, c, k, only ? rows : NULL, only ? test : NULL))) {
            for (int j = 0; j <= k; j++) data_free(out[j]), out[j] = NULL;
            nn_errf(err, "out of memory splitting %d rows of %d features", n, rows->d);
            goto done;
        }
        out[k]->hash = hash;
    }
    rc = 0;
done:
    free(sp.test_index);
    free(sp.pool);
    free(sp.role);
    free(scratch);
    free(chosen);
    return rc;
}
static int load_digits(DataRows *rows, char *err)
{
    char *text = NULL;
    size_t len = 0;
    const char *name = "digits.csv.gz (built in)";
    if (gunzip(&text, &len, nnlab_digits_csv_gz, nnlab_digits_csv_gz_len, name, err)) return -1;
    int rc = data_parse_csv(rows, text, len, 0, -1, name, err);
    free(text);
    return rc;
}

/* A folder where a data file is wanted: said as such, where zlib would
 * report corrupt gzip data and HDF5 not an HDF5 file. */
static int is_folder(const char *path, char *err)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    nn_errf(err, "%s: cannot read: %s", path, strerror(EISDIR));
    return 1;
}

/* A whole file, gzip-compressed or not (zlib reads both), NUL-terminated. */
static int read_all(const char *path, char **out, size_t *out_len, char *err)
{
    if (is_folder(path, err)) return -1;
    gzFile f = gzopen(path, "rb");
    if (!f) return nn_errf(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    int n = 0;
    while (buf && (n = gzread(f, buf + len, (unsigned)(cap - len - 1))) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *grown = cap < ((size_t)1 << 40) ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    int bad = n < 0;
    gzclose(f);
    if (!buf) return nn_errf(err, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return nn_errf(err, "%s: corrupt or truncated gzip data", path);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int load_csv(const DataConfig *c, DataRows *rows, char *err)
{
    char *text = NULL;
    size_t len = 0;
    if (read_all(c->path, &text, &len, err)) return -1;
    int rc = data_parse_csv(rows, text, len, c->header, c->label_column, c->path, err);
    free(text);
    return rc;
}

/* ---- HDF5: features (n, d) and labels (n) from two named datasets ------ */

/* Open dataset `name` of file f and check its rank; dims out. */
/* Appends a root-level name of an HDF5 file to the list in op. */
static herr_t list_name(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g, (void)info;
    char *list = op;
    size_t len = strlen(list);
    if (len > 200) return 1; /* enough to recognise the file */
    snprintf(list + len, 256 - len, "%s'%.60s'", len ? ", " : "", name);
    return 0;
}

/* The named dataset of rank `rank` (or (rows, 1) for rank 1), holding numbers. */
static hid_t h5_open(hid_t f, const char *path, const char *name, int rank, hsize_t *dims, char *err)
{
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        char names[256] = "";
        H5Literate(f, H5_INDEX_NAME, H5_ITER_INC, NULL, list_name, names);
        nn_errf(err, "%s: no dataset '%s' (at the top level: %s)", path, name, *names ? names : "nothing");
        return -1;
    }
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) {
        hid_t g = H5Gopen2(f, name, H5P_DEFAULT);
        if (g >= 0) H5Gclose(g);
        nn_errf(err, "%s: '%s' is %s, not a dataset", path, name, g >= 0 ? "a group" : "no dataset");
        return -1;
    }
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    H5T_class_t cls = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    int r = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (r == rank || (rank == 1 && r == 2)) H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        H5Dclose(d);
        nn_errf(err, "%s: dataset '%s' holds %s, not numbers", path, name,
                cls == H5T_STRING ? "strings" : cls == H5T_COMPOUND ? "records (a compound type)" : "other values");
        return -1;
    }
    if (r != rank && !(rank == 1 && r == 2 && dims[1] == 1)) {
        H5Dclose(d);
        nn_errf(err, "%s: dataset '%s' has %d dimensions, expected %s", path, name, r,
                rank == 2 ? "2 (rows, features)" : "1 (rows)");
        return -1;
    }
    return d;
}

/* The features of dataset x (rows->n, rows->d) into rows->x: read as
 * doubles, a block of rows at a time, so that a value beyond float range is
 * an error naming its row and column rather than whatever HDF5's conversion
 * to float makes of it (inf, or FLT_MAX in some versions). */
static int read_features(hid_t x, const char *path, const char *name, DataRows *rows, char *err)
{
    size_t n = (size_t)rows->n, d = (size_t)rows->d, block = d >= 65536 ? 1 : 65536 / d;
    double *buf = nn_alloc(block * d, sizeof *buf);
    hid_t file_space = H5Dget_space(x);
    int rc = buf && file_space >= 0 ? 0 : nn_errf(err, "%s: out of memory reading '%s'", path, name);
    for (size_t r0 = 0; r0 < n && !rc; r0 += block) {
        hsize_t start[2] = {r0, 0}, count[2] = {n - r0 < block ? n - r0 : block, d};
        hid_t mem_space = H5Screate_simple(2, count, NULL);
        if (mem_space < 0 || H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(x, H5T_NATIVE_DOUBLE, mem_space, file_space, H5P_DEFAULT, buf) < 0)
            rc = nn_errf(err, "%s: cannot read '%s' as numbers", path, name);
        if (mem_space >= 0) H5Sclose(mem_space);
        for (size_t i = 0; i < count[0] * d && !rc; i++) {
            double v = buf[i];
            if (!isfinite(v))
                rc = nn_errf(err, "%s: '%s' row %zu has a value that is not finite", path, name, r0 + i / d);
            else if (!(fabs(v) <= FLT_MAX))
                rc = nn_errf(err, "%s: '%s' row %zu, column %zu: %g is not a number in float range (up to %.1e)",
                             path, name, r0 + i / d, i % d, v, FLT_MAX);
            else
                rows->x[r0 * d + i] = (float)v;
        }
    }
    if (file_space >= 0) H5Sclose(file_space);
    free(buf);
    return rc;
}

static int load_hdf5(const DataConfig *c, DataRows *rows, char *err)
{
    memset(rows, 0, sizeof *rows);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(c->path, R_OK) != 0) return nn_errf(err, "%s: cannot open: %s", c->path, strerror(errno));
    if (is_folder(c->path, err)) return -1;
    hid_t f = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return nn_errf(err, "%s: not an HDF5 file", c->path);
    hsize_t xd[2] = {0, 0}, yd[2] = {0, 1};
    hid_t x = h5_open(f, c->path, c->x, 2, xd, err), y = x < 0 ? -1 : h5_open(f, c->path, c->y, 1, yd, err);
    double *labels = NULL;
    int rc = -1;
    if (y < 0) goto done;
    if (xd[0] != yd[0]) {
        nn_errf(err, "%s: '%s' has %llu rows but '%s' has %llu", c->path, c->x, (unsigned long long)xd[0], c->y,
                (unsigned long long)yd[0]);
        goto done;
    }
    if (xd[0] < 2 || xd[1] < 1 || xd[0] > INT32_MAX || xd[1] > INT32_MAX) {
        nn_errf(err, "%s: '%s' has shape (%llu, %llu)", c->path, c->x, (unsigned long long)xd[0],
                (unsigned long long)xd[1]);
        goto done;
    }
    rows->n = (int)xd[0];
    rows->d = (int)xd[1];
    rows->x = nn_alloc((size_t)xd[0] * (size_t)xd[1], sizeof(float));
    rows->y = nn_alloc((size_t)xd[0], sizeof(int32_t));
    labels = nn_alloc((size_t)xd[0], sizeof(double));
    if (!rows->x || !rows->y || !labels) {
        nn_errf(err, "%s: out of memory for %llu x %llu values", c->path, (unsigned long long)xd[0],
                (unsigned long long)xd[1]);
        goto done;
    }
    if (read_features(x, c->path, c->x, rows, err)) goto done;
    if (H5Dread(y, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0) {
        nn_errf(err, "%s: cannot read '%s' as numbers", c->path, c->y);
        goto done;
    }
    for (int i = 0; i < rows->n; i++) {
        if (!(labels[i] >= 0 && labels[i] <= 1e6 && labels[i] == floor(labels[i]))) {
            nn_errf(err, "%s: '%s' row %d: label %g is not an integer in 0..1000000", c->path, c->y, i, labels[i]);
            goto done;
        }
        rows->y[i] = (int32_t)labels[i];
    }
    rc = 0;
done:
    free(labels);
    if (y >= 0) H5Dclose(y);
    if (x >= 0) H5Dclose(x);
    H5Fclose(f);
    if (rc) data_rows_free(rows);
    return rc;
}

/* ---- IDX (MNIST format): train and t10k files of a folder --------------- */

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* "<folder>/<stem>.gz" if it exists, else "<folder>/<stem>". */
static void idx_path(char *out, size_t cap, const char *folder, const char *stem)
{
    snprintf(out, cap, "%s/%s.gz", folder, stem);
    if (access(out, F_OK) != 0) snprintf(out, cap, "%s/%s", folder, stem);
}

/* Read an IDX header: unsigned bytes, `dims` dimensions; sizes out. */
static gzFile idx_open(const char *path, int dims, uint32_t *size, char *err)
{
    if (is_folder(path, err)) return NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        nn_errf(err, "%s: cannot open: %s", path, errno ? strerror(errno) : "zlib error");
        return NULL;
    }
    unsigned char head[4 + 12];
    int want = 4 + 4 * dims;
    int got = gzread(f, head, (unsigned)want);
    if (got != want || head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != dims) {
        nn_errf(err, "%s: not an IDX file of unsigned bytes with %d dimensions (magic %02x%02x%02x%02x)", path, dims,
                got > 0 ? head[0] : 0, got > 1 ? head[1] : 0, got > 2 ? head[2] : 0, got > 3 ? head[3] : 0);
        gzclose(f);
        return NULL;
    }
    for (int i = 0; i < dims; i++) size[i] = be32(head + 4 + 4 * i);
    return f;
}

/* One split: images (n, rows, cols) and labels (n) into x (n, d) and y (n). */
static int idx_split(const char *folder, const char *prefix, float **x, int32_t **y, int *n_out, int *d_out,
                     char *err)
{
    char ipath[DATA_PATH_LEN + 64], lpath[DATA_PATH_LEN + 64], stem[64];
    snprintf(stem, sizeof stem, "%s-images-idx3-ubyte", prefix);
    idx_path(ipath, sizeof ipath, folder, stem);
    snprintf(stem, sizeof stem, "%s-labels-idx1-ubyte", prefix);
    idx_path(lpath, sizeof lpath, folder, stem);
    uint32_t isz[3], lsz[1];
    gzFile fi = idx_open(ipath, 3, isz, err);
    gzFile fl = fi ? idx_open(lpath, 1, lsz, err) : NULL;
    unsigned char *row = NULL;
    int rc = -1;
    if (!fl) goto done;
    if (isz[0] != lsz[0]) {
        nn_errf(err, "%s: %u images but %s has %u labels", ipath, isz[0], lpath, lsz[0]);
        goto done;
    }
    size_t d = (size_t)isz[1] * isz[2];
    if (isz[0] < 1 || d < 1 || isz[0] > INT32_MAX || d > (1u << 24)) {
        nn_errf(err, "%s: implausible shape %u x %u x %u", ipath, isz[0], isz[1], isz[2]);
        goto done;
    }
    *x = nn_alloc((size_t)isz[0] * d, sizeof(float));
    *y = nn_alloc(isz[0], sizeof(int32_t));
    row = malloc(d > isz[0] ? d : isz[0]);
    if (!*x || !*y || !row) {
        nn_errf(err, "%s: out of memory for %u images", ipath, isz[0]);
        goto done;
    }
    for (uint32_t i = 0; i < isz[0]; i++) {
        if (gzread(fi, row, (unsigned)d) != (int)d) {
            nn_errf(err, "%s: truncated: image %u of %u is missing", ipath, i + 1, isz[0]);
            goto done;
        }
        for (size_t j = 0; j < d; j++) (*x)[(size_t)i * d + j] = row[j];
    }
    if (gzread(fl, row, isz[0]) != (int)isz[0]) {
        nn_errf(err, "%s: truncated: fewer than %u labels", lpath, isz[0]);
        goto done;
    }
    for (uint32_t i = 0; i < isz[0]; i++) (*y)[i] = row[i];
    *n_out = (int)isz[0];
    *d_out = (int)d;
    rc = 0;
done:
    free(row);
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    return rc;
}

/* An IDX folder's train or t10k files as rows. */
static int idx_rows(const char *folder, const char *prefix, DataRows *rows, char *err)
{
    memset(rows, 0, sizeof *rows);
    return idx_split(folder, prefix, &rows->x, &rows->y, &rows->n, &rows->d, err);
}

/* An IDX folder: its own test files are the test set. */
static int idx_check_folder(const DataConfig *c, char *err)
{
    struct stat st;
    if (stat(c->path, &st) != 0) {
        int missing = errno == ENOENT, debian = !strncmp(c->path, "/usr/share/datasets/", 20);
        return nn_errf(err, "%s: cannot open: %s%s", c->path, strerror(errno),
                       missing && debian ? " (Debian's data set packages install there: Fashion-MNIST is "
                                           "dataset-fashion-mnist, which scripts/install-deps.sh --bench installs)"
                                         : "");
    }
    if (!S_ISDIR(st.st_mode))
        return nn_errf(err, "%s: not a folder; source: idx takes the folder of the four IDX files", c->path);
    return 0;
}

/* The rows of one file of c's source (path: the data file, or the test file). */
static int load_source_rows(const DataConfig *c, const char *path, DataRows *rows, char *err)
{
    DataConfig one = *c;
    snprintf(one.path, sizeof one.path, "%s", path);
    switch (c->source) {
    case DATA_DIGITS: return load_digits(rows, err);
    case DATA_CSV: return load_csv(&one, rows, err);
    case DATA_HDF5: return load_hdf5(&one, rows, err);
    case DATA_IDX: return idx_check_folder(&one, err) || idx_rows(path, "t10k", rows, err) ? -1 : 0;
    default: return nn_errf(err, "unknown data source %d", c->source);
    }
}

int data_load_rows(const DataConfig *c, DataRows *rows, char *err)
{
    memset(rows, 0, sizeof *rows);
    return load_source_rows(c, c->path, rows, err);
}

int data_load(const DataConfig *c, Dataset **out, char *err)
{
    DataRows rows, test;
    memset(&rows, 0, sizeof rows);
    memset(&test, 0, sizeof test);
    for (int k = 0; k < data_n_sets(c); k++) out[k] = NULL;
    const char *name = c->source == DATA_DIGITS ? "digits (built in)" : c->path;
    int has_test = c->source == DATA_IDX || c->test_path[0], rc;
    if (c->source == DATA_IDX)
        rc = idx_check_folder(c, err) || idx_rows(c->path, "train", &rows, err) || idx_rows(c->path, "t10k", &test, err)
                 ? -1
                 : 0;
    else
        rc = load_source_rows(c, c->path, &rows, err) ||
                     (has_test && (load_source_rows(c, c->test_path, &test, err) ||
                                   align_test_names(&test, &rows, c->test_path, err)))
                 ? -1
                 : 0;
    if (rc == 0 && c->source == DATA_IDX && test.d != rows.d)
        rc = nn_errf(err, "%s: training images have %d pixels, test images %d", c->path, rows.d, test.d);
    if (rc == 0) rc = build_views(out, &rows, has_test ? &test : NULL, c, name, err);
    data_rows_free(&rows);
    data_rows_free(&test);
    return rc;
}

/* ---- warnings: data that loads, but is probably not what was meant ------ */

/* Appends one line (printf-style, "\n" added) to buf; a line cut at cap
 * still ends in "\n". */
static void add_line(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void add_line(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strnlen(buf, cap);
    if (len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    len = strnlen(buf, cap);
    if (len + 1 >= cap) len = cap - 2; /* cut: the line's last character gives way to its end */
    buf[len] = '\n', buf[len + 1] = '\0';
}

/* The rows of a view, train, validation and test: every row loaded. */
typedef struct {
    const float *x;
    const int32_t *y;
    int n;
} Block;

static void view_blocks(const Dataset *d, Block b[3])
{
    b[0] = (Block){d->x_train, d->y_train, d->n_train};
    b[1] = (Block){d->x_val, d->y_val, d->n_val};
    b[2] = (Block){d->x_test, d->y_test, d->n_test};
}

/* "labels are 1..3: class 0 has no rows; classes are 0..max label": class
 * numbers that no row has (class names are numbered without gaps). */
static int warn_empty_classes(const Dataset *d, const char *name, char *buf, size_t cap)
{
    if (d->class_names) return 0;
    int *count = nn_calloc((size_t)d->n_classes, sizeof(int));
    if (!count) return 0;
    Block b[3];
    view_blocks(d, b);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < b[k].n; i++) count[b[k].y[i]]++;
    int lo = 0, empty = 0, shown[8];
    while (lo < d->n_classes && !count[lo]) lo++;
    for (int c = 0; c < d->n_classes; c++)
        if (!count[c] && empty++ < 8) shown[empty - 1] = c;
    free(count);
    if (!empty) return 0;
    char list[256] = ""; /* "0", "0 and 2", "0, 2 and 5", "0, 2, ..., 13 and 4 more" */
    int n_shown = empty < 8 ? empty : 8;
    for (int i = 0; i < n_shown; i++) {
        size_t len = strlen(list);
        const char *sep = i == 0 ? "" : i == n_shown - 1 && empty == n_shown ? " and " : ", ";
        snprintf(list + len, sizeof list - len, "%s%d", sep, shown[i]);
    }
    if (empty > n_shown) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, " and %d more", empty - n_shown);
    }
    add_line(buf, cap, "%s: warning: labels are %d..%d: class%s %s %s no rows; classes are 0..max label", name, lo,
             d->n_classes - 1, empty > 1 ? "es" : "", list, empty > 1 ? "have" : "has");
    return 1;
}

/* Where feature j is in the source, as its messages say: the CSV's column
 * (1-based, the label column skipped), the HDF5 dataset's column (0-based). */
static void feature_place(char *out, size_t cap, const DataConfig *c, int j)
{
    if (c->source == DATA_CSV)
        snprintf(out, cap, "column %d", c->label_column >= 0 && j >= c->label_column ? j + 2 : j + 1);
    else if (c->source == DATA_HDF5)
        snprintf(out, cap, "%s[:, %d]", c->x, j);
    else
        snprintf(out, cap, "feature %d", j);
}

/* With dataset.scale: none, features whose ranges differ over
 * DATA_RANGE_RATIO-fold: the widest and the narrowest (constant features
 * left out), and how many are that much narrower than the widest. The
 * ranges are the raw values', whatever scaler d has: x = x'/factor + offset,
 * factor > 0, so a view scaled otherwise answers for scale: none too. */
#define DATA_RANGE_RATIO 100.0
static int warn_ranges(const Dataset *d, const DataConfig *c, const char *name, char *buf, size_t cap)
{
    int n = d->n_features;
    if (c->scale != SCALE_NONE || n < 2) return 0;
    double *lo = nn_alloc((size_t)n * 2, sizeof(double));
    if (!lo) return 0;
    double *hi = lo + n;
    for (int j = 0; j < n; j++) lo[j] = INFINITY, hi[j] = -INFINITY;
    Block b[3];
    view_blocks(d, b);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < b[k].n; i++)
            for (int j = 0; j < n; j++) {
                double v = b[k].x[(size_t)i * n + j];
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
    for (int j = 0; j < n; j++) {
        lo[j] = lo[j] / d->scale_factor[j] + d->scale_offset[j];
        hi[j] = hi[j] / d->scale_factor[j] + d->scale_offset[j];
    }
    int wide = -1, narrow = -1;
    for (int j = 0; j < n; j++) {
        double r = hi[j] - lo[j];
        if (!(r > 0)) continue; /* constant: standardising leaves it as is */
        if (wide < 0 || r > hi[wide] - lo[wide]) wide = j;
        if (narrow < 0 || r < hi[narrow] - lo[narrow]) narrow = j;
    }
    int warned = 0;
    if (wide >= 0 && hi[wide] - lo[wide] > DATA_RANGE_RATIO * (hi[narrow] - lo[narrow])) {
        double top = hi[wide] - lo[wide];
        int below = 0;
        for (int j = 0; j < n; j++) below += hi[j] > lo[j] && DATA_RANGE_RATIO * (hi[j] - lo[j]) < top;
        char w[DATA_NAME_LEN + 32], s[DATA_NAME_LEN + 32];
        feature_place(w, sizeof w, c, wide);
        feature_place(s, sizeof s, c, narrow);
        add_line(buf, cap, "%s: warning: feature ranges differ over %.0f-fold with dataset.scale: none: %s spans "
                 "%.4g..%.4g, %s only %.4g..%.4g (%d of %d features span%s under 1/%.0f of %s's range); set "
                 "dataset.scale: standard", name, DATA_RANGE_RATIO, w, lo[wide], hi[wide], s, lo[narrow], hi[narrow],
                 below, n, below == 1 ? "s" : "", DATA_RANGE_RATIO, w);
        warned = 1;
    }
    free(lo);
    return warned;
}

int data_warnings(const Dataset *d, const DataConfig *c, char *buf, size_t cap)
{
    if (cap) buf[0] = '\0';
    const char *name = c->source == DATA_DIGITS ? "digits (built in)" : c->path;
    return warn_empty_classes(d, name, buf, cap) + warn_ranges(d, c, name, buf, cap);
}

double data_val_majority_share(Dataset *const *sets, int n_sets)
{
    const Dataset *d = sets[0];
    if (!d->n_val) return NAN;
    int *count = nn_calloc((size_t)d->n_classes, sizeof(int));
    if (!count) return NAN;
    for (int k = 0; k < n_sets; k++)
        for (int i = 0; i < sets[k]->n_val; i++) count[sets[k]->y_val[i]]++;
    int major = 0;
    for (int c = 1; c < d->n_classes; c++) major = count[c] > count[major] ? c : major;
    double sum = 0;
    for (int k = 0; k < n_sets; k++) {
        int m = 0;
        for (int i = 0; i < sets[k]->n_val; i++) m += sets[k]->y_val[i] == major;
        sum += (double)m / sets[k]->n_val; /* as the runs' accuracy: correct / n_val */
    }
    free(count);
    return sum / n_sets;
}
