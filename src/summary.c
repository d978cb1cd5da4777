/* summary.c — nnlab summary: reading /summary, grouping runs by config
 * point, ranking and printing. */
#define _POSIX_C_SOURCE 200809L
#include "summary.h"

#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "grid.h"
#include "h5io.h"
#include "nnlab.h"
#include "stats.h"

const char *const summary_metric_names[] = {"val_acc", "val_loss", "test_acc", "test_loss", "final_val_acc",
                                            "final_val_loss", "final_test_acc", "final_test_loss", "final_train_acc",
                                            "final_train_loss", "best_epoch", "epochs_done", "seconds", NULL};
const char *const summary_metric_names_v1[] = {"final_test_acc", "best_test_acc", "final_test_loss", "final_train_acc",
                                               "final_train_loss", "seconds", NULL};
const char summary_test_ranking_note[] =
    "ranked on the test set: no validation split (dataset.validation_fraction or dataset.folds)";

static int metric_index(const char *const *names, const char *name)
{
    for (int m = 0; names[m]; m++)
        if (!strcmp(names[m], name)) return m;
    return -1;
}

#define VALUE_LEN 64
/* The largest config id of an experiment: cfg refuses grids of more than
 * 10^6 config points. Ids are not bounded by the row count, as a merge
 * leaves out runs without a run file. */
#define SUMMARY_MAX_CONFIG 999999

/* What a config point holds: its swept values and its runs' keys and values. */
static void config_free(SummaryConfig *c, int n_swept)
{
    for (int k = 0; k < n_swept && c->swept; k++) free(c->swept[k]);
    free(c->swept);
    free(c->seed);
    free(c->fold);
    free(c->values);
}

void summary_free(SummaryTable *t)
{
    if (!t) return;
    for (int c = 0; c < t->n_configs; c++) config_free(&t->configs[c], t->n_swept);
    for (int k = 0; k < t->n_swept; k++) free(t->swept_keys[k]);
    for (int e = 0; e < t->n_experiments && t->experiments; e++) free(t->experiments[e]);
    free(t->experiments);
    free(t->name);
    free(t->resolved);
    free(t->swept_keys);
    free(t->configs);
    free(t);
}

/* ---- reading /summary ------------------------------------------------------ */

/* One member of the compound /summary, converted to mem_type, for all rows. */
static int read_member(hid_t d, const char *name, hid_t mem_type, size_t size, void *out)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    if (t < 0) return -1;
    int rc = H5Tinsert(t, name, 0, mem_type) < 0 || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0;
    H5Tclose(t);
    return rc ? -1 : 0;
}

static int read_strings(hid_t d, const char *name, char *out)
{
    hid_t s = H5Tcopy(H5T_C_S1);
    if (s < 0 || H5Tset_size(s, VALUE_LEN) < 0) return -1;
    int rc = read_member(d, name, s, VALUE_LEN, out);
    H5Tclose(s);
    return rc;
}

/* A swept column's values as text, whatever its type; true/false settings
 * as true and false, as the experiment writes them. */
static int read_swept(hid_t d, const char *name, H5T_class_t cls, int n, char *out)
{
    const SettingDef *def = cfg_find_setting(name);
    int boolean = def && def->type == SET_BOOL; /* stored as 1 and 0 */
    if (cls == H5T_STRING) return read_strings(d, name, out);
    double *v = nn_alloc((size_t)n, sizeof(double));
    int64_t *iv = nn_alloc((size_t)n, sizeof(int64_t));
    int rc = !v || !iv;
    if (!rc && cls == H5T_INTEGER) rc = read_member(d, name, H5T_NATIVE_INT64, sizeof(int64_t), iv);
    else if (!rc) rc = read_member(d, name, H5T_NATIVE_DOUBLE, sizeof(double), v);
    for (int i = 0; i < n && !rc; i++) {
        if (cls == H5T_INTEGER && boolean && (iv[i] == 0 || iv[i] == 1))
            snprintf(out + (size_t)i * VALUE_LEN, VALUE_LEN, "%s", iv[i] ? "true" : "false");
        else if (cls == H5T_INTEGER) snprintf(out + (size_t)i * VALUE_LEN, VALUE_LEN, "%lld", (long long)iv[i]);
        else snprintf(out + (size_t)i * VALUE_LEN, VALUE_LEN, "%.10g", v[i]);
    }
    free(v);
    free(iv);
    return rc ? -1 : 0;
}

/* A string attribute of the file ("format": "nnlab-results", "nnlab-run") in out, or "". */
static void file_attr(hid_t f, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (H5Aexists(f, name) <= 0) return;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    char *s = NULL;
    if (a >= 0 && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        H5Aread(a, t, &s) >= 0 && s)
        snprintf(out, cap, "%s", s);
    if (s) H5free_memory(s);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
}

/* A text attribute of the file, malloc'd; NULL when absent. */
static char *file_attr_dup(hid_t f, const char *name)
{
    char *out = NULL, *s = NULL;
    if (H5Aexists(f, name) <= 0) return NULL;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    if (a >= 0 && t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        H5Aread(a, t, &s) >= 0 && s)
        out = nn_strdup(s);
    if (s) H5free_memory(s);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return out;
}

/* /data's val_majority_share, the validation accuracy of always predicting
 * the majority class, or NaN: files before it, experiments without
 * validation and the in-memory merge of run files (no /data) have none. */
static double majority_share(hid_t f)
{
    double v = NAN;
    if (H5Lexists(f, "data", H5P_DEFAULT) <= 0 ||
        H5Aexists_by_name(f, "data", "val_majority_share", H5P_DEFAULT) <= 0)
        return v;
    hid_t a = H5Aopen_by_name(f, "data", "val_majority_share", H5P_DEFAULT, H5P_DEFAULT);
    hid_t space = a < 0 ? -1 : H5Aget_space(a), type = a < 0 ? -1 : H5Aget_type(a);
    int ok = space >= 0 && type >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
             (H5Tget_class(type) == H5T_FLOAT || H5Tget_class(type) == H5T_INTEGER);
    if (!ok || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0 || !(v >= 0 && v <= 1)) v = NAN;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    return v;
}

/* A mean validation accuracy this close to the majority class's share is
 * that share: the same ratio count / n_val in every run, averaged. */
#define ONE_CLASS_TOL 1e-12

/* The columns every results file has: config (integers), status (text) and
 * the metrics (numbers). A one-line message for the first one missing or of
 * another type: HDF5 would read a missing member as whatever the buffer
 * held. */
static int check_columns(hid_t ft, const SummaryTable *t, const char *name, char *err)
{
    for (int m = -2; m < 0 || t->metrics[m]; m++) {
        const char *col = m == -2 ? "config" : m == -1 ? "status" : t->metrics[m];
        int i = H5Tget_member_index(ft, col);
        if (i < 0) return nn_errf(err, "%s: /summary lacks the %s column", name, col);
        H5T_class_t cls = H5Tget_member_class(ft, (unsigned)i);
        int ok = m == -2 ? cls == H5T_INTEGER : m == -1 ? cls == H5T_STRING : cls == H5T_INTEGER || cls == H5T_FLOAT;
        if (!ok)
            return nn_errf(err, "%s: /summary column %s holds %s", name, col,
                           m == -2 ? "other values than integers" : m == -1 ? "other values than text"
                                                                  : "other values than numbers");
    }
    return 0;
}

/* Whether the file holds the n rows /summary claims. Reading them takes
 * memory in proportion, and a crafted file may claim 10^8 rows it never
 * stored (HDF5 reads unwritten rows as fill values) or compress them a
 * thousandfold; nnlab writes them whole, so a row count beyond the file's
 * size is a damaged or crafted file. */
static int check_rows(hid_t f, hid_t d, hid_t ft, hssize_t n, const char *name, char *err)
{
    hsize_t file_size = 0;
    size_t row = H5Tget_size(ft);
    if (row == 0 || H5Fget_filesize(f, &file_size) < 0) return nn_errf(err, "%s: /summary is not a table", name);
    if (n > 0 && H5Dget_storage_size(d) == 0)
        return nn_errf(err, "%s: /summary has %lld rows but none is stored (a damaged or crafted file)", name,
                       (long long)n);
    if ((hsize_t)n > file_size / row || n > INT32_MAX)
        return nn_errf(err, "%s: /summary claims %lld rows of %zu bytes, more than the file's %llu bytes hold (a "
                       "damaged or crafted file)", name, (long long)n, row, (unsigned long long)file_size);
    return 0;
}

/* A row of /summary by its config id, for grouping: sorted by config, then
 * by row, so each config point's runs are taken in file order. */
typedef struct {
    int32_t config;
    int row;
} RowRef;

static int compare_rows(const void *pa, const void *pb)
{
    const RowRef *a = pa, *b = pb;
    if (a->config != b->config) return (a->config > b->config) - (a->config < b->config);
    return (a->row > b->row) - (a->row < b->row);
}

/* One config point from its runs (rows ref[0..k), in file order): counts,
 * and mean and std of each metric over the runs where it is finite. */
static int summarise_config(SummaryConfig *sc, const RowRef *ref, int k, const SummaryTable *t, const char *status,
                            const int32_t *rung, const int64_t *seed, const int64_t *fold, double *const *metric,
                            const char *swept, size_t n)
{
    int n_metrics = 0;
    while (t->metrics[n_metrics]) n_metrics++;
    sc->seed = nn_alloc((size_t)k, sizeof *sc->seed);
    sc->fold = nn_alloc((size_t)k, sizeof *sc->fold);
    sc->values = nn_alloc((size_t)k * (size_t)n_metrics, sizeof *sc->values);
    if (!sc->seed || !sc->fold || !sc->values) return -1;
    double mean[SUM_MAX_METRICS] = {0}, m2[SUM_MAX_METRICS] = {0}; /* Welford's running mean and M2 */
    int finite[SUM_MAX_METRICS] = {0};
    sc->config = ref[0].config;
    sc->n_runs = k;
    for (int j = 0; j < k; j++) {
        size_t i = (size_t)ref[j].row;
        sc->n_diverged += !strcmp(status + i * VALUE_LEN, "diverged");
        sc->pruned |= !strcmp(status + i * VALUE_LEN, "pruned") || !strcmp(status + i * VALUE_LEN, "paused");
        if (rung && rung[i] > sc->rung) sc->rung = rung[i];
        sc->seed[j] = seed ? seed[i] : (int64_t)i;
        sc->fold[j] = fold ? fold[i] : 0;
        for (int m = 0; t->metrics[m]; m++) {
            double v = sc->values[(size_t)j * (size_t)n_metrics + (size_t)m] = metric[m][i];
            if (!isfinite(v)) continue;
            double delta = v - mean[m];
            mean[m] += delta / ++finite[m];
            m2[m] += delta * (v - mean[m]);
        }
    }
    for (int m = 0; t->metrics[m]; m++) {
        int f = finite[m];
        sc->n[m] = f;
        sc->mean[m] = f ? mean[m] : NAN;
        sc->std[m] = f ? (f > 1 ? sqrt(m2[m] / (f - 1)) : 0.0) : NAN;
    }
    sc->swept = nn_calloc((size_t)t->n_swept + 1, sizeof(char *));
    if (!sc->swept) return -1;
    for (int s = 0; s < t->n_swept; s++)
        if (!(sc->swept[s] = nn_strdup(swept + ((size_t)s * n + (size_t)ref[0].row) * VALUE_LEN))) return -1;
    return 0;
}

/* Group the rows of /summary by config point, in order of config id. */
static int table_from_file(SummaryTable *t, hid_t f, const char *name, char *err)
{
    char format[32], validation[32];
    file_attr(f, "format", format, sizeof format);
    if (!strcmp(format, "nnlab-run"))
        return nn_errf(err, "%s: one run's file; summary reads an experiment's results.h5, or its output folder", name);
    if (strcmp(format, "nnlab-results"))
        return nn_errf(err, "%s: not an nnlab results file (no format=\"nnlab-results\")", name);
    int64_t version = 0;
    hid_t va = H5Aexists(f, "format_version") > 0 ? H5Aopen(f, "format_version", H5P_DEFAULT) : -1;
    if (va < 0 || H5Aread(va, H5T_NATIVE_INT64, &version) < 0) version = 0;
    if (va >= 0) H5Aclose(va);
    if (version != 1 && version != 2)
        return nn_errf(err, "%s: results format_version %lld; this nnlab (%s) reads 1 and 2", name, (long long)version,
                       NNLAB_VERSION);
    file_attr(f, "validation", validation, sizeof validation);
    t->name = file_attr_dup(f, "name");
    t->resolved = file_attr_dup(f, "experiment");
    t->format_version = (int)version;
    t->validation = version == 2 && validation[0] && strcmp(validation, "none");
    t->metrics = version == 2 ? summary_metric_names : summary_metric_names_v1;
    t->rank_metric = metric_index(t->metrics, version == 1 ? "final_test_acc" : t->validation ? "val_acc" : "test_acc");
    hid_t d = H5Lexists(f, "summary", H5P_DEFAULT) > 0 ? H5Dopen2(f, "summary", H5P_DEFAULT) : -1;
    if (d < 0) return nn_errf(err, "%s: no /summary table", name);
    hid_t ft = H5Dget_type(d), space = H5Dget_space(d);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int members = ft < 0 || H5Tget_class(ft) != H5T_COMPOUND ? -1 : H5Tget_nmembers(ft);
    int32_t *config = NULL, *rung = NULL;
    int64_t *seed = NULL, *fold = NULL;
    double *metric[SUM_MAX_METRICS] = {0};
    int n_metrics = 0;
    while (t->metrics[n_metrics]) n_metrics++;
    char *status = NULL, *swept = NULL;
    RowRef *ref = NULL;
    int rc = -1;
    if (n < 0 || members < 0) {
        nn_errf(err, "%s: /summary is not a table", name);
        goto done;
    }
    if (check_columns(ft, t, name, err) || check_rows(f, d, ft, n, name, err)) goto done;
    t->n_runs = (int)n;
    config = nn_alloc((size_t)n, sizeof *config);
    status = nn_alloc((size_t)n, VALUE_LEN);
    if (!config || !status) goto oom;
    if (read_member(d, "config", H5T_NATIVE_INT32, sizeof(int32_t), config) || read_strings(d, "status", status)) {
        nn_errf(err, "%s: cannot read the config and status columns of /summary", name);
        goto done;
    }
    if (H5Tget_member_index(ft, "rung") >= 0) { /* successive halving's; absent before it */
        if (!(rung = nn_alloc((size_t)n, sizeof *rung))) goto oom;
        if (read_member(d, "rung", H5T_NATIVE_INT32, sizeof(int32_t), rung)) {
            nn_errf(err, "%s: cannot read the rung column of /summary", name);
            goto done;
        }
    }
    /* seed and fold, to pair runs across config points; absent (fold: no
     * folds in format 1) or not integers, the runs are not paired */
    int si = H5Tget_member_index(ft, "seed"), fi = H5Tget_member_index(ft, "fold");
    t->has_keys = si >= 0 && H5Tget_member_class(ft, (unsigned)si) == H5T_INTEGER &&
                  (fi < 0 || H5Tget_member_class(ft, (unsigned)fi) == H5T_INTEGER);
    if (t->has_keys) {
        if (!(seed = nn_alloc((size_t)n, sizeof *seed))) goto oom;
        if (fi >= 0 && !(fold = nn_alloc((size_t)n, sizeof *fold))) goto oom;
        if (read_member(d, "seed", H5T_NATIVE_INT64, sizeof(int64_t), seed) ||
            (fold && read_member(d, "fold", H5T_NATIVE_INT64, sizeof(int64_t), fold))) {
            nn_errf(err, "%s: cannot read the seed and fold columns of /summary", name);
            goto done;
        }
    }
    for (hssize_t i = 0; i < n; i++)
        if (config[i] < 0 || config[i] > SUMMARY_MAX_CONFIG) {
            nn_errf(err, "%s: /summary row %lld: config %ld is not a config point's id (0..%d)", name, (long long)i,
                    (long)config[i], SUMMARY_MAX_CONFIG);
            goto done;
        }
    for (int m = 0; m < n_metrics; m++) {
        metric[m] = nn_alloc((size_t)n, sizeof(double));
        if (!metric[m]) goto oom;
        if (read_member(d, t->metrics[m], H5T_NATIVE_DOUBLE, sizeof(double), metric[m])) {
            nn_errf(err, "%s: cannot read /summary column %s", name, t->metrics[m]);
            goto done;
        }
    }
    /* Swept columns are the dotted names. */
    int n_dotted = 0;
    for (int i = 0; i < members; i++) {
        char *mname = H5Tget_member_name(ft, (unsigned)i);
        if (!mname) goto oom;
        n_dotted += strchr(mname, '.') != NULL;
        H5free_memory(mname);
    }
    t->swept_keys = nn_calloc((size_t)n_dotted + 1, sizeof(char *));
    swept = nn_alloc((size_t)n_dotted * (size_t)(n ? n : 1), VALUE_LEN);
    if (!t->swept_keys || !swept) goto oom;
    for (int i = 0; i < members; i++) {
        char *mname = H5Tget_member_name(ft, (unsigned)i);
        if (!mname) goto oom;
        if (strchr(mname, '.') && t->n_swept < n_dotted) {
            int k = t->n_swept;
            if (!(t->swept_keys[t->n_swept++] = nn_strdup(mname))) {
                H5free_memory(mname);
                goto oom;
            }
            if (read_swept(d, mname, H5Tget_member_class(ft, (unsigned)i), (int)n, swept + (size_t)k * n * VALUE_LEN)) {
                nn_errf(err, "%s: cannot read /summary column %s", name, mname);
                H5free_memory(mname);
                goto done;
            }
        }
        H5free_memory(mname);
    }

    /* Config points in order of config id: the rows sorted by it. */
    ref = nn_alloc((size_t)n, sizeof *ref);
    if (!ref) goto oom;
    for (hssize_t i = 0; i < n; i++) ref[i] = (RowRef){config[i], (int)i};
    qsort(ref, (size_t)n, sizeof *ref, compare_rows);
    int groups = 0;
    for (hssize_t i = 0; i < n; i++) groups += i == 0 || ref[i].config != ref[i - 1].config;
    t->configs = nn_calloc((size_t)groups, sizeof *t->configs);
    if (!t->configs) goto oom;
    for (hssize_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && ref[j].config == ref[i].config;) j++;
        SummaryConfig *sc = &t->configs[t->n_configs++];
        if (summarise_config(sc, ref + i, (int)(j - i), t, status, rung, seed, fold, metric, swept, (size_t)n))
            goto oom;
        t->has_rungs |= sc->pruned;
    }
    t->val_majority_share = t->validation ? majority_share(f) : NAN;
    int val_acc = metric_index(t->metrics, "val_acc");
    for (int c = 0; c < t->n_configs && val_acc >= 0; c++)
        t->configs[c].one_class = fabs(t->configs[c].mean[val_acc] - t->val_majority_share) <= ONE_CLASS_TOL;
    rc = 0;
    goto done;
oom:
    nn_errf(err, "%s: out of memory", name);
done:
    free(ref);
    free(config);
    free(rung);
    free(seed);
    free(fold);
    free(status);
    free(swept);
    for (int m = 0; m < n_metrics; m++) free(metric[m]);
    if (space >= 0) H5Sclose(space);
    if (ft >= 0) H5Tclose(ft);
    H5Dclose(d);
    return rc;
}

/* ---- choosing results.h5 or the run files ---------------------------------- */

/* Newest modification time of <dir>/runs/r*.h5, 0 if none. */
static double newest_run_file(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/runs", dir);
    DIR *dp = opendir(path);
    if (!dp) return 0;
    double newest = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] != 'r' || len < 4 || strcmp(e->d_name + len - 3, ".h5")) continue;
        struct stat st;
        snprintf(path, sizeof path, "%s/runs/%s", dir, e->d_name);
        if (stat(path, &st) == 0) {
            double t = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
            newest = t > newest ? t : newest;
        }
    }
    closedir(dp);
    return newest;
}

static int from_run_files(SummaryTable *t, const char *dir, char *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/experiment.yaml", dir);
    Experiment *ex = NULL;
    RunSpec *runs = NULL;
    int n_runs = 0, rc = -1;
    if (access(path, R_OK) != 0) return nn_errf(err, "%s: no results.h5 and no experiment.yaml: not an nnlab output folder", dir);
    if (cfg_load(&ex, path, NULL, 0, err) || grid_expand(ex, &runs, &n_runs, err)) goto done;
    MergeReport rep;
    hid_t f = (hid_t)h5io_merge_memory(dir, ex, runs, n_runs, &rep, err);
    if (f < 0) goto done;
    t->n_missing = rep.n_missing;
    t->n_rejected = rep.n_rejected;
    snprintf(t->rejected, sizeof t->rejected, "%s", rep.rejected);
    t->from_run_files = 1;
    rc = table_from_file(t, f, dir, err);
    H5Fclose(f);
done:
    free(runs);
    cfg_free(ex);
    return rc;
}

int summary_load(SummaryTable **out, const char *path, char *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return nn_errf(err, "%s: %s", path, strerror(errno));
    char dir[4096], results[4200];
    if (S_ISDIR(st.st_mode)) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(results, sizeof results, "%s/results.h5", dir);
    } else {
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
        snprintf(results, sizeof results, "%s", path);
    }
    SummaryTable *t = calloc(1, sizeof *t);
    if (!t) return nn_errf(err, "out of memory");
    double merged = 0;
    if (stat(results, &st) == 0) merged = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
    double runs = newest_run_file(dir);
    int rc;
    if (merged > 0 && merged >= runs) {
        hid_t f = H5Fopen(results, H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) rc = nn_errf(err, "%s: not an HDF5 file", results);
        else {
            rc = table_from_file(t, f, results, err);
            H5Fclose(f);
        }
    } else {
        rc = from_run_files(t, dir, err);
    }
    if (rc) {
        summary_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* ---- several experiments as one table -------------------------------------- */

/* The folder of a results path: the path itself, or a results.h5's folder; its last name into base. */
static void folder_name(const char *path, char *base, size_t cap)
{
    char folder[4096];
    struct stat st;
    snprintf(folder, sizeof folder, "%s", path);
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(folder, '/');
        snprintf(slash ? slash : folder, slash ? 2 : sizeof folder, "%s", slash ? "/" : ".");
    }
    size_t len = strlen(folder);
    while (len > 1 && folder[len - 1] == '/') folder[--len] = '\0';
    snprintf(base, cap, "%s", strrchr(folder, '/') ? strrchr(folder, '/') + 1 : folder);
}

static const char *part_name(SummaryTable *const *parts, const char *const *paths, int i)
{
    return parts[i]->name && *parts[i]->name ? parts[i]->name : paths[i];
}

/* The label of experiment i: its name; "name (folder)" when another has that
 * name too; "name (path)" when their folders have one name as well. */
static char *experiment_label(SummaryTable **parts, int n, const char *const *paths, int i)
{
    const char *name = part_name(parts, paths, i);
    char base[4096], other[4096], label[8400];
    int name_clash = 0, folder_clash = 0;
    folder_name(paths[i], base, sizeof base);
    for (int j = 0; j < n; j++) {
        if (j == i || strcmp(part_name(parts, paths, j), name)) continue;
        name_clash = 1;
        folder_name(paths[j], other, sizeof other);
        folder_clash |= !strcmp(other, base);
    }
    if (!name_clash) return nn_strdup(name);
    snprintf(label, sizeof label, "%s (%s)", name, folder_clash ? paths[i] : base);
    return nn_strdup(label);
}

/* The key's index among keys[0..n), or -1. */
static int key_index(char **keys, int n, const char *key)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(keys[k], key)) return k;
    return -1;
}

/* The resolved settings of each part (cfg_load_text of its experiment attribute). */
static int resolve_parts(SummaryTable **parts, int n, const char *const *paths, Experiment **ex, char *err)
{
    for (int i = 0; i < n; i++) {
        if (!parts[i]->resolved)
            return nn_errf(err, "%s: the results file holds no resolved experiment to compare with the others",
                           paths[i]);
        char msg[NN_ERR_LEN];
        if (cfg_load_text(&ex[i], paths[i], parts[i]->resolved, strlen(parts[i]->resolved), NULL, 0, msg))
            return nn_errf(err, "%s: its resolved experiment does not load: %s", paths[i], msg);
    }
    return 0;
}

/* The keys of the joined table: every part's swept ones, in order of first
 * appearance, then each setting (cfg_settings order) swept nowhere whose
 * resolved value differs between the parts. */
static int joined_keys(SummaryTable **parts, int n, Experiment **ex, char ***keys_out, int *n_keys)
{
    int cap = cfg_n_settings + 1, count = 0;
    for (int i = 0; i < n; i++) cap += parts[i]->n_swept;
    char **keys = nn_calloc((size_t)cap, sizeof *keys);
    if (!keys) return -1;
    *keys_out = keys;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < parts[i]->n_swept; k++)
            if (key_index(keys, count, parts[i]->swept_keys[k]) < 0 &&
                !(keys[count++] = nn_strdup(parts[i]->swept_keys[k])))
                return -1;
    for (int d = 0; d < cfg_n_settings; d++) {
        const SettingDef *def = &cfg_settings[d];
        if (key_index(keys, count, def->key) >= 0) continue;
        char first[256], value[256];
        cfg_format_value(first, sizeof first, def, &ex[0]->settings);
        int differs = 0;
        for (int i = 1; i < n && !differs; i++) {
            cfg_format_value(value, sizeof value, def, &ex[i]->settings);
            differs = strcmp(first, value) != 0;
        }
        if (differs && !(keys[count++] = nn_strdup(def->key))) return -1;
    }
    *n_keys = count;
    return 0;
}

/* Config point c of part p, with its values of the joined keys: its own
 * swept value, else the part's resolved one. */
static int rekey_config(SummaryConfig *c, const SummaryTable *p, const Experiment *ex, char **keys, int n_keys)
{
    char **swept = nn_calloc((size_t)n_keys + 1, sizeof *swept);
    if (!swept) return -1;
    for (int k = 0; k < n_keys; k++) {
        int own = key_index(p->swept_keys, p->n_swept, keys[k]);
        const SettingDef *def = cfg_find_setting(keys[k]);
        char value[256] = "";
        if (own < 0 && def) cfg_format_value(value, sizeof value, def, &ex->settings);
        swept[k] = own >= 0 ? c->swept[own] : nn_strdup(value);
        if (own >= 0) c->swept[own] = NULL;
        if (!swept[k]) {
            for (int j = 0; j < k; j++) free(swept[j]);
            free(swept);
            return -1;
        }
    }
    for (int k = 0; k < p->n_swept; k++) free(c->swept[k]);
    free(c->swept);
    c->swept = swept;
    return 0;
}

int summary_concat(SummaryTable **out, SummaryTable **parts, int n, const char *const *paths, char *err)
{
    *out = NULL;
    Experiment **ex = nn_calloc((size_t)n, sizeof *ex);
    SummaryTable *t = calloc(1, sizeof *t);
    int rc = -1, total = 0;
    if (!ex || !t) {
        nn_errf(err, "out of memory");
        goto done;
    }
    for (int i = 1; i < n; i++) {
        if (parts[i]->format_version != parts[0]->format_version || parts[i]->validation != parts[0]->validation) {
            const SummaryTable *a = parts[0], *b = parts[i];
            nn_errf(err, "%s and %s rank on different things: %s ranks on %s, %s on %s; compare experiments that "
                    "both have a validation split, or both none", paths[0], paths[i], paths[0],
                    a->metrics[a->rank_metric], paths[i], b->metrics[b->rank_metric]);
            goto done;
        }
    }
    if (resolve_parts(parts, n, paths, ex, err)) goto done;
    *t = (SummaryTable){.format_version = parts[0]->format_version, .validation = parts[0]->validation,
                        .metrics = parts[0]->metrics, .rank_metric = parts[0]->rank_metric, .has_keys = 1,
                        .val_majority_share = NAN, .n_experiments = n};
    if (joined_keys(parts, n, ex, &t->swept_keys, &t->n_swept)) goto oom;
    for (int i = 0; i < n; i++) total += parts[i]->n_configs;
    t->configs = nn_calloc((size_t)total + 1, sizeof *t->configs);
    t->experiments = nn_calloc((size_t)n, sizeof *t->experiments);
    if (!t->configs || !t->experiments) goto oom;
    for (int i = 0; i < n; i++)
        if (!(t->experiments[i] = experiment_label(parts, n, paths, i))) goto oom;
    for (int i = 0; i < n; i++) {
        SummaryTable *p = parts[i];
        t->n_runs += p->n_runs;
        t->has_keys &= p->has_keys;
        t->has_rungs |= p->has_rungs;
        while (p->n_configs > 0) { /* moved from the part, last first */
            SummaryConfig *c = &p->configs[0];
            if (rekey_config(c, p, ex[i], t->swept_keys, t->n_swept)) goto oom;
            c->experiment = i;
            t->configs[t->n_configs++] = *c;
            memmove(p->configs, p->configs + 1, (size_t)--p->n_configs * sizeof *c);
        }
    }
    *out = t;
    t = NULL;
    rc = 0;
    goto done;
oom:
    nn_errf(err, "out of memory");
done:
    for (int i = 0; i < n; i++) {
        if (ex) cfg_free(ex[i]);
        summary_free(parts[i]);
        parts[i] = NULL;
    }
    free(ex);
    summary_free(t);
    return rc;
}

/* Appends ", item" to list (just "item" when the list is empty). */
static void append_item(char *list, size_t cap, const char *item)
{
    size_t len = strlen(list);
    snprintf(list + len, cap - len, "%s%s", len ? ", " : "", item);
}

/* ---- ranking and printing -------------------------------------------------- */

/* A config point's sort key: the direction is folded into `key`, so the
 * comparison needs no context (qsort has no context argument in C11). */
typedef struct {
    double key;
    int pruned, rung, nan, experiment, config, index; /* those promoted to the last rung first, then by rung reached */
} SortKey;

static int compare(const void *pa, const void *pb)
{
    const SortKey *a = pa, *b = pb;
    if (a->pruned != b->pruned) return a->pruned - b->pruned;
    if (a->pruned && a->rung != b->rung) return b->rung - a->rung;
    if (a->nan != b->nan) return a->nan - b->nan;
    if (!a->nan && a->key != b->key) return a->key > b->key ? 1 : -1;
    if (a->experiment != b->experiment) return a->experiment - b->experiment;
    return (a->config > b->config) - (a->config < b->config);
}

int summary_sort(SummaryTable *t, const char *metric, char *err)
{
    int m = metric ? metric_index(t->metrics, metric) : t->rank_metric;
    if (m < 0) {
        char names[512] = "";
        for (int i = 0; t->metrics[i]; i++) append_item(names, sizeof names, t->metrics[i]);
        return nn_errf(err, "unknown metric '%s'; allowed%s: %s", metric,
                       t->format_version == 1 ? " in a format 1 results file" : "", names);
    }
    int descending = strstr(t->metrics[m], "_acc") != NULL;
    SortKey *keys = nn_alloc((size_t)t->n_configs, sizeof *keys);
    SummaryConfig *sorted = nn_alloc((size_t)t->n_configs, sizeof *sorted);
    if (!keys || !sorted) {
        free(keys);
        free(sorted);
        return nn_errf(err, "out of memory");
    }
    for (int i = 0; i < t->n_configs; i++) {
        double v = t->configs[i].mean[m];
        const SummaryConfig *c = &t->configs[i];
        keys[i] = (SortKey){descending ? -v : v, c->pruned, c->rung, isnan(v), c->experiment, c->config, i};
    }
    t->sorted_by = m;
    qsort(keys, (size_t)t->n_configs, sizeof *keys, compare);
    for (int i = 0; i < t->n_configs; i++) sorted[i] = t->configs[keys[i].index];
    memcpy(t->configs, sorted, (size_t)t->n_configs * sizeof *sorted);
    free(keys);
    free(sorted);
    return 0;
}

/* ---- intervals and ties ---------------------------------------------------- */

/* Config point c's finite values of metric m, in run order, into out; their count. */
static int finite_values(const SummaryConfig *c, int m, int n_metrics, double *out)
{
    int k = 0;
    for (int j = 0; j < c->n_runs; j++) {
        double v = c->values[(size_t)j * (size_t)n_metrics + (size_t)m];
        if (isfinite(v)) out[k++] = v;
    }
    return k;
}

/* Whether b's runs are a's (seed, fold) pairs, each once: then they pair. */
static int same_keys(const SummaryConfig *a, const SummaryConfig *b)
{
    if (a->n_runs != b->n_runs) return 0;
    for (int i = 0; i < a->n_runs; i++) {
        int found = 0;
        for (int j = 0; j < b->n_runs; j++) found += b->seed[j] == a->seed[i] && b->fold[j] == a->fold[i];
        for (int j = 0; j < i; j++) found += a->seed[j] == a->seed[i] && a->fold[j] == a->fold[i] ? 2 : 0;
        if (found != 1) return 0;
    }
    return 1;
}

/* The paired test of top against c on metric m: the differences top - c
 * over a's runs in run order, pairs with a non-finite value left out. */
static int paired_test(const SummaryConfig *top, SummaryConfig *c, int m, int n_metrics, StatsTest *r)
{
    double mean = 0, m2 = 0; /* Welford, as summarise_config */
    int k = 0;
    for (int i = 0; i < top->n_runs; i++) {
        int j = 0;
        while (c->seed[j] != top->seed[i] || c->fold[j] != top->fold[i]) j++;
        double a = top->values[(size_t)i * (size_t)n_metrics + (size_t)m];
        double b = c->values[(size_t)j * (size_t)n_metrics + (size_t)m];
        if (!isfinite(a) || !isfinite(b)) continue;
        double d = a - b, delta = d - mean;
        mean += delta / ++k;
        m2 += delta * (d - mean);
    }
    c->n_pairs = k;
    return stats_paired(mean, k > 1 ? sqrt(m2 / (k - 1)) : 0.0, k, r);
}

/* Compares config point c with rank 1 (top) on metric m. */
static void tie_test(const SummaryTable *t, const SummaryConfig *top, SummaryConfig *c, int m, int n_metrics)
{
    StatsTest r;
    c->p_value = NAN;
    c->paired = c->n_pairs = 0;
    if (c->pruned) {
        c->tied = SUM_NOT_COMPARED;
        return;
    }
    if (c == top) {
        c->tied = SUM_TIED;
        return;
    }
    c->paired = t->has_keys && c->experiment == top->experiment && same_keys(top, c);
    int rc = c->paired ? paired_test(top, c, m, n_metrics, &r)
                       : stats_welch(top->mean[m], top->std[m], top->n[m], c->mean[m], c->std[m], c->n[m], &r);
    if (rc || isnan(r.p)) { /* NaN: a spread that underflows, no degrees of freedom */
        c->tied = SUM_UNTESTABLE;
        return;
    }
    c->p_value = r.p;
    c->tied = r.p >= STATS_ALPHA ? SUM_TIED : SUM_NOT_TIED;
}

/* Up to 5 config ids of those with tied == mark (and, for pairs, fewer pairs than runs), into list. */
static int list_configs(const SummaryTable *t, int mark, int short_pairs, char *list, size_t cap)
{
    int count = 0;
    list[0] = '\0';
    for (int r = 0; r < t->n_configs; r++) {
        const SummaryConfig *c = &t->configs[r];
        int hit = short_pairs ? c->paired && c->tied != SUM_UNTESTABLE && c->n_pairs < c->n_runs : c->tied == mark;
        if (!hit) continue;
        char item[96];
        if (short_pairs) snprintf(item, sizeof item, "c%04d %d of %d", c->config, c->n_pairs, c->n_runs);
        else if (t->n_experiments > 1)
            snprintf(item, sizeof item, "%s c%04d", t->experiments[c->experiment], c->config);
        else snprintf(item, sizeof item, "c%04d", c->config);
        if (count < 5) append_item(list, cap, item);
        count++;
    }
    if (count > 5) {
        size_t len = strlen(list);
        snprintf(list + len, cap - len, " and %d more", count - 5);
    }
    return count;
}

/* tie_note: "tied: not significantly different from rank 1 (...)". */
static void write_tie_note(SummaryTable *t)
{
    int paired = 0, welch = 0, pairs_lo = 0, pairs_hi = 0;
    for (int r = 1; r < t->n_configs; r++) {
        const SummaryConfig *c = &t->configs[r];
        if (c->tied == SUM_UNTESTABLE || c->tied == SUM_NOT_COMPARED) continue;
        if (!c->paired) {
            welch++;
            continue;
        }
        pairs_lo = paired && pairs_lo < c->n_pairs ? pairs_lo : c->n_pairs;
        pairs_hi = paired && pairs_hi > c->n_pairs ? pairs_hi : c->n_pairs;
        paired++;
    }
    char *s = t->tie_note;
    size_t cap = sizeof t->tie_note, len;
    snprintf(s, cap, "tied: not significantly different from rank 1 on %s (", t->metrics[t->sorted_by]);
    len = strlen(s);
    if (paired && pairs_lo == pairs_hi)
        snprintf(s + len, cap - len, "paired t-test on %d shared (seed, fold) pairs", pairs_lo);
    else if (paired)
        snprintf(s + len, cap - len, "paired t-test on %d to %d shared (seed, fold) pairs", pairs_lo, pairs_hi);
    len = strlen(s);
    if (paired && welch) snprintf(s + len, cap - len, " for %d points, ", paired);
    len = strlen(s);
    if (welch) snprintf(s + len, cap - len, "Welch's t-test%s", paired ? " for the others" : "");
    len = strlen(s);
    if (!paired && !welch) snprintf(s + len, cap - len, "no other point could be tested");
    len = strlen(s);
    snprintf(s + len, cap - len, ", two-sided, alpha %.2f)", STATS_ALPHA);
    char list[512];
    if (list_configs(t, 0, 1, list, sizeof list)) {
        len = strlen(s);
        snprintf(s + len, cap - len, "; pairs with a non-finite value left out: %s", list);
    }
    if (list_configs(t, SUM_UNTESTABLE, 0, list, sizeof list)) {
        len = strlen(s);
        snprintf(s + len, cap - len, "; ? untestable, fewer than 2 values or pairs: %s", list);
    }
    if (list_configs(t, SUM_NOT_COMPARED, 0, list, sizeof list)) {
        len = strlen(s);
        snprintf(s + len, cap - len, "; - not compared, pruned or paused by the search: %s", list);
    }
}

int summary_stats(SummaryTable *t, int ci, char *err)
{
    int n_metrics = 0, max_runs = 1;
    while (t->metrics[n_metrics]) n_metrics++;
    for (int r = 0; r < t->n_configs; r++) max_runs = t->configs[r].n_runs > max_runs ? t->configs[r].n_runs : max_runs;
    double *v = nn_alloc((size_t)max_runs, sizeof *v);
    int32_t **draws = nn_calloc((size_t)max_runs + 1, sizeof *draws); /* the bootstrap's, by n: drawn once */
    int rc = v && draws ? 0 : nn_errf(err, "out of memory");
    t->ci = ci;
    for (int r = 0; r < t->n_configs && !rc; r++) {
        SummaryConfig *c = &t->configs[r];
        for (int m = 0; m < n_metrics && !rc; m++) {
            int n = c->n[m];
            if (ci == SUM_CI_T || n < 2) {
                stats_t_interval(c->mean[m], c->std[m], n, &c->ci_lo[m], &c->ci_hi[m]);
                if (n >= 2 && strstr(t->metrics[m], "_acc")) { /* an accuracy's interval stays within [0, 1] */
                    c->ci_lo[m] = c->ci_lo[m] < 0.0 ? 0.0 : c->ci_lo[m];
                    c->ci_hi[m] = c->ci_hi[m] > 1.0 ? 1.0 : c->ci_hi[m];
                }
                continue;
            }
            if (!draws[n] && !(draws[n] = stats_bootstrap_draws(n))) rc = nn_errf(err, "out of memory");
            else if (stats_bootstrap_interval_with(v, finite_values(c, m, n_metrics, v), draws[n], &c->ci_lo[m],
                                                   &c->ci_hi[m]))
                rc = nn_errf(err, "out of memory");
        }
        tie_test(t, &t->configs[0], c, t->sorted_by, n_metrics);
    }
    for (int n = 0; n <= max_runs && draws; n++) free(draws[n]);
    free(draws);
    free(v);
    if (rc) return rc;
    write_tie_note(t);
    t->stats_done = 1;
    return 0;
}

/* true and false as the 1 and 0 they are stored as; any other text as is. */
static const char *switch_as_number(const char *v)
{
    return !strcmp(v, "true") ? "1" : !strcmp(v, "false") ? "0" : v;
}

/* A swept value's text against one given on the command line: numbers by
 * value (0.20 is 0.2; true and false are 1 and 0 either side), anything else
 * ignoring spaces ([200,100]). */
static int same_value(const char *have, const char *want)
{
    have = switch_as_number(have);
    want = switch_as_number(want);
    char *end_have, *end_want;
    double a = strtod(have, &end_have), b = strtod(want, &end_want);
    if (end_have != have && !*end_have && end_want != want && !*end_want) return a == b;
    for (;; have++, want++) {
        while (*have == ' ') have++;
        while (*want == ' ') want++;
        if (*have != *want) return 0;
        if (!*have) return 1;
    }
}

int summary_filter(SummaryTable *t, const char *where, char *err)
{
    const char *eq = strchr(where, '=');
    if (!eq || eq == where) return nn_errf(err, "--where needs KEY=VALUE, such as model.activation=relu; got '%s'", where);
    int key_len = (int)(eq - where), k = 0;
    while (k < t->n_swept && (strncmp(t->swept_keys[k], where, (size_t)key_len) || t->swept_keys[k][key_len])) k++;
    char list[1024] = "";
    if (k == t->n_swept) {
        for (int i = 0; i < t->n_swept; i++) append_item(list, sizeof list, t->swept_keys[i]);
        return nn_errf(err, "--where: '%.*s' was not swept in this experiment; swept: %s", key_len, where,
                       *list ? list : "nothing");
    }
    int kept = 0;
    for (int c = 0; c < t->n_configs; c++) kept += same_value(t->configs[c].swept[k], eq + 1);
    if (!kept) { /* the values there are, each once */
        for (int c = 0; c < t->n_configs; c++) {
            int seen = 0;
            for (int d = 0; d < c && !seen; d++) seen = !strcmp(t->configs[d].swept[k], t->configs[c].swept[k]);
            if (!seen) append_item(list, sizeof list, t->configs[c].swept[k]);
        }
        return nn_errf(err, "--where: no config point has %s (%s takes %s)", where, t->swept_keys[k], list);
    }
    kept = 0;
    for (int c = 0; c < t->n_configs; c++) {
        SummaryConfig *sc = &t->configs[c];
        if (same_value(sc->swept[k], eq + 1)) {
            t->configs[kept++] = *sc;
            continue;
        }
        config_free(sc, t->n_swept);
    }
    t->n_configs = kept;
    return 0;
}

static void csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"') fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

/* A line for each of the first `rows` config points that predicts one class. */
static void print_one_class(FILE *out, const SummaryTable *t, int rows)
{
    int val_acc = metric_index(t->metrics, "val_acc");
    for (int r = 0; r < rows && val_acc >= 0; r++)
        if (t->configs[r].one_class)
            fprintf(out, "c%04d predicts one class: its validation accuracy %.4f is the majority class's share\n",
                    t->configs[r].config, t->configs[r].mean[val_acc]);
}

/* A metric's cell of the table: "n  mean ± std  [lo, hi]" (no interval: "-"). */
#define METRIC_CELL 37
static void metric_cell(char *cell, size_t cap, const SummaryConfig *c, int m)
{
    double mean = c->mean[m], sd = c->std[m], lo = c->ci_lo[m], hi = c->ci_hi[m];
    int small = fabs(mean) < 1e4 && !(c->n[m] > 1 && (fabs(lo) >= 1e4 || fabs(hi) >= 1e4));
    char interval[64] = "-";
    if (c->n[m] > 1 && small) snprintf(interval, sizeof interval, "[%.4f, %.4f]", lo, hi);
    else if (c->n[m] > 1) snprintf(interval, sizeof interval, "[%.3g, %.3g]", lo, hi);
    if (small) snprintf(cell, cap, "%2d  %.4f ± %.4f  %s", c->n[m], mean, sd, interval);
    else snprintf(cell, cap, "%2d  %.3g ± %.2g  %s", c->n[m], mean, sd, interval); /* a loss that blew up */
}

/* The lines under the table: what the cells and the tied column are. */
static void print_notes(FILE *out, const SummaryTable *t)
{
    fprintf(out, "cells: n (finite values)  mean ± std  [95%% interval of the mean: %s]\n",
            t->ci == SUM_CI_BOOTSTRAP ? "percentile bootstrap, 10000 resamples, seeded" : "Student t");
    fprintf(out, "%s\n", t->tie_note);
}

void summary_print(FILE *out, const SummaryTable *t, int top, int csv)
{
    int rows = top > 0 && top < t->n_configs ? top : t->n_configs;
    static const char *const v2_val[] = {"val_acc", "test_acc", "val_loss", NULL};
    static const char *const v2_test[] = {"test_acc", "test_loss", NULL};
    static const char *const v1[] = {"final_test_acc", "best_test_acc", "final_test_loss", NULL};
    const char *const *names = t->format_version == 1 ? v1 : t->validation ? v2_val : v2_test;
    int shown[8], n_shown = 0, sorted_shown = 0;
    for (int i = 0; names[i]; i++) {
        shown[n_shown] = metric_index(t->metrics, names[i]);
        sorted_shown |= shown[n_shown++] == t->sorted_by;
    }
    if (!sorted_shown) shown[n_shown++] = t->sorted_by;
    const char *by = t->metrics[t->sorted_by]; /* a ranking on a test metric says so */
    if (!t->validation && (!strncmp(by, "test_", 5) || strstr(by, "_test_")))
        fprintf(csv ? stderr : out, "%s\n", summary_test_ranking_note);
    if (csv) {
        if (t->n_experiments > 1) fputs("experiment,", out);
        fputs("rank,config", out);
        for (int k = 0; k < t->n_swept; k++) fputc(',', out), csv_field(out, t->swept_keys[k]);
        fputs(t->has_rungs ? ",runs,rung" : ",runs", out);
        for (int m = 0; m < n_shown; m++) {
            const char *name = t->metrics[shown[m]];
            fprintf(out, ",%s_mean,%s_std,%s_n,%s_ci_lo,%s_ci_hi", name, name, name, name, name);
        }
        fputs(",diverged,tied,p_value\n", out);
        for (int r = 0; r < rows; r++) {
            const SummaryConfig *c = &t->configs[r];
            if (t->n_experiments > 1) csv_field(out, t->experiments[c->experiment]), fputc(',', out);
            fprintf(out, "%d,%d", r + 1, c->config);
            for (int k = 0; k < t->n_swept; k++) fputc(',', out), csv_field(out, c->swept[k]);
            fprintf(out, ",%d", c->n_runs);
            if (t->has_rungs) fprintf(out, ",%d", c->rung);
            for (int m = 0; m < n_shown; m++) {
                int k = shown[m];
                fprintf(out, ",%.17g,%.17g,%d", c->mean[k], c->std[k], c->n[k]);
                if (c->n[k] > 1) fprintf(out, ",%.17g,%.17g", c->ci_lo[k], c->ci_hi[k]);
                else fputs(",,", out);
            }
            fprintf(out, ",%d,", c->n_diverged);
            if (c->tied == SUM_TIED || c->tied == SUM_NOT_TIED) fputs(c->tied == SUM_TIED ? "1" : "0", out);
            fputc(',', out);
            if (!isnan(c->p_value)) fprintf(out, "%.17g", c->p_value);
            fputc('\n', out);
        }
        print_notes(stderr, t);
        print_one_class(stderr, t, rows);
        return;
    }
    int width[64];
    int n_swept = t->n_swept < 64 ? t->n_swept : 64;
    for (int k = 0; k < n_swept; k++) {
        width[k] = (int)strlen(t->swept_keys[k]);
        for (int r = 0; r < rows; r++) {
            int w = (int)strlen(t->configs[r].swept[k]);
            width[k] = w > width[k] ? w : width[k];
        }
    }
    int exp_width = 10;
    for (int e = 0; e < t->n_experiments && t->n_experiments > 1; e++)
        exp_width = (int)strlen(t->experiments[e]) > exp_width ? (int)strlen(t->experiments[e]) : exp_width;
    if (t->n_experiments > 1) fprintf(out, "%-*s  ", exp_width, "experiment");
    fprintf(out, "%4s  %-6s", "rank", "config");
    for (int k = 0; k < n_swept; k++) fprintf(out, "  %-*s", width[k], t->swept_keys[k]);
    fprintf(out, "  %5s", "runs");
    if (t->has_rungs) fprintf(out, "  %4s", "rung");
    for (int m = 0; m < n_shown; m++) fprintf(out, "  %-*s", METRIC_CELL, t->metrics[shown[m]]);
    fprintf(out, "  %s  %s\n", "diverged", "tied");
    for (int r = 0; r < rows; r++) {
        const SummaryConfig *c = &t->configs[r];
        char id[16];
        snprintf(id, sizeof id, "c%04d", c->config);
        if (t->n_experiments > 1) fprintf(out, "%-*s  ", exp_width, t->experiments[c->experiment]);
        fprintf(out, "%4d  %-6s", r + 1, id);
        for (int k = 0; k < n_swept; k++) fprintf(out, "  %-*s", width[k], c->swept[k]);
        fprintf(out, "  %5d", c->n_runs);
        if (t->has_rungs) fprintf(out, "  %4d", c->rung);
        for (int m = 0; m < n_shown; m++) {
            char cell[128];
            metric_cell(cell, sizeof cell, c, shown[m]);
            fprintf(out, "  %-*s", METRIC_CELL + 1, cell); /* "±" is two bytes, one column */
        }
        static const char *const marks[] = {"*", "", "?", "-"};
        fprintf(out, "  %8d  %s\n", c->n_diverged, marks[c->tied]);
    }
    print_notes(out, t); /* what the columns are, then what to beware of */
    print_one_class(out, t, rows);
}
