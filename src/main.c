/* main.c — the command line. Parses arguments, calls the library, prints its
 * messages and decides the exit status; nothing else. */
#define _XOPEN_SOURCE 700 /* readlink, access, execv; realpath */
#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "data.h"
#include "driver.h"
#include "grid.h"
#include "h5io.h"
#include "mlp.h"
#include "nnlab.h"
#include "predict.h"
#include "summary.h"

static const char usage[] =
    "usage:\n"
    "  nnlab run EXPERIMENT.yaml [KEY=VALUE ...] [-j THREADS] [-o DIR] [--resume | --force] [--shard K/N]\n"
    "            [--fail-fast] [--quiet]\n"
    "  nnlab check EXPERIMENT.yaml [KEY=VALUE ...]   print the resolved experiment and its run count\n"
    "  nnlab list EXPERIMENT.yaml [KEY=VALUE ...]    one line per run: id, seed, swept values\n"
    "  nnlab summary RESULTS.h5|DIR ... [--where KEY=VALUE ...] [--sort METRIC] [--top N] [--csv]\n"
    "                [--ci t|bootstrap]\n"
    "                                  config points ranked, mean ± std over seeds\n"
    "  nnlab predict RESULTS.h5|DIR (--run N | --config N --ensemble) [--final] [dataset.KEY=VALUE ...]\n"
    "                [-o FILE.csv]     apply a stored model to the test split, or to the data set of the\n"
    "                                  overrides; CSV of predictions, accuracy and confusion matrix\n"
    "  nnlab merge DIR                 rebuild DIR/results.h5 from DIR/runs/\n"
    "  nnlab report RESULTS.h5|DIR [-o report.html] [--where KEY=VALUE ...] [--top N]\n"
    "                                  one self-contained HTML page: table, curves, heatmaps, budget\n"
    "  nnlab --version [--verbose]     --verbose: the kernel clone this CPU runs, OpenBLAS's core and threads\n"
    "exit status: 0 done, 1 runtime failure, 2 bad usage or input, 130 interrupted\n";

static int bad_usage(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nnlab: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", usage);
    va_end(ap);
    return NN_EXIT_INPUT;
}

/* Parse "-j N" values: a whole number in 1..1024. */
static int parse_threads(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 1024) return -1;
    *out = (int)v;
    return 0;
}

static int load(Experiment **ex, const char *file, char *const *overrides, int n_overrides)
{
    char err[NN_ERR_LEN];
    if (cfg_load(ex, file, overrides, n_overrides, err)) {
        fprintf(stderr, "%s\n", err);
        return NN_EXIT_INPUT;
    }
    return NN_EXIT_OK;
}

static int cmd_run(int argc, char **argv, int mpi_rank, int mpi_size)
{
    DriverOptions o = {.mpi_rank = mpi_rank, .mpi_size = mpi_size};
    const char *file = NULL, *output = NULL;
    char **overrides = calloc((size_t)argc + 1, sizeof(char *));
    int n_overrides = 0;
    if (!overrides) return NN_EXIT_RUNTIME;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "-j", 2) && a[2] != '\0') {
            if (parse_threads(a + 2, &o.threads)) {
                free(overrides);
                return bad_usage("%s: -j needs a number of threads from 1 to 1024", a);
            }
        } else if (!strcmp(a, "-j") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc || parse_threads(argv[i + 1], &o.threads)) {
                free(overrides);
                return bad_usage("%s needs a number of threads from 1 to 1024", a);
            }
            i++;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0' || argv[i + 1][0] == '-') {
                free(overrides);
                if (i + 1 < argc && argv[i + 1][0] == '-')
                    return bad_usage("%s needs a folder, not the option '%s' (for a folder of that name: ./%s)", a,
                                     argv[i + 1], argv[i + 1]);
                return bad_usage("%s needs a folder", a);
            }
            output = argv[++i];
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--resume")) {
            o.resume = 1;
        } else if (!strcmp(a, "--fail-fast")) {
            o.fail_fast = 1;
        } else if (!strcmp(a, "--shard")) {
            char extra;
            if (i + 1 >= argc || sscanf(argv[i + 1], "%d/%d%c", &o.shard_k, &o.shard_n, &extra) != 2 || o.shard_n < 1 ||
                o.shard_n > 1000000 || o.shard_k < 0 || o.shard_k >= o.shard_n) {
                free(overrides);
                return bad_usage("%s needs K/N with 0 <= K < N, such as --shard 0/4", a);
            }
            i++;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-') {
            free(overrides);
            return bad_usage("unknown option '%s'", a);
        } else if (!file) {
            file = a;
        } else if (strchr(a, '=')) {
            overrides[n_overrides++] = (char *)a;
        } else {
            free(overrides);
            return bad_usage("unexpected argument '%s' (overrides are KEY=VALUE)", a);
        }
    }
    if (!file) {
        free(overrides);
        return bad_usage("%s", "run needs an experiment file");
    }
    if (o.force && (o.resume || o.shard_n)) {
        free(overrides);
        return bad_usage("%s", "--force replaces results, which --resume and --shard keep: choose one");
    }
    Experiment *ex;
    int status = load(&ex, file, overrides, n_overrides);
    free(overrides);
    if (status) return status;
    char err[NN_ERR_LEN] = "";
    if (output && cfg_set_output(ex, output, err)) {
        cfg_free(ex);
        fprintf(stderr, "nnlab: %s\n", err);
        return NN_EXIT_RUNTIME;
    }
    status = driver_run(ex, &o, err);
    if (status != NN_EXIT_OK) fprintf(stderr, "nnlab: %s\n", err);
    cfg_free(ex);
    return status;
}

/* Load the data set (the first config point's) and print its splits: one
 * line, or one per fold. A data file that cannot be loaded is an error. */
static int print_splits(const Experiment *ex, FILE *out)
{
    int n = grid_n_folds(ex);
    Dataset **sets = calloc((size_t)n, sizeof *sets);
    char err[NN_ERR_LEN];
    if (!sets || data_load(&ex->settings.data, sets, err)) {
        fprintf(stderr, "%s: %s\n", ex->file, sets ? err : "out of memory");
        free(sets);
        return -1;
    }
    const Dataset *d = sets[0];
    DataConfig c = ex->settings.data; /* warn of raw ranges if any config point trains on them */
    for (int k = 0; k < grid_n_configs(ex) && c.scale != SCALE_NONE; k++) {
        Settings s;
        grid_settings(ex, k, &s);
        if (s.data.scale == SCALE_NONE) c.scale = SCALE_NONE;
    }
    char warnings[4096];
    if (data_warnings(d, &c, warnings, sizeof warnings)) fputs(warnings, stderr);
    fprintf(out, "# data: %d features, %d classes\n", d->n_features, d->n_classes);
    for (int k = 0; k < n; k++) {
        char fold[32] = "";
        if (n > 1) snprintf(fold, sizeof fold, "fold %d: ", k);
        fprintf(out, "# %sn_train %d, n_val %d, n_test %d\n", fold, sets[k]->n_train, sets[k]->n_val, sets[k]->n_test);
    }
    for (int k = 0; k < n; k++) data_free(sets[k]);
    free(sets);
    return 0;
}

/* "# search: random, 24 trials drawn with seed 0; sampled: training.learning_rate (log_uniform), ..." */
static void print_search(const Experiment *ex)
{
    const Search *se = &ex->search;
    printf("# search: %s, %d trials drawn with seed %lld; sampled:", cfg_search_method_names[se->method], se->trials,
           (long long)se->seed);
    for (int k = 0; k < se->n_params; k++)
        printf("%s %s (%s)", k ? "," : "", se->params[k].def->key,
               se->params[k].from_grid ? "grid axis, a choice" : cfg_dist_names[se->params[k].dist]);
    printf("\n");
}

static int cmd_check_or_list(int argc, char **argv, int list)
{
    const char *what = list ? "list" : "check";
    if (argc < 1 || argv[0][0] == '-') return bad_usage("%s needs an experiment file", what);
    for (int i = 1; i < argc; i++)
        if (!strchr(argv[i], '=') || argv[i][0] == '-') return bad_usage("unexpected argument '%s' (overrides are KEY=VALUE)", argv[i]);
    Experiment *ex;
    int status = load(&ex, argv[0], argv + 1, argc - 1);
    if (status) return status;
    RunSpec *runs;
    int n;
    char err[NN_ERR_LEN];
    if (grid_expand(ex, &runs, &n, err)) {
        fprintf(stderr, "nnlab: %s\n", err);
        cfg_free(ex);
        return NN_EXIT_INPUT;
    }
    if (list) {
        char swept[4096];
        for (int i = 0; i < n; i++) {
            grid_describe(swept, sizeof swept, ex, runs[i].config);
            char fold[32] = "";
            if (grid_n_folds(ex) > 1) snprintf(fold, sizeof fold, " fold=%d", runs[i].fold);
            printf("r%06d seed=%lld%s%s%s\n", runs[i].id, (long long)runs[i].seed, fold, swept[0] ? " " : "", swept);
        }
    } else {
        char folds[32] = "";
        if (grid_n_folds(ex) > 1) snprintf(folds, sizeof folds, " x %d folds", grid_n_folds(ex));
        printf("%s# fingerprint: %s\n", ex->resolved, ex->fingerprint);
        if (ex->search.drawn) print_search(ex);
        printf("# runs: %d (%d %s x %d seeds%s)\n", n, grid_n_configs(ex),
               ex->search.drawn ? "trials" : "config points", ex->n_seeds, folds);
    }
    if (print_splits(ex, list ? stderr : stdout)) {
        free(runs);
        cfg_free(ex);
        return NN_EXIT_INPUT;
    }
    free(runs);
    cfg_free(ex);
    return NN_EXIT_OK;
}

/* One results file or folder of nnlab summary, and the notes on how it was read. */
static int load_summary(SummaryTable **t, const char *path, char *err)
{
    if (summary_load(t, path, err)) return -1;
    if ((*t)->from_run_files)
        fprintf(stderr, "nnlab: %s: results.h5 is absent or older than the run files; read %d run files (%d not "
                "there yet)\n", path, (*t)->n_runs, (*t)->n_missing);
    if ((*t)->n_rejected)
        fprintf(stderr, "nnlab: %s: %d run file%s left out: %s (nnlab merge or --resume moves them to runs/rejected/)\n",
                path, (*t)->n_rejected, (*t)->n_rejected == 1 ? "" : "s", (*t)->rejected);
    return 0;
}

/* The folder of a results file or folder, resolved (for telling two names
 * of one apart), in out (PATH_MAX); NULL if it cannot be resolved. */
static char *results_folder(const char *path, char *out)
{
    if (!realpath(path, out)) return NULL;
    size_t n = strlen(out);
    if (n > 11 && !strcmp(out + n - 11, "/results.h5")) out[n - 11] = '\0';
    return out;
}

/* Several results files or folders as one table (summary_concat). */
static int load_summaries(SummaryTable **t, const char *const *paths, int n, char *err)
{
    if (n == 1) return load_summary(t, paths[0], err);
    for (int i = 0; i < n; i++) /* one folder twice (or its results.h5 too) would be every point twice */
        for (int k = 0; k < i; k++) {
            char a[PATH_MAX], b[PATH_MAX];
            if (results_folder(paths[i], a) && results_folder(paths[k], b) && !strcmp(a, b))
                return nn_errf(err, "%s and %s are the same results: name each once", paths[k], paths[i]);
        }
    SummaryTable **parts = calloc((size_t)n, sizeof *parts);
    if (!parts) return nn_errf(err, "out of memory");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) rc = load_summary(&parts[i], paths[i], err);
    if (!rc) rc = summary_concat(t, parts, n, paths, err);
    for (int i = 0; i < n; i++) summary_free(parts[i]); /* the ones read before a failure */
    free(parts);
    return rc;
}

/* nnlab summary's options; the results files or folders in paths (argc of room). */
typedef struct {
    const char *metric; /* NULL: val_acc with validation, else test accuracy */
    int top, csv, ci;
} SummaryOptions;

static int summary_args(int argc, char **argv, SummaryOptions *o, const char **paths, int *n_paths)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--where")) { /* applied once the table is loaded */
            if (i + 1 >= argc) return bad_usage("%s needs KEY=VALUE, such as model.activation=relu", argv[i]);
            i++;
        } else if (!strcmp(argv[i], "--sort")) {
            if (i + 1 >= argc) return bad_usage("%s needs a metric", argv[i]);
            o->metric = argv[++i];
        } else if (!strcmp(argv[i], "--top")) {
            char *end;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || v < 1 || v > 1000000000) return bad_usage("%s needs a positive number", argv[i]);
            o->top = (int)v;
            i++;
        } else if (!strcmp(argv[i], "--csv")) {
            o->csv = 1;
        } else if (!strcmp(argv[i], "--ci")) {
            if (i + 1 >= argc || (strcmp(argv[i + 1], "t") && strcmp(argv[i + 1], "bootstrap")))
                return bad_usage("%s needs t or bootstrap", argv[i]);
            o->ci = !strcmp(argv[++i], "t") ? SUM_CI_T : SUM_CI_BOOTSTRAP;
        } else if (argv[i][0] == '-') {
            return bad_usage("unexpected argument '%s'", argv[i]);
        } else {
            paths[(*n_paths)++] = argv[i];
        }
    }
    if (!*n_paths) return bad_usage("%s", "summary needs a results file or an output folder");
    return NN_EXIT_OK;
}

static int cmd_summary(int argc, char **argv)
{
    SummaryOptions o = {.ci = SUM_CI_T};
    const char **paths = calloc((size_t)argc + 1, sizeof *paths);
    int n_paths = 0;
    if (!paths) {
        fprintf(stderr, "nnlab: out of memory\n");
        return NN_EXIT_RUNTIME;
    }
    int status = summary_args(argc, argv, &o, paths, &n_paths);
    if (status != NN_EXIT_OK) {
        free(paths);
        return status;
    }
    SummaryTable *t = NULL;
    char err[NN_ERR_LEN];
    int rc = load_summaries(&t, paths, n_paths, err);
    free(paths);
    for (int i = 0; i < argc && !rc; i++)
        if (!strcmp(argv[i], "--where")) rc = summary_filter(t, argv[++i], err);
    if (rc || summary_sort(t, o.metric, err) || summary_stats(t, o.ci, err)) {
        fprintf(stderr, "nnlab: %s\n", err);
        summary_free(t);
        return NN_EXIT_INPUT;
    }
    summary_print(stdout, t, o.top, o.csv);
    summary_free(t);
    return NN_EXIT_OK;
}

/* A whole number in 0..INT32_MAX for --run and --config. */
static int parse_id(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 2147483647L) return -1;
    *out = (int)v;
    return 0;
}

static int cmd_predict(int argc, char **argv)
{
    PredictOptions o = {.run = -1, .config = -1};
    char **overrides = calloc((size_t)argc + 1, sizeof(char *));
    if (!overrides) return NN_EXIT_RUNTIME;
    int status = NN_EXIT_INPUT;
    const char *bad = NULL;
    for (int i = 0; i < argc && !bad; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--run") || !strcmp(a, "--config")) {
            if (i + 1 >= argc || parse_id(argv[i + 1], !strcmp(a, "--run") ? &o.run : &o.config)) bad = a;
            i++;
        } else if (!strcmp(a, "--ensemble")) {
            o.ensemble = 1;
        } else if (!strcmp(a, "--final")) {
            o.final = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') bad = a;
            else o.output = argv[++i];
        } else if (a[0] == '-') {
            free(overrides);
            return bad_usage("unknown option '%s'", a);
        } else if (!o.results) {
            o.results = a;
        } else if (strchr(a, '=')) {
            overrides[o.n_overrides++] = (char *)a;
        } else {
            free(overrides);
            return bad_usage("unexpected argument '%s' (overrides are dataset.KEY=VALUE)", a);
        }
    }
    o.overrides = overrides;
    if (bad) status = bad[1] == 'o' || bad[2] == 'o' ? bad_usage("%s needs a file", bad)
                                                     : bad_usage("%s needs a number (a run or config point id)", bad);
    else if (!o.results) status = bad_usage("%s", "predict needs a results file or an output folder");
    else if ((o.run >= 0) == (o.config >= 0)) status = bad_usage("%s", "predict needs --run N or --config N --ensemble");
    else if (o.config >= 0 && !o.ensemble)
        status = bad_usage("--config %d predicts with all its runs averaged: add --ensemble (or name one run with --run)",
                           o.config);
    else if (o.run >= 0 && o.ensemble) status = bad_usage("%s", "--ensemble goes with --config N, not --run");
    else {
        char err[NN_ERR_LEN] = "";
        status = predict_main(&o, o.output ? stdout : stderr, err);
        if (status != NN_EXIT_OK) fprintf(stderr, "nnlab: %s\n", err);
    }
    free(overrides);
    return status;
}

static int cmd_merge(int argc, char **argv)
{
    if (argc != 1) return bad_usage("%s", "merge needs exactly one output folder");
    char err[NN_ERR_LEN];
    int status = driver_merge(argv[0], err);
    if (status) fprintf(stderr, "nnlab: %s\n", err);
    return status;
}

/* nnlab report: runs scripts/nnlab_report.py (docs/report.md) with the Python the build found, passing
 * this binary's own path so that the script's `nnlab summary` is this nnlab's. NNLAB_PYTHON and
 * NNLAB_SCRIPTS in the environment override the paths baked in at build time (an installed layout). */
static int cmd_report(int argc, char **argv)
{
    const char *python = getenv("NNLAB_PYTHON"), *scripts = getenv("NNLAB_SCRIPTS");
    if (!python || !*python) python = NNLAB_PYTHON_PATH;
    if (!scripts || !*scripts) scripts = NNLAB_SCRIPTS_DIR;
    char script[4096], self[4096];
    snprintf(script, sizeof script, "%s/nnlab_report.py", scripts);
    if (!*python || access(python, X_OK)) {
        fprintf(stderr, "nnlab: %s: report runs %s with a Python 3 that has h5py, numpy and matplotlib; set "
                "NNLAB_PYTHON to one (or configure with -DNNLAB_PYTHON=...)\n",
                *python ? python : "this build found no Python", script);
        return NN_EXIT_INPUT;
    }
    if (access(script, R_OK)) {
        fprintf(stderr, "nnlab: %s: not found (report's script; set NNLAB_SCRIPTS to the folder holding it)\n", script);
        return NN_EXIT_INPUT;
    }
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    char **args = calloc((size_t)argc + 5, sizeof(char *));
    if (!args) return NN_EXIT_RUNTIME;
    int n = 0;
    args[n++] = (char *)python, args[n++] = script;
    if (len > 0) args[n++] = "--nnlab", args[n++] = self;
    for (int i = 0; i < argc; i++) args[n++] = argv[i];
    fflush(NULL);
    execv(python, args);
    fprintf(stderr, "nnlab: %s: cannot run: %s\n", python, strerror(errno));
    free(args);
    return NN_EXIT_INPUT;
}

#ifdef NNLAB_HAVE_MPI
#include <mpi.h>
#endif

/* Under mpirun (an MPI build, and the launcher's environment): MPI_Init,
 * and this process's rank and the number of ranks. */
static void mpi_start(int *argc, char ***argv, int *rank, int *size)
{
    *rank = 0, *size = 1;
#ifdef NNLAB_HAVE_MPI
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) return;
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    if (provided < MPI_THREAD_SERIALIZED && *size > 1) {
        fprintf(stderr, "nnlab: this MPI library cannot serve several threads per rank\n");
        MPI_Abort(MPI_COMM_WORLD, NN_EXIT_RUNTIME);
    }
#else
    (void)argc, (void)argv;
#endif
}

static int mpi_stop(int status, int size)
{
#ifdef NNLAB_HAVE_MPI
    if (size > 1 || getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK")) MPI_Finalize();
#else
    (void)size;
#endif
    return status;
}

/* What `nnlab --version --verbose` adds: the code this process runs and its threads, for benchmarks. */
static void print_build(void)
{
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    int omp_threads = omp_get_max_threads(); /* before anything asks OpenBLAS, which may set it */
    printf("kernels: %s\n", mlp_kernel_name());
    printf("OpenBLAS: core %s; config %s\n", openblas_get_corename(), openblas_get_config());
    printf("OPENBLAS_CORETYPE: %s\n", coretype ? coretype : "not set");
    printf("threads: OpenMP default %d (omp_get_max_threads), OpenBLAS %d (openblas_get_num_threads);"
           " each run of nnlab run is on one thread\n", omp_threads, openblas_get_num_threads());
}

int main(int argc, char **argv)
{
    int mpi_rank, mpi_size;
    mpi_start(&argc, &argv, &mpi_rank, &mpi_size);
    h5io_init();
    signal(SIGXFSZ, SIG_IGN); /* past a file-size limit write() fails with EFBIG: a message and exit 1, not a kill */
    if (argc < 2) return bad_usage("%s", "no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--verbose")) return bad_usage("--version takes --verbose only, not '%s'", argv[i]);
        printf("nnlab %s\n", NNLAB_VERSION);
        if (argc > 2) print_build();
        return NN_EXIT_OK;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        printf("%s", usage);
        return NN_EXIT_OK;
    }
    int known = !strcmp(cmd, "run") || !strcmp(cmd, "check") || !strcmp(cmd, "list") || !strcmp(cmd, "merge") ||
                !strcmp(cmd, "summary") || !strcmp(cmd, "predict") || !strcmp(cmd, "report");
    for (int i = 2; known && i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s", usage);
            return NN_EXIT_OK;
        }
    if (!strcmp(cmd, "run")) return mpi_stop(cmd_run(argc - 2, argv + 2, mpi_rank, mpi_size), mpi_size);
    if (!strcmp(cmd, "check")) return cmd_check_or_list(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "list")) return cmd_check_or_list(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc - 2, argv + 2);
    if (!strcmp(cmd, "summary")) return cmd_summary(argc - 2, argv + 2);
    if (!strcmp(cmd, "predict")) return cmd_predict(argc - 2, argv + 2);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 2, argv + 2);
    return bad_usage("unknown command '%s'", cmd);
}

