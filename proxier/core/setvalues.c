/*
 * setvalues.c: the engine of SetParameterValues (TR-069 A.3.2.1), see setvalues.h: checks
 * before anything is applied, one transaction over the providers' writes and the
 * ParameterKey, rollback on any failure, and the report of a local change (3.2.1).
 */
#include "proxier/core/setvalues.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/notify.h"
#include "proxier/dm/dm.h"

struct setvalues {
    struct endpoint *ep;
    enum setvalues_origin origin;
    struct dm_request *req; /* the valid parameters; NULL once handed back */
    char **names;           /* every name added, for the duplicate check */
    size_t n_names;
    struct setvalues_fault *faults; /* strings owned (names and reasons) */
    size_t n_faults;
    char *parameter_key; /* NULL: ParameterKey stays */
    bool in_transaction;
    bool applying; /* inside setvalues_apply: done may come before it returns */
    bool finished; /* done was called */
    setvalues_done_cb done;
    void *arg;
};

struct setvalues *setvalues_new(struct endpoint *ep, enum setvalues_origin origin)
{
    struct setvalues *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ep = ep;
    s->origin = origin;
    s->req = dm_request_new(ep->model, DM_OP_SET);
    if (!s->req) {
        free(s);
        return NULL;
    }
    return s;
}

static void add_fault(struct setvalues *s, const char *name, int code, const char *string)
{
    s->faults = realloc(s->faults, (s->n_faults + 1) * sizeof(*s->faults));
    s->faults[s->n_faults++] = (struct setvalues_fault){strdup(name), code, strdup(string)};
}

static bool seen(const struct setvalues *s, const char *name)
{
    for (size_t i = 0; i < s->n_names; i++)
        if (!strcmp(s->names[i], name))
            return true;
    return false;
}

/* dm_check_set, and for a local change the Subscriber's write access (A.3.2.4). */
static int check_one(struct setvalues *s, const char *name, const char *value, const char *xsi_type,
                     char **canonical)
{
    const struct dm_node *node;
    int rc = dm_check_set(s->ep->model, name, value, xsi_type, &node, canonical);
    if (rc == 0 && s->origin == SETVALUES_LOCAL && !notify_subscriber_may_write(s->ep, name, node))
        rc = px_err_set(PX_ERR_REQUEST_DENIED,
                        "%s: the ACS's AccessList does not grant Subscriber write access", name);
    if (rc == 0)
        dm_request_add(s->req, name, node, *canonical);
    return rc;
}

int setvalues_add(struct setvalues *s, const char *name, const char *value, const char *xsi_type)
{
    if (seen(s, name))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "parameter %s appears more than once", name);
    s->names = realloc(s->names, (s->n_names + 1) * sizeof(*s->names));
    s->names[s->n_names++] = strdup(name);
    char *canonical = NULL;
    int rc = check_one(s, name, value, xsi_type, &canonical);
    free(canonical);
    if (rc)
        add_fault(s, name, rc, px_err_msg());
    return rc;
}

size_t setvalues_faults(const struct setvalues *s, const struct setvalues_fault **out)
{
    *out = s->faults;
    return s->n_faults;
}

void setvalues_parameter_key(struct setvalues *s, const char *key)
{
    free(s->parameter_key);
    s->parameter_key = strdup(key ? key : "");
}

/* End the transaction around the providers' writes: commit with the new ParameterKey when
 * the whole set succeeded (A.3.2.1), otherwise roll everything back. Returns the fault that
 * is left (a failed commit is 9002). */
static int settle(struct setvalues *s, int fault)
{
    struct endpoint *ep = s->ep;
    struct cache *c = ep->env.cache;
    if (!fault && s->parameter_key)
        endpoint_setting_set(ep, SETTING_PARAMETER_KEY, s->parameter_key);
    if (!s->in_transaction)
        return fault;
    s->in_transaction = false;
    /* cache_commit closes the transaction even when it fails: no rollback after it. */
    if (!fault && cache_commit(c) == CACHE_OK)
        return 0;
    if (!fault)
        fault = px_err_set(PX_ERR_INTERNAL, "cannot store the new values: %s", cache_errmsg(c));
    else
        cache_rollback(c);
    /* What the ManagementServer provider applied in memory went with the rollback. */
    mgmt_reload(ep);
    return fault;
}

/* 3.2.1: a change by someone other than the ACS is notified (if its attribute says so). */
static void report_local(struct setvalues *s, const struct dm_request *req)
{
    for (size_t i = 0; s->origin == SETVALUES_LOCAL && i < req->n_items; i++)
        dm_value_changed(s->ep->model, req->items[i].path, req->items[i].value);
}

static void finish(struct setvalues *s, int fault, const char *text)
{
    s->finished = true;
    s->done(s->arg, fault, text, s->faults, s->n_faults);
    if (!s->applying)
        setvalues_free(s);
}

static void applied(void *arg, struct dm_request *req)
{
    struct setvalues *s = arg;
    s->req = NULL;
    for (size_t i = 0; i < req->n_items; i++)
        if (req->items[i].fault)
            add_fault(s, req->items[i].path, req->items[i].fault,
                      req->items[i].fault_string ? req->items[i].fault_string
                                                 : px_err_default_string(req->items[i].fault));
    int fault = settle(s, s->n_faults ? PX_ERR_INVALID_ARGUMENTS : req->fault);
    if (!fault)
        report_local(s, req);
    char *text = strdup(s->n_faults  ? px_err_default_string(PX_ERR_INVALID_ARGUMENTS)
                        : req->fault ? req->fault_string
                                     : px_err_msg());
    dm_request_free(req);
    finish(s, fault, text);
    free(text);
}

void setvalues_apply(struct setvalues *s, setvalues_done_cb done, void *arg)
{
    s->done = done;
    s->arg = arg;
    s->applying = true;
    if (s->n_faults) {
        /* A.3.2.1: nothing is applied when any parameter is wrong; each is named. */
        finish(s, PX_ERR_INVALID_ARGUMENTS, px_err_default_string(PX_ERR_INVALID_ARGUMENTS));
    } else if (cache_begin(s->ep->env.cache) != CACHE_OK) {
        /* Without its transaction the set would not be atomic: apply nothing (A.3.2.1). */
        int fault = px_err_set(PX_ERR_INTERNAL, "cannot store the new values: %s",
                               cache_errmsg(s->ep->env.cache));
        finish(s, fault, px_err_msg());
    } else {
        /* One transaction over every provider's writes, so that the set is atomic even when
         * it spans providers (A.3.2.1). */
        s->in_transaction = true;
        dm_request_start(s->req, applied, s);
        if (!s->finished && s->in_transaction) {
            s->in_transaction = false; /* a provider answers later: it writes on its own */
            cache_commit(s->ep->env.cache);
        }
    }
    s->applying = false;
    if (s->finished)
        setvalues_free(s);
}

void setvalues_free(struct setvalues *s)
{
    if (!s)
        return;
    if (s->req)
        dm_request_free(s->req); /* an applying one: the engine drops the late answer */
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
    for (size_t i = 0; i < s->n_faults; i++) {
        free((char *)s->faults[i].name);
        free((char *)s->faults[i].string);
    }
    free(s->faults);
    free(s->parameter_key);
    free(s);
}
