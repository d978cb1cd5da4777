/* check_data.c — the built-in digits, the seeded split, scaling fitted on
 * the training split, and CSV defects named with file and line. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
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

static void write_h5(const char *name, int n_x, int n_y, int label_offset)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double x[64][2];
    int64_t y[64];
    for (int r = 0; r < 64; r++) x[r][0] = r, x[r][1] = 2 * r, y[r] = r % 3 + label_offset;
    hsize_t xd[2] = {(hsize_t)n_x, 2}, yd[1] = {(hsize_t)n_y};
    hid_t sx = H5Screate_simple(2, xd, NULL), sy = H5Screate_simple(1, yd, NULL);
    hid_t dx = H5Dcreate2(f, "X", H5T_IEEE_F64LE, sx, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t dy = H5Dcreate2(f, "y", H5T_STD_I64LE, sy, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert_int_ge(H5Dwrite(dx, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, x), 0);
    ck_assert_int_ge(H5Dwrite(dy, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y), 0);
    H5Dclose(dx), H5Dclose(dy), H5Sclose(sx), H5Sclose(sy), H5Fclose(f);
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

int main(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, digits_shape_and_values);
    tcase_add_test(tc, split_is_a_seeded_partition);
    tcase_add_test(tc, scaling_is_fitted_on_train);
    tcase_add_test(tc, csv_defects_are_named);
    tcase_add_test(tc, csv_source);
    tcase_add_test(tc, hdf5_source);
    tcase_add_test(tc, idx_source);
    tcase_add_test(tc, idx_defects);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
