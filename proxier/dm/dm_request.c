/*
 * dm_request.c: asynchronous value operations on providers with a deadline (DESIGN.md "Data-
 * model providers", TR-069 A.3.2.1/A.3.2.2/A.3.2.6/A.3.2.7), and the SetParameterValues
 * checks (9005-9008).
 *
 * A request started by the caller (the "parent") is split into one sub-request per provider;
 * each provider only ever sees its own sub-request with copies of its items. The parent and
 * its subs share a reference-counted core: the caller holds one reference until
 * dm_request_free, every sub handed to a provider holds one until the provider's
 * dm_request_done. So when the deadline answers the caller first, the provider's late
 * dm_request_done still finds its sub alive, and the engine simply discards it.
 */
#include "proxier/dm/dm_internal.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"

typedef void (*provider_op)(void *ctx, struct dm_request *req);

struct req_core {
    unsigned refs;
    struct dm_request *parent; /* NULL once the caller freed it */
    dm_done_cb done;
    void *arg;
    struct event *timer;
    struct dm_request **subs; /* entries become NULL when the sub is freed */
    size_t n_subs;
    size_t next_sub;    /* subs[next_sub..] not yet given to a provider */
    size_t outstanding; /* given to a provider, not yet done */
    bool sequential;    /* set: one provider at a time */
    bool stop;          /* a sub failed: dispatch no more */
    bool advancing;     /* inside core_advance (providers may answer synchronously) */
    bool finished;      /* done was called, or the caller gave up */
};

struct req_priv {
    struct req_core *core;
    bool is_sub;
    size_t index;            /* sub: position in core->subs */
    size_t *map;             /* sub: item i answers parent item map[i] */
    struct dm_provider prov; /* sub: whom to ask (ops NULL = defaults) */
};

static struct req_priv *priv_of(const struct dm_request *req)
{
    return req->priv;
}

/* ---------------- Items ---------------- */

static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

void dm_item_set_value(struct dm_item *item, const char *value)
{
    free(item->value);
    item->value = strdup(value ? value : "");
    item->answered = true;
}

static void item_vfault(struct dm_item *item, int code, const char *fmt, va_list ap)
{
    free(item->fault_string);
    item->fault = code;
    item->fault_string = vformat(fmt, ap);
    item->answered = true;
}

void dm_item_set_fault(struct dm_item *item, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    item_vfault(item, code, fmt, ap);
    va_end(ap);
}

void dm_request_set_fault(struct dm_request *req, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(req->fault_string);
    req->fault = code;
    req->fault_string = vformat(fmt, ap);
    va_end(ap);
}

static void item_clear(struct dm_item *item)
{
    free(item->path);
    free(item->value);
    free(item->fault_string);
}

/* ---------------- Requests ---------------- */

static struct dm_request *request_alloc(struct dm_model *m, enum dm_op op, struct req_core *core,
                                        bool is_sub)
{
    struct dm_request *req = calloc(1, sizeof(*req));
    struct req_priv *priv = calloc(1, sizeof(*priv));
    if (!req || !priv) {
        free(req);
        free(priv);
        return NULL;
    }
    req->op = op;
    req->model = m;
    req->priv = priv;
    priv->core = core;
    priv->is_sub = is_sub;
    core->refs++;
    return req;
}

struct dm_request *dm_request_new(struct dm_model *m, enum dm_op op)
{
    struct req_core *core = calloc(1, sizeof(*core));
    if (!core)
        return NULL;
    struct dm_request *req = request_alloc(m, op, core, false);
    if (!req) {
        free(core);
        return NULL;
    }
    core->parent = req;
    core->sequential = op == DM_OP_SET;
    return req;
}

/* Room for element n of an array that grows by doubling: the capacity is implied by the
 * count (the next power of two), so no separate field is needed. Returns false on OOM. */
static bool grow_for(void **array, size_t n, size_t elem)
{
    if (n != 0 && (n & (n - 1)) != 0)
        return true; /* n is not a power of two: the room is already there */
    size_t cap = n ? 2 * n : 1;
    void *p = realloc(*array, cap * elem);
    if (!p)
        return false;
    *array = p;
    return true;
}

struct dm_item *dm_request_add(struct dm_request *req, const char *path,
                               const struct dm_node *node, const char *value)
{
    if (!grow_for((void **)&req->items, req->n_items, sizeof(*req->items)))
        return NULL;
    struct dm_item *item = &req->items[req->n_items];
    *item = (struct dm_item){.path = strdup(path), .node = node};
    if (value)
        item->value = strdup(value);
    if (!item->path || (value && !item->value)) {
        item_clear(item);
        return NULL;
    }
    req->n_items++;
    return item;
}

void dm_request_set_object(struct dm_request *req, const char *object_path)
{
    free(req->object);
    req->object = strdup(object_path);
}

static void core_unref(struct req_core *c)
{
    if (--c->refs)
        return;
    if (c->timer)
        event_free(c->timer);
    free(c->subs);
    free(c);
}

static void request_destroy(struct dm_request *req)
{
    for (size_t i = 0; i < req->n_items; i++)
        item_clear(&req->items[i]);
    free(req->items);
    free(req->object);
    free(req->fault_string);
    struct req_priv *priv = priv_of(req);
    struct req_core *core = priv->core;
    free(priv->map);
    free(priv);
    free(req);
    core_unref(core);
}

/* Subs never given to a provider die with the parent's outcome. */
static void core_drop_pending_subs(struct req_core *c)
{
    for (size_t i = c->next_sub; i < c->n_subs; i++) {
        if (c->subs[i])
            request_destroy(c->subs[i]);
        c->subs[i] = NULL;
    }
    c->next_sub = c->n_subs;
}

void dm_request_free(struct dm_request *req)
{
    if (!req)
        return;
    struct req_core *c = priv_of(req)->core;
    if (priv_of(req)->is_sub) {
        LOG_ERROR("dm", "dm_request_free on a provider's request: use dm_request_done");
        return;
    }
    c->parent = NULL;
    c->finished = true;
    if (c->timer)
        evtimer_del(c->timer);
    core_drop_pending_subs(c);
    request_destroy(req);
}

/* ---------------- Completion ---------------- */

static bool is_spv_fault(int code)
{
    return code >= PX_ERR_INVALID_PARAMETER_NAME && code <= PX_ERR_NON_WRITABLE_PARAMETER;
}

/* req->fault from the items when no request-level fault was given. */
static void request_summarise(struct dm_request *req)
{
    for (size_t i = 0; i < req->n_items && !req->fault; i++) {
        const struct dm_item *it = &req->items[i];
        if (!it->fault)
            continue;
        if (req->op == DM_OP_SET && is_spv_fault(it->fault))
            dm_request_set_fault(req, PX_ERR_INVALID_ARGUMENTS, "%s",
                                 px_err_default_string(PX_ERR_INVALID_ARGUMENTS));
        else
            dm_request_set_fault(req, it->fault, "%s",
                                 it->fault_string ? it->fault_string
                                                  : px_err_default_string(it->fault));
    }
}

static void core_finish(struct req_core *c)
{
    struct dm_request *req = c->parent;
    c->finished = true;
    if (c->timer)
        evtimer_del(c->timer);
    core_drop_pending_subs(c);
    if (!req)
        return;
    request_summarise(req);
    /* AddObject that failed (also by the deadline): forget the instance again. */
    if (req->op == DM_OP_ADD && req->fault && req->instance) {
        dm_instance_delete(req->model, req->object);
        req->instance = 0;
    }
    if (!c->done)
        return;
    c->refs++; /* the caller may free req inside done */
    c->done(c->arg, req);
    core_unref(c);
}

/* Defaults when a provider has no op (dm.h): get answers schema defaults, the rest 9001. */
static void answer_defaults(struct dm_request *sub)
{
    if (sub->op != DM_OP_GET) {
        dm_request_set_fault(sub, PX_ERR_REQUEST_DENIED, "no provider accepts this change");
        return;
    }
    for (size_t i = 0; i < sub->n_items; i++)
        dm_item_set_value(&sub->items[i], sub->items[i].node->default_value);
}

static provider_op op_of(const struct dm_provider_ops *ops, enum dm_op op)
{
    if (!ops)
        return NULL;
    switch (op) {
    case DM_OP_GET: return ops->get;
    case DM_OP_SET: return ops->set;
    case DM_OP_ADD: return ops->add;
    default: return ops->del;
    }
}

/* Give the next subs to their providers, then finish when nothing is outstanding. Re-entered
 * from synchronous answers, which only record their result. */
static void core_advance(struct req_core *c)
{
    if (c->finished || c->advancing)
        return;
    c->advancing = true;
    c->refs++;
    while (!c->finished) {
        bool may_start = !c->sequential || c->outstanding == 0;
        if (c->next_sub < c->n_subs && !c->stop && may_start) {
            struct dm_request *sub = c->subs[c->next_sub++];
            struct req_priv *p = priv_of(sub);
            provider_op fn = op_of(p->prov.ops, sub->op);
            c->outstanding++;
            if (fn) {
                fn(p->prov.ctx, sub);
            } else {
                answer_defaults(sub);
                dm_request_done(sub);
            }
            continue;
        }
        if (c->outstanding == 0)
            core_finish(c);
        break;
    }
    c->advancing = false;
    core_unref(c);
}

/* A value a provider answers (from a device, MQTT, UPnP, a program) enters the model only
 * when it is text XML can carry (dm.h: dm_value_text_check); otherwise it is dropped with a
 * log line. */
static bool provider_value_valid(const struct dm_item *it, const char *value)
{
    if (dm_value_text_check(value ? value : "") == 0)
        return true;
    LOG_WARN("dm", "%s: value from the provider dropped: %s", it->path, px_err_msg());
    return false;
}

/* Move one provider answer into the parent's item. */
static void merge_item(struct dm_request *req, struct dm_item *dst, struct dm_item *src)
{
    if (src->answered && !src->fault && req->op == DM_OP_GET &&
        !provider_value_valid(dst, src->value)) {
        dm_item_set_fault(dst, PX_ERR_INTERNAL, "%s: the provider gave an invalid value",
                          dst->path);
    } else if (src->answered && src->fault) {
        dst->fault = src->fault;
        dst->fault_string = src->fault_string;
        src->fault_string = NULL;
    } else if (src->answered && req->op == DM_OP_GET) {
        free(dst->value);
        /* hidden: reads return "" (TR-106, e.g. ManagementServer.Password) */
        dst->value = dst->node->hidden ? strdup("") : src->value;
        if (dst->node->hidden)
            free(src->value);
        src->value = NULL;
    } else if (!src->answered && req->op == DM_OP_GET) {
        dm_item_set_fault(dst, PX_ERR_INTERNAL, "%s: the provider gave no value", dst->path);
    }
    dst->answered = true;
}

static void merge_sub(struct req_core *c, struct dm_request *sub)
{
    struct dm_request *req = c->parent;
    struct req_priv *p = priv_of(sub);
    bool failed = sub->fault != 0;
    for (size_t i = 0; i < sub->n_items; i++) {
        merge_item(req, &req->items[p->map[i]], &sub->items[i]);
        failed |= req->items[p->map[i]].fault != 0;
    }
    if (sub->fault && !req->fault) {
        req->fault = sub->fault;
        req->fault_string = sub->fault_string;
        sub->fault_string = NULL;
    }
    /* A failed set stops the providers after it; gets run in parallel anyway. */
    c->stop |= failed && c->sequential;
    if (!sub->fault && req->op == DM_OP_DEL)
        dm_instance_delete(req->model, req->object);
}

void dm_request_done(struct dm_request *req)
{
    struct req_priv *p = priv_of(req);
    if (!p->is_sub) {
        LOG_ERROR("dm", "dm_request_done on a caller's request ignored");
        return;
    }
    struct req_core *c = p->core;
    c->subs[p->index] = NULL;
    c->outstanding--;
    if (!c->finished && c->parent)
        merge_sub(c, req);
    else
        LOG_DEBUG("dm", "late provider answer discarded (deadline passed or caller gone)");
    c->refs++;
    request_destroy(req);
    core_advance(c);
    core_unref(c);
}

static void deadline_fired(evutil_socket_t fd, short what, void *arg)
{
    struct req_core *c = arg;
    struct dm_request *req = c->parent;
    if (c->finished || !req)
        return;
    unsigned ms = req->model->deadline_ms;
    LOG_WARN("dm", "provider did not answer within %u ms", ms);
    for (size_t i = 0; i < req->n_items; i++)
        if (!req->items[i].answered)
            dm_item_set_fault(&req->items[i], PX_ERR_INTERNAL,
                              "provider did not answer within %u ms", ms);
    if (!req->fault)
        dm_request_set_fault(req, PX_ERR_INTERNAL, "provider did not answer within %u ms", ms);
    core_finish(c);
}

/* ---------------- Splitting and starting ---------------- */

static struct dm_request *sub_new(struct req_core *c, const struct dm_provider *prov)
{
    struct dm_request *parent = c->parent;
    struct dm_request **subs = realloc(c->subs, (c->n_subs + 1) * sizeof(*subs));
    if (!subs)
        return NULL;
    c->subs = subs;
    struct dm_request *sub = request_alloc(parent->model, parent->op, c, true);
    if (!sub)
        return NULL;
    struct req_priv *p = priv_of(sub);
    p->index = c->n_subs;
    if (prov)
        p->prov = *prov;
    if (parent->object)
        sub->object = strdup(parent->object);
    c->subs[c->n_subs++] = sub;
    return sub;
}

/* The sub of provider prov (NULL = unmounted: defaults), created on first use. */
static struct dm_request *sub_for(struct req_core *c, const struct dm_provider *prov)
{
    for (size_t i = 0; i < c->n_subs; i++) {
        struct req_priv *p = priv_of(c->subs[i]);
        bool same = prov ? p->prov.ops == prov->ops && p->prov.ctx == prov->ctx
                         : p->prov.ops == NULL && p->prov.ctx == NULL;
        if (same)
            return c->subs[i];
    }
    return sub_new(c, prov);
}

static int sub_take_item(struct dm_request *sub, const struct dm_item *it, size_t index)
{
    struct req_priv *p = priv_of(sub);
    if (!grow_for((void **)&p->map, sub->n_items, sizeof(*p->map)))
        return -1;
    p->map[sub->n_items] = index;
    return dm_request_add(sub, it->path, it->node, it->value) ? 0 : -1;
}

/* Items the engine answers itself: unknown paths and NumberOfEntries (get). */
static bool answer_locally(struct dm_request *req, struct dm_item *it)
{
    int fault = 0;
    if (!it->node)
        it->node = dm_resolve_param(req->model, it->path, &fault);
    if (!it->node) {
        dm_item_set_fault(it, fault, "%s", px_err_msg());
        return true;
    }
    if (req->op != DM_OP_GET || !dm_is_count_param(it->node))
        return it->answered;
    char value[16];
    snprintf(value, sizeof(value), "%u", dm_count_value(req->model, it->path));
    dm_item_set_value(it, value);
    return true;
}

static int split_items(struct req_core *c)
{
    struct dm_request *req = c->parent;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (answer_locally(req, it))
            continue;
        struct dm_request *sub = sub_for(c, dm_model_owner(req->model, it->node));
        if (!sub || sub_take_item(sub, it, i) < 0)
            return px_err_set(PX_ERR_INTERNAL, "out of memory");
    }
    return 0;
}

/* "Device.X.[a]." -> table "Device.X.", alias "a" (TR-069 A.3.2.6). */
static char *split_alias(const char *object, char **alias)
{
    size_t n = strlen(object);
    *alias = NULL;
    if (n < 4 || strcmp(object + n - 2, "].") != 0)
        return strdup(object);
    const char *open = object + n - 2;
    while (open > object && *open != '[')
        open--;
    if (*open != '[' || open == object || open[-1] != '.')
        return strdup(object);
    *alias = strndup(open + 1, (size_t)(object + n - 2 - open - 1));
    return strndup(object, (size_t)(open - object));
}

/* The caller either registered the instance itself (object "Device.X.3.", dm.h) or gives
 * the table ("Device.X." or "Device.X.[alias].") for the engine to register it. */
static int prepare_add(struct dm_request *req)
{
    char *alias = NULL;
    char *table_path = split_alias(req->object, &alias);
    struct dm_pos pos;
    int rc = dm_pos_resolve(req->model, table_path, &pos);
    bool registered = !rc && !alias && !pos.table && !pos.param &&
                      pos.inst->node->kind == DM_TABLE;
    const struct dm_node *table = registered ? pos.inst->node : pos.table;
    if (!rc && !table)
        rc = px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s is not a multi-instance object",
                        req->object);
    if (!rc && !table->writable)
        rc = px_err_set(PX_ERR_REQUEST_DENIED, "%s is read-only: instances are created by "
                        "the CPE only", req->object);
    unsigned number = registered ? pos.inst->number : 0;
    if (!rc && !registered)
        rc = dm_instance_add(req->model, table_path, 0, alias, &number);
    if (!rc && !registered) {
        struct buf b = BUF_INIT;
        dm_inst_path(pos.inst, &b);
        buf_printf(&b, "%s.%u.", pos.table->name, number);
        free(req->object);
        req->object = buf_steal(&b, NULL);
    }
    if (!rc)
        req->instance = number;
    free(table_path);
    free(alias);
    return rc;
}

static int prepare_del(struct dm_request *req)
{
    struct dm_pos pos;
    int rc = dm_pos_resolve(req->model, req->object, &pos);
    if (!rc && (pos.param || pos.table || pos.inst->node->kind != DM_TABLE))
        rc = px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s is not an object instance "
                        "(A.3.2.7)", req->object);
    if (!rc && !pos.inst->node->writable)
        rc = px_err_set(PX_ERR_REQUEST_DENIED, "%s cannot be deleted: the table is read-only",
                        req->object);
    return rc;
}

/* Add/del go to the provider of the table. */
static int split_object(struct req_core *c)
{
    struct dm_request *req = c->parent;
    if (!req->object)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "no object given");
    int rc = req->op == DM_OP_ADD ? prepare_add(req) : prepare_del(req);
    if (rc)
        return rc;
    struct dm_pos pos; /* the instance: prepared above, so it resolves */
    const struct dm_provider *prov = dm_pos_resolve(req->model, req->object, &pos) == 0
                                         ? dm_model_owner(req->model, pos.inst->node)
                                         : NULL;
    return sub_new(c, prov) ? 0 : px_err_set(PX_ERR_INTERNAL, "out of memory");
}

static void deadline_arm(struct req_core *c, const struct dm_model *m)
{
    if (!m->base || !m->deadline_ms || c->n_subs == 0)
        return;
    c->timer = evtimer_new(m->base, deadline_fired, c);
    if (!c->timer)
        return;
    struct timeval tv = {.tv_sec = m->deadline_ms / 1000,
                         .tv_usec = (suseconds_t)(m->deadline_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

void dm_request_start(struct dm_request *req, dm_done_cb done, void *arg)
{
    struct req_core *c = priv_of(req)->core;
    c->done = done;
    c->arg = arg;
    bool objects = req->op == DM_OP_ADD || req->op == DM_OP_DEL;
    int rc = objects ? split_object(c) : split_items(c);
    if (rc) {
        dm_request_set_fault(req, rc, "%s", px_err_msg());
        c->stop = true;
    }
    deadline_arm(c, req->model);
    core_advance(c);
}

/* ---------------- SetParameterValues checks ---------------- */

int dm_check_set(const struct dm_model *m, const char *path, const char *value,
                 const char *xsi_type, const struct dm_node **node, char **canonical)
{
    int rc;
    const struct dm_node *n = dm_resolve_param(m, path, &rc);
    if (node)
        *node = n;
    if (canonical)
        *canonical = NULL;
    if (!n)
        return rc;
    if (!n->writable)
        return px_err_set(PX_ERR_NON_WRITABLE_PARAMETER, "%s is not writable", path);
    rc = dm_value_check(&n->type, value ? value : "", xsi_type, canonical);
    if (rc) {
        char why[256];
        snprintf(why, sizeof(why), "%s", px_err_msg());
        return px_err_set(rc, "%s: %s", path, why);
    }
    return 0;
}
