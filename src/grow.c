/* grow.c — renumbering the runs of an experiment that grew (see grow.h). */
#define _POSIX_C_SOURCE 200809L
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grid.h"
#include "h5io.h"
#include "nnlab.h"
#include "outdir.h"

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* text into dir/name durably: tmp + fsync + rename + fsync of the folder. */
static int write_durably(const char *dir, const char *name, const char *text, char *err)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return nn_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
    errno = 0;
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0 || fsync_dir(dir) != 0) {
        int why = errno;
        remove(tmp);
        return nn_errf(err, "%s: cannot write: %s", path, why ? strerror(why) : "disk full or not writable?");
    }
    return 0;
}

/* ---- which run goes where ---------------------------------------------------- */

typedef struct {
    uint64_t identity;
    int id;
} Keyed;

static int compare_keyed(const void *a, const void *b)
{
    uint64_t x = ((const Keyed *)a)->identity, y = ((const Keyed *)b)->identity;
    return (x > y) - (x < y);
}

/* The identities of ex's runs (n of them), keyed by run id. */
static Keyed *identities(const Experiment *ex, const RunSpec *runs, int n, const char *data_hash)
{
    int configs = grid_n_configs(ex);
    uint64_t *point = nn_alloc((size_t)configs, sizeof *point);
    Keyed *k = nn_alloc((size_t)n, sizeof *k);
    for (int c = 0; point && c < configs; c++) point[c] = grid_config_identity(ex, c);
    for (int i = 0; point && k && i < n; i++) {
        k[i].identity = grid_run_identity(point[runs[i].config], runs[i].seed, runs[i].fold, data_hash);
        k[i].id = runs[i].id;
    }
    free(point);
    if (!point) {
        free(k);
        return NULL;
    }
    return k;
}

/* map[i]: the id in `to` of run i of `from`, the run of the same identity.
 * Refused (-1) if `to` lacks one, if two of its runs share an identity
 * hash, or if the ids do not keep their order (renumber needs it). */
static int identity_map(const Experiment *from, const RunSpec *old, int n_old, const Experiment *to,
                        const RunSpec *new, int n_new, const char *data_hash, int *map, char *err)
{
    Keyed *a = identities(from, old, n_old, data_hash), *b = identities(to, new, n_new, data_hash);
    int rc = !a || !b ? nn_errf(err, "out of memory mapping %d runs to %d", n_old, n_new) : 0;
    if (!rc) qsort(b, (size_t)n_new, sizeof *b, compare_keyed);
    for (int j = 1; j < n_new && !rc; j++)
        if (b[j].identity == b[j - 1].identity)
            rc = nn_errf(err, "runs %d and %d of the grown experiment share an identity hash; give it another -o DIR",
                         b[j - 1].id, b[j].id);
    for (int i = 0; i < n_old && !rc; i++) {
        const Keyed *hit = bsearch(&a[i], b, (size_t)n_new, sizeof *b, compare_keyed);
        map[i] = hit ? hit->id : -1;
        if (!hit || (i > 0 && map[i] <= map[i - 1]))
            rc = nn_errf(err, "run %d of the experiment on disk %s the grown experiment", i,
                         hit ? "would change its order among the others in" : "is not in");
    }
    free(a);
    free(b);
    return rc;
}

/* ---- moving run files ---------------------------------------------------------- */

/* Move run file `id` aside to runs/rejected/, saying why in the report. */
static int reject(const char *dir, int id, const char *why, GrowReport *rep, char *err)
{
    size_t len = strlen(rep->rejected);
    if (len + 200 < sizeof rep->rejected)
        snprintf(rep->rejected + len, sizeof rep->rejected - len, "%sr%06d.h5 (%.150s)", len ? "; " : "", id, why);
    rep->n_rejected++;
    return h5io_reject_run(dir, id, err);
}

/* Run old[i] of `from` to its place new[n] in `to` (step 3 of grow.h).
 * new has every run of `to` (n_new), indexed by id. */
static int move_run(const char *dir, const Experiment *from, const Experiment *to, const RunSpec *o, const RunSpec *new,
                    int n_new, int n, GrowReport *rep, char *err)
{
    char src[4200], dst[4200], why[256];
    h5io_run_path(src, sizeof src, dir, o->id);
    h5io_run_path(dst, sizeof dst, dir, new[n].id);
    int check = h5io_check_run(src, from, o, NULL, why, sizeof why);
    if (check == H5IO_RUN_MISSING) return 0; /* never finished, or moved already */
    if (check != H5IO_RUN_OK) {
        char also[256];
        if (o->id < n_new && h5io_check_run(src, to, &new[o->id], NULL, also, sizeof also) == H5IO_RUN_OK) {
            rep->n_kept++; /* a run of `to`, moved here before an interruption */
            return 0;
        }
        return reject(dir, o->id, why, rep, err);
    }
    if (n != o->id) { /* only a stray can be in the way: not a run of either experiment to keep */
        int there = h5io_check_run(dst, to, &new[n], NULL, why, sizeof why);
        if (there != H5IO_RUN_MISSING && there != H5IO_RUN_OK && reject(dir, n, why, rep, err)) return -1;
    }
    Settings s;
    grid_settings(to, new[n].config, &s);
    if (h5io_renumber_run(src, dst, to, &new[n], &s, err)) return -1;
    rep->n_kept++;
    if (n == o->id) return 0;
    rep->n_moved++;
    if (unlink(src) != 0 && errno != ENOENT) return nn_errf(err, "%s: cannot remove: %s", src, strerror(errno));
    nn_crash_point("grow-removed", o->id);
    return 0;
}

/* The data file a data hash stands for, for messages (as the driver's). */
static const char *data_file_name(const Experiment *ex)
{
    const DataConfig *d = &ex->settings.data;
    return d->source == DATA_DIGITS ? "the built-in digits" : d->path;
}

/* Step 1 of grow.h: every run file of `from` to keep was trained on this
 * data. Reads only. */
static int same_data(const char *dir, const Experiment *from, const RunSpec *old, int n_old, const char *data_hash,
                     char *err)
{
    for (int i = 0; i < n_old; i++) {
        char path[4200], why[256];
        h5io_run_path(path, sizeof path, dir, old[i].id);
        if (h5io_check_run(path, from, &old[i], data_hash, why, sizeof why) == H5IO_RUN_OTHER_DATA)
            return nn_errf(err, "cannot resume %s: %s has changed since its runs were trained (%s was %s); use another "
                           "-o DIR, or --force to replace those results", dir, data_file_name(from), path, why);
    }
    return 0;
}

/* Renumber the run files of `from`, the folder's experiment, to the ids of
 * `to` (steps 1 to 4 of grow.h; step 2 only when journal is set: a
 * journal found on disk is already there). */
static int renumber(const char *dir, const Experiment *from, const Experiment *to, const char *data_hash, int journal,
                    GrowReport *rep, int *input_error, char *err)
{
    RunSpec *old = NULL, *new = NULL;
    int n_old = 0, n_new = 0, rc = -1, *map = NULL;
    char runs[4200], from_path[4200], to_path[4200];
    if (grid_expand(from, &old, &n_old, err) || grid_expand(to, &new, &n_new, err)) goto done;
    if (!(map = nn_alloc((size_t)n_old, sizeof *map))) {
        nn_errf(err, "out of memory");
        goto done;
    }
    rep->n_old = n_old;
    rep->n_new = n_new;
    if (identity_map(from, old, n_old, to, new, n_new, data_hash, map, err) ||
        same_data(dir, from, old, n_old, data_hash, err)) {
        *input_error = 1;
        goto done;
    }
    if (journal) {
        if (write_durably(dir, OUTDIR_GROW_JOURNAL, to->resolved, err)) goto done;
        nn_crash_point("grow-journal", 0);
    }
    for (int i = n_old - 1; i >= 0; i--)
        if (move_run(dir, from, to, &old[i], new, n_new, map[i], rep, err)) goto done;
    snprintf(runs, sizeof runs, "%s/runs", dir);
    if (fsync_dir(runs) != 0 && errno != ENOENT) {
        nn_errf(err, "%s: fsync of the folder failed: %s", runs, strerror(errno));
        goto done;
    }
    nn_crash_point("grow-commit", 0);
    snprintf(from_path, sizeof from_path, "%s/" OUTDIR_GROW_JOURNAL, dir);
    snprintf(to_path, sizeof to_path, "%s/experiment.yaml", dir);
    if (rename(from_path, to_path) != 0 || fsync_dir(dir) != 0) {
        nn_errf(err, "%s: cannot rename to %s: %s", from_path, to_path, strerror(errno));
        goto done;
    }
    nn_crash_point("grow-done", 0);
    rc = 0;
done:
    free(map);
    free(old);
    free(new);
    return rc;
}

/* ---- entry points ---------------------------------------------------------------- */

static Experiment *load_named(const char *dir, const char *name, char *err)
{
    char path[4200];
    Experiment *ex = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cfg_load(&ex, path, NULL, 0, err) ? NULL : ex;
}

int grow_finish(const char *dir, const char *data_hash, GrowReport *rep, int *input_error, char *err)
{
    char path[4200], why[NN_ERR_LEN];
    memset(rep, 0, sizeof *rep);
    snprintf(path, sizeof path, "%s/" OUTDIR_GROW_JOURNAL, dir);
    if (access(path, F_OK) != 0) return 0;
    Experiment *from = load_named(dir, "experiment.yaml", why), *to = from ? load_named(dir, OUTDIR_GROW_JOURNAL, why) : NULL;
    int rc = 0;
    if (!to) {
        *input_error = 1;
        rc = nn_errf(err, "%s: a growth of its experiment was interrupted, and cannot be finished: %s", dir, why);
    } else {
        rc = renumber(dir, from, to, data_hash, 0, rep, input_error, err);
    }
    rep->finished = rc == 0;
    cfg_free(from);
    cfg_free(to);
    return rc;
}

int grow_prepare(const Experiment *ex, const char *data_hash, const char *busy, GrowReport *rep, int *in_use,
                 int *input_error, char *err)
{
    const char *dir = ex->output;
    char path[4200], why[NN_ERR_LEN], diff[2048];
    struct stat st;
    memset(rep, 0, sizeof *rep);
    snprintf(path, sizeof path, "%s/experiment.yaml", dir);
    if (access(path, F_OK) != 0) return 0; /* nothing there yet: nothing to grow */
    if (outdir_same_version(dir, "resume", err)) {
        *input_error = 1;
        return -1;
    }
    snprintf(path, sizeof path, "%s/runs", dir);
    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) return 0; /* outdir_prepare refuses it */
    snprintf(path, sizeof path, "%s/" OUTDIR_GROW_JOURNAL, dir);
    if (busy && access(path, F_OK) == 0) {
        *in_use = 1;
        return nn_errf(err, "cannot finish the growth of %s's experiment while %s runs in it", dir, busy);
    }
    if (grow_finish(dir, data_hash, rep, input_error, err)) return -1;
    int finished = rep->finished;
    Experiment *disk = load_named(dir, "experiment.yaml", why);
    if (!disk) return 0; /* outdir_prepare says why */
    int rc = 0;
    if (cfg_growth(disk, ex, diff, sizeof diff) == CFG_GROWS) {
        if (busy) {
            *in_use = 1;
            rc = nn_errf(err, "cannot grow the experiment of %s while %s runs in it: its runs would be renumbered "
                         "under it; start the grown experiment's shards once it has ended", dir, busy);
        } else {
            rc = renumber(dir, disk, ex, data_hash, 1, rep, input_error, err);
            rep->grew = rc == 0;
        }
    }
    rep->finished = finished;
    cfg_free(disk);
    return rc;
}
