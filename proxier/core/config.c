/*
 * config.c: table-driven configuration parser. One row per key: its section, name, kind,
 * bounds and where it lands in struct px_config. docs/configuration.md lists the same keys.
 */
#include "proxier/core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/common/text.h"
#include "proxier/connreq/digest.h"

enum key_kind {
    KEY_STRING,
    KEY_BOOL,
    KEY_UINT,
    KEY_LOGLEVEL,
    KEY_LOGTARGET,
    KEY_SYNC,
    KEY_DIGEST_ALGS, /* a string that digest_offer_parse accepts */
};

struct key_desc {
    const char *section;
    const char *name;
    enum key_kind kind;
    size_t offset;
    unsigned min, max;           /* KEY_UINT */
    const char *const *choices;  /* KEY_STRING with a closed set of values */
};

static const char *const compression_choices[] = {"Disabled", "GZIP", NULL};
static const char *const version_choices[] = {"1.0", "1.1", "1.2", "1.3", "1.4", NULL};

#define STR(sec, key, field) {sec, key, KEY_STRING, offsetof(struct px_config, field), 0, 0, NULL}
#define CHOICE(sec, key, field, set)                                                           \
    {sec, key, KEY_STRING, offsetof(struct px_config, field), 0, 0, set}
#define BOOL(sec, key, field) {sec, key, KEY_BOOL, offsetof(struct px_config, field), 0, 0, NULL}
#define UINT(sec, key, field, lo, hi)                                                          \
    {sec, key, KEY_UINT, offsetof(struct px_config, field), lo, hi, NULL}

static const struct key_desc keys[] = {
    STR("acs", "url", acs_url),
    STR("acs", "username", acs_username),
    STR("acs", "password", acs_password),
    STR("acs", "ca_file", acs_ca_file),
    STR("acs", "ca_path", acs_ca_path),
    STR("acs", "client_cert", acs_client_cert),
    STR("acs", "client_key", acs_client_key),
    BOOL("acs", "verify_peer", acs_verify_peer),
    CHOICE("acs", "compression", acs_compression, compression_choices),
    UINT("acs", "timeout", acs_timeout, 30, 3600),
    STR("device", "manufacturer", manufacturer),
    STR("device", "oui", oui),
    STR("device", "product_class", product_class),
    STR("device", "serial_number", serial_number),
    STR("device", "model_name", model_name),
    STR("device", "description", description),
    STR("device", "hardware_version", hardware_version),
    STR("device", "software_version", software_version),
    STR("device", "provisioning_code", provisioning_code),
    CHOICE("cwmp", "version", cwmp_version, version_choices),
    BOOL("cwmp", "periodic_inform_enable", periodic_inform_enable),
    UINT("cwmp", "periodic_inform_interval", periodic_inform_interval, 1, 0xFFFFFFFFu),
    STR("cwmp", "periodic_inform_time", periodic_inform_time),
    UINT("cwmp", "retry_minimum_wait", retry_minimum_wait, 1, 65535),
    UINT("cwmp", "retry_interval_multiplier", retry_interval_multiplier, 1000, 65535),
    UINT("cwmp", "max_retry_requests", max_retry_requests, 1, 100),
    UINT("cwmp", "default_active_notification_throttle", default_active_notification_throttle, 0,
         0xFFFFFFFFu),
    UINT("cwmp", "provider_deadline_ms", provider_deadline_ms, 10, 600000),
    UINT("cwmp", "max_instances", max_instances, 1, 100000),
    UINT("cwmp", "session_timeout", session_timeout, 0, 86400),
    UINT("connection_request", "port", cr_port, 0, 65535),
    STR("connection_request", "address", cr_address),
    STR("connection_request", "username", cr_username),
    STR("connection_request", "password", cr_password),
    UINT("connection_request", "rate_burst", cr_rate_burst, 1, 1000),
    UINT("connection_request", "rate_interval", cr_rate_interval, 0, 86400),
    UINT("connection_request", "udp_port", cr_udp_port, 0, 65535),
    STR("connection_request", "realm", cr_realm),
    {"connection_request", "digest_algorithms", KEY_DIGEST_ALGS,
     offsetof(struct px_config, cr_digest_algorithms), 0, 0, NULL},
    UINT("connection_request", "nonce_lifetime", cr_nonce_lifetime, 1, 86400),
    UINT("connection_request", "nonce_table", cr_nonce_table, 16, 1000000),
    UINT("connection_request", "max_connections", cr_max_connections, 1, 10000),
    UINT("connection_request", "max_connections_per_ip", cr_max_connections_per_ip, 1, 10000),
    UINT("connection_request", "connection_timeout", cr_connection_timeout, 1, 3600),
    UINT("connection_request", "max_request_bytes", cr_max_request_bytes, 2048, 1048576),
    STR("xmpp", "server", xmpp_server),
    UINT("xmpp", "port", xmpp_port, 1, 65535),
    STR("xmpp", "domain", xmpp_domain),
    STR("xmpp", "username", xmpp_username),
    STR("xmpp", "password", xmpp_password),
    STR("xmpp", "resource", xmpp_resource),
    BOOL("xmpp", "use_tls", xmpp_use_tls),
    STR("xmpp", "ca_file", xmpp_ca_file),
    UINT("xmpp", "keepalive_interval", xmpp_keepalive_interval, 0, 86400),
    UINT("xmpp", "retry_initial_interval", xmpp_retry_initial_interval, 1, 65535),
    UINT("xmpp", "retry_interval_multiplier", xmpp_retry_interval_multiplier, 1000, 65535),
    UINT("xmpp", "retry_max_interval", xmpp_retry_max_interval, 1, 0xFFFFFFFFu),
    UINT("xmpp", "boot_wait", xmpp_boot_wait, 0, 600),
    BOOL("xmpp", "ignore_unauthorized_jids", xmpp_ignore_unauthorized_jids),
    STR("cache", "path", db_path),
    {"cache", "synchronous", KEY_SYNC, offsetof(struct px_config, db_sync_full), 0, 0, NULL},
    STR("control", "socket", control_socket),
    {"log", "level", KEY_LOGLEVEL, offsetof(struct px_config, log_level), 0, 0, NULL},
    {"log", "target", KEY_LOGTARGET, offsetof(struct px_config, log_syslog), 0, 0, NULL},
    BOOL("log", "trace", log_trace),
    UINT("log", "ring_lines", log_ring_lines, 0, 100000),
    UINT("log", "repeat_interval", log_repeat_interval, 0, 86400),
    STR("transfer", "dir", transfer_dir),
    STR("transfer", "firmware_action", transfer_firmware_action),
    STR("transfer", "config_action", transfer_config_action),
    STR("transfer", "upload_config", transfer_upload_config),
    STR("transfer", "upload_log", transfer_upload_log),
    UINT("transfer", "max_queue", transfer_max_queue, 3, 1000), /* A.3.2.8: at least three */
    UINT("transfer", "max_file_size", transfer_max_file_size, 1, 1048576),
    UINT("transfer", "stall_timeout", transfer_stall_timeout, 1, 3600),
    STR("actions", "reboot", reboot_action),
    STR("actions", "factory_reset", factory_reset_action),
};

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

void config_defaults(struct px_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->acs_verify_peer = true;
    set_string(&cfg->acs_compression, "Disabled");
    cfg->acs_timeout = 30;
    set_string(&cfg->manufacturer, "cwmp-proxier");
    set_string(&cfg->oui, "00D09E");
    set_string(&cfg->product_class, "HomeGateway");
    set_string(&cfg->model_name, "proxierd");
    set_string(&cfg->description, "Home gateway managed by cwmp-proxier");
    set_string(&cfg->hardware_version, "generic");
    set_string(&cfg->software_version, PROXIER_VERSION);
    set_string(&cfg->cwmp_version, "1.4");
    cfg->periodic_inform_enable = true;
    cfg->periodic_inform_interval = 86400;
    cfg->retry_minimum_wait = 5;            /* TR-069 Table 3 defaults */
    cfg->retry_interval_multiplier = 2000;
    cfg->max_retry_requests = 10;
    cfg->provider_deadline_ms = 5000;
    cfg->max_instances = 256;
    cfg->session_timeout = 60;
    cfg->cr_port = 7547;
    /* Never in the way of an ACS's normal use, and a flood starts at most 20 + 60 / 3 = 40
     * sessions in a minute, 20 a minute after that (docs/configuration.md). */
    cfg->cr_rate_burst = 20;
    cfg->cr_rate_interval = 3;
    cfg->cr_udp_port = CONFIG_UDP_PORT_SAME;
    set_string(&cfg->cr_realm, "proxierd");
    set_string(&cfg->cr_digest_algorithms, "MD5"); /* docs/operations.md: why MD5 alone */
    cfg->cr_nonce_lifetime = 300;
    cfg->cr_nonce_table = 1024;
    cfg->cr_max_connections = 64;
    cfg->cr_max_connections_per_ip = 16;
    cfg->cr_connection_timeout = 10;
    cfg->cr_max_request_bytes = 16384;
    cfg->xmpp_port = 5222;
    set_string(&cfg->xmpp_resource, "cwmp");
    cfg->xmpp_use_tls = true;
    cfg->xmpp_keepalive_interval = 60;
    cfg->xmpp_retry_initial_interval = 60; /* TR-181 XMPP.Connection defaults */
    cfg->xmpp_retry_interval_multiplier = 2000;
    cfg->xmpp_retry_max_interval = 30720;
    cfg->xmpp_boot_wait = 5;
    cfg->xmpp_ignore_unauthorized_jids = true; /* TR-069 K.2.1.3 "MUST ignore" */
    set_string(&cfg->db_path, "/var/lib/proxierd/proxierd.db");
    cfg->db_sync_full = true;
    cfg->log_level = LOG_LVL_INFO;
    cfg->log_ring_lines = 1000;
    cfg->log_repeat_interval = 60;
    set_string(&cfg->reboot_action, "restart");
    cfg->transfer_max_queue = 8;
    cfg->transfer_max_file_size = 256;
    cfg->transfer_stall_timeout = 60;
}

static const struct key_desc *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, key) == 0)
            return &keys[i];
    return NULL;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *out = true;
    else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
             !strcasecmp(v, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

static int set_value(struct px_config *cfg, const struct key_desc *k, const char *value)
{
    void *field = (char *)cfg + k->offset;
    switch (k->kind) {
    case KEY_STRING:
        /* Strings become parameter values (DeviceInfo, ManagementServer defaults) and go
         * into every Inform: the value gate of the data model (dm.h) applies here too. */
        if (text_check_xml(value) != 0) {
            char why[128];
            snprintf(why, sizeof(why), "%s", px_err_msg());
            return px_err_set(-1, "%s.%s: %s (only valid UTF-8 and XML 1.0 characters)",
                              k->section, k->name, why);
        }
        if (k->choices) {
            size_t i = 0;
            while (k->choices[i] && strcmp(k->choices[i], value) != 0)
                i++;
            if (!k->choices[i])
                return px_err_set(-1, "%s.%s: \"%s\" is not one of the allowed values", k->section,
                                  k->name, value);
        }
        set_string(field, value);
        return 0;
    case KEY_BOOL:
        if (parse_bool(value, field) != 0)
            return px_err_set(-1, "%s.%s: \"%s\" is not a boolean (true/false)", k->section,
                              k->name, value);
        return 0;
    case KEY_UINT: {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(value, &end, 10);
        if (!isdigit((unsigned char)value[0]) || *end || errno || n < k->min || n > k->max)
            return px_err_set(-1, "%s.%s: \"%s\" is not a whole number in [%u, %u]", k->section,
                              k->name, value, k->min, k->max);
        *(unsigned *)field = (unsigned)n;
        return 0;
    }
    case KEY_LOGLEVEL: {
        int level = log_level_parse(value);
        if (level < 0)
            return px_err_set(-1, "log.level: \"%s\" is not error, warn, info or debug", value);
        *(int *)field = level;
        return 0;
    }
    case KEY_LOGTARGET:
        if (strcmp(value, "stderr") != 0 && strcmp(value, "syslog") != 0)
            return px_err_set(-1, "log.target: \"%s\" is not stderr or syslog", value);
        *(bool *)field = strcmp(value, "syslog") == 0;
        return 0;
    case KEY_DIGEST_ALGS: {
        struct digest_offer offer;
        if (digest_offer_parse(value, &offer) != 0) {
            char msg[256];
            snprintf(msg, sizeof(msg), "%s", px_err_msg());
            return px_err_set(-1, "%s.%s: %s", k->section, k->name, msg);
        }
        set_string(field, value);
        return 0;
    }
    case KEY_SYNC:
        if (strcmp(value, "full") != 0 && strcmp(value, "normal") != 0)
            return px_err_set(-1, "cache.synchronous: \"%s\" is not full or normal", value);
        *(bool *)field = strcmp(value, "full") == 0;
        return 0;
    }
    return -1;
}

int config_set(struct px_config *cfg, const char *section, const char *key, const char *value)
{
    const struct key_desc *k = find_key(section, key);
    if (!k)
        return px_err_set(-1, "unknown key %s.%s", section, key);
    return set_value(cfg, k, value);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* A value may be wrapped in double quotes to keep leading/trailing spaces or a '#'. */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = '\0';
        return v + 1;
    }
    char *hash = strstr(v, " #");
    if (hash) {
        *hash = '\0';
        v = trim(v);
    }
    return v;
}

int config_load_file(struct px_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return px_err_set(-1, "cannot open configuration %s: %s", path, strerror(errno));
    char line[4096], section[64] = "";
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close || close[1] != '\0' || close - s - 1 >= (long)sizeof(section)) {
                rc = px_err_set(-1, "%s:%d: malformed section header", path, lineno);
                break;
            }
            *close = '\0';
            snprintf(section, sizeof(section), "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = px_err_set(-1, "%s:%d: expected \"key = value\"", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = unquote(trim(eq + 1));
        if (!section[0]) {
            rc = px_err_set(-1, "%s:%d: key \"%s\" outside of any [section]", path, lineno, key);
            break;
        }
        if (config_set(cfg, section, key, value) != 0) {
            char msg[512];
            snprintf(msg, sizeof(msg), "%s", px_err_msg());
            rc = px_err_set(-1, "%s:%d: %s", path, lineno, msg);
        }
    }
    fclose(f);
    return rc;
}

int config_validate(const struct px_config *cfg)
{
    if (!cfg->acs_url || !cfg->acs_url[0])
        return px_err_set(-1, "no ACS URL: set acs.url in the configuration or --acs-url");
    if (strncmp(cfg->acs_url, "http://", 7) != 0 && strncmp(cfg->acs_url, "https://", 8) != 0)
        return px_err_set(-1, "acs.url \"%s\" is not an http:// or https:// URL", cfg->acs_url);
    if (strlen(cfg->oui) != 6 || strspn(cfg->oui, "0123456789ABCDEF") != 6)
        return px_err_set(-1, "device.oui \"%s\" is not 6 upper-case hexadecimal digits",
                          cfg->oui);
    if (cfg->session_timeout != 0 && cfg->session_timeout < 30)
        return px_err_set(-1, "cwmp.session_timeout %u: TR-069 Table 4 wants 0 (off) or at "
                          "least 30 seconds", cfg->session_timeout);
    if (!cfg->db_path || !cfg->db_path[0])
        return px_err_set(-1, "cache.path is empty");
    return 0;
}

void config_resolve(struct px_config *cfg)
{
    if (cfg->transfer_dir && cfg->transfer_dir[0])
        return;
    /* Next to the cache: a daemon started with only --db keeps all it writes in one place. */
    const char *slash = strrchr(cfg->db_path, '/');
    int dir_len = slash ? (int)(slash - cfg->db_path) : 0;
    free(cfg->transfer_dir);
    if (asprintf(&cfg->transfer_dir, "%.*s%sfiles", dir_len, cfg->db_path, slash ? "/" : "") < 0)
        cfg->transfer_dir = NULL;
}

void config_free(struct px_config *cfg)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].kind == KEY_STRING || keys[i].kind == KEY_DIGEST_ALGS)
            free(*(char **)((char *)cfg + keys[i].offset));
    memset(cfg, 0, sizeof(*cfg));
}

char *config_default_value(const struct px_config *cfg, const struct config_default *table,
                           size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) != 0)
            continue;
        const void *field = (const char *)cfg + table[i].offset;
        char num[16];
        switch (table[i].kind) {
        case CV_STRING: {
            const char *v = *(char *const *)field;
            return v ? strdup(v) : NULL;
        }
        case CV_UINT:
            snprintf(num, sizeof(num), "%u", *(const unsigned *)field);
            return strdup(num);
        case CV_BOOL:
            return strdup(*(const bool *)field ? "true" : "false");
        }
    }
    return NULL;
}
