/*
 * rpc_params.c: GetParameterValues (A.3.2.2), SetParameterValues (A.3.2.1),
 * GetParameterNames (A.3.2.3), SetParameterAttributes (A.3.2.4) and
 * GetParameterAttributes (A.3.2.5) over the data-model engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/notify.h"
#include "proxier/core/setvalues.h"
#include "proxier/dm/dm.h"
#include "proxier/rpc/rpc_internal.h"

/* Bound on what one request may expand to (fault 9004 beyond it). */
#define RPC_MAX_PARAMS 200000u

struct expand_ctx {
    struct dm_request *req;
    size_t count;
};

static void add_expanded(void *arg, const char *path, const struct dm_node *node)
{
    struct expand_ctx *ec = arg;
    if (++ec->count <= RPC_MAX_PARAMS)
        dm_request_add(ec->req, path, node, NULL);
}

/* Expand every name of a GetParameterValues/GetParameterAttributes into req. */
static int expand_names(struct rpc_call *call, const struct soap_msg *msg, struct dm_request *req)
{
    struct expand_ctx ec = {.req = req};
    for (size_t i = 0; i < msg->n_names; i++) {
        int rc = dm_expand(call->ep->model, msg->names[i], add_expanded, &ec);
        if (rc) {
            rpc_fault(call, rc, px_err_msg());
            return rc;
        }
    }
    if (ec.count > RPC_MAX_PARAMS) {
        rpc_fault(call, PX_ERR_RESOURCES_EXCEEDED, "the request names too many parameters");
        return PX_ERR_RESOURCES_EXCEEDED;
    }
    return 0;
}

/* ---- GetParameterValues ---- */

static void gpv_done(void *arg, struct dm_request *req)
{
    struct rpc_call *call = arg;
    struct soap_value *values = calloc(req->n_items ? req->n_items : 1, sizeof(*values));
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (it->fault) {
            rpc_fault(call, it->fault == PX_ERR_INTERNAL ? PX_ERR_INTERNAL : it->fault,
                      it->fault_string);
            goto exit;
        }
        values[i].name = it->path;
        /* hidden parameters (passwords) always read as "" (TR-106 3.2). */
        values[i].value = it->node->hidden || !it->value ? "" : it->value;
        values[i].type = dm_type_xsd(&it->node->type);
    }
    struct soap_response resp = {.method = SOAP_GetParameterValues,
                                 .values = values,
                                 .n_values = req->n_items};
    rpc_reply(call, &resp);
exit:
    free(values);
    dm_request_free(req);
}

int rpc_get_parameter_values(struct rpc_call *call, const struct soap_msg *msg)
{
    struct dm_request *req = dm_request_new(call->ep->model, DM_OP_GET);
    int rc = expand_names(call, msg, req);
    if (rc) {
        dm_request_free(req);
        return rc;
    }
    dm_request_start(req, gpv_done, call);
    return 0;
}

/* ---- SetParameterValues ---- */

/* A.3.2.1: 9003 naming each parameter in error; the FaultString says what the first one
 * is wrong about. */
static void fault_spv_list(struct rpc_call *call, const struct setvalues_fault *list, size_t n)
{
    struct soap_spv_fault *faults = calloc(n, sizeof(*faults));
    for (size_t i = 0; faults && i < n; i++)
        faults[i] = (struct soap_spv_fault){list[i].name, list[i].code, list[i].string};
    if (!faults) {
        rpc_fault(call, PX_ERR_INTERNAL, "out of memory");
        return;
    }
    char text[512];
    const char *first = faults[0].string && *faults[0].string
                            ? faults[0].string
                            : px_err_default_string(faults[0].code);
    if (n == 1)
        snprintf(text, sizeof(text), "%s", first);
    else
        snprintf(text, sizeof(text), "%s (and %zu more parameters in error)", first, n - 1);
    rpc_fault_spv(call, PX_ERR_INVALID_ARGUMENTS, text, faults, n);
    free(faults);
}

static void spv_done(void *arg, int fault, const char *fault_string,
                     const struct setvalues_fault *faults, size_t n)
{
    struct rpc_call *call = arg;
    if (n > 0) {
        fault_spv_list(call, faults, n);
    } else if (fault) {
        rpc_fault(call, fault, fault_string);
    } else {
        struct soap_response resp = {.method = SOAP_SetParameterValues, .status = 0};
        rpc_reply(call, &resp);
    }
}

int rpc_set_parameter_values(struct rpc_call *call, const struct soap_msg *msg)
{
    struct setvalues *s = setvalues_new(call->ep, SETVALUES_ACS);
    if (!s) {
        rpc_fault(call, PX_ERR_INTERNAL, "out of memory");
        return PX_ERR_INTERNAL;
    }
    for (size_t i = 0; i < msg->n_values; i++) {
        const struct soap_param_value *pv = &msg->values[i];
        if (setvalues_add(s, pv->name, pv->value, pv->type) == PX_ERR_INVALID_ARGUMENTS) {
            rpc_fault(call, PX_ERR_INVALID_ARGUMENTS, px_err_msg()); /* a name twice */
            setvalues_free(s);
            return PX_ERR_INVALID_ARGUMENTS;
        }
    }
    const struct setvalues_fault *faults;
    size_t n_faults = setvalues_faults(s, &faults);
    /* Without a ParameterKey argument the ParameterKey stays as it is. */
    if (msg->has_parameter_key)
        setvalues_parameter_key(s, msg->parameter_key);
    setvalues_apply(s, spv_done, call);
    return n_faults ? PX_ERR_INVALID_ARGUMENTS : 0;
}

/* ---- GetParameterNames ---- */

struct names_ctx {
    struct soap_name_info *names;
    size_t n, cap;
};

static void add_name(void *arg, const char *name, bool writable)
{
    struct names_ctx *nc = arg;
    if (nc->n == nc->cap) {
        nc->cap = nc->cap ? nc->cap * 2 : 64;
        nc->names = realloc(nc->names, nc->cap * sizeof(*nc->names));
    }
    nc->names[nc->n++] = (struct soap_name_info){strdup(name), writable};
}

int rpc_get_parameter_names(struct rpc_call *call, const struct soap_msg *msg)
{
    struct names_ctx nc = {0};
    const char *path = msg->parameter_path ? msg->parameter_path : "";
    int rc = dm_names(call->ep->model, path, msg->next_level, add_name, &nc);
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
    } else {
        struct soap_response resp = {.method = SOAP_GetParameterNames,
                                     .names = nc.names,
                                     .n_names = nc.n};
        rpc_reply(call, &resp);
    }
    for (size_t i = 0; i < nc.n; i++)
        free((char *)nc.names[i].name);
    free(nc.names);
    return rc;
}

/* ---- Attributes ---- */

struct attr_list {
    struct soap_attribute *attrs;
    char **access; /* the comma-separated list each attribute's array points into */
    const char ***items;
    size_t n;
};

/* Split "a,b" into an array of pointers into a copy (owned by the list). */
static size_t split_access(char *list, const char ***out)
{
    size_t n = 0;
    *out = NULL;
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        *out = realloc(*out, (n + 1) * sizeof(char *));
        (*out)[n++] = tok;
    }
    return n;
}

int rpc_get_parameter_attributes(struct rpc_call *call, const struct soap_msg *msg)
{
    struct dm_request *req = dm_request_new(call->ep->model, DM_OP_GET);
    int rc = expand_names(call, msg, req);
    if (rc) {
        dm_request_free(req);
        return rc;
    }
    struct attr_list al = {0};
    al.n = req->n_items;
    al.attrs = calloc(al.n ? al.n : 1, sizeof(*al.attrs));
    al.access = calloc(al.n ? al.n : 1, sizeof(char *));
    al.items = calloc(al.n ? al.n : 1, sizeof(char **));
    for (size_t i = 0; i < al.n && !rc; i++) {
        struct dm_item *it = &req->items[i];
        int notification;
        rc = notify_attr_get(call->ep, it->path, it->node, &notification, &al.access[i]);
        if (rc)
            break;
        al.attrs[i].name = it->path;
        al.attrs[i].notification = notification;
        al.attrs[i].n_access_list = split_access(al.access[i], &al.items[i]);
        al.attrs[i].access_list = al.items[i];
    }
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
    } else {
        struct soap_response resp = {.method = SOAP_GetParameterAttributes,
                                     .attributes = al.attrs,
                                     .n_attributes = al.n};
        rpc_reply(call, &resp);
    }
    for (size_t i = 0; i < al.n; i++) {
        free(al.access[i]);
        free(al.items[i]);
    }
    free(al.access);
    free(al.items);
    free(al.attrs);
    dm_request_free(req);
    return rc;
}

struct spa_target {
    char *path;
    const struct dm_node *node;
    const struct soap_set_attribute *attr;
};

struct spa_ctx {
    struct spa_target *targets;
    size_t n;
    const struct soap_set_attribute *attr;
};

static void add_spa_target(void *arg, const char *path, const struct dm_node *node)
{
    struct spa_ctx *sc = arg;
    sc->targets = realloc(sc->targets, (sc->n + 1) * sizeof(*sc->targets));
    sc->targets[sc->n++] = (struct spa_target){strdup(path), node, sc->attr};
}

/* A.3.2.4: "Subscriber" is the only entity we know; the CPE "MUST ignore any other
 * individual values in this array that it does not understand". */
static char *join_access(const struct soap_set_attribute *a)
{
    bool subscriber = false;
    for (size_t i = 0; i < a->n_access_list; i++)
        subscriber |= !strcmp(a->access_list[i], "Subscriber");
    return strdup(subscriber ? "Subscriber" : "");
}

/* A.3.2.4: every entry is checked before any is applied; the whole call is one change. */
int rpc_set_parameter_attributes(struct rpc_call *call, const struct soap_msg *msg)
{
    struct spa_ctx sc = {0};
    int rc = 0;
    for (size_t i = 0; i < msg->n_attributes && !rc; i++) {
        const struct soap_set_attribute *a = &msg->attributes[i];
        size_t first = sc.n;
        sc.attr = a;
        rc = dm_expand(call->ep->model, a->name, add_spa_target, &sc);
        for (size_t k = first; k < sc.n && !rc && a->notification_change; k++)
            rc = notify_attr_check(sc.targets[k].node, a->notification);
    }
    struct cache *c = call->ep->env.cache;
    if (!rc) {
        cache_begin(c);
        for (size_t k = 0; k < sc.n && !rc; k++) {
            const struct soap_set_attribute *a = sc.targets[k].attr;
            char *access = join_access(a);
            rc = notify_attr_set(call->ep, sc.targets[k].path, sc.targets[k].node,
                                 a->notification_change, a->notification,
                                 a->access_list_change, access);
            free(access);
        }
        if (rc)
            cache_rollback(c);
        else if (cache_commit(c) != CACHE_OK)
            rc = px_err_set(PX_ERR_INTERNAL, "cannot store attributes: %s", cache_errmsg(c));
    }
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
    } else {
        struct soap_response resp = {.method = SOAP_SetParameterAttributes};
        rpc_reply(call, &resp);
    }
    for (size_t k = 0; k < sc.n; k++)
        free(sc.targets[k].path);
    free(sc.targets);
    return rc;
}
