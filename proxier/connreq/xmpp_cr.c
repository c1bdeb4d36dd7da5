/*
 * xmpp_cr.c: the XMPP connection-request transport on the event loop (TR-069 Annex K.2.1;
 * TR-181 ManagementServer.ConnReqJabberID, ConnReqAllowedJabberIDs).
 *
 * For each endpoint it turns the data model (xmpp_model.c) into the stream the libstrophe
 * thread (xmpp_thread.c) should run, follows that stream's status, publishes the JID the
 * server bound as ConnReqJabberID (forceDefaultEnabled: a change is reported; an outage
 * leaves it as it was), and judges every connectionRequest IQ as K.2.1.3 says: over a
 * TLS-secured stream from an allowed JID (else ignored, "The CPE MUST ignore an XMPP
 * Connection Request that is neither successfully validated nor authenticated"; or, with
 * [xmpp] ignore_unauthorized_jids off, service-unavailable, indistinguishable from "not
 * supported"), with the right ConnectionRequestUsername and Password (else not-authorized,
 * K.2.3.3), then connreq_admit() decides (result, or service-unavailable when rate-limited
 * or offline). An accepted request starts its session once the thread has
 * handed the result to libstrophe.
 *
 * At daemon start (K.2.1 SHOULD) the endpoint's sessions are held until the stream is up or
 * has failed, at most [xmpp] boot_wait seconds, so that a changed ConnReqJabberID rides on
 * the Inform with "1 BOOT" instead of needing a session of its own.
 */
#include "proxier/connreq/xmpp_cr.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/connreq.h"
#include "proxier/connreq/xmpp_internal.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"

#define JID_PATH "Device.ManagementServer.ConnReqJabberID"

struct xmpp_cr {
    struct connreq *cr;
    struct xmpp_worker *worker;
    struct xmpp_ep **eps; /* index = the worker's slot */
    size_t n_eps;
};

/* Loop-private part of struct xmpp_ep. */
struct xmpp_ep_loop {
    struct xmpp_ep pub;
    struct event *reconf;
    struct event *boot_timer; /* the end of the boot wait, NULL if none was taken */
    bool boot_held;           /* we hold the endpoint's sessions (endpoint_hold) */
};

/* ---- Allowed JIDs ---- */

/* Length of the bare part of a JID; *res = its resource or NULL (RFC 7622 3.1). */
static size_t bare_length(const char *jid, size_t len, const char **res)
{
    const char *slash = memchr(jid, '/', len);
    *res = slash ? slash + 1 : NULL;
    return slash ? (size_t)(slash - jid) : len;
}

static bool entry_matches(const char *entry, size_t len, const char *from)
{
    const char *eres, *fres;
    size_t eb = bare_length(entry, len, &eres), fb = bare_length(from, strlen(from), &fres);
    if (eb != fb || strncasecmp(entry, from, eb) != 0)
        return false;
    if (!eres)
        return true; /* a bare JID matches every resource */
    size_t rlen = len - (size_t)(eres - entry);
    return fres && strlen(fres) == rlen && !memcmp(fres, eres, rlen);
}

bool xmpp_jid_allowed(const char *list, const char *from)
{
    bool any = false;
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, ",");
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            any = true;
            if (entry_matches(p, len, from))
                return true;
        }
        p += strcspn(p, ",");
    }
    return !any; /* TR-181: an empty list allows every JID */
}

/* ---- Status and ConnReqJabberID ---- */

static void set_status(struct xmpp_ep *xe, const char *status)
{
    if (!strcmp(xe->status, status))
        return;
    snprintf(xe->status, sizeof(xe->status), "%s", status);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(xe->last_change, sizeof(xe->last_change), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* TR-181 ConnReqJabberID: the JID the server bound; reported when it changed, also across
 * restarts (the last one is kept in the cache). */
static void publish_jabber_id(struct xmpp_ep *xe, const char *jid)
{
    struct endpoint *ep = xe->ep;
    if (!jid)
        jid = "";
    if (!strcmp(ep->conn_req_jabber_id, jid))
        return;
    LOG_INFO("xmpp", "%s: ConnReqJabberID is now \"%s\"", ep->key, jid);
    free(ep->conn_req_jabber_id);
    ep->conn_req_jabber_id = strdup(jid);
    cache_value_set(ep->env.cache, ep->key, JID_PATH, jid, "system");
    dm_value_changed(ep->model, JID_PATH, jid);
}

static void load_jabber_id(struct xmpp_ep *xe)
{
    char *stored = NULL;
    if (cache_value_get(xe->ep->env.cache, xe->ep->key, JID_PATH, &stored) != CACHE_OK)
        return;
    free(xe->ep->conn_req_jabber_id);
    xe->ep->conn_req_jabber_id = stored;
}

/* ---- The boot wait (K.2.1: the stream before the session with "1 BOOT") ---- */

static void boot_release(struct xmpp_ep_loop *l, const char *why)
{
    if (!l->boot_held)
        return;
    l->boot_held = false;
    evtimer_del(l->boot_timer);
    LOG_INFO("xmpp", "%s: boot session goes ahead (%s)", l->pub.ep->key, why);
    endpoint_release(l->pub.ep);
}

static void boot_timeout(evutil_socket_t fd, short what, void *arg)
{
    boot_release(arg, "boot_wait passed");
}

/* Hold the endpoint's first session while its stream comes up: on_status releases it when
 * the thread reports the stream bound or failed, boot_timeout after boot_wait at most. */
static void boot_hold(struct xmpp_ep_loop *l)
{
    unsigned wait = connreq_config(l->pub.x->cr)->xmpp_boot_wait;
    if (!wait || !l->pub.running || l->pub.ep->session)
        return; /* not configured, nothing to wait for, or too late */
    l->boot_timer = evtimer_new(connreq_base(l->pub.x->cr), boot_timeout, l);
    struct timeval tv = {(time_t)wait, 0};
    evtimer_add(l->boot_timer, &tv);
    l->boot_held = true;
    endpoint_hold(l->pub.ep);
    LOG_INFO("xmpp", "%s: boot session waits up to %u s for the XMPP stream", l->pub.ep->key,
             wait);
}

static void on_status(struct xmpp_ep *xe, const struct xmpp_event *ev)
{
    set_status(xe, ev->status);
    xe->tls = ev->tls;
    if (!strcmp(ev->status, "Enabled") && ev->jid) {
        free(xe->jabber_id);
        xe->jabber_id = strdup(ev->jid);
        publish_jabber_id(xe, ev->jid); /* first: its value change joins the boot Inform */
    } /* else an outage leaves JabberID and ConnReqJabberID as they were */
    if (strcmp(ev->status, "Connecting") != 0)
        boot_release((struct xmpp_ep_loop *)xe, ev->status); /* up, or failed */
}

/* ---- Connection requests (K.2.1.3) ---- */

static bool secret_equal(const char *given, const char *expected)
{
    size_t n = strlen(expected);
    return strlen(given) == n && CRYPTO_memcmp(given, expected, n) == 0;
}

static enum xmpp_reply judge(struct xmpp_ep *xe, const struct xmpp_event *ev, bool *start)
{
    struct endpoint *ep = xe->ep;
    *start = false;
    if (!ev->tls || !xmpp_jid_allowed(mgmt_get(ep, "ConnReqAllowedJabberIDs"), ev->from)) {
        bool ignore = connreq_config(xe->x->cr)->xmpp_ignore_unauthorized_jids;
        LOG_INFO("xmpp", "%s: connection request from %s %s (%s)", ep->key, ev->from,
                 ignore ? "ignored" : "refused",
                 ev->tls ? "JID not allowed" : "stream without TLS");
        return ignore ? XMPP_REPLY_IGNORE : XMPP_REPLY_UNAVAILABLE;
    }
    /* Both compared, so the reply does not tell which one was wrong. */
    bool user_ok = secret_equal(ev->username, mgmt_get(ep, "ConnectionRequestUsername"));
    bool pass_ok = secret_equal(ev->password, mgmt_get(ep, "ConnectionRequestPassword"));
    if (!user_ok || !pass_ok) {
        LOG_INFO("xmpp", "%s: connection request from %s: wrong credentials", ep->key,
                 ev->from);
        return XMPP_REPLY_NOT_AUTHORIZED;
    }
    enum cr_verdict v = connreq_admit(xe->x->cr, &xmpp_transport, ep);
    *start = v == CR_ACCEPT;
    return v == CR_ACCEPT || v == CR_COALESCED ? XMPP_REPLY_RESULT : XMPP_REPLY_UNAVAILABLE;
}

static void on_event(void *arg, struct xmpp_event *ev)
{
    struct xmpp_cr *x = arg;
    struct xmpp_ep *xe = ev->slot < x->n_eps ? x->eps[ev->slot] : NULL;
    if (!xe)
        goto exit;
    if (ev->kind == XMPP_EV_STATUS) {
        on_status(xe, ev);
    } else if (ev->kind == XMPP_EV_REQUEST) {
        bool start;
        enum xmpp_reply r = judge(xe, ev, &start);
        xmpp_worker_reply(x->worker, xe->slot, ev->token, r, start);
    } else if (ev->kind == XMPP_EV_REPLIED && ev->start_session) {
        connreq_start_session(xe->ep);
    }
exit:
    xmpp_event_free(ev);
}

/* ---- Configuration ---- */

static void reconfigure_now(evutil_socket_t fd, short what, void *arg)
{
    struct xmpp_ep *xe = arg;
    unsigned row;
    const char *status;
    struct xmpp_conn_cfg *c = xmpp_model_conn_cfg(xe, &row, &status);
    if (row == xe->row && xmpp_conn_cfg_equal(c, xe->running)) {
        xmpp_conn_cfg_free(c);
        return;
    }
    xmpp_worker_configure(xe->x->worker, xe->slot, c);
    xmpp_conn_cfg_free(xe->running);
    xe->running = c;
    xe->row = row;
    free(xe->jabber_id);
    xe->jabber_id = strdup("");
    xe->tls = false;
    set_status(xe, c ? "Connecting" : status);
    if (!c) {
        LOG_INFO("xmpp", "%s: no XMPP connection requests (%s)", xe->ep->key, status);
        publish_jabber_id(xe, ""); /* no connection is referenced any more */
        boot_release((struct xmpp_ep_loop *)xe, status);
    }
}

void xmpp_cr_reconfigure(struct xmpp_ep *xe)
{
    /* Deferred: a DeleteObject removes the row from the model after its provider ran. */
    event_active(((struct xmpp_ep_loop *)xe)->reconf, EV_TIMEOUT, 0);
}

void xmpp_cr_stats(struct xmpp_ep *xe, struct xmpp_stats *out)
{
    xmpp_worker_stats(xe->x->worker, xe->slot, out);
}

/* ---- The transport ---- */

static void *xmpp_start(struct connreq *cr, bool *failed)
{
    struct xmpp_cr *x = calloc(1, sizeof(*x));
    x->cr = cr;
    x->worker = xmpp_worker_start(connreq_base(cr), connreq_config(cr)->xmpp_ca_file, on_event,
                                  x);
    if (!x->worker) {
        *failed = true;
        free(x);
        return NULL;
    }
    return x;
}

static void xmpp_endpoint_added(void *state, struct endpoint *ep)
{
    struct xmpp_cr *x = state;
    struct xmpp_ep_loop *l = calloc(1, sizeof(*l));
    struct xmpp_ep *xe = &l->pub;
    xe->x = x;
    xe->ep = ep;
    xe->slot = (unsigned)x->n_eps;
    xe->jabber_id = strdup("");
    snprintf(xe->status, sizeof(xe->status), "Disabled");
    if (!xmpp_model_attach(xe)) { /* this endpoint's model has no Device.XMPP. */
        free(xe->jabber_id);
        free(l);
        return;
    }
    x->eps = realloc(x->eps, (x->n_eps + 1) * sizeof(*x->eps));
    x->eps[x->n_eps++] = xe;
    l->reconf = event_new(connreq_base(x->cr), -1, 0, reconfigure_now, xe);
    load_jabber_id(xe);
    reconfigure_now(-1, 0, xe);
    boot_hold(l);
}

static void xmpp_stop(void *state)
{
    struct xmpp_cr *x = state;
    xmpp_worker_stop(x->worker);
    for (size_t i = 0; i < x->n_eps; i++) {
        struct xmpp_ep_loop *l = (struct xmpp_ep_loop *)x->eps[i];
        boot_release(l, "stopping");
        if (l->boot_timer)
            event_free(l->boot_timer);
        event_free(l->reconf);
        xmpp_conn_cfg_free(l->pub.running);
        free(l->pub.jabber_id);
        free(l);
    }
    free(x->eps);
    free(x);
}

const struct connreq_transport xmpp_transport = {
    .name = "XMPP",
    .label = "XMPP",
    .start = xmpp_start,
    .endpoint_added = xmpp_endpoint_added,
    .stop = xmpp_stop,
};
