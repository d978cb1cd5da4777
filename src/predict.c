/* predict.c — nnlab predict (see predict.h). A stored run is evaluated as
 * training evaluated its curves: the same data view (the experiment's own
 * split, loaded again and checked against the stored data hash) and the same
 * evaluation blocks, so its accuracy on the test split is the stored
 * test_acc to the last bit. New data is scaled with each run's stored
 * scaler. */
#define _POSIX_C_SOURCE 200809L
#include "predict.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "data.h"
#include "grid.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"
#include "train.h"

/* What is predicted on: rows x (n, d) before any run's scaling (new data),
 * or the test split of the runs' own views (views != NULL). */
typedef struct {
    int n;
    DataRows rows;         /* new data: unscaled; y[i] = -1 when unknown */
    Dataset **views;       /* own split: the config point's views, one per fold */
    int n_views;
    const int32_t *row_id; /* (n) the row numbers written in the CSV */
    const int32_t *y;      /* (n) labels, or NULL when unknown */
} Target;

static void target_free(Target *t)
{
    data_rows_free(&t->rows);
    for (int k = 0; t->views && k < t->n_views; k++) data_free(t->views[k]);
    free(t->views);
    free((void *)t->row_id);
}

/* The data set of the overrides: the experiment's source with its CSV or
 * HDF5 layout, unless the overrides name another source. */
static int new_data_config(const Experiment *ex, const PredictOptions *o, DataConfig *out, char *err)
{
    const DataConfig *d = &ex->settings.data;
    int source_given = 0;
    for (int i = 0; i < o->n_overrides; i++) {
        if (strncmp(o->overrides[i], "dataset.", 8))
            return nn_errf(err, "predict takes dataset.KEY=VALUE overrides (the data to predict on), not '%s'",
                           o->overrides[i]);
        source_given |= !strncmp(o->overrides[i], "dataset.source=", 15);
    }
    char text[10 * DATA_NAME_LEN + 256], x[DATA_NAME_LEN * 4 + 8], y[DATA_NAME_LEN * 4 + 8];
    cfg_format_value(x, sizeof x, cfg_find_setting("dataset.x"), &ex->settings);
    cfg_format_value(y, sizeof y, cfg_find_setting("dataset.y"), &ex->settings);
    if (source_given || d->source == DATA_DIGITS) snprintf(text, sizeof text, "name: predict\n");
    else if (d->source == DATA_CSV)
        snprintf(text, sizeof text, "name: predict\ndataset: {source: csv, header: %s, label_column: %d}\n",
                 d->header ? "true" : "false", d->label_column);
    else if (d->source == DATA_HDF5)
        snprintf(text, sizeof text, "name: predict\ndataset: {source: hdf5, x: %s, y: %s}\n", x, y);
    else snprintf(text, sizeof text, "name: predict\ndataset: {source: idx}\n");
    Experiment *p = NULL;
    if (cfg_load_text(&p, "nnlab predict", text, strlen(text), o->overrides, o->n_overrides, err)) return -1;
    *out = p->settings.data;
    cfg_free(p);
    return 0;
}

/* Labels of new rows numbered as the experiment's classes. */
static int align_labels(DataRows *rows, const StoredResults *r, const char *name, char *err)
{
    if (rows->class_names && !r->class_names)
        return nn_errf(err, "%s: labels are class names, but the model's classes are numbers 0..%d", name,
                       r->n_classes - 1);
    if (rows->class_names) {
        for (int k = 0; k < rows->n_class_names; k++) {
            int j = 0;
            while (j < r->n_classes && strcmp(rows->class_names[k], r->class_names[j])) j++;
            if (j == r->n_classes)
                return nn_errf(err, "%s: class '%.60s' is not one of the model's classes", name, rows->class_names[k]);
            for (int i = 0; i < rows->n; i++)
                if (rows->y[i] == k) rows->y[i] = -2 - j; /* mark as done, then flip below */
        }
        for (int i = 0; i < rows->n; i++) rows->y[i] = -2 - rows->y[i];
        return 0;
    }
    for (int i = 0; i < rows->n; i++)
        if (rows->y[i] >= r->n_classes)
            return nn_errf(err, "%s: row %d has label %d, but the model has classes 0..%d", name, i, rows->y[i],
                           r->n_classes - 1);
    return 0;
}

/* New data from the overrides: labelled when it has the model's features
 * and a label, unlabelled (CSV) when it has only the features. */
static int load_new(Target *t, const Experiment *ex, const PredictOptions *o, const StoredResults *r, char *err)
{
    DataConfig c;
    if (new_data_config(ex, o, &c, err)) return -1;
    const char *name = c.source == DATA_DIGITS ? "digits (built in)" : c.path;
    DataConfig u = c; /* a CSV of the features alone: rows without labels */
    u.label_column = DATA_NO_LABEL;
    char unlabelled_err[NN_ERR_LEN];
    if (c.source != DATA_CSV || data_load_rows(&u, &t->rows, unlabelled_err) || t->rows.d != r->n_features) {
        data_rows_free(&t->rows);
        if (data_load_rows(&c, &t->rows, err)) return -1;
    }
    if (t->rows.d != r->n_features)
        return nn_errf(err, "%s: %d features, but the model takes %d", name, t->rows.d, r->n_features);
    if (t->rows.n > 0 && t->rows.y[0] >= 0 && align_labels(&t->rows, r, name, err)) return -1;
    t->n = t->rows.n;
    int32_t *ids = nn_alloc((size_t)t->n, sizeof(int32_t));
    if (!ids) return nn_errf(err, "out of memory");
    for (int i = 0; i < t->n; i++) ids[i] = i;
    t->row_id = ids;
    t->y = t->n > 0 && t->rows.y[0] >= 0 ? t->rows.y : NULL;
    return 0;
}

/* The experiment's own test split, as config point `config`'s runs saw it. */
static int load_own(Target *t, const Experiment *ex, int config, const StoredResults *r, char *err)
{
    Settings s;
    grid_settings(ex, config, &s);
    t->n_views = data_n_sets(&s.data);
    t->views = nn_calloc((size_t)t->n_views, sizeof *t->views);
    if (!t->views) return nn_errf(err, "out of memory");
    if (data_load(&s.data, t->views, err)) return -1;
    char hash[32];
    h5io_hash_text(hash, sizeof hash, t->views[0]->hash);
    if (strcmp(hash, r->data_hash))
        return nn_errf(err, "%s has changed since the experiment ran (data hash %s now, %s in %s): its test split is "
                       "not the one the runs were scored on", s.data.source == DATA_DIGITS ? "the digits" : s.data.path,
                       hash, r->data_hash, r->path);
    const Dataset *d = t->views[0];
    t->n = d->n_test;
    int32_t *ids = nn_alloc((size_t)t->n, sizeof(int32_t));
    if (!ids) return nn_errf(err, "out of memory");
    memcpy(ids, d->test_index, (size_t)t->n * sizeof(int32_t));
    t->row_id = ids;
    t->y = d->y_test;
    return 0;
}

/* One run's probabilities (n, classes) into prob and classes (n) into
 * pred; its accuracy in *acc. */
static int predict_run(const StoredResults *r, const Experiment *ex, const RunSpec *spec, const Target *t,
                       const PredictOptions *o, float *prob, int32_t *pred, double *acc, const char **which, char *err)
{
    Settings s;
    grid_settings(ex, spec->config, &s);
    Mlp m;
    if (mlp_setup(&m, r->n_features, s.train.hidden.units, s.train.hidden.n, r->n_classes, s.train.activation,
                  (float)s.train.dropout, err))
        return -1;
    float *params = nn_alloc(m.n_params, sizeof(float)), *x = NULL;
    double *offset = nn_alloc((size_t)r->n_features, sizeof(double));
    double *factor = nn_alloc((size_t)r->n_features, sizeof(double));
    MlpWork *ws = NULL;
    int rc = -1;
    if (!params || !offset || !factor) {
        nn_errf(err, "out of memory");
        goto done;
    }
    *which = o->final ? "weights" : "best";
    int got = h5io_stored_model(r, spec->id, *which, &m, params, offset, factor, err);
    if (got == 1) { /* no best/: the experiment had no validation, its selected epoch is the last */
        *which = "weights";
        got = h5io_stored_model(r, spec->id, *which, &m, params, offset, factor, err);
    }
    if (got) {
        if (got == 1) nn_errf(err, "%s: run %d has no %s weights", r->path, spec->id, *which);
        if (got == 2) rc = 2; /* a missing or damaged run file, weights not kept: the input's fault */
        goto done;
    }
    const Dataset *view = t->views ? t->views[spec->fold] : NULL;
    const float *in = view ? view->x_test : NULL;
    if (!view) { /* new data, scaled as this run's training data was */
        x = nn_alloc((size_t)t->n * r->n_features, sizeof(float));
        if (!x) {
            nn_errf(err, "out of memory for %d rows", t->n);
            goto done;
        }
        memcpy(x, t->rows.x, (size_t)t->n * r->n_features * sizeof(float));
        data_apply_scale(x, t->n, r->n_features, offset, factor);
        in = x;
    }
    Dataset shape = {.n_train = t->n, .n_test = t->n}; /* new data: any block size gives the same rows */
    ws = mlp_work_create(&m, train_work_rows(&s.train, view ? view : &shape));
    if (!ws) {
        nn_errf(err, "out of memory for the network's buffers");
        goto done;
    }
    double loss;
    train_predict(&m, params, ws, in, t->y, t->n, prob, pred, &loss, acc);
    rc = 0;
done:
    mlp_work_destroy(ws);
    free(params);
    free(offset);
    free(factor);
    free(x);
    return rc;
}

static void class_label(char *buf, size_t cap, const StoredResults *r, int k)
{
    if (r->class_names) snprintf(buf, cap, "%s", r->class_names[k]);
    else snprintf(buf, cap, "%d", k);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(FILE *f, const StoredResults *r, const Target *t, const double *prob, const int32_t *pred)
{
    char name[256];
    fputs("row", f);
    if (t->y) fputs(",label", f);
    fputs(",predicted", f);
    for (int k = 0; k < r->n_classes; k++) {
        class_label(name, sizeof name, r, k);
        fputs(",p_", f);
        csv_text(f, name);
    }
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        fprintf(f, "%d", t->row_id[i]);
        if (t->y) class_label(name, sizeof name, r, t->y[i]), fputc(',', f), csv_text(f, name);
        class_label(name, sizeof name, r, pred[i]);
        fputc(',', f);
        csv_text(f, name);
        for (int k = 0; k < r->n_classes; k++) fprintf(f, ",%.9g", prob[(size_t)i * r->n_classes + k]);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* Accuracy, per-class precision and recall, and the confusion matrix. */
static void report_scores(FILE *out, const StoredResults *r, const Target *t, const int32_t *pred)
{
    int C = r->n_classes, correct = 0;
    long *cm = calloc((size_t)C * C, sizeof(long));
    if (!cm) return;
    for (int i = 0; i < t->n; i++) {
        cm[(size_t)t->y[i] * C + pred[i]]++;
        correct += t->y[i] == pred[i];
    }
    fprintf(out, "accuracy %.6f (%d of %d)\n", t->n ? (double)correct / t->n : NAN, correct, t->n);
    char name[256];
    fprintf(out, "%-16s %9s %9s %8s\n", "class", "precision", "recall", "support");
    for (int k = 0; k < C; k++) {
        long tp = cm[(size_t)k * C + k], predicted = 0, support = 0;
        for (int j = 0; j < C; j++) predicted += cm[(size_t)j * C + k], support += cm[(size_t)k * C + j];
        class_label(name, sizeof name, r, k);
        fprintf(out, "%-16.16s %9.4f %9.4f %8ld\n", name, predicted ? (double)tp / predicted : NAN,
                support ? (double)tp / support : NAN, support);
    }
    fprintf(out, "confusion matrix (rows: label, columns: predicted):\n%8s", "");
    for (int k = 0; k < C; k++) class_label(name, sizeof name, r, k), fprintf(out, " %7.7s", name);
    fputc('\n', out);
    for (int j = 0; j < C; j++) {
        class_label(name, sizeof name, r, j);
        fprintf(out, "%8.8s", name);
        for (int k = 0; k < C; k++) fprintf(out, " %7ld", cm[(size_t)j * C + k]);
        fputc('\n', out);
    }
    free(cm);
}

/* The runs to predict with: --run N, or config N's runs that are in the file. */
static int pick_runs(const StoredResults *r, const Experiment *ex, const PredictOptions *o, RunSpec **out, int *n_out,
                     char *err)
{
    RunSpec *all = NULL;
    int n_all = 0;
    if (grid_expand(ex, &all, &n_all, err)) return -1;
    *out = nn_alloc((size_t)n_all, sizeof **out);
    *n_out = 0;
    int rc = 0;
    if (!*out) rc = nn_errf(err, "out of memory");
    else if (o->run >= 0 && o->run >= n_all)
        rc = nn_errf(err, "no run %d: the experiment has runs 0 to %d", o->run, n_all - 1);
    else if (o->config >= 0 && o->config >= grid_n_configs(ex))
        rc = nn_errf(err, "no config point %d: the experiment has config points 0 to %d", o->config,
                     grid_n_configs(ex) - 1);
    for (int i = 0; i < n_all && !rc; i++)
        if ((o->run >= 0 ? all[i].id == o->run : all[i].config == o->config) && h5io_stored_has_run(r, all[i].id))
            (*out)[(*n_out)++] = all[i];
    if (!rc && *n_out == 0)
        rc = o->run >= 0 ? nn_errf(err, "%s: run %d is not in the file (it has not finished)", r->path, o->run)
                         : nn_errf(err, "%s: no run of config point %d is in the file", r->path, o->config);
    free(all);
    return rc;
}

int predict_main(const PredictOptions *o, FILE *report, char *err)
{
    StoredResults r;
    Experiment *ex = NULL;
    Target t;
    memset(&t, 0, sizeof t);
    RunSpec *runs = NULL;
    int n_runs = 0, status = NN_EXIT_INPUT;
    float *prob = NULL;
    double *sum = NULL;
    int32_t *pred = NULL;
    FILE *csv = NULL;
    if (h5io_stored_open(&r, o->results, err)) return NN_EXIT_INPUT;
    if (cfg_load_text(&ex, r.path, r.experiment, strlen(r.experiment), NULL, 0, err) ||
        pick_runs(&r, ex, o, &runs, &n_runs, err))
        goto done;
    if (o->n_overrides ? load_new(&t, ex, o, &r, err) : load_own(&t, ex, runs[0].config, &r, err)) goto done;
    size_t cells = (size_t)t.n * r.n_classes;
    prob = nn_alloc(cells ? cells : 1, sizeof(float));
    sum = nn_calloc(cells ? cells : 1, sizeof(double));
    pred = nn_alloc(t.n ? (size_t)t.n : 1, sizeof(int32_t));
    status = NN_EXIT_RUNTIME;
    if (!prob || !sum || !pred) {
        nn_errf(err, "out of memory for %d rows of %d classes", t.n, r.n_classes);
        goto done;
    }
    for (int i = 0; i < n_runs; i++) {
        double acc;
        const char *which;
        int failed = predict_run(&r, ex, &runs[i], &t, o, prob, pred, &acc, &which, err);
        if (failed) {
            if (failed == 2) status = NN_EXIT_INPUT;
            goto done;
        }
        for (size_t c = 0; c < cells; c++) sum[c] += prob[c];
        if (!t.y) continue;
        fprintf(report, "run %d (seed %lld, fold %d), %s weights: accuracy %.6f", runs[i].id,
                (long long)runs[i].seed, runs[i].fold, strcmp(which, "best") ? "final" : "selected epoch's", acc);
        if (!o->n_overrides) /* the stored figure this reproduces */
            fprintf(report, "; stored %s %.6f", strcmp(which, "best") ? "final_test_acc" : "test_acc",
                    h5io_stored_summary(&r, runs[i].id, strcmp(which, "best") ? "final_test_acc" : "test_acc"));
        fputc('\n', report);
    }
    for (size_t c = 0; c < cells; c++) sum[c] /= n_runs;
    for (int i = 0; i < t.n && n_runs > 1; i++) { /* the ensemble's class: its first largest average */
        int best = 0;                              /* (one run keeps its own: the first largest logit) */
        for (int k = 1; k < r.n_classes; k++)
            if (sum[(size_t)i * r.n_classes + k] > sum[(size_t)i * r.n_classes + best]) best = k;
        pred[i] = best;
    }
    csv = o->output ? fopen(o->output, "w") : stdout;
    if (!csv) {
        nn_errf(err, "%s: cannot create: %s", o->output, strerror(errno));
        goto done;
    }
    if (write_csv(csv, &r, &t, sum, pred) || (o->output && fclose(csv) != 0)) {
        if (o->output) remove(o->output);
        csv = NULL;
        nn_errf(err, "%s: writing failed (disk full?)", o->output ? o->output : "standard output");
        goto done;
    }
    csv = NULL;
    if (t.y) {
        if (n_runs > 1) fprintf(report, "ensemble of %d runs of config point %d:\n", n_runs, runs[0].config);
        report_scores(report, &r, &t, pred);
    }
    status = NN_EXIT_OK;
done:
    if (csv && csv != stdout) fclose(csv);
    free(prob);
    free(sum);
    free(pred);
    free(runs);
    target_free(&t);
    cfg_free(ex);
    h5io_stored_close(&r);
    return status;
}
