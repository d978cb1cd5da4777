/* data.c — data sets: the built-in digits (gzip-compressed CSV compiled into
 * the binary), CSV files, HDF5 files and IDX (MNIST-format) folders; the
 * seeded train/test split and scaling. Every defect of a file is reported
 * with the file's name. HDF5 is only called before training starts. */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <errno.h>
#include <math.h>
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

/* The cell as a finite number (spaces around it allowed); 0 if it is not one. */
static int parse_number(const char *cell, int cl, double *v)
{
    char buf[64], *stop;
    if (cl <= 0 || cl >= (int)sizeof buf) return 0;
    memcpy(buf, cell, (size_t)cl);
    buf[cl] = '\0';
    errno = 0;
    *v = strtod(buf, &stop);
    while (*stop == ' ' || *stop == '\t') stop++;
    return stop != buf && *stop == '\0' && errno != ERANGE && isfinite(*v);
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
    if (fields < 2) {
        const char *sep = memchr(first, ';', first_len) ? "';'" : memchr(first, '\t', first_len) ? "tabs" : NULL;
        return nn_errf(err, "%s: line %d: need at least one feature and a label%s%s%s", name, first_data,
                       sep ? " (values are separated by commas; this line has " : "", sep ? sep : "", sep ? ")" : "");
    }
    int label = label_column < 0 ? fields - 1 : label_column;
    if (label >= fields)
        return nn_errf(err, "%s: label_column %d, but line %d has only %d columns", name, label_column, first_data,
                       fields);
    int d = fields - 1;
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
            int ok = parse_number(cell, cl, &v);
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
            } else if (!ok) {
                nn_errf(err, "%s: line %d, column %d: not a finite number: '%.*s'%s", name, line_no, f + 1, shown,
                        cell, line_no == 1 && !header ? " (a header line? set dataset.header: true)" : "");
                goto fail;
            } else {
                rows->x[(size_t)r * (size_t)d + (size_t)j++] = (float)v;
            }
            cell = cell_end + 1;
        }
        r++;
    }
    if (names && number_classes(rows, names, name, err)) goto fail;
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
    free(d->x_train);
    free(d->y_train);
    free(d->x_test);
    free(d->y_test);
    free(d->train_index);
    free(d->test_index);
    free_names(d->class_names, d->n_classes);
    free(d);
}

/* x (n, d) row-major: x[i][j] = (x[i][j] - shift[j]) / div[j]. */
static void apply_scale(float *x, int n, int d, const double *shift, const double *div)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            float *v = &x[(size_t)i * d + j];
            *v = (float)((*v - shift[j]) / div[j]);
        }
}

/* Fit on the training rows, apply to both splits. Constant features are left
 * centred but unscaled (divide by 1), so they never become NaN. Every pass
 * goes through the rows in order, all features at a time: each feature's
 * sums take its values in row order, as one column at a time would, without
 * a cache miss per value (Fashion-MNIST loaded 0.4 s slower that way). */
static int scale_features(Dataset *ds, int how, char *err)
{
    if (how == SCALE_NONE) return 0;
    int d = ds->n_features, n = ds->n_train;
    double *shift = nn_alloc((size_t)d, sizeof(double)), *div = nn_alloc((size_t)d, sizeof(double));
    if (!shift || !div) {
        free(shift);
        free(div);
        return nn_errf(err, "out of memory");
    }
    const float *x = ds->x_train;
    if (how == SCALE_MINMAX) {
        double *lo = shift, *hi = div;
        for (int j = 0; j < d; j++) lo[j] = INFINITY, hi[j] = -INFINITY;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double v = x[(size_t)i * d + j];
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
        for (int j = 0; j < d; j++) div[j] = hi[j] > lo[j] ? hi[j] - lo[j] : 1.0;
    } else {
        double *sum = shift, *sq = div;
        for (int j = 0; j < d; j++) sum[j] = 0, sq[j] = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) sum[j] += x[(size_t)i * d + j];
        for (int j = 0; j < d; j++) shift[j] = sum[j] / n; /* the mean */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double t = x[(size_t)i * d + j] - shift[j];
                sq[j] += t * t;
            }
        for (int j = 0; j < d; j++) {
            double sd = sqrt(sq[j] / n);
            div[j] = sd > 0 ? sd : 1.0;
        }
    }
    apply_scale(ds->x_train, ds->n_train, d, shift, div);
    apply_scale(ds->x_test, ds->n_test, d, shift, div);
    free(shift);
    free(div);
    return 0;
}

/* Split rows into a Dataset (copies; rows stay the caller's). */
static int split_rows(Dataset **out, const DataRows *rows, const DataConfig *c, char *err)
{
    int n = rows->n, d = rows->d;
    int n_test = (int)ceil(c->test_fraction * n);
    const char *name = c->source == DATA_DIGITS ? "digits (built in)" : c->path;
    if (n_test < 1 || n_test >= n)
        return nn_errf(err, "%s: test_fraction %g of %d rows leaves an empty split (%d test, %d training)", name,
                       c->test_fraction, n, n_test, n - n_test);
    Dataset *ds = nn_calloc(1, sizeof *ds);
    int32_t *perm = nn_alloc((size_t)n, sizeof(int32_t));
    if (!ds || !perm) goto oom;
    ds->n_features = d;
    ds->n_test = n_test;
    ds->n_train = n - n_test;
    ds->x_train = nn_alloc((size_t)ds->n_train * d, sizeof(float));
    ds->x_test = nn_alloc((size_t)n_test * d, sizeof(float));
    ds->y_train = nn_alloc((size_t)ds->n_train, sizeof(int32_t));
    ds->y_test = nn_alloc((size_t)n_test, sizeof(int32_t));
    ds->train_index = nn_alloc((size_t)ds->n_train, sizeof(int32_t));
    ds->test_index = nn_alloc((size_t)n_test, sizeof(int32_t));
    if (!ds->x_train || !ds->x_test || !ds->y_train || !ds->y_test || !ds->train_index || !ds->test_index)
        goto oom;

    /* The first n_test rows of a seeded permutation are the test set, the rest
     * the training set, each in permutation order. */
    Rng rng;
    rng_stream(&rng, (uint64_t)c->split_seed, RNG_SPLIT);
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_shuffle(&rng, perm, n);
    int max_label = 0;
    for (int i = 0; i < n; i++) max_label = rows->y[i] > max_label ? rows->y[i] : max_label;
    ds->n_classes = max_label + 1;
    if (ds->n_classes < 2) {
        free(perm);
        data_free(ds);
        if (rows->class_names) return nn_errf(err, "%s: every label is '%s'; need at least 2 classes", name,
                                              rows->class_names[0]);
        return nn_errf(err, "%s: every label is 0; need at least 2 classes", name);
    }
    for (int i = 0; i < n; i++) {
        int is_test = i < n_test;
        int k = is_test ? i : i - n_test;
        float *dst = (is_test ? ds->x_test : ds->x_train) + (size_t)k * d;
        memcpy(dst, rows->x + (size_t)perm[i] * d, (size_t)d * sizeof(float));
        (is_test ? ds->y_test : ds->y_train)[k] = rows->y[perm[i]];
        (is_test ? ds->test_index : ds->train_index)[k] = perm[i];
    }
    free(perm);
    if (scale_features(ds, c->scale, err)) {
        data_free(ds);
        return -1;
    }
    *out = ds;
    return 0;
oom:
    free(perm);
    data_free(ds);
    return nn_errf(err, "out of memory splitting %d rows of %d features", n, d);
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
    if (H5Dread(x, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows->x) < 0 ||
        H5Dread(y, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0) {
        nn_errf(err, "%s: cannot read '%s' and '%s' as numbers", c->path, c->x, c->y);
        goto done;
    }
    for (size_t i = 0; i < (size_t)rows->n * rows->d; i++)
        if (!isfinite(rows->x[i])) {
            nn_errf(err, "%s: '%s' row %zu has a value that is not finite", c->path, c->x, i / (size_t)rows->d);
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

/* IDX sets come with their own test files: no split, test_fraction unused. */
static int load_idx(const DataConfig *c, Dataset **out, char *err)
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
    Dataset *ds = nn_calloc(1, sizeof *ds);
    if (!ds) return nn_errf(err, "out of memory");
    int d_test = 0;
    if (idx_split(c->path, "train", &ds->x_train, &ds->y_train, &ds->n_train, &ds->n_features, err) ||
        idx_split(c->path, "t10k", &ds->x_test, &ds->y_test, &ds->n_test, &d_test, err))
        goto fail;
    if (d_test != ds->n_features) {
        nn_errf(err, "%s: training images have %d pixels, test images %d", c->path, ds->n_features, d_test);
        goto fail;
    }
    ds->train_index = nn_alloc((size_t)ds->n_train, sizeof(int32_t));
    ds->test_index = nn_alloc((size_t)ds->n_test, sizeof(int32_t));
    if (!ds->train_index || !ds->test_index) {
        nn_errf(err, "out of memory");
        goto fail;
    }
    int max_label = 0;
    for (int i = 0; i < ds->n_train; i++) {
        ds->train_index[i] = i;
        max_label = ds->y_train[i] > max_label ? ds->y_train[i] : max_label;
    }
    for (int i = 0; i < ds->n_test; i++) {
        ds->test_index[i] = i;
        max_label = ds->y_test[i] > max_label ? ds->y_test[i] : max_label;
    }
    ds->n_classes = max_label + 1;
    if (ds->n_classes < 2) {
        nn_errf(err, "%s: every label is 0; need at least 2 classes", c->path);
        goto fail;
    }
    if (scale_features(ds, c->scale, err)) goto fail;
    *out = ds;
    return 0;
fail:
    data_free(ds);
    return -1;
}

int data_load(const DataConfig *c, Dataset **out, char *err)
{
    DataRows rows;
    memset(&rows, 0, sizeof rows);
    *out = NULL;
    int rc;
    switch (c->source) {
    case DATA_DIGITS: rc = load_digits(&rows, err); break;
    case DATA_CSV: rc = load_csv(c, &rows, err); break;
    case DATA_HDF5: rc = load_hdf5(c, &rows, err); break;
    case DATA_IDX: return load_idx(c, out, err);
    default: return nn_errf(err, "unknown data source %d", c->source);
    }
    if (rc == 0) rc = split_rows(out, &rows, c, err);
    if (rc == 0) { /* the names move to the data set */
        (*out)->class_names = rows.class_names;
        rows.class_names = NULL;
    }
    data_rows_free(&rows);
    return rc;
}
