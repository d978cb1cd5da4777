/* node.c — YAML documents as position-carrying trees (see node.h). */
#include "node.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "nnlab.h"

const char *const node_tag_names[] = {"", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map"};

int node_errf(char *err, const Node *n, const char *fmt, ...)
{
    char msg[NN_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nn_errf(err, "%s:%d:%d: %s", n->file, n->line, n->col, msg);
}

void node_free(Node *n)
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

Node *node_new(int kind, const char *file, int line, int col, const char *text, int plain)
{
    Node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->file = file;
    n->line = line;
    n->col = col;
    n->plain = plain;
    if (text && !(n->text = nn_strdup(text))) {
        free(n);
        return NULL;
    }
    return n;
}

int node_append(Node *parent, Node *key, Node *value)
{
    if (parent->n == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 4;
        Node **items = realloc(parent->items, (size_t)cap * sizeof *items);
        if (!items) return -1;
        parent->items = items;
        if (parent->kind == NODE_MAP) {
            Node **keys = realloc(parent->keys, (size_t)cap * sizeof *keys);
            if (!keys) return -1;
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    if (parent->kind == NODE_MAP) parent->keys[parent->n] = key;
    parent->items[parent->n++] = value;
    return 0;
}

static int index_of(const Node *map, const char *key)
{
    if (!map || map->kind != NODE_MAP) return -1;
    for (int i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->text, key)) return i;
    return -1;
}

Node *node_get(const Node *map, const char *key)
{
    int i = index_of(map, key);
    return i < 0 ? NULL : map->items[i];
}

int node_put(Node *map, Node *key, Node *value)
{
    int i = index_of(map, key->text);
    if (i < 0) return node_append(map, key, value);
    node_free(map->items[i]);
    map->items[i] = value;
    node_free(key);
    return 0;
}

void node_remove(Node *map, const char *key)
{
    int i = index_of(map, key);
    if (i < 0) return;
    node_free(map->keys[i]);
    node_free(map->items[i]);
    memmove(map->keys + i, map->keys + i + 1, (size_t)(map->n - i - 1) * sizeof(Node *));
    memmove(map->items + i, map->items + i + 1, (size_t)(map->n - i - 1) * sizeof(Node *));
    map->n--;
}

Node *node_merge(Node *base, Node *child)
{
    if (!base) return child;
    if (!child) return base;
    if (base->kind != NODE_MAP || child->kind != NODE_MAP) {
        node_free(base);
        return child;
    }
    for (int i = 0; i < child->n; i++) {
        int j = index_of(base, child->keys[i]->text);
        if (j < 0) {
            if (node_append(base, child->keys[i], child->items[i])) goto oom;
        } else {
            base->items[j] = node_merge(base->items[j], child->items[i]);
            node_free(child->keys[i]);
        }
        child->keys[i] = child->items[i] = NULL;
    }
    child->n = 0;
    node_free(child);
    return base;
oom:
    node_free(child);
    node_free(base);
    return NULL;
}


int node_is_null(const Node *n)
{
    return n->kind == NODE_SCALAR && n->plain &&
           (n->text[0] == '\0' || !strcmp(n->text, "~") || !strcmp(n->text, "null") || !strcmp(n->text, "Null") ||
            !strcmp(n->text, "NULL"));
}

static int is_bool(const char *s)
{
    return !strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
           !strcmp(s, "False") || !strcmp(s, "FALSE");
}

static int digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the decimal number that starts s (0 if none); *integer is
 * whether it is digits alone (with a sign). */
static size_t decimal_length(const char *s, int *integer)
{
    size_t i = 0, digits = 0;
    *integer = 1;
    if (s[i] == '+' || s[i] == '-') i++;
    for (; digit(s[i]); i++) digits++;
    if (s[i] == '.') {
        *integer = 0;
        for (i++; digit(s[i]); i++) digits++;
    }
    if (!digits) return 0;
    size_t e = i + 1;
    if ((s[i] == 'e' || s[i] == 'E') && (s[e] == '+' || s[e] == '-')) e++;
    if ((s[i] == 'e' || s[i] == 'E') && digit(s[e])) {
        *integer = 0;
        for (i = e; digit(s[i]); i++) {}
    }
    return i;
}

/* s as a number (node_number), and whether it is written as an integer. */
static NodeNumber number_form(const char *s, double *out, int *integer)
{
    char *end;
    size_t len = decimal_length(s, integer);
    const char *unsigned_s = s + (s[0] == '+' || s[0] == '-');
    double v = strtod(s, &end); /* correctly rounded; an underflow gives 0 or a denormal, and ERANGE */
    if (len && !s[len]) {
        *out = v;
        if (!isfinite(v)) return NODE_NOT_FINITE;
        return *integer && unsigned_s[0] == '0' && unsigned_s[1] ? NODE_LEADING_ZERO : NODE_NUMBER;
    }
    *integer = 0;
    if (end != s && !*end && !isfinite(v)) return NODE_NOT_FINITE; /* inf, infinity, nan, nan(...), 0x1p9999 */
    if (end != s && !*end && unsigned_s[0] == '0' && (unsigned_s[1] == 'x' || unsigned_s[1] == 'X')) {
        *out = v;
        return NODE_NOT_DECIMAL;
    }
    static const char *const yaml_special[] = {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL};
    for (int i = 0; yaml_special[i]; i++)
        if (!strcmp(unsigned_s, yaml_special[i])) return NODE_NOT_FINITE;
    return NODE_NOT_NUMBER;
}

NodeNumber node_number(const Node *n, double *out)
{
    int integer;
    if (n->kind != NODE_SCALAR || !n->plain || !n->text[0] || n->tag == NODE_TAG_STR || n->tag == NODE_TAG_BOOL ||
        n->tag == NODE_TAG_NULL)
        return NODE_NOT_NUMBER;
    return number_form(n->text, out, &integer);
}

/* ---- loading: libyaml's event parser, one event at a time ---------------- *
 * Events rather than yaml_parser_load: the depth and size limits then stop a
 * hostile file as soon as they are crossed (libyaml's own loader parses the
 * whole document first, and its scanner is quadratic in the nesting depth),
 * and aliases are expanded here, where the node budget sees every copy. */

/* Anchors by name, as an AVL tree: O(log n) name comparisons for each
 * anchor and alias, whatever the names (a hash table's worst case is a
 * crafted file of colliding names). A name anchored again points to its
 * latest node, as YAML's aliases refer to the latest anchor of their name. */
typedef struct Anchor Anchor;
struct Anchor {
    Anchor *left, *right;
    int height;
    Node *node; /* in the tree being built */
    char name[];
};

static int height(const Anchor *a)
{
    return a ? a->height : 0;
}

static void update_height(Anchor *a)
{
    int l = height(a->left), r = height(a->right);
    a->height = (l > r ? l : r) + 1;
}

static Anchor *rotate_right(Anchor *a)
{
    Anchor *l = a->left;
    a->left = l->right;
    l->right = a;
    update_height(a);
    update_height(l);
    return l;
}

static Anchor *rotate_left(Anchor *a)
{
    Anchor *r = a->right;
    a->right = r->left;
    r->left = a;
    update_height(a);
    update_height(r);
    return r;
}

static Anchor *rebalance(Anchor *a)
{
    update_height(a);
    int lean = height(a->left) - height(a->right);
    if (lean > 1) {
        if (height(a->left->left) < height(a->left->right)) a->left = rotate_left(a->left);
        return rotate_right(a);
    }
    if (lean < -1) {
        if (height(a->right->right) < height(a->right->left)) a->right = rotate_right(a->right);
        return rotate_left(a);
    }
    return a;
}

/* The tree with entry a added, or with a's node under a's name (a freed). */
static Anchor *anchor_put(Anchor *root, Anchor *a)
{
    if (!root) return a;
    int c = strcmp(a->name, root->name);
    if (c == 0) {
        root->node = a->node;
        free(a);
        return root;
    }
    if (c < 0) root->left = anchor_put(root->left, a);
    else root->right = anchor_put(root->right, a);
    return rebalance(root);
}

static Node *anchor_get(const Anchor *root, const char *name)
{
    while (root) {
        int c = strcmp(name, root->name);
        if (c == 0) return root->node;
        root = c < 0 ? root->left : root->right;
    }
    return NULL;
}

static void anchors_free(Anchor *root)
{
    if (!root) return;
    anchors_free(root->left);
    anchors_free(root->right);
    free(root);
}

typedef struct {
    const char *file;
    int col0, end_col; /* node_load_line: columns shifted by col0; end_col is just past the text */
    char *err;
    int n_nodes;
    Node *stack[NODE_MAX_DEPTH + 2]; /* open collections */
    Node *key[NODE_MAX_DEPTH + 2];   /* a mapping's key waiting for its value */
    char *anchor[NODE_MAX_DEPTH + 2];/* the anchor of each open collection */
    int depth;
    Anchor *anchors;
    Node *root;
} Builder;

static Node *copy_tree(Builder *b, const Node *n, const Node *at)
{
    if (++b->n_nodes > NODE_MAX_NODES) {
        node_errf(b->err, at, "more than %d YAML nodes (after expanding aliases)", NODE_MAX_NODES);
        return NULL;
    }
    Node *c = node_new(n->kind, n->file, n->line, n->col, n->text, n->plain);
    if (!c) return NULL;
    c->tag = n->tag;
    for (int i = 0; i < n->n; i++) {
        Node *k = n->keys ? copy_tree(b, n->keys[i], at) : NULL;
        Node *v = (!n->keys || k) ? copy_tree(b, n->items[i], at) : NULL;
        if (!v || node_append(c, k, v)) {
            node_free(k);
            node_free(v);
            node_free(c);
            return NULL;
        }
    }
    return c;
}

static int remember_anchor(Builder *b, const char *name, Node *n)
{
    size_t len = strlen(name);
    Anchor *a = malloc(sizeof *a + len + 1);
    if (!a) return -1;
    *a = (Anchor){.height = 1, .node = n};
    memcpy(a->name, name, len + 1);
    b->anchors = anchor_put(b->anchors, a);
    return 0;
}

/* ---- tags: the core schema's, each on a node it describes ---------------- */

#define CORE_TAG "tag:yaml.org,2002:"

/* A tag for a message: !!int for the core schema's, !foo for a local one,
 * else verbatim (!<!!int>, !<tag:example.com,2000:x>). */
static void tag_text(char *out, size_t cap, const char *tag)
{
    if (!strncmp(tag, CORE_TAG, strlen(CORE_TAG))) snprintf(out, cap, "!!%.60s", tag + strlen(CORE_TAG));
    else if (tag[0] == '!' && tag[1] != '!') snprintf(out, cap, "%.60s", tag);
    else snprintf(out, cap, "!<%.60s>", tag);
}

static const char *kind_text(int kind)
{
    return kind == NODE_MAP ? "a mapping" : kind == NODE_SEQ ? "a list" : "a single value";
}

/* Where the node being read goes, for a message: "training.epochs: ",
 * "model.hidden[1]: "; "" at the top and for a mapping's key. */
static void path_of(const Builder *b, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int d = 0; d < b->depth && len < cap; d++) {
        const Node *parent = b->stack[d];
        if (parent->kind == NODE_SEQ)
            len += (size_t)snprintf(out + len, cap - len, "[%d]", parent->n);
        else if (b->key[d])
            len += (size_t)snprintf(out + len, cap - len, "%s%.60s", len ? "." : "", b->key[d]->text);
        else { /* a key */
            out[0] = '\0';
            return;
        }
    }
    if (out[0] && len + 2 < cap) snprintf(out + len, cap - len, ": ");
}

/* Set n->tag from libyaml's tag (NULL: none), or refuse it: a tag outside
 * the core schema, on a node of another kind, or on a value that is not
 * what it says. A tagged value's plain says what it is: a !!str value is a
 * string, the other tags' values are read as they say even when quoted. */
static int set_tag(Builder *b, Node *n, const char *tag)
{
    if (!tag) return 0;
    char shown[80], at[256];
    tag_text(shown, sizeof shown, tag);
    path_of(b, at, sizeof at);
    int t = -1;
    size_t core = strlen(CORE_TAG);
    if (!strcmp(tag, "!")) /* the non-specific tag: a string, list or mapping as written */
        t = n->kind == NODE_SCALAR ? NODE_TAG_STR : n->kind == NODE_SEQ ? NODE_TAG_SEQ : NODE_TAG_MAP;
    for (int i = NODE_TAG_STR; i <= NODE_TAG_MAP && t < 0; i++)
        if (!strncmp(tag, CORE_TAG, core) && !strcmp(tag + core, node_tag_names[i] + 2)) t = i;
    if (t < 0)
        return node_errf(b->err, n, "%stag %s: nnlab reads only the YAML core schema's tags !!str, !!int, !!float, "
                         "!!bool, !!null, !!seq and !!map", at, shown);
    int kind = t == NODE_TAG_SEQ ? NODE_SEQ : t == NODE_TAG_MAP ? NODE_MAP : NODE_SCALAR;
    if (kind != n->kind) return node_errf(b->err, n, "%stagged %s, but this is %s", at, shown, kind_text(n->kind));
    n->tag = t;
    if (n->kind != NODE_SCALAR) return 0;
    n->plain = t != NODE_TAG_STR;
    double v;
    int integer;
    NodeNumber number = number_form(n->text, &v, &integer);
    if (t == NODE_TAG_NULL && !node_is_null(n))
        return node_errf(b->err, n, "%stagged !!null, but '%.40s' is not null", at, n->text);
    if (t == NODE_TAG_BOOL && !is_bool(n->text))
        return node_errf(b->err, n, "%stagged !!bool, but '%.40s' is not true or false", at, n->text);
    if (t == NODE_TAG_INT && (number == NODE_NOT_NUMBER || number == NODE_NOT_FINITE || !integer) &&
        !(number == NODE_NOT_DECIMAL && !strpbrk(n->text, ".pP")))
        return node_errf(b->err, n, "%stagged !!int, but '%.40s' is not an integer", at, n->text);
    if (t == NODE_TAG_FLOAT && number == NODE_NOT_NUMBER)
        return node_errf(b->err, n, "%stagged !!float, but '%.40s' is not a number", at, n->text);
    return 0;
}

/* Attach a finished node to its parent (or make it the root). */
static int attach(Builder *b, Node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return 0;
    }
    Node *parent = b->stack[b->depth - 1];
    if (parent->kind == NODE_SEQ) {
        if (node_append(parent, NULL, n)) goto oom;
        return 0;
    }
    if (!b->key[b->depth - 1]) { /* n is a key */
        if (n->kind != NODE_SCALAR) {
            node_errf(b->err, n, "a key must be a plain name, not a list or mapping");
            node_free(n);
            return -1;
        }
        if (n->tag != NODE_TAG_NONE && n->tag != NODE_TAG_STR) {
            node_errf(b->err, n, "a key is a name, not a value tagged %s", node_tag_names[n->tag]);
            node_free(n);
            return -1;
        }
        b->key[b->depth - 1] = n; /* duplicates are found when the mapping closes */
        return 0;
    }
    if (node_append(parent, b->key[b->depth - 1], n)) goto oom;
    b->key[b->depth - 1] = NULL;
    return 0;
oom:
    node_errf(b->err, n, "out of memory");
    node_free(n);
    return -1;
}

static int compare_keys(const void *a, const void *b)
{
    const Node *x = *(Node *const *)a, *y = *(Node *const *)b;
    int c = strcmp(x->text, y->text);
    if (c) return c;
    return x->line != y->line ? (x->line > y->line) - (x->line < y->line) : (x->col > y->col) - (x->col < y->col);
}

static int before(const Node *a, const Node *b)
{
    return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* A key written twice: an error at the earliest second appearance of any
 * key. Sorted rather than pairwise, as a hostile mapping may have 100,000
 * keys. */
static int check_duplicates(const Node *map, char *err)
{
    if (map->n < 2) return 0;
    Node **keys = malloc((size_t)map->n * sizeof *keys);
    if (!keys) return node_errf(err, map, "out of memory");
    memcpy(keys, map->keys, (size_t)map->n * sizeof *keys);
    qsort(keys, (size_t)map->n, sizeof *keys, compare_keys); /* by text, then position */
    const Node *first = NULL, *second = NULL;
    for (int i = 1; i < map->n; i++) {
        int starts_group = i == 1 || strcmp(keys[i - 1]->text, keys[i - 2]->text);
        if (starts_group && !strcmp(keys[i]->text, keys[i - 1]->text) && (!second || before(keys[i], second)))
            first = keys[i - 1], second = keys[i];
    }
    free(keys);
    if (!second) return 0;
    return node_errf(err, second, "duplicate key '%.60s' (first at line %d)", second->text, first->line);
}

/* Where a libyaml mark is in the file. In one line (node_load_line),
 * libyaml's end of input is on line 2: just past the text. */
static Node mark_pos(const Builder *b, const yaml_mark_t *m)
{
    if (b->end_col && m->line > 0) return (Node){.file = b->file, .line = 1, .col = b->end_col};
    return (Node){.file = b->file, .line = (int)m->line + 1, .col = b->col0 + (int)m->column + 1};
}

/* One event; 1 when the document is complete, -1 on error. */
static int on_event(Builder *b, const yaml_event_t *e)
{
    Node pos = mark_pos(b, &e->start_mark);
    switch (e->type) {
    case YAML_SCALAR_EVENT: {
        if (++b->n_nodes > NODE_MAX_NODES)
            return node_errf(b->err, &pos, "more than %d YAML nodes (after expanding aliases)", NODE_MAX_NODES);
        const char *text = (const char *)e->data.scalar.value;
        if (strlen(text) != e->data.scalar.length) return node_errf(b->err, &pos, "NUL character in a value");
        Node *n = node_new(NODE_SCALAR, b->file, pos.line, pos.col, text,
                           e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
        if (!n) return node_errf(b->err, &pos, "out of memory");
        if (set_tag(b, n, (const char *)e->data.scalar.tag)) {
            node_free(n);
            return -1;
        }
        if (e->data.scalar.anchor && remember_anchor(b, (const char *)e->data.scalar.anchor, n)) {
            node_free(n);
            return node_errf(b->err, &pos, "out of memory");
        }
        return attach(b, n);
    }
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)e->data.alias.anchor;
        const Node *anchored = anchor_get(b->anchors, name);
        if (!anchored) return node_errf(b->err, &pos, "alias *%.60s names no finished anchor", name);
        Node *c = copy_tree(b, anchored, &pos);
        return c ? attach(b, c) : -1;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (b->depth >= NODE_MAX_DEPTH) return node_errf(b->err, &pos, "nesting deeper than %d levels", NODE_MAX_DEPTH);
        if (++b->n_nodes > NODE_MAX_NODES)
            return node_errf(b->err, &pos, "more than %d YAML nodes (after expanding aliases)", NODE_MAX_NODES);
        int seq = e->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t *anchor = seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor;
        const yaml_char_t *tag = seq ? e->data.sequence_start.tag : e->data.mapping_start.tag;
        Node *n = node_new(seq ? NODE_SEQ : NODE_MAP, b->file, pos.line, pos.col, NULL, 0);
        if (n && set_tag(b, n, (const char *)tag)) {
            node_free(n);
            return -1;
        }
        char *a = anchor ? nn_strdup((const char *)anchor) : NULL;
        if (!n || (anchor && !a)) {
            node_free(n);
            free(a);
            return node_errf(b->err, &pos, "out of memory");
        }
        b->stack[b->depth] = n;
        b->key[b->depth] = NULL;
        b->anchor[b->depth++] = a;
        return 0;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        Node *n = b->stack[b->depth - 1];
        if (n->kind == NODE_MAP && check_duplicates(n, b->err)) return -1;
        b->depth--;
        char *a = b->anchor[b->depth];
        b->anchor[b->depth] = NULL;
        int rc = a ? remember_anchor(b, a, n) : 0;
        free(a);
        if (rc) {
            node_free(n);
            return node_errf(b->err, &pos, "out of memory");
        }
        return attach(b, n);
    }
    case YAML_DOCUMENT_END_EVENT: return 1;
    default: return 0;
    }
}

static void builder_free(Builder *b)
{
    for (int d = b->depth - 1; d >= 0; d--) {
        node_free(b->key[d]);
        node_free(b->stack[d]);
        free(b->anchor[d]);
    }
    anchors_free(b->anchors);
}

static int syntax_error(yaml_parser_t *parser, const Builder *b)
{
    Node pos = mark_pos(b, &parser->problem_mark), c = mark_pos(b, &parser->context_mark);
    char context[256] = "";
    if (parser->context) snprintf(context, sizeof context, " %s that starts at %d:%d", parser->context, c.line, c.col);
    return node_errf(b->err, &pos, "YAML syntax error: %s%s", parser->problem ? parser->problem : "unknown problem",
                     context);
}

static Node *load(const char *file, const char *text, size_t len, int col0, int one_line, char *err)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        nn_errf(err, "%s: cannot initialise the YAML parser", file);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    Builder b;
    memset(&b, 0, sizeof b);
    b.file = file;
    b.col0 = col0;
    b.end_col = one_line ? col0 + (int)len + 1 : 0;
    b.err = err;
    int rc = 0, documents = 0;
    while (rc == 0) {
        yaml_event_t e;
        if (!yaml_parser_parse(&parser, &e)) {
            rc = syntax_error(&parser, &b);
            break;
        }
        if (e.type == YAML_DOCUMENT_START_EVENT && documents++) {
            Node pos = mark_pos(&b, &e.start_mark);
            rc = node_errf(err, &pos, "a second YAML document; an experiment file holds one");
        } else if (e.type == YAML_STREAM_END_EVENT) {
            rc = 2;
        } else {
            int r = on_event(&b, &e);
            rc = r < 0 ? -1 : 0;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&parser);
    builder_free(&b);
    if (rc < 0) {
        node_free(b.root);
        return NULL;
    }
    if (!b.root) {
        Node pos = {.file = file, .line = 1, .col = col0 + 1};
        node_errf(err, &pos, one_line ? "no value" : "the file is empty");
    }
    return b.root;
}

Node *node_load(const char *file, const char *text, size_t len, char *err)
{
    return load(file, text, len, 0, 0, err);
}

Node *node_load_line(const char *file, const char *text, size_t len, int col0, char *err)
{
    return load(file, text, len, col0, 1, err);
}
