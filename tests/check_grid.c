/* check_grid.c — grid expansion (counts, order, decoding), command-line
 * overrides and base chains (a file's plain value removes its bases' axis
 * of that key, as KEY=VALUE does); run identities of a grown experiment. */
#include <check.h>
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
    /* Every shipped experiment loads; the combined grid is the product of its axes, times the folds; every grid
     * selects on validation (the tutorial, seed-baseline, has none). */
    const char *files[] = {"seed-baseline", "dropout", "momentum", "l2", "activations", "depth", "batch-size",
                           "things-to-try", "fashion-mnist"};
    const int runs[] = {5, 20, 30, 20, 40, 15, 40, 216 * 5, 3};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512], err[NN_ERR_LEN];
        snprintf(path, sizeof path, "%s/experiments/%s.yaml", NNLAB_SOURCE_DIR, files[i]);
        Experiment *ex = NULL;
        ck_assert_msg(cfg_load(&ex, path, NULL, 0, err) == 0, "%s", err);
        int product = 1;
        for (int k = 0; k < ex->n_axes; k++) product *= ex->axes[k].n;
        ck_assert_int_eq(ex->n_configs, product);
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
    suite_add_tcase(s, tc);
    return run_suite(s);
}
