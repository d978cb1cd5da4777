/* schedule.c — the plan of runs (see schedule.h). */
#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- brackets -------------------------------------------------------------- */

static void halving_bracket(Bracket *b, int first, int n, int epochs, int min_epochs, int eta)
{
    memset(b, 0, sizeof *b);
    b->first = first, b->n = n;
    long long e = min_epochs;
    int keep = n;
    for (int r = 0; r < SCHEDULE_MAX_RUNGS; r++, e *= eta) {
        b->epochs[r] = e < epochs ? (int)e : epochs;
        b->keep[r] = keep;
        b->n_rungs = r + 1;
        if (e >= epochs) break;
        keep = (keep + eta - 1) / eta;
    }
}

int schedule_brackets(int hyperband, int n_configs, int epochs, int min_epochs, int eta, Bracket *out)
{
    if (!hyperband) {
        halving_bracket(&out[0], 0, n_configs, epochs, min_epochs, eta);
        return 1;
    }
    int s_max = 0;
    for (long long p = (long long)min_epochs * eta; p <= epochs && s_max < SCHEDULE_MAX_RUNGS - 1; p *= eta) s_max++;
    int n_brackets = 0, first = 0;
    for (int s = s_max; s >= 0; s--) {
        Bracket *b = &out[n_brackets++];
        long long pow = 1;
        for (int k = 0; k < s; k++) pow *= eta;
        memset(b, 0, sizeof *b);
        b->first = first;
        b->n = (int)(((long long)(s_max + 1) * pow + s) / (s + 1)); /* ⌈(s_max + 1)·eta^s/(s + 1)⌉ */
        b->n_rungs = s + 1;
        long long div = pow, shrink = 1;
        for (int i = 0; i <= s; i++, div /= eta, shrink *= eta) {
            b->epochs[i] = i == s ? epochs : (int)(epochs / div);
            b->keep[i] = b->n / shrink > 0 ? (int)(b->n / shrink) : 1;
        }
        first += b->n;
    }
    return n_brackets;
}

int schedule_hyperband_trials(int epochs, int min_epochs, int eta)
{
    Bracket b[SCHEDULE_MAX_RUNGS];
    int n = schedule_brackets(1, 0, epochs, min_epochs, eta, b), trials = 0;
    for (int i = 0; i < n; i++) trials += b[i].n;
    return trials;
}

/* ---- the plain plan ---------------------------------------------------------- */

void schedule_init(Schedule *s, const int *todo, int n_todo)
{
    memset(s, 0, sizeof *s);
    s->todo = todo;
    s->n_todo = n_todo;
}

void schedule_free(Schedule *s)
{
    free(s->rung_of);
    free(s->value);
    free(s->alive);
    free(s->current);
    free(s->pending);
    free(s->queue);
    s->rung_of = NULL, s->value = NULL, s->alive = NULL, s->current = s->pending = NULL, s->queue = NULL;
}

/* ---- successive halving -------------------------------------------------------- */

static void enqueue(Schedule *s, int index, int kind, int rung)
{
    const Bracket *b = NULL;
    int config = index / s->runs_per_config;
    for (int i = 0; i < s->n_brackets && !b; i++)
        if (config < s->brackets[i].first + s->brackets[i].n) b = &s->brackets[i];
    Work w = {index, kind, rung, b->epochs[rung], rung == b->n_rungs - 1};
    s->queue[(s->head + s->n_queued++) % s->n_runs] = w;
    s->n_pruned += kind == WORK_PRUNE;
}

/* A config point's value at rung r: the mean over its runs, NaN if any is NaN. */
static double config_value(const Schedule *s, int config, int r)
{
    double sum = 0;
    for (int k = 0; k < s->runs_per_config; k++) {
        double v = s->value[(size_t)(config * s->runs_per_config + k) * SCHEDULE_MAX_RUNGS + r];
        if (isnan(v)) return NAN;
        sum += v;
    }
    return sum / s->runs_per_config;
}

typedef struct {
    double v;
    int config;
} Ranked;

/* Lower value first, NaN last, ties to the lower config point. */
static int by_value(const void *pa, const void *pb)
{
    const Ranked *a = pa, *b = pb;
    int na = isnan(a->v), nb = isnan(b->v);
    if (na != nb) return na - nb;
    if (!na && a->v != b->v) return a->v < b->v ? -1 : 1;
    return (a->config > b->config) - (a->config < b->config);
}

/* Start rung r of bracket bi: queue the training of every run of its live
 * config points that has not reached r; decide at once when all have. */
static void start_rung(Schedule *s, int bi, int r, const RunRungs *rr);

/* Rung r of bracket bi is complete: keep the best, prune the rest. */
static void decide(Schedule *s, int bi, int r, const RunRungs *rr)
{
    const Bracket *b = &s->brackets[bi];
    if (r == b->n_rungs - 1) {
        s->current[bi] = b->n_rungs;
        return;
    }
    Ranked *rank = malloc((size_t)b->n * sizeof *rank);
    int n = 0;
    if (!rank) { /* out of memory deciding: no more work is handed out; --resume decides again */
        s->stopped = 1;
        return;
    }
    for (int c = b->first; c < b->first + b->n; c++)
        if (s->alive[c]) rank[n].v = config_value(s, c, r), rank[n++].config = c;
    qsort(rank, (size_t)n, sizeof *rank, by_value);
    for (int i = b->keep[r + 1]; i < n; i++) {
        int c = rank[i].config;
        s->alive[c] = 0;
        for (int k = 0; k < s->runs_per_config; k++) {
            int index = c * s->runs_per_config + k;
            if (!(rr && rr[index].closed)) enqueue(s, index, WORK_PRUNE, r);
        }
    }
    free(rank);
    start_rung(s, bi, r + 1, rr);
}

static void start_rung(Schedule *s, int bi, int r, const RunRungs *rr)
{
    const Bracket *b = &s->brackets[bi];
    s->current[bi] = r;
    s->pending[bi] = 0;
    for (int c = b->first; c < b->first + b->n; c++) {
        if (!s->alive[c]) continue;
        for (int k = 0; k < s->runs_per_config; k++) {
            int index = c * s->runs_per_config + k;
            if (rr && rr[index].reached >= r) continue; /* its value at r came with it */
            s->rung_of[index] = r;
            s->pending[bi]++;
            enqueue(s, index, WORK_TRAIN, r);
        }
    }
    if (s->pending[bi] == 0) decide(s, bi, r, rr);
}

int schedule_init_rungs(Schedule *s, const Bracket *brackets, int n_brackets, int runs_per_config,
                        const RunRungs *rr)
{
    memset(s, 0, sizeof *s);
    const Bracket *last = &brackets[n_brackets - 1];
    int n_configs = last->first + last->n;
    s->n_brackets = n_brackets;
    memcpy(s->brackets, brackets, (size_t)n_brackets * sizeof *brackets);
    s->runs_per_config = runs_per_config;
    s->n_runs = n_configs * runs_per_config;
    s->rung_of = malloc((size_t)s->n_runs * sizeof *s->rung_of);
    s->value = malloc((size_t)s->n_runs * SCHEDULE_MAX_RUNGS * sizeof *s->value);
    s->alive = malloc((size_t)n_configs);
    s->current = malloc((size_t)n_brackets * sizeof *s->current);
    s->pending = malloc((size_t)n_brackets * sizeof *s->pending);
    s->queue = malloc((size_t)s->n_runs * sizeof *s->queue);
    if (!s->rung_of || !s->value || !s->alive || !s->current || !s->pending || !s->queue) {
        schedule_free(s);
        return -1;
    }
    memset(s->alive, 1, (size_t)n_configs);
    for (int i = 0; i < s->n_runs; i++) {
        s->rung_of[i] = rr ? rr[i].reached : -1;
        for (int r = 0; r < SCHEDULE_MAX_RUNGS; r++)
            s->value[(size_t)i * SCHEDULE_MAX_RUNGS + r] = rr && r <= rr[i].reached ? rr[i].value[r] : NAN;
    }
    for (int bi = 0; bi < n_brackets; bi++) start_rung(s, bi, 0, rr);
    return 0;
}

int schedule_next_work(Schedule *s, Work *w)
{
    if (s->stopped) return 0;
    if (!s->n_brackets) {
        if (s->next >= s->n_todo) return 0;
        Work plain = {s->todo[s->next++], WORK_TRAIN, 0, 0, 1};
        *w = plain;
        s->n_started++;
        return 1;
    }
    if (!s->n_queued) return 0;
    *w = s->queue[s->head];
    s->head = (s->head + 1) % s->n_runs;
    s->n_queued--;
    s->n_started++;
    return 1;
}

int schedule_next(Schedule *s)
{
    Work w;
    return schedule_next_work(s, &w) ? w.index : -1;
}

void schedule_finished_value(Schedule *s, int index, double value)
{
    s->n_finished++;
    if (!s->n_brackets) return;
    int config = index / s->runs_per_config, bi = 0;
    while (config >= s->brackets[bi].first + s->brackets[bi].n) bi++;
    int r = s->rung_of[index];
    if (r < 0 || r != s->current[bi] || !s->alive[config]) return; /* a prune, not a rung's training */
    double *v = &s->value[(size_t)index * SCHEDULE_MAX_RUNGS + r];
    *v = value;
    if (--s->pending[bi] == 0 && !s->stopped) decide(s, bi, r, NULL);
}

void schedule_finished(Schedule *s, int index)
{
    schedule_finished_value(s, index, NAN);
}

void schedule_stop(Schedule *s)
{
    s->stopped = 1;
}

int schedule_in_flight(const Schedule *s)
{
    return s->n_started - s->n_finished;
}

int schedule_done(const Schedule *s)
{
    if (s->stopped) return 1;
    if (!s->n_brackets) return s->next >= s->n_todo;
    if (s->n_queued) return 0;
    for (int bi = 0; bi < s->n_brackets; bi++)
        if (s->current[bi] < s->brackets[bi].n_rungs) return 0;
    return 1;
}

int schedule_rung_status(const Schedule *s, int *bracket, int *rung, int *left)
{
    for (int bi = 0; bi < s->n_brackets; bi++)
        if (s->current[bi] < s->brackets[bi].n_rungs) {
            *bracket = bi, *rung = s->current[bi], *left = s->pending[bi];
            return 1;
        }
    return 0;
}
