/* schedule.h — which run comes next. A pure plan, as ninja's Plan: it holds
 * the runs to do (indices into the experiment's runs, in order) and
 * counters, and advances only through schedule_next and schedule_finished.
 * No I/O, no threads (callers serialise), no knowledge of how runs execute:
 * OpenMP threads and MPI ranks (execute) ask it for work the same way, so
 * what runs never depends on who runs it. */
#ifndef SCHEDULE_H
#define SCHEDULE_H

typedef struct {
    const int *todo;  /* (n_todo) indices into the runs, in the order they are handed out */
    int n_todo;
    int next;         /* the next of todo to hand out */
    int n_finished;   /* runs reported finished (trained, failed or stopped) */
    int stopped;      /* no more runs are handed out */
} Schedule;

/* A plan of the runs todo[0 .. n_todo-1] (the caller keeps todo). */
void schedule_init(Schedule *s, const int *todo, int n_todo);
/* The next run to start (an index into the runs), or -1: none left, or stopped. */
int schedule_next(Schedule *s);
/* Run `index` (handed out by schedule_next) is over, whatever its outcome. */
void schedule_finished(Schedule *s, int index);
/* Hand out no more runs (a signal, --fail-fast, a failed write). */
void schedule_stop(Schedule *s);
/* Runs handed out and not yet finished. */
int schedule_in_flight(const Schedule *s);

#endif
