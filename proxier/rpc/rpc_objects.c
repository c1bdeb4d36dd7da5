/*
 * rpc_objects.c: AddObject (A.3.2.6) and DeleteObject (A.3.2.7). The engine registers the
 * instance, the provider creates or removes what it owns, and the instance is persisted in
 * the cache so that its number survives a restart and is never reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"
#include "proxier/rpc/rpc_internal.h"

/* "Device.A.3.B." -> "Device.A.{i}.B." (the schema path of a concrete object path). */
static char *schema_path_of(const char *path)
{
    struct buf b = BUF_INIT;
    const char *seg = path;
    while (*seg) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        bool number = len > 0 && strspn(seg, "0123456789") == len;
        if (number)
            buf_puts(&b, "{i}");
        else
            buf_append(&b, seg, len);
        if (!dot)
            break;
        buf_puts(&b, ".");
        seg = dot + 1;
    }
    return buf_steal(&b, NULL);
}

/* The writable table named by a path ending in "Table." (AddObject) or "Table.N."
 * (DeleteObject); 9005 otherwise. */
static const struct dm_node *writable_table(struct rpc_call *call, const char *path,
                                            bool instance)
{
    size_t len = strlen(path);
    if (len < 2 || path[len - 1] != '.') {
        px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s is not an object path ending in \".\"",
                   path);
        return NULL;
    }
    char *schema = schema_path_of(path);
    /* The schema names a table "X.{i}."; AddObject names it "X.". */
    if (!instance && schema) {
        char *with_i = malloc(strlen(schema) + 5);
        sprintf(with_i, "%s{i}.", schema);
        free(schema);
        schema = with_i;
    }
    const struct dm_node *node =
        schema ? dm_schema_find(dm_model_schema(call->ep->model), schema) : NULL;
    free(schema);
    if (!node || node->kind != DM_TABLE) {
        px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s is not a table%s", path,
                   instance ? " instance" : "");
        return NULL;
    }
    if (!node->writable) {
        px_err_set(PX_ERR_INVALID_PARAMETER_NAME,
                   "the ACS cannot %s instances of %s (a read-only table)",
                   instance ? "delete" : "add", node->path);
        return NULL;
    }
    return node;
}

static void set_parameter_key(struct rpc_call *call)
{
    endpoint_setting_set(call->ep, SETTING_PARAMETER_KEY,
                         call->parameter_key ? call->parameter_key : "");
}

static void add_done(void *arg, struct dm_request *req)
{
    struct rpc_call *call = arg;
    struct endpoint *ep = call->ep;
    char instance[300];
    snprintf(instance, sizeof(instance), "%s%u.", call->object_name, call->number);
    int rc = req->fault;
    if (!rc) {
        struct cache *c = ep->env.cache;
        cache_begin(c);
        bool ok = cache_instance_add(c, ep->key, call->object_name, call->number, NULL) ==
                      CACHE_OK &&
                  cache_instance_next_set(c, ep->key, call->object_name,
                                          dm_instance_next(ep->model, call->object_name)) ==
                      CACHE_OK;
        if (ok && cache_commit(c) == CACHE_OK) {
            set_parameter_key(call);
            struct soap_response resp = {.method = SOAP_AddObject,
                                         .instance_number = call->number,
                                         .status = 0};
            rpc_reply(call, &resp);
            dm_request_free(req);
            return;
        }
        cache_rollback(c);
        rc = px_err_set(PX_ERR_INTERNAL, "cannot store the new instance: %s", cache_errmsg(c));
        rpc_fault(call, rc, px_err_msg());
    } else {
        rpc_fault(call, rc, req->fault_string);
    }
    dm_instance_delete(ep->model, instance);
    dm_request_free(req);
}

int rpc_add_object(struct rpc_call *call, const struct soap_msg *msg)
{
    const char *path = msg->object_name ? msg->object_name : "";
    if (!writable_table(call, path, false) || !dm_object_exists(call->ep->model, path)) {
        if (!*px_err_msg())
            px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s does not exist", path);
        rpc_fault(call, PX_ERR_INVALID_PARAMETER_NAME, px_err_msg());
        return PX_ERR_INVALID_PARAMETER_NAME;
    }
    int rc = dm_instance_add(call->ep->model, path, 0, NULL, &call->number);
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
        return rc;
    }
    call->object_name = strdup(path);
    call->parameter_key = strdup(msg->parameter_key ? msg->parameter_key : "");
    struct dm_request *req = dm_request_new(call->ep->model, DM_OP_ADD);
    char instance[300];
    snprintf(instance, sizeof(instance), "%s%u.", path, call->number);
    req->object = strdup(instance);
    dm_request_start(req, add_done, call);
    return 0;
}

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
    cache_begin(c);
    cache_instance_delete(c, ep->key, call->object_name);
    cache_attr_delete_prefix(c, ep->key, call->object_name);
    cache_value_delete_prefix(c, ep->key, call->object_name);
    if (cache_commit(c) != CACHE_OK) {
        cache_rollback(c);
        rpc_fault(call, PX_ERR_INTERNAL, cache_errmsg(c));
        dm_request_free(req);
        return;
    }
    dm_instance_delete(ep->model, call->object_name);
    set_parameter_key(call);
    struct soap_response resp = {.method = SOAP_DeleteObject, .status = 0};
    rpc_reply(call, &resp);
    dm_request_free(req);
}

int rpc_delete_object(struct rpc_call *call, const struct soap_msg *msg)
{
    const char *path = msg->object_name ? msg->object_name : "";
    if (!writable_table(call, path, true) || !dm_object_exists(call->ep->model, path)) {
        if (!*px_err_msg())
            px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "%s does not exist", path);
        rpc_fault(call, PX_ERR_INVALID_PARAMETER_NAME, px_err_msg());
        return PX_ERR_INVALID_PARAMETER_NAME;
    }
    call->object_name = strdup(path);
    call->parameter_key = strdup(msg->parameter_key ? msg->parameter_key : "");
    struct dm_request *req = dm_request_new(call->ep->model, DM_OP_DEL);
    req->object = strdup(path);
    dm_request_start(req, delete_done, call);
    return 0;
}
