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

void node_shift(Node *n, int dcol)
{
    if (!n) return;
    if (n->line == 1) n->col += dcol;
    for (int i = 0; i < n->n; i++) {
        node_shift(n->items[i], dcol);
        if (n->keys) node_shift(n->keys[i], dcol);
    }
}

int node_is_null(const Node *n)
{
    return n->kind == NODE_SCALAR && n->plain &&
           (n->text[0] == '\0' || !strcmp(n->text, "~") || !strcmp(n->text, "null") || !strcmp(n->text, "Null") ||
            !strcmp(n->text, "NULL"));
}

/* ---- loading -------------------------------------------------------------- */

typedef struct {
    const char *file;
    yaml_document_t *doc;
    int n_nodes;
    char *err;
} Loader;

static Node *convert(Loader *ld, yaml_node_t *y, int depth)
{
    int line = (int)y->start_mark.line + 1, col = (int)y->start_mark.column + 1;
    Node pos = {.file = ld->file, .line = line, .col = col};
    if (depth > NODE_MAX_DEPTH) {
        node_errf(ld->err, &pos, "nesting deeper than %d levels", NODE_MAX_DEPTH);
        return NULL;
    }
    if (++ld->n_nodes > NODE_MAX_NODES) {
        node_errf(ld->err, &pos, "more than %d YAML nodes (after expanding aliases)", NODE_MAX_NODES);
        return NULL;
    }
    if (y->type == YAML_SCALAR_NODE) {
        const char *text = (const char *)y->data.scalar.value;
        if (strlen(text) != y->data.scalar.length) {
            node_errf(ld->err, &pos, "NUL character in a value");
            return NULL;
        }
        Node *n = node_new(NODE_SCALAR, ld->file, line, col, text, y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
        if (!n) node_errf(ld->err, &pos, "out of memory");
        return n;
    }
    Node *n = node_new(y->type == YAML_SEQUENCE_NODE ? NODE_SEQ : NODE_MAP, ld->file, line, col, NULL, 0);
    if (!n) goto oom;
    if (y->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = y->data.sequence.items.start; it < y->data.sequence.items.top; it++) {
            Node *c = convert(ld, yaml_document_get_node(ld->doc, *it), depth + 1);
            if (!c) goto fail;
            if (node_append(n, NULL, c)) {
                node_free(c);
                goto oom;
            }
        }
        return n;
    }
    for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++) {
        Node *k = convert(ld, yaml_document_get_node(ld->doc, p->key), depth + 1);
        if (!k) goto fail;
        if (k->kind != NODE_SCALAR) {
            node_errf(ld->err, k, "a key must be a plain name, not a list or mapping");
            node_free(k);
            goto fail;
        }
        int dup = index_of(n, k->text);
        if (dup >= 0) {
            node_errf(ld->err, k, "duplicate key '%.60s' (first at line %d)", k->text, n->keys[dup]->line);
            node_free(k);
            goto fail;
        }
        Node *v = convert(ld, yaml_document_get_node(ld->doc, p->value), depth + 1);
        if (!v || node_append(n, k, v)) {
            if (v) node_errf(ld->err, v, "out of memory");
            node_free(k);
            node_free(v);
            goto fail;
        }
    }
    return n;
oom:
    node_errf(ld->err, &pos, "out of memory");
fail:
    node_free(n);
    return NULL;
}

Node *node_load(const char *file, const char *text, size_t len, char *err)
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
        const yaml_mark_t *m = &parser.problem_mark, *c = &parser.context_mark;
        Node pos = {.file = file, .line = (int)m->line + 1, .col = (int)m->column + 1};
        char context[256] = "";
        if (parser.context)
            snprintf(context, sizeof context, " %s that starts at %d:%d", parser.context, (int)c->line + 1,
                     (int)c->column + 1);
        node_errf(err, &pos, "YAML syntax error: %s%s", parser.problem ? parser.problem : "unknown problem", context);
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        Node pos = {.file = file, .line = 1, .col = 1};
        node_errf(err, &pos, "the file is empty");
    } else {
        Loader ld = {file, &doc, 0, err};
        root = convert(&ld, top, 0);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return root;
}
