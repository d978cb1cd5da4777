/* check_h5io.c — write a run, read it back: every dataset and attribute of
 * the format_version 2 layout (docs/results-format.md) is present with the
 * right shape and the values written; then merge it into results.h5 and
 * check that. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "data.h"
#include "grid.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"
#include "train.h"

#include "check_main.h"

static const char *experiment = "name: h5\nmodel: {hidden: [12, 8], activation: tanh}\n"
                                "training: {epochs: 2, batch_size: 16, learning_rate: 0.1}\n"
                                "dataset: {scale: minmax, validation_fraction: 0.25}\nseeds: [5, 6]\n";

static void must_have_attr(hid_t loc, const char *obj, const char *attr)
{
    ck_assert_msg(H5Aexists_by_name(loc, obj, attr, H5P_DEFAULT) > 0, "missing attribute %s of %s", attr, obj);
}

/* Read a dataset whole; check its shape. */
static void read_dset(hid_t loc, const char *path, hid_t type, void *out, int rank, const hsize_t *want_dims)
{
    hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
    ck_assert_msg(d >= 0, "cannot open %s", path);
    hid_t s = H5Dget_space(d);
    hsize_t dims[4];
    ck_assert_int_eq(H5Sget_simple_extent_ndims(s), rank);
    H5Sget_simple_extent_dims(s, dims, NULL);
    for (int i = 0; i < rank; i++) ck_assert_uint_eq(dims[i], want_dims[i]);
    ck_assert_int_ge(H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), 0);
    H5Sclose(s);
    H5Dclose(d);
}

/* Check group `run` (in a run file or results.h5) against what was written. */
static void check_run_group(hid_t f, const char *run, const RunResult *res, int64_t seed)
{
    const char *attrs[] = {"run",     "config",     "seed",        "fold",       "status",   "epochs_done",
                           "seconds", "best_epoch", "fingerprint", "data_hash"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) must_have_attr(f, run, attrs[i]);
    for (int i = 0; i < cfg_n_settings; i++) must_have_attr(f, run, cfg_settings[i].key);
    int64_t got_seed;
    hid_t g = H5Gopen2(f, run, H5P_DEFAULT);
    hid_t a = H5Aopen(g, "seed", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT64, &got_seed);
    H5Aclose(a);
    H5Gclose(g);
    ck_assert_int_eq(got_seed, seed);

    char path[256];
    double curve[3];
    hsize_t n = 3;
    for (int k = 0; k < N_CURVES; k++) {
        snprintf(path, sizeof path, "%s/curves/%s", run, curve_names[k]);
        read_dset(f, path, H5T_NATIVE_DOUBLE, curve, 1, &n);
        ck_assert_mem_eq(curve, res->curve[k], sizeof curve);
    }
    ck_assert_ptr_nonnull(res->best); /* the experiment has validation */
    const char *which[3] = {"weights", "init", "best"};
    const float *values[3] = {res->weights, res->init, res->best};
    for (int w = 0; w < 3; w++)
        for (int l = 0; l < res->mlp.n_layers; l++) {
            hsize_t dims[2] = {(hsize_t)res->mlp.size[l], (hsize_t)res->mlp.size[l + 1]};
            float *buf = malloc(dims[0] * dims[1] * sizeof(float));
            snprintf(path, sizeof path, "%s/%s/layer%d/W", run, which[w], l);
            read_dset(f, path, H5T_NATIVE_FLOAT, buf, 2, dims);
            ck_assert_mem_eq(buf, values[w] + res->mlp.w_off[l], dims[0] * dims[1] * sizeof(float));
            snprintf(path, sizeof path, "%s/%s/layer%d/b", run, which[w], l);
            read_dset(f, path, H5T_NATIVE_FLOAT, buf, 1, &dims[1]);
            ck_assert_mem_eq(buf, values[w] + res->mlp.b_off[l], dims[1] * sizeof(float));
            free(buf);
        }
}

START_TEST(write_read_and_merge)
{
    h5io_init();
    char dir[] = "/tmp/nnlab_h5io_XXXXXX", err[NN_ERR_LEN];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char runs_dir[256];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", dir);
    ck_assert_int_eq(mkdir(runs_dir, 0777), 0);

    Experiment *ex;
    ck_assert_int_eq(cfg_load_text(&ex, "h5.yaml", experiment, strlen(experiment), NULL, 0, err), 0);
    Dataset *d;
    ck_assert_int_eq(data_load(&ex->settings.data, &d, err), 0);
    RunSpec *runs;
    int n_runs;
    ck_assert_int_eq(grid_expand(ex, &runs, &n_runs, err), 0);
    ck_assert_int_eq(n_runs, 2);
    RunResult res[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(train_run(&ex->settings.train, d, (uint64_t)runs[i].seed, NULL, &res[i], err), 0);
        char path[512];
        h5io_run_path(path, sizeof path, dir, i);
        ck_assert_msg(h5io_write_run(path, ex, &runs[i], &ex->settings, &res[i], d, err) == 0, "%s", err);
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        ck_assert_int_ne(access(tmp, F_OK), 0); /* renamed, not left behind */
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        ck_assert_int_ge(f, 0);
        must_have_attr(f, "/", "format");
        check_run_group(f, "/run", &res[i], runs[i].seed);
        H5Fclose(f);
    }

    MergeReport rep;
    ck_assert_msg(h5io_merge(dir, ex, runs, n_runs, &d, &rep, err) == 0, "%s", err);
    ck_assert_int_eq(rep.n_missing, 0);
    ck_assert_int_eq(rep.n_rejected, 0);
    ck_assert_int_eq(rep.n_merged, 2);
    char path[512];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    const char *root_attrs[] = {"format", "format_version", "name", "experiment", "fingerprint", "nnlab_version",
                                "created", "validation"};
    for (size_t i = 0; i < sizeof root_attrs / sizeof root_attrs[0]; i++) must_have_attr(f, "/", root_attrs[i]);
    const char *data_attrs[] = {"source", "n_train", "n_val", "n_test", "n_features", "n_classes", "n_folds",
                                "data_hash"};
    for (size_t i = 0; i < sizeof data_attrs / sizeof data_attrs[0]; i++) must_have_attr(f, "/data", data_attrs[i]);
    int32_t *idx = malloc(sizeof(int32_t) * 1437);
    hsize_t n_train = 1077, n_val = 360, n_test = 360, n_features = 64;
    ck_assert_int_eq(d->n_train, 1077);
    read_dset(f, "/data/train_index", H5T_NATIVE_INT32, idx, 1, &n_train);
    ck_assert_mem_eq(idx, d->train_index, sizeof(int32_t) * 1077);
    read_dset(f, "/data/val_index", H5T_NATIVE_INT32, idx, 1, &n_val);
    ck_assert_mem_eq(idx, d->val_index, sizeof(int32_t) * 360);
    read_dset(f, "/data/test_index", H5T_NATIVE_INT32, idx, 1, &n_test);
    ck_assert_mem_eq(idx, d->test_index, sizeof(int32_t) * 360);
    free(idx);
    double scale[64];
    read_dset(f, "/data/scale_offset", H5T_NATIVE_DOUBLE, scale, 1, &n_features);
    ck_assert_mem_eq(scale, d->scale_offset, sizeof scale);
    read_dset(f, "/data/scale_factor", H5T_NATIVE_DOUBLE, scale, 1, &n_features);
    ck_assert_mem_eq(scale, d->scale_factor, sizeof scale);
    check_run_group(f, "/runs/r000000", &res[0], 5);
    check_run_group(f, "/runs/r000001", &res[1], 6);

    /* /summary: one row per run with the values at the selected and the last epoch. */
    hid_t s = H5Dopen2(f, "/summary", H5P_DEFAULT);
    ck_assert_int_ge(s, 0);
    hid_t t = H5Dget_type(s);
    const char *fields[] = {"run",          "config",           "seed",            "fold",
                            "status",       "epochs_done",      "best_epoch",      "val_loss",
                            "val_acc",      "test_loss",        "test_acc",        "final_train_loss",
                            "final_train_acc", "final_val_loss", "final_val_acc",  "final_test_loss",
                            "final_test_acc", "seconds"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        ck_assert_msg(H5Tget_member_index(t, fields[i]) >= 0, "summary lacks %s", fields[i]);
    ck_assert_int_lt(H5Tget_member_index(t, "best_test_acc"), 0); /* a maximum over the test curve is gone */
    struct {
        double final_acc, test_acc, val_acc;
        int32_t best;
    } row[2];
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof row[0]);
    H5Tinsert(mt, "final_test_acc", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "test_acc", sizeof(double), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "val_acc", 2 * sizeof(double), H5T_NATIVE_DOUBLE);
    H5Tinsert(mt, "best_epoch", 3 * sizeof(double), H5T_NATIVE_INT32);
    ck_assert_int_ge(H5Dread(s, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, row), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(row[i].best, res[i].best_epoch);
        ck_assert(row[i].final_acc == res[i].curve[CURVE_TEST_ACC][2]);
        ck_assert(row[i].test_acc == res[i].curve[CURVE_TEST_ACC][res[i].best_epoch]);
        ck_assert(row[i].val_acc == res[i].curve[CURVE_VAL_ACC][res[i].best_epoch]);
    }
    H5Tclose(mt);
    H5Tclose(t);
    H5Dclose(s);

    /* /aggregate/c0000: mean and sample std over the two seeds. */
    double mean[3], sd[3];
    hsize_t three = 3;
    read_dset(f, "/aggregate/c0000/mean/test_acc", H5T_NATIVE_DOUBLE, mean, 1, &three);
    read_dset(f, "/aggregate/c0000/std/test_acc", H5T_NATIVE_DOUBLE, sd, 1, &three);
    for (int e = 0; e < 3; e++) {
        double a = res[0].curve[CURVE_TEST_ACC][e], b = res[1].curve[CURVE_TEST_ACC][e];
        ck_assert_double_eq_tol(mean[e], (a + b) / 2, 1e-12);
        ck_assert_double_eq_tol(sd[e], fabs(a - b) / sqrt(2.0), 1e-9);
    }
    must_have_attr(f, "/aggregate/c0000", "n_seeds");
    H5Fclose(f);

    /* A missing run file is counted, not fatal. */
    char run1[512];
    h5io_run_path(run1, sizeof run1, dir, 1);
    ck_assert_int_eq(remove(run1), 0);
    ck_assert_int_eq(h5io_merge(dir, ex, runs, n_runs, &d, &rep, err), 0);
    ck_assert_int_eq(rep.n_missing, 1);
    ck_assert_int_eq(rep.n_merged, 1);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    for (int i = 0; i < 2; i++) run_result_free(&res[i]);
    free(runs);
    data_free(d);
    cfg_free(ex);
}
END_TEST

START_TEST(unwritable_folder_fails_cleanly)
{
    h5io_init();
    Experiment *ex;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(cfg_load_text(&ex, "h5.yaml", experiment, strlen(experiment), NULL, 0, err), 0);
    RunSpec spec = {0, 0, 5, 0};
    RunResult res;
    memset(&res, 0, sizeof res);
    Dataset d;
    memset(&d, 0, sizeof d);
    ck_assert_int_ne(h5io_write_run("/nonexistent/dir/r000000.h5", ex, &spec, &ex->settings, &res, &d, err), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/r000000.h5.tmp"));
    cfg_free(ex);
}
END_TEST

int main(void)
{
    mlp_blas_single_thread(); /* as the driver does: each run on one thread */
    Suite *s = suite_create("h5io");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, write_read_and_merge);
    tcase_add_test(tc, unwritable_folder_fails_cleanly);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
