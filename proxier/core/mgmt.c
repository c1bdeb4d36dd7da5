/*
 * mgmt.c: the ManagementServer object of an endpoint (TR-181 Device.ManagementServer., TR-069
 * 3.1, 3.2.1.1, 3.4.4), served as a data-model provider.
 *
 * Writable values the ACS set live in the cache (origin "acs") and win over the factory
 * defaults, which come from the configuration; a FactoryReset wipes them. The endpoint reads
 * the values it needs (URL, credentials, periodic Inform, retry policy) synchronously from
 * memory through mgmt_get. Read-only values are computed. Rows of the tables under
 * ManagementServer (InformParameter, VirtualDevice, EmbeddedDevice, ...) are stored by path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/connreq.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/core/util.h"
#include "proxier/dm/dm.h"

#define MS_PREFIX "Device.ManagementServer."
#define UNKNOWN_TIME "0001-01-01T00:00:00Z"

struct mgmt_observer {
    mgmt_change_cb cb;
    void *arg;
    struct mgmt_observer *next;
};

char *mgmt_default_username(const struct endpoint_identity *id)
{
    char *serial = util_percent_encode(id->serial_number);
    char *pc = util_percent_encode(id->product_class);
    size_t n = strlen(id->oui) + strlen(pc) + strlen(serial) + 3;
    char *out = malloc(n);
    if (out && *id->product_class)
        snprintf(out, n, "%s-%s-%s", id->oui, pc, serial);
    else if (out)
        snprintf(out, n, "%s-%s", id->oui, serial);
    free(serial);
    free(pc);
    return out;
}

static const char *bool_str(bool b)
{
    return b ? "true" : "false";
}

/* Factory default of a writable single-instance parameter (name relative to
 * ManagementServer). Returns a malloc'd string. */
/* The configuration keys that are factory defaults of ManagementServer parameters
 * (docs/configuration.md); other parameters take their schema default. */
static const struct config_default config_defaults_table[] = {
    CONFIG_DEFAULT("URL", CV_STRING, acs_url),
    CONFIG_DEFAULT("Password", CV_STRING, acs_password),
    CONFIG_DEFAULT("PeriodicInformEnable", CV_BOOL, periodic_inform_enable),
    CONFIG_DEFAULT("PeriodicInformInterval", CV_UINT, periodic_inform_interval),
    CONFIG_DEFAULT("PeriodicInformTime", CV_STRING, periodic_inform_time),
    CONFIG_DEFAULT("ConnectionRequestUsername", CV_STRING, cr_username),
    CONFIG_DEFAULT("ConnectionRequestPassword", CV_STRING, cr_password),
    CONFIG_DEFAULT("DefaultActiveNotificationThrottle", CV_UINT,
                   default_active_notification_throttle),
    CONFIG_DEFAULT("CWMPRetryMinimumWaitInterval", CV_UINT, retry_minimum_wait),
    CONFIG_DEFAULT("CWMPRetryIntervalMultiplier", CV_UINT, retry_interval_multiplier),
    CONFIG_DEFAULT("HTTPCompression", CV_STRING, acs_compression),
};

/* The schema's default, else the neutral value of the type. */
static char *schema_default(const struct dm_node *node)
{
    if (node->default_value)
        return strdup(node->default_value);
    switch (node->type.base) {
    case DM_BOOLEAN: return strdup("false");
    case DM_DATETIME: return strdup(UNKNOWN_TIME);
    case DM_STRING: case DM_BASE64: case DM_HEXBINARY: return strdup("");
    default: return strdup("0");
    }
}

/* Factory default of a writable parameter (name relative to ManagementServer); malloc'd. */
static char *factory_default(const struct endpoint *ep, const char *name,
                             const struct dm_node *node)
{
    const struct px_config *c = ep->env.cfg;
    if (!strcmp(name, "Username")) /* TR-069 3.4.4 unless configured */
        return c->acs_username ? strdup(c->acs_username) : mgmt_default_username(&ep->id);
    char *v = config_default_value(c, config_defaults_table,
                                   sizeof(config_defaults_table) /
                                       sizeof(config_defaults_table[0]),
                                   name);
    return v ? v : schema_default(node);
}

/* Read-only values computed from the endpoint's state; NULL if name is not one of them. */
static char *computed_value(const struct endpoint *ep, const char *name)
{
    static const struct { const char *name, *value; } constants[] = {
        {"AliasBasedAddressing", "false"},
        {"HTTPCompressionSupported", "GZIP"},
        {"InstanceWildcardsSupported", "false"},
        {"LightweightNotificationProtocolsSupported", ""},
        {"KickURL", ""},
        {"DownloadProgressURL", ""},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
        if (!strcmp(name, constants[i].name))
            return strdup(constants[i].value);
    if (!strcmp(name, "ConnectionRequestURL"))
        return strdup(ep->connection_request_url);
    if (!strcmp(name, "UDPConnectionRequestAddress"))
        return strdup(ep->udp_cr_address);
    if (!strcmp(name, "NATDetected"))
        return strdup(bool_str(ep->nat_detected));
    if (!strcmp(name, "ConnReqJabberID"))
        return strdup(ep->conn_req_jabber_id);
    if (!strcmp(name, "SupportedConnReqMethods"))
        return strdup(connreq_supported_methods());
    if (!strcmp(name, "ParameterKey")) {
        char *key = endpoint_setting(ep, SETTING_PARAMETER_KEY);
        return key ? key : strdup("");
    }
    return NULL;
}

static struct mgmt_value *find_value(const struct endpoint *ep, const char *name)
{
    for (size_t i = 0; i < ep->n_mgmt; i++)
        if (!strcmp(ep->mgmt[i].name, name))
            return &ep->mgmt[i];
    return NULL;
}

const char *mgmt_get(const struct endpoint *ep, const char *name)
{
    const struct mgmt_value *v = find_value(ep, name);
    return v && v->value ? v->value : "";
}

unsigned mgmt_get_uint(const struct endpoint *ep, const char *name, unsigned fallback)
{
    const char *v = mgmt_get(ep, name);
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    return (*v && !*end) ? (unsigned)n : fallback;
}

bool mgmt_get_bool(const struct endpoint *ep, const char *name)
{
    return !strcmp(mgmt_get(ep, name), "true");
}

/* Writable parameters directly in ManagementServer or its single-instance children. */
static void load_node(struct endpoint *ep, const struct dm_node *node, const char *rel)
{
    for (size_t i = 0; i < node->n_children; i++) {
        const struct dm_node *ch = node->children[i];
        char name[256];
        snprintf(name, sizeof(name), "%s%s", rel, ch->name);
        if (ch->kind == DM_OBJECT) {
            strncat(name, ".", sizeof(name) - strlen(name) - 1);
            load_node(ep, ch, name);
            continue;
        }
        if (ch->kind != DM_PARAM || !ch->writable)
            continue;
        char path[300], *stored = NULL;
        snprintf(path, sizeof(path), MS_PREFIX "%s", name);
        ep->mgmt = realloc(ep->mgmt, (ep->n_mgmt + 1) * sizeof(*ep->mgmt));
        struct mgmt_value *v = &ep->mgmt[ep->n_mgmt++];
        v->name = strdup(name);
        if (cache_value_get(ep->env.cache, ep->key, path, &stored) == CACHE_OK &&
            dm_value_check(&ch->type, stored, NULL, NULL) != 0) {
            /* A cache written by an older version or by hand: the value gate (dm.h). */
            LOG_WARN("mgmt", "%s: cached value dropped: %s", path, px_err_msg());
            free(stored);
            stored = NULL;
        }
        v->value = stored ? stored : factory_default(ep, name, ch);
    }
}

int mgmt_load(struct endpoint *ep)
{
    const struct dm_node *ms = dm_schema_find(dm_model_schema(ep->model), MS_PREFIX);
    if (!ms)
        return px_err_set(-1, "the model of %s has no ManagementServer object", ep->key);
    load_node(ep, ms, "");
    return 0;
}

static void free_values(struct endpoint *ep)
{
    for (size_t i = 0; i < ep->n_mgmt; i++) {
        free(ep->mgmt[i].name);
        free(ep->mgmt[i].value);
    }
    free(ep->mgmt);
    ep->mgmt = NULL;
    ep->n_mgmt = 0;
}

void mgmt_reload(struct endpoint *ep)
{
    free_values(ep);
    mgmt_load(ep);
    endpoint_rearm_periodic(ep);
}

void mgmt_free(struct endpoint *ep)
{
    while (ep->mgmt_observers)
        mgmt_unobserve(ep, ep->mgmt_observers->cb, ep->mgmt_observers->arg);
    free_values(ep);
}

/* ---- Observers of ACS changes ---- */

void mgmt_observe(struct endpoint *ep, mgmt_change_cb cb, void *arg)
{
    struct mgmt_observer *o = calloc(1, sizeof(*o));
    o->cb = cb;
    o->arg = arg;
    o->next = ep->mgmt_observers;
    ep->mgmt_observers = o;
}

void mgmt_unobserve(struct endpoint *ep, mgmt_change_cb cb, void *arg)
{
    for (struct mgmt_observer **p = &ep->mgmt_observers; *p; p = &(*p)->next)
        if ((*p)->cb == cb && (*p)->arg == arg) {
            struct mgmt_observer *gone = *p;
            *p = gone->next;
            free(gone);
            return;
        }
}

static void tell_observers(struct endpoint *ep, const char *const *names, size_t n)
{
    for (struct mgmt_observer *o = ep->mgmt_observers, *next; o; o = next) {
        next = o->next; /* an observer may unobserve itself */
        o->cb(o->arg, ep, names, n);
    }
}

/* ---- Provider ---- */

static bool in_table_row(const struct dm_node *node)
{
    for (const struct dm_node *n = node->parent; n; n = n->parent)
        if (n->kind == DM_TABLE)
            return true;
    return false;
}

/* Where the instance number of the row of a parameter path starts: "T.3.Alias" -> "3.". */
static const char *row_start(const char *path, const struct dm_node *node)
{
    const char *num = path + strlen(path) - strlen(node->name) - 1;
    while (num > path && num[-1] != '.')
        num--;
    return num;
}

static unsigned row_number(const char *path, const struct dm_node *node)
{
    return (unsigned)strtoul(row_start(path, node), NULL, 10);
}

static char *row_value(struct endpoint *ep, const char *path, const struct dm_node *node)
{
    char *v = NULL;
    if (cache_value_get(ep->env.cache, ep->key, path, &v) == CACHE_OK)
        return v;
    /* A new InformParameter row: Alias "cpe-<n>" (TR-181 _AliasCWMP), others from type. */
    if (!strcmp(node->name, "Alias")) {
        char alias[32];
        snprintf(alias, sizeof(alias), "cpe-%u", row_number(path, node));
        return strdup(alias);
    }
    return factory_default(ep, "", node);
}

static void mgmt_op_get(void *ctx, struct dm_request *req)
{
    struct endpoint *ep = ctx;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        const char *name = it->path + strlen(MS_PREFIX);
        char *v = in_table_row(it->node) ? row_value(ep, it->path, it->node)
                                          : computed_value(ep, name);
        if (v) {
            dm_item_set_value(it, v);
            free(v);
        } else {
            dm_item_set_value(it, mgmt_get(ep, name));
        }
    }
    dm_request_done(req);
}

/* Apply the side effects of values the ACS just set (after they are stored). */
static void apply_changes(struct endpoint *ep, bool url_changed, bool periodic_changed)
{
    if (periodic_changed)
        endpoint_rearm_periodic(ep);
    /* Table 8: the first contact after the ACS URL changed carries BOOTSTRAP; the new URL is
     * used from the next session on (this one keeps its connection). */
    if (url_changed)
        endpoint_add_event(ep, EV_BOOTSTRAP, "");
}

/* The value an Alias of a sibling row will have after req: the one req sets, else the
 * current one. Returns a malloc'd string. */
static char *alias_after(struct endpoint *ep, const struct dm_request *req, const char *path,
                         const struct dm_node *node)
{
    for (size_t i = 0; i < req->n_items; i++)
        if (!strcmp(req->items[i].path, path))
            return strdup(req->items[i].value);
    return row_value(ep, path, node);
}

/* Whether another row of its table has (or gets with req) the Alias it->value. */
static bool alias_taken(struct endpoint *ep, const struct dm_request *req,
                        const struct dm_item *it)
{
    unsigned own = row_number(it->path, it->node);
    char *table = strndup(it->path, (size_t)(row_start(it->path, it->node) - it->path));
    size_t max = 64, n;
    unsigned *numbers = NULL;
    for (;; max *= 2) {
        numbers = realloc(numbers, max * sizeof(*numbers));
        if ((n = dm_instance_list(ep->model, table, numbers, max)) < max)
            break;
    }
    bool taken = false;
    for (size_t i = 0; i < n && !taken; i++) {
        if (numbers[i] == own)
            continue;
        char path[320];
        snprintf(path, sizeof(path), "%s%u.%s", table, numbers[i], it->node->name);
        char *other = alias_after(ep, req, path, it->node);
        taken = !strcmp(other, it->value);
        free(other);
    }
    free(numbers);
    free(table);
    return taken;
}

/* TR-069 3.6.1, A.2.2.2: an Instance Alias is unique within its table and never empty, and
 * TR-181 (the Alias data type) wants it to start with a letter; else 9007 (A.3.2.1). */
static bool aliases_valid(struct endpoint *ep, struct dm_request *req)
{
    bool ok = true;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (strcmp(it->node->name, "Alias") != 0 || !in_table_row(it->node))
            continue;
        unsigned char first = (unsigned char)it->value[0];
        if (!((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))) {
            dm_item_set_fault(it, PX_ERR_INVALID_PARAMETER_VALUE,
                              "%s: an Alias must start with a letter", it->path);
            ok = false;
        } else if (alias_taken(ep, req, it)) {
            dm_item_set_fault(it, PX_ERR_INVALID_PARAMETER_VALUE,
                              "%s: Alias \"%s\" is already used in this table", it->path,
                              it->value);
            ok = false;
        }
    }
    return ok;
}

/* TR-069 3.1: the ACS URL is an HTTP or HTTPS URL; an empty or other one would leave the
 * endpoint unable to reach any ACS, retrying forever. */
static bool url_valid(struct dm_request *req)
{
    bool ok = true;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (strcmp(it->path, MS_PREFIX "URL") != 0)
            continue;
        const char *v = it->value;
        size_t scheme = !strncmp(v, "http://", 7) ? 7 : !strncmp(v, "https://", 8) ? 8 : 0;
        if (!scheme || !v[scheme] || strchr(" \t\r\n", v[scheme])) {
            dm_item_set_fault(it, PX_ERR_INVALID_PARAMETER_VALUE,
                              "%s: \"%s\" is not an http:// or https:// URL with a host",
                              it->path, v);
            ok = false;
        }
    }
    return ok;
}

static void mgmt_op_set(void *ctx, struct dm_request *req)
{
    struct endpoint *ep = ctx;
    bool url_changed = false, periodic_changed = false;
    if (!url_valid(req) || !aliases_valid(ep, req) || endpoint_store_set(ep, req) != 0) {
        dm_request_done(req);
        return;
    }
    const char **names = calloc(req->n_items, sizeof(*names));
    size_t n = 0;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        struct mgmt_value *v = find_value(ep, it->path + strlen(MS_PREFIX));
        if (!v)
            continue; /* a table row: stored above */
        url_changed |= !strcmp(v->name, "URL") && strcmp(v->value, it->value) != 0;
        periodic_changed |= !strncmp(v->name, "PeriodicInform", 14);
        free(v->value);
        v->value = strdup(it->value);
        names[n++] = v->name;
    }
    apply_changes(ep, url_changed, periodic_changed);
    if (n)
        tell_observers(ep, names, n);
    free(names);
    dm_request_done(req);
}

static void mgmt_op_add(void *ctx, struct dm_request *req)
{
    dm_request_done(req); /* new rows read their defaults until set */
}

static void mgmt_op_del(void *ctx, struct dm_request *req)
{
    struct endpoint *ep = ctx;
    if (cache_value_delete_prefix(ep->env.cache, ep->key, req->object) != CACHE_OK)
        dm_request_set_fault(req, PX_ERR_INTERNAL, "cannot delete %s: %s", req->object,
                             cache_errmsg(ep->env.cache));
    dm_request_done(req);
}

static const struct dm_provider_ops mgmt_ops = {
    .get = mgmt_op_get,
    .set = mgmt_op_set,
    .add = mgmt_op_add,
    .del = mgmt_op_del,
};

void mgmt_mount(struct endpoint *ep)
{
    struct dm_provider p = {&mgmt_ops, ep};
    dm_mount(ep->model, MS_PREFIX, &p);
}
