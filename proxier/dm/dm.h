/*
 * dm.h: the data-model engine shared by every CWMP endpoint (TR-069 3.6, A.3.2, TR-106).
 *
 * Three layers:
 *  - a schema (struct dm_schema): objects, tables ("{i}") and parameters with their TR-106
 *    types, access and notification policy, loaded from a small text format (dm_schema_load);
 *  - a model (struct dm_model): one endpoint's concrete tree, i.e. the schema plus which
 *    instances exist (numbers never reused, aliases), and the providers mounted on it;
 *  - providers (struct dm_provider): whoever owns the values of a subtree (the gateway's own
 *    objects, an embedded device's rows, a virtual device's whole tree). Providers answer
 *    asynchronously: the engine hands them a struct dm_request and they call
 *    dm_request_done() now or later. Every request has a deadline; when it fires first, the
 *    items still unanswered get fault 9002 and the caller is answered; the provider's late
 *    dm_request_done is then harmless.
 *
 * Path resolution (full, partial, instance numbers), GetParameterNames with NextLevel
 * (A.3.2.3), type checking of SetParameterValues (9005-9008) and the xsd type names of
 * GetParameterValues live here, so every endpoint behaves the same.
 *
 * Schema text format, one declaration a line, '#' starts a comment:
 *   object Device.ManagementServer.
 *   table  Device.ManagementServer.InformParameter.{i}. rw count=InformParameterNumberOfEntries
 *   param  Enable boolean rw default=false
 *   param  PeriodicInformInterval unsignedInt[1:] rw default=86400
 *   param  Password string(256) rw hidden
 *   param  ConnectionRequestURL string(256) r notify=forced
 *   param  SupportedConnReqMethods list<string{HTTP,STUN,XMPP}> r
 * A param belongs to the last object/table line. Access is r or rw (for a table, rw means the
 * ACS may AddObject/DeleteObject). Types: string, string(max), string(min:max),
 * string{A,B,C} (enumeration), int, unsignedInt, long, unsignedLong with optional ranges
 * [min:max] (either end may be empty; several ranges comma-separated), boolean, dateTime,
 * base64, base64(max), hexBinary, hexBinary(max), and list<T> / list(maxItems)<T> of any of
 * them. Flags: hidden (reads return ""), notify=forced (forced active, TR-069 A.3.2.4),
 * notify=candeny (the CPE may reject active notification: 9009), default=VALUE
 * (default="with spaces" is quoted), count=Name (table: its NumberOfEntries parameter in the
 * parent, whose value the engine computes).
 */
#ifndef PX_DM_H
#define PX_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

/* ---------------- Types (TR-106 3.2) ---------------- */

enum dm_base_type {
    DM_STRING = 0,
    DM_INT,
    DM_UNSIGNED_INT,
    DM_LONG,
    DM_UNSIGNED_LONG,
    DM_BOOLEAN,
    DM_DATETIME,
    DM_BASE64,
    DM_HEXBINARY,
};

struct dm_range {
    bool has_min, has_max;
    int64_t min;  /* for unsigned types values above INT64_MAX are not expressible as bounds */
    int64_t max;
};

struct dm_type {
    enum dm_base_type base;
    /* string/base64/hexBinary: length bounds (max_len 0 = unbounded) */
    size_t min_len, max_len;
    /* numeric ranges (n_ranges 0 = the whole range of the base type) */
    struct dm_range *ranges;
    size_t n_ranges;
    /* string enumeration (n_enums 0 = any) */
    char **enums;
    size_t n_enums;
    /* list: the items are of this type; the value is comma-separated */
    bool is_list;
    size_t list_max_items; /* 0 = unbounded */
};

/* Parse a type expression such as "unsignedInt[1:65535]" or "list<string{A,B}>".
 * Returns 0 or -1 (with px_err_msg set). dm_type_free releases what it allocated. */
int dm_type_parse(const char *text, struct dm_type *out);
void dm_type_free(struct dm_type *t);

/* Check value against the type: the value gate every value passes on its way into the
 * model (SetParameterValues, the control socket, provider answers and change reports, the
 * cache, backups). Returns 0, PX_ERR_INVALID_PARAMETER_TYPE (9006) if the
 * xsi:type given by the ACS (may be NULL = not checked) does not match, or
 * PX_ERR_INVALID_PARAMETER_VALUE (9007) if the value is not valid UTF-8, holds a character
 * XML 1.0 forbids (text.h), or is malformed or out of range for the type, with
 * px_err_msg saying why. On success *canonical (if not NULL) receives a malloc'd canonical
 * form (booleans as "true"/"false", dateTime as given, numbers without leading '+'/zeros). */
int dm_value_check(const struct dm_type *t, const char *value, const char *xsi_type,
                   char **canonical);

/* The part of dm_value_check that holds for every type: 0, or 9007 with px_err_msg when
 * value is not valid UTF-8 or holds a character XML 1.0 forbids. */
int dm_value_text_check(const char *value);

/* "xsd:string", "xsd:unsignedInt", ... (lists are "xsd:string"). */
const char *dm_type_xsd(const struct dm_type *t);

/* ---------------- Schema ---------------- */

enum dm_node_kind { DM_OBJECT = 0, DM_TABLE, DM_PARAM };

enum dm_notify_policy {
    DM_NOTIFY_NORMAL = 0,   /* the ACS may set 0, 1 or 2 */
    DM_NOTIFY_FORCED,       /* forced active: always reported, attribute reads as 2 */
    DM_NOTIFY_CANDENY,      /* active notification may be refused: 9009 */
};

struct dm_node {
    char *name;          /* this segment: "ManagementServer", "{i}" is not a node: a table
                            node's name is the table name and it stands for Table.{i}. */
    char *path;          /* schema path: "Device.ManagementServer.InformParameter.{i}." */
    enum dm_node_kind kind;
    bool writable;       /* param: readWrite; table: ACS may add/delete */
    bool hidden;
    enum dm_notify_policy notify;
    struct dm_type type; /* params only */
    char *default_value; /* params only; NULL = none ("" unless a provider says otherwise) */
    char *count_param;   /* tables only: name of the NumberOfEntries parameter in parent */
    const struct dm_node *count_of; /* params only: the table whose NumberOfEntries this
                                       parameter is (its value is computed), else NULL */
    unsigned id;         /* dense index in the schema, for per-node arrays */
    struct dm_node *parent;
    struct dm_node **children; /* in declaration order */
    size_t n_children;
};

struct dm_schema;

struct dm_schema *dm_schema_new(void);
/* Add declarations from text (may be called several times, e.g. gateway model + vendor
 * extensions). Returns 0, or -1 with px_err_msg naming the line. */
int dm_schema_load(struct dm_schema *s, const char *text);
int dm_schema_load_file(struct dm_schema *s, const char *path);
void dm_schema_free(struct dm_schema *s);
/* Look up a node by schema path ("Device.ManagementServer.URL",
 * "Device.ManagementServer.InformParameter.{i}."). NULL if absent. */
const struct dm_node *dm_schema_find(const struct dm_schema *s, const char *schema_path);
/* The root is a synthetic object node with name and path "" (id 0); its children are the
 * top-level objects ("Device."). */
const struct dm_node *dm_schema_root(const struct dm_schema *s);
unsigned dm_schema_node_count(const struct dm_schema *s);

/* ---------------- Model: one endpoint's tree ---------------- */

struct dm_model;
struct dm_request;

/* A provider owns the values of the subtree it is mounted on. Each op receives a request
 * whose items it answers (value or fault per item), then calls dm_request_done(req) exactly
 * once, synchronously or later. Ops may be NULL: get then answers every item with its
 * schema default, set/add/del answer 9001. */
struct dm_provider_ops {
    void (*get)(void *ctx, struct dm_request *req);
    /* Apply every item of req atomically (all or none). Items were already type-checked;
     * item->value is canonical. On failure set per-item faults and req->fault. */
    void (*set)(void *ctx, struct dm_request *req);
    /* AddObject: req->object is the new instance's object path ("...Table.7."), already
     * registered in the model; a fault makes the engine remove it again. */
    void (*add)(void *ctx, struct dm_request *req);
    /* DeleteObject: req->object is the instance path; the engine removes it from the model
     * after success. */
    void (*del)(void *ctx, struct dm_request *req);
};

struct dm_provider {
    const struct dm_provider_ops *ops;
    void *ctx;
};

/* One parameter of a request. */
struct dm_item {
    char *path;                 /* concrete path, e.g. "Device.X.3.Enable" */
    const struct dm_node *node; /* its schema node */
    char *value;                /* get: filled by the provider (malloc'd, owned by the item);
                                   set: the canonical new value */
    int fault;                  /* 0 or a 9xxx code */
    char *fault_string;         /* malloc'd or NULL */
    bool answered;              /* set by dm_item_set_value/dm_item_set_fault */
};

enum dm_op { DM_OP_GET = 0, DM_OP_SET, DM_OP_ADD, DM_OP_DEL };

struct dm_request {
    enum dm_op op;
    struct dm_model *model;
    struct dm_item *items;
    size_t n_items;
    char *object;   /* add/del: the instance path (for add, set by the engine once the
                       instance is registered; the caller gives the table with
                       dm_request_set_object) */
    unsigned instance; /* add: the new instance number once done without fault */
    int fault;      /* request-level fault (0 = ok) */
    char *fault_string;
    void *provider_data; /* free for the provider's use */
    /* internal: */
    void *priv;
};

/* Provider helpers to answer items. value is copied. */
void dm_item_set_value(struct dm_item *item, const char *value);
void dm_item_set_fault(struct dm_item *item, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dm_request_set_fault(struct dm_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dm_request_done(struct dm_request *req);

/* The schema must outlive the model and not change after dm_model_new. base NULL = no
 * deadlines. Free the callers' requests before the model (a provider may still answer a
 * request after that: it only touches its own copy). */
struct dm_model *dm_model_new(const struct dm_schema *schema, struct event_base *base);
void dm_model_free(struct dm_model *m);
const struct dm_schema *dm_model_schema(const struct dm_model *m);

/* Mount a provider on a schema subtree ("Device." for everything, or
 * "Device.ManagementServer."). The longest mounted prefix owns a node. */
int dm_mount(struct dm_model *m, const char *schema_path, const struct dm_provider *p);

/* Default deadline for provider answers, milliseconds (default 5000). */
void dm_model_set_deadline(struct dm_model *m, unsigned ms);

/* ---- Instances (the engine owns which exist; the caller persists them) ---- */

/* Register an instance of a table: table_path is the concrete table path ending in "."
 * ("Device.ManagementServer.InformParameter."). number 0 = allocate the next number (never
 * reused while the model lives: see dm_instance_next/dm_instance_set_next for persistence).
 * alias may be NULL. On success *out_number is the instance number. Returns 0, 9005 when
 * the path is not a table, 9004 when the number is taken. */
int dm_instance_add(struct dm_model *m, const char *table_path, unsigned number,
                    const char *alias, unsigned *out_number);
/* Remove an instance and everything below it. instance_path ends with "N.". */
int dm_instance_delete(struct dm_model *m, const char *instance_path);
bool dm_object_exists(const struct dm_model *m, const char *object_path);
/* The next number dm_instance_add would allocate for a table, and a way to restore it
 * from persistent storage after a restart. */
unsigned dm_instance_next(const struct dm_model *m, const char *table_path);
void dm_instance_set_next(struct dm_model *m, const char *table_path, unsigned next);
/* Instance numbers of a table, ascending; returns the count (up to max). */
size_t dm_instance_list(const struct dm_model *m, const char *table_path, unsigned *numbers,
                        size_t max);

/* ---- Paths ---- */

/* Expand a parameter name of GetParameterValues / GetParameterAttributes /
 * SetParameterAttributes: a full parameter path, or a partial path ending in '.' meaning
 * every parameter below it; "" means the top of the name hierarchy, i.e. every parameter of
 * the model (TR-069 A.3.2.2). Invalid names (see dm_resolve_param) are 9005.
 * Calls cb for each concrete parameter in schema order. Returns 0 or 9005. */
typedef void (*dm_param_cb)(void *arg, const char *path, const struct dm_node *node);
int dm_expand(const struct dm_model *m, const char *name, dm_param_cb cb, void *arg);

/* Resolve one full parameter path; NULL (with 9005 in *fault) if it does not exist. */
const struct dm_node *dm_resolve_param(const struct dm_model *m, const char *path, int *fault);
/* Resolve a concrete table path ("Device.X.Table.", "Device.X.2.Sub."): its table node
 * (writable = the ACS may add rows), or NULL (with 9005 in *fault) if it is none. */
const struct dm_node *dm_resolve_table(const struct dm_model *m, const char *path, int *fault);

/* GetParameterNames (A.3.2.3). path "" = the root. Calls cb(name, writable) for each
 * result in order: with next_level false, the object itself (for a partial path) and
 * everything below it; with next_level true, only its direct children (objects as "X.",
 * instances as "X.3."). A full parameter path with next_level true is 9003.
 * Returns 0, 9003 or 9005. */
typedef void (*dm_name_cb)(void *arg, const char *name, bool writable);
int dm_names(const struct dm_model *m, const char *path, bool next_level, dm_name_cb cb,
             void *arg);

/* ---- Asynchronous value operations ---- */

typedef void (*dm_done_cb)(void *arg, struct dm_request *req);

/* Start a request over items built by the caller with dm_request_new/dm_request_add. The
 * engine splits it per provider, waits for every provider or the deadline, then calls
 * done(arg, req) once, from the event loop or synchronously. The caller frees req with
 * dm_request_free inside or after done, which may happen before the providers answered
 * (they then answer a private copy that the engine discards).
 *
 * Faults: an item a provider leaves unanswered gets 9002 (get) or counts as applied (set);
 * on the deadline every unanswered item gets 9002 "provider did not answer within N ms"
 * and req->fault is 9002. Otherwise req->fault is the first provider request-level fault,
 * else for set 9003 if an item has a 9005-9008 fault (A.3.2.1), else the first item fault.
 * Get answers NumberOfEntries parameters itself and returns "" for hidden parameters.
 * Set goes to one provider at a time (in the order of their first items) and stops at the
 * first failing one:
 * providers are atomic each, cross-provider atomicity is not provided (the gateway model
 * has one provider per SetParameterValues in practice); a failure after an earlier group
 * succeeded is still reported as the request's fault. */
struct dm_request *dm_request_new(struct dm_model *m, enum dm_op op);
/* Add an item (path copied, node from dm_resolve_param/dm_expand; NULL = resolve it here,
 * an unknown path then gets 9005). value may be NULL. The returned pointer is valid until
 * the next dm_request_add. */
struct dm_item *dm_request_add(struct dm_request *req, const char *path,
                               const struct dm_node *node, const char *value);
/* Add/del: sets req->object (copied; assigning a malloc'd string to req->object works too).
 * Add: either the instance the caller already registered with dm_instance_add
 * ("Device.X.3."), or the AddObject ObjectName ("Device.X." or, with an alias,
 * "Device.X.[a].") for the engine to register the next instance and put its path in
 * req->object. Del: the DeleteObject instance path ("Device.X.3."). dm_request_start checks
 * it: 9005 if it names no existing table (add) or table instance (del, A.3.2.7), 9001
 * (Request denied) if the table exists but is read-only to the ACS (A.3.2.6 allows 9001;
 * the name itself is valid, so not 9005), 9004 if the instance number is taken; then it asks
 * the table's provider. req->instance is the instance number. Del removes the instance from
 * the model when the provider succeeds; add removes it again on any fault (including the
 * 9002 of the deadline). */
void dm_request_set_object(struct dm_request *req, const char *object_path);
void dm_request_start(struct dm_request *req, dm_done_cb done, void *arg);
void dm_request_free(struct dm_request *req);

/* SetParameterValues front half: check one name/value/xsi-type against the model without
 * touching any provider. Returns 0 (and *node, and *canonical malloc'd) or 9005/9006/9007/
 * 9008 with px_err_msg. */
int dm_check_set(const struct dm_model *m, const char *path, const char *value,
                 const char *xsi_type, const struct dm_node **node, char **canonical);

/* Value of a table's NumberOfEntries parameter, computed by the engine. */
bool dm_is_count_param(const struct dm_node *node);
unsigned dm_count_value(const struct dm_model *m, const char *param_path);

/* ---- Changes reported by providers ---- */

/* A provider reports that a parameter's value changed by itself (not by a set). The
 * model's change callback (set with dm_model_on_change) decides about notifications. A value
 * that fails dm_value_check is dropped with a log line. A get answer that fails
 * dm_value_text_check is dropped too (the item gets fault 9002, so an Inform leaves it out);
 * one that is merely not of its type is passed on: the schema-default path answers "" for
 * parameters without a default, and a whole GetParameterValues must not fail for that. */
typedef void (*dm_change_cb)(void *arg, const char *path, const struct dm_node *node,
                             const char *value);
void dm_model_on_change(struct dm_model *m, dm_change_cb cb, void *arg);
void dm_value_changed(struct dm_model *m, const char *path, const char *value);

#endif
