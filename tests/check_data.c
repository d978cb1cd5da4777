/* check_data.c — the built-in digits, the seeded split, scaling fitted on
 * the training split, and CSV defects named with file and line (values are
 * decimal numbers in float range, in CSV and HDF5 files alike); validation
 * shares and folds (a partition of the training rows, stratified, each
 * with its own scaler), test files, and the data hash. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <float.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data.h"
#include "nnlab.h"

#include "check_main.h"

static Dataset *load(int scale, int64_t split_seed)
{
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .split_seed = split_seed, .scale = scale};
    Dataset *d = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&c, &d, err) == 0, "%s", err);
    return d;
}

START_TEST(digits_shape_and_values)
{
    Dataset *d = load(SCALE_NONE, 0);
    ck_assert_int_eq(d->n_train, 1437);
    ck_assert_int_eq(d->n_test, 360);
    ck_assert_int_eq(d->n_features, 64);
    ck_assert_int_eq(d->n_classes, 10);
    int counts[10] = {0};
    for (int i = 0; i < d->n_train; i++) {
        for (int j = 0; j < 64; j++) {
            float v = d->x_train[(size_t)i * 64 + j];
            ck_assert(v >= 0.0f && v <= 16.0f && v == floorf(v));
        }
        counts[d->y_train[i]]++;
    }
    for (int i = 0; i < d->n_test; i++) counts[d->y_test[i]]++;
    /* load_digits().target's class counts */
    const int want[10] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
    for (int k = 0; k < 10; k++) ck_assert_int_eq(counts[k], want[k]);
    data_free(d);
}
END_TEST

START_TEST(split_is_a_seeded_partition)
{
    Dataset *a = load(SCALE_NONE, 0), *b = load(SCALE_NONE, 0), *c = load(SCALE_NONE, 1);
    int seen[1797] = {0};
    for (int i = 0; i < a->n_train; i++) seen[a->train_index[i]]++;
    for (int i = 0; i < a->n_test; i++) seen[a->test_index[i]]++;
    for (int i = 0; i < 1797; i++) ck_assert_int_eq(seen[i], 1);
    ck_assert_mem_eq(a->train_index, b->train_index, sizeof(int32_t) * 1437);
    ck_assert_mem_eq(a->x_train, b->x_train, sizeof(float) * 1437 * 64);
    ck_assert(memcmp(a->test_index, c->test_index, sizeof(int32_t) * 360) != 0);
    data_free(a);
    data_free(b);
    data_free(c);
}
END_TEST

START_TEST(scaling_is_fitted_on_train)
{
    Dataset *raw = load(SCALE_NONE, 0), *mm = load(SCALE_MINMAX, 0), *st = load(SCALE_STANDARD, 0);
    for (int j = 0; j < 64; j++) {
        double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
        for (int i = 0; i < raw->n_train; i++) {
            double v = raw->x_train[(size_t)i * 64 + j];
            lo = fmin(lo, v), hi = fmax(hi, v), sum += v, sq += v * v;
        }
        double mean = sum / 1437, sd = sqrt(sq / 1437 - mean * mean);
        double mlo = INFINITY, mhi = -INFINITY, ssum = 0, ssq = 0;
        for (int i = 0; i < mm->n_train; i++) {
            mlo = fmin(mlo, mm->x_train[(size_t)i * 64 + j]);
            mhi = fmax(mhi, mm->x_train[(size_t)i * 64 + j]);
            ssum += st->x_train[(size_t)i * 64 + j];
            ssq += (double)st->x_train[(size_t)i * 64 + j] * st->x_train[(size_t)i * 64 + j];
        }
        if (hi > lo) {
            ck_assert_double_eq_tol(mlo, 0.0, 1e-6);
            ck_assert_double_eq_tol(mhi, 1.0, 1e-6);
            ck_assert_double_eq_tol(ssum / 1437, 0.0, 1e-5);
            ck_assert_double_eq_tol(ssq / 1437, 1.0, 1e-4);
        } else {
            ck_assert(mlo == 0.0 && mhi == 0.0); /* a constant pixel stays finite */
        }
        /* The test split uses the training split's parameters. */
        for (int i = 0; i < raw->n_test; i++) {
            double v = raw->x_test[(size_t)i * 64 + j];
            double want_mm = hi > lo ? (v - lo) / (hi - lo) : v - lo;
            double want_st = sd > 0 ? (v - mean) / sd : v - mean;
            ck_assert_double_eq_tol(mm->x_test[(size_t)i * 64 + j], want_mm, 1e-5);
            ck_assert_double_eq_tol(st->x_test[(size_t)i * 64 + j], want_st, 1e-4);
        }
    }
    data_free(raw);
    data_free(mm);
    data_free(st);
}
END_TEST

static void csv_fails(const char *text, const char *want)
{
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(data_parse_csv(&rows, text, strlen(text), 0, -1, "t.csv", err), 0);
    ck_assert_str_eq(err, want);
}

START_TEST(csv_defects_are_named)
{
    csv_fails("1,2,0\n3,x,1\n", "t.csv: line 2, column 2: not a finite number: 'x'");
    csv_fails("1,2,0\n3,1\n", "t.csv: line 2: 2 fields, expected 3");
    csv_fails("1,2,0\n3,4,5,1\n", "t.csv: line 2: 4 fields, expected 3");
    csv_fails("1,2,0\n3,4,1.5\n", "t.csv: line 2: label '1.5' is not an integer in 0..1000000");
    csv_fails("1,2,0\n3,4,-1\n", "t.csv: line 2: label '-1' is not an integer in 0..1000000");
    csv_fails("\n\n", "t.csv: no data rows");
    csv_fails("a,b,label\n1,2,0\n", "t.csv: line 1, column 1: not a finite number: 'a' (a header line? set "
                                      "dataset.header: true)");
    csv_fails("1,2,0\n3,4,cat\n", "t.csv: line 2: label 'cat' is not an integer in 0..1000000 (labels are all class "
                                   "numbers or all class names, as on line 1)");
    csv_fails("1,2,cat\n3,4,0\n", "t.csv: line 2: label '0' is a number, but line 1's is a class name (labels are all "
                                   "class numbers 0, 1, ... or all class names)");
    csv_fails("1,2,cat\n3,4,\n", "t.csv: line 2: the label is empty");
    csv_fails("\n1,2,cat\n3,4, 7 \n", "t.csv: line 3: label '7' is a number, but line 2's is a class name (labels are "
                                      "all class numbers 0, 1, ... or all class names)");
    csv_fails("\n1,2,0\n3,4,cat\n", "t.csv: line 3: label 'cat' is not an integer in 0..1000000 (labels are all class "
                                    "numbers or all class names, as on line 2)");
    csv_fails("\n1;2;0\n3;4;1\n", "t.csv: line 2: need at least one feature and a label (values are separated by "
                                   "commas; this line has ';')");
    csv_fails("1\t2\t0\n", "t.csv: line 1: need at least one feature and a label (values are separated by commas; "
                            "this line has tabs)");
    DataRows rows;
    char err[NN_ERR_LEN];
    const char *ok = "1, 2,0\r\n\n3.5,4e1,1\n";
    ck_assert_int_eq(data_parse_csv(&rows, ok, strlen(ok), 0, -1, "t.csv", err), 0);
    ck_assert_int_eq(rows.n, 2);
    ck_assert_int_eq(rows.d, 2);
    ck_assert(rows.x[2] == 3.5f && rows.x[3] == 40.0f && rows.y[1] == 1);
    ck_assert_ptr_null(rows.class_names);
    data_rows_free(&rows);
    /* Class names: numbered in sorted order, spaces around them ignored. */
    const char *named = "1,2,dog\n3,4,cat\n5,6, dog \n7,8,ant\n";
    ck_assert_int_eq(data_parse_csv(&rows, named, strlen(named), 0, -1, "t.csv", err), 0);
    ck_assert_int_eq(rows.n_class_names, 3);
    ck_assert_str_eq(rows.class_names[0], "ant");
    ck_assert_str_eq(rows.class_names[1], "cat");
    ck_assert_str_eq(rows.class_names[2], "dog");
    const int32_t want_y[4] = {2, 1, 2, 0};
    ck_assert_mem_eq(rows.y, want_y, sizeof want_y);
    ck_assert(rows.x[6] == 7.0f);
    data_rows_free(&rows);
}
END_TEST

/* ---- file sources, on fixtures made here --------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnlab_data_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void make_folder(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    ck_assert_int_eq(mkdir(path, 0700), 0);
}

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* 12 rows: label = row % 3, features row and 2·row. */
static void write_csv(const char *name, int header, int label_first)
{
    char text[2048] = "";
    if (header) strcat(text, label_first ? "label,a,b\n" : "a,b,label\n");
    for (int r = 0; r < 12; r++) {
        char line[64];
        if (label_first) snprintf(line, sizeof line, "%d,%d,%d\n", r % 3, r, 2 * r);
        else snprintf(line, sizeof line, "%d,%d,%d\n", r, 2 * r, r % 3);
        strcat(text, line);
    }
    write_text(name, text);
}

static DataConfig file_config(int source, const char *name)
{
    DataConfig c = {.source = source, .test_fraction = 0.25, .split_seed = 3, .scale = SCALE_NONE,
                    .label_column = -1};
    snprintf(c.path, sizeof c.path, "%s/%s", tmpdir, name);
    snprintf(c.x, sizeof c.x, "X");
    snprintf(c.y, sizeof c.y, "y");
    return c;
}

/* Every row of d is (r, 2r) with label r % 3 for its source row r. */
static void check_rows(const Dataset *d)
{
    ck_assert_int_eq(d->n_train, 9);
    ck_assert_int_eq(d->n_test, 3);
    ck_assert_int_eq(d->n_features, 2);
    ck_assert_int_eq(d->n_classes, 3);
    for (int i = 0; i < d->n_train; i++) {
        int r = d->train_index[i];
        ck_assert(d->x_train[2 * i] == (float)r && d->x_train[2 * i + 1] == (float)(2 * r));
        ck_assert_int_eq(d->y_train[i], r % 3);
    }
}

static void load_ok(const DataConfig *c, Dataset **d)
{
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(c, d, err) == 0, "%s", err);
}

/* want names the fixture folder as "{tmp}". */
static void load_fails_with(const DataConfig *c, const char *want)
{
    Dataset *d = NULL;
    char err[NN_ERR_LEN], full[NN_ERR_LEN + 256];
    ck_assert_int_ne(data_load(c, &d, err), 0);
    ck_assert_ptr_null(d);
    size_t len = 0;
    for (const char *p = want; *p && len + 80 < sizeof full;)
        if (!strncmp(p, "{tmp}", 5)) len += (size_t)snprintf(full + len, sizeof full - len, "%s", tmpdir), p += 5;
        else full[len++] = *p++;
    full[len] = '\0';
    ck_assert_str_eq(err, full);
}

START_TEST(csv_source)
{
    make_tmpdir();
    write_csv("plain.csv", 0, 0);
    write_csv("header.csv", 1, 1);
    Dataset *d;
    DataConfig c = file_config(DATA_CSV, "plain.csv");
    load_ok(&c, &d);
    check_rows(d);
    data_free(d);
    c = file_config(DATA_CSV, "header.csv");
    c.header = 1;
    c.label_column = 0;
    load_ok(&c, &d);
    check_rows(d);
    data_free(d);
    /* gzip-compressed CSV reads the same */
    char path[256];
    snprintf(path, sizeof path, "%s/plain.csv.gz", tmpdir);
    gzFile gz = gzopen(path, "wb");
    for (int r = 0; r < 12; r++) gzprintf(gz, "%d,%d,%d\n", r, 2 * r, r % 3);
    gzclose(gz);
    c = file_config(DATA_CSV, "plain.csv.gz");
    load_ok(&c, &d);
    check_rows(d);
    data_free(d);
    /* defects */
    write_text("cell.csv", "1,2,0\n3,x,1\n4,5,1\n");
    c = file_config(DATA_CSV, "cell.csv");
    load_fails_with(&c, "{tmp}/cell.csv: line 2, column 2: not a finite number: 'x'");
    write_text("label.csv", "1,2,0\n3,4,-2\n");
    c = file_config(DATA_CSV, "label.csv");
    load_fails_with(&c, "{tmp}/label.csv: line 2: label '-2' is not an integer in 0..1000000");
    c = file_config(DATA_CSV, "plain.csv");
    c.label_column = 3;
    load_fails_with(&c, "{tmp}/plain.csv: label_column 3, but line 1 has only 3 columns");
    c = file_config(DATA_CSV, "missing.csv");
    load_fails_with(&c, "{tmp}/missing.csv: cannot open: No such file or directory");
    make_folder("folder.csv"); /* zlib alone would call it corrupt gzip data */
    c = file_config(DATA_CSV, "folder.csv");
    load_fails_with(&c, "{tmp}/folder.csv: cannot read: Is a directory");
    char named[1024] = "";
    for (int r = 0; r < 12; r++) /* the rows of write_csv, labels named "class0".."class2" */
        snprintf(named + strlen(named), sizeof named - strlen(named), "%d,%d,class%d\n", r, 2 * r, r % 3);
    write_text("named.csv", named);
    c = file_config(DATA_CSV, "named.csv");
    load_ok(&c, &d);
    check_rows(d);
    ck_assert_str_eq(d->class_names[2], "class2");
    data_free(d);
    write_text("one-name.csv", "1,2,cat\n3,4,cat\n5,6,cat\n");
    c = file_config(DATA_CSV, "one-name.csv");
    load_fails_with(&c, "{tmp}/one-name.csv: every label is 'cat'; need at least 2 classes");
    write_text("one-row.csv", "1,2,1\n");
    c = file_config(DATA_CSV, "one-row.csv");
    load_fails_with(&c, "{tmp}/one-row.csv: test_fraction 0.25 of 1 rows leaves an empty split (1 test, 0 training)");
    write_text("one-class.csv", "1,2,0\n3,4,0\n5,6,0\n");
    c = file_config(DATA_CSV, "one-class.csv");
    load_fails_with(&c, "{tmp}/one-class.csv: every label is 0; need at least 2 classes");
    remove_tmpdir();
}
END_TEST

/* X (n_x, 2) float64 and y (n_y) int64 into tmpdir/name. */
static void write_h5_arrays(const char *name, const double (*x)[2], int n_x, const int64_t *y, int n_y)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t xd[2] = {(hsize_t)n_x, 2}, yd[1] = {(hsize_t)n_y};
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, yd, NULL);
    hid_t dx = H5Dcreate2(f, "X", H5T_IEEE_F64LE, sx, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "y", H5T_STD_I64LE, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(H5Dwrite(dx, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), 0);
    ck_assert_int_ge(H5Dwrite(dy, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y), 0);
    H5Dclose(dx), H5Dclose(dy), H5Sclose(sx), H5Sclose(sy), H5Fclose(f);
}

/* Rows (r, 2r) with label r % 3 + label_offset: n_x feature rows, n_y labels. */
static void write_h5(const char *name, int n_x, int n_y, int label_offset)
{
    double x[64][2];
    int64_t y[64];
    for (int r = 0; r < 64; r++) x[r][0] = r, x[r][1] = 2 * r, y[r] = r % 3 + label_offset;
    write_h5_arrays(name, (const double (*)[2])x, n_x, y, n_y);
}

START_TEST(hdf5_source)
{
    make_tmpdir();
    write_h5("ok.h5", 12, 12, 0);
    write_h5("rows.h5", 12, 11, 0);
    write_h5("label.h5", 12, 12, -1);
    Dataset *d;
    DataConfig c = file_config(DATA_HDF5, "ok.h5");
    load_ok(&c, &d);
    check_rows(d);
    data_free(d);
    c = file_config(DATA_HDF5, "rows.h5");
    load_fails_with(&c, "{tmp}/rows.h5: 'X' has 12 rows but 'y' has 11");
    c = file_config(DATA_HDF5, "label.h5");
    load_fails_with(&c, "{tmp}/label.h5: 'y' row 0: label -1 is not an integer in 0..1000000");
    c = file_config(DATA_HDF5, "ok.h5");
    snprintf(c.y, sizeof c.y, "labels");
    load_fails_with(&c, "{tmp}/ok.h5: no dataset 'labels' (at the top level: 'X', 'y')");
    /* a group, and strings, where a dataset of numbers is wanted */
    char path[256];
    snprintf(path, sizeof path, "%s/kinds.h5", tmpdir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), str = H5Tcopy(H5T_C_S1);
    hsize_t n = 12;
    hid_t space = H5Screate_simple(1, &n, NULL);
    H5Tset_size(str, 4);
    hid_t g = H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t names = H5Dcreate2(f, "names", str, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(g >= 0 && names >= 0);
    H5Dclose(names), H5Gclose(g), H5Sclose(space), H5Tclose(str), H5Fclose(f);
    c = file_config(DATA_HDF5, "kinds.h5");
    snprintf(c.x, sizeof c.x, "grp");
    load_fails_with(&c, "{tmp}/kinds.h5: 'grp' is a group, not a dataset");
    snprintf(c.x, sizeof c.x, "names");
    load_fails_with(&c, "{tmp}/kinds.h5: dataset 'names' holds strings, not numbers");
    write_text("text.h5", "not hdf5\n");
    c = file_config(DATA_HDF5, "text.h5");
    load_fails_with(&c, "{tmp}/text.h5: not an HDF5 file");
    make_folder("folder.h5");
    c = file_config(DATA_HDF5, "folder.h5");
    load_fails_with(&c, "{tmp}/folder.h5: cannot read: Is a directory");
    remove_tmpdir();
}
END_TEST

static void csv_fails_len(const char *text, size_t len, const char *want)
{
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(data_parse_csv(&rows, text, len, 0, -1, "t.csv", err), 0);
    ck_assert_str_eq(err, want);
}

START_TEST(csv_values_are_decimal_and_in_float_range)
{
    /* beyond float range (and beyond double range): an error, not inf */
    csv_fails("1,2,0\n3,1e39,1\n", "t.csv: line 2, column 2: '1e39' is not a number in float range (up to 3.4e+38)");
    csv_fails("1,2,0\n-1e39,4,1\n",
              "t.csv: line 2, column 1: '-1e39' is not a number in float range (up to 3.4e+38)");
    csv_fails("1,2,0\n3, 1e300,1\n",
              "t.csv: line 2, column 2: ' 1e300' is not a number in float range (up to 3.4e+38)");
    csv_fails("1,2,0\n3,1e400,1\n",
              "t.csv: line 2, column 2: '1e400' is not a number in float range (up to 3.4e+38)");
    csv_fails("1,2,0\n3,3.4028236e38,1\n",
              "t.csv: line 2, column 2: '3.4028236e38' is not a number in float range (up to 3.4e+38)");
    /* what strtod reads but a CSV number is not */
    csv_fails("1,2,0\n3,0x10,1\n", "t.csv: line 2, column 2: not a decimal number: '0x10'");
    csv_fails("1,2,0\n-0X1p3,4,1\n", "t.csv: line 2, column 1: not a decimal number: '-0X1p3'");
    csv_fails("1,2,0\n3,inf,1\n", "t.csv: line 2, column 2: not a finite number: 'inf'");
    csv_fails("1,2,0\n3,-Infinity,1\n", "t.csv: line 2, column 2: not a finite number: '-Infinity'");
    csv_fails("1,2,0\n3,nan,1\n", "t.csv: line 2, column 2: not a finite number: 'nan'");
    csv_fails("1,2,0\n3,1e,1\n", "t.csv: line 2, column 2: not a finite number: '1e'");
    csv_fails("1,2,0\n3,1 2,1\n", "t.csv: line 2, column 2: not a finite number: '1 2'");
    csv_fails("1,2,0\n3,4,0x1\n", "t.csv: line 2: label '0x1' is not an integer in 0..1000000 (labels are all class "
                                  "numbers or all class names, as on line 1)");
    /* a NUL byte, where strtod would stop: in a value, and in a label */
    static const char nul[] = "1,2,0\n3,1\0garbage,1\n";
    csv_fails_len(nul, sizeof nul - 1, "t.csv: line 2, column 2: a NUL byte in the value");
    static const char nul_label[] = "1,2,cat\n3,4,do\0g\n";
    csv_fails_len(nul_label, sizeof nul_label - 1, "t.csv: line 2, column 3: a NUL byte in the value");
    /* accepted: a sign, a fraction alone or a trailing point, the largest
     * float; an underflow becomes 0, or a denormal while one is near */
    const char *ok = "+1,.5,0\n5.,1e-50,1\n3.4028234e38,-1e-40,0\n-0,1E2,1\n";
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_parse_csv(&rows, ok, strlen(ok), 0, -1, "t.csv", err) == 0, "%s", err);
    ck_assert_int_eq(rows.n, 4);
    ck_assert(rows.x[0] == 1.0f && rows.x[1] == 0.5f && rows.x[2] == 5.0f && rows.x[3] == 0.0f);
    ck_assert(rows.x[4] == FLT_MAX && rows.x[5] < 0 && rows.x[5] > -FLT_MIN); /* a denormal */
    ck_assert(rows.x[6] == 0.0f && rows.x[7] == 100.0f);
    data_rows_free(&rows);
}
END_TEST

/* An HDF5 file with X (12, 2) float64 of rows (r, 2r), y r % 3, and X[row][col] = value. */
static void write_h5_value(const char *name, int row, int col, double value)
{
    double x[12][2];
    int64_t y[12];
    for (int r = 0; r < 12; r++) x[r][0] = r, x[r][1] = 2 * r, y[r] = r % 3;
    x[row][col] = value;
    write_h5_arrays(name, (const double (*)[2])x, 12, y, 12);
}

START_TEST(hdf5_values_are_in_float_range)
{
    make_tmpdir();
    write_h5_value("big.h5", 5, 1, 1e39);
    write_h5_value("small.h5", 11, 0, -1e300);
    write_h5_value("nan.h5", 3, 0, NAN);
    write_h5_value("max.h5", 7, 1, FLT_MAX);
    DataConfig c = file_config(DATA_HDF5, "big.h5");
    load_fails_with(&c, "{tmp}/big.h5: 'X' row 5, column 1: 1e+39 is not a number in float range (up to 3.4e+38)");
    c = file_config(DATA_HDF5, "small.h5");
    load_fails_with(&c, "{tmp}/small.h5: 'X' row 11, column 0: -1e+300 is not a number in float range (up to "
                        "3.4e+38)");
    c = file_config(DATA_HDF5, "nan.h5");
    load_fails_with(&c, "{tmp}/nan.h5: 'X' row 3 has a value that is not finite");
    DataRows rows;
    char err[NN_ERR_LEN];
    c = file_config(DATA_HDF5, "max.h5");
    ck_assert_msg(data_load_rows(&c, &rows, err) == 0, "%s", err);
    ck_assert(rows.x[15] == FLT_MAX && rows.x[14] == 7.0f && rows.x[23] == 22.0f);
    data_rows_free(&rows);
    remove_tmpdir();
}
END_TEST

/* IDX files: images (n, 2, 2) with pixels 10i..10i+3, labels i % 4. */
static void write_idx(const char *name, int images, int n, int gz, int magic_type, int truncate)
{
    unsigned char buf[4096];
    size_t len = 0;
    int dims = images ? 3 : 1;
    buf[len++] = 0, buf[len++] = 0, buf[len++] = (unsigned char)magic_type, buf[len++] = (unsigned char)dims;
    uint32_t sizes[3] = {(uint32_t)n, 2, 2};
    for (int k = 0; k < dims; k++)
        for (int b = 3; b >= 0; b--) buf[len++] = (unsigned char)(sizes[k] >> (8 * b));
    for (int i = 0; i < n; i++) {
        if (images)
            for (int p = 0; p < 4; p++) buf[len++] = (unsigned char)(10 * i + p);
        else
            buf[len++] = (unsigned char)(i % 4);
    }
    len -= (size_t)truncate;
    char path[256];
    snprintf(path, sizeof path, "%s/%s%s", tmpdir, name, gz ? ".gz" : "");
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, buf, (unsigned)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
    }
}

static void write_idx_set(int gz)
{
    write_idx("train-images-idx3-ubyte", 1, 20, gz, 8, 0);
    write_idx("train-labels-idx1-ubyte", 0, 20, gz, 8, 0);
    write_idx("t10k-images-idx3-ubyte", 1, 8, gz, 8, 0);
    write_idx("t10k-labels-idx1-ubyte", 0, 8, gz, 8, 0);
}

START_TEST(idx_source)
{
    for (int gz = 0; gz <= 1; gz++) {
        make_tmpdir();
        write_idx_set(gz);
        DataConfig c = file_config(DATA_IDX, "");
        c.path[strlen(c.path) - 1] = '\0'; /* the folder */
        Dataset *d;
        load_ok(&c, &d);
        ck_assert_int_eq(d->n_train, 20); /* own test files: test_fraction is not used */
        ck_assert_int_eq(d->n_test, 8);
        ck_assert_int_eq(d->n_features, 4);
        ck_assert_int_eq(d->n_classes, 4);
        for (int i = 0; i < 20; i++) {
            ck_assert_int_eq(d->train_index[i], i); /* file order */
            ck_assert(d->x_train[4 * i + 3] == (float)(10 * i + 3));
            ck_assert_int_eq(d->y_train[i], i % 4);
        }
        ck_assert(d->x_test[4 * 7] == 70.0f);
        data_free(d);
        remove_tmpdir();
    }
}
END_TEST

START_TEST(idx_defects)
{
    make_tmpdir();
    DataConfig c = file_config(DATA_IDX, "");
    c.path[strlen(c.path) - 1] = '\0';
    write_idx_set(1);
    write_idx("train-images-idx3-ubyte", 1, 20, 1, 9, 0); /* wrong element type in the magic */
    load_fails_with(&c, "{tmp}/train-images-idx3-ubyte.gz: not an IDX file of unsigned bytes with 3 dimensions "
                        "(magic 00000903)");
    write_idx_set(1);
    write_idx("t10k-labels-idx1-ubyte", 0, 7, 1, 8, 0); /* 8 images, 7 labels */
    load_fails_with(&c, "{tmp}/t10k-images-idx3-ubyte.gz: 8 images but {tmp}/t10k-labels-idx1-ubyte.gz has 7 labels");
    write_idx_set(1);
    write_idx("train-images-idx3-ubyte", 1, 20, 1, 8, 2); /* last image cut short */
    load_fails_with(&c, "{tmp}/train-images-idx3-ubyte.gz: truncated: image 20 of 20 is missing");
    remove_tmpdir();
    make_tmpdir();
    c = file_config(DATA_IDX, "");
    c.path[strlen(c.path) - 1] = '\0';
    load_fails_with(&c, "{tmp}/train-images-idx3-ubyte: cannot open: No such file or directory");
    make_folder("train-images-idx3-ubyte");
    load_fails_with(&c, "{tmp}/train-images-idx3-ubyte: cannot read: Is a directory");
    c = file_config(DATA_IDX, "none"); /* the folder itself: missing, or a file */
    load_fails_with(&c, "{tmp}/none: cannot open: No such file or directory");
    write_text("file", "x\n");
    c = file_config(DATA_IDX, "file");
    load_fails_with(&c, "{tmp}/file: not a folder; source: idx takes the folder of the four IDX files");
    snprintf(c.path, sizeof c.path, "/usr/share/datasets/nnlab-test-none");
    load_fails_with(&c, "/usr/share/datasets/nnlab-test-none: cannot open: No such file or directory (Debian's data "
                        "set packages install there: Fashion-MNIST is dataset-fashion-mnist, which "
                        "scripts/install-deps.sh --bench installs)");
    remove_tmpdir();
}
END_TEST

/* ---- validation splits, folds, stratification, test files ----------------- */

/* The built-in digits unsplit: the source rows every index points into. */
static DataRows digits_rows(void)
{
    DataConfig c = {.source = DATA_DIGITS};
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load_rows(&c, &rows, err) == 0, "%s", err);
    ck_assert_int_eq(rows.n, 1797);
    return rows;
}

/* Rows of each class among y[idx[0 .. n-1]]. */
static void class_counts(const int32_t *y, const int32_t *idx, int n, int n_classes, int *count)
{
    for (int c = 0; c < n_classes; c++) count[c] = 0;
    for (int i = 0; i < n; i++) count[y[idx[i]]]++;
}

/* A split of `want` rows taken from `from_n` rows (from[c] of class c)
 * keeps each class's share within one row: |got[c] - want·from[c]/from_n| < 1. */
static void assert_shares(const char *what, const int *got, int want, const int *from, int from_n, int n_classes)
{
    int sum = 0;
    for (int c = 0; c < n_classes; c++) {
        double share = (double)want * from[c] / from_n;
        ck_assert_msg(fabs(got[c] - share) < 1.0, "%s: class %d has %d rows, its share is %.4f", what, c, got[c],
                      share);
        sum += got[c];
    }
    ck_assert_int_eq(sum, want);
}

/* Whether any class of the split is a row or more off its share. */
static int off_share(const int *got, int want, const int *from, int from_n, int n_classes)
{
    for (int c = 0; c < n_classes; c++)
        if (fabs(got[c] - (double)want * from[c] / from_n) >= 1.0) return 1;
    return 0;
}

/* Each view's rows are its source rows: labels (and unscaled features) by index. */
static void assert_rows_by_index(const Dataset *d, const DataRows *src, int scaled)
{
    const struct {
        const float *x;
        const int32_t *y, *idx;
        int n;
    } split[3] = {{d->x_train, d->y_train, d->train_index, d->n_train},
                  {d->x_val, d->y_val, d->val_index, d->n_val},
                  {d->x_test, d->y_test, d->test_index, d->n_test}};
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < split[s].n; i++) {
            int r = split[s].idx[i];
            ck_assert_int_eq(split[s].y[i], src->y[r]);
            if (!scaled)
                ck_assert_mem_eq(split[s].x + (size_t)i * d->n_features, src->x + (size_t)r * src->d,
                                 (size_t)src->d * sizeof(float));
        }
}

START_TEST(stratified_validation_on_digits)
{
    DataRows rows = digits_rows();
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .validation_fraction = 0.2, .stratify = 1};
    ck_assert_int_eq(data_n_sets(&c), 1);
    ck_assert(data_has_validation(&c));
    Dataset *d, *plain;
    load_ok(&c, &d);
    /* n_test = ceil(0.2 · 1797) = 360; n_val = ceil(0.2 · 1437) = 288 */
    ck_assert_int_eq(d->n_test, 360);
    ck_assert_int_eq(d->n_val, 288);
    ck_assert_int_eq(d->n_train, 1149);
    ck_assert_int_eq(d->n_folds, 0);
    ck_assert_int_eq(d->n_pool, 0);
    ck_assert_ptr_null(d->pool_index);
    ck_assert_ptr_nonnull(d->x_val);
    assert_rows_by_index(d, &rows, 0);
    /* train, validation and test: disjoint, and every row once */
    int seen[1797] = {0};
    for (int i = 0; i < d->n_train; i++) seen[d->train_index[i]]++;
    for (int i = 0; i < d->n_val; i++) seen[d->val_index[i]]++;
    for (int i = 0; i < d->n_test; i++) seen[d->test_index[i]]++;
    for (int i = 0; i < 1797; i++) ck_assert_int_eq(seen[i], 1);
    /* each class's share: of all rows in the test set, of the training rows in validation */
    int all[10], test[10], val[10], train[10], pool[10];
    for (int k = 0; k < 10; k++) all[k] = 0;
    for (int i = 0; i < rows.n; i++) all[rows.y[i]]++;
    class_counts(rows.y, d->test_index, d->n_test, 10, test);
    class_counts(rows.y, d->val_index, d->n_val, 10, val);
    class_counts(rows.y, d->train_index, d->n_train, 10, train);
    for (int k = 0; k < 10; k++) pool[k] = all[k] - test[k];
    assert_shares("test", test, 360, all, 1797, 10);
    assert_shares("validation", val, 288, pool, 1437, 10);
    assert_shares("training", train, 1149, pool, 1437, 10);
    /* stratify: 0 splits the same permutation otherwise */
    c.stratify = 0;
    load_ok(&c, &plain);
    ck_assert_int_eq(plain->n_test, 360);
    ck_assert_int_eq(plain->n_val, 288);
    ck_assert(memcmp(d->test_index, plain->test_index, 360 * sizeof(int32_t)) != 0);
    ck_assert(memcmp(d->val_index, plain->val_index, 288 * sizeof(int32_t)) != 0);
    data_free(d);
    data_free(plain);
    data_rows_free(&rows);
}
END_TEST

/* 100 rows of 3 classes, 90/7/3, spread through the file. */
static int unbalanced_label(int r)
{
    return r % 33 == 5 ? 2 : r % 14 == 7 ? 1 : 0;
}

START_TEST(stratified_unbalanced_csv)
{
    make_tmpdir();
    char text[4096] = "";
    for (int r = 0; r < 100; r++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d,%d\n", r, r % 7, unbalanced_label(r));
    write_text("unbalanced.csv", text);
    DataRows rows;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(data_parse_csv(&rows, text, strlen(text), 0, -1, "t.csv", err), 0);
    int all[3] = {0};
    for (int r = 0; r < 100; r++) all[rows.y[r]]++;
    ck_assert(all[0] == 90 && all[1] == 7 && all[2] == 3);
    /* test: ceil(0.15 · 100) = 15 rows (13.5, 1.05 and 0.45 of each class);
     * validation: ceil(0.3 · 85) = 26 of the 85 training rows. */
    int plain_off = 0;
    for (int seed = 0; seed < 40; seed++)
        for (int stratify = 0; stratify <= 1; stratify++) {
            DataConfig c = file_config(DATA_CSV, "unbalanced.csv");
            c.test_fraction = 0.15, c.validation_fraction = 0.3, c.split_seed = seed, c.stratify = stratify;
            Dataset *d;
            load_ok(&c, &d);
            ck_assert_int_eq(d->n_test, 15);
            ck_assert_int_eq(d->n_val, 26);
            ck_assert_int_eq(d->n_train, 59);
            assert_rows_by_index(d, &rows, 0);
            int test[3], val[3], pool[3];
            class_counts(rows.y, d->test_index, 15, 3, test);
            class_counts(rows.y, d->val_index, 26, 3, val);
            for (int k = 0; k < 3; k++) pool[k] = all[k] - test[k];
            if (stratify) {
                assert_shares("test", test, 15, all, 100, 3);
                assert_shares("validation", val, 26, pool, 85, 3);
            } else {
                plain_off += off_share(test, 15, all, 100, 3) || off_share(val, 26, pool, 85, 3);
            }
            data_free(d);
        }
    ck_assert_int_ge(plain_off, 10); /* without stratify the shares do wander: the check above bites */
    data_rows_free(&rows);
    remove_tmpdir();
}
END_TEST

START_TEST(folds_partition_the_training_rows)
{
    DataRows rows = digits_rows();
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .folds = 5, .stratify = 1, .split_seed = 4,
                    .scale = SCALE_STANDARD};
    ck_assert_int_eq(data_n_sets(&c), 5);
    ck_assert(data_has_validation(&c));
    Dataset *d[5];
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&c, d, err) == 0, "%s", err);
    const Dataset *d0 = d[0];
    ck_assert_int_eq(d0->n_test, 360);
    ck_assert_int_eq(d0->n_pool, 1437);
    int fold_of[1797], in_pool[1797] = {0}, in_test[1797] = {0};
    for (int r = 0; r < 1797; r++) fold_of[r] = -1;
    for (int i = 0; i < 1437; i++) in_pool[d0->pool_index[i]]++;
    for (int i = 0; i < 360; i++) in_test[d0->test_index[i]]++;
    for (int r = 0; r < 1797; r++) ck_assert_int_eq(in_pool[r] + in_test[r], 1); /* pool and test: a partition */
    int all[10] = {0}, pool[10], size_lo = 1437, size_hi = 0, sizes = 0;
    for (int i = 0; i < rows.n; i++) all[rows.y[i]]++;
    class_counts(rows.y, d0->pool_index, 1437, 10, pool);
    for (int k = 0; k < 5; k++) {
        const Dataset *v = d[k];
        ck_assert_int_eq(v->n_folds, 5);
        ck_assert_int_eq(v->fold, k);
        ck_assert_int_eq(v->n_pool, 1437);
        ck_assert_int_eq(v->n_train + v->n_val, 1437);
        ck_assert_mem_eq(v->test_index, d0->test_index, 360 * sizeof(int32_t)); /* one test set for all */
        ck_assert_mem_eq(v->pool_index, d0->pool_index, 1437 * sizeof(int32_t));
        ck_assert_mem_eq(v->pool_fold, d0->pool_fold, 1437);
        assert_rows_by_index(v, &rows, 1);
        /* the validation parts are disjoint ... */
        for (int i = 0; i < v->n_val; i++) {
            ck_assert_msg(fold_of[v->val_index[i]] == -1, "row %d validates in folds %d and %d", v->val_index[i],
                          fold_of[v->val_index[i]], k);
            fold_of[v->val_index[i]] = k;
        }
        /* ... and each view's train ∪ val is the pool, each row once */
        int seen[1797] = {0};
        for (int i = 0; i < v->n_train; i++) seen[v->train_index[i]]++;
        for (int i = 0; i < v->n_val; i++) seen[v->val_index[i]]++;
        for (int r = 0; r < 1797; r++) ck_assert_int_eq(seen[r], in_pool[r]);
        size_lo = v->n_val < size_lo ? v->n_val : size_lo;
        size_hi = v->n_val > size_hi ? v->n_val : size_hi;
        sizes += v->n_val;
        int val[10], train[10];
        class_counts(rows.y, v->val_index, v->n_val, 10, val);
        class_counts(rows.y, v->train_index, v->n_train, 10, train);
        assert_shares("fold", val, v->n_val, pool, 1437, 10);
        assert_shares("fold's training rows", train, v->n_train, pool, 1437, 10);
    }
    /* the union of the parts is the pool; pool_fold says which part each row is in */
    for (int r = 0; r < 1797; r++) ck_assert_int_eq(fold_of[r] >= 0, in_pool[r]);
    for (int i = 0; i < 1437; i++) ck_assert_int_eq(d0->pool_fold[i], fold_of[d0->pool_index[i]]);
    ck_assert_int_eq(sizes, 1437);
    ck_assert_int_le(size_hi - size_lo, 1); /* 288, 288, 287, 287, 287 */
    ck_assert_int_eq(size_hi, 288);
    /* Each fold's scaler is fitted on its own training rows: the mean and
     * standard deviation of the raw rows it trains on, in its order. */
    int differ = 0;
    for (int k = 0; k < 5; k++) {
        const Dataset *v = d[k];
        for (int j = 0; j < 64; j++) {
            double sum = 0, sq = 0;
            for (int i = 0; i < v->n_train; i++) sum += rows.x[(size_t)v->train_index[i] * 64 + j];
            double mean = sum / v->n_train;
            for (int i = 0; i < v->n_train; i++) {
                double t = rows.x[(size_t)v->train_index[i] * 64 + j] - mean;
                sq += t * t;
            }
            double sd = sqrt(sq / v->n_train), factor = sd > 0 ? 1.0 / sd : 1.0;
            ck_assert_msg(v->scale_offset[j] == mean, "fold %d feature %d: offset %.17g, mean of its training rows "
                          "%.17g", k, j, v->scale_offset[j], mean);
            ck_assert_msg(v->scale_factor[j] == factor, "fold %d feature %d: factor %.17g, want %.17g", k, j,
                          v->scale_factor[j], factor);
            for (int i = 0; i < v->n_val; i++)
                ck_assert(v->x_val[(size_t)i * 64 + j] ==
                          (float)((rows.x[(size_t)v->val_index[i] * 64 + j] - mean) * factor));
            for (int i = 0; i < v->n_test; i++)
                ck_assert(v->x_test[(size_t)i * 64 + j] ==
                          (float)((rows.x[(size_t)v->test_index[i] * 64 + j] - mean) * factor));
            for (int i = 0; i < v->n_train; i++)
                ck_assert(v->x_train[(size_t)i * 64 + j] ==
                          (float)((rows.x[(size_t)v->train_index[i] * 64 + j] - mean) * factor));
            differ += k > 0 && v->scale_offset[j] != d0->scale_offset[j];
        }
    }
    ck_assert_int_gt(differ, 0); /* not one scaler shared by every fold */
    for (int k = 0; k < 5; k++) data_free(d[k]);
    /* Without stratify the parts are still a partition of the same sizes. */
    c.stratify = 0;
    ck_assert_msg(data_load(&c, d, err) == 0, "%s", err);
    for (int k = 0; k < 5; k++) {
        ck_assert_int_eq(d[k]->n_val, k < 2 ? 288 : 287);
        for (int i = 0; i < 1437; i++) ck_assert_int_lt(d[k]->pool_fold[i], 5);
    }
    for (int k = 0; k < 5; k++) data_free(d[k]);
    /* More folds than training rows is refused, naming the data. */
    make_tmpdir();
    write_csv("plain.csv", 0, 0);
    DataConfig few = file_config(DATA_CSV, "plain.csv"); /* 12 rows, 3 of them test */
    few.folds = 10;
    Dataset *f[10];
    char want[NN_ERR_LEN];
    ck_assert_int_ne(data_load(&few, f, err), 0);
    for (int k = 0; k < 10; k++) ck_assert_ptr_null(f[k]);
    snprintf(want, sizeof want, "%s/plain.csv: dataset.folds 10 but only 9 training rows", tmpdir);
    ck_assert_str_eq(err, want);
    remove_tmpdir();
    data_rows_free(&rows);
}
END_TEST

/* train.csv: 12 rows (r, 2r), named classes emu, cat, dog, emu, ... (cat 0, dog 1, emu 2). */
static void write_named_train(void)
{
    static const char *const names[3] = {"cat", "dog", "emu"};
    char text[1024] = "";
    for (int r = 0; r < 12; r++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d,%s\n", r, 2 * r, names[(r + 2) % 3]);
    write_text("train.csv", text);
}

START_TEST(test_path_rows_are_the_test_set)
{
    make_tmpdir();
    write_named_train();
    /* no dog, and emu first: numbered alone it would be cat 0, emu 1 */
    write_text("test.csv", "100,200,emu\n101,201,cat\n102,202,emu\n103,203,cat\n104,204,cat\n");
    DataConfig c = file_config(DATA_CSV, "train.csv");
    snprintf(c.test_path, sizeof c.test_path, "%s/test.csv", tmpdir);
    Dataset *d;
    load_ok(&c, &d); /* test_fraction 0.25 is not used */
    ck_assert_int_eq(d->n_test, 5);
    ck_assert_int_eq(d->n_train, 12);
    ck_assert_int_eq(d->n_val, 0);
    ck_assert_int_eq(d->n_classes, 3);
    ck_assert_str_eq(d->class_names[0], "cat");
    ck_assert_str_eq(d->class_names[1], "dog");
    ck_assert_str_eq(d->class_names[2], "emu");
    const int32_t want_y[5] = {2, 0, 2, 0, 0};
    ck_assert_mem_eq(d->y_test, want_y, sizeof want_y);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(d->test_index[i], i); /* the test file's rows, in file order */
        ck_assert(d->x_test[2 * i] == (float)(100 + i) && d->x_test[2 * i + 1] == (float)(200 + i));
    }
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(d->train_index[i], i); /* every training row, in file order */
        ck_assert_int_eq(d->y_train[i], (i + 2) % 3);
    }
    uint64_t hash = d->hash;
    data_free(d);
    /* With validation: ceil(0.25 · 12) = 3 of the training file's rows, one per class. */
    c.validation_fraction = 0.25;
    c.stratify = 1;
    load_ok(&c, &d);
    ck_assert_int_eq(d->n_test, 5);
    ck_assert_int_eq(d->n_val, 3);
    ck_assert_int_eq(d->n_train, 9);
    ck_assert_mem_eq(d->y_test, want_y, sizeof want_y);
    int seen[12] = {0}, per_class[3] = {0};
    for (int i = 0; i < 9; i++) seen[d->train_index[i]]++;
    for (int i = 0; i < 3; i++) seen[d->val_index[i]]++, per_class[d->y_val[i]]++;
    for (int r = 0; r < 12; r++) ck_assert_int_eq(seen[r], 1);
    for (int k = 0; k < 3; k++) ck_assert_int_eq(per_class[k], 1);
    for (int i = 0; i < 3; i++) ck_assert(d->x_val[2 * i] == (float)d->val_index[i]);
    ck_assert(d->hash == hash); /* the same rows loaded */
    data_free(d);
    /* The hash covers the test file's rows. */
    write_text("test2.csv", "100,200,emu\n101,201,cat\n102,202,emu\n103,203,cat\n104,205,cat\n");
    snprintf(c.test_path, sizeof c.test_path, "%s/test2.csv", tmpdir);
    load_ok(&c, &d);
    ck_assert(d->hash != hash);
    data_free(d);
    /* Defects of the test file are named with it. */
    c.validation_fraction = 0;
    write_text("test-fox.csv", "1,2,cat\n3,4,fox\n");
    snprintf(c.test_path, sizeof c.test_path, "%s/test-fox.csv", tmpdir);
    load_fails_with(&c, "{tmp}/test-fox.csv: class 'fox' does not occur in the training file");
    write_text("test-wide.csv", "1,2,3,cat\n4,5,6,dog\n");
    snprintf(c.test_path, sizeof c.test_path, "%s/test-wide.csv", tmpdir);
    load_fails_with(&c, "{tmp}/test-wide.csv: 3 features, but {tmp}/train.csv has 2");
    write_text("test-numbers.csv", "1,2,0\n3,4,1\n");
    snprintf(c.test_path, sizeof c.test_path, "%s/test-numbers.csv", tmpdir);
    load_fails_with(&c, "{tmp}/test-numbers.csv: labels are class numbers, but the training file's are class names");
    write_text("test-cell.csv", "1,2,cat\n3,x,dog\n");
    snprintf(c.test_path, sizeof c.test_path, "%s/test-cell.csv", tmpdir);
    load_fails_with(&c, "{tmp}/test-cell.csv: line 2, column 2: not a finite number: 'x'");
    snprintf(c.test_path, sizeof c.test_path, "%s/none.csv", tmpdir);
    load_fails_with(&c, "{tmp}/none.csv: cannot open: No such file or directory");
    remove_tmpdir();
}
END_TEST

START_TEST(idx_validation_splits_the_train_files)
{
    make_tmpdir();
    write_idx_set(0);
    DataConfig c = file_config(DATA_IDX, "");
    c.path[strlen(c.path) - 1] = '\0';
    c.validation_fraction = 0.25;
    c.stratify = 1;
    Dataset *d, *again, *other;
    load_ok(&c, &d);
    /* ceil(0.25 · 20) = 5 of the 20 training images; the 8 t10k images are the test set */
    ck_assert_int_eq(d->n_val, 5);
    ck_assert_int_eq(d->n_train, 15);
    ck_assert_int_eq(d->n_test, 8);
    int seen[20] = {0}, per_class[4] = {0};
    for (int i = 0; i < 15; i++) seen[d->train_index[i]]++;
    for (int i = 0; i < 5; i++) {
        int r = d->val_index[i];
        seen[r]++;
        per_class[d->y_val[i]]++;
        ck_assert_int_eq(d->y_val[i], r % 4);
        ck_assert(d->x_val[4 * i] == (float)(10 * r) && d->x_val[4 * i + 3] == (float)(10 * r + 3));
    }
    for (int r = 0; r < 20; r++) ck_assert_int_eq(seen[r], 1);
    for (int k = 0; k < 4; k++) ck_assert_msg(fabs(per_class[k] - 1.25) < 1, "class %d: %d", k, per_class[k]);
    for (int i = 0; i < 8; i++) ck_assert_int_eq(d->test_index[i], i);
    /* the split comes from split_seed */
    load_ok(&c, &again);
    ck_assert_mem_eq(d->val_index, again->val_index, 5 * sizeof(int32_t));
    ck_assert_mem_eq(d->train_index, again->train_index, 15 * sizeof(int32_t));
    c.split_seed = 4;
    load_ok(&c, &other);
    ck_assert(memcmp(d->val_index, other->val_index, 5 * sizeof(int32_t)) != 0);
    ck_assert(d->hash == other->hash);
    data_free(d);
    data_free(again);
    data_free(other);
    /* folds over the training images */
    c.validation_fraction = 0;
    c.folds = 4;
    Dataset *f[4];
    char err[NN_ERR_LEN];
    ck_assert_msg(data_load(&c, f, err) == 0, "%s", err);
    int fold_seen[20] = {0};
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(f[k]->n_val, 5);
        ck_assert_int_eq(f[k]->n_train, 15);
        ck_assert_int_eq(f[k]->n_test, 8);
        int classes[4] = {0};
        for (int i = 0; i < 5; i++) fold_seen[f[k]->val_index[i]]++, classes[f[k]->y_val[i]]++;
        for (int j = 0; j < 4; j++) ck_assert_int_ge(classes[j], 1); /* 5 of each class, dealt over 4 folds */
    }
    for (int r = 0; r < 20; r++) ck_assert_int_eq(fold_seen[r], 1);
    for (int k = 0; k < 4; k++) data_free(f[k]);
    remove_tmpdir();
}
END_TEST

START_TEST(split_seed_and_hash)
{
    DataConfig c = {.source = DATA_DIGITS, .test_fraction = 0.2, .validation_fraction = 0.2, .stratify = 1,
                    .split_seed = 7};
    Dataset *a, *b, *other, *scaled;
    load_ok(&c, &a);
    load_ok(&c, &b);
    ck_assert_mem_eq(a->train_index, b->train_index, 1149 * sizeof(int32_t));
    ck_assert_mem_eq(a->val_index, b->val_index, 288 * sizeof(int32_t));
    ck_assert_mem_eq(a->test_index, b->test_index, 360 * sizeof(int32_t));
    c.split_seed = 8;
    load_ok(&c, &other);
    ck_assert(memcmp(a->test_index, other->test_index, 360 * sizeof(int32_t)) != 0);
    ck_assert(memcmp(a->val_index, other->val_index, 288 * sizeof(int32_t)) != 0);
    ck_assert(memcmp(a->train_index, other->train_index, 1149 * sizeof(int32_t)) != 0);
    c.scale = SCALE_STANDARD;
    load_ok(&c, &scaled);
    /* the hash is of the rows loaded: not of the split, nor of the scaling */
    ck_assert(a->hash != 0);
    ck_assert(a->hash == b->hash && a->hash == other->hash && a->hash == scaled->hash);
    data_free(a);
    data_free(b);
    data_free(other);
    data_free(scaled);
    /* folds: the same seed deals the same folds, another seed others */
    Dataset *fa[3], *fb[3], *fc[3];
    char err[NN_ERR_LEN];
    DataConfig f = {.source = DATA_DIGITS, .test_fraction = 0.2, .folds = 3, .stratify = 1, .split_seed = 7};
    ck_assert_msg(data_load(&f, fa, err) == 0, "%s", err);
    ck_assert_msg(data_load(&f, fb, err) == 0, "%s", err);
    f.split_seed = 8;
    ck_assert_msg(data_load(&f, fc, err) == 0, "%s", err);
    ck_assert_mem_eq(fa[0]->pool_index, fb[0]->pool_index, 1437 * sizeof(int32_t));
    ck_assert_mem_eq(fa[0]->pool_fold, fb[0]->pool_fold, 1437);
    ck_assert(memcmp(fa[0]->pool_index, fc[0]->pool_index, 1437 * sizeof(int32_t)) != 0);
    ck_assert(memcmp(fa[2]->val_index, fc[2]->val_index, (size_t)fa[2]->n_val * sizeof(int32_t)) != 0);
    for (int k = 0; k < 3; k++) {
        ck_assert(fa[k]->hash == fc[k]->hash);
        data_free(fa[k]), data_free(fb[k]), data_free(fc[k]);
    }
    /* CSV: the same values give the same hash, however written; one value changed, another */
    make_tmpdir();
    write_csv("a.csv", 0, 0);
    write_csv("b.csv", 0, 0);
    write_text("c.csv", "0,0,0\n1.0,2,1\n2,4,2\n3,6,0\n4,8,1\n5,10,2\n6,12,0\n7,14,1\n8,16,2\n9,18,0\n10,20,1\n"
                        "11,22,2\n"); /* a.csv's values, 1 written as 1.0 */
    write_text("d.csv", "0,0,0\n1,2,1\n2,4,2\n3,6,0\n4,8,1\n5,10.5,2\n6,12,0\n7,14,1\n8,16,2\n9,18,0\n10,20,1\n"
                        "11,22,2\n"); /* one value changed */
    write_text("e.csv", "0,0,0\n1,2,1\n2,4,2\n3,6,0\n4,8,1\n5,10,2\n6,12,0\n7,14,1\n8,16,2\n9,18,0\n10,20,1\n"
                        "11,22,0\n"); /* one label changed */
    uint64_t h[5];
    const char *files[5] = {"a.csv", "b.csv", "c.csv", "d.csv", "e.csv"};
    for (int i = 0; i < 5; i++) {
        DataConfig fc_ = file_config(DATA_CSV, files[i]);
        fc_.split_seed = i; /* the split does not enter the hash */
        Dataset *d;
        load_ok(&fc_, &d);
        h[i] = d->hash;
        data_free(d);
    }
    ck_assert(h[0] == h[1] && h[0] == h[2]);
    ck_assert(h[3] != h[0] && h[4] != h[0] && h[3] != h[4]);
    remove_tmpdir();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* Check's default 4 s is too short on a loaded machine or under ASan */
    tcase_add_test(tc, digits_shape_and_values);
    tcase_add_test(tc, split_is_a_seeded_partition);
    tcase_add_test(tc, scaling_is_fitted_on_train);
    tcase_add_test(tc, csv_defects_are_named);
    tcase_add_test(tc, csv_source);
    tcase_add_test(tc, hdf5_source);
    tcase_add_test(tc, csv_values_are_decimal_and_in_float_range);
    tcase_add_test(tc, hdf5_values_are_in_float_range);
    tcase_add_test(tc, idx_source);
    tcase_add_test(tc, idx_defects);
    tcase_add_test(tc, stratified_validation_on_digits);
    tcase_add_test(tc, stratified_unbalanced_csv);
    tcase_add_test(tc, folds_partition_the_training_rows);
    tcase_add_test(tc, test_path_rows_are_the_test_set);
    tcase_add_test(tc, idx_validation_splits_the_train_files);
    tcase_add_test(tc, split_seed_and_hash);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
