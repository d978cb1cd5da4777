/* node.h — a YAML document as a small tree whose every node knows its
 * file:line:column, so that any later check can point at the text.
 *
 * libyaml's event parser does the parsing; node_load builds the tree with
 * the checks a config file needs: duplicate keys, scalar keys, nesting
 * depth, a node budget that stops alias bombs while counting, and tags
 * (only the YAML 1.2 core schema's, each on a node it describes). How a
 * scalar reads as a number is here too (node_number), strictly: decimal
 * only. Trees can be merged (base configs) and edited by path (command-line
 * overrides). Not here: what any key means (cfg). */
#ifndef NODE_H
#define NODE_H

#include <stddef.h>

#define NODE_MAX_DEPTH 64
#define NODE_MAX_NODES 100000

typedef enum { NODE_SCALAR, NODE_SEQ, NODE_MAP } NodeKind;

/* A node's explicit tag: none, or one of the core schema's (!! is
 * tag:yaml.org,2002:). Loading refuses any other tag, a tag on a node of
 * another kind (!!seq on a value), and a tagged value that is not what its
 * tag says (!!int 2.5, !!bool yes); the non-specific tag ! on a value is
 * NODE_TAG_STR. A !!str value is a string (plain is 0), and the other
 * scalar tags make a value plain (!!int "2" is the number 2). */
typedef enum {
    NODE_TAG_NONE,
    NODE_TAG_STR,
    NODE_TAG_INT,
    NODE_TAG_FLOAT,
    NODE_TAG_BOOL,
    NODE_TAG_NULL,
    NODE_TAG_SEQ,
    NODE_TAG_MAP
} NodeTag;
/* "!!str", "!!int", ...; "" for NODE_TAG_NONE. */
extern const char *const node_tag_names[];

typedef struct Node Node;
struct Node {
    int kind;          /* NodeKind */
    const char *file;  /* not owned: outlives the tree (see cfg's file list) */
    int line, col;     /* 1-based */
    char *text;        /* scalar value */
    int plain;         /* scalar written without quotes: may be a number, bool or null */
    int tag;           /* NodeTag */
    int n, cap;        /* items (sequence) or entries (mapping) */
    Node **items;      /* sequence items, or mapping values */
    Node **keys;       /* mapping keys (scalars); NULL for sequences */
};

/* Parse text; `file` names it in messages and in every node. NULL on
 * failure with "FILE:LINE:COL: message" in err. An empty document is an error. */
Node *node_load(const char *file, const char *text, size_t len, char *err);
/* The same for one line of text whose first character is at column col0 + 1
 * of line 1 of `file` (a value in a command-line argument): nodes and
 * messages give columns of that line, and an error at the end of the text
 * points just past it. An empty value is "no value". */
Node *node_load_line(const char *file, const char *text, size_t len, int col0, char *err);
void node_free(Node *n); /* NULL is fine */

Node *node_new(int kind, const char *file, int line, int col, const char *text, int plain);
/* Append an item to a sequence, or an entry to a mapping (key may be NULL for
 * sequences). Takes ownership. Returns 0, or -1 when out of memory. */
int node_append(Node *parent, Node *key, Node *value);

/* A mapping's value for key, or NULL. */
Node *node_get(const Node *map, const char *key);
/* Replace the value of key (keeping its position in the mapping) or append
 * the entry. Takes ownership of value (and of key, or frees it if unused). */
int node_put(Node *map, Node *key, Node *value);
/* Remove an entry, freeing it. */
void node_remove(Node *map, const char *key);

/* Child over base: mappings merge key by key (recursively), anything else
 * in child replaces base. Consumes both; returns the merged tree. */
Node *node_merge(Node *base, Node *child);

/* "null", "~" or empty, unquoted (or tagged !!null). */
int node_is_null(const Node *n);

/* How a scalar reads as a number. Numbers are decimal: an optional sign,
 * digits with an optional fraction (or a fraction alone, .5), an optional
 * exponent; a value that underflows becomes 0 or a denormal. What strtod or
 * YAML would read otherwise is told apart for the message. */
typedef enum {
    NODE_NUMBER,       /* *out is the value */
    NODE_NOT_NUMBER,   /* not a number: a word, a quoted or !!str string, null, a list */
    NODE_NOT_DECIMAL,  /* hexadecimal, 0x10 or 0x1p-3: *out is its value */
    NODE_LEADING_ZERO, /* an integer such as 010, which YAML 1.1 reads as octal: *out is its decimal value */
    NODE_NOT_FINITE,   /* inf, .inf, nan, .nan, or beyond double range (1e400) */
} NodeNumber;
NodeNumber node_number(const Node *n, double *out);

/* err = "FILE:LINE:COL: message" at node n; returns -1. */
int node_errf(char *err, const Node *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
