/*
 * connreq.c: the admission rule of TR-069 3.2.2.1 shared by every connection-request
 * transport, the per-endpoint rate limit, and the registry that starts the transports.
 */
#include "proxier/connreq/connreq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/http_cr.h"
#include "proxier/connreq/udp_cr.h"
#include "proxier/connreq/xmpp_cr.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/dm/dm.h"

#define CR_URL_PATH "Device.ManagementServer.ConnectionRequestURL"

/* Every transport this daemon has, started in this order; NULL ends the list. */
static const struct connreq_transport *const transports[] = {
    &http_cr_transport,
    &udp_cr_transport,
    &xmpp_transport,
    NULL,
};

#define MAX_TRANSPORTS (sizeof(transports) / sizeof(transports[0]))

struct connreq {
    struct event_base *base;
    const struct px_config *cfg;
    struct endpoint **endpoints;
    size_t n_endpoints;
    void *state[MAX_TRANSPORTS];
};

const char *connreq_verdict_name(enum cr_verdict v)
{
    static const char *const names[] = {"accepted", "coalesced", "busy", "rate-limited",
                                        "offline"};
    return v <= CR_OFFLINE ? names[v] : "?";
}

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Token bucket: rate_burst tokens, one more every rate_interval seconds (0 = no limit). */
static bool take_token(struct endpoint *ep)
{
    const struct px_config *cfg = ep->env.cfg;
    if (cfg->cr_rate_interval == 0)
        return true;
    double now = now_seconds();
    if (ep->cr_refilled_at == 0)
        ep->cr_tokens = cfg->cr_rate_burst;
    else
        ep->cr_tokens += (now - ep->cr_refilled_at) / cfg->cr_rate_interval;
    if (ep->cr_tokens > cfg->cr_rate_burst)
        ep->cr_tokens = cfg->cr_rate_burst;
    ep->cr_refilled_at = now;
    if (ep->cr_tokens < 1)
        return false;
    ep->cr_tokens -= 1;
    return true;
}

static enum cr_verdict decide(struct endpoint *ep)
{
    if (ep->offline)
        return CR_OFFLINE;
    if (ep->session)
        return CR_BUSY; /* 3.2.2.2 option (a): refuse, never end the session early */
    if (ep->cr_pending)
        return CR_COALESCED;
    if (!take_token(ep))
        return CR_RATE_LIMITED;
    ep->cr_pending = true;
    return CR_ACCEPT;
}

enum cr_verdict connreq_admit(struct endpoint *ep, const char *transport)
{
    enum cr_verdict v = decide(ep);
    if (v == CR_ACCEPT)
        LOG_INFO("connreq", "%s: %s connection request accepted", ep->key, transport);
    else
        LOG_DEBUG("connreq", "%s: %s connection request %s", ep->key, transport,
                  connreq_verdict_name(v));
    return v;
}

void connreq_start_session(struct endpoint *ep)
{
    endpoint_add_event(ep, EV_CONNECTION_REQUEST, "");
}

void connreq_publish_url(struct endpoint *ep, const char *url)
{
    if (!strcmp(ep->connection_request_url, url))
        return;
    free(ep->connection_request_url);
    ep->connection_request_url = strdup(url);
    char *before = NULL;
    struct cache *c = ep->env.cache;
    int rc = cache_value_get(c, ep->key, CR_URL_PATH, &before);
    if (rc == CACHE_OK && strcmp(before, url) != 0) {
        LOG_INFO("connreq", "%s: ConnectionRequestURL is now %s", ep->key, url);
        dm_value_changed(ep->model, CR_URL_PATH, url);
    }
    if (rc != CACHE_OK || strcmp(before, url) != 0)
        cache_value_set(c, ep->key, CR_URL_PATH, url, "system");
    free(before);
}

/* ---- The service ---- */

struct connreq *connreq_new(struct event_base *base, const struct px_config *cfg)
{
    struct connreq *cr = calloc(1, sizeof(*cr));
    if (cr) {
        cr->base = base;
        cr->cfg = cfg;
    }
    return cr;
}

int connreq_start(struct connreq *cr)
{
    for (size_t i = 0; transports[i]; i++) {
        bool failed = false;
        px_err_clear();
        cr->state[i] = transports[i]->start(cr, &failed);
        if (failed) {
            LOG_ERROR("connreq", "%s connection requests: %s", transports[i]->name,
                      px_err_msg());
            return -1;
        }
        if (cr->state[i])
            for (size_t e = 0; e < cr->n_endpoints; e++)
                transports[i]->endpoint_added(cr->state[i], cr->endpoints[e]);
    }
    return 0;
}

void connreq_add_endpoint(struct connreq *cr, struct endpoint *ep)
{
    cr->endpoints = realloc(cr->endpoints, (cr->n_endpoints + 1) * sizeof(*cr->endpoints));
    cr->endpoints[cr->n_endpoints++] = ep;
    for (size_t i = 0; transports[i]; i++)
        if (cr->state[i])
            transports[i]->endpoint_added(cr->state[i], ep);
}

void connreq_free(struct connreq *cr)
{
    if (!cr)
        return;
    for (size_t i = MAX_TRANSPORTS; i-- > 0;)
        if (cr->state[i])
            transports[i]->stop(cr->state[i]);
    free(cr->endpoints);
    free(cr);
}

const char *connreq_supported_methods(void)
{
    static char list[64];
    if (!list[0])
        for (size_t i = 0; transports[i]; i++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
                     transports[i]->name);
    return list;
}

struct event_base *connreq_base(const struct connreq *cr)
{
    return cr->base;
}

const struct px_config *connreq_config(const struct connreq *cr)
{
    return cr->cfg;
}

struct endpoint *const *connreq_endpoints(const struct connreq *cr, size_t *n)
{
    *n = cr->n_endpoints;
    return cr->endpoints;
}
