/*
 * dm_model.c: one endpoint's concrete data model: which object instances exist, concrete
 * path resolution (TR-069 A.2.2, instance numbers and "[alias]"), the expansion of partial
 * paths for GetParameterValues/Attributes (A.3.2.2, A.3.2.5), GetParameterNames (A.3.2.3),
 * NumberOfEntries parameters computed from the instances, provider mounts and value-change
 * reports.
 *
 * Traversals run in schema declaration order with the instances of a table ascending.
 * Instance numbers are never reused while the model lives (A.2.2.1 "SHOULD NOT assign an
 * Instance Number that has been used for a previously deleted Object instance"): each
 * concrete table path has a counter that survives deletion of the table's parent, and the
 * caller persists it with dm_instance_next/dm_instance_set_next.
 */
#include "proxier/dm/dm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"

#define DM_DEFAULT_DEADLINE_MS 5000

/* ---------------- Instances ---------------- */

static void inst_free(struct dm_inst *inst)
{
    if (!inst)
        return;
    for (size_t i = 0; i < inst->node->n_children; i++) {
        struct dm_slot *slot = &inst->slots[i];
        inst_free(slot->obj);
        for (size_t r = 0; r < slot->n_rows; r++)
            inst_free(slot->rows[r]);
        free(slot->rows);
    }
    free(inst->slots);
    free(inst->alias);
    free(inst);
}

/* A new object instance with its single sub-objects (which always exist) but no rows. */
static struct dm_inst *inst_new(const struct dm_node *node, unsigned number, struct dm_inst *parent)
{
    struct dm_inst *inst = calloc(1, sizeof(*inst));
    if (!inst)
        return NULL;
    inst->node = node;
    inst->number = number;
    inst->parent = parent;
    inst->slots = calloc(node->n_children ? node->n_children : 1, sizeof(*inst->slots));
    if (!inst->slots)
        goto fail;
    for (size_t i = 0; i < node->n_children; i++) {
        if (node->children[i]->kind != DM_OBJECT)
            continue;
        inst->slots[i].obj = inst_new(node->children[i], 0, inst);
        if (!inst->slots[i].obj)
            goto fail;
    }
    return inst;
fail:
    inst_free(inst);
    return NULL;
}

static struct dm_slot *inst_slot(const struct dm_inst *inst, const struct dm_node *child)
{
    return &inst->slots[dm_node_index(inst->node, child)];
}

void dm_inst_path(const struct dm_inst *inst, struct buf *b)
{
    if (!inst->parent)
        return;
    dm_inst_path(inst->parent, b);
    if (inst->node->kind == DM_TABLE)
        buf_printf(b, "%s.%u.", inst->node->name, inst->number);
    else
        buf_printf(b, "%s.", inst->node->name);
}

static void buf_truncate(struct buf *b, size_t len)
{
    if (b->data) {
        b->len = len;
        b->data[len] = '\0';
    }
}

/* ---------------- Path resolution ---------------- */

/* A row by instance number ("3", no sign or leading zero) or alias ("[a]"). */
static struct dm_inst *slot_find_row(const struct dm_slot *slot, const char *seg, size_t len)
{
    if (len >= 2 && seg[0] == '[' && seg[len - 1] == ']') {
        for (size_t i = 0; i < slot->n_rows; i++) {
            const char *a = slot->rows[i]->alias;
            if (a && strlen(a) == len - 2 && memcmp(a, seg + 1, len - 2) == 0)
                return slot->rows[i];
        }
        return NULL;
    }
    if (len == 0 || len > 10 || seg[0] == '0')
        return NULL;
    unsigned long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return NULL;
        n = n * 10 + (unsigned long)(seg[i] - '0');
    }
    for (size_t i = 0; i < slot->n_rows; i++)
        if (slot->rows[i]->number == n)
            return slot->rows[i];
    return NULL;
}

static int bad_path(const char *path, const char *why)
{
    return px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%.256s: %s", path, why);
}

/* One segment: from an object instance into a child, or from a table into a row. */
static int pos_step(struct dm_pos *pos, const char *seg, size_t len, bool last)
{
    if (pos->table) {
        struct dm_inst *row = slot_find_row(inst_slot(pos->inst, pos->table), seg, len);
        if (!row)
            return -1;
        pos->inst = row;
        pos->table = NULL;
        return 0;
    }
    const struct dm_node *c = dm_node_child(pos->inst->node, seg, len);
    if (!c || (c->kind == DM_PARAM && !last))
        return -1;
    if (c->kind == DM_OBJECT)
        pos->inst = inst_slot(pos->inst, c)->obj;
    else if (c->kind == DM_TABLE)
        pos->table = c;
    else
        pos->param = c;
    return 0;
}

int dm_pos_resolve(const struct dm_model *m, const char *path, struct dm_pos *pos)
{
    *pos = (struct dm_pos){.inst = m->root};
    size_t n = strlen(path);
    if (n > DM_PATH_MAX)
        return bad_path(path, "path longer than 256 characters");
    for (const char *p = path; *p;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0)
            return bad_path(path, "empty path segment");
        if (pos_step(pos, p, len, dot == NULL) < 0)
            return bad_path(path, "no such object or parameter");
        if (!dot)
            break;
        p = dot + 1;
    }
    if (n && path[n - 1] != '.' && !pos->param)
        return bad_path(path, "names an object: a partial path must end with '.'");
    if (n && path[n - 1] == '.' && pos->param)
        return bad_path(path, "names a parameter, not an object");
    return 0;
}

const struct dm_node *dm_resolve_param(const struct dm_model *m, const char *path, int *fault)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, path, &pos);
    if (!rc && !pos.param)
        rc = bad_path(path, "is not a parameter");
    if (fault)
        *fault = rc;
    return rc ? NULL : pos.param;
}

const struct dm_node *dm_resolve_table(const struct dm_model *m, const char *path, int *fault)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, path, &pos);
    if (!rc && !pos.table)
        rc = bad_path(path, "is not a table");
    if (fault)
        *fault = rc;
    return rc ? NULL : pos.table;
}

bool dm_object_exists(const struct dm_model *m, const char *object_path)
{
    struct dm_pos pos;
    return dm_pos_resolve(m, object_path, &pos) == 0 && !pos.param;
}

/* ---------------- Model ---------------- */

struct dm_model *dm_model_new(const struct dm_schema *schema, struct event_base *base)
{
    struct dm_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->schema = schema;
    m->base = base;
    m->deadline_ms = DM_DEFAULT_DEADLINE_MS;
    m->root = inst_new(schema->root, 0, NULL);
    m->owner = malloc(schema->n_nodes * sizeof(*m->owner));
    if (!m->root || !m->owner) {
        dm_model_free(m);
        return NULL;
    }
    for (unsigned i = 0; i < schema->n_nodes; i++)
        m->owner[i] = -1;
    return m;
}

void dm_model_free(struct dm_model *m)
{
    if (!m)
        return;
    inst_free(m->root);
    for (size_t i = 0; i < m->n_counters; i++)
        free(m->counters[i].table_path);
    free(m->counters);
    for (size_t i = 0; i < m->n_mounts; i++)
        free(m->mounts[i].path);
    free(m->mounts);
    free(m->owner);
    free(m);
}

const struct dm_schema *dm_model_schema(const struct dm_model *m)
{
    return m->schema;
}

void dm_model_set_deadline(struct dm_model *m, unsigned ms)
{
    m->deadline_ms = ms;
}

/* Every node belongs to the mount with the longest path that prefixes its schema path. */
static void owners_compute(struct dm_model *m)
{
    for (unsigned id = 0; id < m->schema->n_nodes; id++) {
        const char *path = m->schema->nodes[id]->path;
        size_t best = 0;
        m->owner[id] = -1;
        for (size_t i = 0; i < m->n_mounts; i++) {
            size_t len = strlen(m->mounts[i].path);
            if (strncmp(path, m->mounts[i].path, len) == 0 && (m->owner[id] < 0 || len > best)) {
                m->owner[id] = (int)i;
                best = len;
            }
        }
    }
}

int dm_mount(struct dm_model *m, const char *schema_path, const struct dm_provider *p)
{
    if (!dm_schema_find(m->schema, schema_path))
        return px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "mount: no schema node %s", schema_path);
    size_t i = 0;
    while (i < m->n_mounts && strcmp(m->mounts[i].path, schema_path) != 0)
        i++;
    if (i == m->n_mounts) {
        struct dm_mount *mounts = realloc(m->mounts, (m->n_mounts + 1) * sizeof(*mounts));
        if (!mounts)
            return px_err_set(PX_ERR_INTERNAL, "out of memory");
        m->mounts = mounts;
        m->mounts[i].path = strdup(schema_path);
        if (!m->mounts[i].path)
            return px_err_set(PX_ERR_INTERNAL, "out of memory");
        m->n_mounts++;
    }
    m->mounts[i].provider = *p;
    owners_compute(m);
    return 0;
}

const struct dm_provider *dm_model_owner(const struct dm_model *m, const struct dm_node *node)
{
    int i = m->owner[node->id];
    return i < 0 ? NULL : &m->mounts[i].provider;
}

/* ---------------- Instance numbers ---------------- */

/* The key of a table's counter: its canonical concrete path if it exists (aliases
 * resolved), else the path as given (restoring counters before the rows exist). */
static void table_key(const struct dm_model *m, const char *table_path, struct buf *key)
{
    struct dm_pos pos;
    if (dm_pos_resolve(m, table_path, &pos) == 0 && pos.table) {
        dm_inst_path(pos.inst, key);
        buf_printf(key, "%s.", pos.table->name);
    } else {
        buf_puts(key, table_path);
    }
}

static struct dm_counter *counter_get(struct dm_model *m, const char *table_path)
{
    struct buf key = BUF_INIT;
    table_key(m, table_path, &key);
    struct dm_counter *c = NULL;
    for (size_t i = 0; i < m->n_counters && !c; i++)
        if (key.data && strcmp(m->counters[i].table_path, key.data) == 0)
            c = &m->counters[i];
    if (!c && key.data && !buf_failed(&key)) {
        struct dm_counter *n = realloc(m->counters, (m->n_counters + 1) * sizeof(*n));
        if (n) {
            m->counters = n;
            c = &m->counters[m->n_counters++];
            c->table_path = buf_steal(&key, NULL);
            c->next = 1;
        }
    }
    buf_free(&key);
    return c;
}

unsigned dm_instance_next(const struct dm_model *m, const char *table_path)
{
    /* counter_get only adds a counter entry; the model's contents do not change. */
    struct dm_counter *c = counter_get((struct dm_model *)m, table_path);
    return c ? c->next : 1;
}

void dm_instance_set_next(struct dm_model *m, const char *table_path, unsigned next)
{
    struct dm_counter *c = counter_get(m, table_path);
    if (c)
        c->next = next ? next : 1;
}

static bool slot_has_number(const struct dm_slot *slot, unsigned number)
{
    for (size_t i = 0; i < slot->n_rows; i++)
        if (slot->rows[i]->number == number)
            return true;
    return false;
}

/* Insert keeping rows ascending. */
static int slot_insert(struct dm_slot *slot, struct dm_inst *row)
{
    if (slot->n_rows == slot->cap) {
        size_t cap = slot->cap ? slot->cap * 2 : 4;
        struct dm_inst **rows = realloc(slot->rows, cap * sizeof(*rows));
        if (!rows)
            return -1;
        slot->rows = rows;
        slot->cap = cap;
    }
    size_t i = slot->n_rows;
    while (i > 0 && slot->rows[i - 1]->number > row->number) {
        slot->rows[i] = slot->rows[i - 1];
        i--;
    }
    slot->rows[i] = row;
    slot->n_rows++;
    return 0;
}

static unsigned counter_allocate(struct dm_counter *c, const struct dm_slot *slot)
{
    while (c->next == 0 || slot_has_number(slot, c->next))
        c->next++; /* wraps after 2^32-1: the whole space was used (A.2.2.1) */
    return c->next;
}

int dm_instance_add(struct dm_model *m, const char *table_path, unsigned number,
                    const char *alias, unsigned *out_number)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, table_path, &pos);
    if (rc)
        return rc;
    if (!pos.table)
        return bad_path(table_path, "is not a table");
    struct dm_slot *slot = inst_slot(pos.inst, pos.table);
    struct dm_counter *c = counter_get(m, table_path);
    if (!c)
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    if (number == 0)
        number = counter_allocate(c, slot);
    if (slot_has_number(slot, number))
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "%s%u. already exists", table_path, number);
    for (size_t i = 0; alias && i < slot->n_rows; i++)
        if (slot->rows[i]->alias && !strcmp(slot->rows[i]->alias, alias))
            return bad_path(table_path, "alias already in use (A.3.2.6)");
    struct dm_inst *row = inst_new(pos.table, number, pos.inst);
    if (!row || (alias && !(row->alias = strdup(alias))) || slot_insert(slot, row) < 0) {
        inst_free(row);
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    }
    if (number >= c->next)
        c->next = number + 1;
    if (out_number)
        *out_number = number;
    return 0;
}

int dm_instance_delete(struct dm_model *m, const char *instance_path)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, instance_path, &pos);
    if (rc)
        return rc;
    if (pos.param || pos.table || pos.inst->node->kind != DM_TABLE)
        return bad_path(instance_path, "is not an object instance");
    struct dm_inst *row = pos.inst;
    struct dm_slot *slot = inst_slot(row->parent, row->node);
    size_t i = 0;
    while (slot->rows[i] != row)
        i++;
    memmove(&slot->rows[i], &slot->rows[i + 1], (slot->n_rows - i - 1) * sizeof(*slot->rows));
    slot->n_rows--;
    inst_free(row);
    return 0;
}

size_t dm_instance_list(const struct dm_model *m, const char *table_path, unsigned *numbers,
                        size_t max)
{
    struct dm_pos pos;
    if (dm_pos_resolve(m, table_path, &pos) != 0 || !pos.table)
        return 0;
    const struct dm_slot *slot = inst_slot(pos.inst, pos.table);
    size_t n = 0;
    for (; n < slot->n_rows && n < max; n++)
        numbers[n] = slot->rows[n]->number;
    return n;
}

/* ---------------- NumberOfEntries ---------------- */

bool dm_is_count_param(const struct dm_node *node)
{
    return node && node->count_of != NULL;
}

unsigned dm_count_value(const struct dm_model *m, const char *param_path)
{
    struct dm_pos pos;
    if (dm_pos_resolve(m, param_path, &pos) != 0 || !dm_is_count_param(pos.param))
        return 0;
    return (unsigned)inst_slot(pos.inst, pos.param->count_of)->n_rows;
}

/* ---------------- Traversals ---------------- */

/* Visits what lies below an object instance, in schema order, building paths in b. */
struct visit {
    dm_param_cb param; /* may be NULL */
    dm_name_cb object; /* objects, tables "X." and rows "X.3."; may be NULL */
    void *arg;
    bool recurse;
    struct buf b;
};

static void visit_inst(struct visit *v, const struct dm_inst *inst);

static bool inst_writable(const struct dm_inst *inst)
{
    /* A.3.2.3 Table 22: an instance is writable iff DeleteObject may remove it. */
    return inst->node->kind == DM_TABLE && inst->node->writable;
}

static void visit_rows(struct visit *v, const struct dm_slot *slot)
{
    size_t len = v->b.len;
    for (size_t i = 0; i < slot->n_rows; i++) {
        buf_printf(&v->b, "%u.", slot->rows[i]->number);
        if (v->object)
            v->object(v->arg, v->b.data, inst_writable(slot->rows[i]));
        if (v->recurse)
            visit_inst(v, slot->rows[i]);
        buf_truncate(&v->b, len);
    }
}

static void visit_inst(struct visit *v, const struct dm_inst *inst)
{
    size_t len = v->b.len;
    for (size_t i = 0; i < inst->node->n_children; i++) {
        const struct dm_node *c = inst->node->children[i];
        buf_puts(&v->b, c->name);
        if (c->kind == DM_PARAM) {
            if (v->param)
                v->param(v->arg, v->b.data, c);
            else if (v->object)
                v->object(v->arg, v->b.data, c->writable);
        } else {
            buf_puts(&v->b, ".");
            /* A.3.2.3 Table 22: a table object is writable iff AddObject may be used. */
            if (v->object)
                v->object(v->arg, v->b.data, c->kind == DM_TABLE && c->writable);
            if (v->recurse && c->kind == DM_OBJECT)
                visit_inst(v, inst->slots[i].obj);
            else if (v->recurse)
                visit_rows(v, &inst->slots[i]);
        }
        buf_truncate(&v->b, len);
    }
}

/* Start a visit at pos: the path of pos is put in v->b first. */
static void visit_start(struct visit *v, const struct dm_pos *pos)
{
    dm_inst_path(pos->inst, &v->b);
    if (pos->table) {
        buf_printf(&v->b, "%s.", pos->table->name);
        visit_rows(v, inst_slot(pos->inst, pos->table));
    } else {
        visit_inst(v, pos->inst);
    }
}

int dm_expand(const struct dm_model *m, const char *name, dm_param_cb cb, void *arg)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, name, &pos);
    if (rc)
        return rc;
    struct visit v = {.param = cb, .arg = arg, .recurse = true, .b = BUF_INIT};
    if (pos.param) {
        dm_inst_path(pos.inst, &v.b);
        buf_puts(&v.b, pos.param->name);
        cb(arg, v.b.data, pos.param);
    } else {
        visit_start(&v, &pos);
    }
    rc = buf_failed(&v.b) ? px_err_set(PX_ERR_INTERNAL, "out of memory") : 0;
    buf_free(&v.b);
    return rc;
}

int dm_names(const struct dm_model *m, const char *path, bool next_level, dm_name_cb cb,
             void *arg)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(m, path, &pos);
    if (rc)
        return rc;
    if (pos.param && next_level)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                          "%s is a parameter: NextLevel must be false (A.3.2.3)", path);
    struct visit v = {.object = cb, .arg = arg, .recurse = !next_level, .b = BUF_INIT};
    dm_inst_path(pos.inst, &v.b);
    if (pos.param) {
        buf_puts(&v.b, pos.param->name);
        cb(arg, v.b.data, pos.param->writable);
        goto exit;
    }
    if (pos.table)
        buf_printf(&v.b, "%s.", pos.table->name);
    /* NextLevel false: the object itself first (not the unnamed root). */
    if (!next_level && pos.table)
        cb(arg, v.b.data, pos.table->writable);
    else if (!next_level && pos.inst->parent)
        cb(arg, v.b.data, inst_writable(pos.inst));
    if (pos.table)
        visit_rows(&v, inst_slot(pos.inst, pos.table));
    else
        visit_inst(&v, pos.inst);
exit:
    rc = buf_failed(&v.b) ? px_err_set(PX_ERR_INTERNAL, "out of memory") : 0;
    buf_free(&v.b);
    return rc;
}

/* ---------------- Changes ---------------- */

void dm_model_on_change(struct dm_model *m, dm_change_cb cb, void *arg)
{
    m->change_cb = cb;
    m->change_arg = arg;
}

void dm_value_changed(struct dm_model *m, const char *path, const char *value)
{
    int fault;
    const struct dm_node *node = dm_resolve_param(m, path, &fault);
    if (!node) {
        LOG_DEBUG("dm", "value change of unknown parameter ignored: %s", px_err_msg());
        return;
    }
    if (dm_value_check(&node->type, value ? value : "", NULL, NULL) != 0) {
        LOG_WARN("dm", "%s: reported value dropped: %s", path, px_err_msg());
        return;
    }
    if (m->change_cb)
        m->change_cb(m->change_arg, path, node, value);
}
