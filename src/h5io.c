/* h5io.c — writing run files and merging them into results.h5.
 * Every H5*create/open has its H5*close on every path; every return value is
 * checked. Strings are variable-length UTF-8 (h5py reads them as str). */
#define _POSIX_C_SOURCE 200809L
#include "h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnlab.h"

void h5io_init(void)
{
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void h5io_run_path(char *buf, size_t cap, const char *dir, int run_id)
{
    snprintf(buf, cap, "%s/runs/r%06d.h5", dir, run_id);
}

/* ---- small writers: each closes what it opens; 0 or -1 ------------------ */

static int attr_write(hid_t loc, const char *name, hid_t type, hid_t space, const void *value)
{
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t rc = H5Awrite(a, type, value);
    return (H5Aclose(a) < 0 || rc < 0) ? -1 : 0;
}

static int attr_scalar(hid_t loc, const char *name, hid_t type, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    if (space < 0) return -1;
    int rc = attr_write(loc, name, type, space, value);
    H5Sclose(space);
    return rc;
}

static hid_t string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static int attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = string_type();
    if (t < 0) return -1;
    int rc = attr_scalar(loc, name, t, &value);
    H5Tclose(t);
    return rc;
}

/* A 1-D attribute of n strings. */
static int attr_strs(hid_t loc, const char *name, char *const *values, int n)
{
    hsize_t dims = (hsize_t)n;
    hid_t t = string_type(), space = H5Screate_simple(1, &dims, NULL);
    int rc = t < 0 || space < 0 ? -1 : attr_write(loc, name, t, space, values);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int attr_i64(hid_t loc, const char *name, int64_t value)
{
    return attr_scalar(loc, name, H5T_NATIVE_INT64, &value);
}

static int attr_f64(hid_t loc, const char *name, double value)
{
    return attr_scalar(loc, name, H5T_NATIVE_DOUBLE, &value);
}

static int attr_i64_array(hid_t loc, const char *name, const int64_t *v, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t space = H5Screate_simple(1, &dim, NULL);
    if (space < 0) return -1;
    int rc = attr_write(loc, name, H5T_NATIVE_INT64, space, v);
    H5Sclose(space);
    return rc;
}

/* Dataset of `rank` dims; `file_type` on disk, `mem_type` in memory. */
static int dset_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                      const hsize_t *dims, const void *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    if (space < 0) return -1;
    hid_t d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Sclose(space);
    if (d < 0) return -1;
    herr_t rc = H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    return (H5Dclose(d) < 0 || rc < 0) ? -1 : 0;
}

static int dset_f64(hid_t loc, const char *name, const double *v, size_t n)
{
    hsize_t dim = n;
    return dset_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dim, v);
}

static int dset_i32(hid_t loc, const char *name, const int32_t *v, size_t n)
{
    hsize_t dim = n;
    return dset_write(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &dim, v);
}

static hid_t group_create(hid_t loc, const char *name)
{
    return H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

/* ---- small readers ------------------------------------------------------ */

static int attr_read(hid_t loc, const char *name, hid_t mem_type, void *out)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    herr_t rc = H5Aread(a, mem_type, out);
    return (H5Aclose(a) < 0 || rc < 0) ? -1 : 0;
}

static int attr_read_str(hid_t loc, const char *name, char *out, size_t cap)
{
    hid_t t = string_type();
    if (t < 0) return -1;
    char *s = NULL;
    int rc = attr_read(loc, name, t, &s);
    H5Tclose(t);
    if (rc == 0 && s) snprintf(out, cap, "%s", s);
    if (s) H5free_memory(s);
    return rc;
}

/* Read a 1-D float64 dataset of exactly n entries. */
static int dset_read_f64(hid_t loc, const char *name, double *out, size_t n)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t space = H5Dget_space(d);
    hsize_t dim = 0;
    int ok = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 && H5Sget_simple_extent_dims(space, &dim, NULL) == 1 &&
             dim == n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return ok ? 0 : -1;
}

/* ---- durable files ------------------------------------------------------ */

static int fsync_path(const char *path, int directory)
{
    int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* tmp -> final, durably: fsync the file, rename, fsync the folder. */
static int commit_file(const char *tmp, const char *final, char *err)
{
    if (fsync_path(tmp, 0)) return nn_errf(err, "%s: fsync failed: %s", tmp, strerror(errno));
    if (rename(tmp, final)) return nn_errf(err, "%s: cannot rename to %s: %s", tmp, final, strerror(errno));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", final);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0'; else snprintf(dir, sizeof dir, ".");
    if (fsync_path(dir, 1)) return nn_errf(err, "%s: fsync of the folder failed: %s", dir, strerror(errno));
    return 0;
}

/* ---- run files ---------------------------------------------------------- */

/* One setting as an attribute named by its dotted key: integers and
 * booleans as int64, numbers as float64, layer lists as int64 arrays,
 * names and paths as strings. */
static int attr_setting(hid_t g, const SettingDef *def, const Settings *s)
{
    const char *field = (const char *)s + def->offset;
    switch (def->type) {
    case SET_INT:
    case SET_BOOL: return attr_i64(g, def->key, *(const int *)field);
    case SET_I64: return attr_i64(g, def->key, *(const int64_t *)field);
    case SET_FLOAT: return attr_f64(g, def->key, *(const double *)field);
    case SET_ENUM: return attr_str(g, def->key, def->names[*(const int *)field]);
    case SET_STRING:
    case SET_PATH: return attr_str(g, def->key, field);
    case SET_LAYERS: {
        const LayerSizes *l = (const LayerSizes *)field;
        int64_t v[MLP_MAX_HIDDEN];
        for (int k = 0; k < l->n; k++) v[k] = l->units[k];
        return attr_i64_array(g, def->key, v, l->n);
    }
    }
    return -1;
}

static int write_settings(hid_t g, const Settings *s)
{
    for (int i = 0; i < cfg_n_settings; i++)
        if (attr_setting(g, &cfg_settings[i], s)) return -1;
    return 0;
}

/* group/layerK/{W (fan_in, fan_out), b (fan_out)} for every layer. */
static int write_params(hid_t loc, const char *name, const Mlp *m, const float *params)
{
    hid_t g = group_create(loc, name);
    if (g < 0) return -1;
    int rc = 0;
    for (int l = 0; l < m->n_layers && !rc; l++) {
        char layer[32];
        snprintf(layer, sizeof layer, "layer%d", l);
        hid_t lg = group_create(g, layer);
        if (lg < 0) {
            rc = -1;
            break;
        }
        hsize_t wdims[2] = {(hsize_t)m->size[l], (hsize_t)m->size[l + 1]}, bdim = (hsize_t)m->size[l + 1];
        rc = dset_write(lg, "W", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, wdims, params + m->w_off[l]);
        if (!rc) rc = dset_write(lg, "b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &bdim, params + m->b_off[l]);
        if (H5Gclose(lg) < 0) rc = -1;
    }
    if (H5Gclose(g) < 0) rc = -1;
    return rc;
}

void h5io_hash_text(char *buf, size_t cap, uint64_t hash)
{
    snprintf(buf, cap, "%016llx", (unsigned long long)hash);
}

static int write_run_group(hid_t g, const Experiment *ex, const RunSpec *spec, const Settings *s,
                           const RunResult *res, const Dataset *d)
{
    char hash[32];
    h5io_hash_text(hash, sizeof hash, d->hash);
    if (attr_i64(g, "run", spec->id) || attr_i64(g, "config", spec->config) || attr_i64(g, "seed", spec->seed) ||
        attr_i64(g, "fold", spec->fold) || attr_str(g, "status", run_status_names[res->status]) ||
        attr_i64(g, "epochs_done", res->epochs_done) || attr_i64(g, "best_epoch", res->best_epoch) ||
        attr_f64(g, "seconds", res->seconds) || attr_f64(g, "train_seconds", res->train_seconds) ||
        attr_str(g, "fingerprint", ex->fingerprint) || attr_str(g, "data_hash", hash) || write_settings(g, s) ||
        dset_f64(g, "scale_offset", d->scale_offset, (size_t)d->n_features) ||
        dset_f64(g, "scale_factor", d->scale_factor, (size_t)d->n_features))
        return -1;
    hid_t c = group_create(g, "curves");
    if (c < 0) return -1;
    int rc = 0;
    for (int k = 0; k < res->n_curves && !rc; k++)
        rc = dset_f64(c, curve_names[k], res->curve[k], (size_t)res->epochs + 1);
    if (H5Gclose(c) < 0) rc = -1;
    if (!rc) rc = write_params(g, "weights", &res->mlp, res->weights);
    if (!rc && res->best) rc = write_params(g, "best", &res->mlp, res->best);
    if (!rc) rc = write_params(g, "init", &res->mlp, res->init);
    return rc;
}

int h5io_write_run_tmp(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                       const RunResult *res, const Dataset *d, char *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return nn_errf(err, "%s: cannot create the run file", tmp);
    int rc = attr_str(f, "format", "nnlab-run") || attr_i64(f, "format_version", H5IO_FORMAT_VERSION) ? -1 : 0;
    hid_t g = rc ? -1 : group_create(f, "run");
    if (g < 0) rc = -1;
    if (!rc) rc = write_run_group(g, ex, spec, s, res, d);
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    if (H5Fclose(f) < 0) rc = -1;
    if (rc) {
        remove(tmp);
        return nn_errf(err, "%s: writing the run file failed (disk full or not writable?)", tmp);
    }
    return 0;
}

int h5io_commit_run(const char *path, int run_id, char *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    nn_crash_point("write", run_id); /* the crash test: a .tmp written, not yet renamed */
    if (commit_file(tmp, path, err)) {
        remove(tmp);
        return -1;
    }
    nn_crash_point("committed", run_id); /* the MPI teardown test: a run file in place */
    return 0;
}

int h5io_write_run(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                   const RunResult *res, const Dataset *d, char *err)
{
    if (h5io_write_run_tmp(path, ex, spec, s, res, d, err)) return -1;
    return h5io_commit_run(path, spec->id, err);
}

int h5io_run_complete(const char *path, const char *fingerprint, const char *data_hash)
{
    if (access(path, F_OK) != 0) return 0;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    char fp[64] = "", status[32] = "", hash[64] = "";
    int ok = g >= 0 && attr_read_str(g, "fingerprint", fp, sizeof fp) == 0 && !strcmp(fp, fingerprint) &&
             attr_read_str(g, "status", status, sizeof status) == 0 && H5Lexists(g, "curves", H5P_DEFAULT) > 0 &&
             H5Lexists(g, "weights", H5P_DEFAULT) > 0;
    if (ok && data_hash && (attr_read_str(g, "data_hash", hash, sizeof hash) || strcmp(hash, data_hash))) ok = -1;
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return ok;
}

/* ---- merge -------------------------------------------------------------- */

#define STATUS_LEN 16
#define SWEPT_STR_LEN 64

/* The fixed columns of /summary; one column per swept setting follows. */
typedef struct {
    int32_t run, config;
    int64_t seed;
    int32_t fold;
    char status[STATUS_LEN];
    int32_t epochs_done, best_epoch;
    double val_loss, val_acc, test_loss, test_acc; /* at best_epoch */
    double final_train_loss, final_train_acc, final_val_loss, final_val_acc, final_test_loss, final_test_acc;
    double seconds;
} SummaryRow;

/* A swept setting's column: int64, float64, or a string such as "[200, 100]". */
static size_t swept_size(const SettingDef *def)
{
    return def->type == SET_INT || def->type == SET_I64 || def->type == SET_BOOL || def->type == SET_FLOAT
               ? 8
               : SWEPT_STR_LEN;
}

static size_t summary_row_size(const Experiment *ex)
{
    size_t size = sizeof(SummaryRow);
    for (int k = 0; k < ex->n_axes; k++) size += swept_size(ex->axes[k].def);
    return size;
}

static hid_t summary_type(const Experiment *ex)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, summary_row_size(ex));
    hid_t str = H5Tcopy(H5T_C_S1), swept_str = H5Tcopy(H5T_C_S1);
    if (t < 0 || str < 0 || swept_str < 0 || H5Tset_size(str, STATUS_LEN) < 0 ||
        H5Tset_strpad(str, H5T_STR_NULLTERM) < 0 || H5Tset_size(swept_str, SWEPT_STR_LEN) < 0 ||
        H5Tset_strpad(swept_str, H5T_STR_NULLTERM) < 0)
        goto fail;
#define F(name, type) \
    if (H5Tinsert(t, #name, offsetof(SummaryRow, name), type) < 0) goto fail;
    F(run, H5T_NATIVE_INT32)
    F(config, H5T_NATIVE_INT32)
    F(seed, H5T_NATIVE_INT64)
    F(fold, H5T_NATIVE_INT32)
    F(status, str)
    F(epochs_done, H5T_NATIVE_INT32)
    F(best_epoch, H5T_NATIVE_INT32)
    F(val_loss, H5T_NATIVE_DOUBLE)
    F(val_acc, H5T_NATIVE_DOUBLE)
    F(test_loss, H5T_NATIVE_DOUBLE)
    F(test_acc, H5T_NATIVE_DOUBLE)
    F(final_train_loss, H5T_NATIVE_DOUBLE)
    F(final_train_acc, H5T_NATIVE_DOUBLE)
    F(final_val_loss, H5T_NATIVE_DOUBLE)
    F(final_val_acc, H5T_NATIVE_DOUBLE)
    F(final_test_loss, H5T_NATIVE_DOUBLE)
    F(final_test_acc, H5T_NATIVE_DOUBLE)
    F(seconds, H5T_NATIVE_DOUBLE)
#undef F
    size_t off = sizeof(SummaryRow);
    for (int k = 0; k < ex->n_axes; k++) {
        const SettingDef *def = ex->axes[k].def;
        hid_t type = def->type == SET_FLOAT ? H5T_NATIVE_DOUBLE : swept_size(def) == 8 ? H5T_NATIVE_INT64 : swept_str;
        if (H5Tinsert(t, def->key, off, type) < 0) goto fail;
        off += swept_size(def);
    }
    H5Tclose(str);
    H5Tclose(swept_str);
    return t;
fail:
    if (str >= 0) H5Tclose(str);
    if (swept_str >= 0) H5Tclose(swept_str);
    if (t >= 0) H5Tclose(t);
    return -1;
}

/* The swept columns of one row, after the fixed ones. */
static void summary_swept(unsigned char *row, const Experiment *ex, int config)
{
    Settings s;
    grid_settings(ex, config, &s);
    size_t off = sizeof(SummaryRow);
    for (int k = 0; k < ex->n_axes; k++) {
        const SettingDef *def = ex->axes[k].def;
        const char *field = (const char *)&s + def->offset;
        if (def->type == SET_FLOAT) {
            memcpy(row + off, field, sizeof(double));
        } else if (swept_size(def) == 8) {
            int64_t v = def->type == SET_I64 ? *(const int64_t *)field : *(const int *)field;
            memcpy(row + off, &v, sizeof v);
        } else {
            char text[2200];
            if (def->type == SET_ENUM) snprintf(text, sizeof text, "%s", def->names[*(const int *)field]);
            else cfg_format_value(text, sizeof text, def, &s);
            memset(row + off, 0, SWEPT_STR_LEN);
            memcpy(row + off, text, strlen(text) < SWEPT_STR_LEN - 1 ? strlen(text) : SWEPT_STR_LEN - 1);
        }
        off += swept_size(def);
    }
}

/* Per config point: running sums of each curve over its runs. */
typedef struct {
    int n, n_seeds, n_diverged, epochs;
    int64_t last_seed;
    double *mean[N_CURVES], *m2[N_CURVES]; /* (epochs + 1): Welford's running mean and M2 */
} Aggregate;

/* The curves of an experiment's runs: the validation ones only with validation. */
static int experiment_curves(const Experiment *ex)
{
    return data_has_validation(&ex->settings.data) ? N_CURVES : CURVE_VAL_LOSS;
}

static void summarise(SummaryRow *row, double *const curve[N_CURVES], int n_curves, int epochs_done, int best)
{
    int e = epochs_done, val = n_curves > CURVE_VAL_LOSS;
    row->best_epoch = best;
    row->val_loss = val ? curve[CURVE_VAL_LOSS][best] : NAN;
    row->val_acc = val ? curve[CURVE_VAL_ACC][best] : NAN;
    row->test_loss = curve[CURVE_TEST_LOSS][best];
    row->test_acc = curve[CURVE_TEST_ACC][best];
    row->final_train_loss = curve[CURVE_TRAIN_LOSS][e];
    row->final_train_acc = curve[CURVE_TRAIN_ACC][e];
    row->final_val_loss = val ? curve[CURVE_VAL_LOSS][e] : NAN;
    row->final_val_acc = val ? curve[CURVE_VAL_ACC][e] : NAN;
    row->final_test_loss = curve[CURVE_TEST_LOSS][e];
    row->final_test_acc = curve[CURVE_TEST_ACC][e];
}

/* Copy one run file's /run into out:/runs/rNNNNNN and read its summary row.
 * Returns 1 when the file is missing or unreadable (counted, not fatal). */
static int merge_run(hid_t out, const char *dir, const Experiment *ex, const RunSpec *spec, int epochs,
                     SummaryRow *row, double *curve[N_CURVES], char *err)
{
    char path[4200], dst[64];
    h5io_run_path(path, sizeof path, dir, spec->id);
    if (access(path, F_OK) != 0) return 1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 1;
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    hid_t c = g < 0 ? -1 : H5Gopen2(g, "curves", H5P_DEFAULT);
    int64_t done = -1, best = -1;
    int n_curves = experiment_curves(ex);
    int bad = c < 0 || attr_read(g, "epochs_done", H5T_NATIVE_INT64, &done) < 0 || done < 0 || done > epochs ||
              attr_read(g, "best_epoch", H5T_NATIVE_INT64, &best) < 0 || best < 0 || best > done ||
              attr_read(g, "seconds", H5T_NATIVE_DOUBLE, &row->seconds) < 0 ||
              attr_read_str(g, "status", row->status, sizeof row->status) < 0;
    for (int k = 0; k < n_curves && !bad; k++) bad = dset_read_f64(c, curve_names[k], curve[k], (size_t)epochs + 1) < 0;
    if (c >= 0) H5Gclose(c);
    if (g >= 0) H5Gclose(g);
    snprintf(dst, sizeof dst, "runs/r%06d", spec->id);
    if (!bad && out >= 0 && H5Ocopy(f, "run", out, dst, H5P_DEFAULT, H5P_DEFAULT) < 0) {
        H5Fclose(f);
        return nn_errf(err, "%s: copying the run into results.h5 failed", path);
    }
    H5Fclose(f);
    if (bad) return 1;
    row->run = spec->id;
    row->config = spec->config;
    row->seed = spec->seed;
    row->fold = spec->fold;
    row->epochs_done = (int32_t)done;
    summarise(row, curve, n_curves, (int)done, (int)best);
    return 0;
}

/* n_train and n_val per fold (arrays), and the scaler of each fold (K, d). */
static int write_fold_sizes(hid_t g, Dataset *const *sets, int n_sets)
{
    int64_t *sizes = nn_alloc((size_t)n_sets * 2, sizeof(int64_t));
    int d = sets[0]->n_features;
    double *scale = nn_alloc((size_t)n_sets * (size_t)d, sizeof(double));
    int rc = !sizes || !scale;
    for (int k = 0; k < n_sets && !rc; k++) sizes[k] = sets[k]->n_train, sizes[n_sets + k] = sets[k]->n_val;
    if (!rc) rc = attr_i64_array(g, "n_train", sizes, n_sets) || attr_i64_array(g, "n_val", sizes + n_sets, n_sets);
    hsize_t dims[2] = {(hsize_t)n_sets, (hsize_t)d};
    for (int k = 0; k < n_sets && !rc; k++) memcpy(scale + (size_t)k * d, sets[k]->scale_offset, (size_t)d * sizeof(double));
    if (!rc) rc = dset_write(g, "scale_offset", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, scale);
    for (int k = 0; k < n_sets && !rc; k++) memcpy(scale + (size_t)k * d, sets[k]->scale_factor, (size_t)d * sizeof(double));
    if (!rc) rc = dset_write(g, "scale_factor", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, scale);
    free(sizes);
    free(scale);
    return rc ? -1 : 0;
}

/* /data from the views of the first config point (one per fold): the
 * splits, the scaler and the data hash. */
static int write_data_group(hid_t f, const Experiment *ex, Dataset *const *sets, int n_sets)
{
    const Dataset *d = sets[0];
    char hash[32];
    h5io_hash_text(hash, sizeof hash, d->hash);
    hid_t g = group_create(f, "data");
    if (g < 0) return -1;
    int rc = attr_str(g, "source", data_source_names[ex->settings.data.source]) ||
             attr_i64(g, "n_test", d->n_test) || attr_i64(g, "n_features", d->n_features) ||
             attr_i64(g, "n_classes", d->n_classes) || attr_i64(g, "n_folds", d->n_folds) ||
             attr_str(g, "data_hash", hash) || dset_i32(g, "test_index", d->test_index, (size_t)d->n_test) ||
             (d->class_names && attr_strs(g, "class_names", d->class_names, d->n_classes));
    if (!rc && d->n_folds) {
        hsize_t dim = (hsize_t)d->n_pool;
        rc = dset_i32(g, "train_index", d->pool_index, (size_t)d->n_pool) ||
             dset_write(g, "fold", H5T_STD_I8LE, H5T_NATIVE_INT8, 1, &dim, d->pool_fold) ||
             write_fold_sizes(g, sets, n_sets);
    } else if (!rc) {
        rc = attr_i64(g, "n_train", d->n_train) || attr_i64(g, "n_val", d->n_val) ||
             dset_i32(g, "train_index", d->train_index, (size_t)d->n_train) ||
             (d->n_val && dset_i32(g, "val_index", d->val_index, (size_t)d->n_val)) ||
             dset_f64(g, "scale_offset", d->scale_offset, (size_t)d->n_features) ||
             dset_f64(g, "scale_factor", d->scale_factor, (size_t)d->n_features);
    }
    if (H5Gclose(g) < 0) rc = -1;
    return rc ? -1 : 0;
}

static int write_root_attrs(hid_t f, const Experiment *ex)
{
    char created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const DataConfig *d = &ex->settings.data;
    return attr_str(f, "format", "nnlab-results") || attr_i64(f, "format_version", H5IO_FORMAT_VERSION) ||
                   attr_str(f, "name", ex->name) || attr_str(f, "experiment", ex->resolved) ||
                   attr_str(f, "fingerprint", ex->fingerprint) || attr_str(f, "nnlab_version", NNLAB_VERSION) ||
                   attr_str(f, "created", created) ||
                   attr_str(f, "validation", d->folds >= 2 ? "folds" : d->validation_fraction > 0 ? "holdout" : "none")
               ? -1
               : 0;
}

static int write_summary(hid_t f, const Experiment *ex, const void *rows, int n)
{
    hid_t t = summary_type(ex);
    if (t < 0) return -1;
    hsize_t dim = (hsize_t)n;
    int rc = dset_write(f, "summary", t, t, 1, &dim, rows);
    H5Tclose(t);
    return rc;
}

/* /aggregate/cNNNN/{mean,std}/<curve>: over seeds; std is the sample
 * standard deviation (n - 1), 0 for a single seed. Attributes: config,
 * n_seeds, n_diverged and the value of every swept setting. */
static int write_aggregate(hid_t top, const Experiment *ex, int c, const Aggregate *a, double *scratch)
{
    char name[32];
    snprintf(name, sizeof name, "c%04d", c);
    hid_t g = group_create(top, name);
    hid_t gm = g < 0 ? -1 : group_create(g, "mean");
    hid_t gs = gm < 0 ? -1 : group_create(g, "std");
    Settings s;
    grid_settings(ex, c, &s);
    int rc = gs < 0 || attr_i64(g, "config", c) || attr_i64(g, "n_runs", a->n) || attr_i64(g, "n_seeds", a->n_seeds) ||
             attr_i64(g, "n_diverged", a->n_diverged);
    for (int k = 0; k < ex->n_axes && !rc; k++) rc = attr_setting(g, ex->axes[k].def, &s);
    for (int k = 0; k < experiment_curves(ex) && !rc; k++) {
        int n = a->n, epochs = a->epochs;
        rc = dset_f64(gm, curve_names[k], a->mean[k], (size_t)epochs + 1);
        for (int e = 0; e <= epochs && !rc; e++) scratch[e] = n > 1 ? sqrt(a->m2[k][e] / (n - 1)) : (isnan(a->m2[k][e]) ? NAN : 0.0);
        if (!rc) rc = dset_f64(gs, curve_names[k], scratch, (size_t)epochs + 1);
    }
    if (gs >= 0) H5Gclose(gs);
    if (gm >= 0) H5Gclose(gm);
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    return rc ? -1 : 0;
}

static int write_aggregates(hid_t f, const Experiment *ex, const Aggregate *agg, double *scratch)
{
    hid_t top = group_create(f, "aggregate");
    if (top < 0) return -1;
    int rc = 0;
    for (int c = 0; c < grid_n_configs(ex) && !rc; c++)
        if (agg[c].n) rc = write_aggregate(top, ex, c, &agg[c], scratch);
    if (H5Gclose(top) < 0) rc = -1;
    return rc;
}

static void aggregates_free(Aggregate *agg, int n)
{
    if (!agg) return;
    for (int c = 0; c < n; c++)
        for (int k = 0; k < N_CURVES; k++) {
            free(agg[c].mean[k]);
            free(agg[c].m2[k]);
        }
    free(agg);
}

/* One Aggregate per config point, sized for its number of epochs. */
static Aggregate *aggregates_create(const Experiment *ex)
{
    int n = grid_n_configs(ex);
    Aggregate *agg = nn_calloc((size_t)n, sizeof *agg);
    for (int c = 0; agg && c < n; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        agg[c].epochs = s.train.epochs;
        for (int k = 0; k < N_CURVES; k++) {
            agg[c].mean[k] = nn_calloc((size_t)s.train.epochs + 1, sizeof(double));
            agg[c].m2[k] = nn_calloc((size_t)s.train.epochs + 1, sizeof(double));
            if (!agg[c].mean[k] || !agg[c].m2[k]) {
                aggregates_free(agg, n);
                return NULL;
            }
        }
    }
    return agg;
}

static void aggregate_add(Aggregate *a, const RunSpec *spec, const char *status, double *const curve[N_CURVES],
                          int n_curves)
{
    a->n_seeds += a->n == 0 || spec->seed != a->last_seed; /* runs come seed by seed */
    a->last_seed = spec->seed;
    a->n++;
    a->n_diverged += strcmp(status, "diverged") == 0;
    for (int k = 0; k < n_curves; k++)
        for (int e = 0; e <= a->epochs; e++) {
            double delta = curve[k][e] - a->mean[k][e];
            a->mean[k][e] += delta / a->n;
            a->m2[k][e] += delta * (curve[k][e] - a->mean[k][e]);
        }
}

/* Everything of results.h5 into the open file f: root attributes, /data
 * (when d is given), /runs (when copy_runs), /summary and /aggregate. */
static int merge_into(hid_t f, const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs,
                      Dataset *const *sets, int copy_runs, int *n_missing, char *err)
{
    int n_configs = grid_n_configs(ex), max_epochs = 0;
    Aggregate *agg = aggregates_create(ex);
    for (int c = 0; agg && c < n_configs; c++) max_epochs = agg[c].epochs > max_epochs ? agg[c].epochs : max_epochs;
    size_t row_size = summary_row_size(ex);
    unsigned char *rows = nn_calloc((size_t)n_runs, row_size);
    double *curve[N_CURVES + 1];
    int oom = !rows || !agg;
    for (int k = 0; k <= N_CURVES; k++) oom |= !(curve[k] = nn_alloc((size_t)max_epochs + 1, sizeof(double)));
    hid_t runs_g = -1;
    int rc = -1, n_rows = 0;
    *n_missing = 0;
    if (oom) {
        nn_errf(err, "out of memory merging %d runs", n_runs);
        goto done;
    }
    if (write_root_attrs(f, ex) || (sets && write_data_group(f, ex, sets, grid_n_folds(ex))) ||
        (copy_runs && (runs_g = group_create(f, "runs")) < 0))
        goto io;
    for (int i = 0; i < n_runs; i++) {
        SummaryRow row;
        memset(&row, 0, sizeof row);
        Aggregate *a = &agg[runs[i].config];
        int m = merge_run(copy_runs ? f : -1, dir, ex, &runs[i], a->epochs, &row, curve, err);
        if (m < 0) goto done;
        if (m > 0) {
            (*n_missing)++;
            continue;
        }
        aggregate_add(a, &runs[i], row.status, curve, experiment_curves(ex));
        nn_crash_point("merge", i); /* the crash test: results.h5.tmp half-written */
        unsigned char *dst = rows + (size_t)n_rows++ * row_size;
        memcpy(dst, &row, sizeof row);
        summary_swept(dst, ex, runs[i].config);
    }
    if (write_summary(f, ex, rows, n_rows) || write_aggregates(f, ex, agg, curve[N_CURVES])) goto io;
    rc = 0;
    goto done;
io:
    nn_errf(err, "%s/results.h5: writing failed (disk full or not writable?)", dir);
done:
    if (runs_g >= 0) H5Gclose(runs_g);
    free(rows);
    for (int k = 0; k <= N_CURVES; k++) free(curve[k]);
    aggregates_free(agg, n_configs);
    return rc;
}

int h5io_merge(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, Dataset *const *sets,
               int *n_missing, char *err)
{
    char tmp[4200], final[4200];
    snprintf(final, sizeof final, "%s/results.h5", dir);
    snprintf(tmp, sizeof tmp, "%s/results.h5.tmp", dir);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return nn_errf(err, "%s: cannot create (folder not writable?)", tmp);
    int rc = merge_into(f, dir, ex, runs, n_runs, sets, 1, n_missing, err);
    if (H5Fclose(f) < 0 && rc == 0) rc = nn_errf(err, "%s: closing failed (disk full?)", tmp);
    if (rc == 0 && commit_file(tmp, final, err)) rc = -1;
    if (rc != 0) remove(tmp);
    return rc;
}

int64_t h5io_merge_memory(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, int *n_missing,
                        char *err)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 20, 0) < 0) {
        if (fapl >= 0) H5Pclose(fapl);
        nn_errf(err, "cannot set up an in-memory HDF5 file");
        return -1;
    }
    hid_t f = H5Fcreate("nnlab-summary-in-memory", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) {
        nn_errf(err, "cannot create an in-memory HDF5 file");
        return -1;
    }
    if (merge_into(f, dir, ex, runs, n_runs, NULL, 0, n_missing, err)) {
        H5Fclose(f);
        return -1;
    }
    return f;
}

/* ---- reading a stored model ------------------------------------------------ */

void h5io_stored_close(StoredResults *r)
{
    if (!r) return;
    if (r->file >= 0) H5Fclose((hid_t)r->file);
    for (int i = 0; r->class_names && i < r->n_classes; i++) free(r->class_names[i]);
    free(r->class_names);
    free(r->experiment);
    memset(r, 0, sizeof *r);
    r->file = -1;
}

/* A variable-length string attribute, malloc'ed; NULL if absent. */
static char *attr_dup_str(hid_t loc, const char *name)
{
    hid_t t = string_type();
    char *s = NULL, *copy = NULL;
    if (t >= 0 && H5Aexists(loc, name) > 0 && attr_read(loc, name, t, &s) == 0 && s) copy = nn_strdup(s);
    if (s) H5free_memory(s);
    if (t >= 0) H5Tclose(t);
    return copy;
}

/* The class names of /data, when the labels were names. */
static int read_class_names(StoredResults *r, hid_t data)
{
    if (H5Aexists(data, "class_names") <= 0) return 0;
    hid_t a = H5Aopen(data, "class_names", H5P_DEFAULT), t = string_type(), space = a < 0 ? -1 : H5Aget_space(a);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    char **v = n == r->n_classes ? nn_calloc((size_t)n, sizeof *v) : NULL;
    int rc = v && t >= 0 && H5Aread(a, t, v) >= 0 ? 0 : -1;
    if (rc == 0) {
        r->class_names = nn_calloc((size_t)n, sizeof(char *));
        for (hssize_t i = 0; i < n && r->class_names; i++) r->class_names[i] = nn_strdup(v[i] ? v[i] : "");
        if (!r->class_names) rc = -1;
        if (space >= 0) H5Dvlen_reclaim(t, space, H5P_DEFAULT, v);
    }
    free(v);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

int h5io_stored_open(StoredResults *r, const char *path, char *err)
{
    memset(r, 0, sizeof *r);
    r->file = -1;
    struct stat st;
    if (stat(path, &st) != 0) return nn_errf(err, "%s: %s", path, strerror(errno));
    snprintf(r->path, sizeof r->path, S_ISDIR(st.st_mode) ? "%s/results.h5" : "%s", path);
    if (access(r->path, R_OK) != 0)
        return nn_errf(err, "%s: %s (predict reads a merged results.h5: nnlab merge %s)", r->path, strerror(errno),
                       S_ISDIR(st.st_mode) ? path : "DIR");
    hid_t f = H5Fopen(r->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return nn_errf(err, "%s: not an HDF5 file", r->path);
    r->file = f;
    char format[32] = "";
    int64_t version = 0, nf = 0, nc = 0;
    attr_read_str(f, "format", format, sizeof format);
    if (strcmp(format, "nnlab-results")) {
        nn_errf(err, "%s: not an nnlab results file%s", r->path,
                !strcmp(format, "nnlab-run") ? " (one run's file: give the experiment's results.h5)" : "");
        goto fail;
    }
    attr_read(f, "format_version", H5T_NATIVE_INT64, &version);
    if (version != H5IO_FORMAT_VERSION) {
        nn_errf(err, "%s: results format_version %lld; predict needs format %d (nnlab 0.4 on), which stores the "
                "scaler and the selected weights: run the experiment again with this nnlab", r->path,
                (long long)version, H5IO_FORMAT_VERSION);
        goto fail;
    }
    hid_t data = H5Gopen2(f, "data", H5P_DEFAULT);
    int ok = data >= 0 && attr_read(data, "n_features", H5T_NATIVE_INT64, &nf) == 0 &&
             attr_read(data, "n_classes", H5T_NATIVE_INT64, &nc) == 0 && nf > 0 && nf <= INT32_MAX && nc >= 2 &&
             nc <= 1000001 && attr_read_str(data, "data_hash", r->data_hash, sizeof r->data_hash) == 0;
    r->n_features = (int)nf;
    r->n_classes = (int)nc;
    if (ok) ok = read_class_names(r, data) == 0;
    if (data >= 0) H5Gclose(data);
    if (!ok || !(r->experiment = attr_dup_str(f, "experiment"))) {
        nn_errf(err, "%s: /data or the experiment text is missing or damaged", r->path);
        goto fail;
    }
    return 0;
fail:
    h5io_stored_close(r);
    return -1;
}

int h5io_stored_has_run(const StoredResults *r, int id)
{
    char name[64];
    snprintf(name, sizeof name, "runs/r%06d", id);
    return H5Lexists((hid_t)r->file, "runs", H5P_DEFAULT) > 0 && H5Lexists((hid_t)r->file, name, H5P_DEFAULT) > 0;
}

/* A float32 dataset of exactly `count` values into out. */
static int dset_read_exact(hid_t loc, const char *name, hid_t mem_type, void *out, hsize_t count)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t space = H5Dget_space(d);
    int ok = space >= 0 && H5Sget_simple_extent_npoints(space) == (hssize_t)count &&
             H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return ok ? 0 : -1;
}

int h5io_stored_model(const StoredResults *r, int id, const char *which, const Mlp *m, float *params, double *offset,
                      double *factor, char *err)
{
    char name[64];
    snprintf(name, sizeof name, "runs/r%06d", id);
    hid_t g = H5Gopen2((hid_t)r->file, name, H5P_DEFAULT);
    if (g < 0) return nn_errf(err, "%s: run %d is not in the file", r->path, id);
    int rc = 0;
    if (H5Lexists(g, which, H5P_DEFAULT) <= 0) rc = 1;
    for (int l = 0; l < m->n_layers && rc == 0; l++) {
        char w[64], b[64];
        snprintf(w, sizeof w, "%s/layer%d/W", which, l);
        snprintf(b, sizeof b, "%s/layer%d/b", which, l);
        if (dset_read_exact(g, w, H5T_NATIVE_FLOAT, params + m->w_off[l], (hsize_t)m->size[l] * m->size[l + 1]) ||
            dset_read_exact(g, b, H5T_NATIVE_FLOAT, params + m->b_off[l], (hsize_t)m->size[l + 1]))
            rc = nn_errf(err, "%s: run %d: %s/layer%d does not match the experiment's network", r->path, id, which, l);
    }
    if (rc == 0 && (dset_read_exact(g, "scale_offset", H5T_NATIVE_DOUBLE, offset, (hsize_t)r->n_features) ||
                    dset_read_exact(g, "scale_factor", H5T_NATIVE_DOUBLE, factor, (hsize_t)r->n_features)))
        rc = nn_errf(err, "%s: run %d: its scaler is missing or damaged", r->path, id);
    H5Gclose(g);
    return rc;
}

typedef struct {
    int32_t run;
    double v;
} RunValue;

double h5io_stored_summary(const StoredResults *r, int id, const char *column)
{
    hid_t d = H5Dopen2((hid_t)r->file, "summary", H5P_DEFAULT);
    if (d < 0) return NAN;
    hid_t space = H5Dget_space(d);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    RunValue *rows = n > 0 ? nn_alloc((size_t)n, sizeof *rows) : NULL;
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof *rows);
    double v = NAN;
    if (rows && t >= 0 && H5Tinsert(t, "run", 0, H5T_NATIVE_INT32) >= 0 &&
        H5Tinsert(t, column, offsetof(RunValue, v), H5T_NATIVE_DOUBLE) >= 0 &&
        H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0)
        for (hssize_t i = 0; i < n; i++)
            if (rows[i].run == id) v = rows[i].v;
    if (t >= 0) H5Tclose(t);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    free(rows);
    return v;
}
