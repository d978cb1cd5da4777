/* schedule.h — which run comes next. A pure plan, as ninja's Plan: it holds
 * the runs to do (indices into the experiment's runs, in order) and
 * counters, and advances only through schedule_next and schedule_finished.
 * No I/O, no threads (callers serialise), no knowledge of how runs execute:
 * OpenMP threads and MPI ranks (execute) ask it for work the same way, so
 * what runs never depends on who runs it.
 *
 * Successive halving and Hyperband (DESIGN.md "Search") live here alone:
 * config points are grouped in brackets, each trained rung by rung. A run's
 * work is "train to the end of rung r" (the last rung of its bracket ends
 * the run) or "prune it at rung r". The call that reports the last run of
 * a rung decides the promotions from the values of all of them, sorted by
 * (value, config point): never by the order they arrived in, so threads,
 * ranks and resume cannot change the search. */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#define SCHEDULE_MAX_RUNGS 32

/* One bracket: config points first .. first + n - 1, trained in n_rungs
 * rungs; rung r ends at epochs[r] and trains the best keep[r] config points
 * of rung r - 1 (keep[0] = n). */
typedef struct {
    int first, n, n_rungs;
    int epochs[SCHEDULE_MAX_RUNGS];
    int keep[SCHEDULE_MAX_RUNGS];
} Bracket;

/* The brackets of a search, into out (SCHEDULE_MAX_RUNGS of them at most);
 * returns their number. halving (hyperband = 0): one bracket of n_configs,
 * rungs at min_epochs·eta^r below epochs, then epochs; keep[r+1] =
 * ⌈keep[r]/eta⌉. hyperband: with s_max the largest s where
 * min_epochs·eta^s <= epochs, bracket s = s_max .. 0 (in that order, trials
 * numbered on across them) draws n = ⌈(s_max + 1)·eta^s/(s + 1)⌉ trials,
 * rung i = 0 .. s ends at ⌊epochs/eta^(s−i)⌋ epochs and keeps
 * max(1, ⌊n/eta^i⌋) (Li et al. 2018, R = epochs/min_epochs, in epochs). */
int schedule_brackets(int hyperband, int n_configs, int epochs, int min_epochs, int eta, Bracket *out);
/* The trials hyperband draws: the sum of its brackets' n. */
int schedule_hyperband_trials(int epochs, int min_epochs, int eta);

enum { WORK_TRAIN = 0, WORK_PRUNE };
typedef struct {
    int index; /* into the runs */
    int kind;  /* WORK_TRAIN: to the end of rung `rung`; WORK_PRUNE: end it as pruned at `rung` */
    int rung;
    int epochs;/* WORK_TRAIN: the rung's last epoch */
    int last;  /* WORK_TRAIN: the last rung of its bracket: the run ends there */
} Work;

/* What a run's file says at the start (resume): reached -1 (no file) or the
 * rung it was trained to, whose values value[0 .. reached] (lower is
 * better, NaN ranks last) are known; closed: nothing more to do (pruned, or
 * the last rung done). */
typedef struct {
    int reached, closed;
    double value[SCHEDULE_MAX_RUNGS];
} RunRungs;

typedef struct {
    const int *todo;  /* (n_todo) indices into the runs, in the order they are handed out */
    int n_todo;
    int next;         /* the next of todo to hand out */
    int n_started;    /* work handed out */
    int n_finished;   /* work reported finished (trained, failed or stopped) */
    int stopped;      /* no more runs are handed out */
    /* successive halving (n_brackets > 0) */
    int n_brackets;
    Bracket brackets[SCHEDULE_MAX_RUNGS];
    int runs_per_config;   /* seeds × folds; run index = config · runs_per_config + k */
    int n_runs;
    int *rung_of;          /* (n_runs) the bracket rung each run trains or trained last; -1 before */
    double *value;         /* (n_runs × SCHEDULE_MAX_RUNGS) each run's value at each rung */
    unsigned char *alive;  /* (n_configs) the config point trains the current rung of its bracket */
    int *current;          /* (n_brackets) the rung each bracket trains; n_rungs when it is done */
    int *pending;          /* (n_brackets) runs of the current rung not yet reported */
    Work *queue;           /* (n_runs) work ready to hand out, head .. tail (circular) */
    int head, n_queued;
    int n_pruned;          /* runs pruned so far (work handed out or closed before) */
} Schedule;

/* A plan of the runs todo[0 .. n_todo-1] (the caller keeps todo). */
void schedule_init(Schedule *s, const int *todo, int n_todo);
/* A plan of successive halving over n_configs config points of
 * runs_per_config runs each, from what their files say (rr, by run index:
 * n_configs · runs_per_config of them; NULL: nothing done yet). Work
 * that a resumed search had left ready (prunes, the next rung's runs) is
 * queued at once. 0, or -1 out of memory. schedule_free releases it. */
int schedule_init_rungs(Schedule *s, const Bracket *brackets, int n_brackets, int runs_per_config,
                        const RunRungs *rr);
void schedule_free(Schedule *s);
/* The next run to start (an index into the runs), or -1: none left, or stopped. */
int schedule_next(Schedule *s);
/* The next work; 0 when none is ready now (or stopped). Under successive
 * halving none may be ready while runs are in flight: the next rung waits
 * for them. */
int schedule_next_work(Schedule *s, Work *w);
/* Run `index` (handed out by schedule_next) is over, whatever its outcome. */
void schedule_finished(Schedule *s, int index);
/* Work on run `index` is over; a WORK_TRAIN reports the run's value at the
 * rung's end (lower is better: a loss, or an accuracy negated; NaN when
 * diverged or failed, which ranks last). */
void schedule_finished_value(Schedule *s, int index, double value);
/* Hand out no more runs (a signal, --fail-fast, a failed write). */
void schedule_stop(Schedule *s);
/* Work handed out and not yet finished. */
int schedule_in_flight(const Schedule *s);
/* Nothing more will ever be handed out (all done, or stopped). */
int schedule_done(const Schedule *s);
/* For progress: the rung of the first bracket still training and the runs
 * of that rung not yet reported; 0 when nothing trains in rungs. */
int schedule_rung_status(const Schedule *s, int *bracket, int *rung, int *left);

#endif
