/* cfg.c — experiment files. Phase 1 (load_tree): libyaml's document loader,
 * then a copy into a small tree of Nodes that carry file:line:column, with
 * duplicate keys, depth and size checked on the way. Phase 2 (bind_*): one
 * binder per section, driven by the cfg_settings table.
 *
 * Limits that keep hostile files cheap: MAX_DEPTH levels of nesting and
 * MAX_NODES nodes after alias expansion (an alias bomb hits the latter long
 * before it costs memory). */
#include "cfg.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mlp.h"
#include "nnlab.h"
#include "optim.h"

#define MAX_DEPTH 64
#define MAX_NODES 100000
#define MAX_FILE_BYTES (16 << 20)
#define MAX_SEEDS 1000000

/* ---- the settings table ------------------------------------------------ */

static const char *const bool_names[] = {"false", "true", NULL};

#define S(field) offsetof(Settings, field)
const SettingDef cfg_settings[] = {
    {"dataset.source", SET_ENUM, S(data.source), data_source_names, 0, 0, 0, 0},
    {"dataset.test_fraction", SET_FLOAT, S(data.test_fraction), NULL, 0, 1, 1, 1},
    {"dataset.split_seed", SET_I64, S(data.split_seed), NULL, 0, 9007199254740992.0, 0, 0},
    {"dataset.scale", SET_ENUM, S(data.scale), data_scale_names, 0, 0, 0, 0},
    {"model.hidden", SET_INT_LIST, S(train.hidden), NULL, 1, 2147483647.0, 0, 0},
    {"model.activation", SET_ENUM, S(train.activation), mlp_activation_names, 0, 0, 0, 0},
    {"model.dropout", SET_FLOAT, S(train.dropout), NULL, 0, 1, 0, 1},
    {"model.init", SET_ENUM, S(train.init), mlp_init_names, 0, 0, 0, 0},
    {"training.epochs", SET_INT, S(train.epochs), NULL, 1, 1000000, 0, 0},
    {"training.batch_size", SET_INT, S(train.batch_size), NULL, 1, 1 << 24, 0, 0},
    {"training.learning_rate", SET_FLOAT, S(train.learning_rate), NULL, 0, 1e6, 1, 0},
    {"training.optimizer", SET_ENUM, S(train.optimizer), optim_names, 0, 0, 0, 0},
    {"training.momentum", SET_FLOAT, S(train.momentum), NULL, 0, 1, 0, 1},
    {"training.l2", SET_FLOAT, S(train.l2), NULL, 0, 1e6, 0, 0},
    {"training.shuffle", SET_BOOL, S(train.shuffle), bool_names, 0, 1, 0, 0},
};
#undef S
const int cfg_n_settings = (int)(sizeof cfg_settings / sizeof cfg_settings[0]);

static const char *const sections[] = {"dataset", "model", "training", NULL};
static const char *const top_keys[] = {"name", "dataset", "model", "training", "seeds", "output", NULL};

void cfg_defaults(Settings *s)
{
    memset(s, 0, sizeof *s);
    s->data.source = DATA_DIGITS;
    s->data.test_fraction = 0.2;
    s->data.split_seed = 0;
    s->data.scale = SCALE_NONE;
    s->train.n_hidden = 1;
    s->train.hidden[0] = 200;
    s->train.activation = ACT_SIGMOID;
    s->train.dropout = 0.0;
    s->train.init = INIT_LECUN_NORMAL;
    s->train.epochs = 10;
    s->train.batch_size = 1;
    s->train.learning_rate = 0.01;
    s->train.optimizer = OPT_SGD;
    s->train.momentum = 0.9;
    s->train.l2 = 0.0;
    s->train.shuffle = 0;
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

/* ---- phase 1: the tree --------------------------------------------------- */

typedef enum { NODE_SCALAR, NODE_SEQ, NODE_MAP } NodeKind;

typedef struct Node Node;
struct Node {
    int kind;          /* NodeKind */
    int line, col;     /* 1-based */
    char *text;        /* scalar value */
    int plain;         /* scalar written without quotes (may be a number/bool/null) */
    int n;             /* items / entries */
    Node **items;      /* sequence items, or mapping values */
    Node **keys;       /* mapping keys (scalars) */
};

typedef struct {
    const char *file; /* for messages */
    int n_nodes;
    char *err;
} Loader;

static int errf_at(char *err, const char *file, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int errf_at(char *err, const char *file, int line, int col, const char *fmt, ...)
{
    char msg[NN_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nn_errf(err, "%s:%d:%d: %s", file, line, col, msg);
}

static void node_free(Node *n)
{
    if (!n) return;
    for (int i = 0; i < n->n; i++) {
        node_free(n->items[i]);
        if (n->keys) node_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->text);
    free(n);
}

static Node *convert(Loader *ld, yaml_document_t *doc, yaml_node_t *y, int depth)
{
    int line = (int)y->start_mark.line + 1, col = (int)y->start_mark.column + 1;
    if (depth > MAX_DEPTH) {
        errf_at(ld->err, ld->file, line, col, "nesting deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    if (++ld->n_nodes > MAX_NODES) {
        errf_at(ld->err, ld->file, line, col, "more than %d YAML nodes (after expanding aliases)", MAX_NODES);
        return NULL;
    }
    Node *n = calloc(1, sizeof *n);
    if (!n) goto oom;
    n->line = line;
    n->col = col;
    if (y->type == YAML_SCALAR_NODE) {
        n->kind = NODE_SCALAR;
        n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->text = malloc(y->data.scalar.length + 1);
        if (!n->text) goto oom;
        memcpy(n->text, y->data.scalar.value, y->data.scalar.length);
        n->text[y->data.scalar.length] = '\0';
        if (strlen(n->text) != y->data.scalar.length) {
            errf_at(ld->err, ld->file, line, col, "NUL character in a value");
            goto fail;
        }
        return n;
    }
    if (y->type == YAML_SEQUENCE_NODE) {
        n->kind = NODE_SEQ;
        yaml_node_item_t *it = y->data.sequence.items.start, *end = y->data.sequence.items.top;
        n->items = calloc((size_t)(end - it) + 1, sizeof(Node *));
        if (!n->items) goto oom;
        for (; it < end; it++) {
            Node *c = convert(ld, doc, yaml_document_get_node(doc, *it), depth + 1);
            if (!c) goto fail;
            n->items[n->n++] = c;
        }
        return n;
    }
    n->kind = NODE_MAP;
    yaml_node_pair_t *p = y->data.mapping.pairs.start, *end = y->data.mapping.pairs.top;
    n->items = calloc((size_t)(end - p) + 1, sizeof(Node *));
    n->keys = calloc((size_t)(end - p) + 1, sizeof(Node *));
    if (!n->items || !n->keys) goto oom;
    for (; p < end; p++) {
        Node *k = convert(ld, doc, yaml_document_get_node(doc, p->key), depth + 1);
        if (!k) goto fail;
        if (k->kind != NODE_SCALAR) {
            errf_at(ld->err, ld->file, k->line, k->col, "a key must be a plain name, not a list or mapping");
            node_free(k);
            goto fail;
        }
        for (int i = 0; i < n->n; i++)
            if (strcmp(n->keys[i]->text, k->text) == 0) {
                errf_at(ld->err, ld->file, k->line, k->col, "duplicate key '%s' (first at line %d)", k->text,
                        n->keys[i]->line);
                node_free(k);
                goto fail;
            }
        Node *v = convert(ld, doc, yaml_document_get_node(doc, p->value), depth + 1);
        if (!v) {
            node_free(k);
            goto fail;
        }
        n->keys[n->n] = k;
        n->items[n->n++] = v;
    }
    return n;
oom:
    errf_at(ld->err, ld->file, line, col, "out of memory");
fail:
    node_free(n);
    return NULL;
}

static Node *load_tree(const char *file, const char *text, size_t len, char *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    Node *root = NULL;
    if (!yaml_parser_initialize(&parser)) {
        nn_errf(err, "%s: cannot initialise the YAML parser", file);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *m = &parser.problem_mark;
        const yaml_mark_t *c = &parser.context_mark;
        char context[256] = "";
        if (parser.context)
            snprintf(context, sizeof context, " %s that starts at %d:%d", parser.context, (int)c->line + 1,
                     (int)c->column + 1);
        errf_at(err, file, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s%s",
                parser.problem ? parser.problem : "unknown problem", context);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        errf_at(err, file, 1, 1, "the file is empty");
    } else {
        Loader ld = {file, 0, err};
        root = convert(&ld, &doc, top, 0);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return root;
}

/* ---- phase 2: binding ---------------------------------------------------- */

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
        }
    return d[la][lb];
}

/* The closest candidate when it is plausibly a typo, else NULL. */
static const char *near_miss(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; candidates[i]; i++) {
        int d = edit_distance(word, candidates[i]);
        if (d < best_d) best_d = d, best = candidates[i];
    }
    int len = (int)strlen(word);
    return best && best_d <= (len <= 4 ? 1 : len <= 8 ? 2 : 3) ? best : NULL;
}

static void join_names(char *out, size_t cap, const char *const *names);

/* " (did you mean 'x'?)" for a near miss, else "; allowed: a, b, c". */
static void suggest(char *out, size_t cap, const char *word, const char *const *candidates)
{
    const char *near = near_miss(word, candidates);
    if (near) {
        snprintf(out, cap, " (did you mean '%s'?)", near);
        return;
    }
    char names[400];
    join_names(names, sizeof names, candidates);
    snprintf(out, cap, "; allowed: %s", names);
}

static void join_names(char *out, size_t cap, const char *const *names)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; names[i] && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", names[i]);
}

typedef struct {
    const char *file;
    char *err;
} Binder;

static const char *kind_name(const Node *n)
{
    if (n->kind == NODE_MAP) return "a mapping";
    if (n->kind == NODE_SEQ) return "a list";
    return "a value";
}

static int is_null(const Node *n)
{
    return n->kind == NODE_SCALAR && n->plain &&
           (n->text[0] == '\0' || !strcmp(n->text, "~") || !strcmp(n->text, "null") || !strcmp(n->text, "Null") ||
            !strcmp(n->text, "NULL"));
}

/* A scalar's text for a message: quoted, cut at 40 characters. */
static const char *shown(const Node *n, char *buf, size_t cap)
{
    if (n->kind != NODE_SCALAR) return kind_name(n);
    if (is_null(n)) return "nothing (null)";
    if (!n->plain)
        snprintf(buf, cap, "the quoted string \"%.40s%s\"", n->text, strlen(n->text) > 40 ? "..." : "");
    else
        snprintf(buf, cap, "'%.40s%s'", n->text, strlen(n->text) > 40 ? "..." : "");
    return buf;
}

static int type_error(Binder *b, const Node *n, const char *key, const char *expected)
{
    char tmp[80];
    return errf_at(b->err, b->file, n->line, n->col, "%s: expected %s, got %s", key, expected,
                   shown(n, tmp, sizeof tmp));
}

static int parse_number(const Node *n, double *out)
{
    if (n->kind != NODE_SCALAR || !n->plain || n->text[0] == '\0') return -1;
    char *end;
    errno = 0;
    double v = strtod(n->text, &end);
    if (*end != '\0' || end == n->text) return -1;
    if (!isfinite(v) || errno == ERANGE) return -2;
    *out = v;
    return 0;
}

/* Check v against def's range; key names the setting in the message. */
static int check_range(Binder *b, const Node *n, const char *key, const SettingDef *def, double v,
                       const char *shown_value)
{
    int low = def->lo_open ? !(v > def->lo) : !(v >= def->lo);
    int high = def->hi_open ? !(v < def->hi) : !(v <= def->hi);
    if (low)
        return errf_at(b->err, b->file, n->line, n->col, "%s must be %s %.10g, got %s", key,
                       def->lo_open ? ">" : ">=", def->lo, shown_value);
    if (high)
        return errf_at(b->err, b->file, n->line, n->col, "%s must be %s %.10g, got %s", key,
                       def->hi_open ? "<" : "<=", def->hi, shown_value);
    return 0;
}

static int bind_number(Binder *b, const Node *n, const char *key, const SettingDef *def, int integer,
                       double *out)
{
    double v;
    int rc = parse_number(n, &v);
    if (rc == -2)
        return errf_at(b->err, b->file, n->line, n->col, "%s: %s is not a finite number", key, n->text);
    if (rc) return type_error(b, n, key, integer ? "an integer" : "a number");
    if (integer && v != floor(v)) return type_error(b, n, key, "an integer");
    if (check_range(b, n, key, def, v, n->text)) return -1;
    *out = v;
    return 0;
}

static int bind_enum(Binder *b, const Node *n, const char *key, const char *const *names, int *out)
{
    if (n->kind != NODE_SCALAR || is_null(n)) {
        char allowed[256];
        join_names(allowed, sizeof allowed, names);
        char expected[300];
        snprintf(expected, sizeof expected, "one of %s", allowed);
        return type_error(b, n, key, expected);
    }
    for (int i = 0; names[i]; i++)
        if (!strcmp(n->text, names[i])) {
            *out = i;
            return 0;
        }
    char hint[512];
    suggest(hint, sizeof hint, n->text, names);
    if (near_miss(n->text, names)) {
        char allowed[400];
        join_names(allowed, sizeof allowed, names);
        snprintf(hint + strlen(hint), sizeof hint - strlen(hint), "; allowed: %s", allowed);
    }
    return errf_at(b->err, b->file, n->line, n->col, "%s: unknown value '%.40s'%s", key, n->text, hint);
}

static int bind_int_list(Binder *b, const Node *n, const char *key, const SettingDef *def, Settings *s)
{
    TrainConfig *t = &s->train;
    if (n->kind != NODE_SEQ) return type_error(b, n, key, "a list of layer sizes such as [200, 100]");
    if (n->n == 0)
        return errf_at(b->err, b->file, n->line, n->col, "%s: the list is empty; give at least one layer size",
                       key);
    if (n->n > MLP_MAX_HIDDEN)
        return errf_at(b->err, b->file, n->line, n->col, "%s: %d layers; at most %d are supported", key, n->n,
                       MLP_MAX_HIDDEN);
    for (int i = 0; i < n->n; i++) {
        double v;
        if (bind_number(b, n->items[i], key, def, 1, &v)) return -1;
        t->hidden[i] = (int)v;
    }
    t->n_hidden = n->n;
    return 0;
}

static int bind_setting(Binder *b, const Node *n, const SettingDef *def, Settings *s)
{
    char *field = (char *)s + def->offset;
    double v;
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
        if (n->kind != NODE_SCALAR || !n->plain) return type_error(b, n, def->key, "true or false");
        if (!strcmp(n->text, "true") || !strcmp(n->text, "True") || !strcmp(n->text, "TRUE"))
            *(int *)field = 1;
        else if (!strcmp(n->text, "false") || !strcmp(n->text, "False") || !strcmp(n->text, "FALSE"))
            *(int *)field = 0;
        else
            return type_error(b, n, def->key, "true or false");
        return 0;
    case SET_ENUM: return bind_enum(b, n, def->key, def->names, (int *)field);
    case SET_INT_LIST: return bind_int_list(b, n, def->key, def, s);
    }
    return -1;
}

static const SettingDef *find_setting(const char *key)
{
    for (int i = 0; i < cfg_n_settings; i++)
        if (!strcmp(cfg_settings[i].key, key)) return &cfg_settings[i];
    return NULL;
}

/* The keys of one section ("model" -> "hidden", "activation", ...), for hints. */
static void section_keys(const char *section, const char **out, int cap)
{
    int n = 0;
    size_t len = strlen(section);
    for (int i = 0; i < cfg_n_settings && n < cap - 1; i++)
        if (!strncmp(cfg_settings[i].key, section, len) && cfg_settings[i].key[len] == '.')
            out[n++] = cfg_settings[i].key + len + 1;
    out[n] = NULL;
}

static int bind_section(Binder *b, const char *section, const Node *n, Settings *s)
{
    if (n->kind != NODE_MAP) return type_error(b, n, section, "a mapping of settings");
    for (int i = 0; i < n->n; i++) {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", section, n->keys[i]->text);
        const SettingDef *def = find_setting(key);
        if (!def) {
            const char *names[64];
            char hint[512];
            section_keys(section, names, 64);
            suggest(hint, sizeof hint, n->keys[i]->text, names);
            return errf_at(b->err, b->file, n->keys[i]->line, n->keys[i]->col, "unknown key '%.40s' in %s%s",
                           n->keys[i]->text, section, hint);
        }
        if (bind_setting(b, n->items[i], def, s)) return -1;
    }
    return 0;
}

static int bind_string(Binder *b, const Node *n, const char *key, char **out)
{
    if (n->kind != NODE_SCALAR || is_null(n) || n->text[0] == '\0') return type_error(b, n, key, "a string");
    free(*out);
    *out = nn_strdup(n->text);
    return *out ? 0 : nn_errf(b->err, "out of memory");
}

static const SettingDef seed_def = {"seeds", SET_I64, 0, NULL, 0, 9007199254740992.0, 0, 0};
static const SettingDef count_def = {"seeds.count", SET_INT, 0, NULL, 1, MAX_SEEDS, 0, 0};

static int bind_seeds(Binder *b, const Node *n, Experiment *ex)
{
    double v;
    if (n->kind == NODE_SEQ) {
        if (n->n == 0) return errf_at(b->err, b->file, n->line, n->col, "seeds: the list is empty");
        if (n->n > MAX_SEEDS)
            return errf_at(b->err, b->file, n->line, n->col, "seeds: more than %d seeds", MAX_SEEDS);
        ex->seeds = nn_alloc((size_t)n->n, sizeof(int64_t));
        if (!ex->seeds) return nn_errf(b->err, "out of memory");
        for (int i = 0; i < n->n; i++) {
            if (bind_number(b, n->items[i], "seeds", &seed_def, 1, &v)) return -1;
            ex->seeds[i] = (int64_t)v;
            for (int j = 0; j < i; j++)
                if (ex->seeds[j] == ex->seeds[i])
                    return errf_at(b->err, b->file, n->items[i]->line, n->items[i]->col,
                                   "seeds: seed %s is listed twice", n->items[i]->text);
        }
        ex->n_seeds = n->n;
        return 0;
    }
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
            char hint[512];
            suggest(hint, sizeof hint, k, keys);
            return errf_at(b->err, b->file, n->keys[i]->line, n->keys[i]->col, "unknown key '%.40s' in seeds%s",
                           k, hint);
        }
    }
    if ((double)start + count - 1 > seed_def.hi)
        return errf_at(b->err, b->file, n->line, n->col, "seeds: start + count exceeds %.0f", seed_def.hi);
    ex->seeds = nn_alloc((size_t)count, sizeof(int64_t));
    if (!ex->seeds) return nn_errf(b->err, "out of memory");
    for (int i = 0; i < count; i++) ex->seeds[i] = start + i;
    ex->n_seeds = count;
    return 0;
}

static int bind_experiment(Binder *b, const Node *root, Experiment *ex)
{
    if (root->kind != NODE_MAP)
        return errf_at(b->err, b->file, root->line, root->col,
                       "an experiment is a mapping with keys name, dataset, model, training, seeds, output; "
                       "got %s",
                       kind_name(root));
    for (int i = 0; i < root->n; i++) {
        const char *k = root->keys[i]->text;
        const Node *v = root->items[i];
        int rc;
        if (!strcmp(k, "name"))
            rc = bind_string(b, v, "name", &ex->name);
        else if (!strcmp(k, "output"))
            rc = bind_string(b, v, "output", &ex->output);
        else if (!strcmp(k, "seeds"))
            rc = bind_seeds(b, v, ex);
        else if (!strcmp(k, "dataset") || !strcmp(k, "model") || !strcmp(k, "training"))
            rc = bind_section(b, k, v, &ex->settings);
        else {
            char hint[512];
            suggest(hint, sizeof hint, k, top_keys);
            rc = errf_at(b->err, b->file, root->keys[i]->line, root->keys[i]->col, "unknown key '%.40s'%s", k,
                         hint);
        }
        if (rc) return -1;
    }
    return 0;
}

/* ---- the resolved experiment ------------------------------------------- */

/* Shortest %g form that reads back as the same double. */
static void format_double(char *buf, size_t cap, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
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
    case SET_INT_LIST: {
        size_t len = (size_t)snprintf(buf, cap, "[");
        for (int i = 0; i < s->train.n_hidden && len < cap; i++)
            len += (size_t)snprintf(buf + len, cap - len, "%s%d", i ? ", " : "", s->train.hidden[i]);
        if (len < cap) snprintf(buf + len, cap - len, "]");
        break;
    }
    }
}

/* The part of the resolved text that determines results: settings and seeds. */
static void emit_body(Buf *b, const Experiment *ex)
{
    for (int sec = 0; sections[sec]; sec++) {
        buf_printf(b, "%s:\n", sections[sec]);
        size_t len = strlen(sections[sec]);
        for (int i = 0; i < cfg_n_settings; i++) {
            const SettingDef *def = &cfg_settings[i];
            if (strncmp(def->key, sections[sec], len) || def->key[len] != '.') continue;
            char value[512];
            cfg_format_value(value, sizeof value, def, &ex->settings);
            buf_printf(b, "  %s: %s\n", def->key + len + 1, value);
        }
    }
    buf_printf(b, "seeds: [");
    for (int i = 0; i < ex->n_seeds; i++) buf_printf(b, "%s%lld", i ? ", " : "", (long long)ex->seeds[i]);
    buf_printf(b, "]\n");
}

/* A YAML double-quoted string. */
static void emit_string(Buf *b, const char *s)
{
    buf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            buf_printf(b, "\\x%02x", c);
        else
            buf_printf(b, "%c", c);
    }
    buf_printf(b, "\"");
}

static int resolve(Experiment *ex, char *err)
{
    Buf body = {0}, all = {0};
    emit_body(&body, ex);
    buf_printf(&all, "# nnlab %s: resolved experiment (every default filled in)\nname: ", NNLAB_VERSION);
    emit_string(&all, ex->name);
    buf_printf(&all, "\n%s", body.s ? body.s : "");
    buf_printf(&all, "output: ");
    emit_string(&all, ex->output);
    buf_printf(&all, "\n");
    int oom = body.oom || all.oom;
    if (!oom) snprintf(ex->fingerprint, sizeof ex->fingerprint, "%016llx",
                       (unsigned long long)nn_fnv1a(body.s, body.len));
    free(body.s);
    if (oom) {
        free(all.s);
        return nn_errf(err, "out of memory");
    }
    free(ex->resolved);
    ex->resolved = all.s;
    return 0;
}

/* ---- entry points ---------------------------------------------------------- */

void cfg_free(Experiment *ex)
{
    if (!ex) return;
    free(ex->file);
    free(ex->name);
    free(ex->seeds);
    free(ex->output);
    free(ex->resolved);
    free(ex);
}

/* "dir/things-to-try.yaml" -> "things-to-try" */
static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *start = slash ? slash + 1 : path;
    char *name = nn_strdup(start);
    if (!name) return NULL;
    char *dot = strrchr(name, '.');
    if (dot && dot != name) *dot = '\0';
    return name;
}

int cfg_load_text(Experiment **out, const char *file, const char *text, size_t len, char *err)
{
    *out = NULL;
    Experiment *ex = calloc(1, sizeof *ex);
    if (!ex) return nn_errf(err, "out of memory");
    cfg_defaults(&ex->settings);
    ex->file = nn_strdup(file);
    Node *root = load_tree(file, text, len, err);
    Binder b = {file, err};
    if (!root || bind_experiment(&b, root, ex)) goto fail;
    if (!ex->name && !(ex->name = base_name(file))) goto oom;
    if (!ex->seeds) {
        ex->seeds = nn_alloc(1, sizeof(int64_t));
        if (!ex->seeds) goto oom;
        ex->seeds[0] = 1;
        ex->n_seeds = 1;
    }
    if (!ex->output) {
        size_t n = strlen(ex->name) + 16;
        ex->output = malloc(n);
        if (!ex->output) goto oom;
        snprintf(ex->output, n, "results/%s", ex->name);
    }
    if (resolve(ex, err)) goto fail;
    node_free(root);
    *out = ex;
    return 0;
oom:
    nn_errf(err, "%s: out of memory", file);
fail:
    node_free(root);
    cfg_free(ex);
    return -1;
}

int cfg_load(Experiment **out, const char *path, char *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_errf(err, "%s: cannot open: %s", path, strerror(errno));
    char *text = malloc(MAX_FILE_BYTES + 1);
    size_t len = text ? fread(text, 1, MAX_FILE_BYTES + 1, f) : 0;
    int read_error = ferror(f);
    fclose(f);
    if (!text) return nn_errf(err, "%s: out of memory", path);
    if (read_error) {
        free(text);
        return nn_errf(err, "%s: read error", path);
    }
    if (len > MAX_FILE_BYTES) {
        free(text);
        return nn_errf(err, "%s:1:1: the file is larger than %d MiB; an experiment file is small", path,
                       MAX_FILE_BYTES >> 20);
    }
    int rc = cfg_load_text(out, path, text, len, err);
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
