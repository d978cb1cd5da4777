/* outdir.c — output folders (see outdir.h). Locks are POSIX fcntl locks on
 * whole lock files: they work on local file systems, on NFS through its lock
 * manager (NLM, or NFSv4's own), and on Lustre mounted with -o flock
 * (docs/cluster.md). They belong to the process (closing any descriptor of
 * a lock file drops its lock), so each lock file is opened once. */
#define _POSIX_C_SOURCE 200809L
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grid.h"
#include "nnlab.h"

#define LOCK_NAME ".nnlab.lock"
#define SETUP_NAME ".nnlab-setup.lock"
#define MARKER_NAME ".nnlab-output"

static int mkdir_p(const char *path, char *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return nn_errf(err, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return nn_errf(err, "%s: cannot create folder: %s", buf, strerror(errno));
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) return nn_errf(err, "%s: exists and is not a folder", buf);
        *p = c;
        if (c == '\0') return 0;
    }
}

/* ---- locks ------------------------------------------------------------------- */

/* fcntl lock of the whole file: F_WRLCK or F_RDLCK; wait or not. */
static int lock_file(int fd, short type, int wait)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    int rc;
    while ((rc = fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl)) != 0 && errno == EINTR) {}
    return rc;
}

/* "pid 1234 on host" into the lock file, for the message of whoever finds it held. */
static void write_holder(int fd)
{
    char host[256] = "?", text[320];
    gethostname(host, sizeof host - 1);
    int n = snprintf(text, sizeof text, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)n, 0) == n) fsync(fd);
}

/* The holder a lock file names ("pid 1234 on host"), or "another process". */
static void read_holder(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "another process");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char text[320];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 4 || strncmp(text, "pid ", 4)) return;
    text[n] = '\0';
    text[strcspn(text, "\n")] = '\0';
    snprintf(out, cap, "%s", text);
}

static int open_lock(const char *dir, const char *name, char *path, size_t cap, char *err)
{
    snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) nn_errf(err, "%s: cannot create the lock file: %s", path, strerror(errno));
    return fd;
}

/* A lock that could not be taken: held by someone (in_use), or no locking here. */
static int lock_refused(const char *path, const char *what, int *in_use, char *err)
{
    if (errno != EAGAIN && errno != EACCES)
        return nn_errf(err, "%s: cannot lock: %s (file locking does not work on this file system; docs/cluster.md "
                       "says which do)", path, strerror(errno));
    char holder[320];
    read_holder(path, holder, sizeof holder);
    *in_use = 1;
    return nn_errf(err, "%s is in use by another nnlab process (%s): wait for it to end, or stop it; two processes "
                   "writing one folder would corrupt it (the lock %s is released when that process ends, however it "
                   "ends)", what, holder[0] == 'p' ? holder : "a --shard job", path);
}

/* Shards of another count running in dir: their lock files are held.
 * With any_k, shards of this count too, but for shard any_k itself. */
static int shards_running(const char *dir, int shard_n, int any_k, char *which, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        int k, n, end = 0;
        if (sscanf(e->d_name, ".nnlab-shard-%d-of-%d.lock%n", &k, &n, &end) != 2 || e->d_name[end] ||
            (n == shard_n && (any_k < 0 || k == any_k)))
            continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        if (lock_file(fd, F_WRLCK, 0) != 0) {
            char holder[320];
            read_holder(path, holder, sizeof holder);
            snprintf(which, cap, "shard %d/%d (%s)", k, n, holder);
            found = 1;
        }
        close(fd); /* drops this process's lock on it, if it took one */
    }
    closedir(d);
    return found;
}

int outdir_lock(OutdirLock *l, const char *dir, int shard_k, int shard_n, int *in_use, char *err)
{
    char path[4200], setup[4200];
    l->fd = l->shard_fd = l->setup_fd = -1;
    *in_use = 0;
    if (mkdir_p(dir, err) || (l->fd = open_lock(dir, LOCK_NAME, path, sizeof path, err)) < 0) return -1;
    if (lock_file(l->fd, shard_n ? F_RDLCK : F_WRLCK, 0) != 0) {
        lock_refused(path, dir, in_use, err);
        outdir_unlock(l);
        return -1;
    }
    if (!shard_n) {
        write_holder(l->fd);
        return 0;
    }
    /* A shard: under the setup lock (held until outdir_prepare is done, a
     * moment), no shard of another count may run, nor this one twice. */
    char name[64], other[400];
    if ((l->setup_fd = open_lock(dir, SETUP_NAME, setup, sizeof setup, err)) < 0 || lock_file(l->setup_fd, F_WRLCK, 1)) {
        if (l->setup_fd >= 0) nn_errf(err, "%s: cannot lock: %s", setup, strerror(errno));
        outdir_unlock(l);
        return -1;
    }
    if (shards_running(dir, shard_n, -1, other, sizeof other)) {
        nn_errf(err, "%s: %s is running: every shard of one folder takes the same N (--shard K/%d would run runs it "
                "runs too)", dir, other, shard_n);
        outdir_unlock(l);
        return -1;
    }
    snprintf(name, sizeof name, ".nnlab-shard-%d-of-%d.lock", shard_k, shard_n);
    if ((l->shard_fd = open_lock(dir, name, path, sizeof path, err)) < 0) {
        outdir_unlock(l);
        return -1;
    }
    if (lock_file(l->shard_fd, F_WRLCK, 0) != 0) {
        char what[4300];
        snprintf(what, sizeof what, "shard %d/%d of %s", shard_k, shard_n, dir);
        lock_refused(path, what, in_use, err);
        outdir_unlock(l);
        return -1;
    }
    write_holder(l->shard_fd);
    return 0;
}

int outdir_other_shards(const char *dir, int shard_k, int shard_n, char *which, size_t cap)
{
    return shards_running(dir, shard_n, shard_k, which, cap);
}

void outdir_setup_done(OutdirLock *l)
{
    if (l->setup_fd >= 0) close(l->setup_fd);
    l->setup_fd = -1;
}

void outdir_unlock(OutdirLock *l)
{
    if (l->setup_fd >= 0) close(l->setup_fd);
    if (l->shard_fd >= 0) close(l->shard_fd);
    if (l->fd >= 0) close(l->fd);
    l->fd = l->shard_fd = l->setup_fd = -1;
}

/* ---- what is in a folder ----------------------------------------------------- */

/* nnlab's lock files, which locking itself creates. */
static int is_lock_file(const char *name)
{
    int k, n, end = 0;
    return !strcmp(name, LOCK_NAME) || !strcmp(name, SETUP_NAME) ||
           (sscanf(name, ".nnlab-shard-%d-of-%d.lock%n", &k, &n, &end) == 2 && !name[end]);
}

int outdir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)))
        found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !is_lock_file(e->d_name);
    closedir(d);
    return found;
}

/* "experiment.yaml.tmp.1234" or "experiment.yaml.grow.tmp.1234": the
 * temporary names experiment.yaml and a growth's journal are written under. */
static int is_experiment_tmp(const char *name)
{
    static const char *const prefixes[] = {"experiment.yaml.tmp.", OUTDIR_GROW_JOURNAL ".tmp."};
    for (int i = 0; i < 2; i++) {
        size_t p = strlen(prefixes[i]);
        if (!strncmp(name, prefixes[i], p) && name[p] && strspn(name + p, "0123456789") == strlen(name + p)) return 1;
    }
    return 0;
}

/* "r000017.h5" (tmp 0) or "r000017.h5.tmp" (tmp 1), written exactly so: its id, else -1. */
static int run_file_id(const char *name, int *tmp)
{
    int id, end = 0;
    char canon[64];
    if (sscanf(name, "r%d.h5%n", &id, &end) != 1 || id < 0) return -1;
    *tmp = !strcmp(name + end, ".tmp");
    if (name[end] && !*tmp) return -1;
    snprintf(canon, sizeof canon, "r%06d.h5%s", id, *tmp ? ".tmp" : "");
    return strcmp(canon, name) ? -1 : id;
}

/* Whether everything in dir is a name nnlab gives (the state a SIGKILL can
 * leave before experiment.yaml is in place): its lock files, the marker,
 * results.h5.tmp, experiment.yaml.tmp.N, and runs/ holding run files. */
static int only_nnlab_names(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 1;
    struct dirent *e;
    int ok = 1, tmp;
    while (ok && (e = readdir(d))) {
        const char *n = e->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || is_lock_file(n) || !strcmp(n, MARKER_NAME) ||
            !strcmp(n, "results.h5.tmp") || is_experiment_tmp(n))
            continue;
        if (strcmp(n, "runs")) {
            ok = 0;
            continue;
        }
        char runs[4400];
        snprintf(runs, sizeof runs, "%s/runs", dir);
        DIR *r = opendir(runs);
        struct dirent *f;
        while (r && ok && (f = readdir(r)))
            ok = !strcmp(f->d_name, ".") || !strcmp(f->d_name, "..") || run_file_id(f->d_name, &tmp) >= 0;
        if (r) closedir(r);
    }
    closedir(d);
    return ok;
}

/* ---- removing nnlab's own files -------------------------------------------------- */

/* Remove the regular files of folder fd (never through a symlink) that
 * keep(name, ctx) accepts. */
static int remove_own(int fd, const char *shown, int (*match)(const char *name, const void *ctx), const void *ctx,
                      char *err)
{
    int dup_fd = dup(fd);
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (!d) {
        if (dup_fd >= 0) close(dup_fd);
        return nn_errf(err, "%s: cannot read: %s", shown, strerror(errno));
    }
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (!match(e->d_name, ctx) || fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(fd, e->d_name, 0) != 0 && errno != ENOENT)
            rc = nn_errf(err, "%s/%s: cannot remove: %s", shown, e->d_name, strerror(errno));
    }
    closedir(d);
    return rc;
}

typedef struct {
    int limit;        /* run ids below this */
    int shard_k, shard_n;
    int tmp_only;     /* only .tmp files (--resume) */
} RunNames;

static int match_run_file(const char *name, const void *ctx)
{
    const RunNames *r = ctx;
    int tmp, id = run_file_id(name, &tmp);
    if (id < 0 || (r->tmp_only && !tmp) || (!tmp && id >= r->limit)) return 0; /* .tmp: nnlab's whatever the id */
    return !r->shard_n || id % r->shard_n == r->shard_k;
}

static int match_top_results(const char *name, const void *ctx)
{
    (void)ctx;
    return !strcmp(name, "results.h5") || !strcmp(name, "results.h5.tmp") || !strcmp(name, "experiment.yaml") ||
           !strcmp(name, OUTDIR_GROW_JOURNAL) || is_experiment_tmp(name);
}

static int match_top_tmp(const char *name, const void *ctx)
{
    const RunNames *r = ctx;
    return (!r->shard_n && !strcmp(name, "results.h5.tmp")) || is_experiment_tmp(name);
}

/* Remove nnlab's files of the folder: those match_top accepts at the top,
 * and run files that runs accepts in runs/. */
static int clear_own(const char *dir, int (*match_top)(const char *, const void *), const RunNames *runs, char *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return nn_errf(err, "%s: cannot open: %s", dir, strerror(errno));
    char shown[4400];
    snprintf(shown, sizeof shown, "%s/runs", dir);
    int rc = remove_own(fd, dir, match_top, runs, err);
    int rfd = rc ? -1 : openat(fd, "runs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rfd >= 0) {
        rc = remove_own(rfd, shown, match_run_file, runs, err);
        close(rfd);
    }
    close(fd);
    return rc;
}

/* ---- preparing ------------------------------------------------------------------- */

static int write_text_file(const char *path, const char *text, char *err)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return nn_errf(err, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int why = errno;
        remove(tmp);
        return nn_errf(err, "%s: cannot write: %s", path, why ? strerror(why) : "disk full or not writable?");
    }
    return 0;
}

static int has_marker(const char *dir)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/" MARKER_NAME, dir);
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int write_marker(const char *dir, char *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" MARKER_NAME, dir);
    return write_text_file(path, "nnlab output folder: nnlab " NNLAB_VERSION " made it; --force replaces only the "
                           "files nnlab wrote here (results.h5, experiment.yaml, runs/rNNNNNN.h5)\n", err);
}

/* runs/ must be a folder of its own: never a symlink nnlab would write or delete through. */
static int check_runs_folder(const char *dir, int *input_error, char *err)
{
    char runs[4200];
    struct stat st;
    snprintf(runs, sizeof runs, "%s/runs", dir);
    if (lstat(runs, &st) != 0) return errno == ENOENT ? 0 : nn_errf(err, "%s: %s", runs, strerror(errno));
    if (S_ISDIR(st.st_mode)) return 0;
    *input_error = 1;
    return nn_errf(err, "%s is %s: nnlab writes and removes run files only in a runs/ folder of its own", runs,
                   S_ISLNK(st.st_mode) ? "a symbolic link" : "not a folder");
}

/* The experiment the folder holds (name: experiment.yaml, or the journal
 * of a growth), when it loads; its run count in *n_runs. */
static Experiment *experiment_on_disk(const char *dir, const char *name, int *n_runs, char *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    Experiment *disk = NULL;
    RunSpec *runs = NULL;
    if (cfg_load(&disk, path, NULL, 0, err)) return NULL;
    if (grid_expand(disk, &runs, n_runs, err)) {
        cfg_free(disk);
        return NULL;
    }
    free(runs);
    return disk;
}

/* Whether experiment.yaml at path was written by an nnlab of another minor
 * version (its first line: "# nnlab 0.3.0: resolved experiment ..."), in version. */
static int written_by_other_version(const char *path, char *version, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[256] = "";
    if (!f) return 0;
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    int major, minor, patch, end = 0;
    if (!got || sscanf(line, "# nnlab %d.%d.%d%n", &major, &minor, &patch, &end) != 3) return 0;
    snprintf(version, cap, "%d.%d.%d", major, minor, patch);
    char ours[32];
    snprintf(ours, sizeof ours, "%d.%d.", major, minor);
    return strncmp(NNLAB_VERSION, ours, strlen(ours)) != 0;
}

int outdir_same_version(const char *dir, const char *what, char *err)
{
    char path[4200], version[64];
    snprintf(path, sizeof path, "%s/experiment.yaml", dir);
    if (!written_by_other_version(path, version, sizeof version)) return 0;
    return nn_errf(err, "cannot %s %s: it was written by nnlab %s, whose splits, selection and results format differ "
                   "from nnlab %s's: finish it with nnlab %s, or start anew with -o DIR", what, dir, version,
                   NNLAB_VERSION, version);
}

/* --resume and shards: the same experiment, or exit 2 with what differs. */
static int check_same_experiment(const Experiment *ex, int *input_error, char *err)
{
    char path[4200], load_err[NN_ERR_LEN];
    snprintf(path, sizeof path, "%s/experiment.yaml", ex->output);
    if (access(path, F_OK) != 0) {
        if (has_marker(ex->output) || only_nnlab_names(ex->output)) return 0; /* stopped before experiment.yaml */
        *input_error = 1;
        return nn_errf(err, "%s: not empty and has no experiment.yaml: not an nnlab output folder, nothing to resume",
                       ex->output);
    }
    *input_error = 1;
    if (outdir_same_version(ex->output, "resume", err)) return -1;
    int n_disk = 0;
    Experiment *disk = experiment_on_disk(ex->output, "experiment.yaml", &n_disk, load_err);
    if (!disk) return nn_errf(err, "cannot resume: %s", load_err);
    int rc = 0;
    char diff[2048];
    int growth = cfg_growth(disk, ex, diff, sizeof diff);
    if (growth == CFG_SHRINKS)
        rc = nn_errf(err, "cannot resume %s: the experiment has fewer seeds or grid values than the one it holds, "
                     "and their finished runs would be dropped (nnlab never drops a finished run):\n%s(give them "
                     "back, use another -o DIR, or --force to replace those results)", ex->output, diff);
    else if (growth != CFG_SAME) /* a growth is done by grow_prepare before this: one here was not possible */
        rc = nn_errf(err, "cannot resume %s: the experiment differs from the one it holds (fingerprint %s on disk, "
                     "%s now):\n%s(--resume takes an experiment that only adds seeds or values on its grid axes; use "
                     "another -o DIR, or --force to replace those results)",
                     ex->output, disk->fingerprint, ex->fingerprint, diff);
    cfg_free(disk);
    if (rc == 0) *input_error = 0;
    return rc;
}

int outdir_prepare(const Experiment *ex, OutdirMode mode, int shard_k, int shard_n, int n_runs, int *input_error,
                   char *err)
{
    const char *dir = ex->output;
    char path[4200];
    *input_error = 0;
    if (check_runs_folder(dir, input_error, err)) return -1;
    int has_entries = outdir_has_entries(dir), resume = mode == OUTDIR_RESUME || shard_n;
    RunNames names = {n_runs, shard_k, shard_n, 1};
    if (has_entries && resume) {
        if (check_same_experiment(ex, input_error, err) || clear_own(dir, match_top_tmp, &names, err)) return -1;
    } else if (has_entries && mode == OUTDIR_FORCE) {
        if (!has_marker(dir)) {
            *input_error = 1;
            return nn_errf(err, "%s: not a folder nnlab made (it has no %s marker): --force replaces results only in "
                           "nnlab's own output folders, and nothing here was deleted; move its contents away "
                           "yourself, or use -o DIR for another folder", dir, MARKER_NAME);
        }
        int n_disk = 0, n_grown = 0; /* and the runs of a growth that was interrupted */
        char load_err[NN_ERR_LEN];
        cfg_free(experiment_on_disk(dir, "experiment.yaml", &n_disk, load_err));
        cfg_free(experiment_on_disk(dir, OUTDIR_GROW_JOURNAL, &n_grown, load_err));
        names.limit = n_disk > n_runs ? n_disk : n_runs;
        names.limit = n_grown > names.limit ? n_grown : names.limit;
        names.tmp_only = 0;
        names.shard_n = 0;
        if (clear_own(dir, match_top_results, &names, err)) return -1;
    } else if (has_entries) {
        *input_error = 1;
        return nn_errf(err, "%s: the output folder is not empty; results are never overwritten silently "
                       "(--resume to finish its runs, --force to replace them, or -o DIR for another folder)", dir);
    }
    if (!has_marker(dir) && write_marker(dir, err)) return -1;
    snprintf(path, sizeof path, "%s/runs", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return nn_errf(err, "%s: cannot create folder: %s", path, strerror(errno));
    if (check_runs_folder(dir, input_error, err)) return -1;
    snprintf(path, sizeof path, "%s/experiment.yaml", dir);
    if (resume && access(path, F_OK) == 0) return 0;
    return write_text_file(path, ex->resolved, err);
}
