/*
 * dm_schema.c: the data-model schema (objects, tables "{i}", parameters; TR-106 3.1, TR-069
 * A.2.2) and its text format, documented in dm.h.
 *
 * Each bad line is reported as "SOURCE:LINE: reason". An object or table declared again
 * with the same kind re-opens it (a vendor extension adding parameters to a standard
 * object); a parameter declared twice, or an object/table declared with the other kind, is
 * an error. Declarations before a failing line stay loaded: the caller is expected to give
 * up on a schema that does not load.
 */
#include "proxier/dm/dm_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"

#define SCHEMA_LINE_MAX 4096

struct load_ctx {
    struct dm_schema *s;
    const char *source;
    unsigned line;
    struct dm_node *current; /* the last object/table line */
};

/* ---------------- Nodes ---------------- */

static struct dm_node *node_add(struct dm_schema *s, struct dm_node *parent, const char *name,
                                const char *path, enum dm_node_kind kind)
{
    struct dm_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->name = strdup(name);
    n->path = strdup(path);
    n->kind = kind;
    n->parent = parent;
    if (s->n_nodes == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 64;
        struct dm_node **nodes = realloc(s->nodes, cap * sizeof(*nodes));
        if (!nodes)
            goto fail;
        s->nodes = nodes;
        s->cap = cap;
    }
    if (parent) {
        struct dm_node **c = realloc(parent->children, (parent->n_children + 1) * sizeof(*c));
        if (!c)
            goto fail;
        parent->children = c;
        parent->children[parent->n_children++] = n;
    }
    n->id = s->n_nodes;
    s->nodes[s->n_nodes++] = n;
    return n;
fail:
    free(n->name);
    free(n->path);
    free(n);
    return NULL;
}

static void node_free(struct dm_node *n)
{
    free(n->name);
    free(n->path);
    dm_type_free(&n->type);
    free(n->default_value);
    free(n->count_param);
    free(n->children);
    free(n);
}

const struct dm_node *dm_node_child(const struct dm_node *n, const char *name, size_t len)
{
    for (size_t i = 0; i < n->n_children; i++) {
        const struct dm_node *c = n->children[i];
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    }
    return NULL;
}

size_t dm_node_index(const struct dm_node *n, const struct dm_node *child)
{
    size_t i = 0;
    while (i < n->n_children && n->children[i] != child)
        i++;
    return i;
}

struct dm_schema *dm_schema_new(void)
{
    struct dm_schema *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->root = node_add(s, NULL, "", "", DM_OBJECT);
    if (!s->root) {
        free(s);
        return NULL;
    }
    return s;
}

void dm_schema_free(struct dm_schema *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_nodes; i++)
        node_free(s->nodes[i]);
    free(s->nodes);
    free(s);
}

const struct dm_node *dm_schema_root(const struct dm_schema *s)
{
    return s->root;
}

unsigned dm_schema_node_count(const struct dm_schema *s)
{
    return s->n_nodes;
}

/* Walks "A.B.{i}.C" segment by segment. A table node is entered by its name; the following
 * "{i}" segment stays on it. "A.Table." (without "{i}") also names the table node. */
const struct dm_node *dm_schema_find(const struct dm_schema *s, const char *schema_path)
{
    const struct dm_node *cur = s->root;
    bool in_table = false; /* cur is a table whose "{i}" segment has not come yet */
    const char *p = schema_path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (in_table) {
            if (len != 3 || memcmp(p, "{i}", 3) != 0)
                return NULL;
            in_table = false;
        } else {
            const struct dm_node *c = len ? dm_node_child(cur, p, len) : NULL;
            if (!c || (c->kind == DM_PARAM) != (dot == NULL))
                return NULL;
            cur = c;
            in_table = c->kind == DM_TABLE;
        }
        if (!dot)
            break;
        p = dot + 1;
    }
    return cur;
}

/* ---------------- The text format ---------------- */

static int line_error(const struct load_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int line_error(const struct load_ctx *c, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return px_err_set(-1, "%s:%u: %s", c->source, c->line, what);
}

/* Split line in place into whitespace-separated tokens; brackets {}[]<>() and double quotes
 * group (quotes are removed). Returns the token count or -1 if unbalanced. */
static int tokenize(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;
    while (true) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == max)
            return -1;
        char *dst = p;
        tok[n++] = p;
        int depth = 0;
        bool quoted = false;
        for (; *p && (quoted || depth || !isspace((unsigned char)*p)); p++) {
            if (*p == '"') {
                quoted = !quoted;
                continue;
            }
            if (!quoted && strchr("{[<(", *p))
                depth++;
            else if (!quoted && strchr("}]>)", *p))
                depth--;
            *dst++ = *p;
        }
        if (quoted || depth)
            return -1;
        bool end = *p == '\0';
        *dst = '\0';
        if (end)
            return n;
        p++;
    }
}

static bool name_valid(const char *s, size_t len)
{
    if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Object path: "A.B." with name segments, "{i}" only right after a name. */
static bool object_path_valid(const char *path)
{
    size_t n = strlen(path);
    if (n < 2 || path[n - 1] != '.')
        return false;
    bool prev_name = false;
    for (const char *p = path; *p;) {
        const char *dot = strchr(p, '.');
        size_t len = (size_t)(dot - p);
        bool inst = len == 3 && memcmp(p, "{i}", 3) == 0;
        if (inst ? !prev_name : !name_valid(p, len))
            return false;
        prev_name = !inst;
        p = dot + 1;
    }
    return true;
}

/* "A.B.X.{i}." -> parent "A.B.", name "X"; "A.B.C." -> "A.B.", "C". */
static int split_object_path(const struct load_ctx *c, const char *path, bool table,
                             char *parent, char *name)
{
    size_t n = strlen(path);
    size_t suffix = table ? 4 : 0; /* "{i}." */
    if (!object_path_valid(path))
        return line_error(c, "bad object path '%s'", path);
    bool ends_inst = n >= 5 && strcmp(path + n - 4, "{i}.") == 0;
    if (table != ends_inst)
        return line_error(c, table ? "table path '%s' does not end in \".{i}.\""
                                   : "object path '%s' ends in \"{i}.\": declare it as a table",
                          path);
    size_t end = n - suffix - 1; /* at the '.' ending the name */
    size_t start = end;
    while (start > 0 && path[start - 1] != '.')
        start--;
    memcpy(name, path + start, end - start);
    name[end - start] = '\0';
    memcpy(parent, path, start);
    parent[start] = '\0';
    return 0;
}

static int parse_access(const char *tok, bool *writable)
{
    if (!strcmp(tok, "r") || !strcmp(tok, "rw")) {
        *writable = tok[1] == 'w';
        return 1;
    }
    return 0;
}

static int load_object(struct load_ctx *c, char **tok, int n, bool table)
{
    char parent_path[SCHEMA_LINE_MAX], name[SCHEMA_LINE_MAX];
    if (n < 2)
        return line_error(c, "%s: missing path", tok[0]);
    if (split_object_path(c, tok[1], table, parent_path, name) < 0)
        return -1;
    bool writable = false;
    char *count = NULL;
    for (int i = 2; i < n; i++) {
        if (parse_access(tok[i], &writable))
            continue;
        if (table && !strncmp(tok[i], "count=", 6) && name_valid(tok[i] + 6, strlen(tok[i] + 6)))
            count = tok[i] + 6;
        else
            return line_error(c, "unexpected '%s'", tok[i]);
    }
    const struct dm_node *old = dm_schema_find(c->s, tok[1]);
    if (old && old->kind != (table ? DM_TABLE : DM_OBJECT))
        return line_error(c, "'%s' is already declared with another kind", tok[1]);
    if (old) {
        c->current = (struct dm_node *)old; /* re-opened */
        return 0;
    }
    struct dm_node *parent = (struct dm_node *)dm_schema_find(c->s, parent_path);
    if (!parent || parent->kind == DM_PARAM)
        return line_error(c, "parent object of '%s' is not declared", tok[1]);
    if (dm_node_child(parent, name, strlen(name)))
        return line_error(c, "duplicate name '%s'", name);
    struct dm_node *node = node_add(c->s, parent, name, tok[1], table ? DM_TABLE : DM_OBJECT);
    if (!node || (count && !(node->count_param = strdup(count))))
        return line_error(c, "%s", "out of memory");
    node->writable = table && writable;
    c->current = node;
    return 0;
}

static int parse_param_flag(struct load_ctx *c, struct dm_node *p, const char *tok,
                            const char **def)
{
    if (parse_access(tok, &p->writable))
        return 0;
    if (!strcmp(tok, "hidden"))
        p->hidden = true;
    else if (!strcmp(tok, "notify=forced"))
        p->notify = DM_NOTIFY_FORCED;
    else if (!strcmp(tok, "notify=candeny"))
        p->notify = DM_NOTIFY_CANDENY;
    else if (!strcmp(tok, "notify=normal"))
        p->notify = DM_NOTIFY_NORMAL;
    else if (!strncmp(tok, "default=", 8))
        *def = tok + 8;
    else
        return line_error(c, "unexpected '%s'", tok);
    return 0;
}

static int load_param(struct load_ctx *c, char **tok, int n)
{
    if (!c->current)
        return line_error(c, "parameter '%s' before any object", n > 1 ? tok[1] : "");
    if (n < 3)
        return line_error(c, "%s", "param: expected a name and a type");
    if (!name_valid(tok[1], strlen(tok[1])))
        return line_error(c, "bad parameter name '%s'", tok[1]);
    if (dm_node_child(c->current, tok[1], strlen(tok[1])))
        return line_error(c, "duplicate name '%s'", tok[1]);
    struct dm_type type;
    if (dm_type_parse(tok[2], &type) < 0)
        return line_error(c, "%s", px_err_msg());
    char path[2 * SCHEMA_LINE_MAX];
    snprintf(path, sizeof(path), "%s%s", c->current->path, tok[1]);
    struct dm_node *p = node_add(c->s, c->current, tok[1], path, DM_PARAM);
    if (!p) {
        dm_type_free(&type);
        return line_error(c, "%s", "out of memory");
    }
    p->type = type;
    const char *def = NULL;
    for (int i = 3; i < n; i++)
        if (parse_param_flag(c, p, tok[i], &def) < 0)
            return -1;
    if (def && dm_value_check(&p->type, def, NULL, &p->default_value) != 0)
        return line_error(c, "bad default: %s", px_err_msg());
    return 0;
}

static int load_line(struct load_ctx *c, char *line)
{
    char *tok[32];
    int n = tokenize(line, tok, 32);
    if (n < 0)
        return line_error(c, "%s", "unbalanced quotes or brackets, or too many words");
    if (n == 0)
        return 0;
    if (!strcmp(tok[0], "object"))
        return load_object(c, tok, n, false);
    if (!strcmp(tok[0], "table"))
        return load_object(c, tok, n, true);
    if (!strcmp(tok[0], "param"))
        return load_param(c, tok, n);
    return line_error(c, "unknown keyword '%s'", tok[0]);
}

/* count=Name on a table names a read-only parameter of its parent (TR-106 numEntries). */
static int link_count_params(struct dm_schema *s, const char *source)
{
    for (unsigned i = 0; i < s->n_nodes; i++) {
        struct dm_node *t = s->nodes[i];
        if (t->kind != DM_TABLE || !t->count_param)
            continue;
        struct dm_node *p =
            (struct dm_node *)dm_node_child(t->parent, t->count_param, strlen(t->count_param));
        if (!p || p->kind != DM_PARAM || p->writable || p->type.is_list ||
            p->type.base != DM_UNSIGNED_INT)
            return px_err_set(-1, "%s: table %s: count=%s must name a read-only unsignedInt "
                              "parameter of %s", source, t->path, t->count_param,
                              t->parent->path[0] ? t->parent->path : "the root");
        p->count_of = t;
    }
    return 0;
}

static int schema_load_named(struct dm_schema *s, const char *text, const char *source)
{
    struct load_ctx c = {.s = s, .source = source};
    char line[SCHEMA_LINE_MAX];
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        c.line++;
        if (len >= sizeof(line))
            return line_error(&c, "%s", "line too long");
        memcpy(line, p, len);
        line[len] = '\0';
        if (load_line(&c, line) < 0)
            return -1;
        p += len + (nl != NULL);
    }
    return link_count_params(s, source);
}

int dm_schema_load(struct dm_schema *s, const char *text)
{
    return schema_load_named(s, text, "schema");
}

int dm_schema_load_file(struct dm_schema *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return px_err_set(-1, "%s: cannot open", path);
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    int rc = buf_failed(&b) ? px_err_set(-1, "%s: out of memory", path)
                            : schema_load_named(s, b.data ? b.data : "", path);
    buf_free(&b);
    return rc;
}
