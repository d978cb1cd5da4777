/* data.c — the built-in digits set (gzip-compressed CSV compiled into the
 * binary), CSV parsing, the seeded train/test split and scaling. */
#include "data.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nnlab.h"
#include "rng.h"

extern const unsigned char nnlab_digits_csv_gz[];
extern const size_t nnlab_digits_csv_gz_len;

const char *const data_source_names[] = {"digits", NULL};
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

void data_rows_free(DataRows *rows)
{
    if (!rows) return;
    free(rows->x);
    free(rows->y);
    memset(rows, 0, sizeof *rows);
}

/* Count the fields of the first line and the non-empty lines. */
static void csv_shape(const char *text, size_t len, int *n_lines, int *n_fields)
{
    int lines = 0, fields = 1, first = 1, blank = 1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\n') {
            if (!blank) lines++;
            if (!blank) first = 0;
            blank = 1;
            continue;
        }
        if (c != '\r' && c != ' ') blank = 0;
        if (first && c == ',') fields++;
    }
    if (!blank) lines++;
    *n_lines = lines;
    *n_fields = fields;
}

int data_parse_csv(DataRows *rows, const char *text, size_t len, const char *name, char *err)
{
    memset(rows, 0, sizeof *rows);
    int n, fields;
    csv_shape(text, len, &n, &fields);
    if (n == 0) return nn_errf(err, "%s: no data rows", name);
    if (fields < 2) return nn_errf(err, "%s: line 1: need at least one feature and a label", name);
    int d = fields - 1;
    rows->x = nn_alloc((size_t)n * (size_t)d, sizeof(float));
    rows->y = nn_alloc((size_t)n, sizeof(int32_t));
    if (!rows->x || !rows->y) {
        data_rows_free(rows);
        return nn_errf(err, "%s: out of memory for %d rows", name, n);
    }
    rows->n = n;
    rows->d = d;
    const char *p = text, *end = text + len;
    int line = 0;
    for (int r = 0; r < n; r++) {
        /* skip blank lines */
        for (;;) {
            line++;
            const char *q = p;
            while (q < end && (*q == ' ' || *q == '\r')) q++;
            if (q < end && *q == '\n') { p = q + 1; continue; }
            break;
        }
        for (int f = 0; f < fields; f++) {
            char *stop;
            errno = 0;
            double v = strtod(p, &stop);
            const char *cell_end = p;
            while (cell_end < end && *cell_end != ',' && *cell_end != '\n' && *cell_end != '\r') cell_end++;
            int cell_len = (int)(cell_end - p);
            const char *s = stop;
            while (s < cell_end && *s == ' ') s++;
            if (stop == p || s != cell_end || errno == ERANGE || !isfinite(v)) {
                data_rows_free(rows);
                return nn_errf(err, "%s: line %d, column %d: not a finite number: '%.*s'", name, line,
                               f + 1, cell_len > 40 ? 40 : cell_len, p);
            }
            int last = (f == fields - 1);
            if (!last && (cell_end >= end || *cell_end != ',')) {
                data_rows_free(rows);
                return nn_errf(err, "%s: line %d: %d fields, expected %d", name, line, f + 1, fields);
            }
            if (last) {
                if (cell_end < end && *cell_end == ',') {
                    data_rows_free(rows);
                    return nn_errf(err, "%s: line %d: more than %d fields", name, line, fields);
                }
                if (v < 0 || v != floor(v) || v > 1e6) {
                    data_rows_free(rows);
                    return nn_errf(err, "%s: line %d: label '%.*s' is not an integer in 0..1000000", name,
                                   line, cell_len > 40 ? 40 : cell_len, p);
                }
                rows->y[r] = (int32_t)v;
            } else {
                rows->x[(size_t)r * (size_t)d + (size_t)f] = (float)v;
            }
            p = cell_end < end ? cell_end + 1 : end;
            if (last && cell_end < end && *cell_end == '\r' && p < end && *p == '\n') p++;
        }
    }
    return 0;
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
    free(d);
}

/* Fit on the training rows, apply to both splits. Constant features are left
 * centred but unscaled (divide by 1), so they never become NaN. */
static void scale_features(Dataset *ds, int how)
{
    if (how == SCALE_NONE) return;
    int d = ds->n_features;
    for (int j = 0; j < d; j++) {
        double shift, div;
        if (how == SCALE_MINMAX) {
            double lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < ds->n_train; i++) {
                double v = ds->x_train[(size_t)i * d + j];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
            shift = lo;
            div = hi > lo ? hi - lo : 1.0;
        } else {
            double sum = 0, sq = 0;
            for (int i = 0; i < ds->n_train; i++) sum += ds->x_train[(size_t)i * d + j];
            double mean = sum / ds->n_train;
            for (int i = 0; i < ds->n_train; i++) {
                double t = ds->x_train[(size_t)i * d + j] - mean;
                sq += t * t;
            }
            double sd = sqrt(sq / ds->n_train);
            shift = mean;
            div = sd > 0 ? sd : 1.0;
        }
        for (int i = 0; i < ds->n_train; i++) {
            float *v = &ds->x_train[(size_t)i * d + j];
            *v = (float)((*v - shift) / div);
        }
        for (int i = 0; i < ds->n_test; i++) {
            float *v = &ds->x_test[(size_t)i * d + j];
            *v = (float)((*v - shift) / div);
        }
    }
}

int data_split(Dataset **out, const DataRows *rows, const DataConfig *c, char *err)
{
    int n = rows->n, d = rows->d;
    int n_test = (int)ceil(c->test_fraction * n);
    if (n_test < 1 || n_test >= n)
        return nn_errf(err, "test_fraction %g of %d rows leaves an empty split", c->test_fraction, n);
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
    for (int i = 0; i < n; i++) {
        int is_test = i < n_test;
        int k = is_test ? i : i - n_test;
        float *dst = (is_test ? ds->x_test : ds->x_train) + (size_t)k * d;
        memcpy(dst, rows->x + (size_t)perm[i] * d, (size_t)d * sizeof(float));
        (is_test ? ds->y_test : ds->y_train)[k] = rows->y[perm[i]];
        (is_test ? ds->test_index : ds->train_index)[k] = perm[i];
    }
    free(perm);
    scale_features(ds, c->scale);
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
    if (gunzip(&text, &len, nnlab_digits_csv_gz, nnlab_digits_csv_gz_len, "digits.csv.gz (built in)", err))
        return -1;
    int rc = data_parse_csv(rows, text, len, "digits.csv.gz (built in)", err);
    free(text);
    return rc;
}

int data_load(const DataConfig *c, Dataset **out, char *err)
{
    DataRows rows;
    memset(&rows, 0, sizeof rows);
    *out = NULL;
    int rc;
    switch (c->source) {
    case DATA_DIGITS: rc = load_digits(&rows, err); break;
    default: return nn_errf(err, "unknown data source %d", c->source);
    }
    if (rc == 0) rc = data_split(out, &rows, c, err);
    data_rows_free(&rows);
    return rc;
}
