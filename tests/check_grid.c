/* check_grid.c — grid expansion (counts, order, decoding), command-line
 * overrides and base chains (a file's plain value removes its bases' axis
 * of that key, as KEY=VALUE does); run identities of a grown experiment;
 * and random search: the same file draws the same trials, more trials keep
 * the ones drawn, draws follow their distributions, grid axes are sampled
 * as choices. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "grid.h"
#include "nnlab.h"
#include "optim.h"

#include "check_main.h"

static Experiment *load(const char *text, char *const *overrides, int n)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load_text(&ex, "g.yaml", text, strlen(text), overrides, n, err) == 0, "%s", err);
    return ex;
}

static void load_fails(const char *text, char *const *overrides, int n, const char *want)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_int_ne(cfg_load_text(&ex, "g.yaml", text, strlen(text), overrides, n, err), 0);
    ck_assert_ptr_null(ex);
    ck_assert_str_eq(err, want);
}

static const char *grid3 = "grid:\n"
                           "  model.activation: [sigmoid, tanh, relu]\n"
                           "  training.optimizer: [sgd, momentum, nesterov]\n"
                           "  model.hidden: [[200], [200, 100]]\n"
                           "seeds: {count: 5, start: 1}\n";

START_TEST(expansion_counts_and_order)
{
    Experiment *ex = load(grid3, NULL, 0);
    ck_assert_int_eq(grid_n_configs(ex), 18);
    RunSpec *runs;
    int n;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(grid_expand(ex, &runs, &n, err), 0);
    ck_assert_int_eq(n, 18 * 5);
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(runs[i].id, i);
        ck_assert_int_eq(runs[i].config, i / 5); /* config-major */
        ck_assert_int_eq(runs[i].seed, 1 + i % 5); /* seed-minor */
    }
    /* The first axis varies slowest, the last fastest. */
    Settings s;
    grid_settings(ex, 0, &s);
    ck_assert(s.train.activation == ACT_SIGMOID && s.train.optimizer == OPT_SGD && s.train.hidden.n == 1);
    grid_settings(ex, 1, &s);
    ck_assert(s.train.activation == ACT_SIGMOID && s.train.optimizer == OPT_SGD && s.train.hidden.n == 2);
    ck_assert_int_eq(s.train.hidden.units[1], 100);
    grid_settings(ex, 2, &s);
    ck_assert(s.train.activation == ACT_SIGMOID && s.train.optimizer == OPT_MOMENTUM && s.train.hidden.n == 1);
    grid_settings(ex, 17, &s);
    ck_assert(s.train.activation == ACT_RELU && s.train.optimizer == OPT_NESTEROV && s.train.hidden.n == 2);
    /* Settings not swept keep their value in every config point. */
    ck_assert_double_eq(s.train.learning_rate, 0.01);
    char text[256];
    grid_describe(text, sizeof text, ex, 7);
    ck_assert_str_eq(text, "model.activation=tanh training.optimizer=sgd model.hidden=[200, 100]");
    /* Every config point is distinct. */
    for (int a = 0; a < 18; a++)
        for (int b = 0; b < a; b++) {
            char ta[256], tb[256];
            grid_describe(ta, sizeof ta, ex, a);
            grid_describe(tb, sizeof tb, ex, b);
            ck_assert_str_ne(ta, tb);
        }
    free(runs);
    cfg_free(ex);
}
END_TEST

START_TEST(same_file_same_ids)
{
    Experiment *a = load(grid3, NULL, 0), *b = load(grid3, NULL, 0);
    ck_assert_str_eq(a->resolved, b->resolved);
    ck_assert_str_eq(a->fingerprint, b->fingerprint);
    ck_assert_ptr_nonnull(strstr(a->resolved, "grid:\n  model.activation: [sigmoid, tanh, relu]\n"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "  model.hidden: [[200], [200, 100]]\n"));
    /* The resolved text is itself a valid experiment with the same runs. */
    Experiment *c = load(a->resolved, NULL, 0);
    ck_assert_str_eq(c->fingerprint, a->fingerprint);
    ck_assert_int_eq(c->n_configs, 18);
    cfg_free(a);
    cfg_free(b);
    cfg_free(c);
}
END_TEST

START_TEST(override_sets_one_value)
{
    char *ov[] = {"training.learning_rate=0.5", "model.hidden=[30,20]", "training.shuffle=true", "name=renamed"};
    Experiment *ex = load(grid3, ov, 4);
    ck_assert_double_eq(ex->settings.train.learning_rate, 0.5);
    ck_assert_int_eq(ex->settings.train.shuffle, 1);
    ck_assert_str_eq(ex->name, "renamed");
    /* Setting a swept key replaces its axis with the one value. */
    ck_assert_int_eq(ex->n_axes, 2);
    ck_assert_int_eq(ex->n_configs, 9);
    ck_assert_int_eq(ex->settings.train.hidden.n, 2);
    ck_assert_int_eq(ex->settings.train.hidden.units[0], 30);
    cfg_free(ex);
}
END_TEST

START_TEST(override_adds_or_replaces_an_axis)
{
    char *ov[] = {"training.learning_rate=0.1,0.01", "model.activation=relu,tanh", "model.hidden=[200],[200,100],[50]"};
    Experiment *ex = load(grid3, ov, 3);
    /* activation replaced in place (2 values), hidden replaced (3), learning rate added last (2). */
    ck_assert_int_eq(ex->n_axes, 4);
    ck_assert_str_eq(ex->axes[0].def->key, "model.activation");
    ck_assert_int_eq(ex->axes[0].n, 2);
    ck_assert_int_eq(ex->axes[0].values[0].train.activation, ACT_RELU);
    ck_assert_str_eq(ex->axes[2].def->key, "model.hidden");
    ck_assert_int_eq(ex->axes[2].n, 3);
    ck_assert_int_eq(ex->axes[2].values[2].train.hidden.units[0], 50);
    ck_assert_str_eq(ex->axes[3].def->key, "training.learning_rate");
    ck_assert_double_eq(ex->axes[3].values[1].train.learning_rate, 0.01);
    ck_assert_int_eq(ex->n_configs, 2 * 3 * 3 * 2);
    cfg_free(ex);
}
END_TEST

START_TEST(override_seeds_and_new_sections)
{
    char *ov[] = {"seeds=4,9", "dataset.scale=minmax"};
    Experiment *ex = load("name: x\n", ov, 2);
    ck_assert_int_eq(ex->n_seeds, 2);
    ck_assert_int_eq(ex->seeds[1], 9);
    ck_assert_int_eq(ex->settings.data.scale, SCALE_MINMAX);
    ck_assert_int_eq(ex->n_configs, 1);
    cfg_free(ex);
}
END_TEST

START_TEST(override_errors_point_into_the_argument)
{
    char *bad_value[] = {"training.learning_rate=abc"};
    load_fails(grid3, bad_value, 1,
               "command line (training.learning_rate=abc):1:24: training.learning_rate: expected a number, got 'abc'");
    char *bad_axis[] = {"model.hidden=[200],[0]"};
    load_fails(grid3, bad_axis, 1, "command line (model.hidden=[200],[0]):1:21: model.hidden must be >= 1, got 0");
    char *bad_key[] = {"model.hiden=[3]"};
    load_fails(grid3, bad_key, 1, "command line (model.hiden=[3]):1:1: unknown key 'hiden' in model (did you mean 'hidden'?)");
    char *no_eq[] = {"=3"};
    load_fails(grid3, no_eq, 1, "command line (=3):1:1: expected KEY=VALUE, such as training.epochs=20");
    char *bad_grid_key[] = {"model.activatio=relu,tanh"};
    load_fails(grid3, bad_grid_key, 1,
               "command line (model.activatio=relu,tanh):1:1: grid key 'model.activatio' names no setting (did you mean "
               "'model.activation'?)");
}
END_TEST

START_TEST(override_syntax_errors_point_into_the_argument)
{
    /* libyaml puts the end of the text on line 2: the message points just past the argument. */
    char *open_list[] = {"model.hidden=[1,"};
    load_fails(grid3, open_list, 1,
               "command line (model.hidden=[1,):1:17: YAML syntax error: did not find expected node content while "
               "parsing a flow node that starts at 1:17");
    char *unclosed[] = {"model.hidden=[1,2"};
    load_fails(grid3, unclosed, 1,
               "command line (model.hidden=[1,2):1:18: YAML syntax error: did not find expected ',' or ']' while "
               "parsing a flow sequence that starts at 1:14");
    char *seeds[] = {"seeds=1,[2"};
    load_fails(grid3, seeds, 1,
               "command line (seeds=1,[2):1:11: YAML syntax error: did not find expected ',' or ']' while parsing a "
               "flow sequence that starts at 1:9");
    char *quote[] = {"training.epochs=\"3"};
    load_fails(grid3, quote, 1,
               "command line (training.epochs=\"3):1:19: YAML syntax error: found unexpected end of stream while "
               "scanning a quoted scalar that starts at 1:17");
}
END_TEST

START_TEST(override_empty_values_lists_and_grid_prefix_are_named)
{
    char *none[] = {"training.epochs="};
    load_fails(grid3, none, 1, "command line (training.epochs=):1:17: training.epochs: no value after '='");
    char *blank[] = {"training.epochs=  "};
    load_fails(grid3, blank, 1, "command line (training.epochs=  ):1:17: training.epochs: no value after '='");
    char *trailing[] = {"training.learning_rate=1e-2,"};
    load_fails(grid3, trailing, 1,
               "command line (training.learning_rate=1e-2,):1:29: training.learning_rate: value 2 of 2 is empty (a "
               "stray comma?)");
    char *grid_prefix[] = {"grid.model.dropout=0.1,0.2"};
    load_fails(grid3, grid_prefix, 1,
               "command line (grid.model.dropout=0.1,0.2):1:1: a grid axis on the command line is the setting and "
               "its values, without 'grid.': model.dropout=A,B");
    char *twice[] = {"seeds=1,,2"};
    load_fails(grid3, twice, 1, "command line (seeds=1,,2):1:9: seeds: value 2 of 3 is empty (a stray comma?)");
    char *brackets[] = {"training.batch_size=[16, 64]"};
    load_fails(grid3, brackets, 1,
               "command line (training.batch_size=[16, 64]):1:21: training.batch_size takes one value, got a list; "
               "a grid axis is written without the outer brackets: training.batch_size=16,64");
    char *nested[] = {"model.activation=[{a: 1}]"};
    load_fails(grid3, nested, 1,
               "command line (model.activation=[{a: 1}]):1:18: model.activation takes one value, got a list; a grid "
               "axis is written without the outer brackets: model.activation=A,B");
    char *mixed[] = {"training.batch_size=[1,[2]]"}; /* [2] is no value of an axis: not shown as one */
    load_fails(grid3, mixed, 1,
               "command line (training.batch_size=[1,[2]]):1:21: training.batch_size takes one value, got a list; a "
               "grid axis is written without the outer brackets: training.batch_size=A,B");
    char *layers[] = {"model.hidden=[[200], [100,50]]"};
    load_fails(grid3, layers, 1,
               "command line (model.hidden=[[200], [100,50]]):1:14: model.hidden takes one list of layer sizes, got "
               "a list of lists; a grid axis is written without the outer brackets: model.hidden=[200],[100,50]");
    char *axis_of_lists[] = {"training.shuffle=[true],[false]"};
    load_fails(grid3, axis_of_lists, 1,
               "command line (training.shuffle=[true],[false]):1:18: training.shuffle takes one value, got a list");
}
END_TEST

START_TEST(base_chain_merges_child_over_base)
{
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/chain-top.yaml", NULL, 0, err) == 0, "%s", err);
    const TrainConfig *t = &ex->settings.train;
    ck_assert_int_eq(t->hidden.units[0], 64);        /* from the root */
    ck_assert_int_eq(t->epochs, 7);                  /* from the root */
    ck_assert_double_eq(t->learning_rate, 0.05);     /* middle over root */
    ck_assert_int_eq(t->activation, ACT_RELU);       /* top over root */
    ck_assert_str_eq(ex->name, "chain-top");         /* name and output are never inherited */
    ck_assert_str_eq(ex->output, "results/chain-top");
    /* Grids merge axis by axis: dropout replaced by the top, l2 from the middle. */
    ck_assert_int_eq(ex->n_axes, 2);
    ck_assert_str_eq(ex->axes[0].def->key, "model.dropout");
    ck_assert_int_eq(ex->axes[0].n, 3);
    ck_assert_double_eq(ex->axes[0].values[0].train.dropout, 0.1);
    ck_assert_str_eq(ex->axes[1].def->key, "training.l2");
    ck_assert_int_eq(ex->n_configs, 9);
    ck_assert_int_eq(ex->n_seeds, 2);
    cfg_free(ex);
}
END_TEST

static Experiment *load_cfg(const char *name, char *const *overrides, int n)
{
    char path[512], err[NN_ERR_LEN];
    snprintf(path, sizeof path, "%s/cfg/%s", NNLAB_TEST_DIR, name);
    Experiment *ex = NULL;
    ck_assert_msg(cfg_load(&ex, path, overrides, n, err) == 0, "%s", err);
    return ex;
}

START_TEST(plain_value_in_a_file_removes_the_inherited_axis)
{
    /* sweep-base.yaml sweeps three activations; its child sets relu: relu alone runs. */
    Experiment *ex = load_cfg("plain-over-axis.yaml", NULL, 0);
    ck_assert_int_eq(ex->n_axes, 1); /* the base's other axis stays */
    ck_assert_str_eq(ex->axes[0].def->key, "model.dropout");
    ck_assert_int_eq(ex->n_configs, 2);
    for (int c = 0; c < ex->n_configs; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        ck_assert_int_eq(s.train.activation, ACT_RELU);
        ck_assert_double_eq(s.train.dropout, c ? 0.5 : 0.0);
    }
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  activation: relu\n"));
    ck_assert_ptr_null(strstr(ex->resolved, "model.activation"));
    /* the same experiment as the base with model.activation=relu on the command line */
    char *relu[] = {"model.activation=relu"};
    Experiment *cli = load_cfg("sweep-base.yaml", relu, 1);
    ck_assert_int_eq(cli->n_configs, 2);
    ck_assert_str_eq(cli->fingerprint, ex->fingerprint);
    /* and a file over that one may sweep the key again */
    Experiment *again = load_cfg("axis-over-plain-over-axis.yaml", NULL, 0);
    ck_assert_int_eq(again->n_axes, 2);
    ck_assert_str_eq(again->axes[1].def->key, "model.activation");
    ck_assert_int_eq(again->n_configs, 4);
    Settings s;
    grid_settings(again, 1, &s);
    ck_assert_int_eq(s.train.activation, ACT_LEAKY_RELU);
    ck_assert_double_eq(s.train.dropout, 0.0);
    cfg_free(ex);
    cfg_free(cli);
    cfg_free(again);
}
END_TEST

START_TEST(axis_in_a_file_sweeps_what_its_base_set)
{
    /* sweep-base.yaml sets learning_rate: 0.05; its child sweeps it. */
    Experiment *ex = load_cfg("axis-over-plain.yaml", NULL, 0);
    ck_assert_int_eq(ex->n_axes, 3);
    ck_assert_str_eq(ex->axes[2].def->key, "training.learning_rate");
    ck_assert_int_eq(ex->n_configs, 3 * 2 * 2);
    for (int c = 0; c < ex->n_configs; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        ck_assert_double_eq(s.train.learning_rate, c % 2 ? 0.01 : 0.1); /* the last axis varies fastest */
    }
    /* the base's 0.05 never runs, and the resolved text does not show it */
    ck_assert_ptr_null(strstr(ex->resolved, "\n  learning_rate:"));
    ck_assert_ptr_null(strstr(ex->resolved, "0.05"));
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  # learning_rate: swept, see grid\n"));
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\n  training.learning_rate: [0.1, 0.01]\n"));
    char *axis[] = {"training.learning_rate=0.1,0.01"};
    Experiment *cli = load_cfg("sweep-base.yaml", axis, 1);
    ck_assert_str_eq(cli->fingerprint, ex->fingerprint);
    Experiment *back = load(ex->resolved, NULL, 0);
    ck_assert_str_eq(back->fingerprint, ex->fingerprint);
    ck_assert_mem_eq(&back->settings, &ex->settings, sizeof ex->settings);
    ck_assert_int_eq(back->n_configs, 12);
    cfg_free(ex);
    cfg_free(cli);
    cfg_free(back);
}
END_TEST

START_TEST(own_axis_wins_over_own_value)
{
    /* One file gives model.dropout both a value and an axis: the axis runs, the value is not used. */
    Experiment *ex = load_cfg("plain-and-axis.yaml", NULL, 0);
    ck_assert_int_eq(ex->n_axes, 2);
    ck_assert_str_eq(ex->axes[1].def->key, "model.dropout");
    ck_assert_int_eq(ex->axes[1].n, 2);
    ck_assert_int_eq(ex->n_configs, 6);
    for (int c = 0; c < ex->n_configs; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        ck_assert_double_eq(s.train.dropout, c % 2 ? 0.2 : 0.1);
    }
    ck_assert_ptr_null(strstr(ex->resolved, "0.25"));
    /* the value left in ex->settings is a placeholder: the axis's first value */
    ck_assert_double_eq(ex->settings.train.dropout, 0.1);
    cfg_free(ex);
}
END_TEST

START_TEST(dataset_settings_the_source_does_not_use)
{
    /* Inherited from a base written for another source: left out of the experiment. */
    Experiment *ex = NULL;
    char err[NN_ERR_LEN];
    ck_assert_msg(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/hdf5-child.yaml", NULL, 0, err) == 0, "%s", err);
    ck_assert_int_eq(ex->settings.data.source, DATA_HDF5);
    ck_assert_ptr_null(strstr(ex->resolved, "header"));
    ck_assert_ptr_null(strstr(ex->resolved, "label_column"));
    cfg_free(ex);
    /* Typed on the command line: an error, as when written beside the source. */
    char *header[] = {"dataset.header=false"};
    ck_assert_int_ne(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/hdf5-child.yaml", header, 1, err), 0);
    ck_assert_str_eq(err, "command line (dataset.header=false):1:16: dataset.header is not used by dataset.source "
                          "hdf5, set in " NNLAB_TEST_DIR "/cfg/hdf5-child.yaml");
    /* The experiment's own path over a base's digits: an error that says where the source is set. */
    ck_assert_int_ne(cfg_load(&ex, NNLAB_TEST_DIR "/cfg/path-over-digits.yaml", NULL, 0, err), 0);
    ck_assert_str_eq(err, NNLAB_TEST_DIR "/cfg/path-over-digits.yaml:4:9: dataset.path is not used by dataset.source "
                          "digits, set in " NNLAB_TEST_DIR "/cfg/../../configs/tutorial.yaml");
    /* Without a source, a file's path would silently train on the digits. */
    load_fails("dataset:\n  path: data.csv\n", NULL, 0,
               "g.yaml:2:9: dataset.path is set but dataset.source is not, so the built-in digits would be used; "
               "set source: csv, hdf5 or idx");
}
END_TEST

/* The id in b of the run of a's run i's identity, or -1. */
static int same_run_in(const Experiment *a, const RunSpec *ra, const Experiment *b, const RunSpec *rb, int nb)
{
    uint64_t want = grid_run_identity(grid_config_identity(a, ra->config), ra->seed, ra->fold, "0123456789abcdef");
    for (int j = 0; j < nb; j++)
        if (grid_run_identity(grid_config_identity(b, rb[j].config), rb[j].seed, rb[j].fold, "0123456789abcdef") == want)
            return rb[j].id;
    return -1;
}

/* Growing (grow.c): more seeds or values keep every run, by identity, at an
 * id no lower than before and in the same order; other changes are not growth. */
START_TEST(a_grown_experiment_keeps_every_run_in_order)
{
    const char *base = "grid:\n  model.activation: [sigmoid, relu]\n  training.shuffle: [false, true]\n"
                       "seeds: {count: 2, start: 1}\n";
    char *more[] = {"model.activation=tanh,sigmoid,leaky_relu,relu", "seeds=0,1,2,3"};
    Experiment *a = load(base, NULL, 0), *b = load(base, more, 2), *back = load(a->resolved, NULL, 0);
    char diff[2048], err[NN_ERR_LEN];
    ck_assert_int_eq(cfg_growth(a, b, diff, sizeof diff), CFG_GROWS);
    ck_assert_ptr_nonnull(strstr(diff, "  seeds: [1, 2] -> [0, 1, 2, 3]\n"));
    ck_assert_int_eq(cfg_growth(b, a, diff, sizeof diff), CFG_SHRINKS);
    ck_assert_int_eq(cfg_growth(a, back, diff, sizeof diff), CFG_SAME);
    RunSpec *ra, *rb, *rback;
    int na, nb, nback, last = -1;
    ck_assert_int_eq(grid_expand(a, &ra, &na, err) || grid_expand(b, &rb, &nb, err) ||
                     grid_expand(back, &rback, &nback, err), 0);
    ck_assert_int_eq(nb, 32);
    for (int i = 0; i < na; i++) {
        int j = same_run_in(a, &ra[i], b, rb, nb);
        ck_assert_int_ge(j, i);
        ck_assert_int_gt(j, last);
        last = j;
        ck_assert_int_eq(same_run_in(a, &ra[i], back, rback, nback), i); /* experiment.yaml names it the same */
    }
    ck_assert_int_eq(same_run_in(a, &ra[1], b, rb, nb), 10); /* sigmoid, no shuffle: config 2 of b; seed 2: its 3rd */
    /* every setting is in the identity, swept or not; and the seed, the fold and the data */
    char *lr[] = {"training.learning_rate=0.5"};
    Experiment *c = load(base, lr, 1);
    ck_assert(grid_config_identity(a, 0) != grid_config_identity(c, 0));
    ck_assert_int_eq(cfg_growth(a, c, diff, sizeof diff), CFG_DIFFERS);
    uint64_t p = grid_config_identity(a, 0);
    ck_assert(grid_config_identity(a, 0) != grid_config_identity(a, 1));
    ck_assert(grid_run_identity(p, 1, 0, "a") != grid_run_identity(p, 2, 0, "a"));
    ck_assert(grid_run_identity(p, 1, 0, "a") != grid_run_identity(p, 1, 1, "a"));
    ck_assert(grid_run_identity(p, 1, 0, "a") != grid_run_identity(p, 1, 0, "b"));
    /* not growth: values reordered, an axis added, values dropped, seeds reordered */
    char *reordered[] = {"model.activation=relu,sigmoid"}, *axis[] = {"model.dropout=0,0.5"},
         *fewer[] = {"model.activation=sigmoid,tanh"}, *seeds[] = {"seeds=2,1,3"};
    char **changes[] = {reordered, axis, fewer, seeds};
    int want[] = {CFG_DIFFERS, CFG_DIFFERS, CFG_SHRINKS, CFG_DIFFERS};
    for (int k = 0; k < 4; k++) {
        Experiment *d = load(base, changes[k], 1);
        ck_assert_int_eq(cfg_growth(a, d, diff, sizeof diff), want[k]);
        cfg_free(d);
    }
    free(ra);
    free(rb);
    free(rback);
    cfg_free(a);
    cfg_free(b);
    cfg_free(c);
    cfg_free(back);
}
END_TEST

START_TEST(shipped_experiments_expand)
{
    /* Every shipped experiment loads; the combined grid is the product of its axes (a random search's trials),
     * times the folds; every grid selects on validation (the tutorial, seed-baseline, has none). */
    const char *files[] = {"seed-baseline", "dropout", "momentum", "l2", "activations", "depth", "batch-size",
                           "things-to-try", "fashion-mnist", "random-search"};
    const int runs[] = {5, 20, 30, 20, 40, 15, 40, 216 * 5, 3, 24 * 3};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512], err[NN_ERR_LEN];
        snprintf(path, sizeof path, "%s/experiments/%s.yaml", NNLAB_SOURCE_DIR, files[i]);
        Experiment *ex = NULL;
        ck_assert_msg(cfg_load(&ex, path, NULL, 0, err) == 0, "%s", err);
        int product = 1;
        for (int k = 0; k < ex->n_axes && ex->search.method == SEARCH_GRID; k++) product *= ex->axes[k].n;
        ck_assert_int_eq(ex->n_configs, ex->search.method == SEARCH_RANDOM ? ex->search.trials : product);
        ck_assert_int_eq(ex->n_configs * ex->n_seeds * grid_n_folds(ex), runs[i]);
        RunSpec *r = NULL;
        int n = 0;
        ck_assert_msg(grid_expand(ex, &r, &n, err) == 0, "%s", err);
        ck_assert_int_eq(n, runs[i]);
        free(r);
        ck_assert_int_eq(data_has_validation(&ex->settings.data), i > 0);
        cfg_free(ex);
    }
}
END_TEST

/* ---- random search ----------------------------------------------------- */

static const char *random5 = "grid:\n"
                             "  model.activation: [relu, tanh]\n"
                             "search:\n"
                             "  method: random\n"
                             "  trials: 5\n"
                             "  space:\n"
                             "    training.learning_rate: {log_uniform: [1.0e-4, 0.3]}\n"
                             "    training.momentum: {uniform: [0.5, 0.99]}\n"
                             "    training.batch_size: {int_log_uniform: [1, 256]}\n"
                             "    model.hidden: {choice: [[64], [128, 64]]}\n"
                             "seeds: {count: 2}\n";

/* Whether config points a of x and b of y have the same settings. */
static int same_point(const Experiment *x, int a, const Experiment *y, int b)
{
    Settings sa, sb;
    grid_settings(x, a, &sa);
    grid_settings(y, b, &sb);
    return !memcmp(&sa, &sb, sizeof sa);
}

START_TEST(random_search_draws_the_same_trials_from_the_same_file)
{
    Experiment *a = load(random5, NULL, 0), *b = load(random5, NULL, 0);
    ck_assert_int_eq(a->search.method, SEARCH_RANDOM);
    ck_assert_int_eq(grid_n_configs(a), 5); /* sampled, not crossed */
    RunSpec *runs;
    int n;
    char err[NN_ERR_LEN];
    ck_assert_int_eq(grid_expand(a, &runs, &n, err), 0);
    ck_assert_int_eq(n, 10);
    ck_assert_int_eq(runs[3].config, 1); /* config-major, seed-minor, as a grid */
    free(runs);
    /* One column per sampled setting: the space's in the order written, then the grid's axes. */
    ck_assert_int_eq(a->n_axes, 5);
    ck_assert_str_eq(a->axes[0].def->key, "training.learning_rate");
    ck_assert_str_eq(a->axes[3].def->key, "model.hidden");
    ck_assert_str_eq(a->axes[4].def->key, "model.activation");
    for (int c = 0; c < 5; c++) ck_assert(same_point(a, c, b, c));
    /* The draws of this stream, pinned: a change of the stream's derivation would redraw every experiment. */
    double lr[] = {0.06974162276231902, 0.0023761666672060047, 0.019330804783884527};
    for (int c = 0; c < 3; c++) {
        Settings s;
        grid_settings(a, c, &s);
        ck_assert_double_eq_tol(s.train.learning_rate, lr[c], 1e-15);
    }
    char text[512];
    grid_describe(text, sizeof text, a, 0);
    ck_assert_str_eq(text, "training.learning_rate=0.06974162276231902 training.momentum=0.9004978164450841 "
                           "training.batch_size=5 model.hidden=[64] model.activation=tanh");
    /* The resolved text holds the distributions and draws the same trials again. */
    ck_assert_ptr_nonnull(strstr(a->resolved, "\ngrid:\n  model.activation: [relu, tanh]\nsearch:\n  method: random\n"
                                              "  trials: 5\n  seed: 0\n  space:\n"
                                              "    training.learning_rate: {log_uniform: [0.0001, 0.3]}\n"
                                              "    training.momentum: {uniform: [0.5, 0.99]}\n"
                                              "    training.batch_size: {int_log_uniform: [1, 256]}\n"
                                              "    model.hidden: {choice: [[64], [128, 64]]}\nseeds:"));
    ck_assert_ptr_nonnull(strstr(a->resolved, "\n  # learning_rate: sampled, see search\n"));
    ck_assert_ptr_null(strstr(a->resolved, "0.0697")); /* never the draws */
    Experiment *back = load(a->resolved, NULL, 0);
    ck_assert_str_eq(back->fingerprint, a->fingerprint);
    ck_assert_mem_eq(&back->settings, &a->settings, sizeof a->settings);
    for (int c = 0; c < 5; c++) ck_assert(same_point(a, c, back, c));
    /* Another search.seed draws other trials, and is another experiment. */
    char *seed[] = {"search.seed=1"};
    Experiment *other = load(random5, seed, 1);
    ck_assert(!same_point(a, 0, other, 0));
    ck_assert_str_ne(other->fingerprint, a->fingerprint);
    char diff[2048];
    ck_assert_int_eq(cfg_differences(a, other, diff, sizeof diff), 1);
    ck_assert_str_eq(diff, "  search: random, 5 trials, seed 0 -> random, 5 trials, seed 1\n");
    cfg_free(a);
    cfg_free(b);
    cfg_free(back);
    cfg_free(other);
}
END_TEST

START_TEST(more_trials_keep_the_trials_drawn)
{
    char *ten[] = {"search.trials=10"}, *three[] = {"search.trials=3"};
    Experiment *a = load(random5, NULL, 0), *b = load(random5, ten, 1), *c = load(random5, three, 1);
    ck_assert_int_eq(grid_n_configs(b), 10);
    for (int i = 0; i < 5; i++) ck_assert(same_point(a, i, b, i));
    for (int i = 0; i < 3; i++) ck_assert(same_point(a, i, c, i));
    for (int i = 5; i < 10; i++)
        for (int j = 0; j < i; j++) ck_assert(!same_point(b, i, b, j)); /* real draws do not repeat */
    char diff[2048];
    ck_assert_int_eq(cfg_differences(a, b, diff, sizeof diff), 1);
    ck_assert_str_eq(diff, "  search: random, 5 trials, seed 0 -> random, 10 trials, seed 0\n");
    cfg_free(a);
    cfg_free(b);
    cfg_free(c);
}
END_TEST

START_TEST(draws_stay_within_their_distributions)
{
    enum { TRIALS = 6000 };
    const char *text = "search:\n"
                       "  method: random\n"
                       "  trials: 6000\n"
                       "  seed: 42\n"
                       "  space:\n"
                       "    training.momentum: {uniform: [0.5, 0.9]}\n"
                       "    training.learning_rate: {log_uniform: [1.0e-4, 1.0]}\n"
                       "    training.epochs: {int_uniform: [1, 6]}\n"
                       "    training.batch_size: {int_log_uniform: [1, 8]}\n"
                       "    model.hidden: {choice: [[64], [128, 64], [32, 32, 32]]}\n"
                       "    training.early_stopping.patience: {int_log_uniform: [1, 256]}\n"
                       "dataset: {validation_fraction: 0.2}\n";
    Experiment *ex = load(text, NULL, 0);
    ck_assert_int_eq(grid_n_configs(ex), TRIALS);
    int epochs[7] = {0}, batch[9] = {0}, layers[4] = {0}, decades[4] = {0}, patience_max = 0, patience_min = 1000;
    double momentum_sum = 0;
    for (int c = 0; c < TRIALS; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        const TrainConfig *t = &s.train;
        ck_assert(t->momentum >= 0.5 && t->momentum <= 0.9);
        momentum_sum += t->momentum;
        ck_assert(t->learning_rate >= 1e-4 && t->learning_rate <= 1.0);
        decades[(int)floor(-log10(t->learning_rate)) < 4 ? (int)floor(-log10(t->learning_rate)) : 3]++;
        ck_assert(t->epochs >= 1 && t->epochs <= 6);
        epochs[t->epochs]++;
        ck_assert(t->batch_size >= 1 && t->batch_size <= 8);
        batch[t->batch_size]++;
        ck_assert(t->hidden.n >= 1 && t->hidden.n <= 3);
        layers[t->hidden.n]++;
        ck_assert_int_eq(t->hidden.units[0], t->hidden.n == 1 ? 64 : t->hidden.n == 2 ? 128 : 32);
        ck_assert(t->patience >= 1 && t->patience <= 256);
        patience_max = t->patience > patience_max ? t->patience : patience_max;
        patience_min = t->patience < patience_min ? t->patience : patience_min;
    }
    /* uniform: mean 0.7; log_uniform: each decade of [1e-4, 1] a quarter of the draws */
    ck_assert_double_eq_tol(momentum_sum / TRIALS, 0.7, 0.005);
    for (int d = 0; d < 4; d++) ck_assert_msg(abs(decades[d] - TRIALS / 4) < 150, "decade %d: %d", d, decades[d]);
    /* int_uniform: both ends included, each value a sixth */
    for (int e = 1; e <= 6; e++) ck_assert_msg(abs(epochs[e] - TRIALS / 6) < 130, "epochs %d: %d", e, epochs[e]);
    /* int_log_uniform: k has the share log((k + 1)/k)/log(9) of [1, 9), so 8 is drawn too */
    for (int k = 1; k <= 8; k++) {
        double want = TRIALS * log((k + 1.0) / k) / log(9.0);
        ck_assert_msg(fabs(batch[k] - want) < 4 * sqrt(want) + 5, "batch %d: %d, expected %.0f", k, batch[k], want);
    }
    ck_assert_int_eq(patience_min, 1);
    ck_assert_int_gt(patience_max, 128);
    /* choice of lists: each a third */
    for (int l = 1; l <= 3; l++) ck_assert_msg(abs(layers[l] - TRIALS / 3) < 150, "%d layers: %d", l, layers[l]);
    cfg_free(ex);
}
END_TEST

START_TEST(grid_axes_are_sampled_not_crossed)
{
    const char *text = "grid:\n"
                       "  model.activation: [sigmoid, tanh, relu]\n"
                       "  training.optimizer: [sgd, momentum, nesterov]\n"
                       "search: {method: random, trials: 300}\n";
    Experiment *ex = load(text, NULL, 0);
    ck_assert_int_eq(grid_n_configs(ex), 300);
    ck_assert_int_eq(ex->search.n_params, 2);
    ck_assert_int_eq(ex->search.params[0].dist, DIST_CHOICE);
    ck_assert_int_eq(ex->search.params[0].from_grid, 1);
    int seen[3][3] = {{0}};
    for (int c = 0; c < 300; c++) {
        Settings s;
        grid_settings(ex, c, &s);
        seen[s.train.activation][s.train.optimizer]++;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) ck_assert_int_gt(seen[i][j], 10);
    /* written back under grid:, with no space */
    ck_assert_ptr_nonnull(strstr(ex->resolved, "\ngrid:\n  model.activation: [sigmoid, tanh, relu]\n"
                                               "  training.optimizer: [sgd, momentum, nesterov]\n"
                                               "search:\n  method: random\n  trials: 300\n  seed: 0\nseeds:"));
    /* search: {method: grid} is the default: the same experiment as none */
    Experiment *grid = load("grid:\n  model.activation: [sigmoid, tanh]\nsearch: {method: grid}\n", NULL, 0);
    Experiment *plain = load("grid:\n  model.activation: [sigmoid, tanh]\n", NULL, 0);
    ck_assert_str_eq(grid->resolved, plain->resolved);
    ck_assert_int_eq(grid_n_configs(grid), 2);
    cfg_free(ex);
    cfg_free(grid);
    cfg_free(plain);
}
END_TEST

START_TEST(overrides_and_bases_replace_a_sampled_setting)
{
    /* KEY=VALUE fixes a sampled setting; KEY=a,b makes it a grid axis, a choice. */
    char *one[] = {"training.learning_rate=0.5"}, *axis[] = {"training.learning_rate=0.1,0.2"};
    Experiment *fixed = load(random5, one, 1), *choice = load(random5, axis, 1);
    ck_assert_int_eq(fixed->n_axes, 4);
    for (int c = 0; c < 5; c++) {
        Settings s, t;
        grid_settings(fixed, c, &s);
        grid_settings(choice, c, &t);
        ck_assert_double_eq(s.train.learning_rate, 0.5);
        ck_assert(t.train.learning_rate == 0.1 || t.train.learning_rate == 0.2);
    }
    ck_assert_str_eq(choice->axes[4].def->key, "training.learning_rate");
    ck_assert_ptr_nonnull(strstr(choice->resolved, "grid:\n  model.activation: [relu, tanh]\n"
                                                   "  training.learning_rate: [0.1, 0.2]\nsearch:"));
    cfg_free(fixed);
    cfg_free(choice);
    /* A child's value removes the space entry it inherits... */
    Experiment *value = load_cfg("search-value-over-space.yaml", NULL, 0);
    ck_assert_int_eq(value->search.n_params, 2);
    ck_assert_str_eq(value->axes[0].def->key, "model.dropout");
    Settings s;
    grid_settings(value, 5, &s);
    ck_assert_double_eq(s.train.learning_rate, 0.05);
    ck_assert(s.train.dropout >= 0 && s.train.dropout <= 0.5);
    /* ... its space entry the inherited grid axis, and its axis the inherited space entry. */
    Experiment *space = load_cfg("search-space-over-axis.yaml", NULL, 0);
    ck_assert_int_eq(space->search.n_params, 3);
    ck_assert_str_eq(space->axes[2].def->key, "model.activation");
    ck_assert_int_eq(space->search.params[2].from_grid, 0);
    for (int c = 0; c < 6; c++) {
        grid_settings(space, c, &s);
        ck_assert(s.train.activation == ACT_RELU || s.train.activation == ACT_LEAKY_RELU);
    }
    Experiment *axis_over = load_cfg("search-axis-over-space.yaml", NULL, 0);
    ck_assert_int_eq(axis_over->search.n_params, 3);
    ck_assert_str_eq(axis_over->axes[2].def->key, "model.dropout");
    ck_assert_int_eq(axis_over->search.params[2].from_grid, 1);
    for (int c = 0; c < 6; c++) {
        grid_settings(axis_over, c, &s);
        ck_assert(s.train.dropout == 0.0 || s.train.dropout == 0.2);
    }
    /* A file's method: grid ignores the random search's keys its base gives: the base's grid runs. */
    Experiment *grid = load_cfg("search-grid-over-random.yaml", NULL, 0);
    ck_assert_int_eq(grid->search.method, SEARCH_GRID);
    ck_assert_int_eq(grid_n_configs(grid), 3);
    ck_assert_double_eq(grid->settings.train.learning_rate, 0.01);
    ck_assert_ptr_null(strstr(grid->resolved, "\nsearch:"));
    cfg_free(value);
    cfg_free(space);
    cfg_free(axis_over);
    cfg_free(grid);
}
END_TEST

START_TEST(search_errors_from_the_command_line)
{
    char *zero[] = {"search.trials=0"};
    load_fails(random5, zero, 1, "command line (search.trials=0):1:15: search.trials must be >= 1, got 0");
    char *method[] = {"search.method=hyperband"};
    load_fails(random5, method, 1,
               "command line (search.method=hyperband):1:15: search.method: hyperband ranks config points on "
               "validation: give dataset.validation_fraction or dataset.folds");
    char *grid[] = {"search.method=grid"};
    load_fails(random5, grid, 1, "g.yaml:5:3: search.trials needs method: random (the default, grid, runs every "
               "config point of the grid)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("grid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, expansion_counts_and_order);
    tcase_add_test(tc, same_file_same_ids);
    tcase_add_test(tc, override_sets_one_value);
    tcase_add_test(tc, override_adds_or_replaces_an_axis);
    tcase_add_test(tc, override_seeds_and_new_sections);
    tcase_add_test(tc, override_errors_point_into_the_argument);
    tcase_add_test(tc, override_syntax_errors_point_into_the_argument);
    tcase_add_test(tc, override_empty_values_lists_and_grid_prefix_are_named);
    tcase_add_test(tc, base_chain_merges_child_over_base);
    tcase_add_test(tc, plain_value_in_a_file_removes_the_inherited_axis);
    tcase_add_test(tc, axis_in_a_file_sweeps_what_its_base_set);
    tcase_add_test(tc, own_axis_wins_over_own_value);
    tcase_add_test(tc, dataset_settings_the_source_does_not_use);
    tcase_add_test(tc, shipped_experiments_expand);
    tcase_add_test(tc, a_grown_experiment_keeps_every_run_in_order);
    tcase_add_test(tc, random_search_draws_the_same_trials_from_the_same_file);
    tcase_add_test(tc, more_trials_keep_the_trials_drawn);
    tcase_add_test(tc, draws_stay_within_their_distributions);
    tcase_add_test(tc, grid_axes_are_sampled_not_crossed);
    tcase_add_test(tc, overrides_and_bases_replace_a_sampled_setting);
    tcase_add_test(tc, search_errors_from_the_command_line);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
