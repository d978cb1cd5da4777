/* progress.h — the progress line of a running experiment on stderr: runs
 * done of total, runs/s, the share of epochs done, ETA, the best validation
 * accuracy so far (never a test figure) and the diverged count; redrawn in
 * place on a terminal, a plain line every 2 s otherwise.
 *
 * Not thread-safe: callers serialise (the executor's progress lock). */
#ifndef PROGRESS_H
#define PROGRESS_H

#include "train.h"

typedef struct {
    int total, done, diverged, failed;
    double epochs_total, epochs_done; /* over the runs to do: ETA and the share done while runs are long */
    double start, last_print, best_acc; /* best_acc: the best validation accuracy at a selected epoch */
    int tty, quiet;
    int rung, rung_left;  /* successive halving: the rung being trained (first bracket still training) and its
                           * runs not yet in; rung -1 otherwise */
    int bracket;          /* hyperband: that rung's bracket */
} Progress;

/* Start counting total runs of epochs_total epochs in all. */
void progress_start(Progress *p, int total, double epochs_total, int quiet);
/* Redraw (at most 10 times a second; final: now, and end the line). */
void progress_show(Progress *p, int final);
/* A finished run: counted, its selected epoch's validation accuracy seen. */
void progress_run_done(Progress *p, const RunResult *res);
/* Epochs trained (1 per epoch_done), or skipped by a run that ended early. */
void progress_epochs(Progress *p, double epochs);

#endif
