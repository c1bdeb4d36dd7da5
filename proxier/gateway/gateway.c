/*
 * gateway.c: the gateway's own CWMP endpoint (TR-069 3.2; TR-181 Device.DeviceInfo.).
 *
 * Identity and DeviceInfo come from the configuration and the system: the serial number is
 * derived from the first non-zero MAC address when not configured, UpTime from
 * /proc/uptime, FirstUseDate is recorded at the first start. A changed SoftwareVersion or
 * HardwareVersion (a firmware upgrade) is reported at the next start as a value change.
 */
#include "proxier/gateway/gateway.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"
#include "proxier/soap/soap.h"

#define DEVINFO "Device.DeviceInfo."
#define SUPPORTED_DM "Device.DeviceInfo.SupportedDataModel."

struct gateway {
    struct endpoint *ep;
    const struct px_config *cfg;
    char *serial;
    char first_use[32];
};

struct dm_schema *gateway_schema_new(void)
{
    struct dm_schema *s = dm_schema_new();
    if (s && dm_schema_load(s, gateway_schema_text) != 0) {
        LOG_ERROR("gateway", "built-in schema: %s", px_err_msg());
        dm_schema_free(s);
        return NULL;
    }
    return s;
}

/* The first MAC address that is not all zeros, in interface name order: stable across
 * restarts of the same box. */
static char *serial_from_mac(void)
{
    struct dirent **names = NULL;
    int n = scandir("/sys/class/net", &names, NULL, alphasort);
    char *serial = NULL;
    for (int i = 0; i < n; i++) {
        char path[512], mac[64] = "";
        snprintf(path, sizeof(path), "/sys/class/net/%s/address", names[i]->d_name);
        FILE *f = serial ? NULL : fopen(path, "r");
        if (f) {
            if (fgets(mac, sizeof(mac), f) && strncmp(mac, "00:00:00:00:00:00", 17) != 0 &&
                strlen(mac) >= 17) {
                serial = calloc(1, 13);
                for (int j = 0, k = 0; j < 17 && k < 12; j++)
                    if (mac[j] != ':')
                        serial[k++] = (char)(mac[j] >= 'a' ? mac[j] - 32 : mac[j]);
            }
            fclose(f);
        }
        free(names[i]);
    }
    free(names);
    return serial ? serial : strdup("000000000000");
}

static char *uptime_value(void)
{
    double up = 0;
    FILE *f = fopen("/proc/uptime", "r");
    if (f) {
        if (fscanf(f, "%lf", &up) != 1)
            up = 0;
        fclose(f);
    }
    char out[32];
    snprintf(out, sizeof(out), "%lu", (unsigned long)up);
    return strdup(out);
}

/* The value of a DeviceInfo or root parameter; NULL for the provider's stored ones. */
static char *static_value(const struct gateway *gw, const char *path)
{
    const struct px_config *c = gw->cfg;
    static const char *const empty = "";
    const struct {
        const char *path;
        const char *value;
    } fixed[] = {
        {"Device.RootDataModelVersion", "2.19"},
        {DEVINFO "DeviceCategory", empty},
        {DEVINFO "Manufacturer", c->manufacturer},
        {DEVINFO "ManufacturerOUI", c->oui},
        {DEVINFO "ModelName", c->model_name},
        {DEVINFO "Description", c->description},
        {DEVINFO "ProductClass", c->product_class},
        {DEVINFO "SerialNumber", gw->serial},
        {DEVINFO "HardwareVersion", c->hardware_version},
        {DEVINFO "SoftwareVersion", c->software_version},
        {DEVINFO "FirstUseDate", gw->first_use},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (!strcmp(path, fixed[i].path))
            return strdup(fixed[i].value ? fixed[i].value : "");
    if (!strcmp(path, DEVINFO "UpTime"))
        return uptime_value();
    return NULL;
}

/* SupportedDataModel.1: the TR-181 revision this model follows. */
static const char *supported_dm_value(const char *name)
{
    if (!strcmp(name, "URL"))
        return "https://www.broadband-forum.org/cwmp/tr-181-2-19-1-cwmp.xml";
    if (!strcmp(name, "URN"))
        return "urn:broadband-forum-org:tr-181-2-19-1-cwmp";
    return "";
}

static void gateway_get(void *ctx, struct dm_request *req)
{
    struct gateway *gw = ctx;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        char *v = static_value(gw, it->path);
        if (!v && !strncmp(it->path, SUPPORTED_DM, strlen(SUPPORTED_DM)))
            v = strdup(supported_dm_value(it->node->name));
        if (!v && !strcmp(it->path, DEVINFO "ProvisioningCode") &&
            cache_value_get(gw->ep->env.cache, gw->ep->key, it->path, &v) != CACHE_OK)
            v = strdup(gw->cfg->provisioning_code ? gw->cfg->provisioning_code : "");
        dm_item_set_value(it, v ? v : "");
        free(v);
    }
    dm_request_done(req);
}

static void gateway_set(void *ctx, struct dm_request *req)
{
    struct gateway *gw = ctx;
    endpoint_store_set(gw->ep, req);
    dm_request_done(req);
}

static const struct dm_provider_ops gateway_ops = {.get = gateway_get, .set = gateway_set};

/* Report versions that changed since the last run (a firmware upgrade) as value changes. */
static void check_versions(struct gateway *gw)
{
    static const char *const watched[] = {DEVINFO "SoftwareVersion", DEVINFO "HardwareVersion"};
    struct cache *c = gw->ep->env.cache;
    for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
        char *now = static_value(gw, watched[i]), *before = NULL;
        int rc = cache_value_get(c, gw->ep->key, watched[i], &before);
        if (rc == CACHE_OK && strcmp(before, now) != 0) {
            LOG_INFO("gateway", "%s changed from %s to %s", watched[i], before, now);
            dm_value_changed(gw->ep->model, watched[i], now);
        }
        if (rc != CACHE_OK || strcmp(before, now) != 0)
            cache_value_set(c, gw->ep->key, watched[i], now, "system");
        free(before);
        free(now);
    }
}

static void ensure_supported_dm_row(struct gateway *gw)
{
    unsigned n;
    if (dm_instance_list(gw->ep->model, SUPPORTED_DM, &n, 1) > 0)
        return;
    if (dm_instance_add(gw->ep->model, SUPPORTED_DM, 1, NULL, &n) == 0) {
        cache_instance_add(gw->ep->env.cache, gw->ep->key, SUPPORTED_DM, n, NULL);
        cache_instance_next_set(gw->ep->env.cache, gw->ep->key, SUPPORTED_DM, n + 1);
    }
}

static void load_first_use(struct gateway *gw)
{
    char *stored = endpoint_setting(gw->ep, "first_use");
    if (!stored) {
        char now[32];
        soap_format_time(time(NULL), now);
        endpoint_setting_set(gw->ep, "first_use", now);
        stored = strdup(now);
    }
    snprintf(gw->first_use, sizeof(gw->first_use), "%s", stored);
    free(stored);
}

struct endpoint *gateway_endpoint_new(const struct endpoint_env *env,
                                      const struct dm_schema *schema,
                                      const struct endpoint_hooks *hooks)
{
    struct gateway *gw = calloc(1, sizeof(*gw));
    gw->cfg = env->cfg;
    gw->serial = env->cfg->serial_number ? strdup(env->cfg->serial_number) : serial_from_mac();
    struct endpoint_identity id = {env->cfg->manufacturer, env->cfg->oui,
                                   env->cfg->product_class, gw->serial};
    struct dm_model *model = dm_model_new(schema, env->base);
    dm_model_set_deadline(model, env->cfg->provider_deadline_ms);
    struct dm_provider p = {&gateway_ops, gw};
    dm_mount(model, "Device.", &p);
    gw->ep = endpoint_new(env, GATEWAY_ENDPOINT_KEY, &id, model, hooks);
    if (!gw->ep) {
        dm_model_free(model);
        free(gw->serial);
        free(gw);
        return NULL;
    }
    gw->ep->host_data = gw;
    load_first_use(gw);
    ensure_supported_dm_row(gw);
    return gw->ep;
}

int gateway_endpoint_start(struct endpoint *ep)
{
    int rc = endpoint_start(ep);
    /* After the boot has applied Table 8's reboot policy: an upgrade is news of this boot. */
    check_versions(ep->host_data);
    return rc;
}

void gateway_endpoint_free(struct endpoint *ep)
{
    if (!ep)
        return;
    struct gateway *gw = ep->host_data;
    struct dm_model *model = ep->model;
    endpoint_free(ep);
    dm_model_free(model);
    free(gw->serial);
    free(gw);
}
