/*
 * dm_internal.h: what the files of proxier/dm share and nobody else sees: the schema and
 * model structures and the path resolver (TR-069 A.2.2 instance identifiers).
 */
#ifndef PX_DM_INTERNAL_H
#define PX_DM_INTERNAL_H

#include "proxier/dm/dm.h"

#include "proxier/common/buf.h"

/* TR-069 Table 17 etc.: names are string(256). */
#define DM_PATH_MAX 256

struct dm_schema {
    struct dm_node *root; /* synthetic, path "" */
    struct dm_node **nodes; /* by id */
    unsigned n_nodes, cap;
};

/* The child of n named name[0..len), or NULL. */
const struct dm_node *dm_node_child(const struct dm_node *n, const char *name, size_t len);
/* Index of child in n->children. */
size_t dm_node_index(const struct dm_node *n, const struct dm_node *child);

struct dm_inst;

/* Per child node of an object instance: the single sub-object, or a table's rows. */
struct dm_slot {
    struct dm_inst *obj;   /* DM_OBJECT children */
    struct dm_inst **rows; /* DM_TABLE children, ascending instance number */
    size_t n_rows, cap;
};

/* A concrete object: the root, a single object, or one row of a table. */
struct dm_inst {
    const struct dm_node *node;
    unsigned number; /* rows only, else 0 */
    char *alias;     /* rows only, may be NULL */
    struct dm_inst *parent;
    struct dm_slot *slots; /* one per node->children[i] */
};

/* Next instance number of one concrete table path; kept after the table disappears so
 * numbers are never reused while the model lives (TR-069 A.2.2.1). */
struct dm_counter {
    char *table_path;
    unsigned next;
};

struct dm_mount {
    char *path;
    struct dm_provider provider;
};

struct dm_model {
    const struct dm_schema *schema;
    struct event_base *base;
    unsigned deadline_ms;
    struct dm_inst *root;
    struct dm_counter *counters;
    size_t n_counters;
    struct dm_mount *mounts;
    size_t n_mounts;
    int *owner; /* by node id: index into mounts, -1 if none */
    dm_change_cb change_cb;
    void *change_arg;
};

/* Where a concrete path points: a parameter of inst, the table object "X." (table is a
 * child node of inst), or the object instance inst itself. */
struct dm_pos {
    struct dm_inst *inst;
    const struct dm_node *table;
    const struct dm_node *param;
};

/* Resolve a concrete path ("" = root). Returns 0 or 9005 with px_err_msg. */
int dm_pos_resolve(const struct dm_model *m, const char *path, struct dm_pos *pos);

/* Append the concrete path of inst ("Device.X.3.") to b. */
void dm_inst_path(const struct dm_inst *inst, struct buf *b);

/* The provider owning node, or NULL if nothing is mounted above it. */
const struct dm_provider *dm_model_owner(const struct dm_model *m, const struct dm_node *node);

#endif
