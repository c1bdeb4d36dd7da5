/*
 * connreq.c: the admission rule of TR-069 3.2.2.1 shared by every connection-request
 * transport, the per-endpoint rate limit, the counters and rate-limited log of verdicts, and
 * the registry that starts the transports.
 */
#include "proxier/connreq/connreq.h"

#include <event2/event.h>
#include <stdarg.h>
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
#define MAX_LOGS 16 /* log limits whose interval the flush timer watches */

struct connreq {
    struct event_base *base;
    const struct px_config *cfg;
    struct endpoint **endpoints;
    size_t n_endpoints;
    void *state[MAX_TRANSPORTS];
    struct connreq_counts counts[MAX_TRANSPORTS];
    struct log_limit refused_log[MAX_TRANSPORTS];
    struct log_limit *logs[MAX_LOGS];
    struct event *log_timer; /* writes the count of held repeats when an interval ends */
};

const char *connreq_verdict_name(enum cr_verdict v)
{
    static const char *const names[] = {"accepted", "coalesced", "rate-limited", "offline"};
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

/* cr_pending: a session for an accepted request is due, not started yet (it may wait for
 * the running session to end); kick_cb in endpoint.c clears it when that session starts. */
static enum cr_verdict decide(struct endpoint *ep)
{
    if (ep->offline)
        return CR_OFFLINE;
    if (ep->cr_pending)
        return CR_COALESCED; /* 3.2.2.1: success, "MUST NOT initiate any additional" */
    /* A session that runs is never ended early: this request gets the one after it
     * (3.2.2.2 option (b), K.2.1.3's first alternative). Only such starts cost a token. */
    if (!take_token(ep))
        return CR_RATE_LIMITED;
    ep->cr_pending = true;
    return CR_ACCEPT;
}

static size_t transport_index(const struct connreq_transport *t)
{
    size_t i = 0;
    while (transports[i] && transports[i] != t)
        i++;
    return i; /* MAX_TRANSPORTS - 1 (the NULL slot) for an unknown one */
}

enum cr_verdict connreq_admit(struct connreq *cr, const struct connreq_transport *t,
                              struct endpoint *ep)
{
    enum cr_verdict v = decide(ep);
    size_t i = transport_index(t);
    struct connreq_counts *c = &cr->counts[i];
    const struct px_config *cfg = ep->env.cfg;
    switch (v) {
    case CR_ACCEPT:
        c->accepted++;
        LOG_INFO("connreq", "%s: %s connection request accepted%s", ep->key, t->label,
                 ep->session ? ", for a session after the running one" : "");
        break;
    case CR_COALESCED:
        c->coalesced++;
        LOG_DEBUG("connreq", "%s: %s connection request coalesced", ep->key, t->label);
        break;
    case CR_RATE_LIMITED:
        c->refused++;
        connreq_log_limited(cr, &cr->refused_log[i], LOG_LVL_WARN, "connreq",
                            "%s: %s connection request refused: rate limit of %u "
                            "sessions in a burst, one more every %u s "
                            "(connection_request.rate_burst, rate_interval)",
                            ep->key, t->label, cfg->cr_rate_burst, cfg->cr_rate_interval);
        break;
    case CR_OFFLINE:
        c->refused++;
        connreq_log_limited(cr, &cr->refused_log[i], LOG_LVL_WARN, "connreq",
                            "%s: %s connection request refused: the device is offline",
                            ep->key, t->label);
        break;
    }
    return v;
}

void connreq_start_session(struct endpoint *ep)
{
    endpoint_add_event_after_session(ep, EV_CONNECTION_REQUEST);
}

const struct connreq_counts *connreq_counts_of(const struct connreq *cr,
                                               const struct connreq_transport *t)
{
    return &cr->counts[transport_index(t)];
}

void connreq_status(const struct connreq *cr, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; transports[i] && used < size; i++) {
        char label[16];
        size_t n = 0;
        for (const char *p = transports[i]->label; *p && n + 1 < sizeof(label); p++)
            label[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        label[n] = '\0';
        const struct connreq_counts *c = &cr->counts[i];
        int w = snprintf(buf + used, size - used,
                         "%scr_%s_accepted=%lu cr_%s_coalesced=%lu cr_%s_refused=%lu",
                         i ? " " : "", label, c->accepted, label, c->coalesced, label,
                         c->refused);
        used += w > 0 ? (size_t)w : 0;
        if (transports[i]->status && used < size) {
            transports[i]->status(cr->state[i], buf + used, size - used);
            used += strlen(buf + used);
        }
    }
}

/* ---- Rate-limited log ---- */

static void arm_log_timer(struct connreq *cr);

static void on_log_timer(evutil_socket_t fd, short what, void *arg)
{
    struct connreq *cr = arg;
    for (size_t i = 0; i < MAX_LOGS; i++)
        if (cr->logs[i])
            log_limit_flush(cr->logs[i]);
    arm_log_timer(cr);
}

/* For the earliest end of an interval that holds repeats. */
static void arm_log_timer(struct connreq *cr)
{
    double next = -1;
    for (size_t i = 0; i < MAX_LOGS; i++) {
        double due = cr->logs[i] ? log_limit_due(cr->logs[i]) : -1;
        if (due >= 0 && (next < 0 || due < next))
            next = due;
    }
    if (next < 0 || !cr->base)
        return;
    if (!cr->log_timer)
        cr->log_timer = evtimer_new(cr->base, on_log_timer, cr);
    next += 0.001; /* past the end, not just before it */
    struct timeval tv = {(time_t)next, (suseconds_t)((next - (time_t)next) * 1e6)};
    if (cr->log_timer)
        evtimer_add(cr->log_timer, &tv);
}

static void watch_log(struct connreq *cr, struct log_limit *l)
{
    size_t free_slot = MAX_LOGS;
    for (size_t i = 0; i < MAX_LOGS; i++) {
        if (cr->logs[i] == l)
            return;
        if (!cr->logs[i] && free_slot == MAX_LOGS)
            free_slot = i;
    }
    if (free_slot < MAX_LOGS)
        cr->logs[free_slot] = l;
}

void connreq_log_limited(struct connreq *cr, struct log_limit *l, enum log_level level,
                         const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool held = log_vlimited(l, level, module, fmt, ap);
    va_end(ap);
    if (!held)
        return;
    watch_log(cr, l);
    arm_log_timer(cr);
}

void connreq_forget_log(struct connreq *cr, struct log_limit *l)
{
    for (size_t i = 0; i < MAX_LOGS; i++)
        if (cr->logs[i] == l)
            cr->logs[i] = NULL;
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
    if (cr->log_timer)
        event_free(cr->log_timer);
    cr->log_timer = NULL;
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
