/* cfg.c — experiment files (see cfg.h). Reading order: the settings table;
 * loading (files, base chains, overrides); binding (sections, seeds, grid);
 * the resolved text; entry points. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlp.h"
#include "nnlab.h"
#include "node.h"
#include "optim.h"
#include "rng.h"
#include "schedule.h"

#define MAX_FILE_BYTES (16 << 20)
#define MAX_SEEDS 1000000      /* with {count, start} */
#define MAX_SEEDS_LISTED 40000 /* in a list; with MAX_GRID_NODES, keeps the resolved text */
#define MAX_GRID_NODES 50000   /* within NODE_MAX_NODES, so it always loads again */
#define MAX_CONFIGS 1000000
#define MAX_BASE_DEPTH 16
#define SEED_MAX 9007199254740992.0 /* 2^53: every seed is exact in a double */

/* ---- the settings table ------------------------------------------------ */

static const char *const bool_names[] = {"false", "true", NULL};

#define S(field) offsetof(Settings, field), sizeof(((Settings *)0)->field)
const SettingDef cfg_settings[] = {
    {"dataset.source", SET_ENUM, S(data.source), data_source_names, 0, 0, 0, 0},
    {"dataset.path", SET_PATH, S(data.path), NULL, 0, 0, 0, 0},
    {"dataset.header", SET_BOOL, S(data.header), bool_names, 0, 0, 0, 0},
    {"dataset.label_column", SET_INT, S(data.label_column), NULL, -1, 1000000, 0, 0},
    {"dataset.x", SET_STRING, S(data.x), NULL, 0, 0, 0, 0},
    {"dataset.y", SET_STRING, S(data.y), NULL, 0, 0, 0, 0},
    {"dataset.test_path", SET_PATH, S(data.test_path), NULL, 0, 0, 0, 0},
    {"dataset.test_fraction", SET_FLOAT, S(data.test_fraction), NULL, 0, 1, 1, 1},
    {"dataset.validation_fraction", SET_FLOAT, S(data.validation_fraction), NULL, 0, 1, 0, 1},
    {"dataset.folds", SET_INT, S(data.folds), NULL, 0, 100, 0, 0},
    {"dataset.stratify", SET_BOOL, S(data.stratify), bool_names, 0, 0, 0, 0},
    {"dataset.split_seed", SET_I64, S(data.split_seed), NULL, 0, SEED_MAX, 0, 0},
    {"dataset.scale", SET_ENUM, S(data.scale), data_scale_names, 0, 0, 0, 0},
    {"model.hidden", SET_LAYERS, S(train.hidden), NULL, 1, INT_MAX, 0, 0},
    {"model.activation", SET_ENUM, S(train.activation), mlp_activation_names, 0, 0, 0, 0},
    {"model.dropout", SET_FLOAT, S(train.dropout), NULL, 0, 1, 0, 1},
    {"model.init", SET_ENUM, S(train.init), mlp_init_names, 0, 0, 0, 0},
    {"training.epochs", SET_INT, S(train.epochs), NULL, 1, 1000000, 0, 0},
    {"training.batch_size", SET_INT, S(train.batch_size), NULL, 1, 1 << 24, 0, 0},
    {"training.learning_rate", SET_FLOAT, S(train.learning_rate), NULL, 0, 1e6, 1, 0},
    {"training.lr_schedule.type", SET_ENUM, S(train.lr_schedule), lr_schedule_names, 0, 0, 0, 0},
    {"training.lr_schedule.warmup_epochs", SET_INT, S(train.warmup_epochs), NULL, 0, 1000000, 0, 0},
    {"training.lr_schedule.step_size", SET_INT, S(train.step_size), NULL, 1, 1000000, 0, 0},
    {"training.lr_schedule.gamma", SET_FLOAT, S(train.gamma), NULL, 0, 1e6, 1, 0},
    {"training.lr_schedule.min_lr", SET_FLOAT, S(train.min_lr), NULL, 0, 1e6, 0, 0},
    {"training.optimizer", SET_ENUM, S(train.optimizer), optim_names, 0, 0, 0, 0},
    {"training.momentum", SET_FLOAT, S(train.momentum), NULL, 0, 1, 0, 1},
    {"training.betas", SET_PAIR, offsetof(Settings, train.beta1), 2 * sizeof(double), NULL, 0, 1, 0, 1},
    {"training.eps", SET_FLOAT, S(train.eps), NULL, 0, 1e6, 1, 0},
    {"training.alpha", SET_FLOAT, S(train.alpha), NULL, 0, 1, 0, 1},
    {"training.weight_decay", SET_FLOAT, S(train.weight_decay), NULL, 0, 1e6, 0, 0},
    {"training.l2", SET_FLOAT, S(train.l2), NULL, 0, 1e6, 0, 0},
    {"training.shuffle", SET_BOOL, S(train.shuffle), bool_names, 0, 0, 0, 0},
    {"training.train_curves", SET_BOOL, S(train.train_curves), bool_names, 0, 0, 0, 0},
    {"training.select", SET_ENUM, S(train.select), train_select_names, 0, 0, 0, 0},
    {"training.early_stopping.patience", SET_INT, S(train.patience), NULL, 0, 1000000, 0, 0},
    {"training.early_stopping.min_delta", SET_FLOAT, S(train.min_delta), NULL, 0, 1e6, 0, 0},
};
#undef S
/* training.betas is one SET_PAIR over beta1 and beta2. */
_Static_assert(offsetof(TrainConfig, beta2) == offsetof(TrainConfig, beta1) + sizeof(double),
               "beta1 and beta2 are adjacent");
const int cfg_n_settings = (int)(sizeof cfg_settings / sizeof cfg_settings[0]);
#define N_SETTINGS ((int)(sizeof cfg_settings / sizeof cfg_settings[0]))

static const char *const sections[] = {"dataset", "model", "training", NULL};
/* Settings in a mapping of their own within a section, and how one is written. */
static const char *const groups[][2] = {
    {"training.early_stopping", "{patience: 5, min_delta: 0.0}"},
    {"training.lr_schedule", "{type: cosine, warmup_epochs: 5}"},
};
#define N_GROUPS ((int)(sizeof groups / sizeof groups[0]))
static const char *const top_keys[] = {"name", "base", "dataset", "model", "training", "seeds", "grid", "search",
                                       "output", "storage", NULL};
const char *const keep_weights_names[] = {"all", "best", "final", "none", NULL};
static const char *const storage_keys[] = {"keep_weights", "keep_init", "keep_pruned", NULL};

void cfg_defaults(Settings *s)
{
    memset(s, 0, sizeof *s);
    s->data.source = DATA_DIGITS;
    s->data.label_column = -1;
    snprintf(s->data.x, sizeof s->data.x, "X");
    snprintf(s->data.y, sizeof s->data.y, "y");
    s->data.test_fraction = 0.2;
    s->data.stratify = 1;
    s->data.scale = SCALE_NONE;
    s->train.hidden.n = 1;
    s->train.hidden.units[0] = 200;
    s->train.activation = ACT_SIGMOID;
    s->train.init = INIT_LECUN_NORMAL;
    s->train.epochs = 10;
    s->train.batch_size = 1;
    s->train.learning_rate = 0.01;
    s->train.optimizer = OPT_SGD;
    s->train.momentum = 0.9;
    s->train.beta1 = 0.9;
    s->train.beta2 = 0.999;
    s->train.eps = 1e-8;
    s->train.alpha = 0.99;
    s->train.weight_decay = 0.01;
    s->train.lr_schedule = LR_CONSTANT;
    s->train.step_size = 10;
    s->train.gamma = 0.1;
    s->train.train_curves = 1;
}

const SettingDef *cfg_find_setting(const char *key)
{
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strcmp(cfg_settings[i].key, key)) return &cfg_settings[i];
    return NULL;
}

void cfg_copy_setting(const SettingDef *def, Settings *dst, const Settings *src)
{
    memcpy((char *)dst + def->offset, (const char *)src + def->offset, def->size);
}

/* ---- growable text ----------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} Buf;

static void buf_printf(Buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void buf_printf(Buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (b->s && n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 1024;
        if (n >= 0 && cap < b->len + (size_t)n + 1) cap = b->len + (size_t)n + 1;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* ---- loading: files, base chains, overrides ------------------------------ */

/* Owns the names of every file and argument read, which the nodes point to. */
typedef struct {
    char *names[MAX_BASE_DEPTH + 1024];
    int n;
} Names;

static const char *names_add(Names *ns, const char *name)
{
    if (ns->n >= (int)(sizeof ns->names / sizeof ns->names[0])) return NULL;
    char *copy = nn_strdup(name);
    if (copy) ns->names[ns->n++] = copy;
    return copy;
}

static void names_free(Names *ns)
{
    for (int i = 0; i < ns->n; i++) free(ns->names[i]);
    ns->n = 0;
}

static int read_file(const char *path, char **text, size_t *len, char *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return nn_errf(err, "%s: cannot open: %s", path, strerror(errno));
    *text = malloc(MAX_FILE_BYTES + 1);
    errno = 0;
    *len = *text ? fread(*text, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f), why = errno; /* a folder opens, then fails to read with EISDIR */
    fclose(f);
    if (!*text) return nn_errf(err, "%s: out of memory", path);
    if (bad || *len > MAX_FILE_BYTES) {
        free(*text);
        if (bad) return nn_errf(err, "%s: cannot read: %s", path, why ? strerror(why) : "read error");
        return nn_errf(err, "%s:1:1: the file is larger than %d MiB; an experiment file is small", path,
                       MAX_FILE_BYTES >> 20);
    }
    return 0;
}

/* dir of `file` joined with `rel` (unless rel is absolute) into out. */
static void join_dir(char *out, size_t cap, const char *file, const char *rel)
{
    const char *slash = strrchr(file, '/');
    if (rel[0] == '/' || !slash)
        snprintf(out, cap, "%s", rel);
    else
        snprintf(out, cap, "%.*s/%s", (int)(slash - file), file, rel);
}

/* A chain for messages: "a.yaml -> b.yaml -> c.yaml". */
static void chain_text(char *out, size_t cap, char *const *chain, int n, const char *last)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n && len < cap; i++) len += (size_t)snprintf(out + len, cap - len, "%.300s -> ", chain[i]);
    if (len < cap) snprintf(out + len, cap - len, "%.300s", last);
}

/* The node at a dotted path ("training.early_stopping.patience") through
 * mappings, or NULL. */
static const Node *tree_get(const Node *root, const char *path)
{
    char part[256];
    const Node *cur = root;
    for (const char *p = path;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        cur = cur->kind == NODE_MAP ? node_get(cur, part) : NULL;
        if (!cur || !dot) return cur;
        p = dot + 1;
    }
}

/* The search.space mapping of a tree, or NULL. */
static Node *space_of(const Node *root)
{
    Node *search = root->kind == NODE_MAP ? node_get(root, "search") : NULL;
    Node *space = search && search->kind == NODE_MAP ? node_get(search, "space") : NULL;
    return space && space->kind == NODE_MAP ? space : NULL;
}

/* The same for a random search, where a grid axis is a choice: a file's
 * value or grid axis of a key removes the search.space entry of that key it
 * inherits, and its space entry removes the inherited grid axis. */
static void drop_inherited_search(Node *base, const Node *file)
{
    Node *space = space_of(base), *grid = node_get(base, "grid");
    const Node *own_grid = node_get(file, "grid"), *own_space = space_of(file);
    for (int i = 0; i < N_SETTINGS; i++) {
        const char *key = cfg_settings[i].key;
        if (space && (tree_get(file, key) || (own_grid && own_grid->kind == NODE_MAP && node_get(own_grid, key))))
            node_remove(space, key);
        if (grid && grid->kind == NODE_MAP && own_space && node_get(own_space, key)) node_remove(grid, key);
    }
}

/* A setting that a file gives one value removes the grid axis of that key
 * it inherits from its bases, as KEY=VALUE on the command line does. The
 * file's own axis of the key, merged over the base next, still wins over
 * its own value (as in the resolved text of earlier versions, which wrote
 * both). */
static void drop_inherited_axes(Node *base, const Node *file)
{
    Node *grid = node_get(base, "grid");
    if (!grid || grid->kind != NODE_MAP) return;
    for (int i = 0; i < N_SETTINGS; i++)
        if (tree_get(file, cfg_settings[i].key)) node_remove(grid, cfg_settings[i].key);
}

/* Load `file` (text given) and, recursively, the base files it names; return
 * the merged tree with `base` removed. chain/real hold the files above. */
static Node *load_chain(Names *ns, const char *file, const char *text, size_t len, char **chain, char **real,
                        int depth, char *err)
{
    Node *root = node_load(file, text, len, err);
    if (!root) return NULL;
    Node *base = node_get(root, "base");
    if (!base) return root;
    if (base->kind != NODE_SCALAR || node_is_null(base) || !base->text[0] ||
        (base->tag != NODE_TAG_NONE && base->tag != NODE_TAG_STR)) {
        node_errf(err, base, "base: expected the path of a base config file");
        goto fail;
    }
    char path[PATH_MAX], resolved[PATH_MAX], chain_msg[2048];
    join_dir(path, sizeof path, file, base->text);
    chain[depth] = (char *)file;
    chain_text(chain_msg, sizeof chain_msg, chain, depth + 1, path);
    if (depth + 1 >= MAX_BASE_DEPTH) {
        node_errf(err, base, "base: chain deeper than %d files: %s", MAX_BASE_DEPTH, chain_msg);
        goto fail;
    }
    if (!realpath(path, resolved)) {
        node_errf(err, base, "base: cannot open %s: %s (chain: %s)", path, strerror(errno), chain_msg);
        goto fail;
    }
    for (int i = 0; i <= depth; i++)
        if (real[i] && !strcmp(real[i], resolved)) {
            node_errf(err, base, "base: cycle: %s", chain_msg);
            goto fail;
        }
    const char *base_file = names_add(ns, path);
    char *base_text;
    size_t base_len;
    if (!base_file) {
        nn_errf(err, "%s: out of memory", path);
        goto fail;
    }
    if (read_file(base_file, &base_text, &base_len, err)) goto fail;
    real[depth + 1] = resolved;
    Node *parent = load_chain(ns, base_file, base_text, base_len, chain, real, depth + 1, err);
    real[depth + 1] = NULL;
    free(base_text);
    if (!parent) goto fail;
    if (parent->kind != NODE_MAP) {
        node_errf(err, parent, "a base config is a mapping of sections");
        node_free(parent);
        goto fail;
    }
    /* name and output belong to the experiment file, never to its bases. */
    node_remove(parent, "name");
    node_remove(parent, "output");
    node_remove(root, "base");
    drop_inherited_axes(parent, root);
    drop_inherited_search(parent, root);
    Node *merged = node_merge(parent, root);
    if (!merged) nn_errf(err, "%s: out of memory", file);
    return merged;
fail:
    node_free(root);
    return NULL;
}

/* Split at commas outside brackets, braces and quotes. Returns the count. */
static int split_top_level(const char *s, int *start, int *len, int max)
{
    int n = 0, depth = 0, begin = 0;
    char quote = 0;
    for (int i = 0;; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
            if (c) continue;
        }
        if (c == '"' || c == '\'') quote = c;
        else if (c == '[' || c == '{') depth++;
        else if ((c == ']' || c == '}') && depth > 0) depth--;
        if ((c == ',' && depth == 0) || c == '\0') {
            if (n < max) start[n] = begin, len[n] = i - begin;
            n++;
            begin = i + 1;
        }
        if (!c) return n;
    }
}

/* A mapping entry at dotted `path` under root, creating mappings on the way
 * (replacing anything else). Takes ownership of value. */
static int tree_set(Node *root, const char *path, Node *value, const char *file)
{
    char part[256];
    Node *cur = root;
    for (const char *p = path;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        Node *key = node_new(NODE_SCALAR, file, 1, 1, part, 1);
        if (!key) goto oom;
        if (!dot) return node_put(cur, key, value) ? -1 : 0;
        Node *next = node_get(cur, part);
        if (!next || next->kind != NODE_MAP) {
            next = node_new(NODE_MAP, file, 1, 1, NULL, 0);
            if (!next || node_put(cur, key, next)) {
                node_free(next);
                goto oom;
            }
        } else {
            node_free(key);
        }
        cur = next;
        p = dot + 1;
    }
oom:
    node_free(value);
    return -1;
}

/* The values of "KEY=a,b,c" as a sequence, each parsed where it stands in
 * the argument (value[0] is at column col0 + 1). */
static Node *parse_values(const char *file, const char *key, const char *value, int col0, char *err)
{
    enum { MAX_PARTS = 4096 };
    int *start = malloc(MAX_PARTS * sizeof(int)), *len = malloc(MAX_PARTS * sizeof(int));
    Node *seq = node_new(NODE_SEQ, file, 1, col0 + 1, NULL, 0);
    int parts = start && len && seq ? split_top_level(value, start, len, MAX_PARTS) : 0;
    int rc = parts ? 0 : nn_errf(err, "out of memory");
    if (parts > MAX_PARTS) {
        Node pos = {.file = file, .line = 1, .col = col0 + 1};
        rc = node_errf(err, &pos, "%s: more than %d values", key, MAX_PARTS);
    }
    for (int i = 0; i < parts && !rc; i++) {
        const char *v = value + start[i];
        Node pos = {.file = file, .line = 1, .col = col0 + start[i] + 1};
        if (strspn(v, " \t") >= (size_t)len[i]) {
            rc = parts == 1 ? node_errf(err, &pos, "%s: no value after '='", key)
                            : node_errf(err, &pos, "%s: value %d of %d is empty (a stray comma?)", key, i + 1, parts);
            break;
        }
        Node *n = node_load_line(file, v, (size_t)len[i], col0 + start[i], err);
        if (!n) rc = -1;
        else if (node_append(seq, NULL, n)) {
            node_free(n);
            rc = nn_errf(err, "out of memory");
        }
    }
    free(start);
    free(len);
    if (rc) {
        node_free(seq);
        return NULL;
    }
    return seq;
}

/* How an override's nodes name their "file": "command line (ARG)". */
#define OVERRIDE_LABEL "command line ("

/* One "KEY=VALUE" or "KEY=a,b,c" argument applied to the tree. Its nodes
 * are named "command line (ARG)", line 1, columns counted in ARG. One value
 * sets KEY (and removes its grid axis); several make KEY a grid axis, except
 * for seeds, where they are the list of seeds. */
static int apply_override(Names *ns, Node *root, const char *arg, char *err)
{
    char label[600];
    snprintf(label, sizeof label, OVERRIDE_LABEL "%.500s)", arg);
    const char *file = names_add(ns, label);
    if (!file) return nn_errf(err, "out of memory");
    Node pos = {.file = file, .line = 1, .col = 1};
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return node_errf(err, &pos, "expected KEY=VALUE, such as training.epochs=20");
    char key[256];
    if ((size_t)(eq - arg) >= sizeof key) return node_errf(err, &pos, "key too long");
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
    if (!strncmp(key, "grid.", 5))
        return node_errf(err, &pos, "a grid axis on the command line is the setting and its values, without 'grid.': "
                         "%.200s=A,B", key + 5);
    if (root->kind != NODE_MAP) return 0; /* the binder reports the root */

    Node *values = parse_values(file, key, eq + 1, (int)(eq - arg) + 1, err);
    if (!values) return -1;
    if (values->n == 1 || !strcmp(key, "seeds")) {
        Node *v = values;
        if (values->n == 1) { /* the value itself, not a list of one */
            v = values->items[0];
            values->items[0] = NULL;
            values->n = 0;
            node_free(values);
        }
        Node *grid = node_get(root, "grid"), *space = space_of(root);
        if (grid) node_remove(grid, key);
        if (space) node_remove(space, key);
        return tree_set(root, key, v, file) ? nn_errf(err, "out of memory") : 0;
    }
    Node *space = space_of(root); /* the command line's axis wins over the file's distribution */
    if (space) node_remove(space, key);
    Node *grid = node_get(root, "grid");
    if (!grid || grid->kind != NODE_MAP) {
        Node *g = node_new(NODE_MAP, file, 1, 1, NULL, 0), *gk = node_new(NODE_SCALAR, file, 1, 1, "grid", 1);
        if (!g || !gk || node_put(root, gk, g)) {
            node_free(g);
            node_free(gk);
            node_free(values);
            return nn_errf(err, "out of memory");
        }
        grid = g;
    }
    Node *k = node_new(NODE_SCALAR, file, 1, 1, key, 1);
    if (!k || node_put(grid, k, values)) {
        node_free(k);
        node_free(values);
        return nn_errf(err, "out of memory");
    }
    return 0;
}

/* ---- binding -------------------------------------------------------------- */

static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1; /* a transposition is one typo */
        }
    return d[la][lb];
}

/* Names that PyTorch, scikit-learn, Keras or the tutorial use for a setting
 * or a value: suggested by meaning, before any spelling (lr is one edit from
 * l2, and 'did you mean l2' would be the wrong advice). */
static const char *const aliases[][2] = {
    {"lr", "learning_rate"},           {"eta", "learning_rate"},     {"learning_rate_init", "learning_rate"},
    {"wd", "l2"},                      {"lambda", "l2"},             {"lmbda", "l2"},
    {"batch", "batch_size"},
    {"mini_batch_size", "batch_size"}, {"optim", "optimizer"},       {"solver", "optimizer"},
    {"act", "activation"},             {"layers", "hidden"},         {"hidden_layer_sizes", "hidden"},
    {"sizes", "hidden"},               {"n_epochs", "epochs"},       {"num_epochs", "epochs"},
    {"max_iter", "epochs"},            {"dropout_rate", "dropout"},  {"test_size", "test_fraction"},
    {"scaling", "scale"},              {"normalize", "scale"},       {"data", "dataset"},
    {"train", "training"},             {"logistic", "sigmoid"},      {"nag", "nesterov"},
    {"kaiming_normal", "he_normal"},   {"he", "he_normal"},          {"glorot_uniform", "xavier_uniform"},
    {"xavier", "xavier_uniform"},      {"lecun", "lecun_normal"},    {"standardize", "standard"},
    {"mnist", "idx"},                  {"fashion_mnist", "idx"},     {"fashion-mnist", "idx"},
    {"h5", "hdf5"},                    {"normalise", "scale"},
    {"val_accuracy", "val_acc"},       {"accuracy", "val_acc"},      {"acc", "val_acc"},
    {"loss", "val_loss"},              {"monitor", "select"},        {"validation_split", "validation_fraction"},
    {"val_size", "validation_fraction"}, {"n_splits", "folds"},      {"cv", "folds"},
    {"early_stop", "early_stopping"},  {"patience", "early_stopping"},
    {"beta1", "betas"},                {"beta_1", "betas"},          {"beta2", "betas"},
    {"beta_2", "betas"},               {"epsilon", "eps"},           {"rho", "alpha"},
    {"decay", "weight_decay"},         {"scheduler", "lr_schedule"}, {"lr_scheduler", "lr_schedule"},
    {"schedule", "lr_schedule"},       {"t_max", "min_lr"},          {"eta_min", "min_lr"},
    {"lr_min", "min_lr"},              {"warmup", "warmup_epochs"},  {"warmup_steps", "warmup_epochs"},
    {"decay_rate", "gamma"},           {"decay_steps", "step_size"},
};

/* What to know before taking an alias's advice, said with the suggestion:
 * {alias, the name it suggests, note}. */
static const char *const alias_notes[][3] = {
    {"alpha", "alpha", "it is RMSProp's smoothing constant; scikit-learn's alpha is l2 \u00d7 batch_size"},
    {"beta1", "betas", "betas: [beta1, beta2]"},
    {"beta_1", "betas", "betas: [beta1, beta2]"},
    {"beta2", "betas", "betas: [beta1, beta2]"},
    {"beta_2", "betas", "betas: [beta1, beta2]"},
    {"rho", "alpha", "Keras' rho is RMSProp's alpha"},
    {"decay", "weight_decay", "weight_decay is adamw's; Keras' decay is a learning-rate decay: see lr_schedule"},
    {"t_max", "min_lr", "cosine anneals over training.epochs after warmup_epochs, PyTorch's T_max; min_lr is its "
                        "eta_min"},
};

/* ASCII case-insensitive equality ('ReLU' for 'relu'). */
static int same_letters(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* The candidate that word names in other letter case, or under another
 * tool's name; a dotted word (a grid key) must name a candidate of its own
 * section, and an undotted one may name a dotted candidate by its last part
 * ('activation' as a grid key: 'model.activation'). NULL if none. */
static const char *alias_of(const char *word, const char *const *candidates)
{
    const char *dot = strrchr(word, '.');
    size_t pre = dot ? (size_t)(dot - word) + 1 : 0;
    const char *name = word + pre;
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (same_letters(name, aliases[a][0])) {
            name = aliases[a][1];
            break;
        }
    for (int i = 0; candidates[i]; i++)
        if (same_letters(word, candidates[i])) return candidates[i];
    for (int i = 0; candidates[i]; i++) {
        const char *c = candidates[i], *cdot = strrchr(c, '.');
        size_t cpre = cdot ? (size_t)(cdot - c) + 1 : 0;
        if ((!pre || (cpre == pre && !strncmp(c, word, pre))) && !strcmp(c + cpre, name)) return c;
    }
    return NULL;
}

/* The candidate that word means (alias_of), else the closest one when it is
 * plausibly a typo, else NULL. */
static const char *near_miss(const char *word, const char *const *candidates)
{
    const char *alias = alias_of(word, candidates);
    if (alias) return alias;
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; candidates[i]; i++) {
        int d = edit_distance(word, candidates[i]);
        if (d < best_d) best_d = d, best = candidates[i];
    }
    int len = (int)strlen(word);
    return best && best_d <= (len <= 4 ? 1 : len <= 8 ? 2 : 3) ? best : NULL;
}

static void join_names(char *out, size_t cap, const char *const *names)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; names[i] && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", names[i]);
}

/* " (did you mean 'near'?)" for word, with its alias's note if it has one
 * (" (did you mean 'l2'? scikit-learn's alpha is ...)"); near may be dotted. */
static void did_you_mean(char *out, size_t cap, const char *word, const char *near)
{
    const char *dot = strrchr(word, '.'), *ndot = strrchr(near, '.');
    const char *name = dot ? dot + 1 : word, *target = ndot ? ndot + 1 : near;
    for (size_t a = 0; a < sizeof alias_notes / sizeof alias_notes[0]; a++)
        if (same_letters(name, alias_notes[a][0]) && !strcmp(target, alias_notes[a][1])) {
            snprintf(out, cap, " (did you mean '%s'? %s)", near, alias_notes[a][2]);
            return;
        }
    snprintf(out, cap, " (did you mean '%s'?)", near);
}

/* " (did you mean 'x'?)" for a near miss, else "; allowed: a, b, c". */
static void suggest(char *out, size_t cap, const char *word, const char *const *candidates)
{
    const char *near = near_miss(word, candidates);
    if (near) {
        did_you_mean(out, cap, word, near);
        return;
    }
    char names[700];
    join_names(names, sizeof names, candidates);
    snprintf(out, cap, "; allowed: %s", names);
}

/* The dotted setting that word names (near_miss over all of them), else NULL. */
static const char *setting_named(const char *word)
{
    const char *all[N_SETTINGS + 1];
    for (int i = 0; i < N_SETTINGS; i++) all[i] = cfg_settings[i].key;
    all[N_SETTINGS] = NULL;
    return near_miss(word, all);
}

typedef struct {
    char *err;
    const char *top;                /* the experiment file (its nodes' file): not a base */
    const Node *where[N_SETTINGS]; /* where each setting was last set, for cross-checks */
    const Node *axis_key[N_SETTINGS]; /* the grid key of each swept setting */
    int in_grid;                   /* binding the values of a grid axis */
} Binder;

static const char *kind_name(const Node *n)
{
    if (n->kind == NODE_MAP) return "a mapping";
    if (n->kind == NODE_SEQ) return "a list";
    return "a value";
}

/* A node for a message: quoted, cut at 40 characters, with its tag. */
static const char *shown(const Node *n, char *buf, size_t cap)
{
    if (n->kind != NODE_SCALAR) return kind_name(n);
    if (node_is_null(n)) return "nothing (null)";
    if (n->tag != NODE_TAG_NONE)
        snprintf(buf, cap, "'%.40s%s' tagged %s", n->text, strlen(n->text) > 40 ? "..." : "", node_tag_names[n->tag]);
    else if (!n->plain)
        snprintf(buf, cap, "the quoted string \"%.40s%s\"", n->text, strlen(n->text) > 40 ? "..." : "");
    else
        snprintf(buf, cap, "'%.40s%s'", n->text, strlen(n->text) > 40 ? "..." : "");
    return buf;
}

static int type_error(Binder *b, const Node *n, const char *key, const char *expected)
{
    char tmp[80];
    return node_errf(b->err, n, "%s: expected %s, got %s", key, expected, shown(n, tmp, sizeof tmp));
}

/* Whether a value's tag says it is other than what a setting takes (want:
 * NODE_TAG_STR, NODE_TAG_BOOL, or NODE_TAG_INT for a number, which
 * NODE_TAG_FLOAT is too). Untagged values and !!null ones are judged by
 * their text. */
static int wrong_tag(const Node *n, int want)
{
    int t = n->tag;
    if (t == NODE_TAG_NONE || t == NODE_TAG_NULL || n->kind != NODE_SCALAR) return 0;
    return want == NODE_TAG_INT ? t != NODE_TAG_INT && t != NODE_TAG_FLOAT : t != want;
}

static void format_double(char *buf, size_t cap, double v);

/* A number setting's value: decimal and finite (node_number), tagged as a
 * number or not at all, within the setting's bounds. */
static int bind_number(Binder *b, const Node *n, const char *key, const SettingDef *def, int integer, double *out)
{
    const char *expected = integer ? "an integer" : "a number";
    char value[32];
    double v = 0;
    if (n->kind == NODE_SCALAR && n->tag == NODE_TAG_STR)
        return node_errf(b->err, n, "%s: expected %s, got '%.40s' tagged !!str: a string, not a number", key,
                         expected, n->text);
    if (wrong_tag(n, NODE_TAG_INT)) return type_error(b, n, key, expected);
    NodeNumber form = node_number(n, &v);
    if (form == NODE_NOT_DECIMAL || form == NODE_LEADING_ZERO) { /* its decimal form, for the message */
        if (v == floor(v) && fabs(v) < 1e15) snprintf(value, sizeof value, "%.0f", v);
        else format_double(value, sizeof value, v);
    }
    if (form == NODE_NOT_FINITE)
        return node_errf(b->err, n, "%s: %.40s is not a finite number", key, n->text);
    if (form == NODE_NOT_DECIMAL)
        return node_errf(b->err, n, "%s: %.40s is not a decimal number; write %s", key, n->text, value);
    if (form == NODE_LEADING_ZERO)
        return node_errf(b->err, n, "%s: %.40s starts with 0, which YAML 1.1 reads as octal; write %s", key,
                         n->text, value);
    if (form != NODE_NUMBER) return type_error(b, n, key, expected);
    if (integer && v != floor(v)) return type_error(b, n, key, "an integer");
    int low = def->lo_open ? !(v > def->lo) : !(v >= def->lo);
    int high = def->hi_open ? !(v < def->hi) : !(v <= def->hi);
    if (low || high)
        return node_errf(b->err, n, "%s must be %s %.10g, got %s", key,
                         low ? (def->lo_open ? ">" : ">=") : (def->hi_open ? "<" : "<="), low ? def->lo : def->hi,
                         n->text);
    *out = v;
    return 0;
}

static int bind_enum(Binder *b, const Node *n, const char *key, const char *const *names, int *out)
{
    char allowed[400];
    join_names(allowed, sizeof allowed, names);
    if (n->kind != NODE_SCALAR || node_is_null(n) || wrong_tag(n, NODE_TAG_STR)) {
        char expected[420];
        snprintf(expected, sizeof expected, "one of %s", allowed);
        return type_error(b, n, key, expected);
    }
    for (int i = 0; names[i]; i++)
        if (!strcmp(n->text, names[i])) {
            *out = i;
            return 0;
        }
    char hint[800];
    suggest(hint, sizeof hint, n->text, names);
    if (near_miss(n->text, names)) snprintf(hint + strlen(hint), sizeof hint - strlen(hint), "; allowed: %s", allowed);
    return node_errf(b->err, n, "%s: unknown value '%.40s'%s", key, n->text, hint);
}

/* n's items as YAML flow text, joined by sep ("1,2" or "[200], [100, 50]")
 * into out; -1 when one is not a plain value or a list of them, or too long. */
static int items_text(const Node *n, const char *sep, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n->n && len < cap; i++) {
        const Node *v = n->items[i];
        char inner[200];
        if (v->kind == NODE_SCALAR && v->plain)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? sep : "", v->text);
        else if (v->kind == NODE_SEQ && !items_text(v, sep, inner, sizeof inner))
            len += (size_t)snprintf(out + len, cap - len, "%s[%s]", i ? sep : "", inner);
        else
            return -1;
    }
    return len < cap ? 0 : -1;
}

/* A list where a setting takes one value (for model.hidden: a list of
 * lists): outside a grid, most likely meant as a grid axis, so the message
 * shows how to write one, on the command line (KEY=A,B) or in the file
 * (under grid:), with its values when they are plain ones. */
static int list_error(Binder *b, const Node *n, const SettingDef *def)
{
    char hint[400] = "", values[200];
    int cli = !strncmp(n->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL)), layers = def->type == SET_LAYERS;
    int pair = def->type == SET_PAIR, lists = layers || pair; /* a value of these is itself a list */
    int plain = n->n > 0; /* values a grid axis can take: plain ones, or layer lists and pairs */
    for (int i = 0; i < n->n; i++) plain &= n->items[i]->kind == (lists ? NODE_SEQ : NODE_SCALAR);
    if (!plain || items_text(n, cli ? "," : ", ", values, sizeof values))
        snprintf(values, sizeof values, cli ? "A,B" : "A, B");
    if (!b->in_grid && cli)
        snprintf(hint, sizeof hint, "; a grid axis is written without the outer brackets: %s=%s", def->key, values);
    else if (!b->in_grid)
        snprintf(hint, sizeof hint, "; to try several values, list them under grid: as '%s: [%s]'", def->key,
                 values);
    const char *what = layers ? "list of layer sizes" : pair ? "pair of numbers" : "value";
    return node_errf(b->err, n, "%s takes one %s, got a list%s%s", def->key, what, lists ? " of lists" : "", hint);
}

static int bind_layers(Binder *b, const Node *n, const SettingDef *def, LayerSizes *out)
{
    if (n->kind != NODE_SEQ) return type_error(b, n, def->key, "a list of layer sizes such as [200, 100]");
    if (n->n == 0) return node_errf(b->err, n, "%s: the list is empty; give at least one layer size", def->key);
    if (n->items[0]->kind == NODE_SEQ) return list_error(b, n, def);
    if (n->n > MLP_MAX_HIDDEN)
        return node_errf(b->err, n, "%s: %d layers; at most %d are supported", def->key, n->n, MLP_MAX_HIDDEN);
    for (int i = 0; i < n->n; i++) {
        double v;
        if (bind_number(b, n->items[i], def->key, def, 1, &v)) return -1;
        out->units[i] = (int)v;
    }
    out->n = n->n;
    return 0;
}

/* Two numbers [a, b] into adjacent fields (training.betas: [beta1, beta2]). */
static int bind_pair(Binder *b, const Node *n, const SettingDef *def, char *field)
{
    double v[2];
    if (n->kind != NODE_SEQ) return type_error(b, n, def->key, "a list of two numbers such as [0.9, 0.999]");
    if (n->n > 0 && n->items[0]->kind == NODE_SEQ) return list_error(b, n, def);
    if (n->n != 2)
        return node_errf(b->err, n, "%s: expected two numbers such as [0.9, 0.999], got a list of %d", def->key, n->n);
    for (int i = 0; i < 2; i++)
        if (bind_number(b, n->items[i], def->key, def, 0, &v[i])) return -1;
    memcpy(field, v, sizeof v);
    return 0;
}

/* A string into a fixed field; SET_PATH is made absolute from the folder of
 * the file that wrote it (the current folder for command-line values), so
 * the resolved experiment means the same from anywhere. */
static int bind_text(Binder *b, const Node *n, const SettingDef *def, char *field)
{
    if (n->kind != NODE_SCALAR || node_is_null(n) || !n->text[0] || wrong_tag(n, NODE_TAG_STR))
        return type_error(b, n, def->key, "a string");
    char joined[PATH_MAX * 2];
    const char *text = n->text;
    if (def->type == SET_PATH && text[0] != '/') {
        int from_file = strncmp(n->file, "command line", 12) != 0;
        if (from_file) {
            join_dir(joined, sizeof joined, n->file, text);
            text = joined;
        }
        if (text[0] != '/') {
            char cwd[PATH_MAX], rel[PATH_MAX];
            if (!getcwd(cwd, sizeof cwd)) return node_errf(b->err, n, "%s: cannot read the current folder", def->key);
            snprintf(rel, sizeof rel, "%.4000s", text);
            snprintf(joined, sizeof joined, "%.4000s/%.4000s", cwd, rel);
            text = joined;
        }
    }
    if (strlen(text) >= def->size)
        return node_errf(b->err, n, "%s: longer than %zu characters", def->key, def->size - 1);
    memcpy(field, text, strlen(text) + 1);
    return 0;
}

static int bind_setting(Binder *b, const Node *n, const SettingDef *def, Settings *s)
{
    char *field = (char *)s + def->offset;
    double v;
    b->where[def - cfg_settings] = n;
    if (n->kind == NODE_SEQ && def->type != SET_LAYERS && def->type != SET_PAIR) return list_error(b, n, def);
    switch (def->type) {
    case SET_INT:
        if (bind_number(b, n, def->key, def, 1, &v)) return -1;
        *(int *)field = (int)v;
        return 0;
    case SET_I64:
        if (bind_number(b, n, def->key, def, 1, &v)) return -1;
        *(int64_t *)field = (int64_t)v;
        return 0;
    case SET_FLOAT:
        if (bind_number(b, n, def->key, def, 0, &v)) return -1;
        *(double *)field = v;
        return 0;
    case SET_BOOL:
        if (n->kind == NODE_SCALAR && n->plain && !wrong_tag(n, NODE_TAG_BOOL)) {
            if (!strcmp(n->text, "true") || !strcmp(n->text, "True") || !strcmp(n->text, "TRUE")) {
                *(int *)field = 1;
                return 0;
            }
            if (!strcmp(n->text, "false") || !strcmp(n->text, "False") || !strcmp(n->text, "FALSE")) {
                *(int *)field = 0;
                return 0;
            }
        }
        return type_error(b, n, def->key, "true or false");
    case SET_ENUM: return bind_enum(b, n, def->key, def->names, (int *)field);
    case SET_LAYERS: return bind_layers(b, n, def, (LayerSizes *)field);
    case SET_PAIR: return bind_pair(b, n, def, field);
    case SET_STRING:
    case SET_PATH: return bind_text(b, n, def, field);
    }
    return -1;
}

/* The keys of one section ("model" -> "hidden", "activation", ...). */
static void section_keys(const char *section, const char **out, int cap)
{
    int n = 0;
    size_t len = strlen(section);
    for (int i = 0; i < N_SETTINGS && n < cap - 1; i++) {
        const char *key = cfg_settings[i].key;
        if (strncmp(key, section, len) || key[len] != '.') continue;
        if (!strchr(key + len + 1, '.')) {
            out[n++] = key + len + 1;
            continue;
        }
        for (int g = 0; g < N_GROUPS; g++) { /* the group's name, once */
            const char *group = groups[g][0];
            size_t glen = strlen(group);
            if (!strncmp(key, group, glen) && key[glen] == '.' && (n == 0 || strcmp(out[n - 1], group + len + 1)))
                out[n++] = group + len + 1;
        }
    }
    out[n] = NULL;
}

/* Whether key names a group of settings within a section ("training.early_stopping"). */
static int is_subsection(const char *key)
{
    size_t len = strlen(key);
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strncmp(cfg_settings[i].key, key, len) && cfg_settings[i].key[len] == '.') return 1;
    return 0;
}

static int bind_section(Binder *b, const char *section, const Node *n, Settings *s)
{
    if (n->kind != NODE_MAP) return type_error(b, n, section, "a mapping of settings");
    for (int i = 0; i < n->n; i++) {
        char key[320];
        snprintf(key, sizeof key, "%s.%.300s", section, n->keys[i]->text);
        const SettingDef *def = cfg_find_setting(key);
        if (!def && is_subsection(key)) { /* training.early_stopping: {patience: 5} */
            if (n->items[i]->kind != NODE_MAP) {
                char expected[120] = "a mapping";
                for (int g = 0; g < N_GROUPS; g++)
                    if (!strcmp(groups[g][0], key))
                        snprintf(expected, sizeof expected, "a mapping such as %s", groups[g][1]);
                return type_error(b, n->items[i], key, expected);
            }
            if (bind_section(b, key, n->items[i], s)) return -1;
            continue;
        }
        if (!def) {
            const char *names[N_SETTINGS + 1];
            char hint[800];
            section_keys(section, names, N_SETTINGS + 1);
            suggest(hint, sizeof hint, n->keys[i]->text, names);
            for (int k = 0; k < N_SETTINGS; k++) { /* dropout under training: it is model.dropout */
                const char *dot = strrchr(cfg_settings[k].key, '.');
                if (dot && !strcmp(dot + 1, n->keys[i]->text)) {
                    snprintf(hint, sizeof hint, "; it is a setting of another section: %s", cfg_settings[k].key);
                    break;
                }
            }
            return node_errf(b->err, n->keys[i], "unknown key '%.40s' in %s%s", n->keys[i]->text, section, hint);
        }
        if (bind_setting(b, n->items[i], def, s)) return -1;
    }
    return 0;
}

static int bind_name(Binder *b, const Node *n, const char *key, char **out)
{
    if (n->kind != NODE_SCALAR || node_is_null(n) || !n->text[0] || wrong_tag(n, NODE_TAG_STR))
        return type_error(b, n, key, "a string");
    free(*out);
    *out = nn_strdup(n->text);
    return *out ? 0 : nn_errf(b->err, "out of memory");
}

/* name: one folder name, as the default output is results/NAME (never a
 * nested folder, nor a path out of results/). */
static int bind_folder_name(Binder *b, const Node *n, char **out)
{
    int rc = bind_name(b, n, "name", out);
    if (rc || (!strchr(*out, '/') && strcmp(*out, ".") && strcmp(*out, ".."))) return rc;
    return node_errf(b->err, n, "name: '%.60s' is not a folder name (no '/'; output: sets the results' folder)", *out);
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Index of the first element equal to an earlier one, or -1; O(n log n),
 * as a hostile file may list a million seeds. */
static int first_repeat(const int64_t *v, int n)
{
    int64_t *sorted = nn_alloc((size_t)n, sizeof *sorted);
    if (!sorted) return -1;
    memcpy(sorted, v, (size_t)n * sizeof *v);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_i64);
    int found = 0;
    int64_t repeated = 0;
    for (int i = 1; i < n && !found; i++)
        if (sorted[i] == sorted[i - 1]) found = 1, repeated = sorted[i];
    free(sorted);
    if (!found) return -1;
    for (int i = 0, seen = 0; i < n; i++)
        if (v[i] == repeated && seen++) return i;
    return -1;
}

static const SettingDef seed_def = {"seeds", SET_I64, 0, 0, NULL, 0, SEED_MAX, 0, 0};
static const SettingDef count_def = {"seeds.count", SET_INT, 0, 0, NULL, 1, MAX_SEEDS, 0, 0};

static int bind_seeds(Binder *b, const Node *n, Experiment *ex)
{
    double v;
    free(ex->seeds);
    ex->seeds = NULL;
    if (n->kind == NODE_SEQ) {
        if (n->n == 0) return node_errf(b->err, n, "seeds: the list is empty");
        if (n->n > MAX_SEEDS_LISTED)
            return node_errf(b->err, n, "seeds: more than %d listed; for more use {count: N, start: S}",
                             MAX_SEEDS_LISTED);
        ex->seeds = nn_alloc((size_t)n->n, sizeof(int64_t));
        if (!ex->seeds) return nn_errf(b->err, "out of memory");
        for (int i = 0; i < n->n; i++) {
            if (bind_number(b, n->items[i], "seeds", &seed_def, 1, &v)) return -1;
            ex->seeds[i] = (int64_t)v;
        }
        ex->n_seeds = n->n;
        int dup = first_repeat(ex->seeds, n->n);
        if (dup >= 0) return node_errf(b->err, n->items[dup], "seeds: seed %s is listed twice", n->items[dup]->text);
        return 0;
    }
    if (n->kind == NODE_SCALAR && n->plain && !strncmp(n->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL))) {
        /* seeds=7 on the command line: the one seed 7, as seeds=7,8 is those two */
        if (bind_number(b, n, "seeds", &seed_def, 1, &v)) return -1;
        if (!(ex->seeds = nn_alloc(1, sizeof(int64_t)))) return nn_errf(b->err, "out of memory");
        ex->seeds[0] = (int64_t)v;
        ex->n_seeds = 1;
        return 0;
    }
    if (n->kind == NODE_SCALAR && n->plain && node_number(n, &v) == NODE_NUMBER)
        return node_errf(b->err, n, "seeds: expected a list such as [1, 2, 3] or {count: 5, start: 1}, got '%.40s' "
                         "([%.40s] for that one seed, {count: %.40s} for that many)", n->text, n->text, n->text);
    if (n->kind != NODE_MAP) return type_error(b, n, "seeds", "a list such as [1, 2, 3] or {count: 5, start: 1}");
    int count = 1;
    int64_t start = 1;
    static const char *const keys[] = {"count", "start", NULL};
    for (int i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->text;
        if (!strcmp(k, "count")) {
            if (bind_number(b, n->items[i], "seeds.count", &count_def, 1, &v)) return -1;
            count = (int)v;
        } else if (!strcmp(k, "start")) {
            if (bind_number(b, n->items[i], "seeds.start", &seed_def, 1, &v)) return -1;
            start = (int64_t)v;
        } else {
            char hint[800];
            suggest(hint, sizeof hint, k, keys);
            return node_errf(b->err, n->keys[i], "unknown key '%.40s' in seeds%s", k, hint);
        }
    }
    if ((double)start + count - 1 > SEED_MAX) return node_errf(b->err, n, "seeds: start + count exceeds 2^53");
    ex->seeds = nn_alloc((size_t)count, sizeof(int64_t));
    if (!ex->seeds) return nn_errf(b->err, "out of memory");
    for (int i = 0; i < count; i++) ex->seeds[i] = start + i;
    ex->n_seeds = count;
    return 0;
}

static void axes_free(Experiment *ex)
{
    for (int i = 0; i < ex->n_axes; i++) free(ex->axes[i].values);
    free(ex->axes);
    ex->axes = NULL;
    ex->n_axes = 0;
}

static int count_nodes(const Node *n)
{
    int count = 1;
    for (int i = 0; i < n->n; i++) count += count_nodes(n->items[i]) + (n->keys ? 1 : 0);
    return count;
}

typedef struct {
    char text[512];
    int index;
} AxisValue;

static int compare_axis_values(const void *a, const void *b)
{
    const AxisValue *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* A value listed twice on one axis (or choice, what names it) is an error
 * at its second listing (sorted, not pairwise: an axis may be long). */
static int check_axis_repeats(Binder *b, const GridAxis *axis, const Node *list, const char *what)
{
    AxisValue *v = nn_alloc((size_t)axis->n, sizeof *v);
    if (!v) return nn_errf(b->err, "out of memory");
    for (int j = 0; j < axis->n; j++) {
        cfg_format_value(v[j].text, sizeof v[j].text, axis->def, &axis->values[j]);
        v[j].index = j;
    }
    qsort(v, (size_t)axis->n, sizeof *v, compare_axis_values);
    int second = -1;
    for (int j = 1; j < axis->n; j++)
        if (!strcmp(v[j].text, v[j - 1].text) && (second < 0 || v[j].index < second)) second = v[j].index;
    int rc = 0;
    if (second >= 0) {
        char text[512];
        cfg_format_value(text, sizeof text, axis->def, &axis->values[second]);
        rc = node_errf(b->err, list->items[second], "%s lists %s twice", what, text);
    }
    free(v);
    return rc;
}

/* grid: {dotted.key: [v1, v2, ...], ...}, bound after the sections so each
 * value is validated like the setting it sweeps. */
static int bind_grid(Binder *b, const Node *n, Experiment *ex)
{
    if (n->kind != NODE_MAP) return type_error(b, n, "grid", "a mapping of dotted setting names to lists of values");
    if (count_nodes(n) > MAX_GRID_NODES)
        return node_errf(b->err, n, "grid: more than %d values in all; split the experiment", MAX_GRID_NODES);
    ex->axes = nn_calloc((size_t)n->n, sizeof *ex->axes);
    if (!ex->axes) return nn_errf(b->err, "out of memory");
    double configs = 1;
    for (int i = 0; i < n->n; i++) {
        const Node *key = n->keys[i], *list = n->items[i];
        const SettingDef *def = cfg_find_setting(key->text);
        if (!def) {
            char hint[1200];
            const char *near = setting_named(key->text);
            char dotted[300] = "";
            if (list->kind == NODE_MAP && list->n > 0) /* a section nested under grid: */
                snprintf(dotted, sizeof dotted, "%.60s.%.60s", key->text, list->keys[0]->text);
            if (near) did_you_mean(hint, sizeof hint, key->text, near);
            else if (*dotted && cfg_find_setting(dotted))
                snprintf(hint, sizeof hint, "; grid keys are dotted, not nested: '%s: [...]'", dotted);
            else snprintf(hint, sizeof hint, "; grid keys are dotted setting names such as model.activation");
            return node_errf(b->err, key, "grid key '%.60s' names no setting%s", key->text, hint);
        }
        if (!strncmp(def->key, "dataset.", 8) && strcmp(def->key, "dataset.scale"))
            return node_errf(b->err, key, "grid: %s cannot be swept (one data set per experiment; of the dataset "
                             "settings only dataset.scale can be)", def->key);
        if (list->kind != NODE_SEQ) return type_error(b, list, key->text, "a list of values to sweep");
        if (list->n == 0) return node_errf(b->err, list, "grid: %s: the list of values is empty", def->key);
        GridAxis *axis = &ex->axes[ex->n_axes++];
        axis->def = def;
        b->axis_key[def - cfg_settings] = key;
        axis->values = nn_alloc((size_t)list->n, sizeof(Settings));
        if (!axis->values) return nn_errf(b->err, "out of memory");
        b->in_grid = 1;
        for (int j = 0; j < list->n; j++) {
            axis->values[j] = ex->settings;
            if (bind_setting(b, list->items[j], def, &axis->values[j])) return -1;
            axis->n++;
        }
        b->in_grid = 0;
        char what[300];
        snprintf(what, sizeof what, "grid: %s", def->key);
        if (check_axis_repeats(b, axis, list, what)) return -1;
        cfg_copy_setting(def, &ex->settings, &axis->values[0]); /* the placeholder: see cfg.h */
        configs *= list->n;
        if (configs > MAX_CONFIGS)
            return node_errf(b->err, list, "grid: more than %d config points", MAX_CONFIGS);
    }
    ex->n_configs = (int)configs;
    return 0;
}

/* ---- search: random ------------------------------------------------------ */

/* search: {method: random, trials, seed, space} (DESIGN.md "Search"). Each
 * space entry and each grid axis becomes a SearchParam; trial i draws every
 * param in that order from its own stream, seeded by (search.seed, i), so
 * a trial depends on nothing else: not on threads, shards or the number of
 * trials. The draws are kept as zipped grid axes (cfg.h), which everything
 * downstream (grid_settings, grid_describe, the summary columns) reads as it
 * reads a grid. The resolved text holds the distributions, never the draws. */

const char *const cfg_search_method_names[] = {"grid", "random", "halving", "hyperband", NULL};
const char *const cfg_dist_names[] = {"uniform", "log_uniform", "int_uniform", "int_log_uniform", "choice", NULL};

#define MAX_SAMPLED_VALUES 50000 /* trials × sampled settings: each draw is held in a Settings, as a grid value */

static const char *const search_keys[] = {"method", "trials", "seed", "space", "min_epochs", "eta", NULL};
static const char *const method_words[] = {"grid", "random", "halving", "hyperband", NULL};
static const SettingDef trials_def = {"search.trials", SET_INT, 0, 0, NULL, 1, MAX_CONFIGS, 0, 0};
static const SettingDef search_seed_def = {"search.seed", SET_I64, 0, 0, NULL, 0, SEED_MAX, 0, 0};
static const SettingDef min_epochs_def = {"search.min_epochs", SET_INT, 0, 0, NULL, 1, 1000000, 0, 0};
static const SettingDef eta_def = {"search.eta", SET_INT, 0, 0, NULL, 2, 1000, 0, 0};

/* Other tools' names for a distribution (Optuna, Hyperopt, Ray Tune). */
static const char *const dist_aliases[][2] = {
    {"categorical", "choice"}, {"randint", "int_uniform"}, {"reciprocal", "log_uniform"},
};

static void search_free(Search *se)
{
    for (int i = 0; i < se->n_params; i++) free(se->params[i].values);
    free(se->params);
    se->params = NULL;
    se->n_params = 0;
}

/* Whether a setting can vary within one experiment (as a grid axis or a draw). */
static int sweepable(const SettingDef *def)
{
    return strncmp(def->key, "dataset.", 8) || !strcmp(def->key, "dataset.scale");
}

/* The distributions a setting can be drawn from, for messages. */
static const char *dists_for(const SettingDef *def)
{
    if (def->type == SET_FLOAT) return "uniform, log_uniform or choice";
    if (def->type == SET_INT || def->type == SET_I64) return "int_uniform, int_log_uniform or choice";
    return "choice";
}

/* The distribution's name at node n, with a suggestion for a near miss. */
static int bind_dist_name(Binder *b, const Node *n, const SettingDef *def, int *out)
{
    for (int i = 0; cfg_dist_names[i]; i++)
        if (!strcmp(n->text, cfg_dist_names[i])) {
            *out = i;
            return 0;
        }
    char hint[800];
    hint[0] = '\0';
    for (size_t a = 0; a < sizeof dist_aliases / sizeof dist_aliases[0] && !hint[0]; a++)
        if (same_letters(n->text, dist_aliases[a][0])) did_you_mean(hint, sizeof hint, n->text, dist_aliases[a][1]);
    if (!hint[0]) suggest(hint, sizeof hint, n->text, cfg_dist_names);
    return node_errf(b->err, n, "search.space: %s: unknown distribution '%.40s'%s", def->key, n->text, hint);
}

/* [low, high] of a uniform kind: both valid values of the setting (so every
 * draw between them is one), low < high (<= for integers), low > 0 for
 * log_uniform and >= 1 for int_log_uniform. */
static int bind_bounds(Binder *b, const Node *n, SearchParam *p)
{
    const char *name = cfg_dist_names[p->dist];
    int integer = p->dist == DIST_INT_UNIFORM || p->dist == DIST_INT_LOG_UNIFORM;
    if (n->kind == NODE_SEQ && n->n != 2)
        return node_errf(b->err, n, "search.space: %s: %s takes [low, high], got a list of %d", p->def->key, name, n->n);
    if (n->kind != NODE_SEQ)
        return node_errf(b->err, n, "search.space: %s: %s takes [low, high], got %s", p->def->key, name, kind_name(n));
    if (bind_number(b, n->items[0], p->def->key, p->def, integer, &p->lo) ||
        bind_number(b, n->items[1], p->def->key, p->def, integer, &p->hi))
        return -1;
    if (p->dist == DIST_LOG_UNIFORM && !(p->lo > 0))
        return node_errf(b->err, n->items[0], "search.space: %s: log_uniform needs a low bound above 0, got %.40s",
                         p->def->key, n->items[0]->text);
    if (p->dist == DIST_INT_LOG_UNIFORM && p->lo < 1)
        return node_errf(b->err, n->items[0], "search.space: %s: int_log_uniform needs a low bound of 1 or more, got "
                         "%.40s", p->def->key, n->items[0]->text);
    if (integer ? p->hi < p->lo : !(p->hi > p->lo))
        return node_errf(b->err, n->items[1], "search.space: %s: the high bound %.40s is not above the low bound %.40s",
                         p->def->key, n->items[1]->text, n->items[0]->text);
    return 0;
}

/* {choice: [a, b, ...]}: each value bound as the setting's, as a grid axis's. */
static int bind_choice(Binder *b, const Node *n, const Experiment *ex, SearchParam *p)
{
    char what[300];
    snprintf(what, sizeof what, "search.space: %s: choice", p->def->key);
    if (n->kind != NODE_SEQ) return type_error(b, n, what, "a list of values");
    if (n->n == 0) return node_errf(b->err, n, "%s: the list is empty", what);
    if (!(p->values = nn_alloc((size_t)n->n, sizeof(Settings)))) return nn_errf(b->err, "out of memory");
    b->in_grid = 1;
    for (int j = 0; j < n->n; j++) {
        p->values[j] = ex->settings;
        if (bind_setting(b, n->items[j], p->def, &p->values[j])) return -1;
        p->n++;
    }
    b->in_grid = 0;
    GridAxis axis = {p->def, p->n, p->values};
    return check_axis_repeats(b, &axis, n, what);
}

/* One space entry: a sweepable setting that is not also a grid axis, and
 * one distribution that its type takes. */
static int bind_param(Binder *b, const Node *key, const Node *v, const Experiment *ex, SearchParam *p)
{
    const SettingDef *def = cfg_find_setting(key->text);
    char hint[1200];
    if (!def) {
        char dotted[300] = "";
        const char *near = setting_named(key->text);
        if (v->kind == NODE_MAP && v->n > 0) /* a section nested under space: */
            snprintf(dotted, sizeof dotted, "%.60s.%.60s", key->text, v->keys[0]->text);
        if (*dotted && cfg_find_setting(dotted))
            snprintf(hint, sizeof hint, "; space keys are dotted, not nested: '%s: {...}'", dotted);
        else if (near) did_you_mean(hint, sizeof hint, key->text, near);
        else snprintf(hint, sizeof hint, "; space keys are dotted setting names such as training.learning_rate");
        return node_errf(b->err, key, "search.space: '%.60s' names no setting%s", key->text, hint);
    }
    if (!sweepable(def))
        return node_errf(b->err, key, "search.space: %s cannot be sampled (one data set per experiment; of the dataset "
                         "settings only dataset.scale can be)", def->key);
    for (int k = 0; k < ex->n_axes; k++)
        if (ex->axes[k].def == def)
            return node_errf(b->err, key, "search.space: %s is also a grid axis, which a random search samples as a "
                             "choice; give it in one place", def->key);
    if (v->kind != NODE_MAP || v->n != 1) {
        char got[64];
        if (v->kind == NODE_MAP) snprintf(got, sizeof got, "a mapping of %d keys", v->n);
        else snprintf(got, sizeof got, "%s", kind_name(v));
        return node_errf(b->err, v, "search.space: %s: expected one distribution (%s) such as %s, got %s", def->key,
                         dists_for(def),
                         def->type == SET_FLOAT ? "{log_uniform: [0.0001, 0.1]}"
                         : def->type == SET_INT ? "{int_uniform: [1, 10]}" : "{choice: [a, b]}",
                         got);
    }
    p->def = def;
    if (bind_dist_name(b, v->keys[0], def, &p->dist)) return -1;
    int real = p->dist == DIST_UNIFORM || p->dist == DIST_LOG_UNIFORM;
    int integer = p->dist == DIST_INT_UNIFORM || p->dist == DIST_INT_LOG_UNIFORM;
    int is_real = def->type == SET_FLOAT, is_integer = def->type == SET_INT || def->type == SET_I64;
    if ((real && !is_real) || (integer && !is_integer)) {
        if (!is_real && !is_integer)
            return node_errf(b->err, v->keys[0], "search.space: %s is not a number: draw it from choice", def->key);
        return node_errf(b->err, v->keys[0], "search.space: %s takes %s: draw it from %s", def->key,
                         is_real ? "real numbers" : "integers", dists_for(def));
    }
    b->where[def - cfg_settings] = key; /* for the cross-checks: where it was given */
    return p->dist == DIST_CHOICE ? bind_choice(b, v->items[0], ex, p) : bind_bounds(b, v->items[0], p);
}

/* Trial `trial`'s stream: one per (search.seed, trial), apart from every
 * run's streams (RNG_SEARCH). */
static void trial_stream(Rng *r, int64_t seed, int trial)
{
    Rng base;
    rng_stream(&base, (uint64_t)seed, RNG_SEARCH);
    rng_stream(r, rng_u64(&base), (uint64_t)trial);
}

/* One draw into out's field. Reals are doubles: uniform lo + (hi − lo)·u,
 * log_uniform exp(log lo + (log hi − log lo)·u), u in [0, 1); int_uniform
 * is exact (rng_below); int_log_uniform floors a log-uniform draw over
 * [lo, hi + 1), so each integer k gets the share log((k + 1)/k) of it.
 * Rounding at the ends is clamped into [lo, hi]. */
static void draw_param(const SearchParam *p, Rng *r, Settings *out)
{
    char *field = (char *)out + p->def->offset;
    double v;
    switch (p->dist) {
    case DIST_CHOICE: cfg_copy_setting(p->def, out, &p->values[rng_below(r, (uint64_t)p->n)]); return;
    case DIST_UNIFORM: v = p->lo + (p->hi - p->lo) * rng_uniform(r); break;
    case DIST_LOG_UNIFORM: v = exp(log(p->lo) + (log(p->hi) - log(p->lo)) * rng_uniform(r)); break;
    case DIST_INT_UNIFORM: v = p->lo + (double)rng_below(r, (uint64_t)(p->hi - p->lo) + 1); break;
    default: v = floor(exp(log(p->lo) + (log(p->hi + 1) - log(p->lo)) * rng_uniform(r))); break;
    }
    v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
    if (p->def->type == SET_FLOAT) *(double *)field = v;
    else if (p->def->type == SET_I64) *(int64_t *)field = (int64_t)v;
    else *(int *)field = (int)v;
}

/* The grid's axes join the params as choices, drawn after the space's; then
 * the axes are rebuilt zipped: axis k holds param k's draws, value t trial t's. */
static int draw_trials(Binder *b, const Node *at, Experiment *ex)
{
    Search *se = &ex->search;
    for (int k = 0; k < ex->n_axes; k++) {
        SearchParam *p = &se->params[se->n_params++];
        p->def = ex->axes[k].def;
        p->dist = DIST_CHOICE;
        p->n = ex->axes[k].n;
        p->values = ex->axes[k].values;
        p->from_grid = 1;
        ex->axes[k].values = NULL;
    }
    axes_free(ex);
    if ((double)se->trials * se->n_params > MAX_SAMPLED_VALUES)
        return node_errf(b->err, at, "search: %d trials of %d settings are more than %d draws; split the experiment",
                         se->trials, se->n_params, MAX_SAMPLED_VALUES);
    if (!(ex->axes = nn_calloc((size_t)se->n_params, sizeof *ex->axes))) return nn_errf(b->err, "out of memory");
    for (int k = 0; k < se->n_params; k++, ex->n_axes++) {
        ex->axes[k].def = se->params[k].def;
        if (!(ex->axes[k].values = nn_alloc((size_t)se->trials, sizeof(Settings)))) return nn_errf(b->err, "out of memory");
        ex->axes[k].n = se->trials;
    }
    for (int t = 0; t < se->trials; t++) {
        Settings s = ex->settings;
        Rng r;
        trial_stream(&r, se->seed, t);
        for (int k = 0; k < se->n_params; k++) draw_param(&se->params[k], &r, &s);
        for (int k = 0; k < se->n_params; k++) ex->axes[k].values[t] = s;
    }
    for (int k = 0; k < se->n_params; k++) /* the placeholder: see cfg.h */
        cfg_copy_setting(ex->axes[k].def, &ex->settings, &ex->axes[k].values[0]);
    ex->n_configs = se->trials;
    se->drawn = 1;
    return 0;
}

/* The checks of halving and hyperband: a validation split to rank on,
 * training.epochs (the last rung) one value for all and not below
 * min_epochs; hyperband draws its own number of trials. */
static int bind_rungs(Binder *b, const Node *method, const Node *trials, const Node *space, Experiment *ex)
{
    const Search *se = &ex->search;
    const char *name = cfg_search_method_names[se->method];
    (void)space;
    if (!data_has_validation(&ex->settings.data))
        return node_errf(b->err, method, "search.method: %s ranks config points on validation: give "
                         "dataset.validation_fraction or dataset.folds", name);
    if (se->method == SEARCH_HYPERBAND && trials)
        return node_errf(b->err, trials, "search.trials: hyperband draws the trials of its brackets itself (from "
                         "training.epochs, min_epochs and eta); leave trials out");
    if (se->min_epochs > ex->settings.train.epochs)
        return node_errf(b->err, method, "search.min_epochs: %d is more than training.epochs (%d), the last rung",
                         se->min_epochs, ex->settings.train.epochs);
    return 0;
}

/* Halving and hyperband train every config point up to training.epochs
 * and rank them on training.select: neither may vary (checked on the
 * config points, grid's or drawn). */
static int rung_axes(Binder *b, const Node *method, const Experiment *ex)
{
    for (int k = 0; k < ex->n_axes; k++)
        if (!strcmp(ex->axes[k].def->key, "training.epochs") || !strcmp(ex->axes[k].def->key, "training.select"))
            return node_errf(b->err, method, "search.method: %s trains every config point up to training.epochs and "
                             "ranks them on training.select: %s cannot be swept", cfg_search_method_names[ex->search.method],
                             ex->axes[k].def->key);
    return 0;
}

/* Whether n was given on the command line. */
static int overridden(const Node *n)
{
    return !strncmp(n->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL));
}

/* Whether n is the experiment's own (in its file or on the command line), not a base's. */
static int own(const Binder *b, const Node *n)
{
    return n->file == b->top || !strncmp(n->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL));
}

/* search: after the sections and the grid, as its values are settings'.
 * With method grid, the random search's keys are an error when they are
 * the file's own, and ignored when a base gives them (a file may turn its
 * base's random search back into the base's grid). */
static int bind_search(Binder *b, const Node *n, Experiment *ex)
{
    Search *se = &ex->search;
    const Node *method = NULL, *space = NULL, *random_only = NULL, *halving_only = NULL, *trials = NULL;
    double v;
    se->min_epochs = 1;
    se->eta = 3;
    if (!n) return 0;
    if (n->kind != NODE_MAP)
        return type_error(b, n, "search", "a mapping such as {method: random, trials: 20, space: {...}}");
    for (int i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->text;
        const Node *item = n->items[i];
        if (!strcmp(k, "method")) {
            if (bind_enum(b, item, "search.method", method_words, &se->method)) return -1;
            method = item;
        } else if (!strcmp(k, "trials")) {
            if (bind_number(b, item, "search.trials", &trials_def, 1, &v)) return -1;
            se->trials = (int)v;
            trials = n->keys[i];
            random_only = random_only || !own(b, trials) ? random_only : trials;
        } else if (!strcmp(k, "seed")) {
            if (bind_number(b, item, "search.seed", &search_seed_def, 1, &v)) return -1;
            se->seed = (int64_t)v;
            random_only = random_only || !own(b, n->keys[i]) ? random_only : n->keys[i];
        } else if (!strcmp(k, "space")) {
            space = item;
            random_only = random_only || !own(b, n->keys[i]) ? random_only : n->keys[i];
        } else if (!strcmp(k, "min_epochs") || !strcmp(k, "eta")) {
            int eta = !strcmp(k, "eta");
            if (bind_number(b, item, eta ? "search.eta" : "search.min_epochs", eta ? &eta_def : &min_epochs_def, 1, &v))
                return -1;
            *(eta ? &se->eta : &se->min_epochs) = (int)v;
            halving_only = halving_only || !own(b, n->keys[i]) ? halving_only : n->keys[i];
        } else {
            char hint[800];
            suggest(hint, sizeof hint, k, search_keys);
            return node_errf(b->err, n->keys[i], "unknown key '%.40s' in search%s", k, hint);
        }
    }
    int rungs = se->method == SEARCH_HALVING || se->method == SEARCH_HYPERBAND;
    if (halving_only && !rungs)
        return node_errf(b->err, halving_only, "search.%s is for method halving or hyperband", halving_only->text);
    if (se->method == SEARCH_GRID && random_only)
        return node_errf(b->err, random_only, "search.%s needs method: random (the default, grid, runs every config "
                         "point of the grid)", random_only->text);
    if (rungs && bind_rungs(b, method, trials, space, ex)) return -1;
    if (se->method == SEARCH_GRID) return 0;
    if (se->method == SEARCH_HALVING && !trials && !space) return rung_axes(b, method, ex);
    if (se->method == SEARCH_HYPERBAND)
        se->trials = schedule_hyperband_trials(ex->settings.train.epochs, se->min_epochs, se->eta);
    else if (!trials)
        return node_errf(b->err, method, "search.method: %s needs search.trials, the number of config points to draw",
                         cfg_search_method_names[se->method]);
    if (space && space->kind != NODE_MAP)
        return type_error(b, space, "search.space", "a mapping of dotted setting names to distributions");
    if (space && count_nodes(space) > MAX_GRID_NODES)
        return node_errf(b->err, space, "search.space: more than %d values in all; split the experiment", MAX_GRID_NODES);
    int n_space = space ? space->n : 0;
    if (n_space + ex->n_axes == 0)
        return node_errf(b->err, method, "search.method: %s has nothing to draw: give search.space or grid: axes",
                         cfg_search_method_names[se->method]);
    if (!(se->params = nn_calloc((size_t)(n_space + ex->n_axes), sizeof *se->params)))
        return nn_errf(b->err, "out of memory");
    for (int i = 0; i < n_space; i++)
        if (bind_param(b, space->keys[i], space->items[i], ex, &se->params[se->n_params++])) return -1;
    if (draw_trials(b, trials ? trials : method, ex)) return -1;
    return rungs ? rung_axes(b, method, ex) : 0;
}

/* "[a, b]": a choice's or a grid axis's values. */
static void values_text(Buf *t, const SettingDef *def, const Settings *values, int n)
{
    char value[4 * DATA_PATH_LEN + 8];
    buf_printf(t, "[");
    for (int j = 0; j < n; j++) {
        cfg_format_value(value, sizeof value, def, &values[j]);
        buf_printf(t, "%s%s", j ? ", " : "", value);
    }
    buf_printf(t, "]");
}

/* A param as the resolved text writes it: "{log_uniform: [0.0001, 0.3]}",
 * or "[a, b]" for one from the grid (written there). */
static void param_text(Buf *t, const SearchParam *p)
{
    char lo[32], hi[32];
    if (p->from_grid) {
        values_text(t, p->def, p->values, p->n);
        return;
    }
    if (p->dist == DIST_CHOICE) {
        buf_printf(t, "{choice: ");
        values_text(t, p->def, p->values, p->n);
        buf_printf(t, "}");
        return;
    }
    format_double(lo, sizeof lo, p->lo);
    format_double(hi, sizeof hi, p->hi);
    if (p->dist == DIST_INT_UNIFORM || p->dist == DIST_INT_LOG_UNIFORM) { /* exact below 2^53 */
        snprintf(lo, sizeof lo, "%.0f", p->lo);
        snprintf(hi, sizeof hi, "%.0f", p->hi);
    }
    buf_printf(t, "{%s: [%s, %s]}", cfg_dist_names[p->dist], lo, hi);
}

/* The grid (its axes are the choices that came from it) and the search
 * section of a random search's resolved text, in the order of the draws. */
static void emit_search(Buf *b, const Experiment *ex)
{
    const Search *se = &ex->search;
    int from_grid = 0;
    for (int k = 0; k < se->n_params; k++) {
        const SearchParam *p = &se->params[k];
        if (!p->from_grid) continue;
        buf_printf(b, "%s  %s: ", from_grid++ ? "" : "grid:\n", p->def->key);
        param_text(b, p);
        buf_printf(b, "\n");
    }
    buf_printf(b, "search:\n  method: %s\n", cfg_search_method_names[se->method]);
    if (se->method != SEARCH_HYPERBAND) buf_printf(b, "  trials: %d\n", se->trials);
    buf_printf(b, "  seed: %lld\n", (long long)se->seed);
    if (se->method >= SEARCH_HALVING) buf_printf(b, "  min_epochs: %d\n  eta: %d\n", se->min_epochs, se->eta);
    for (int k = 0, n = 0; k < se->n_params; k++) {
        const SearchParam *p = &se->params[k];
        if (p->from_grid) continue;
        buf_printf(b, "%s    %s: ", n++ ? "" : "  space:\n", p->def->key);
        param_text(b, p);
        buf_printf(b, "\n");
    }
}

/* The sampled param of key in a random search, or NULL. */
static const SearchParam *param_of(const Experiment *ex, const char *key)
{
    for (int k = 0; k < ex->search.n_params; k++)
        if (!strcmp(ex->search.params[k].def->key, key)) return &ex->search.params[k];
    return NULL;
}

/* "grid", or "random, 20 trials, seed 0": what cfg_differences compares. */
static void search_text(char *buf, size_t cap, const Experiment *ex)
{
    const Search *se = &ex->search;
    if (se->method == SEARCH_GRID) snprintf(buf, cap, "grid");
    else if (!se->drawn) snprintf(buf, cap, "%s of the grid, min_epochs %d, eta %d", cfg_search_method_names[se->method],
                                  se->min_epochs, se->eta);
    else if (se->method == SEARCH_RANDOM) snprintf(buf, cap, "random, %d trials, seed %lld", se->trials,
                                                   (long long)se->seed);
    else snprintf(buf, cap, "%s, %d trials, seed %lld, min_epochs %d, eta %d", cfg_search_method_names[se->method],
                  se->trials, (long long)se->seed, se->min_epochs, se->eta);
}

/* Whether the data set brings its own test rows (idx's t10k files, a test_path). */
static int own_test_rows(const DataConfig *d)
{
    return d->source == DATA_IDX || d->test_path[0];
}

/* Settings that need a validation split. */
static int needs_validation(const SettingDef *def)
{
    return !strcmp(def->key, "training.select") || !strncmp(def->key, "training.early_stopping.", 24);
}

/* The axis that sweeps def, or NULL. */
static const GridAxis *axis_of(const Experiment *ex, const SettingDef *def)
{
    for (int i = 0; i < ex->n_axes; i++)
        if (ex->axes[i].def == def) return &ex->axes[i];
    return NULL;
}

/* Whether a setting means anything for the chosen data set and splits. */
static int applies(const SettingDef *def, const Settings *s)
{
    const DataConfig *d = &s->data;
    int src = d->source;
    const char *k = def->key;
    if (needs_validation(def)) return data_has_validation(d);
    if (!strcmp(k, "dataset.path")) return src != DATA_DIGITS;
    if (!strcmp(k, "dataset.header") || !strcmp(k, "dataset.label_column")) return src == DATA_CSV;
    if (!strcmp(k, "dataset.x") || !strcmp(k, "dataset.y")) return src == DATA_HDF5;
    if (!strcmp(k, "dataset.test_path")) return (src == DATA_CSV || src == DATA_HDF5) && d->test_path[0];
    if (!strcmp(k, "dataset.test_fraction")) return !own_test_rows(d);
    if (!strcmp(k, "dataset.split_seed") || !strcmp(k, "dataset.stratify"))
        return !own_test_rows(d) || data_has_validation(d);
    return 1;
}

static const Node *where_set(const Binder *b, const char *key)
{
    return b->where[cfg_find_setting(key) - cfg_settings];
}

/* The splits: folds and a validation share are exclusive, and settings
 * that select on validation need it, wherever they were set. */
static int check_splits(Binder *b, const Experiment *ex)
{
    const DataConfig *d = &ex->settings.data;
    const Node *folds = where_set(b, "dataset.folds"), *val = where_set(b, "dataset.validation_fraction");
    if (d->folds == 1)
        return node_errf(b->err, folds, "dataset.folds: 1 fold leaves nothing to validate on; give 2 or more "
                         "(5 is usual), or 0 for no cross-validation");
    int val_on_command_line = val && !strncmp(val->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL));
    if (d->folds >= 2 && d->validation_fraction > 0) /* said where the second of the two came from */
        return node_errf(b->err, folds && !val_on_command_line ? folds : val, "dataset.folds and dataset.validation_fraction are exclusive: "
                         "folds: K cross-validates over the training rows, validation_fraction holds one share out; "
                         "give one");
    for (int i = 0; i < N_SETTINGS; i++)
        if (b->where[i] && needs_validation(&cfg_settings[i]) && !data_has_validation(d)) {
            char group[64];
            snprintf(group, sizeof group, "%s", cfg_settings[i].key);
            if (!strncmp(group, "training.early_stopping.", 24)) group[23] = '\0';
            return node_errf(b->err, b->where[i], "%s needs a validation split: set dataset.validation_fraction "
                             "(such as 0.2) or dataset.folds (such as 5)", group);
        }
    return 0;
}

/* Settings that only make sense together. A dataset setting the source
 * does not use is an error when it is the experiment's own (in its file or
 * on the command line) or when dataset.source is not set at all (a path
 * alone would train on the built-in digits); one inherited from a base
 * written for another source is left out. */
static int check_dataset(Binder *b, const Experiment *ex)
{
    const DataConfig *d = &ex->settings.data;
    const Node *src = b->where[0];
    if (check_splits(b, ex)) return -1;
    for (int i = 0; i < N_SETTINGS; i++) {
        const Node *n = b->where[i];
        if (!n || applies(&cfg_settings[i], &ex->settings)) continue;
        int own = n->file == b->top || !strncmp(n->file, OVERRIDE_LABEL, strlen(OVERRIDE_LABEL));
        if (src && !own) continue;
        if (!src)
            return node_errf(b->err, n, "%s is set but dataset.source is not, so the built-in digits would be used; "
                             "set source: csv, hdf5 or idx", cfg_settings[i].key);
        if (d->test_path[0] && d->source != DATA_DIGITS && d->source != DATA_IDX &&
            strstr("dataset.test_fraction dataset.split_seed dataset.stratify", cfg_settings[i].key))
            return node_errf(b->err, n, "%s is not used with dataset.test_path (its rows are the test set)%s",
                             cfg_settings[i].key, data_has_validation(d) ? "" : "; without validation nothing is "
                             "split off");
        char from[600] = "";
        if (src && src->file != n->file) snprintf(from, sizeof from, ", set in %.500s", src->file);
        return node_errf(b->err, n, "%s is not used by dataset.source %s%s%s", cfg_settings[i].key,
                         data_source_names[d->source], from,
                         d->source == DATA_IDX ? " (its own test files are the test set)"
                         : !strcmp(cfg_settings[i].key, "dataset.test_path")
                             ? " (a test file goes with source csv or hdf5; the digits split off test_fraction)"
                             : "");
    }
    if (d->source != DATA_DIGITS && !d->path[0])
        return node_errf(b->err, src, "dataset.source %s needs dataset.path (%s)", data_source_names[d->source],
                         d->source == DATA_IDX ? "the folder of the four MNIST-format files" : "the data file");
    return 0;
}

/* A data file's features come in any units, so csv and hdf5 are
 * standardised unless dataset.scale is given anywhere (a file, a base, the
 * command line, the grid); the digits and idx images keep their pixels. */
static void default_scale(const Binder *b, Settings *s)
{
    if (!where_set(b, "dataset.scale") && (s->data.source == DATA_CSV || s->data.source == DATA_HDF5))
        s->data.scale = SCALE_STANDARD;
}

/* ---- settings of some optimizers or schedule types ---------------------- */

#define KIND(k) (1u << (k))
#define ADAM_KINDS (KIND(OPT_ADAM) | KIND(OPT_ADAMW))
#define ADAPTIVE_KINDS (ADAM_KINDS | KIND(OPT_RMSPROP))

/* Settings that only some optimizers (or schedule types) use: `by` is the
 * setting that chooses, `refused` the kinds with which the experiment's own
 * value of it is an error (those that do not use it), `why` the message's
 * ending. momentum is refused only by the adaptive optimizers: files
 * written before them set it with sgd, as the tutorial does. */
static const struct {
    const char *key, *by;
    unsigned refused;
    const char *why;
} kind_settings[] = {
    {"training.momentum", "training.optimizer", ADAPTIVE_KINDS, "momentum is for momentum and nesterov"},
    {"training.betas", "training.optimizer", ~ADAM_KINDS, "betas are for adam and adamw"},
    {"training.eps", "training.optimizer", ~ADAPTIVE_KINDS, "eps is for adam, adamw and rmsprop"},
    {"training.alpha", "training.optimizer", ~KIND(OPT_RMSPROP),
     "alpha is RMSProp's smoothing constant (optimizer rmsprop); scikit-learn's alpha is l2 \u00d7 batch_size"},
    {"training.weight_decay", "training.optimizer", ~KIND(OPT_ADAMW),
     "weight_decay is adamw's decoupled weight decay; L2 through the gradient (PyTorch's weight_decay of the "
     "other optimizers) is training.l2"},
    {"training.lr_schedule.step_size", "training.lr_schedule.type", ~KIND(LR_STEP), "step_size is for type step"},
    {"training.lr_schedule.gamma", "training.lr_schedule.type", ~(KIND(LR_STEP) | KIND(LR_EXPONENTIAL)),
     "gamma is for types step and exponential"},
    {"training.lr_schedule.min_lr", "training.lr_schedule.type", ~KIND(LR_COSINE), "min_lr is for type cosine"},
};
#define N_KIND_SETTINGS ((int)(sizeof kind_settings / sizeof kind_settings[0]))

/* The kinds (KIND bits) an enum setting takes over the config points. */
static unsigned kinds_in(const Experiment *ex, const SettingDef *by)
{
    const GridAxis *axis = axis_of(ex, by);
    unsigned mask = 0;
    for (int j = 0; j < (axis ? axis->n : 1); j++)
        mask |= KIND(*(const int *)((const char *)(axis ? &axis->values[j] : &ex->settings) + by->offset));
    return mask;
}

/* The largest (sign 1) or smallest (sign -1) value a number setting takes over the config points. */
static double extreme(const Experiment *ex, const SettingDef *def, int sign)
{
    const GridAxis *axis = axis_of(ex, def);
    double best = 0;
    for (int j = 0; j < (axis ? axis->n : 1); j++) {
        const char *field = (const char *)(axis ? &axis->values[j] : &ex->settings) + def->offset;
        double v = def->type == SET_INT ? *(const int *)field : *(const double *)field;
        if (!j || sign * v > sign * best) best = v;
    }
    return best;
}

/* The row of kind_settings of def, or -1. */
static int kind_setting(const SettingDef *def)
{
    for (int k = 0; k < N_KIND_SETTINGS; k++)
        if (!strcmp(kind_settings[k].key, def->key)) return k;
    return -1;
}

/* Whether every config point's optimizer (or schedule type) refuses def. */
static int refused_everywhere(const SettingDef *def, const Experiment *ex)
{
    int k = kind_setting(def);
    return k >= 0 && !(kinds_in(ex, cfg_find_setting(kind_settings[k].by)) & ~kind_settings[k].refused);
}

/* A setting that no config point's optimizer or schedule type uses, when
 * the experiment sets it itself, or when it is swept (an axis of identical
 * runs, even from a base); a plain value inherited from a base is left out
 * (a base may serve several optimizers), and so is a file's value when the
 * command line chose the optimizer (or type): `training.optimizer=adam`
 * tries another optimizer on a file written for nesterov, and nothing on a
 * command line could remove the file's momentum. */
static int check_unused(Binder *b, const Experiment *ex)
{
    for (int k = 0; k < N_KIND_SETTINGS; k++) {
        const SettingDef *def = cfg_find_setting(kind_settings[k].key), *by = cfg_find_setting(kind_settings[k].by);
        const Node *n = b->where[def - cfg_settings], *chosen = b->where[by - cfg_settings];
        const Node *choice = axis_of(ex, by) ? b->axis_key[by - cfg_settings] : chosen;
        if (axis_of(ex, def)) n = b->axis_key[def - cfg_settings]; /* refused wherever it comes from */
        else if (n && (!own(b, n) || (!overridden(n) && choice && overridden(choice)))) continue;
        if (!n || !refused_everywhere(def, ex)) continue;
        const GridAxis *axis = axis_of(ex, by);
        char what[400], from[600] = "";
        if (axis) {
            size_t len = (size_t)snprintf(what, sizeof what, "any %s of the grid (", by->key);
            for (int j = 0; j < axis->n && len < sizeof what; j++)
                len += (size_t)snprintf(what + len, sizeof what - len, "%s%s", j ? ", " : "",
                                        by->names[*(const int *)((const char *)&axis->values[j] + by->offset)]);
            if (len < sizeof what) snprintf(what + len, sizeof what - len, ")");
        } else {
            snprintf(what, sizeof what, "%s %s", by->key, by->names[*(const int *)((const char *)&ex->settings +
                                                                                   by->offset)]);
            if (!chosen) snprintf(from, sizeof from, " (the default)");
            else if (chosen->file != n->file) snprintf(from, sizeof from, " (set in %.500s)", chosen->file);
        }
        return node_errf(b->err, n, "%s is not used by %s%s: %s", def->key, what, from, kind_settings[k].why);
    }
    return 0;
}

/* Of two settings in conflict, the one to point at: a, unless only b is the experiment's own. */
static const Node *conflict_at(const Binder *b, const Node *a, const Node *other)
{
    return !a || (other && !own(b, a) && own(b, other)) ? other : a;
}

/* The optimizer and schedule settings: unused ones (check_unused), l2 with
 * adamw (which decays weights itself), a warmup longer than the run. */
static int check_training(Binder *b, const Experiment *ex)
{
    if (check_unused(b, ex)) return -1;
    const SettingDef *l2 = cfg_find_setting("training.l2"), *opt = cfg_find_setting("training.optimizer");
    if ((kinds_in(ex, opt) & KIND(OPT_ADAMW)) && extreme(ex, l2, 1) > 0) {
        const Node *n = b->where[l2 - cfg_settings], *at = conflict_at(b, n, b->where[opt - cfg_settings]);
        char from[600] = "";
        if (at != n) snprintf(from, sizeof from, " (l2 set in %.500s)", n->file);
        return node_errf(b->err, at, "training.l2 with adamw%s: adamw decays weights itself; use "
                         "training.weight_decay (decoupled) instead, and l2: 0", from);
    }
    const SettingDef *warmup = cfg_find_setting("training.lr_schedule.warmup_epochs");
    const SettingDef *epochs = cfg_find_setting("training.epochs");
    double w = extreme(ex, warmup, 1), e = extreme(ex, epochs, -1);
    if (w > e)
        return node_errf(b->err, conflict_at(b, b->where[warmup - cfg_settings], b->where[epochs - cfg_settings]),
                         "training.lr_schedule.warmup_epochs (%.0f) is more than training.epochs (%.0f): the rate "
                         "would never reach training.learning_rate", w, e);
    return 0;
}

/* storage: {keep_weights: all|best|final|none, keep_init: true|false, keep_pruned: true|false}. */
static int bind_storage(Binder *b, const Node *n, StorageConfig *st)
{
    if (n->kind != NODE_MAP)
        return type_error(b, n, "storage", "a mapping with keys keep_weights, keep_init, keep_pruned");
    for (int i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->text;
        const Node *v = n->items[i];
        if (!strcmp(k, "keep_weights")) {
            if (bind_enum(b, v, "storage.keep_weights", keep_weights_names, &st->keep_weights)) return -1;
        } else if (!strcmp(k, "keep_init") || !strcmp(k, "keep_pruned")) {
            int yes = v->kind == NODE_SCALAR && v->plain && !wrong_tag(v, NODE_TAG_BOOL) &&
                      (!strcmp(v->text, "true") || !strcmp(v->text, "True") || !strcmp(v->text, "TRUE"));
            int no = v->kind == NODE_SCALAR && v->plain && !wrong_tag(v, NODE_TAG_BOOL) &&
                     (!strcmp(v->text, "false") || !strcmp(v->text, "False") || !strcmp(v->text, "FALSE"));
            int init = !strcmp(k, "keep_init");
            if (!yes && !no) return type_error(b, v, init ? "storage.keep_init" : "storage.keep_pruned", "true or false");
            *(init ? &st->keep_init : &st->keep_pruned) = yes;
        } else {
            char hint[800];
            suggest(hint, sizeof hint, k, storage_keys);
            return node_errf(b->err, n->keys[i], "unknown key 'storage.%.40s'%s", k, hint);
        }
    }
    return 0;
}

static int bind_experiment(Binder *b, const Node *root, Experiment *ex)
{
    if (root->kind != NODE_MAP)
        return node_errf(b->err, root,
                         "an experiment is a mapping with keys name, base, dataset, model, training, seeds, grid, "
                         "search, output, storage; got %s",
                         kind_name(root));
    const Node *grid = NULL, *search = NULL;
    for (int i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->text;
        const Node *v = root->items[i];
        int rc = 0;
        if (!strcmp(k, "name")) rc = bind_folder_name(b, v, &ex->name);
        else if (!strcmp(k, "output")) rc = bind_name(b, v, "output", &ex->output);
        else if (!strcmp(k, "storage")) rc = bind_storage(b, v, &ex->storage);
        else if (!strcmp(k, "seeds")) rc = bind_seeds(b, v, ex);
        else if (!strcmp(k, "grid")) grid = v;
        else if (!strcmp(k, "search")) search = v;
        else if (!strcmp(k, "dataset") || !strcmp(k, "model") || !strcmp(k, "training"))
            rc = bind_section(b, k, v, &ex->settings);
        else {
            char hint[800];
            const char *setting = near_miss(k, top_keys) ? NULL : setting_named(k); /* 'epochs': training.epochs */
            const char *dot = setting ? strchr(setting, '.') : NULL;
            if (dot && strchr(k, '.'))
                snprintf(hint, sizeof hint, " (dotted names are for grid keys and the command line; here write '%s' "
                         "under '%.*s:')", dot + 1, (int)(dot - setting), setting);
            else if (setting) did_you_mean(hint, sizeof hint, k, setting);
            else suggest(hint, sizeof hint, k, top_keys);
            rc = node_errf(b->err, root->keys[i], "unknown key '%.40s'%s", k, hint);
        }
        if (rc) return -1;
    }
    ex->n_configs = 1;
    if (grid && bind_grid(b, grid, ex)) return -1;
    if (bind_search(b, search, ex)) return -1;
    default_scale(b, &ex->settings);
    return check_dataset(b, ex) || check_training(b, ex) ? -1 : 0;
}

/* ---- the resolved experiment ------------------------------------------- */

/* Shortest %g form that reads back as the same double (at most 24 bytes). */
static void format_double(char *buf, size_t cap, double v)
{
    char text[32];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, v);
        if (strtod(text, NULL) == v) break;
    }
    snprintf(buf, cap, "%s", text);
}

/* A YAML double-quoted string into buf. Characters YAML does not allow
 * raw (C0 and C1 controls, DEL, U+FFFE/U+FFFF) and the ones it reads as
 * line breaks (U+0085, U+2028, U+2029) are escaped, so the text
 * always reads back as the same string; the input is valid UTF-8 (libyaml
 * checked it). */
static void quote(char *buf, size_t cap, const char *s)
{
    size_t len = 0;
    if (cap < 3) return;
    buf[len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && len + 8 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            len += (size_t)snprintf(buf + len, cap - len, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", *p);
        } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* U+0080..U+009F */
            len += (size_t)snprintf(buf + len, cap - len, "\\x%02x", p[1]);
            p++;
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) { /* U+2028, U+2029 */
            len += (size_t)snprintf(buf + len, cap - len, "\\%c", p[2] == 0xa8 ? 'L' : 'P');
            p += 2;
        } else if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) { /* U+FFFE, U+FFFF */
            len += (size_t)snprintf(buf + len, cap - len, "\\uff%s", p[2] == 0xbe ? "fe" : "ff");
            p += 2;
        } else {
            buf[len++] = (char)*p;
        }
    }
    buf[len++] = '"';
    buf[len] = '\0';
}

void cfg_format_value(char *buf, size_t cap, const SettingDef *def, const Settings *s)
{
    const char *field = (const char *)s + def->offset;
    switch (def->type) {
    case SET_INT: snprintf(buf, cap, "%d", *(const int *)field); break;
    case SET_I64: snprintf(buf, cap, "%lld", (long long)*(const int64_t *)field); break;
    case SET_FLOAT: format_double(buf, cap, *(const double *)field); break;
    case SET_BOOL:
    case SET_ENUM: snprintf(buf, cap, "%s", def->names[*(const int *)field]); break;
    case SET_STRING:
    case SET_PATH: quote(buf, cap, field); break;
    case SET_LAYERS: {
        const LayerSizes *l = (const LayerSizes *)field;
        size_t len = (size_t)snprintf(buf, cap, "[");
        for (int i = 0; i < l->n && len < cap; i++)
            len += (size_t)snprintf(buf + len, cap - len, "%s%d", i ? ", " : "", l->units[i]);
        if (len < cap) snprintf(buf + len, cap - len, "]");
        break;
    }
    case SET_PAIR: {
        double v[2];
        char a[32], c[32];
        memcpy(v, field, sizeof v);
        format_double(a, sizeof a, v[0]);
        format_double(c, sizeof c, v[1]);
        snprintf(buf, cap, "[%s, %s]", a, c);
        break;
    }
    }
}

/* Whether the resolved text gives def a value in its section: the data set
 * uses it, it is not swept (a swept setting is only its axis), and some
 * config point's optimizer and schedule type take it (so the text, read as
 * an experiment's own file, passes check_unused). */
static int written(const SettingDef *def, const Experiment *ex)
{
    return applies(def, &ex->settings) && !axis_of(ex, def) && !refused_everywhere(def, ex);
}

/* Length of the group prefix of a section's key ("early_stopping." of
 * "early_stopping.patience"), 0 for a key of its own. */
static size_t group_len(const char *sub)
{
    const char *dot = strchr(sub, '.');
    return dot ? (size_t)(dot - sub) + 1 : 0;
}

/* One section: a line per setting, a group of settings
 * ("early_stopping.patience") as one flow mapping, and a comment in place
 * of each swept setting. A section with nothing to write is {}. */
static void emit_section(Buf *b, const Experiment *ex, const char *section)
{
    char value[4 * DATA_PATH_LEN + 8]; /* a path with every byte escaped */
    size_t len = strlen(section);
    int first = -1, last = -1, any = 0;
    for (int i = 0; i < N_SETTINGS; i++)
        if (!strncmp(cfg_settings[i].key, section, len) && cfg_settings[i].key[len] == '.') {
            if (first < 0) first = i;
            last = i;
            any |= written(&cfg_settings[i], ex);
        }
    buf_printf(b, "%s:%s\n", section, any ? "" : " {}");
    for (int i = first; i >= 0 && i <= last;) {
        const char *sub = cfg_settings[i].key + len + 1;
        size_t glen = group_len(sub);
        int end = i + 1, n = 0; /* the group's settings are [i, end) */
        while (glen && end <= last && !strncmp(cfg_settings[end].key + len + 1, sub, glen)) end++;
        for (int j = i; j < end; j++) {
            const SettingDef *def = &cfg_settings[j];
            if (!written(def, ex)) continue;
            cfg_format_value(value, sizeof value, def, &ex->settings);
            if (!glen) buf_printf(b, "  %s: %s\n", sub, value);
            else if (!n) buf_printf(b, "  %.*s: {%s: %s", (int)glen - 1, sub, def->key + len + 1 + glen, value);
            else buf_printf(b, ", %s: %s", def->key + len + 1 + glen, value);
            n++;
        }
        if (glen && n) buf_printf(b, "}\n");
        for (int j = i; j < end; j++)
            if (applies(&cfg_settings[j], &ex->settings) && axis_of(ex, &cfg_settings[j]))
                buf_printf(b, "  # %s: %s\n", cfg_settings[j].key + len + 1,
                           ex->search.drawn ? "sampled, see search" : "swept, see grid");
        i = end;
    }
}

/* The part of the resolved text that determines results: settings, grid,
 * seeds. Dataset settings that the source does not use are left out, and a
 * swept setting is written only as its axis (its value in ex->settings is a
 * placeholder, so the fingerprint does not depend on it). */
static void emit_body(Buf *b, const Experiment *ex)
{
    char value[4 * DATA_PATH_LEN + 8];
    for (int sec = 0; sections[sec]; sec++) emit_section(b, ex, sections[sec]);
    if (ex->search.drawn) emit_search(b, ex);
    else if (ex->n_axes) buf_printf(b, "grid:\n");
    for (int i = 0; i < ex->n_axes && !ex->search.drawn; i++) {
        buf_printf(b, "  %s: [", ex->axes[i].def->key);
        for (int j = 0; j < ex->axes[i].n; j++) {
            cfg_format_value(value, sizeof value, ex->axes[i].def, &ex->axes[i].values[j]);
            buf_printf(b, "%s%s", j ? ", " : "", value);
        }
        buf_printf(b, "]\n");
    }
    if (!ex->search.drawn && ex->search.method == SEARCH_HALVING)
        buf_printf(b, "search:\n  method: halving\n  min_epochs: %d\n  eta: %d\n", ex->search.min_epochs,
                   ex->search.eta);
    int consecutive = ex->n_seeds > 1;
    for (int i = 1; i < ex->n_seeds && consecutive; i++) consecutive = ex->seeds[i] == ex->seeds[i - 1] + 1;
    if (consecutive) {
        buf_printf(b, "seeds: {count: %d, start: %lld}\n", ex->n_seeds, (long long)ex->seeds[0]);
        return;
    }
    buf_printf(b, "seeds: [");
    for (int i = 0; i < ex->n_seeds; i++) buf_printf(b, "%s%lld", i ? ", " : "", (long long)ex->seeds[i]);
    buf_printf(b, "]\n");
}

static int resolve(Experiment *ex, char *err)
{
    Buf body = {0}, all = {0};
    size_t name_cap = 4 * strlen(ex->name) + 16, output_cap = 4 * strlen(ex->output) + 16; /* every byte escaped */
    char *name = malloc(name_cap), *output = malloc(output_cap);
    if (!name || !output) {
        free(name);
        free(output);
        return nn_errf(err, "out of memory");
    }
    quote(name, name_cap, ex->name);
    quote(output, output_cap, ex->output);
    emit_body(&body, ex);
    buf_printf(&all, "# nnlab %s: resolved experiment (every default filled in)\n", NNLAB_VERSION);
    for (const char *o = ex->overrides; o && *o;) { /* provenance: not part of the fingerprint */
        const char *nl = strchr(o, '\n');
        buf_printf(&all, "# override: %.*s\n", (int)(nl - o), o);
        o = nl + 1;
    }
    buf_printf(&all, "name: %s\n%s", name, body.s ? body.s : "");
    buf_printf(&all, "storage: {keep_weights: %s, keep_init: %s, keep_pruned: %s}\n",
               keep_weights_names[ex->storage.keep_weights], ex->storage.keep_init ? "true" : "false",
               ex->storage.keep_pruned ? "true" : "false");
    buf_printf(&all, "output: %s\n", output);
    free(name);
    free(output);
    int oom = body.oom || all.oom;
    if (!oom)
        snprintf(ex->fingerprint, sizeof ex->fingerprint, "%016llx", (unsigned long long)nn_fnv1a(body.s, body.len));
    free(body.s);
    if (oom) {
        free(all.s);
        return nn_errf(err, "out of memory");
    }
    free(ex->resolved);
    ex->resolved = all.s;
    return 0;
}

/* One axis as YAML text ("[sigmoid, tanh]"), or "(not swept)". */
static void axis_text(char *buf, size_t cap, const Experiment *ex, const char *key)
{
    const SearchParam *p = param_of(ex, key);
    snprintf(buf, cap, "(not swept)");
    if (p) { /* a random search's: its distribution, not its draws */
        Buf t = {0};
        param_text(&t, p);
        snprintf(buf, cap, "%s", t.s && !t.oom ? t.s : "(out of memory)");
        free(t.s);
        return;
    }
    for (int i = 0; i < ex->n_axes; i++) {
        if (strcmp(ex->axes[i].def->key, key)) continue;
        size_t len = (size_t)snprintf(buf, cap, "[");
        for (int j = 0; j < ex->axes[i].n && len < cap; j++) {
            char v[600];
            cfg_format_value(v, sizeof v, ex->axes[i].def, &ex->axes[i].values[j]);
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", j ? ", " : "", v);
        }
        if (len < cap) snprintf(buf + len, cap - len, "]");
    }
}

static void seeds_text(char *buf, size_t cap, const Experiment *ex)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ex->n_seeds && len < cap; i++) len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "", (long long)ex->seeds[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

int cfg_differences(const Experiment *a, const Experiment *b, char *buf, size_t cap)
{
    int n = 0;
    size_t len = 0;
    buf[0] = '\0';
    char va[4 * DATA_PATH_LEN + 8], vb[4 * DATA_PATH_LEN + 8];
    for (int i = 0; i <= N_SETTINGS; i++) {
        const char *key = i < N_SETTINGS ? cfg_settings[i].key : "seeds";
        if (i < N_SETTINGS) { /* a swept setting's value is a placeholder: its axis says what runs */
            if (axis_of(a, &cfg_settings[i])) snprintf(va, sizeof va, "(swept)");
            else cfg_format_value(va, sizeof va, &cfg_settings[i], &a->settings);
            if (axis_of(b, &cfg_settings[i])) snprintf(vb, sizeof vb, "(swept)");
            else cfg_format_value(vb, sizeof vb, &cfg_settings[i], &b->settings);
        } else {
            seeds_text(va, sizeof va, a);
            seeds_text(vb, sizeof vb, b);
        }
        if (strcmp(va, vb) && len < cap) n++, len += (size_t)snprintf(buf + len, cap - len, "  %s: %s -> %s\n", key, va, vb);
        if (i == N_SETTINGS) break;
        axis_text(va, sizeof va, a, key);
        axis_text(vb, sizeof vb, b, key);
        const SearchParam *pa = param_of(a, key), *pb = param_of(b, key);
        int space = (pa && !pa->from_grid) || (pb && !pb->from_grid);
        if (strcmp(va, vb) && len < cap)
            n++, len += (size_t)snprintf(buf + len, cap - len, "  %s %s: %s -> %s\n", space ? "search.space" : "grid",
                                         key, va, vb);
    }
    search_text(va, sizeof va, a);
    search_text(vb, sizeof vb, b);
    if (strcmp(va, vb) && len < cap) n++, len += (size_t)snprintf(buf + len, cap - len, "  search: %s -> %s\n", va, vb);
    return n;
}

/* ---- growth: what --resume may add to an experiment ------------------------- */

uint64_t cfg_settings_hash(const Settings *s)
{
    char value[4 * DATA_PATH_LEN + 8];
    uint64_t h = NN_FNV1A_BASIS;
    for (int i = 0; i < N_SETTINGS; i++) {
        if (!applies(&cfg_settings[i], s)) continue;
        cfg_format_value(value, sizeof value, &cfg_settings[i], s);
        h = nn_fnv1a_more(h, cfg_settings[i].key, strlen(cfg_settings[i].key) + 1);
        h = nn_fnv1a_more(h, value, strlen(value) + 1);
    }
    return h;
}

/* How list b relates to list a (each without repeats), given whether the
 * first n_a items of b, in order, hold a (kept): CFG_SAME, CFG_GROWS (more
 * items, a's kept in order), CFG_SHRINKS (some of a's are gone) or
 * CFG_DIFFERS (all there, in another order). sorted_b: b sorted by cmp. */
static int list_growth(int kept, int n_a, int n_b, const void *a, const void *sorted_b, size_t size,
                       int (*cmp)(const void *, const void *))
{
    if (kept) return n_b > n_a ? CFG_GROWS : CFG_SAME;
    for (int i = 0; i < n_a; i++)
        if (!bsearch((const char *)a + (size_t)i * size, sorted_b, (size_t)n_b, size, cmp)) return CFG_SHRINKS;
    return CFG_DIFFERS;
}

static int seeds_growth(const Experiment *a, const Experiment *b)
{
    int i = 0;
    for (int j = 0; j < b->n_seeds && i < a->n_seeds; j++) i += b->seeds[j] == a->seeds[i];
    if (i == a->n_seeds) return b->n_seeds > a->n_seeds ? CFG_GROWS : CFG_SAME;
    int64_t *sorted = nn_alloc((size_t)b->n_seeds, sizeof *sorted);
    if (!sorted) return CFG_DIFFERS;
    memcpy(sorted, b->seeds, (size_t)b->n_seeds * sizeof *sorted);
    qsort(sorted, (size_t)b->n_seeds, sizeof *sorted, compare_i64);
    int g = list_growth(0, a->n_seeds, b->n_seeds, a->seeds, sorted, sizeof *sorted, compare_i64);
    free(sorted);
    return g;
}

static int compare_axis_text(const void *x, const void *y)
{
    return strcmp(((const AxisValue *)x)->text, ((const AxisValue *)y)->text);
}

/* The values of axis x (then y) as text: (x->n + y->n), the caller's. */
static AxisValue *axis_texts(const GridAxis *x, const GridAxis *y)
{
    AxisValue *v = nn_alloc((size_t)x->n + (size_t)y->n, sizeof *v);
    for (int j = 0; v && j < x->n + y->n; j++) {
        const GridAxis *axis = j < x->n ? x : y;
        cfg_format_value(v[j].text, sizeof v[j].text, axis->def, &axis->values[j < x->n ? j : j - x->n]);
        v[j].index = j;
    }
    return v;
}

static int axis_growth(const GridAxis *x, const GridAxis *y)
{
    AxisValue *v = axis_texts(x, y);
    if (!v) return CFG_DIFFERS;
    int i = 0;
    for (int j = 0; j < y->n && i < x->n; j++) i += !strcmp(v[x->n + j].text, v[i].text);
    if (i < x->n) qsort(v + x->n, (size_t)y->n, sizeof *v, compare_axis_text);
    int g = list_growth(i == x->n, x->n, y->n, v, v + x->n, sizeof *v, compare_axis_text);
    free(v);
    return g;
}

/* Whether random search b is a's with more trials (CFG_GROWS), fewer
 * (CFG_SHRINKS), as many (CFG_SAME), or another search: the same seed and
 * space, setting by setting and distribution by distribution, and so the
 * same draws for the trials both have (checked too: they are the runs'
 * settings). */
static int random_growth(const Experiment *a, const Experiment *b)
{
    const Search *sa = &a->search, *sb = &b->search;
    char va[4 * DATA_PATH_LEN + 8], vb[4 * DATA_PATH_LEN + 8];
    if (sa->seed != sb->seed || sa->n_params != sb->n_params) return CFG_DIFFERS;
    for (int k = 0; k < sa->n_params; k++) {
        const SearchParam *pa = &sa->params[k], *pb = &sb->params[k];
        if (pa->def != pb->def || pa->dist != pb->dist || pa->lo != pb->lo || pa->hi != pb->hi || pa->n != pb->n)
            return CFG_DIFFERS;
        for (int i = 0; i < pa->n; i++) {
            cfg_format_value(va, sizeof va, pa->def, &pa->values[i]);
            cfg_format_value(vb, sizeof vb, pb->def, &pb->values[i]);
            if (strcmp(va, vb)) return CFG_DIFFERS;
        }
    }
    int n = sa->trials < sb->trials ? sa->trials : sb->trials;
    for (int k = 0; k < a->n_axes; k++) {
        if (a->axes[k].def != b->axes[k].def) return CFG_DIFFERS;
        for (int i = 0; i < n; i++) {
            cfg_format_value(va, sizeof va, a->axes[k].def, &a->axes[k].values[i]);
            cfg_format_value(vb, sizeof vb, b->axes[k].def, &b->axes[k].values[i]);
            if (strcmp(va, vb)) return CFG_DIFFERS;
        }
    }
    return sb->trials > sa->trials ? CFG_GROWS : sb->trials < sa->trials ? CFG_SHRINKS : CFG_SAME;
}

int cfg_growth(const Experiment *a, const Experiment *b, char *buf, size_t cap)
{
    cfg_differences(a, b, buf, cap);
    if (!strcmp(a->fingerprint, b->fingerprint)) return CFG_SAME;
    char va[4 * DATA_PATH_LEN + 8], vb[4 * DATA_PATH_LEN + 8];
    if (a->n_axes != b->n_axes) return CFG_DIFFERS; /* an axis added or removed */
    int worst = seeds_growth(a, b);
    if (a->search.method != b->search.method) return CFG_DIFFERS;
    if (a->search.method >= SEARCH_HALVING) return CFG_DIFFERS; /* more trials or seeds change what is promoted */
    if (a->search.method == SEARCH_RANDOM) { /* more trials: the same space, and trial i draws the same */
        int g = random_growth(a, b);
        worst = g > worst ? g : worst;
    }
    for (int k = 0; k < a->n_axes && worst != CFG_DIFFERS && a->search.method != SEARCH_RANDOM; k++) {
        if (a->axes[k].def != b->axes[k].def) return CFG_DIFFERS; /* the axes in another order */
        int g = axis_growth(&a->axes[k], &b->axes[k]);
        worst = g > worst ? g : worst;
    }
    for (int i = 0; i < N_SETTINGS && worst != CFG_DIFFERS; i++) {
        const SettingDef *def = &cfg_settings[i];
        if (axis_of(a, def) || (!written(def, a) && !written(def, b))) continue;
        cfg_format_value(va, sizeof va, def, &a->settings);
        cfg_format_value(vb, sizeof vb, def, &b->settings);
        if (strcmp(va, vb)) worst = CFG_DIFFERS;
    }
    /* A random search grows with `search.trials` (random_growth): trial i's
     * draw does not depend on the count, and the renumbering maps runs by
     * identity (grow.c). */
    return worst == CFG_SAME ? CFG_DIFFERS : worst; /* SAME: the fingerprints differ for a reason not seen here */
}

/* ---- entry points ---------------------------------------------------------- */

void cfg_free(Experiment *ex)
{
    if (!ex) return;
    free(ex->file);
    free(ex->name);
    axes_free(ex);
    search_free(&ex->search);
    free(ex->seeds);
    free(ex->output);
    free(ex->resolved);
    free(ex->overrides);
    free(ex);
}

/* "dir/things-to-try.yaml" -> "things-to-try" */
static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *name = nn_strdup(slash ? slash + 1 : path);
    if (!name) return NULL;
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    return name;
}

/* The overrides as "KEY=VALUE\n" lines (a newline inside one becomes a
 * space); with none, those a resolved text records in its leading comment
 * lines ("# override: KEY=VALUE"), so that a folder's experiment.yaml keeps
 * them. NULL when there are none; -1 out of memory. */
static int keep_overrides(Experiment *ex, const char *text, size_t len, char *const *overrides, int n)
{
    Buf b = {0};
    static const char mark[] = "# override: ";
    for (int i = 0; i < n; i++) {
        size_t at = b.len;
        buf_printf(&b, "%s\n", overrides[i]);
        for (size_t k = at; b.s && k + 1 < b.len; k++)
            if (b.s[k] == '\n' || b.s[k] == '\r') b.s[k] = ' ';
    }
    for (const char *p = text, *end = text + len; n == 0 && p < end && *p == '#';) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t line = (size_t)((nl ? nl : end) - p);
        if (line > sizeof mark - 1 && !memcmp(p, mark, sizeof mark - 1))
            buf_printf(&b, "%.*s\n", (int)(line - (sizeof mark - 1)), p + sizeof mark - 1);
        p = nl ? nl + 1 : end;
    }
    if (b.oom) {
        free(b.s);
        return -1;
    }
    ex->overrides = b.s;
    return 0;
}

/* Fill what the file left out: name, seeds, output. */
static int fill_defaults(Experiment *ex)
{
    if (!ex->name && !(ex->name = base_name(ex->file))) return -1;
    if (!ex->seeds) {
        if (!(ex->seeds = nn_alloc(1, sizeof(int64_t)))) return -1;
        ex->seeds[0] = 1;
        ex->n_seeds = 1;
    }
    if (!ex->output) {
        size_t n = strlen(ex->name) + 16;
        if (!(ex->output = malloc(n))) return -1;
        snprintf(ex->output, n, "results/%s", ex->name);
    }
    return 0;
}

int cfg_load_text(Experiment **out, const char *file, const char *text, size_t len, char *const *overrides,
                  int n_overrides, char *err)
{
    *out = NULL;
    Names ns = {{0}, 0};
    Experiment *ex = calloc(1, sizeof *ex);
    char *chain[MAX_BASE_DEPTH + 1] = {0}, *real[MAX_BASE_DEPTH + 1] = {0};
    char self[PATH_MAX];
    Node *root = NULL;
    Binder b;
    memset(&b, 0, sizeof b);
    b.err = err;
    const char *name = names_add(&ns, file);
    b.top = name;
    if (!ex || !name || !(ex->file = nn_strdup(file))) goto oom;
    cfg_defaults(&ex->settings);
    ex->storage.keep_weights = KEEP_ALL;
    ex->storage.keep_init = 1;
    real[0] = realpath(file, self) ? self : NULL;
    root = load_chain(&ns, name, text, len, chain, real, 0, err);
    if (!root) goto fail;
    for (int i = 0; i < n_overrides; i++)
        if (apply_override(&ns, root, overrides[i], err)) goto fail;
    if (bind_experiment(&b, root, ex)) goto fail;
    if (fill_defaults(ex) || keep_overrides(ex, text, len, overrides, n_overrides)) goto oom;
    if (resolve(ex, err)) goto fail;
    node_free(root);
    names_free(&ns);
    *out = ex;
    return 0;
oom:
    nn_errf(err, "%s: out of memory", file);
fail:
    node_free(root);
    names_free(&ns);
    cfg_free(ex);
    return -1;
}

int cfg_load(Experiment **out, const char *path, char *const *overrides, int n_overrides, char *err)
{
    *out = NULL;
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err)) return -1;
    int rc = cfg_load_text(out, path, text, len, overrides, n_overrides, err);
    free(text);
    return rc;
}

int cfg_set_output(Experiment *ex, const char *output, char *err)
{
    char *o = nn_strdup(output);
    if (!o) return nn_errf(err, "out of memory");
    free(ex->output);
    ex->output = o;
    return resolve(ex, err);
}
