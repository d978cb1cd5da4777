/* progress.c — the progress line (see progress.h). */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nnlab.h"

void progress_start(Progress *p, int total, double epochs_total, int quiet)
{
    memset(p, 0, sizeof *p);
    p->total = total;
    p->epochs_total = epochs_total;
    p->start = p->last_print = nn_now();
    p->best_acc = -1;
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
    p->rung = -1;
}

void progress_show(Progress *p, int final)
{
    if (p->quiet || p->total == 0) return; /* nothing to run: no progress to show */
    double now = nn_now(), elapsed = now - p->start;
    if (!final && !p->tty && now - p->last_print < 2.0) return;
    if (!final && p->tty && now - p->last_print < 0.1) return;
    p->last_print = now;
    double rate = elapsed > 0 ? p->done / elapsed : 0;
    char eta[32] = "-", share[32] = "";
    if (p->epochs_done > 0 && p->done < p->total) {
        snprintf(eta, sizeof eta, "%.0fs", (p->epochs_total - p->epochs_done) * elapsed / p->epochs_done);
        snprintf(share, sizeof share, ", %.0f%% of epochs", 100.0 * p->epochs_done / p->epochs_total);
    }
    char best[48] = ""; /* the test set is never the measure of "best" */
    if (p->best_acc >= 0) snprintf(best, sizeof best, "  best val acc %.4f", p->best_acc);
    char diverged[32] = "", rung[64] = "";
    if (p->diverged) snprintf(diverged, sizeof diverged, "  (%d diverged)", p->diverged);
    if (p->rung >= 0 && p->bracket > 0)
        snprintf(rung, sizeof rung, "  bracket %d rung %d: %d left", p->bracket, p->rung, p->rung_left);
    else if (p->rung >= 0)
        snprintf(rung, sizeof rung, "  rung %d: %d left", p->rung, p->rung_left);
    fprintf(stderr, "%s[%d/%d runs%s] %.2f runs/s  ETA %s%s%s%s%s", p->tty ? "\r" : "", p->done,
            p->total, share, rate, eta, rung, best, diverged, p->tty ? "\033[K" : "\n");
    if (p->tty && final) fputc('\n', stderr);
    fflush(stderr);
}

void progress_run_done(Progress *p, const RunResult *res)
{
    p->done++;
    p->diverged += res->status == RUN_DIVERGED;
    double acc = res->n_curves > CURVE_VAL_ACC ? res->curve[CURVE_VAL_ACC][res->best_epoch] : NAN;
    if (!isnan(acc) && acc > p->best_acc) p->best_acc = acc;
    progress_show(p, 0);
}

void progress_epochs(Progress *p, double epochs)
{
    p->epochs_done += epochs;
    progress_show(p, 0);
}
