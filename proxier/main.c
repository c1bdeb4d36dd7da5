/*
 * main.c: proxierd, the CWMP CPE Proxier daemon. Reads the configuration (a file and/or
 * options), opens the cache, builds the gateway's endpoint and runs the event loop until
 * SIGTERM. A Reboot or FactoryReset from the ACS ends the loop after its session and runs
 * the configured action; the default "restart" re-executes the daemon, which then boots
 * like a rebooted CPE.
 */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <libxml/parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/connreq/connreq.h"
#include "proxier/core/endpoint.h"
#include "proxier/ctl/ctl.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"
#include "proxier/soap/soap.h"
#include "proxier/session/http.h"
#include "proxier/transfer/transfer.h"

enum after_loop { AFTER_EXIT = 0, AFTER_REBOOT, AFTER_FACTORY_RESET };

struct daemon {
    struct px_config cfg;
    struct event_base *base;
    struct cache *cache;
    struct http_multi *http;
    struct dm_schema *schema;
    struct endpoint *gateway;
    struct ctl *ctl;
    struct connreq *connreq;
    enum after_loop after;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: proxierd [-c|--config FILE] [--acs-url URL] [--acs-username U --acs-password P]\n"
            "                [--cr-port N --cr-username U --cr-password P] [--db PATH]\n"
            "                [--log-level error|warn|info|debug] [--trace]\n"
            "                [--set SECTION.KEY=VALUE ...] [--version]\n"
            "Runs in the foreground. Every configuration key is described in "
            "docs/configuration.md.\n");
}

static int set_option(struct px_config *cfg, const char *section, const char *key,
                      const char *value)
{
    if (config_set(cfg, section, key, value) == 0)
        return 0;
    fprintf(stderr, "proxierd: %s\n", px_err_msg());
    return -1;
}

/* "--set section.key=value" */
static int set_generic(struct px_config *cfg, const char *arg)
{
    char *copy = strdup(arg);
    char *dot = strchr(copy, '.'), *eq = strchr(copy, '=');
    int rc = -1;
    if (!dot || !eq || dot > eq) {
        fprintf(stderr, "proxierd: --set wants SECTION.KEY=VALUE, not \"%s\"\n", arg);
    } else {
        *dot = *eq = '\0';
        rc = set_option(cfg, copy, dot + 1, eq + 1);
    }
    free(copy);
    return rc;
}

static int parse_args(struct px_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"acs-url", required_argument, NULL, 'u'},
        {"acs-username", required_argument, NULL, 'U'},
        {"acs-password", required_argument, NULL, 'P'},
        {"cr-port", required_argument, NULL, 'p'},
        {"cr-username", required_argument, NULL, 'n'},
        {"cr-password", required_argument, NULL, 'w'},
        {"db", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'l'},
        {"trace", no_argument, NULL, 't'},
        {"set", required_argument, NULL, 's'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* The file first, so that options override it whatever their order. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) && i + 1 < argc)
            file = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
        if (file && config_load_file(cfg, file) != 0) {
            fprintf(stderr, "proxierd: %s\n", px_err_msg());
            return -1;
        }
    }
    int c, rc = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'u': rc = set_option(cfg, "acs", "url", optarg); break;
        case 'U': rc = set_option(cfg, "acs", "username", optarg); break;
        case 'P': rc = set_option(cfg, "acs", "password", optarg); break;
        case 'p': rc = set_option(cfg, "connection_request", "port", optarg); break;
        case 'n': rc = set_option(cfg, "connection_request", "username", optarg); break;
        case 'w': rc = set_option(cfg, "connection_request", "password", optarg); break;
        case 'd': rc = set_option(cfg, "cache", "path", optarg); break;
        case 'l': rc = set_option(cfg, "log", "level", optarg); break;
        case 't': cfg->log_trace = true; break;
        case 's': rc = set_generic(cfg, optarg); break;
        case 'V': printf("proxierd %s\n", PROXIER_VERSION); exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "proxierd: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (rc == 0 && config_validate(cfg) != 0) {
        fprintf(stderr, "proxierd: %s\n", px_err_msg());
        return -1;
    }
    if (rc == 0)
        config_resolve(cfg);
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    LOG_INFO("main", "signal %d: shutting down", (int)sig);
    d->after = AFTER_EXIT;
    event_base_loopbreak(d->base);
}

static void on_hangup(evutil_socket_t sig, short what, void *arg)
{
    LOG_WARN("main", "SIGHUP ignored: restart proxierd to read a changed configuration");
}

static void hook_reboot(void *arg, struct endpoint *ep)
{
    struct daemon *d = arg;
    LOG_INFO("main", "%s: reboot requested by the ACS", ep->key);
    d->after = AFTER_REBOOT;
    event_base_loopbreak(d->base);
}

static void hook_factory_reset(void *arg, struct endpoint *ep)
{
    struct daemon *d = arg;
    LOG_INFO("main", "%s: factory reset requested by the ACS", ep->key);
    d->after = AFTER_FACTORY_RESET;
    event_base_loopbreak(d->base);
}

/* Once per change of state, not per failed write: the cache stopped or resumed taking
 * writes. What cannot be stored meanwhile is kept in memory (queue.c) or answered 9002. */
static void on_cache_health(void *arg, bool ok, const char *why, int code)
{
    struct daemon *d = arg;
    if (ok)
        LOG_INFO("cache", "%s takes writes again (it failed with: %s, sqlite error %d): events "
                 "are durable again", d->cfg.db_path, why, code);
    else
        LOG_ERROR("cache", "%s cannot be written: %s (sqlite error %d); sessions go on, events "
                  "are kept in memory until it can (lost at a restart)", d->cfg.db_path, why,
                  code);
}

static int daemon_setup(struct daemon *d)
{
    if (cache_open(&d->cache, d->cfg.db_path,
                   d->cfg.db_sync_full ? CACHE_SYNC_FULL : CACHE_SYNC_NORMAL) != CACHE_OK) {
        LOG_ERROR("main", "cannot open the cache %s: %s", d->cfg.db_path, cache_errmsg(NULL));
        return -1;
    }
    if (cache_claim(d->cache) != CACHE_OK) {
        LOG_ERROR("main", "cannot open the cache %s: %s", d->cfg.db_path,
                  cache_errmsg(d->cache));
        return -1;
    }
    cache_set_health_cb(d->cache, on_cache_health, d);
    /* Now rather than as a 9010 at every Download (the cache's directory exists by now). */
    if (transfer_dir_prepare(d->cfg.transfer_dir) != 0) {
        LOG_ERROR("main", "%s", px_err_msg());
        return -1;
    }
    d->base = event_base_new();
    d->http = http_multi_new(d->base);
    d->schema = gateway_schema_new();
    if (!d->base || !d->http || !d->schema)
        return -1;
    struct endpoint_env env = {d->base, d->cache, d->http, &d->cfg};
    struct endpoint_hooks hooks = {hook_reboot, hook_factory_reset, d};
    d->gateway = gateway_endpoint_new(&env, d->schema, &hooks);
    if (!d->gateway) {
        LOG_ERROR("main", "cannot create the gateway endpoint: %s", px_err_msg());
        return -1;
    }
    /* Before the endpoint starts: completions that waited for this boot go with "1 BOOT". */
    if (!transfer_attach(d->gateway))
        return -1;
    d->connreq = connreq_new(d->base, &d->cfg); /* its transports start in daemon_listen */
    if (!d->connreq)
        return -1;
    if (d->cfg.control_socket && *d->cfg.control_socket) {
        d->ctl = ctl_new(d->base, d->cfg.control_socket, d->gateway, d->connreq);
        if (!d->ctl) {
            LOG_ERROR("main", "%s", px_err_msg());
            return -1;
        }
    }
    return 0;
}

/* After the endpoints booted (their reboot policy ran): listen for connection requests,
 * which publishes the ConnectionRequestURLs before the first Inform goes out. */
static int daemon_listen(struct daemon *d)
{
    connreq_add_endpoint(d->connreq, d->gateway);
    return connreq_start(d->connreq);
}

static void daemon_teardown(struct daemon *d)
{
    ctl_free(d->ctl); /* it reads the counters of connreq */
    connreq_free(d->connreq);
    if (d->gateway)
        transfer_detach(d->gateway);
    gateway_endpoint_free(d->gateway);
    if (d->http)
        http_multi_free(d->http);
    if (d->schema)
        dm_schema_free(d->schema);
    if (d->cache)
        cache_close(d->cache);
    if (d->base)
        event_base_free(d->base);
}

/* The action after the loop. A factory reset forgets the endpoint's state first; both then
 * reboot by the configured means. Returns the exit code when the process goes on living. */
static int run_after(struct daemon *d, char **argv)
{
    if (d->after == AFTER_EXIT)
        return 0;
    if (d->after == AFTER_FACTORY_RESET) {
        struct cache *c;
        if (cache_open(&c, d->cfg.db_path, CACHE_SYNC_FULL) == CACHE_OK) {
            cache_endpoint_wipe(c, GATEWAY_ENDPOINT_KEY);
            cache_close(c);
        }
        if (d->cfg.factory_reset_action && *d->cfg.factory_reset_action &&
            system(d->cfg.factory_reset_action) != 0)
            LOG_WARN("main", "factory reset action failed: %s", d->cfg.factory_reset_action);
    }
    const char *action = d->cfg.reboot_action;
    if (!strcmp(action, "exit"))
        return 0;
    if (!strcmp(action, "restart")) {
        LOG_INFO("main", "restarting");
        execv("/proc/self/exe", argv);
        LOG_ERROR("main", "cannot restart: %s", strerror(errno));
        return 1;
    }
    LOG_INFO("main", "running reboot action: %s", action);
    return system(action) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct daemon d = {0};
    signal(SIGPIPE, SIG_IGN);
    config_defaults(&d.cfg);
    if (parse_args(&d.cfg, argc, argv) != 0) {
        config_free(&d.cfg);
        return 2;
    }
    log_setup(d.cfg.log_syslog ? LOG_TARGET_SYSLOG : LOG_TARGET_STDERR, d.cfg.log_level,
              d.cfg.log_trace);
    log_ring_setup(d.cfg.log_ring_lines);
    log_set_repeat_interval(d.cfg.log_repeat_interval);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    soap_route_xml_errors();
    LOG_INFO("main", "proxierd %s starting, ACS %s", PROXIER_VERSION, d.cfg.acs_url);

    int rc = 1;
    if (daemon_setup(&d) == 0) {
        struct event *term = evsignal_new(d.base, SIGTERM, on_signal, &d);
        struct event *intr = evsignal_new(d.base, SIGINT, on_signal, &d);
        struct event *hup = evsignal_new(d.base, SIGHUP, on_hangup, &d);
        evsignal_add(term, NULL);
        evsignal_add(intr, NULL);
        evsignal_add(hup, NULL);
        gateway_endpoint_start(d.gateway);
        if (daemon_listen(&d) == 0) {
            event_base_dispatch(d.base);
            rc = 0;
        }
        event_free(term);
        event_free(intr);
        event_free(hup);
    }
    daemon_teardown(&d);
    if (rc == 0)
        rc = run_after(&d, argv);
    config_free(&d.cfg);
    xmlCleanupParser();
    curl_global_cleanup();
    LOG_INFO("main", "stopped");
    log_ring_setup(0);
    return rc;
}
