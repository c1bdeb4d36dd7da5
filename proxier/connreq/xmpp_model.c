/*
 * xmpp_model.c: the data model of XMPP connection requests: TR-181 Device.XMPP. with its
 * Connection.{i}. table (Server.{i}., Stats.), and ManagementServer.ConnReqXMPPConnection
 * (TR-069 Annex K.2.1, K.4; Appendix III).
 *
 * Values the ACS sets live in the cache (origin "acs"), like mgmt.c keeps its table rows.
 * The [xmpp] section of the configuration is the vendor's factory default: on the first
 * start with [xmpp] domain and username set, the provider creates Connection row 1 (and
 * its Server.1 when [xmpp] server is set) and ConnReqXMPPConnection points to it. A
 * parameter of that row the ACS never set reads as the configuration says; the ACS may
 * change, disable or delete the row, which then stays so until a FactoryReset. Runtime
 * values (JabberID, Status, LastChangeDate, TLSEstablished, Stats.) come from the transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/xmpp_internal.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"

#define XMPP_PREFIX "Device.XMPP."
#define CONN_TABLE "Device.XMPP.Connection."
#define CONN_REF "Device.ManagementServer.ConnReqXMPPConnection"
#define SETTING_FACTORY_ROW "xmpp_factory_row"

/* ---- Values ---- */

static const struct px_config *cfg_of(const struct xmpp_ep *xe)
{
    return xe->ep->env.cfg;
}

static bool factory_configured(const struct px_config *c)
{
    return c->xmpp_domain && *c->xmpp_domain && c->xmpp_username && *c->xmpp_username;
}

/* The row created from [xmpp], 0 if none. */
static unsigned factory_row(const struct xmpp_ep *xe)
{
    char *v = endpoint_setting(xe->ep, SETTING_FACTORY_ROW);
    unsigned row = v ? (unsigned)strtoul(v, NULL, 10) : 0;
    free(v);
    return factory_configured(cfg_of(xe)) ? row : 0;
}

/* [xmpp]'s value of a parameter of the factory row, name relative to the row
 * ("Username", "Server.1.Port"); NULL if the configuration says nothing about it. */
static char *config_value(const struct px_config *c, const char *name)
{
    char num[16];
    const char *v = NULL;
    if (!strcmp(name, "Enable") || !strcmp(name, "Server.1.Enable"))
        v = "true";
    else if (!strcmp(name, "Username"))
        v = c->xmpp_username;
    else if (!strcmp(name, "Password"))
        v = c->xmpp_password;
    else if (!strcmp(name, "Domain"))
        v = c->xmpp_domain;
    else if (!strcmp(name, "Resource"))
        v = c->xmpp_resource;
    else if (!strcmp(name, "UseTLS"))
        v = c->xmpp_use_tls ? "true" : "false";
    else if (!strcmp(name, "ServerConnectAlgorithm"))
        v = c->xmpp_server && *c->xmpp_server ? "ServerTable" : "DNS-SRV";
    else if (!strcmp(name, "Server.1.ServerAddress"))
        v = c->xmpp_server;
    else if (!strcmp(name, "Server.1.Port"))
        v = (snprintf(num, sizeof(num), "%u", c->xmpp_port), num);
    else if (!strcmp(name, "KeepAliveInterval"))
        v = (snprintf(num, sizeof(num), "%u", c->xmpp_keepalive_interval), num);
    else if (!strcmp(name, "ServerRetryInitialInterval"))
        v = (snprintf(num, sizeof(num), "%u", c->xmpp_retry_initial_interval), num);
    else if (!strcmp(name, "ServerRetryIntervalMultiplier"))
        v = (snprintf(num, sizeof(num), "%u", c->xmpp_retry_interval_multiplier), num);
    else if (!strcmp(name, "ServerRetryMaxInterval"))
        v = (snprintf(num, sizeof(num), "%u", c->xmpp_retry_max_interval), num);
    return v ? strdup(v) : NULL;
}

static char *type_default(const struct dm_node *node)
{
    if (node->default_value)
        return strdup(node->default_value);
    switch (node->type.base) {
    case DM_BOOLEAN: return strdup("false");
    case DM_DATETIME: return strdup("0001-01-01T00:00:00Z");
    case DM_STRING: case DM_BASE64: case DM_HEXBINARY: return strdup("");
    default: return strdup("0");
    }
}

/* The stored (or factory, or default) value of a writable parameter of a Connection row.
 * path is concrete: "Device.XMPP.Connection.1.Server.2.Port". Returns a malloc'd string. */
static char *stored_value(const struct xmpp_ep *xe, const char *path, const struct dm_node *node)
{
    char *v = NULL;
    if (cache_value_get(xe->ep->env.cache, xe->ep->key, path, &v) == CACHE_OK)
        return v;
    char *end;
    unsigned row = (unsigned)strtoul(path + strlen(CONN_TABLE), &end, 10);
    if (row && row == factory_row(xe) && *end == '.' && (v = config_value(cfg_of(xe), end + 1)))
        return v;
    if (!strcmp(node->name, "Alias")) {
        /* TR-181 _AliasCWMP: a CPE-assigned Alias starts with "cpe-" */
        const char *num = path + strlen(path) - strlen("Alias") - 1;
        while (num > path && num[-1] != '.')
            num--;
        char alias[32];
        snprintf(alias, sizeof(alias), "cpe-%u", (unsigned)strtoul(num, NULL, 10));
        return strdup(alias);
    }
    return type_default(node);
}

/* "Device.XMPP.Connection.3" (or with a trailing dot) -> 3; 0 if not such a path. */
static unsigned referenced_row(const char *ref)
{
    if (strncmp(ref, CONN_TABLE, strlen(CONN_TABLE)) != 0)
        return 0;
    char *end;
    unsigned long n = strtoul(ref + strlen(CONN_TABLE), &end, 10);
    if (end == ref + strlen(CONN_TABLE) || (*end && strcmp(end, ".") != 0) || n > 0xFFFFFFFFu)
        return 0;
    return (unsigned)n;
}

static char *conn_ref_value(const struct xmpp_ep *xe)
{
    char *v = NULL;
    if (cache_value_get(xe->ep->env.cache, xe->ep->key, CONN_REF, &v) == CACHE_OK)
        return v;
    unsigned row = factory_row(xe);
    char ref[64] = "";
    if (row)
        snprintf(ref, sizeof(ref), CONN_TABLE "%u", row);
    return strdup(ref);
}

static bool row_exists(const struct xmpp_ep *xe, unsigned row)
{
    char path[64];
    snprintf(path, sizeof(path), CONN_TABLE "%u.", row);
    return row && dm_object_exists(xe->ep->model, path);
}

/* Runtime value of a Connection row parameter (rel is relative to the row), or NULL. */
static char *runtime_value(struct xmpp_ep *xe, unsigned row, const char *rel)
{
    bool running = row == xe->row;
    char num[16];
    if (!strcmp(rel, "JabberID"))
        return strdup(running ? xe->jabber_id : "");
    if (!strcmp(rel, "TLSEstablished"))
        return strdup(running && xe->tls ? "true" : "false");
    if (!strcmp(rel, "LastChangeDate"))
        return strdup(running && *xe->last_change ? xe->last_change : "0001-01-01T00:00:00Z");
    if (!strcmp(rel, "Status")) {
        if (running)
            return strdup(xe->status);
        char path[96];
        snprintf(path, sizeof(path), CONN_TABLE "%u.Enable", row);
        const struct dm_node *node = dm_resolve_param(xe->ep->model, path, &(int){0});
        char *enable = node ? stored_value(xe, path, node) : strdup("false");
        /* Only the row ConnReqXMPPConnection names is connected; an enabled other one waits. */
        char *s = strdup(!strcmp(enable, "true") ? "Dormant" : "Disabled");
        free(enable);
        return s;
    }
    if (strncmp(rel, "Stats.", 6) != 0)
        return NULL;
    struct xmpp_stats st = {0};
    if (running)
        xmpp_cr_stats(xe, &st);
    const char *name = rel + 6;
    unsigned v = !strcmp(name, "ReceivedMessages")           ? st.received
                 : !strcmp(name, "TransmittedMessages")      ? st.transmitted
                 : !strcmp(name, "ReceivedErrorMessages")    ? st.received_errors
                                                             : st.transmitted_errors;
    snprintf(num, sizeof(num), "%u", v);
    return strdup(num);
}

static char *item_value(struct xmpp_ep *xe, const struct dm_item *it)
{
    if (!strcmp(it->path, CONN_REF))
        return conn_ref_value(xe);
    if (!strcmp(it->path, XMPP_PREFIX "SupportedServerConnectAlgorithms"))
        return strdup("DNS-SRV,DNS,ServerTable");
    char *end;
    unsigned row = (unsigned)strtoul(it->path + strlen(CONN_TABLE), &end, 10);
    char *v = it->node->writable ? NULL : runtime_value(xe, row, end + 1);
    return v ? v : stored_value(xe, it->path, it->node);
}

/* ---- Provider ---- */

static void op_get(void *ctx, struct dm_request *req)
{
    struct xmpp_ep *xe = ctx;
    for (size_t i = 0; i < req->n_items; i++) {
        char *v = item_value(xe, &req->items[i]);
        dm_item_set_value(&req->items[i], v);
        free(v);
    }
    dm_request_done(req);
}

/* ConnReqXMPPConnection must name an existing Connection row, or be empty (TR-181: a
 * reference); else 9007 (A.3.2.1). */
static bool refs_valid(struct xmpp_ep *xe, struct dm_request *req)
{
    bool ok = true;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (strcmp(it->path, CONN_REF) != 0 || !*it->value)
            continue;
        if (!row_exists(xe, referenced_row(it->value))) {
            dm_item_set_fault(it, PX_ERR_INVALID_PARAMETER_VALUE,
                              "%s: %s is not an existing XMPP connection", it->path, it->value);
            ok = false;
        }
    }
    return ok;
}

static void op_set(void *ctx, struct dm_request *req)
{
    struct xmpp_ep *xe = ctx;
    if (refs_valid(xe, req) && endpoint_store_set(xe->ep, req) == 0) {
        dm_request_done(req);
        xmpp_cr_reconfigure(xe);
        return;
    }
    dm_request_done(req);
}

static void op_add(void *ctx, struct dm_request *req)
{
    dm_request_done(req); /* a new row reads its defaults (Enable false) until set */
}

static void op_del(void *ctx, struct dm_request *req)
{
    struct xmpp_ep *xe = ctx;
    if (cache_value_delete_prefix(xe->ep->env.cache, xe->ep->key, req->object) != CACHE_OK)
        dm_request_set_fault(req, PX_ERR_INTERNAL, "cannot delete %s: %s", req->object,
                             cache_errmsg(xe->ep->env.cache));
    dm_request_done(req);
    xmpp_cr_reconfigure(xe); /* deferred: runs after the engine removed the row */
}

static const struct dm_provider_ops xmpp_ops = {
    .get = op_get, .set = op_set, .add = op_add, .del = op_del,
};

/* ---- The factory row ---- */

static void add_instance(struct xmpp_ep *xe, const char *table, unsigned *number)
{
    struct endpoint *ep = xe->ep;
    if (dm_instance_add(ep->model, table, 0, NULL, number) != 0) {
        *number = 0;
        return;
    }
    cache_instance_add(ep->env.cache, ep->key, table, *number, NULL);
    cache_instance_next_set(ep->env.cache, ep->key, table, dm_instance_next(ep->model, table));
}

/* Once per cache (a FactoryReset starts over): row 1 from [xmpp]. */
static void create_factory_row(struct xmpp_ep *xe)
{
    const struct px_config *c = cfg_of(xe);
    char *done = endpoint_setting(xe->ep, SETTING_FACTORY_ROW);
    free(done);
    if (done || !factory_configured(c))
        return;
    unsigned row, server;
    add_instance(xe, CONN_TABLE, &row);
    if (!row)
        return;
    char table[64], num[16];
    snprintf(table, sizeof(table), CONN_TABLE "%u.Server.", row);
    if (c->xmpp_server && *c->xmpp_server)
        add_instance(xe, table, &server);
    snprintf(num, sizeof(num), "%u", row);
    endpoint_setting_set(xe->ep, SETTING_FACTORY_ROW, num);
    LOG_INFO("xmpp", "%s: XMPP connection %u from the configuration", xe->ep->key, row);
}

bool xmpp_model_attach(struct xmpp_ep *xe)
{
    struct dm_model *m = xe->ep->model;
    if (!dm_schema_find(dm_model_schema(m), XMPP_PREFIX) ||
        !dm_schema_find(dm_model_schema(m), CONN_REF))
        return false;
    struct dm_provider p = {&xmpp_ops, xe};
    dm_mount(m, XMPP_PREFIX, &p);
    dm_mount(m, CONN_REF, &p);
    create_factory_row(xe);
    return true;
}

/* ---- The stream configuration ---- */

static char *row_param(struct xmpp_ep *xe, unsigned row, const char *rel)
{
    char path[128];
    snprintf(path, sizeof(path), CONN_TABLE "%u.%s", row, rel);
    int fault;
    const struct dm_node *node = dm_resolve_param(xe->ep->model, path, &fault);
    return node ? stored_value(xe, path, node) : strdup("");
}

static unsigned row_uint(struct xmpp_ep *xe, unsigned row, const char *rel)
{
    char *v = row_param(xe, row, rel);
    unsigned long n = strtoul(v, NULL, 10);
    free(v);
    return (unsigned)n;
}

static bool row_bool(struct xmpp_ep *xe, unsigned row, const char *rel)
{
    char *v = row_param(xe, row, rel);
    bool b = !strcmp(v, "true");
    free(v);
    return b;
}

/* ServerTable: the enabled Server row with the lowest Priority (RFC 2782 order; one address
 * is tried, Weight is not used). Returns false if there is none. */
static bool pick_server(struct xmpp_ep *xe, unsigned row, struct xmpp_conn_cfg *out)
{
    char table[64];
    snprintf(table, sizeof(table), CONN_TABLE "%u.Server.", row);
    unsigned numbers[64], best_prio = 0;
    size_t n = dm_instance_list(xe->ep->model, table, numbers, 64);
    for (size_t i = 0; i < n; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "Server.%u.Enable", numbers[i]);
        if (!row_bool(xe, row, rel))
            continue;
        snprintf(rel, sizeof(rel), "Server.%u.Priority", numbers[i]);
        unsigned prio = row_uint(xe, row, rel);
        if (out->host && prio >= best_prio)
            continue;
        snprintf(rel, sizeof(rel), "Server.%u.ServerAddress", numbers[i]);
        char *host = row_param(xe, row, rel);
        if (!*host) {
            free(host);
            continue;
        }
        free(out->host);
        out->host = host;
        snprintf(rel, sizeof(rel), "Server.%u.Port", numbers[i]);
        out->port = row_uint(xe, row, rel);
        best_prio = prio;
    }
    return out->host != NULL;
}

/* Username@Domain/Resource (Appendix III.2); NULL if Username or Domain is empty. */
static char *proposed_jid(struct xmpp_ep *xe, unsigned row)
{
    char *user = row_param(xe, row, "Username"), *domain = row_param(xe, row, "Domain");
    char *res = row_param(xe, row, "Resource"), *jid = NULL;
    if (*user && *domain) {
        size_t n = strlen(user) + strlen(domain) + strlen(res) + 3;
        jid = malloc(n);
        snprintf(jid, n, "%s@%s%s%s", user, domain, *res ? "/" : "", res);
    }
    free(user);
    free(domain);
    free(res);
    return jid;
}

struct xmpp_conn_cfg *xmpp_model_conn_cfg(struct xmpp_ep *xe, unsigned *row,
                                          const char **status)
{
    char *ref = conn_ref_value(xe);
    *row = referenced_row(ref);
    free(ref);
    *status = "Disabled";
    if (!row_exists(xe, *row)) {
        *row = 0;
        return NULL;
    }
    if (!row_bool(xe, *row, "Enable"))
        return NULL;
    *status = "Error_Misconfigured";
    struct xmpp_conn_cfg *c = calloc(1, sizeof(*c));
    c->jid = proposed_jid(xe, *row);
    c->password = row_param(xe, *row, "Password");
    c->use_tls = row_bool(xe, *row, "UseTLS");
    char *alg = row_param(xe, *row, "ServerConnectAlgorithm");
    bool table = !strcmp(alg, "ServerTable");
    if (!strcmp(alg, "DNS")) /* the domain's A/AAAA records, no SRV lookup */
        c->host = row_param(xe, *row, "Domain");
    free(alg);
    char *keepalive = row_param(xe, *row, "KeepAliveInterval");
    long ka = strtol(keepalive, NULL, 10);
    free(keepalive);
    c->keepalive = ka < 0 ? 60 : (unsigned)ka; /* -1: our vendor-specific 60 s */
    c->retry_initial = row_uint(xe, *row, "ServerRetryInitialInterval");
    c->retry_multiplier = row_uint(xe, *row, "ServerRetryIntervalMultiplier");
    c->retry_max = row_uint(xe, *row, "ServerRetryMaxInterval");
    if (!c->jid || (table && !pick_server(xe, *row, c))) {
        xmpp_conn_cfg_free(c);
        return NULL;
    }
    return c;
}
