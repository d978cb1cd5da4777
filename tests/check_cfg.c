/* check_cfg.c — experiment files: a full file binds every setting, defaults
 * fill the rest (csv and hdf5 standardised), the resolved text reads back to
 * the same experiment and shows a swept setting only as its axis, and
 * every file under tests/bad/ fails with exactly the message on its first
 * line ("# expect: LINE:COL: message"); numbers are decimal, tags agree with
 * what a setting takes, and anchors resolve to their latest definition. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "nnlab.h"
#include "node.h"
#include "optim.h"

#include "check_main.h"

static Experiment *load_text(const char *text)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load_text(&ex, "t.yaml", text, strlen(text), NULL, 0, err) == 0, "%s", err);
    return ex;
}

START_TEST(full_file_binds_every_setting)
{
    Experiment *ex = load_text("name: full\n"
                               "dataset: {source: digits, test_fraction: 0.25, split_seed: 7, scale: standard}\n"
                               "model: {hidden: [30, 20, 10], activation: leaky_relu, dropout: 0.5, init: he_normal}\n"
                               "training: {epochs: 4, batch_size: 32, learning_rate: 1e-3, optimizer: nesterov,\n"
                               "           momentum: 0.95, l2: 0.0001, shuffle: true, train_curves: false}\n"
                               "seeds: [9, 3]\n"
                               "output: out/full\n");
    const Settings *s = &ex->settings;
    ck_assert_str_eq(ex->name, "full");
    ck_assert_str_eq(ex->output, "out/full");
    ck_assert_double_eq(s->data.test_fraction, 0.25);
    ck_assert_int_eq(s->data.split_seed, 7);
    ck_assert_int_eq(s->data.scale, SCALE_STANDARD);
    ck_assert_int_eq(s->train.hidden.n, 3);
    ck_assert_int_eq(s->train.hidden.units[2], 10);
    ck_assert_int_eq(s->train.activation, ACT_LEAKY_RELU);
    ck_assert_double_eq(s->train.dropout, 0.5);
    ck_assert_int_eq(s->train.init, INIT_HE_NORMAL);
    ck_assert_int_eq(s->train.epochs, 4);
    ck_assert_int_eq(s->train.batch_size, 32);
    ck_assert_double_eq(s->train.learning_rate, 1e-3);
    ck_assert_int_eq(s->train.optimizer, OPT_NESTEROV);
    ck_assert_double_eq(s->train.momentum, 0.95);
    ck_assert_double_eq(s->train.l2, 0.0001);
    ck_assert_int_eq(s->train.shuffle, 1);
    ck_assert_int_eq(s->train.train_curves, 0);
    ck_assert_int_eq(ex->n_seeds, 2);
    ck_assert_int_eq(ex->seeds[0], 9);
    cfg_free(ex);
}
END_TEST

START_TEST(defaults_are_the_tutorial)
{
    Experiment *ex = load_text("seeds: {count: 3, start: 10}\n");
    Settings want;
    cfg_defaults(&want);
    ck_assert_mem_eq(&ex->settings, &want, sizeof want);
    ck_assert_int_eq(want.train.hidden.units[0], 200);
    ck_assert_int_eq(want.train.epochs, 10);
    ck_assert_double_eq(want.train.learning_rate, 0.01);
    ck_assert_int_eq(want.train.train_curves, 1);
    ck_assert_str_eq(ex->name, "t");
    ck_assert_str_eq(ex->output, "results/t");
    ck_assert_int_eq(ex->n_seeds, 3);
    ck_assert_int_eq(ex->seeds[2], 12);
    cfg_free(ex);
}
END_TEST

START_TEST(resolved_text_round_trips)
{
    Experiment *a = load_text("name: rt\nmodel: {hidden: [7, 5], dropout: 0.1}\n"
                              "training: {learning_rate: 0.003, shuffle: true}\nseeds: [4, 2]\n");
    Experiment *b = load_text(a->resolved);
    ck_assert_mem_eq(&a->settings, &b->settings, sizeof a->settings);
    ck_assert_str_eq(a->resolved, b->resolved);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    ck_assert_int_eq(b->n_seeds, 2);
    ck_assert_int_eq(b->seeds[1], 2);
    /* The fingerprint covers settings and seeds, not name or output. */
    char err[NN_ERR_LEN];
    ck_assert_int_eq(cfg_set_output(b, "elsewhere", err), 0);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    Experiment *c = load_text("name: rt\nmodel: {hidden: [7, 5], dropout: 0.1}\n"
                              "training: {learning_rate: 0.004, shuffle: true}\nseeds: [4, 2]\n");
    ck_assert_str_ne(a->fingerprint, c->fingerprint);
    cfg_free(a);
    cfg_free(b);
    cfg_free(c);
    /* every optimizer and schedule setting adamw and a step schedule use */
    a = load_text("training: {optimizer: adamw, betas: [0.85, 0.995], eps: 1.0e-6, weight_decay: 0.02,\n"
                  "           lr_schedule: {type: step, warmup_epochs: 3, step_size: 4, gamma: 0.25}}\n");
    b = load_text(a->resolved);
    ck_assert_mem_eq(&a->settings, &b->settings, sizeof a->settings);
    ck_assert_str_eq(a->resolved, b->resolved);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    cfg_free(a);
    cfg_free(b);
}
END_TEST

START_TEST(swept_settings_are_only_their_axis)
{
    /* A swept key is written only under grid: (a comment in its section), so
     * the resolved text does not show a value that never runs; in a group,
     * the settings not swept stay. */
    const char *text = "model: {hidden: [8], activation: tanh}\n"
                       "training: {early_stopping: {patience: 3, min_delta: 0.01}}\n"
                       "dataset: {validation_fraction: 0.2}\n"
                       "grid: {model.activation: [relu, sigmoid], training.early_stopping.patience: [1, 2]}\n";
    Experiment *a = load_text(text);
    ck_assert_ptr_null(strstr(a->resolved, "\n  activation:"));
    ck_assert_ptr_null(strstr(a->resolved, "tanh"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\nmodel:\n  hidden: [8]\n  # activation: swept, see grid\n"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  early_stopping: {min_delta: 0.01}\n"
                                              "  # early_stopping.patience: swept, see grid\n"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\ngrid:\n  model.activation: [relu, sigmoid]\n"));
    /* the placeholder in settings is the axis's first value */
    ck_assert_int_eq(a->settings.train.activation, ACT_RELU);
    ck_assert_int_eq(a->settings.train.patience, 1);
    /* it reads back as the same settings, axes and fingerprint */
    Experiment *b = load_text(a->resolved);
    ck_assert_mem_eq(&a->settings, &b->settings, sizeof a->settings);
    ck_assert_str_eq(a->resolved, b->resolved);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    ck_assert_int_eq(b->n_axes, 2);
    ck_assert_int_eq(b->n_configs, 4);
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_eq(b->axes[i].def, a->axes[i].def);
        ck_assert_int_eq(b->axes[i].n, 2);
        for (int j = 0; j < 2; j++) {
            char va[64], vb[64];
            cfg_format_value(va, sizeof va, a->axes[i].def, &a->axes[i].values[j]);
            cfg_format_value(vb, sizeof vb, b->axes[i].def, &b->axes[i].values[j]);
            ck_assert_str_eq(va, vb);
        }
    }
    /* the value under a swept key is no part of the experiment */
    Experiment *c = load_text("model: {hidden: [8], activation: leaky_relu}\n"
                              "training: {early_stopping: {patience: 9, min_delta: 0.01}}\n"
                              "dataset: {validation_fraction: 0.2}\n"
                              "grid: {model.activation: [relu, sigmoid], training.early_stopping.patience: [1, 2]}\n");
    ck_assert_str_eq(c->fingerprint, a->fingerprint);
    char diff[1024];
    ck_assert_int_eq(cfg_differences(a, c, diff, sizeof diff), 0);
    /* against the same without the axis, the swept side says so */
    char *one[] = {"model.activation=tanh"};
    Experiment *d = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load_text(&d, "t.yaml", text, strlen(text), one, 1, err) == 0, "%s", err);
    ck_assert_int_eq(cfg_differences(a, d, diff, sizeof diff), 2);
    ck_assert_str_eq(diff, "  model.activation: (swept) -> tanh\n"
                           "  grid model.activation: [relu, sigmoid] -> (not swept)\n");
    /* every setting of a section swept: the section is {} and still reads back */
    Experiment *e = load_text("grid: {model.hidden: [[8], [4]], model.activation: [relu], model.dropout: [0, 0.5], "
                              "model.init: [he_normal]}\n");
    ck_assert_ptr_nonnull(strstr(e->resolved, "\nmodel: {}\n  # hidden: swept, see grid\n"));
    Experiment *f = load_text(e->resolved);
    ck_assert_mem_eq(&e->settings, &f->settings, sizeof e->settings);
    ck_assert_str_eq(e->fingerprint, f->fingerprint);
    ck_assert_int_eq(f->n_configs, 4);
    Experiment *exs[] = {a, b, c, d, e, f};
    for (size_t i = 0; i < sizeof exs / sizeof exs[0]; i++) cfg_free(exs[i]);
}
END_TEST

/* The scale the resolved text writes, and that it reads back the same. */
static int scale_of(const char *text, char *const *overrides, int n)
{
    Experiment *ex = NULL, *back;
    char err[NN_ERR_LEN], line[64];
    ck_assert_msg(cfg_load_text(&ex, "t.yaml", text, strlen(text), overrides, n, err) == 0, "%s", err);
    int scale = ex->settings.data.scale;
    snprintf(line, sizeof line, "\n  scale: %s\n", data_scale_names[scale]);
    ck_assert_msg(strstr(ex->resolved, line), "%s", ex->resolved);
    back = load_text(ex->resolved);
    ck_assert_int_eq(back->settings.data.scale, scale);
    ck_assert_str_eq(back->fingerprint, ex->fingerprint);
    cfg_free(back);
    cfg_free(ex);
    return scale;
}

START_TEST(data_files_are_standardised_unless_told)
{
    ck_assert_int_eq(scale_of("dataset: {source: csv, path: d.csv}\n", NULL, 0), SCALE_STANDARD);
    ck_assert_int_eq(scale_of("dataset: {source: hdf5, path: d.h5}\n", NULL, 0), SCALE_STANDARD);
    ck_assert_int_eq(scale_of("dataset: {source: csv, path: d.csv, scale: none}\n", NULL, 0), SCALE_NONE);
    ck_assert_int_eq(scale_of("dataset: {source: csv, path: d.csv, scale: minmax}\n", NULL, 0), SCALE_MINMAX);
    char *none[] = {"dataset.scale=none"}, *csv[] = {"dataset.source=csv", "dataset.path=d.csv"};
    ck_assert_int_eq(scale_of("dataset: {source: csv, path: d.csv}\n", none, 1), SCALE_NONE);
    ck_assert_int_eq(scale_of("{}\n", csv, 2), SCALE_STANDARD);
    /* the images keep their pixels */
    ck_assert_int_eq(scale_of("dataset: {source: digits}\n", NULL, 0), SCALE_NONE);
    ck_assert_int_eq(scale_of("dataset: {source: idx, path: mnist}\n", NULL, 0), SCALE_NONE);
    /* a base that gives the scale gives it to its children (the tutorial's none) */
    char err[NN_ERR_LEN];
    Experiment *ex = NULL;
    ck_assert_msg(cfg_load(&ex, NNLAB_SOURCE_DIR "/experiments/seed-baseline.yaml", csv, 2, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.data.scale, SCALE_NONE);
    cfg_free(ex);
    /* a base without it (csv-base.yaml, under hdf5-child.yaml) does not */
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/hdf5-child.yaml", NULL, 0, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.data.scale, SCALE_STANDARD);
    cfg_free(ex);
    /* swept: the axis, as written */
    ex = load_text("dataset: {source: csv, path: d.csv}\ngrid: {dataset.scale: [none, minmax]}\n");
    ck_assert_int_eq(ex->n_axes, 1);
    ck_assert_int_eq(ex->axes[0].values[0].data.scale, SCALE_NONE);
    ck_assert_int_eq(ex->axes[0].values[1].data.scale, SCALE_MINMAX);
    ck_assert_ptr_null(strstr(ex->resolved, "\n  scale:"));
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  dataset.scale: [none, minmax]\n"));
    Experiment *back = load_text(ex->resolved);
    ck_assert_str_eq(back->fingerprint, ex->fingerprint);
    ck_assert_mem_eq(&back->settings, &ex->settings, sizeof ex->settings);
    cfg_free(back);
    cfg_free(ex);
}
END_TEST

static const char *load_error(const char *text, char *const *overrides, int n, char *err);

/* The experiment text and overrides load, and their resolved text reads
 * back as the same experiment. */
static Experiment *load_round_trip(const char *text, char *const *overrides, int n)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load_text(&ex, "t.yaml", text, strlen(text), overrides, n, err) == 0, "%s", err);
    Experiment *back = load_text(ex->resolved);
    ck_assert_str_eq(back->resolved, ex->resolved);
    ck_assert_str_eq(back->fingerprint, ex->fingerprint);
    ck_assert_int_eq(back->n_configs, ex->n_configs);
    cfg_free(back);
    return ex;
}

START_TEST(optimizer_and_schedule_settings_bind)
{
    const char *text = "training: {optimizer: adam, betas: [0.8, 0.99], eps: 1.0e-7,\n"
                       "           lr_schedule: {type: step, warmup_epochs: 2, step_size: 3, gamma: 0.5}}\n";
    Experiment *a = load_round_trip(text, NULL, 0);
    const TrainConfig *c = &a->settings.train;
    ck_assert_int_eq(c->optimizer, OPT_ADAM);
    ck_assert_double_eq(c->beta1, 0.8);
    ck_assert_double_eq(c->beta2, 0.99);
    ck_assert_double_eq(c->eps, 1e-7);
    ck_assert_int_eq(c->lr_schedule, LR_STEP);
    ck_assert_int_eq(c->warmup_epochs, 2);
    ck_assert_int_eq(c->step_size, 3);
    ck_assert_double_eq(c->gamma, 0.5);
    /* the group is one flow mapping without what the type does not use; the
     * optimizer's settings are written, the others' left out */
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  lr_schedule: {type: step, warmup_epochs: 2, step_size: 3, "
                                              "gamma: 0.5}\n  optimizer: adam\n  betas: [0.8, 0.99]\n"
                                              "  eps: 1e-07\n  l2: 0\n"));
    ck_assert_ptr_null(strstr(a->resolved, "momentum"));
    ck_assert_ptr_null(strstr(a->resolved, "min_lr"));
    /* each is part of the fingerprint, and differences name it */
    Experiment *b = load_text("training: {optimizer: adam, betas: [0.8, 0.999], eps: 1.0e-7,\n"
                              "           lr_schedule: {type: step, warmup_epochs: 2, step_size: 3, gamma: 0.5}}\n");
    ck_assert_str_ne(a->fingerprint, b->fingerprint);
    char diff[1024];
    ck_assert_int_eq(cfg_differences(a, b, diff, sizeof diff), 1);
    ck_assert_str_eq(diff, "  training.betas: [0.8, 0.99] -> [0.8, 0.999]\n");
    cfg_free(b);
    /* rmsprop's alpha and eps; adamw's weight_decay; cosine's min_lr */
    Experiment *r = load_round_trip("training: {optimizer: rmsprop, alpha: 0.9, eps: 0.001}\n", NULL, 0);
    ck_assert_double_eq(r->settings.train.alpha, 0.9);
    ck_assert_ptr_nonnull(strstr(r->resolved, "\n  optimizer: rmsprop\n  eps: 0.001\n  alpha: 0.9\n"));
    Experiment *w = load_round_trip("training: {optimizer: adamw, weight_decay: 0.05,\n"
                                    "           lr_schedule: {type: cosine, min_lr: 1.0e-5, warmup_epochs: 10}}\n",
                                    NULL, 0);
    ck_assert_double_eq(w->settings.train.weight_decay, 0.05);
    ck_assert_double_eq(w->settings.train.min_lr, 1e-5);
    ck_assert_int_eq(w->settings.train.warmup_epochs, 10); /* as many as training.epochs: allowed */
    ck_assert_ptr_nonnull(strstr(w->resolved, "\n  lr_schedule: {type: cosine, warmup_epochs: 10, min_lr: 1e-05}\n"));
    ck_assert_ptr_nonnull(strstr(w->resolved, "\n  weight_decay: 0.05\n  l2: 0\n"));
    /* the defaults: sgd and a constant rate keep momentum (as written before), and nothing else */
    Experiment *d = load_round_trip("{}\n", NULL, 0);
    ck_assert_ptr_nonnull(strstr(d->resolved, "\n  lr_schedule: {type: constant, warmup_epochs: 0}\n"
                                              "  optimizer: sgd\n  momentum: 0.9\n  l2: 0\n"));
    /* momentum with sgd in the file itself stays allowed: the tutorial writes it */
    Experiment *m = load_round_trip("training: {optimizer: sgd, momentum: 0.5}\n", NULL, 0);
    Experiment *exs[] = {a, r, w, d, m};
    for (size_t i = 0; i < sizeof exs / sizeof exs[0]; i++) cfg_free(exs[i]);
}
END_TEST

START_TEST(optimizers_and_schedule_types_are_grid_axes)
{
    /* betas, momentum and min_lr are fine when some config point uses them */
    const char *text = "training: {betas: [0.8, 0.99], momentum: 0.5, lr_schedule: {min_lr: 0.001}}\n"
                       "grid:\n"
                       "  training.optimizer: [sgd, nesterov, adam]\n"
                       "  training.lr_schedule.type: [constant, cosine]\n";
    Experiment *a = load_round_trip(text, NULL, 0);
    ck_assert_int_eq(a->n_configs, 6);
    ck_assert_int_eq(a->n_axes, 2);
    ck_assert_int_eq(a->axes[0].values[2].train.optimizer, OPT_ADAM);
    ck_assert_int_eq(a->axes[1].values[1].train.lr_schedule, LR_COSINE);
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  lr_schedule: {warmup_epochs: 0, min_lr: 0.001}\n"
                                              "  # lr_schedule.type: swept, see grid\n"
                                              "  # optimizer: swept, see grid\n"
                                              "  momentum: 0.5\n  betas: [0.8, 0.99]\n  eps: 1e-08\n"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\ngrid:\n  training.optimizer: [sgd, nesterov, adam]\n"
                                              "  training.lr_schedule.type: [constant, cosine]\n"));
    /* the same axes from the command line */
    char *axes[] = {"training.optimizer=sgd,nesterov,adam", "training.lr_schedule.type=constant,cosine"};
    Experiment *b = load_round_trip("training: {betas: [0.8, 0.99], momentum: 0.5, lr_schedule: {min_lr: 0.001}}\n",
                                    axes, 2);
    ck_assert_str_eq(b->fingerprint, a->fingerprint);
    /* an axis of pairs */
    Experiment *c = load_round_trip("training: {optimizer: adamw}\n"
                                    "grid: {training.betas: [[0.9, 0.999], [0.8, 0.99]], training.weight_decay: [0, 0.1]}\n",
                                    NULL, 0);
    ck_assert_int_eq(c->n_configs, 4);
    ck_assert_double_eq(c->axes[0].values[1].train.beta1, 0.8);
    ck_assert_double_eq(c->axes[0].values[1].train.beta2, 0.99);
    ck_assert_ptr_nonnull(strstr(c->resolved, "\n  training.betas: [[0.9, 0.999], [0.8, 0.99]]\n"));
    char *pairs[] = {"training.betas=[0.9,0.999],[0.8,0.99]", "training.weight_decay=0,0.1"};
    Experiment *d = load_round_trip("training: {optimizer: adamw}\n", pairs, 2);
    ck_assert_str_eq(d->fingerprint, c->fingerprint);
    /* a pair listed twice */
    char err[NN_ERR_LEN];
    ck_assert_str_eq(load_error("training: {optimizer: adam}\ngrid: {training.betas: [[0.9, 0.999], [0.9, 0.999]]}\n",
                                NULL, 0, err),
                     "t.yaml:2:39: grid: training.betas lists [0.9, 0.999] twice");
    Experiment *exs[] = {a, b, c, d};
    for (size_t i = 0; i < sizeof exs / sizeof exs[0]; i++) cfg_free(exs[i]);
}
END_TEST

START_TEST(dotted_overrides_reach_optimizer_settings)
{
    const char *text = "training: {optimizer: adam}\n";
    char *cli[] = {"training.lr_schedule.type=cosine", "training.betas=[0.8,0.99]", "training.lr_schedule.min_lr=0.01"};
    Experiment *a = load_round_trip(text, cli, 3);
    ck_assert_int_eq(a->settings.train.lr_schedule, LR_COSINE);
    ck_assert_double_eq(a->settings.train.beta1, 0.8);
    ck_assert_double_eq(a->settings.train.beta2, 0.99);
    ck_assert_double_eq(a->settings.train.min_lr, 0.01);
    /* the same experiment as in the file */
    Experiment *b = load_text("training: {optimizer: adam, betas: [0.8, 0.99], lr_schedule: {type: cosine, min_lr: 0.01}}\n");
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    /* another optimizer chosen on the command line leaves the file's betas out (nothing on a command
     * line could remove them), as a base's; in the file, with an optimizer that does not use them, they are
     * an error */
    char err[NN_ERR_LEN];
    char *sgd[] = {"training.optimizer=sgd"};
    Experiment *c = load_round_trip(b->resolved, sgd, 1);
    ck_assert_int_eq(c->settings.train.optimizer, OPT_SGD);
    ck_assert_ptr_null(strstr(c->resolved, "betas"));
    cfg_free(c);
    ck_assert_str_eq(load_error("training: {optimizer: sgd, betas: [0.8, 0.99]}\n", NULL, 0, err),
                     "t.yaml:1:35: training.betas is not used by training.optimizer sgd: betas are for adam and "
                     "adamw");
    char *wd[] = {"training.weight_decay=0.1"};
    ck_assert_str_eq(load_error(text, wd, 1, err),
                     "command line (training.weight_decay=0.1):1:23: training.weight_decay is not used by "
                     "training.optimizer adam (set in t.yaml): weight_decay is adamw's decoupled weight decay; L2 "
                     "through the gradient (PyTorch's weight_decay of the other optimizers) is training.l2");
    char *two[] = {"training.betas=[0.8,0.99,0.9]"};
    ck_assert_str_eq(load_error(text, two, 1, err),
                     "command line (training.betas=[0.8,0.99,0.9]):1:16: training.betas: expected two numbers such "
                     "as [0.9, 0.999], got a list of 3");
    char *typo[] = {"training.lr_schedule.typ=cosine"};
    ck_assert_str_eq(load_error(text, typo, 1, err),
                     "command line (training.lr_schedule.typ=cosine):1:1: unknown key 'typ' in training.lr_schedule "
                     "(did you mean 'type'?)");
    cfg_free(a);
    cfg_free(b);
}
END_TEST

START_TEST(base_settings_an_optimizer_does_not_use_are_left_out)
{
    /* adam-base.yaml sets betas, eps, step_size and gamma; its sgd/cosine
     * child does not use them, which is fine as they are the base's */
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/sgd-child.yaml", NULL, 0, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.train.optimizer, OPT_SGD);
    ck_assert_int_eq(ex->settings.train.lr_schedule, LR_COSINE);
    ck_assert_double_eq(ex->settings.train.learning_rate, 0.001);
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  lr_schedule: {type: cosine, warmup_epochs: 0, min_lr: 0.0001}\n"
                                               "  optimizer: sgd\n  momentum: 0.9\n  l2: 0\n"));
    ck_assert_ptr_null(strstr(ex->resolved, "betas"));
    Experiment *back = load_text(ex->resolved);
    ck_assert_str_eq(back->fingerprint, ex->fingerprint);
    cfg_free(back);
    cfg_free(ex);
    /* chosen again on the command line, adam takes the base's betas */
    char *adam[] = {"training.optimizer=adam", "training.lr_schedule.type=step"};
    /* ... and the child's own min_lr, for the cosine its file chose, is left out under the command line's step */
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/sgd-child.yaml", adam, 2, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.train.lr_schedule, LR_STEP);
    ck_assert_ptr_null(strstr(ex->resolved, "min_lr"));
    cfg_free(ex);
    char *adam_cosine[] = {"training.optimizer=adam"};
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/sgd-child.yaml", adam_cosine, 1, err) == 0, "%s", err);
    ck_assert_double_eq(ex->settings.train.beta1, 0.8);
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  optimizer: adam\n  betas: [0.8, 0.99]\n  eps: 1e-07\n"));
    cfg_free(ex);
}
END_TEST

/* The message of loading text that must fail. */
static const char *load_error(const char *text, char *const *overrides, int n, char *err)
{
    Experiment *ex = NULL;
    ck_assert_int_ne(cfg_load_text(&ex, "t.yaml", text, strlen(text), overrides, n, err), 0);
    ck_assert_ptr_null(ex);
    return err;
}

START_TEST(alpha_says_how_it_differs_from_l2)
{
    /* training.alpha is RMSProp's smoothing constant (PyTorch's name); where
     * it is refused or misspelt, the message says what scikit-learn's alpha is. */
    char err[NN_ERR_LEN];
    ck_assert_str_eq(load_error("training: {alpha: 0.1}\n", NULL, 0, err),
                     "t.yaml:1:19: training.alpha is not used by training.optimizer sgd (the default): alpha is "
                     "RMSProp's smoothing constant (optimizer rmsprop); scikit-learn's alpha is l2 \u00d7 batch_size");
    ck_assert_str_eq(load_error("alpha: 0.1\n", NULL, 0, err),
                     "t.yaml:1:1: unknown key 'alpha' (did you mean 'training.alpha'? it is RMSProp's smoothing "
                     "constant; scikit-learn's alpha is l2 \u00d7 batch_size)");
    ck_assert_str_eq(load_error("training: {optimizer: momentum}\ngrid: {training.alpha: [0.1, 0.5]}\n", NULL, 0, err),
                     "t.yaml:2:8: training.alpha is not used by training.optimizer momentum: alpha is RMSProp's "
                     "smoothing constant (optimizer rmsprop); scikit-learn's alpha is l2 \u00d7 batch_size");
    char *cli[] = {"training.Alpha=0.1"};
    ck_assert_str_eq(load_error("{}\n", cli, 1, err),
                     "command line (training.Alpha=0.1):1:1: unknown key 'Alpha' in training (did you mean 'alpha'? "
                     "it is RMSProp's smoothing constant; scikit-learn's alpha is l2 \u00d7 batch_size)");
    /* with rmsprop it is the setting */
    Experiment *ex = load_text("training: {optimizer: rmsprop, alpha: 0.9}\n");
    ck_assert_double_eq(ex->settings.train.alpha, 0.9);
    cfg_free(ex);
    /* weight_decay is adamw's; with the others L2 is l2 */
    ck_assert_str_eq(load_error("training: {weight_decay: 0.1}\n", NULL, 0, err),
                     "t.yaml:1:26: training.weight_decay is not used by training.optimizer sgd (the default): "
                     "weight_decay is adamw's decoupled weight decay; L2 through the gradient (PyTorch's weight_decay "
                     "of the other optimizers) is training.l2");
    /* the other names of l2 keep the plain question */
    ck_assert_str_eq(load_error("training: {lambda: 0.1}\n", NULL, 0, err),
                     "t.yaml:1:12: unknown key 'lambda' in training (did you mean 'l2'?)");
    ck_assert_str_eq(load_error("lambda: 0.1\n", NULL, 0, err),
                     "t.yaml:1:1: unknown key 'lambda' (did you mean 'training.l2'?)");
}
END_TEST

START_TEST(alias_bomb_is_refused)
{
    /* Nine levels of nine aliases expand to 9^9 nodes; refused while counting. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(cfg_load_text(&ex, "bomb.yaml", bomb, strlen(bomb), NULL, 0, err), 0);
    ck_assert_ptr_null(ex);
    ck_assert_ptr_nonnull(strstr(err, "YAML nodes (after expanding aliases)"));
}
END_TEST

START_TEST(deep_nesting_and_huge_files_are_refused)
{
    /* 100,000 levels: refused at level 65, without recursing that deep. */
    size_t depth = 100000, len = 7 + 2 * depth;
    char *text = malloc(len + 1);
    memcpy(text, "model: ", 7);
    memset(text + 7, '[', depth);
    memset(text + 7 + depth, ']', depth);
    text[len] = '\0';
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(cfg_load_text(&ex, "deep.yaml", text, len, NULL, 0, err), 0);
    ck_assert_str_eq(err, "deep.yaml:1:71: nesting deeper than 64 levels");
    free(text);
    /* A file over 16 MiB is refused before it is parsed. */
    char path[] = "/tmp/nnlab_huge_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("name: x\n# ", f);
    for (int i = 0; i < (17 << 10); i++) fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                           "xxxxxxxxxxxxxxxxxxxxxxxx", f);
    fclose(f);
    char want[128];
    snprintf(want, sizeof want, "%s:1:1: the file is larger than 16 MiB; an experiment file is small", path);
    ck_assert_int_ne(cfg_load(&ex, path, NULL, 0, err), 0);
    ck_assert_str_eq(err, want);
    remove(path);
}
END_TEST

START_TEST(control_characters_round_trip)
{
    /* Found by the fuzzer: C0 and C1 controls must be escaped in the resolved text. */
    Experiment *a = load_text("name: \"q\\x01\\x91\\u00e9\\t\\\"\"\noutput: \"o\\x7f\"\n");
    ck_assert_str_eq(a->name, "q\x01\xc2\x91\xc3\xa9\t\"");
    Experiment *b = load_text(a->resolved);
    ck_assert_str_eq(b->name, a->name);
    ck_assert_str_eq(b->output, a->output);
    ck_assert_str_eq(b->resolved, a->resolved);
    cfg_free(a);
    cfg_free(b);
    /* Found by the fuzzer too: U+0085, U+2028 and U+2029 are line breaks to
     * YAML 1.1, so raw in a quoted string they would fold into spaces. */
    a = load_text("name: \"a\\Lb\\Pc\\Nd\"\ndataset:\n  source: idx\n  path: \"/p \\Lq\\ \"\n");
    ck_assert_str_eq(a->name, "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xc2\x85" "d");
    b = load_text(a->resolved);
    ck_assert_str_eq(b->name, a->name);
    ck_assert_str_eq(b->settings.data.path, a->settings.data.path);
    ck_assert_str_eq(a->settings.data.path, "/p \xe2\x80\xa8q ");
    ck_assert_str_eq(b->fingerprint, a->fingerprint);
    cfg_free(a);
    cfg_free(b);
}
END_TEST

START_TEST(early_stopping_round_trips_and_overrides)
{
    const char *text = "training: {early_stopping: {patience: 3, min_delta: 0.01}}\n"
                       "dataset: {validation_fraction: 0.2}\n";
    Experiment *a = load_text(text);
    ck_assert_int_eq(a->settings.train.patience, 3);
    ck_assert_double_eq(a->settings.train.min_delta, 0.01);
    ck_assert_double_eq(a->settings.data.validation_fraction, 0.2);
    ck_assert_int_eq(a->settings.data.folds, 0);
    ck_assert_int_eq(a->settings.data.stratify, 1);
    ck_assert_int_eq(a->settings.train.select, SELECT_VAL_LOSS);
    /* the group is written as one flow mapping, and reads back the same */
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  early_stopping: {patience: 3, min_delta: 0.01}\n"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  validation_fraction: 0.2\n"));
    Experiment *b = load_text(a->resolved);
    ck_assert_mem_eq(&a->settings, &b->settings, sizeof a->settings);
    ck_assert_str_eq(a->resolved, b->resolved);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    /* patience and min_delta are part of the fingerprint */
    Experiment *c = load_text("training: {early_stopping: {patience: 4, min_delta: 0.01}}\n"
                              "dataset: {validation_fraction: 0.2}\n");
    ck_assert_str_ne(a->fingerprint, c->fingerprint);
    Experiment *d = load_text("training: {early_stopping: {patience: 3, min_delta: 0.02}}\n"
                              "dataset: {validation_fraction: 0.2}\n");
    ck_assert_str_ne(a->fingerprint, d->fingerprint);
    /* Dotted overrides reach into the group: one value sets it, several make a grid axis. */
    char err[NN_ERR_LEN];
    char *one[] = {"training.early_stopping.patience=4"};
    Experiment *e = NULL;
    ck_assert_msg(cfg_load_text(&e, "t.yaml", text, strlen(text), one, 1, err) == 0, "%s", err);
    ck_assert_int_eq(e->settings.train.patience, 4);
    ck_assert_double_eq(e->settings.train.min_delta, 0.01); /* the rest of the group stays */
    ck_assert_str_eq(e->fingerprint, c->fingerprint);      /* the same experiment as patience: 4 in the file */
    ck_assert_ptr_nonnull(strstr(e->resolved, "\n  early_stopping: {patience: 4, min_delta: 0.01}\n"));
    /* on the resolved text too, and without the group in the file */
    Experiment *f = NULL;
    ck_assert_msg(cfg_load_text(&f, "t.yaml", a->resolved, strlen(a->resolved), one, 1, err) == 0, "%s", err);
    ck_assert_str_eq(f->fingerprint, c->fingerprint);
    const char *bare = "dataset: {validation_fraction: 0.2}\n";
    char *both[] = {"training.early_stopping.patience=4", "training.early_stopping.min_delta=0.01"};
    Experiment *g = NULL;
    ck_assert_msg(cfg_load_text(&g, "t.yaml", bare, strlen(bare), both, 2, err) == 0, "%s", err);
    ck_assert_int_eq(g->settings.train.patience, 4);
    ck_assert_str_eq(g->fingerprint, c->fingerprint);
    char *axis[] = {"training.early_stopping.patience=2,5"};
    Experiment *h = NULL;
    ck_assert_msg(cfg_load_text(&h, "t.yaml", text, strlen(text), axis, 1, err) == 0, "%s", err);
    ck_assert_int_eq(h->n_configs, 2);
    ck_assert_int_eq(h->n_axes, 1);
    ck_assert_str_eq(h->axes[0].def->key, "training.early_stopping.patience");
    ck_assert_int_eq(h->axes[0].values[1].train.patience, 5);
    Experiment *h2 = load_text(h->resolved);
    ck_assert_str_eq(h2->fingerprint, h->fingerprint);
    /* an override that drops validation is refused where early stopping was set (at patience's value) */
    char *no_val[] = {"dataset.validation_fraction=0"};
    Experiment *x = NULL;
    ck_assert_int_ne(cfg_load_text(&x, "t.yaml", text, strlen(text), no_val, 1, err), 0);
    ck_assert_ptr_null(x);
    ck_assert_str_eq(err, "t.yaml:1:39: training.early_stopping needs a validation split: set "
                          "dataset.validation_fraction (such as 0.2) or dataset.folds (such as 5)");
    /* a misspelt key of the group on the command line */
    char *typo[] = {"training.early_stopping.patiense=4"};
    ck_assert_int_ne(cfg_load_text(&x, "t.yaml", text, strlen(text), typo, 1, err), 0);
    ck_assert_str_eq(err, "command line (training.early_stopping.patiense=4):1:1: unknown key 'patiense' in "
                          "training.early_stopping (did you mean 'patience'?)");
    /* folds instead of a validation share: the same early stopping, another experiment */
    char *folds[] = {"dataset.validation_fraction=0", "dataset.folds=5"};
    Experiment *k = NULL;
    ck_assert_msg(cfg_load_text(&k, "t.yaml", text, strlen(text), folds, 2, err) == 0, "%s", err);
    ck_assert_int_eq(k->settings.data.folds, 5);
    ck_assert_int_eq(k->settings.train.patience, 3);
    ck_assert_str_ne(k->fingerprint, a->fingerprint);
    Experiment *k2 = load_text(k->resolved);
    ck_assert_str_eq(k2->fingerprint, k->fingerprint);
    Experiment *exs[] = {a, b, c, d, e, f, g, h, h2, k, k2};
    for (size_t i = 0; i < sizeof exs / sizeof exs[0]; i++) cfg_free(exs[i]);
}
END_TEST

START_TEST(numbers_are_decimal)
{
    /* node_number: decimal only; what strtod or YAML would read otherwise is told apart */
    static const struct {
        const char *text;
        NodeNumber want;
        double value;
    } cases[] = {
        {"2", NODE_NUMBER, 2},          {"+0.5", NODE_NUMBER, 0.5},     {"-.5", NODE_NUMBER, -0.5},
        {"5.", NODE_NUMBER, 5},         {"1e-3", NODE_NUMBER, 1e-3},    {"1E+3", NODE_NUMBER, 1000},
        {"0", NODE_NUMBER, 0},          {"-0", NODE_NUMBER, 0},         {"0.25", NODE_NUMBER, 0.25},
        {"00.5", NODE_NUMBER, 0.5},     {"1e-400", NODE_NUMBER, 0},     {"1e39", NODE_NUMBER, 1e39},
        {"0x10", NODE_NOT_DECIMAL, 16}, {"-0X1p-3", NODE_NOT_DECIMAL, -0.125},
        {"010", NODE_LEADING_ZERO, 10}, {"-007", NODE_LEADING_ZERO, -7},
        {"inf", NODE_NOT_FINITE, 0},    {"-Infinity", NODE_NOT_FINITE, 0}, {"nan", NODE_NOT_FINITE, 0},
        {"NAN(1)", NODE_NOT_FINITE, 0}, {".inf", NODE_NOT_FINITE, 0},   {"-.Inf", NODE_NOT_FINITE, 0},
        {".NaN", NODE_NOT_FINITE, 0},   {"1e400", NODE_NOT_FINITE, 0},  {"0x1p99999", NODE_NOT_FINITE, 0},
        {"1e", NODE_NOT_NUMBER, 0},     {"1_000", NODE_NOT_NUMBER, 0},  {"0o17", NODE_NOT_NUMBER, 0},
        {".", NODE_NOT_NUMBER, 0},      {"-", NODE_NOT_NUMBER, 0},      {"1.2.3", NODE_NOT_NUMBER, 0},
        {"ten", NODE_NOT_NUMBER, 0},    {"0x", NODE_NOT_NUMBER, 0},     {"", NODE_NOT_NUMBER, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Node *n = node_new(NODE_SCALAR, "t.yaml", 1, 1, cases[i].text, 1);
        double v = -99;
        NodeNumber got = node_number(n, &v);
        ck_assert_msg(got == cases[i].want, "%s: %d, expected %d", cases[i].text, got, cases[i].want);
        if (got != NODE_NOT_FINITE && got != NODE_NOT_NUMBER)
            ck_assert_msg(v == cases[i].value, "%s: %g, expected %g", cases[i].text, v, cases[i].value);
        n->plain = 0; /* quoted: a string, never a number */
        ck_assert_int_eq(node_number(n, &v), NODE_NOT_NUMBER);
        node_free(n);
    }
}
END_TEST

START_TEST(tags_that_agree_are_read)
{
    /* A tag that names what the setting takes is fine, on a quoted value
     * too; ! alone is a string; numbers may be written +0.25, .5 or 16.;
     * an underflow is 0. */
    const char *text = "name: !!str 2024\n"
                       "model: !!map {hidden: !!seq [!!int 8, 16.], activation: ! relu, dropout: .5}\n"
                       "training: {epochs: !!int 3, learning_rate: !!float \"0.5\", momentum: +0.25,\n"
                       "           l2: 1e-400, batch_size: !!int \"4\", shuffle: !!bool True, optimizer: !!str nesterov}\n"
                       "seeds: !!seq [!!int 5, !!float 6.0]\n";
    Experiment *ex = load_text(text);
    const Settings *s = &ex->settings;
    ck_assert_str_eq(ex->name, "2024");
    ck_assert_int_eq(s->train.hidden.n, 2);
    ck_assert_int_eq(s->train.hidden.units[0], 8);
    ck_assert_int_eq(s->train.hidden.units[1], 16);
    ck_assert_int_eq(s->train.activation, ACT_RELU);
    ck_assert_double_eq(s->train.dropout, 0.5);
    ck_assert_int_eq(s->train.epochs, 3);
    ck_assert_double_eq(s->train.learning_rate, 0.5);
    ck_assert_double_eq(s->train.momentum, 0.25);
    ck_assert_double_eq(s->train.l2, 0);
    ck_assert_int_eq(s->train.batch_size, 4);
    ck_assert_int_eq(s->train.shuffle, 1);
    ck_assert_int_eq(s->train.optimizer, OPT_NESTEROV);
    ck_assert_int_eq(ex->n_seeds, 2);
    ck_assert_int_eq(ex->seeds[1], 6);
    /* the same experiment as without the tags */
    Experiment *plain = load_text("name: '2024'\n"
                                  "model: {hidden: [8, 16], activation: relu, dropout: 0.5}\n"
                                  "training: {epochs: 3, learning_rate: 0.5, momentum: 0.25, l2: 0, batch_size: 4,\n"
                                  "           shuffle: true, optimizer: nesterov}\n"
                                  "seeds: [5, 6]\n");
    ck_assert_str_eq(ex->fingerprint, plain->fingerprint);
    ck_assert_str_eq(ex->resolved, plain->resolved);
    cfg_free(ex);
    cfg_free(plain);
    /* on the command line as in a file */
    char err[NN_ERR_LEN];
    char *tagged[] = {"training.epochs=!!int 7", "training.learning_rate=!!str 0.1"};
    ck_assert_msg(cfg_load_text(&ex, "t.yaml", "{}\n", 3, tagged, 1, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.train.epochs, 7);
    cfg_free(ex);
    ck_assert_int_ne(cfg_load_text(&ex, "t.yaml", "{}\n", 3, tagged + 1, 1, err), 0);
    ck_assert_str_eq(err, "command line (training.learning_rate=!!str 0.1):1:24: training.learning_rate: expected a "
                          "number, got '0.1' tagged !!str: a string, not a number");
}
END_TEST

/* Value of key in a mapping, found by walking it (node_get is linear, and
 * these mappings are long). */
static const Node *entry(const Node *map, int i, const char *key)
{
    ck_assert_int_lt(i, map->n);
    ck_assert_str_eq(map->keys[i]->text, key);
    return map->items[i];
}

START_TEST(anchors_resolve_to_their_latest_definition)
{
    /* 20,000 anchors over 1,000 names, each name defined 20 times, each
     * followed by an alias: an alias takes the latest definition before it. */
    enum { N = 20000, NAMES = 1000 };
    size_t cap = (size_t)N * 64 + 4096, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(text + len, cap - len, "k%d: &name%d %d\nr%d: *name%d\n", i, i % NAMES, i, i, i % NAMES);
    for (int j = 0; j < NAMES; j++) len += (size_t)snprintf(text + len, cap - len, "e%d: *name%d\n", j, j);
    /* collections: redefined, and an alias inside a collection that
     * redefines its own anchor takes the one before (the new is unfinished) */
    len += (size_t)snprintf(text + len, cap - len, "s: &c [1, 2]\nt: *c\nu: &c {a: b}\nv: *c\nw: &c [*c]\nx: *c\n");
    char err[NN_ERR_LEN];
    Node *root = node_load("a.yaml", text, len, err);
    ck_assert_msg(root != NULL, "%s", err);
    for (int i = 0; i < N; i++) {
        char key[32], value[32];
        snprintf(value, sizeof value, "%d", i);
        snprintf(key, sizeof key, "r%d", i);
        ck_assert_str_eq(entry(root, 2 * i + 1, key)->text, value);
    }
    for (int j = 0; j < NAMES; j++) {
        char key[32], value[32];
        snprintf(key, sizeof key, "e%d", j);
        snprintf(value, sizeof value, "%d", N - NAMES + j);
        ck_assert_str_eq(entry(root, 2 * N + j, key)->text, value);
    }
    const Node *t = entry(root, 2 * N + NAMES + 1, "t"), *v = entry(root, 2 * N + NAMES + 3, "v");
    const Node *x = entry(root, 2 * N + NAMES + 5, "x");
    ck_assert_int_eq(t->kind, NODE_SEQ);
    ck_assert_int_eq(t->n, 2);
    ck_assert_str_eq(t->items[1]->text, "2");
    ck_assert_int_eq(v->kind, NODE_MAP);
    ck_assert_str_eq(node_get(v, "a")->text, "b");
    ck_assert_int_eq(x->kind, NODE_SEQ); /* [{a: b}] */
    ck_assert_int_eq(x->n, 1);
    ck_assert_int_eq(x->items[0]->kind, NODE_MAP);
    ck_assert_int_eq(x->items[0]->line, v->line); /* a copy keeps where its anchor was written */
    node_free(root);
    free(text);
    /* an alias before its anchor, or to itself, names no finished anchor */
    const char *early = "a: *later\nb: &later 1\n", *self = "a: &me [*me]\n";
    ck_assert_ptr_null(node_load("a.yaml", early, strlen(early), err));
    ck_assert_str_eq(err, "a.yaml:1:4: alias *later names no finished anchor");
    ck_assert_ptr_null(node_load("a.yaml", self, strlen(self), err));
    ck_assert_str_eq(err, "a.yaml:1:9: alias *me names no finished anchor");
}
END_TEST

/* The message a bad file must give, from its first line:
 * "# expect: LINE:COL: message" for a problem in the file itself, or
 * "# expect: {dir}/bases/x.yaml:LINE:COL: message" for one in a base file;
 * "{dir}" stands for the file's folder wherever it appears. */
static void expected_message(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024] = "";
    ck_assert_uint_lt(strlen(path), 1024);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_msg(!strncmp(line, "# expect: ", 10), "%s: first line is not '# expect: ...'", path);
    line[strcspn(line, "\n")] = '\0';
    const char *expect = line + 10;
    size_t dir_len = (size_t)(strrchr(path, '/') - path), len = 0;
    if (strncmp(expect, "{dir}", 5) != 0) len = (size_t)snprintf(out, cap, "%s:", path);
    for (const char *p = expect; *p && len + 1 < cap;) {
        if (!strncmp(p, "{dir}", 5)) {
            len += (size_t)snprintf(out + len, cap - len, "%.*s", (int)dir_len, path);
            p += 5;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
}

START_TEST(bad_files_give_exact_messages)
{
    DIR *d = opendir(NNLAB_TEST_DIR "/bad");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml")) continue;
        char path[1024], want[4096], err[NN_ERR_LEN];
        snprintf(path, sizeof path, "%s/bad/%s", NNLAB_TEST_DIR, e->d_name);
        expected_message(path, want, sizeof want);
        Experiment *ex = NULL;
        ck_assert_msg(cfg_load(&ex, path, NULL, 0, err) != 0, "%s: loaded without error", path);
        ck_assert_ptr_null(ex);
        ck_assert_str_eq(err, want);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 40);
}
END_TEST

START_TEST(missing_file)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(cfg_load(&ex, "/nonexistent/x.yaml", NULL, 0, err), 0);
    ck_assert_str_eq(err, "/nonexistent/x.yaml: cannot open: No such file or directory");
    /* a folder opens, and reading it fails: say why */
    ck_assert_int_ne(cfg_load(&ex, NNLAB_SOURCE_DIR "/experiments", NULL, 0, err), 0);
    ck_assert_str_eq(err, NNLAB_SOURCE_DIR "/experiments: cannot read: Is a directory");
}
END_TEST

START_TEST(shipped_experiments_load)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load(&ex, NNLAB_SOURCE_DIR "/experiments/seed-baseline.yaml", NULL, 0, err) == 0, "%s", err);
    ck_assert_int_eq(ex->n_seeds, 5);
    ck_assert_int_eq(ex->settings.train.hidden.units[0], 200);
    ck_assert_int_eq(ex->settings.train.batch_size, 1);
    ck_assert_int_eq(ex->settings.data.scale, SCALE_NONE);
    cfg_free(ex);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, full_file_binds_every_setting);
    tcase_add_test(tc, defaults_are_the_tutorial);
    tcase_add_test(tc, resolved_text_round_trips);
    tcase_add_test(tc, swept_settings_are_only_their_axis);
    tcase_add_test(tc, data_files_are_standardised_unless_told);
    tcase_add_test(tc, alpha_says_how_it_differs_from_l2);
    tcase_add_test(tc, alias_bomb_is_refused);
    tcase_add_test(tc, deep_nesting_and_huge_files_are_refused);
    tcase_add_test(tc, control_characters_round_trip);
    tcase_add_test(tc, early_stopping_round_trips_and_overrides);
    tcase_add_test(tc, optimizer_and_schedule_settings_bind);
    tcase_add_test(tc, optimizers_and_schedule_types_are_grid_axes);
    tcase_add_test(tc, dotted_overrides_reach_optimizer_settings);
    tcase_add_test(tc, base_settings_an_optimizer_does_not_use_are_left_out);
    tcase_add_test(tc, bad_files_give_exact_messages);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, shipped_experiments_load);
    tcase_add_test(tc, numbers_are_decimal);
    tcase_add_test(tc, tags_that_agree_are_read);
    tcase_add_test(tc, anchors_resolve_to_their_latest_definition);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
