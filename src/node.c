/* node.c — YAML documents as position-carrying trees (see node.h). */
#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "nnlab.h"

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

/* ---- loading: libyaml's event parser, one event at a time ---------------- *
 * Events rather than yaml_parser_load: the depth and size limits then stop a
 * hostile file as soon as they are crossed (libyaml's own loader parses the
 * whole document first, and its scanner is quadratic in the nesting depth),
 * and aliases are expanded here, where the node budget sees every copy. */

typedef struct {
    char *name;
    Node *node;
} Anchor;

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
    int n_anchors;
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
    Anchor *a = realloc(b->anchors, (size_t)(b->n_anchors + 1) * sizeof *a);
    if (!a) return -1;
    b->anchors = a;
    a[b->n_anchors].name = nn_strdup(name);
    a[b->n_anchors].node = n;
    if (!a[b->n_anchors].name) return -1;
    b->n_anchors++;
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
        if (e->data.scalar.anchor && remember_anchor(b, (const char *)e->data.scalar.anchor, n)) {
            node_free(n);
            return node_errf(b->err, &pos, "out of memory");
        }
        return attach(b, n);
    }
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)e->data.alias.anchor;
        for (int i = b->n_anchors - 1; i >= 0; i--)
            if (!strcmp(b->anchors[i].name, name)) {
                Node *c = copy_tree(b, b->anchors[i].node, &pos);
                return c ? attach(b, c) : -1;
            }
        return node_errf(b->err, &pos, "alias *%.60s names no finished anchor", name);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (b->depth >= NODE_MAX_DEPTH) return node_errf(b->err, &pos, "nesting deeper than %d levels", NODE_MAX_DEPTH);
        if (++b->n_nodes > NODE_MAX_NODES)
            return node_errf(b->err, &pos, "more than %d YAML nodes (after expanding aliases)", NODE_MAX_NODES);
        int seq = e->type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t *anchor = seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor;
        Node *n = node_new(seq ? NODE_SEQ : NODE_MAP, b->file, pos.line, pos.col, NULL, 0);
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
    for (int i = 0; i < b->n_anchors; i++) free(b->anchors[i].name);
    free(b->anchors);
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
