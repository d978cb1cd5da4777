/* predict.h — nnlab predict: apply a stored model (one run, or the runs of
 * a config point averaged) to the experiment's own test split or to new
 * data, write one CSV row per example and report accuracy, per-class
 * precision and recall and the confusion matrix when labels are known.
 *
 * Not here: training, the results format (h5io reads it), the command line. */
#ifndef PREDICT_H
#define PREDICT_H

#include <stdio.h>

typedef struct {
    const char *results;       /* results.h5 or an output folder */
    int run;                   /* --run N, or -1 */
    int config;                /* --config N, or -1 */
    int ensemble;              /* --ensemble: average the probabilities of the config point's runs */
    int final;                 /* --final: the last epoch's weights, not the selected epoch's */
    char *const *overrides;    /* dataset.KEY=VALUE: new data instead of the test split */
    int n_overrides;
    const char *output;        /* the CSV's path; NULL: standard output */
} PredictOptions;

/* Returns an exit status (NN_EXIT_*), with a message in err unless OK. The
 * report goes to `report` (the caller picks stdout or stderr). */
int predict_main(const PredictOptions *o, FILE *report, char *err);

#endif
