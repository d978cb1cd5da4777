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

/* An attribute of n values of the native type `type` (a one-dimensional array). */
static int attr_array(hid_t loc, const char *name, hid_t type, const void *v, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t space = H5Screate_simple(1, &dim, NULL);
    if (space < 0) return -1;
    int rc = attr_write(loc, name, type, space, v);
    H5Sclose(space);
    return rc;
}

static int attr_i64_array(hid_t loc, const char *name, const int64_t *v, int n)
{
    return attr_array(loc, name, H5T_NATIVE_INT64, v, n);
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

/* ---- files built in memory, written with one write() ------------------ *
 * Run files and results.h5 are built by HDF5's core driver in memory and
 * then written by nnlab itself: a full disk, a file-size limit or an I/O
 * error is then a message from write(), never HDF5's error paths (which
 * crashed in H5Ocopy when the disk filled during a merge). */

static hid_t mem_file_create(const char *name)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    hid_t f = H5Pset_fapl_core(fapl, 1 << 20, 0) < 0 ? -1 : H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    return f;
}

/* The image of in-memory file f written to path (created or truncated);
 * on failure path is removed. */
static int mem_file_save(hid_t f, const char *path, char *err)
{
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) return nn_errf(err, "%s: building the file in memory failed", path);
    ssize_t size = H5Fget_file_image(f, NULL, 0);
    char *image = size > 0 ? malloc((size_t)size) : NULL;
    if (!image || H5Fget_file_image(f, image, (size_t)size) != size) {
        free(image);
        return nn_errf(err, "%s: out of memory for the file's %lld bytes", path, (long long)size);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), why = 0;
    if (fd < 0) {
        free(image);
        return nn_errf(err, "%s: cannot create: %s", path, strerror(errno));
    }
    for (ssize_t done = 0, n; done < size && !why; done += n)
        if ((n = write(fd, image + done, (size_t)(size - done))) < 0 && errno != EINTR) why = errno;
        else if (n < 0) n = 0;
    if (close(fd) != 0 && !why) why = errno;
    free(image);
    if (why) {
        unlink(path);
        return nn_errf(err, "%s: cannot write: %s", path, strerror(why));
    }
    return 0;
}

/* ---- checksums of a run's contents --------------------------------------- *
 * A run file proves its content with a hash nnlab computes (FNV-1a, 64
 * bits) over everything in its group /run, in name order: every attribute
 * but `checksum` (name, type, value) and every dataset (name, shape, type,
 * values), recursively. It is stored as /run's attribute `checksum` and
 * checked on every read that merges or resumes the run. Chosen over HDF5's
 * Fletcher32 filter because that covers only chunked datasets' values,
 * not attributes (the run's identity, settings and status) nor which
 * datasets exist. Not a defence against forgery: against a file made on
 * purpose, the fingerprint and run identity are checked as well. */

typedef struct {
    uint64_t h;
    hsize_t limit; /* bytes any one value may take: the file's size */
    int bad, depth;
} Walk;

static void walk_bytes(Walk *w, const void *p, size_t n)
{
    w->h = nn_fnv1a_more(w->h, p, n);
}

/* A value of type `type` and shape `space`, read by read(obj, mem_type, buf). */
static void walk_value(Walk *w, hid_t obj, hid_t type, hid_t space, int attribute)
{
    H5T_class_t cls = H5Tget_class(type);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK] = {0};
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (rank < 0 || n < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        w->bad = 1;
        return;
    }
    int32_t head[2] = {(int32_t)cls, rank};
    walk_bytes(w, head, sizeof head);
    walk_bytes(w, dims, (size_t)rank * sizeof(hsize_t));
    if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
        hid_t mt = string_type();
        char **v = (hsize_t)n * sizeof(char *) <= w->limit ? nn_calloc((size_t)n ? (size_t)n : 1, sizeof *v) : NULL;
        herr_t rc = !v || mt < 0 ? -1 : attribute ? H5Aread(obj, mt, v) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
        for (hssize_t i = 0; rc >= 0 && i < n; i++) walk_bytes(w, v[i] ? v[i] : "", v[i] ? strlen(v[i]) + 1 : 1);
        if (rc >= 0) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, v);
        if (rc < 0) w->bad = 1;
        free(v);
        if (mt >= 0) H5Tclose(mt);
        return;
    }
    if (cls != H5T_INTEGER && cls != H5T_FLOAT && cls != H5T_STRING) { /* nothing nnlab writes */
        w->bad = 1;
        return;
    }
    hid_t mt = cls == H5T_STRING ? H5Tcopy(type) : H5Tget_native_type(type, H5T_DIR_ASCEND);
    size_t size = mt < 0 ? 0 : H5Tget_size(mt);
    if (mt < 0 || size == 0 || (hsize_t)n > w->limit / size) { /* more than the file could hold */
        if (mt >= 0) H5Tclose(mt);
        w->bad = 1;
        return;
    }
    char *buf = malloc((size_t)n * size + 1);
    herr_t rc = !buf ? -1 : attribute ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc < 0) w->bad = 1;
    else walk_bytes(w, buf, (size_t)n * size);
    free(buf);
    H5Tclose(mt);
}

static herr_t walk_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    (void)info;
    Walk *w = op;
    if (!strcmp(name, "checksum")) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t t = a < 0 ? -1 : H5Aget_type(a), s = a < 0 ? -1 : H5Aget_space(a);
    walk_bytes(w, name, strlen(name) + 1);
    if (t < 0 || s < 0) w->bad = 1;
    else walk_value(w, a, t, s, 1);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return w->bad ? 1 : 0;
}

static void walk_group(Walk *w, hid_t g);

static herr_t walk_link(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    Walk *w = op;
    if (info->type != H5L_TYPE_HARD) { /* run files hold no soft or external links */
        w->bad = 1;
        return 1;
    }
    walk_bytes(w, name, strlen(name) + 1);
    hid_t obj = H5Oopen(g, name, H5P_DEFAULT); /* then its kind: no call that fails (and reports) on the way */
    H5I_type_t kind = obj < 0 ? H5I_BADID : H5Iget_type(obj);
    if (kind == H5I_GROUP) {
        walk_group(w, obj);
    } else if (kind == H5I_DATASET) {
        hid_t t = H5Dget_type(obj), s = H5Dget_space(obj);
        if (t < 0 || s < 0) w->bad = 1;
        else walk_value(w, obj, t, s, 0);
        if (s >= 0) H5Sclose(s);
        if (t >= 0) H5Tclose(t);
    } else {
        w->bad = 1;
    }
    if (obj >= 0) H5Oclose(obj);
    return w->bad ? 1 : 0;
}

static void walk_group(Walk *w, hid_t g)
{
    if (++w->depth > 8) { /* nnlab's run groups are 3 deep */
        w->bad = 1;
        return;
    }
    hsize_t idx = 0;
    if (H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, walk_attr, w) < 0) w->bad = 1;
    idx = 0;
    if (!w->bad && H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, walk_link, w) < 0) w->bad = 1;
    w->depth--;
}

/* The checksum of group g's contents into out (17 bytes); -1 if it holds
 * anything a run file does not, or values larger than limit bytes. */
static int content_checksum(hid_t g, hsize_t limit, char *out)
{
    Walk w = {NN_FNV1A_BASIS, limit, 0, 0};
    walk_group(&w, g);
    if (w.bad) return -1;
    h5io_hash_text(out, 17, w.h);
    return 0;
}

/* ---- run files ---------------------------------------------------------- */

/* One setting as an attribute named by its dotted key: integers and
 * booleans as int64, numbers as float64, layer lists as int64 arrays, pairs
 * as float64 arrays of two,
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
    case SET_PAIR: {
        double v[2];
        memcpy(v, field, sizeof v);
        return attr_array(g, def->key, H5T_NATIVE_DOUBLE, v, 2);
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

/* A run's identity as run files store it: 16 hex digits (grid_run_identity). */
static void identity_text(char *buf, size_t cap, const Settings *s, const RunSpec *spec, const char *data_hash)
{
    h5io_hash_text(buf, cap, grid_run_identity(cfg_settings_hash(s), spec->seed, spec->fold, data_hash));
}

/* What names a run within its experiment: its id, config point and the
 * experiment's fingerprint; and its settings. Growing an experiment
 * rewrites these (h5io_renumber_run). */
static int write_run_place(hid_t g, const Experiment *ex, const RunSpec *spec, const Settings *s)
{
    return attr_i64(g, "run", spec->id) || attr_i64(g, "config", spec->config) ||
                   attr_str(g, "fingerprint", ex->fingerprint) || write_settings(g, s)
               ? -1
               : 0;
}

/* The weights storage: keeps (weights/, best/, init/), and what it was, as
 * the run's attributes storage.keep_weights and storage.keep_init, so that
 * a reader can say why a run has none. keep_weights best without
 * validation keeps weights/: the selected epoch is then the last. A paused
 * run (successive halving) keeps all three, which it continues from; a
 * pruned one none of them, unless storage.keep_pruned (then the attribute
 * storage.keep_pruned says why). */
static int write_kept_params(hid_t g, const StorageConfig *st, const RunResult *res)
{
    const StorageConfig everything = {KEEP_ALL, 1, 1}, nothing = {KEEP_NONE, 0, 0};
    if (res->status == RUN_PAUSED) st = &everything; /* successive halving continues from all three */
    if (res->status == RUN_PRUNED) {
        if (attr_i64(g, "storage.keep_pruned", st->keep_pruned)) return -1;
        if (!st->keep_pruned) st = &nothing;
    }
    int best = st->keep_weights == KEEP_ALL || st->keep_weights == KEEP_BEST;
    int final = st->keep_weights == KEEP_ALL || st->keep_weights == KEEP_FINAL ||
                (st->keep_weights == KEEP_BEST && !res->best);
    if (attr_str(g, "storage.keep_weights", keep_weights_names[st->keep_weights]) ||
        attr_i64(g, "storage.keep_init", st->keep_init) ||
        (final && write_params(g, "weights", &res->mlp, res->weights)) ||
        (best && res->best && write_params(g, "best", &res->mlp, res->best)) ||
        (st->keep_init && write_params(g, "init", &res->mlp, res->init)))
        return -1;
    return 0;
}

static int write_run_group(hid_t g, const Experiment *ex, const RunSpec *spec, const Settings *s,
                           const RunResult *res, const Dataset *d)
{
    char hash[32], identity[32];
    h5io_hash_text(hash, sizeof hash, d->hash);
    identity_text(identity, sizeof identity, s, spec, hash);
    if (write_run_place(g, ex, spec, s) || attr_i64(g, "seed", spec->seed) ||
        attr_i64(g, "fold", spec->fold) || attr_str(g, "status", run_status_names[res->status]) ||
        attr_i64(g, "epochs_done", res->epochs_done) || attr_i64(g, "best_epoch", res->best_epoch) ||
        attr_f64(g, "seconds", res->seconds) || attr_f64(g, "train_seconds", res->train_seconds) ||
        attr_i64(g, "rung", res->rung) ||
        attr_str(g, "data_hash", hash) || attr_str(g, "identity", identity) ||
        dset_f64(g, "scale_offset", d->scale_offset, (size_t)d->n_features) ||
        dset_f64(g, "scale_factor", d->scale_factor, (size_t)d->n_features))
        return -1;
    hid_t c = group_create(g, "curves");
    if (c < 0) return -1;
    int rc = 0;
    for (int k = 0; k < res->n_curves && !rc; k++)
        rc = dset_f64(c, curve_names[k], res->curve[k], (size_t)res->epochs + 1);
    if (H5Gclose(c) < 0) rc = -1;
    return rc ? -1 : write_kept_params(g, &ex->storage, res);
}

/* state/: what a paused run continues from besides its curves, weights
 * (the parameters), best and init: the optimizer's state and step count,
 * the dropout and shuffle streams, the order of the training rows, the
 * selection and early-stopping state and the status training left. */
static int write_state_group(hid_t g, const TrainState *t)
{
    hid_t st = group_create(g, "state");
    if (st < 0) return -1;
    hsize_t n_state = t->n_state;
    int rc = attr_i64(st, "steps", t->opt.t) || attr_array(st, "rng_dropout", H5T_NATIVE_UINT64, t->dropout_rng.s, 4) ||
             attr_array(st, "rng_shuffle", H5T_NATIVE_UINT64, t->shuffle_rng.s, 4) || attr_f64(st, "select_best", t->sel_best) ||
             attr_f64(st, "select_ref", t->sel_ref) || attr_i64(st, "select_wait", t->sel_wait) ||
             attr_i64(st, "stopped", t->stopped) || attr_str(st, "status", run_status_names[t->res.status]) ||
             dset_i32(st, "order", t->order, (size_t)t->n_order) ||
             (n_state && dset_write(st, "optim", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &n_state, t->state));
    if (H5Gclose(st) < 0) rc = -1;
    return rc ? -1 : 0;
}

static int write_run_file(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                          const RunResult *res, const TrainState *state, const Dataset *d, char *err);

int h5io_write_run_tmp(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                       const RunResult *res, const Dataset *d, char *err)
{
    return write_run_file(path, ex, spec, s, res, NULL, d, err);
}

int h5io_write_paused_tmp(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                          const TrainState *t, int rung, const Dataset *d, char *err)
{
    RunResult res = t->res; /* train_snapshot has set its weights */
    res.status = RUN_PAUSED;
    res.rung = rung;
    return write_run_file(path, ex, spec, s, &res, t, d, err);
}

static int write_run_file(const char *path, const Experiment *ex, const RunSpec *spec, const Settings *s,
                          const RunResult *res, const TrainState *state, const Dataset *d, char *err)
{
    char tmp[4200], sum[32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* error stacks are per thread in a thread-safe HDF5: quiet this one's */
    hid_t f = mem_file_create(tmp);
    if (f < 0) return nn_errf(err, "%s: out of memory building the run file", tmp);
    int rc = attr_str(f, "format", "nnlab-run") || attr_i64(f, "format_version", H5IO_FORMAT_VERSION) ? -1 : 0;
    hid_t g = rc ? -1 : group_create(f, "run");
    if (g < 0) rc = -1;
    if (!rc) rc = write_run_group(g, ex, spec, s, res, d);
    if (!rc && state) rc = write_state_group(g, state);
    if (!rc) rc = content_checksum(g, (hsize_t)1 << 40, sum) || attr_str(g, "checksum", sum) ? -1 : 0;
    if (g >= 0 && H5Gclose(g) < 0) rc = -1;
    if (rc) {
        H5Fclose(f);
        return nn_errf(err, "%s: out of memory building the run file", tmp);
    }
    rc = mem_file_save(f, tmp, err);
    H5Fclose(f);
    return rc;
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

/* Remove attribute name of loc if it has one. */
static int attr_remove(hid_t loc, const char *name)
{
    htri_t has = H5Aexists(loc, name);
    return has < 0 || (has > 0 && H5Adelete(loc, name) < 0) ? -1 : 0;
}

/* g, a copy of a run group, renamed as run spec of ex: its place
 * (write_run_place) rewritten and its checksum computed again. */
static int rename_run_group(hid_t g, const Experiment *ex, const RunSpec *spec, const Settings *s)
{
    char sum[32];
    int rc = attr_remove(g, "run") || attr_remove(g, "config") || attr_remove(g, "fingerprint") ||
             attr_remove(g, "checksum");
    for (int i = 0; i < cfg_n_settings && !rc; i++) rc = attr_remove(g, cfg_settings[i].key);
    if (!rc) rc = write_run_place(g, ex, spec, s);
    if (!rc) rc = content_checksum(g, (hsize_t)1 << 40, sum) || attr_str(g, "checksum", sum) ? -1 : 0;
    return rc;
}

int h5io_renumber_run(const char *from, const char *to, const Experiment *ex, const RunSpec *spec, const Settings *s,
                      char *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    hid_t in = H5Fopen(from, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (in < 0) return nn_errf(err, "%s: cannot open it", from);
    hid_t f = mem_file_create(tmp), g = -1;
    int rc = f < 0 || attr_str(f, "format", "nnlab-run") || attr_i64(f, "format_version", H5IO_FORMAT_VERSION) ||
                     H5Ocopy(in, "run", f, "run", H5P_DEFAULT, H5P_DEFAULT) < 0 ||
                     (g = H5Gopen2(f, "run", H5P_DEFAULT)) < 0 || rename_run_group(g, ex, spec, s)
                 ? nn_errf(err, "%s: out of memory copying %s into it", tmp, from)
                 : 0;
    if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = nn_errf(err, "%s: out of memory building the run file", tmp);
    H5Fclose(in);
    if (!rc) rc = mem_file_save(f, tmp, err);
    if (f >= 0) H5Fclose(f);
    if (rc) return -1;
    nn_crash_point("grow-write", spec->id); /* the crash test: the renumbered copy is a .tmp */
    if (commit_file(tmp, to, err)) {
        remove(tmp);
        return -1;
    }
    nn_crash_point("grow-renamed", spec->id); /* in place under its new name; the old name not yet removed */
    return 0;
}

/* The checks of an open run group g (see h5io_check_run). */
static int check_run_group(hid_t g, hsize_t file_size, const Experiment *ex, const RunSpec *spec,
                           const char *data_hash, char *why, size_t cap)
{
    char fp[64] = "", status[32] = "", hash[64] = "", stored[64] = "", sum[32];
    int64_t id = -1, config = -1, seed = -1, fold = -1;
    if (attr_read_str(g, "checksum", stored, sizeof stored) != 0)
        return snprintf(why, cap, "no checksum: not written by this nnlab"), H5IO_RUN_BAD;
    if (content_checksum(g, file_size, sum) != 0 || strcmp(sum, stored))
        return snprintf(why, cap, "damaged: its contents do not match its checksum"), H5IO_RUN_BAD;
    if (attr_read_str(g, "fingerprint", fp, sizeof fp) != 0 || strcmp(fp, ex->fingerprint))
        return snprintf(why, cap, "from another experiment (fingerprint %.16s, this one's %s)", fp, ex->fingerprint),
               H5IO_RUN_BAD;
    if (attr_read(g, "run", H5T_NATIVE_INT64, &id) || attr_read(g, "config", H5T_NATIVE_INT64, &config) ||
        attr_read(g, "seed", H5T_NATIVE_INT64, &seed) || attr_read(g, "fold", H5T_NATIVE_INT64, &fold) ||
        id != spec->id || config != spec->config || seed != spec->seed || fold != spec->fold)
        return snprintf(why, cap, "holds run %lld (config %lld, seed %lld, fold %lld), not run %d", (long long)id,
                        (long long)config, (long long)seed, (long long)fold, spec->id),
               H5IO_RUN_BAD;
    char identity[64] = "", want[32];
    Settings s;
    grid_settings(ex, spec->config, &s);
    attr_read_str(g, "data_hash", hash, sizeof hash); /* the identity of the data it was trained on; see below */
    identity_text(want, sizeof want, &s, spec, hash);
    if (attr_read_str(g, "identity", identity, sizeof identity) != 0 || strcmp(identity, want))
        return snprintf(why, cap, "not run %d's identity (identity %.16s, run %d's %s: its settings, seed, fold or "
                        "data hash differ)", spec->id, identity, spec->id, want),
               H5IO_RUN_BAD;
    char kept[16] = "all"; /* run files before storage: keep everything */
    attr_read_str(g, "storage.keep_weights", kept, sizeof kept);
    int final_kept = !strcmp(kept, "all") || !strcmp(kept, "final");
    if (attr_read_str(g, "status", status, sizeof status) != 0 || H5Lexists(g, "curves", H5P_DEFAULT) <= 0 ||
        (final_kept && H5Lexists(g, "weights", H5P_DEFAULT) <= 0))
        return snprintf(why, cap, "incomplete"), H5IO_RUN_BAD;
    if (data_hash && (attr_read_str(g, "data_hash", hash, sizeof hash) || strcmp(hash, data_hash)))
        return snprintf(why, cap, "trained on other data (data hash %.16s, now %s)", hash, data_hash),
               H5IO_RUN_OTHER_DATA;
    return H5IO_RUN_OK;
}

int h5io_check_run(const char *path, const Experiment *ex, const RunSpec *spec, const char *data_hash, char *why,
                   size_t cap)
{
    struct stat st;
    why[0] = '\0';
    if (lstat(path, &st) != 0) return H5IO_RUN_MISSING;
    if (!S_ISREG(st.st_mode)) return snprintf(why, cap, "not a regular file"), H5IO_RUN_BAD;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return snprintf(why, cap, "not an HDF5 file, or truncated"), H5IO_RUN_BAD;
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    int rc = g < 0 ? (snprintf(why, cap, "no /run group: not an nnlab run file"), H5IO_RUN_BAD)
                   : check_run_group(g, (hsize_t)st.st_size, ex, spec, data_hash, why, cap);
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return rc;
}

int h5io_reject_run(const char *dir, int run_id, char *err)
{
    char from[4200], folder[4200], to[4300];
    h5io_run_path(from, sizeof from, dir, run_id);
    snprintf(folder, sizeof folder, "%s/runs/rejected", dir);
    if (mkdir(folder, 0777) != 0 && errno != EEXIST)
        return nn_errf(err, "%s: cannot create: %s", folder, strerror(errno));
    snprintf(to, sizeof to, "%s/results.h5", dir); /* it may link to this file: a later merge rebuilds it */
    if (unlink(to) != 0 && errno != ENOENT) return nn_errf(err, "%s: cannot remove: %s", to, strerror(errno));
    snprintf(to, sizeof to, "%s/r%06d.h5", folder, run_id);
    for (int k = 1; access(to, F_OK) == 0 && k < 1000; k++) /* keep every rejected file */
        snprintf(to, sizeof to, "%s/r%06d.h5.%d", folder, run_id, k);
    if (rename(from, to) != 0) return nn_errf(err, "%s: cannot move to %s: %s", from, to, strerror(errno));
    return 0;
}

/* ---- paused runs (successive halving) ------------------------------------ */

static int attr_i64_int(hid_t loc, const char *name, int *out)
{
    int64_t v;
    if (attr_read(loc, name, H5T_NATIVE_INT64, &v) || v < INT32_MIN || v > INT32_MAX) return -1;
    *out = (int)v;
    return 0;
}

static int dset_read_exact(hid_t loc, const char *name, hid_t mem_type, void *out, hsize_t count);
/* group/layerK/{W, b} into params of m's layout (write_params' inverse). */
static int read_params(hid_t g, const char *which, const Mlp *m, float *params);

int h5io_read_progress(const char *path, int epochs, char *status, size_t cap, int *rung, int *epochs_done,
                       double *val_loss, double *val_acc)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gopen2(f, "run", H5P_DEFAULT);
    hid_t c = g < 0 ? -1 : H5Gopen2(g, "curves", H5P_DEFAULT);
    *rung = 0;
    int rc = c < 0 || attr_read_str(g, "status", status, cap) || attr_i64_int(g, "epochs_done", epochs_done) ||
                     (H5Aexists(g, "rung") > 0 && attr_i64_int(g, "rung", rung)) ||
                     dset_read_f64(c, "val_loss", val_loss, (size_t)epochs + 1) ||
                     dset_read_f64(c, "val_acc", val_acc, (size_t)epochs + 1) || *epochs_done < 0 ||
                     *epochs_done > epochs
                 ? -1
                 : 0;
    if (c >= 0) H5Gclose(c);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    return rc;
}

int h5io_read_paused(const char *path, TrainState *t, char *err)
{
    RunResult *r = &t->res;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gopen2(f, "run", H5P_DEFAULT);
    hid_t c = g < 0 ? -1 : H5Gopen2(g, "curves", H5P_DEFAULT);
    hid_t st = g < 0 || H5Lexists(g, "state", H5P_DEFAULT) <= 0 ? -1 : H5Gopen2(g, "state", H5P_DEFAULT);
    char status[32] = "";
    int64_t steps = 0;
    int rc = st < 0 || attr_i64_int(g, "epochs_done", &r->epochs_done) || attr_i64_int(g, "best_epoch", &r->best_epoch) ||
             attr_read(g, "seconds", H5T_NATIVE_DOUBLE, &r->seconds) ||
             attr_read(g, "train_seconds", H5T_NATIVE_DOUBLE, &r->train_seconds) ||
             r->epochs_done < 0 || r->epochs_done > r->epochs || r->best_epoch < 0 || r->best_epoch > r->epochs_done;
    for (int k = 0; k < r->n_curves && !rc; k++) rc = dset_read_f64(c, curve_names[k], r->curve[k], (size_t)r->epochs + 1);
    if (!rc)
        rc = read_params(g, "weights", &t->mlp, t->params) || read_params(g, "init", &t->mlp, r->init) ||
             (r->best && read_params(g, "best", &t->mlp, r->best)) || attr_read(st, "steps", H5T_NATIVE_INT64, &steps) ||
             attr_read(st, "rng_dropout", H5T_NATIVE_UINT64, t->dropout_rng.s) ||
             attr_read(st, "rng_shuffle", H5T_NATIVE_UINT64, t->shuffle_rng.s) ||
             attr_read(st, "select_best", H5T_NATIVE_DOUBLE, &t->sel_best) ||
             attr_read(st, "select_ref", H5T_NATIVE_DOUBLE, &t->sel_ref) || attr_i64_int(st, "select_wait", &t->sel_wait) ||
             attr_i64_int(st, "stopped", &t->stopped) || attr_read_str(st, "status", status, sizeof status) ||
             dset_read_exact(st, "order", H5T_NATIVE_INT32, t->order, (hsize_t)t->n_order) ||
             (t->n_state && dset_read_exact(st, "optim", H5T_NATIVE_FLOAT, t->state, (hsize_t)t->n_state));
    t->opt.t = steps;
    r->status = !strcmp(status, "diverged") ? RUN_DIVERGED : RUN_OK;
    if (!rc && strcmp(status, "ok") && strcmp(status, "diverged")) rc = -1;
    if (st >= 0) H5Gclose(st);
    if (c >= 0) H5Gclose(c);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    return rc ? nn_errf(err, "%s: its paused state is missing or does not fit the run", path) : 0;
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
    int32_t rung;
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
    F(rung, H5T_NATIVE_INT32)
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

/* Verify one run file, link out:/runs/rNNNNNN (an in-memory file, unless
 * out < 0) to its /run by the relative name runs/rNNNNNN.h5, and read its
 * summary row. The run's data stays in its run file, once. Returns H5IO_RUN_OK,
 * H5IO_RUN_MISSING, or H5IO_RUN_BAD / H5IO_RUN_OTHER_DATA with the reason
 * in why (all counted, not fatal); -1 with a message in err when the copy
 * fails. */
static int merge_run(hid_t out, const char *dir, const Experiment *ex, const RunSpec *spec, int epochs,
                     const char *data_hash, SummaryRow *row, double *curve[N_CURVES], char *why, size_t cap,
                     char *err)
{
    char path[4200], dst[64];
    struct stat st;
    h5io_run_path(path, sizeof path, dir, spec->id);
    if (lstat(path, &st) != 0) return H5IO_RUN_MISSING;
    if (!S_ISREG(st.st_mode)) return snprintf(why, cap, "not a regular file"), H5IO_RUN_BAD;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return snprintf(why, cap, "not an HDF5 file, or truncated"), H5IO_RUN_BAD;
    hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
    int check = g < 0 ? (snprintf(why, cap, "no /run group: not an nnlab run file"), H5IO_RUN_BAD)
                      : check_run_group(g, (hsize_t)st.st_size, ex, spec, data_hash, why, cap);
    hid_t c = check != H5IO_RUN_OK ? -1 : H5Gopen2(g, "curves", H5P_DEFAULT);
    int64_t done = -1, best = -1, rung = 0;
    int n_curves = experiment_curves(ex);
    if (check == H5IO_RUN_OK && H5Aexists(g, "rung") > 0 && attr_read(g, "rung", H5T_NATIVE_INT64, &rung) < 0)
        rung = -1; /* run files before successive halving have none: rung 0 */
    int bad = c < 0 || attr_read(g, "epochs_done", H5T_NATIVE_INT64, &done) < 0 || done < 0 || done > epochs ||
              attr_read(g, "best_epoch", H5T_NATIVE_INT64, &best) < 0 || best < 0 || best > done ||
              attr_read(g, "seconds", H5T_NATIVE_DOUBLE, &row->seconds) < 0 ||
              attr_read_str(g, "status", row->status, sizeof row->status) < 0 || rung < 0 || rung >= 1000;
    for (int k = 0; k < n_curves && !bad; k++) bad = dset_read_f64(c, curve_names[k], curve[k], (size_t)epochs + 1) < 0;
    if (c >= 0) H5Gclose(c);
    if (g >= 0) H5Gclose(g);
    if (check == H5IO_RUN_OK && bad) check = H5IO_RUN_BAD, snprintf(why, cap, "its curves or epochs are malformed");
    H5Fclose(f);
    char target[64];
    snprintf(dst, sizeof dst, "runs/r%06d", spec->id);
    snprintf(target, sizeof target, "runs/r%06d.h5", spec->id); /* relative: to results.h5's folder */
    if (check == H5IO_RUN_OK && out >= 0 && H5Lcreate_external(target, "/run", out, dst, H5P_DEFAULT, H5P_DEFAULT) < 0)
        return nn_errf(err, "%s: out of memory linking the run into results.h5", path);
    if (check != H5IO_RUN_OK) return check;
    row->run = spec->id;
    row->config = spec->config;
    row->seed = spec->seed;
    row->fold = spec->fold;
    row->epochs_done = (int32_t)done;
    row->rung = (int32_t)rung;
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
             (d->class_names && attr_strs(g, "class_names", d->class_names, d->n_classes)) ||
             (d->n_val && attr_f64(g, "val_majority_share", data_val_majority_share(sets, n_sets)));
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
                   attr_str(f, "validation", d->folds >= 2 ? "folds" : d->validation_fraction > 0 ? "holdout" : "none") ||
                   (ex->overrides && attr_str(f, "overrides", ex->overrides))
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
/* A run file that failed verification: named in the report, moved aside when asked. */
static int merge_rejected(const char *dir, const RunSpec *spec, int check, const char *why, int move,
                          MergeReport *rep, char *err)
{
    rep->n_rejected++;
    rep->n_other_data += check == H5IO_RUN_OTHER_DATA;
    size_t len = strlen(rep->rejected);
    if (len + 200 < sizeof rep->rejected)
        snprintf(rep->rejected + len, sizeof rep->rejected - len, "%sr%06d.h5 (%.150s)", len ? "; " : "", spec->id, why);
    else if (len + 8 < sizeof rep->rejected && !strstr(rep->rejected, "; ..."))
        snprintf(rep->rejected + len, sizeof rep->rejected - len, "; ...");
    return move && check == H5IO_RUN_BAD ? h5io_reject_run(dir, spec->id, err) : 0;
}

static int merge_into(hid_t f, const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs,
                      Dataset *const *sets, int copy_runs, int move_rejected, MergeReport *rep, char *err)
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
    char data_hash[32], why[256];
    if (sets) h5io_hash_text(data_hash, sizeof data_hash, sets[0]->hash);
    memset(rep, 0, sizeof *rep);
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
        int m = merge_run(copy_runs ? f : -1, dir, ex, &runs[i], a->epochs, sets ? data_hash : NULL, &row, curve, why,
                          sizeof why, err);
        if (m < 0) goto done;
        if (m == H5IO_RUN_MISSING) rep->n_missing++;
        if (m != H5IO_RUN_OK && m != H5IO_RUN_MISSING &&
            merge_rejected(dir, &runs[i], m, why, move_rejected, rep, err))
            goto done;
        if (m != H5IO_RUN_OK) continue;
        aggregate_add(a, &runs[i], row.status, curve, experiment_curves(ex));
        nn_crash_point("merge", i); /* the crash test: results.h5.tmp half-written */
        unsigned char *dst = rows + (size_t)n_rows++ * row_size;
        memcpy(dst, &row, sizeof row);
        summary_swept(dst, ex, runs[i].config);
    }
    rep->n_merged = n_rows;
    if (write_summary(f, ex, rows, n_rows) || write_aggregates(f, ex, agg, curve[N_CURVES])) goto io;
    rc = 0;
    goto done;
io:
    nn_errf(err, "%s/results.h5: out of memory building it", dir);
done:
    if (runs_g >= 0) H5Gclose(runs_g);
    free(rows);
    for (int k = 0; k <= N_CURVES; k++) free(curve[k]);
    aggregates_free(agg, n_configs);
    return rc;
}

int h5io_merge(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, Dataset *const *sets,
               MergeReport *rep, char *err)
{
    char tmp[4200], final[4200];
    snprintf(final, sizeof final, "%s/results.h5", dir);
    snprintf(tmp, sizeof tmp, "%s/results.h5.tmp", dir);
    hid_t f = mem_file_create(tmp);
    if (f < 0) return nn_errf(err, "%s: out of memory building it", final);
    int rc = merge_into(f, dir, ex, runs, n_runs, sets, 1, 1, rep, err);
    if (rc == 0) rc = mem_file_save(f, tmp, err);
    H5Fclose(f);
    if (rc == 0) nn_crash_point("merge-written", 0); /* the crash test: results.h5.tmp whole, not renamed */
    if (rc == 0 && commit_file(tmp, final, err)) rc = -1;
    if (rc != 0) unlink(tmp);
    return rc;
}

int64_t h5io_merge_memory(const char *dir, const Experiment *ex, const RunSpec *runs, int n_runs, MergeReport *rep,
                          char *err)
{
    hid_t f = mem_file_create("nnlab-summary-in-memory");
    if (f < 0) {
        nn_errf(err, "cannot create an in-memory HDF5 file");
        return -1;
    }
    if (merge_into(f, dir, ex, runs, n_runs, NULL, 0, 0, rep, err)) {
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
    attr_read_str(f, "fingerprint", r->fingerprint, sizeof r->fingerprint);
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

/* A dataset of exactly `count` values into out, as mem_type. */
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

static int read_params(hid_t g, const char *which, const Mlp *m, float *params)
{
    for (int l = 0; l < m->n_layers; l++) {
        char w[64], b[64];
        snprintf(w, sizeof w, "%s/layer%d/W", which, l);
        snprintf(b, sizeof b, "%s/layer%d/b", which, l);
        if (dset_read_exact(g, w, H5T_NATIVE_FLOAT, params + m->w_off[l], (hsize_t)m->size[l] * m->size[l + 1]) ||
            dset_read_exact(g, b, H5T_NATIVE_FLOAT, params + m->b_off[l], (hsize_t)m->size[l + 1]))
            return -1;
    }
    return 0;
}

/* The run file `target` (relative to results.h5's folder) that /runs/rNNNNNN
 * links to: opened by nnlab from that folder, since HDF5's own search
 * falls back to the current folder, where another experiment's run file
 * of the same name may be; then verified. Its /run group, or -1 (a message
 * in err); *file is the run file to close after the group. */
static hid_t linked_run_open(const StoredResults *r, int id, const char *target, const char *object, hid_t *file,
                             char *err)
{
    char want[64], path[4400], dir[4200], sum[32], stored[32] = "", fp[32] = "";
    int64_t run = -1;
    struct stat st;
    snprintf(want, sizeof want, "runs/r%06d.h5", id);
    if (strcmp(target, want) || strcmp(object, "/run"))
        return nn_errf(err, "%s: run %d links to %s:%s, not to its run file %s", r->path, id, target, object, want);
    snprintf(dir, sizeof dir, "%s", r->path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    snprintf(path, sizeof path, "%s/%s", dir, target);
    if (stat(path, &st) != 0)
        return nn_errf(err, "%s: run %d's file %s is missing (results.h5 links to the run files beside it: copy or "
                       "move the whole output folder; nnlab merge rebuilds results.h5 from the run files there)",
                       r->path, id, path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t g = f < 0 ? -1 : H5Gopen2(f, "run", H5P_DEFAULT);
    int ok = g >= 0 && attr_read_str(g, "checksum", stored, sizeof stored) == 0 &&
             content_checksum(g, (hsize_t)st.st_size, sum) == 0 && !strcmp(sum, stored);
    if (ok && (attr_read_str(g, "fingerprint", fp, sizeof fp) || strcmp(fp, r->fingerprint) ||
               attr_read(g, "run", H5T_NATIVE_INT64, &run) || run != id)) {
        nn_errf(err, "%s: run %d's file %s is not the one results.h5 was merged from (run %lld of experiment %s, not "
                "run %d of %s): nnlab merge the folder again", r->path, id, path, (long long)run, fp, id,
                r->fingerprint);
        ok = -1;
    } else if (!ok) {
        nn_errf(err, "%s: run %d's file %s is damaged (not an HDF5 run file, or its contents do not match its "
                "checksum)", r->path, id, path);
    }
    if (ok != 1) {
        if (g >= 0) H5Gclose(g);
        if (f >= 0) H5Fclose(f);
        return -1;
    }
    *file = f;
    return g;
}

/* Run id's group: /runs/rNNNNNN itself (results.h5 of nnlab before linked
 * runs) or the verified /run of its run file. -1 with a message. */
static hid_t stored_run_open(const StoredResults *r, int id, hid_t *file, char *err)
{
    char name[64];
    H5L_info_t info;
    *file = -1;
    snprintf(name, sizeof name, "runs/r%06d", id);
    if (!h5io_stored_has_run(r, id) || H5Lget_info((hid_t)r->file, name, &info, H5P_DEFAULT) < 0)
        return nn_errf(err, "%s: run %d is not in the file", r->path, id);
    if (info.type == H5L_TYPE_HARD) {
        hid_t g = H5Gopen2((hid_t)r->file, name, H5P_DEFAULT);
        return g >= 0 ? g : nn_errf(err, "%s: run %d is not a group", r->path, id);
    }
    char *val = info.type == H5L_TYPE_EXTERNAL && info.u.val_size < 8192 ? malloc(info.u.val_size + 1) : NULL;
    const char *target = NULL, *object = NULL;
    unsigned flags = 0;
    hid_t g = -1;
    if (!val || H5Lget_val((hid_t)r->file, name, val, info.u.val_size, H5P_DEFAULT) < 0 ||
        H5Lunpack_elink_val(val, info.u.val_size, &flags, &target, &object) < 0)
        nn_errf(err, "%s: /runs/r%06d is neither a run nor a link to a run file", r->path, id);
    else
        g = linked_run_open(r, id, target, object, file, err);
    free(val);
    return g;
}

int h5io_stored_model(const StoredResults *r, int id, const char *which, const Mlp *m, float *params, double *offset,
                      double *factor, char *err)
{
    hid_t file = -1, g = stored_run_open(r, id, &file, err);
    if (g < 0) return 2;
    int rc = 0;
    char kept[16] = "all";
    int64_t init_kept = 1, pruned_kept = 1;
    attr_read_str(g, "storage.keep_weights", kept, sizeof kept);
    attr_read(g, "storage.keep_init", H5T_NATIVE_INT64, &init_kept);
    attr_read(g, "storage.keep_pruned", H5T_NATIVE_INT64, &pruned_kept); /* pruned runs only */
    int validation = H5Lexists(g, "curves", H5P_DEFAULT) > 0 && H5Lexists(g, "curves/val_loss", H5P_DEFAULT) > 0;
    int best_dropped = validation && (!strcmp(kept, "final") || !strcmp(kept, "none"));
    if (H5Lexists(g, which, H5P_DEFAULT) > 0) {
        rc = 0;
    } else if (!pruned_kept) {
        nn_errf(err, "%s: run %d was pruned by successive halving, and a pruned run's weights are not kept "
                "(storage.keep_pruned: false)", r->path, id);
        rc = 2;
    } else if (!strcmp(which, "init") && !init_kept) {
        nn_errf(err, "%s: run %d's initial weights were not kept (storage.keep_init: false)", r->path, id);
        rc = 2;
    } else if (!strcmp(which, "weights") ? strcmp(kept, "all") != 0 : best_dropped) {
        nn_errf(err, "%s: run %d's %s weights were not kept (storage.keep_weights: %s)%s", r->path, id,
                strcmp(which, "best") ? "final" : "selected epoch's", kept,
                !strcmp(kept, "final") ? "; --final uses the final weights" : "");
        rc = 2;
    } else {
        rc = 1; /* no best/: no validation */
    }
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
    if (file >= 0) H5Fclose(file);
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
