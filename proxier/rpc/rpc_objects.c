/*
 * rpc_objects.c: AddObject (A.3.2.6) and DeleteObject (A.3.2.7). The engine registers the
 * instance, the provider creates or removes what it owns, and the instance is persisted in
 * the cache so that its number survives a restart and is never reused.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"
#include "proxier/rpc/rpc_internal.h"

/* The engine resolves ObjectName and refuses what is not a writable table (instance):
 * 9005 for a name that is none, 9001 for a read-only table (dm.h). Two things it cannot
 * know: this CPE has no Alias-Based Addressing (AliasBasedAddressing is false, 3.6.1), so an
 * "[alias]" segment is no valid name; and an AddObject naming an instance ("Table.3.") is
 * no table, which the engine would take for an instance registered by its caller. */
static int check_object_name(struct rpc_call *call, const char *path, bool add)
{
    size_t len = strlen(path);
    if (len < 2 || path[len - 1] != '.')
        return px_err_set(PX_ERR_INVALID_PARAMETER_NAME,
                          "\"%s\" is not an object path ending in \".\"", path);
    if (strchr(path, '['))
        return px_err_set(PX_ERR_INVALID_PARAMETER_NAME,
                          "%s: instance aliases are not supported (AliasBasedAddressing is "
                          "false)", path);
    size_t last = len - 1;
    while (last > 0 && path[last - 1] != '.')
        last--;
    if (add && strspn(path + last, "0123456789") == len - 1 - last)
        return px_err_set(PX_ERR_INVALID_PARAMETER_NAME,
                          "%s names an instance: AddObject takes the table (A.3.2.6)", path);
    call->object_name = strdup(path);
    return 0;
}

static void set_parameter_key(struct rpc_call *call)
{
    /* Without a ParameterKey argument the ParameterKey stays as it is. */
    if (call->parameter_key)
        endpoint_setting_set(call->ep, SETTING_PARAMETER_KEY, call->parameter_key);
}

/* call->object_name is the table; req->object the new instance, req->instance its number. */
static void add_done(void *arg, struct dm_request *req)
{
    struct rpc_call *call = arg;
    struct endpoint *ep = call->ep;
    if (req->fault) { /* the engine has forgotten the instance again */
        rpc_fault(call, req->fault, req->fault_string);
        dm_request_free(req);
        return;
    }
    struct cache *c = ep->env.cache;
    bool begun = cache_begin(c) == CACHE_OK;
    bool ok = begun &&
              cache_instance_add(c, ep->key, call->object_name, req->instance, NULL) ==
                  CACHE_OK &&
              cache_instance_next_set(c, ep->key, call->object_name,
                                      dm_instance_next(ep->model, call->object_name)) ==
                  CACHE_OK;
    /* cache_commit closes the transaction even when it fails: the rollback is for the rest */
    bool unfinished = begun && !ok;
    if (ok && cache_commit(c) == CACHE_OK) {
        set_parameter_key(call);
        struct soap_response resp = {.method = SOAP_AddObject,
                                     .instance_number = req->instance,
                                     .status = 0};
        rpc_reply(call, &resp);
    } else {
        px_err_set(PX_ERR_INTERNAL, "cannot store the new instance: %s", cache_errmsg(c));
        if (unfinished)
            cache_rollback(c);
        rpc_fault(call, PX_ERR_INTERNAL, px_err_msg());
        dm_instance_delete(ep->model, req->object);
    }
    dm_request_free(req);
}

/* Start an AddObject or DeleteObject of ObjectName through the engine. */
static int start_object_request(struct rpc_call *call, const struct soap_msg *msg, enum dm_op op,
                                dm_done_cb done)
{
    int rc = check_object_name(call, msg->object_name ? msg->object_name : "",
                               op == DM_OP_ADD);
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
        return rc;
    }
    call->parameter_key = msg->has_parameter_key ? strdup(msg->parameter_key) : NULL;
    struct dm_request *req = dm_request_new(call->ep->model, op);
    dm_request_set_object(req, call->object_name);
    dm_request_start(req, done, call);
    return 0;
}

int rpc_add_object(struct rpc_call *call, const struct soap_msg *msg)
{
    /* A.3.2.6: a table holds at most cwmp.max_instances rows we create for the ACS; beyond
     * that 9004, so that an ACS cannot grow the cache without bound. */
    const char *name = msg->object_name ? msg->object_name : "";
    unsigned max = call->ep->env.cfg->max_instances;
    unsigned *numbers = malloc((max + 1) * sizeof(*numbers));
    size_t rows = numbers ? dm_instance_list(call->ep->model, name, numbers, max + 1) : 0;
    free(numbers);
    if (rows >= max) {
        rpc_fault(call, PX_ERR_RESOURCES_EXCEEDED,
                  "the table already holds the most rows this CPE supports");
        return PX_ERR_RESOURCES_EXCEEDED;
    }
    return start_object_request(call, msg, DM_OP_ADD, add_done);
}

/* One transaction, or nothing when it cannot begin. A failed delete dooms the transaction, so
 * the commit reports it; cache_commit closes the transaction even when it fails. */
static int forget_object(struct cache *c, const char *key, const char *object)
{
    if (cache_begin(c) != CACHE_OK)
        return CACHE_ERROR;
    cache_instance_delete(c, key, object);
    cache_attr_delete_prefix(c, key, object);
    cache_value_delete_prefix(c, key, object);
    return cache_commit(c);
}

/* The provider has removed what it owns and the engine the instance: forget it in the
 * cache with the values and attributes below it (A.3.2.7). */
static void delete_done(void *arg, struct dm_request *req)
{
    struct rpc_call *call = arg;
    struct endpoint *ep = call->ep;
    if (req->fault) {
        rpc_fault(call, req->fault, req->fault_string);
        dm_request_free(req);
        return;
    }
    struct cache *c = ep->env.cache;
    if (forget_object(c, ep->key, call->object_name) != CACHE_OK) {
        rpc_fault(call, PX_ERR_INTERNAL, cache_errmsg(c));
        dm_request_free(req);
        return;
    }
    set_parameter_key(call);
    struct soap_response resp = {.method = SOAP_DeleteObject, .status = 0};
    rpc_reply(call, &resp);
    dm_request_free(req);
}

int rpc_delete_object(struct rpc_call *call, const struct soap_msg *msg)
{
    return start_object_request(call, msg, DM_OP_DEL, delete_done);
}
