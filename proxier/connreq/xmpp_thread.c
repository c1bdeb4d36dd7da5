/*
 * xmpp_thread.c: the libstrophe thread of the XMPP connection-request transport (TR-069
 * Annex K.2.1, Appendix III; connection-requests.md 2.3-2.4).
 *
 * One xmpp_ctx, one xmpp_conn per slot (endpoint). The thread alone calls libstrophe: its
 * DNS lookups and TLS handshake block, and a stalled server must not freeze the event
 * loop. It logs in (STARTTLS with the CA file, SASL, resource bind), sends a whitespace
 * keepalive every KeepAliveInterval (RFC 6120 4.6.1), reconnects after a loss with the
 * random growing wait of Appendix III.4.5, and answers every IQ get/set: the
 * connectionRequest with the loop's verdict (Figures 20-22, or nothing when the loop says
 * to ignore it, K.2.1.3), a ping with a result, anything else with service-unavailable
 * (RFC 6120 8.4). Consecutive xmpp_run_once() passes flush libstrophe's own output at once
 * (connection-requests.md 2.3 item 2). SIGPIPE is ignored by main.c; the fd count stays
 * below FD_SETSIZE as long as RLIMIT_NOFILE does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/xmpp_cr.h"
#include "proxier/connreq/xmpp_internal.h"
#include "proxier/core/util.h"

#define STANZAS_NS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define PING_NS "urn:xmpp:ping"
#define IDLE_WAIT_MS 20 /* longest wait for a verdict before reading the streams again */
#define RUN_WAIT_MS 100 /* longest wait in the streams: commands are seen at least this often */

enum cmd_kind { CMD_CONFIGURE, CMD_REPLY };

struct command {
    enum cmd_kind kind;
    unsigned slot;
    struct xmpp_conn_cfg *cfg; /* CONFIGURE: owned, NULL = stop */
    uint64_t token;
    enum xmpp_reply reply;
    bool start_session;
    struct command *next;
};

/* A connectionRequest waiting for the loop's verdict. */
struct pending {
    uint64_t token;
    xmpp_stanza_t *stanza;
    struct pending *next;
};

struct slot {
    struct xmpp_worker *w;
    unsigned id;
    struct xmpp_conn_cfg *cfg;
    xmpp_conn_t *conn;
    bool up;            /* bound, CONNECT seen */
    bool releasing;     /* our own teardown: ignore the DISCONNECT it causes */
    unsigned attempt;   /* failed attempts since the last login */
    double retry_at;    /* monotonic time of the next connect, 0 = none */
    double keepalive_at;
    struct pending *pending;
    unsigned auth_failures_seen;
    struct xmpp_stats stats; /* under w->lock */
    struct slot *next;
};

struct xmpp_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct command *commands, **commands_tail; /* loop -> thread */
    struct xmpp_event *events, **events_tail;  /* thread -> loop */
    int efd;
    struct event *ev;
    xmpp_event_cb cb;
    void *cb_arg;
    char *ca_file;
    /* thread only: */
    xmpp_ctx_t *ctx;
    struct slot *slots;
    size_t n_pending;
    uint64_t next_token;
    unsigned auth_failures; /* SASL failures libstrophe logged */
};

/* ---- Configurations ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct xmpp_conn_cfg *xmpp_conn_cfg_copy(const struct xmpp_conn_cfg *c)
{
    struct xmpp_conn_cfg *n = malloc(sizeof(*n));
    *n = *c;
    n->jid = dup_or_null(c->jid);
    n->password = dup_or_null(c->password);
    n->host = dup_or_null(c->host);
    return n;
}

static bool str_equal(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

bool xmpp_conn_cfg_equal(const struct xmpp_conn_cfg *a, const struct xmpp_conn_cfg *b)
{
    if (!a || !b)
        return a == b;
    return str_equal(a->jid, b->jid) && str_equal(a->password, b->password) &&
           str_equal(a->host, b->host) && a->port == b->port && a->use_tls == b->use_tls &&
           a->keepalive == b->keepalive && a->retry_initial == b->retry_initial &&
           a->retry_multiplier == b->retry_multiplier && a->retry_max == b->retry_max;
}

void xmpp_conn_cfg_free(struct xmpp_conn_cfg *c)
{
    if (!c)
        return;
    free(c->jid);
    free(c->password);
    free(c->host);
    free(c);
}

void xmpp_event_free(struct xmpp_event *ev)
{
    if (!ev)
        return;
    free(ev->status);
    free(ev->jid);
    free(ev->from);
    free(ev->username);
    free(ev->password);
    free(ev);
}

double xmpp_retry_window(unsigned initial, unsigned multiplier, unsigned max, unsigned n)
{
    double w = initial;
    for (unsigned i = 1; i < n && w < max; i++)
        w = w * multiplier / 1000.0;
    return w < max ? w : max;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Thread -> loop ---- */

static void post(struct xmpp_worker *w, struct xmpp_event *ev)
{
    pthread_mutex_lock(&w->lock);
    *w->events_tail = ev;
    w->events_tail = &ev->next;
    pthread_mutex_unlock(&w->lock);
    uint64_t one = 1;
    if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        LOG_WARN("xmpp", "cannot wake the event loop: %s", strerror(errno));
}

static void post_status(struct slot *s, const char *status)
{
    struct xmpp_event *ev = calloc(1, sizeof(*ev));
    ev->kind = XMPP_EV_STATUS;
    ev->slot = s->id;
    ev->status = strdup(status);
    if (s->up && s->conn) {
        ev->jid = dup_or_null(xmpp_conn_get_bound_jid(s->conn));
        ev->tls = xmpp_conn_is_secured(s->conn);
    }
    post(s->w, ev);
}

/* On the loop: hand every queued event to the callback. */
static void on_events(evutil_socket_t fd, short what, void *arg)
{
    struct xmpp_worker *w = arg;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&w->lock);
    struct xmpp_event *list = w->events;
    w->events = NULL;
    w->events_tail = &w->events;
    pthread_mutex_unlock(&w->lock);
    for (struct xmpp_event *next; list; list = next) {
        next = list->next;
        list->next = NULL;
        w->cb(w->cb_arg, list);
    }
}

/* ---- Loop -> thread ---- */

static void command(struct xmpp_worker *w, struct command *c)
{
    pthread_mutex_lock(&w->lock);
    *w->commands_tail = c;
    w->commands_tail = &c->next;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void xmpp_worker_configure(struct xmpp_worker *w, unsigned slot, const struct xmpp_conn_cfg *cfg)
{
    struct command *c = calloc(1, sizeof(*c));
    c->kind = CMD_CONFIGURE;
    c->slot = slot;
    c->cfg = cfg ? xmpp_conn_cfg_copy(cfg) : NULL;
    command(w, c);
}

void xmpp_worker_reply(struct xmpp_worker *w, unsigned slot, uint64_t token, enum xmpp_reply r,
                       bool start_session)
{
    struct command *c = calloc(1, sizeof(*c));
    c->kind = CMD_REPLY;
    c->slot = slot;
    c->token = token;
    c->reply = r;
    c->start_session = start_session;
    command(w, c);
}

void xmpp_worker_stats(struct xmpp_worker *w, unsigned slot, struct xmpp_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&w->lock);
    for (struct slot *s = w->slots; s; s = s->next)
        if (s->id == slot)
            *out = s->stats;
    pthread_mutex_unlock(&w->lock);
}

/* ---- Replies (Figures 20-22) ---- */

static xmpp_stanza_t *element(xmpp_ctx_t *ctx, const char *name, const char *ns)
{
    xmpp_stanza_t *e = xmpp_stanza_new(ctx);
    xmpp_stanza_set_name(e, name);
    if (ns)
        xmpp_stanza_set_ns(e, ns);
    return e;
}

static void adopt_child(xmpp_stanza_t *parent, xmpp_stanza_t *child)
{
    xmpp_stanza_add_child(parent, child);
    xmpp_stanza_release(child);
}

xmpp_stanza_t *xmpp_cr_reply_stanza(xmpp_ctx_t *ctx, xmpp_stanza_t *request, enum xmpp_reply r,
                                    const char *own_jid)
{
    xmpp_stanza_t *reply = xmpp_iq_new(ctx, r == XMPP_REPLY_RESULT ? "result" : "error",
                                       xmpp_stanza_get_id(request));
    if (xmpp_stanza_get_from(request))
        xmpp_stanza_set_to(reply, xmpp_stanza_get_from(request));
    if (own_jid)
        xmpp_stanza_set_from(reply, own_jid);
    if (r == XMPP_REPLY_RESULT)
        return reply; /* Figure 20: an empty result */
    /* Figures 21 and 22 echo the request's payload, then the error. */
    xmpp_stanza_t *payload = xmpp_stanza_get_children(request);
    if (payload)
        adopt_child(reply, xmpp_stanza_copy(payload));
    xmpp_stanza_t *error = element(ctx, "error", NULL);
    if (r == XMPP_REPLY_UNAVAILABLE)
        xmpp_stanza_set_attribute(error, "code", "503");
    xmpp_stanza_set_type(error, "cancel");
    adopt_child(error, element(ctx, r == XMPP_REPLY_UNAVAILABLE ? "service-unavailable"
                                                                : "not-authorized",
                               STANZAS_NS));
    adopt_child(reply, error);
    return reply;
}

static void count(struct slot *s, unsigned *counter)
{
    pthread_mutex_lock(&s->w->lock);
    (*counter)++;
    pthread_mutex_unlock(&s->w->lock);
}

static void send_reply(struct slot *s, xmpp_stanza_t *request, enum xmpp_reply r)
{
    xmpp_stanza_t *reply = xmpp_cr_reply_stanza(s->w->ctx, request, r,
                                                xmpp_conn_get_bound_jid(s->conn));
    xmpp_send(s->conn, reply);
    xmpp_stanza_release(reply);
    count(s, &s->stats.transmitted);
    if (r != XMPP_REPLY_RESULT)
        count(s, &s->stats.transmitted_errors);
}

/* ---- Incoming stanzas ---- */

char *xmpp_cr_child_text(xmpp_stanza_t *parent, const char *name)
{
    xmpp_stanza_t *c = xmpp_stanza_get_child_by_name_and_ns(parent, name, XMPP_CR_NS);
    char *t = c ? xmpp_stanza_get_text(c) : NULL;
    char *out = strdup(t ? t : "");
    if (t)
        xmpp_free(xmpp_stanza_get_context(parent), t);
    return out;
}

static void post_request(struct slot *s, xmpp_stanza_t *stanza, xmpp_stanza_t *cr)
{
    struct xmpp_worker *w = s->w;
    struct pending *p = calloc(1, sizeof(*p));
    p->token = ++w->next_token;
    p->stanza = xmpp_stanza_clone(stanza);
    p->next = s->pending;
    s->pending = p;
    w->n_pending++;
    struct xmpp_event *ev = calloc(1, sizeof(*ev));
    ev->kind = XMPP_EV_REQUEST;
    ev->slot = s->id;
    ev->token = p->token;
    ev->from = strdup(xmpp_stanza_get_from(stanza) ? xmpp_stanza_get_from(stanza) : "");
    ev->username = xmpp_cr_child_text(cr, "username");
    ev->password = xmpp_cr_child_text(cr, "password");
    ev->tls = xmpp_conn_is_secured(s->conn);
    post(w, ev);
}

static int on_stanza(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    struct slot *s = arg;
    count(s, &s->stats.received);
    const char *type = xmpp_stanza_get_type(stanza);
    if (type && !strcmp(type, "error"))
        count(s, &s->stats.received_errors);
    return 1;
}

enum xmpp_iq_kind xmpp_iq_classify(xmpp_stanza_t *iq, xmpp_stanza_t **cr)
{
    *cr = NULL;
    const char *type = xmpp_stanza_get_type(iq);
    if (!type || (strcmp(type, "get") != 0 && strcmp(type, "set") != 0))
        return XMPP_IQ_NOT_OURS; /* results and errors are not ours to answer */
    *cr = xmpp_stanza_get_child_by_name_and_ns(iq, "connectionRequest", XMPP_CR_NS);
    if (*cr)
        return XMPP_IQ_CONN_REQUEST;
    if (xmpp_stanza_get_child_by_name_and_ns(iq, "ping", PING_NS))
        return XMPP_IQ_PING;
    return XMPP_IQ_OTHER;
}

static int on_iq(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *arg)
{
    struct slot *s = arg;
    xmpp_stanza_t *cr;
    switch (xmpp_iq_classify(stanza, &cr)) {
    case XMPP_IQ_NOT_OURS: break;
    case XMPP_IQ_CONN_REQUEST: post_request(s, stanza, cr); break;
    case XMPP_IQ_PING: send_reply(s, stanza, XMPP_REPLY_RESULT); break;
    case XMPP_IQ_OTHER: send_reply(s, stanza, XMPP_REPLY_UNAVAILABLE); break;
    }
    return 1;
}

/* ---- Connecting ---- */

static void drop_pending(struct slot *s)
{
    while (s->pending) {
        struct pending *p = s->pending;
        s->pending = p->next;
        xmpp_stanza_release(p->stanza);
        free(p);
        s->w->n_pending--;
    }
}

static void schedule_retry(struct slot *s)
{
    s->attempt++;
    double window = xmpp_retry_window(s->cfg->retry_initial, s->cfg->retry_multiplier,
                                      s->cfg->retry_max, s->attempt);
    double wait = window * util_random_unit();
    s->retry_at = now_mono() + wait;
    LOG_INFO("xmpp", "%s: reconnect attempt %u in %.1f s (window %.0f s)", s->cfg->jid,
             s->attempt, wait, window);
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
                    xmpp_stream_error_t *stream_error, void *arg)
{
    struct slot *s = arg;
    if (s->releasing)
        return;
    if (event == XMPP_CONN_CONNECT) {
        s->up = true;
        s->attempt = 0;
        s->keepalive_at = now_mono() + s->cfg->keepalive;
        LOG_INFO("xmpp", "connected as %s (TLS %s)", xmpp_conn_get_bound_jid(conn),
                 xmpp_conn_is_secured(conn) ? "yes" : "no");
        post_status(s, "Enabled");
        return;
    }
    /* TR-181 Status: lost after the login = connecting again; a login that libstrophe
     * logged as failed in "auth" (it tells no other way, and a refused TCP connect comes
     * without an error code) = authentication failure; else the server was not there. With
     * several streams failing at once the attribution is a best guess. */
    bool auth_failed = s->w->auth_failures != s->auth_failures_seen;
    s->auth_failures_seen = s->w->auth_failures;
    const char *status = s->up          ? "Connecting"
                         : auth_failed  ? "Error_AuthenticationFailure"
                         : stream_error ? "Error"
                                        : "ServerNotPresent";
    LOG_WARN("xmpp", "%s: disconnected (%s%s%s)", s->cfg->jid, error ? strerror(error) : status,
             stream_error && stream_error->text ? ": " : "",
             stream_error && stream_error->text ? stream_error->text : "");
    s->up = false;
    drop_pending(s);
    post_status(s, status);
    schedule_retry(s);
}

static void slot_connect(struct slot *s)
{
    s->retry_at = 0;
    if (!s->conn) {
        s->conn = xmpp_conn_new(s->w->ctx);
        xmpp_conn_set_jid(s->conn, s->cfg->jid);
        xmpp_conn_set_pass(s->conn, s->cfg->password);
        if (s->w->ca_file)
            xmpp_conn_set_cafile(s->conn, s->w->ca_file);
        xmpp_conn_set_flags(s->conn, s->cfg->use_tls ? XMPP_CONN_FLAG_MANDATORY_TLS : 0);
        xmpp_conn_set_sockopt_callback(s->conn, xmpp_sockopt_cb_keepalive);
        xmpp_handler_add(s->conn, on_iq, NULL, "iq", NULL, s);
        xmpp_handler_add(s->conn, on_stanza, NULL, NULL, NULL, s);
    }
    int rc = xmpp_connect_client(s->conn, s->cfg->host,
                                 (unsigned short)(s->cfg->host ? s->cfg->port : 0), on_conn, s);
    if (rc != XMPP_EOK) {
        LOG_WARN("xmpp", "%s: cannot connect (%d)", s->cfg->jid, rc);
        post_status(s, "ServerNotPresent");
        schedule_retry(s);
    } else if (s->attempt == 0) {
        post_status(s, "Connecting");
    }
}

static void slot_release(struct slot *s)
{
    drop_pending(s);
    if (s->conn) {
        s->releasing = true;
        xmpp_conn_release(s->conn);
        s->conn = NULL;
        s->releasing = false;
    }
    s->up = false;
    xmpp_conn_cfg_free(s->cfg);
    s->cfg = NULL;
}

static struct slot *find_slot(struct xmpp_worker *w, unsigned id)
{
    for (struct slot *s = w->slots; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

static void apply_configure(struct xmpp_worker *w, struct command *c)
{
    struct slot *s = find_slot(w, c->slot);
    if (!s) {
        s = calloc(1, sizeof(*s));
        s->w = w;
        s->id = c->slot;
        pthread_mutex_lock(&w->lock);
        s->next = w->slots;
        w->slots = s;
        pthread_mutex_unlock(&w->lock);
    }
    slot_release(s);
    s->attempt = 0;
    s->retry_at = 0;
    pthread_mutex_lock(&w->lock);
    memset(&s->stats, 0, sizeof(s->stats));
    pthread_mutex_unlock(&w->lock);
    s->cfg = c->cfg;
    c->cfg = NULL;
    if (s->cfg)
        slot_connect(s);
}

static void apply_reply(struct xmpp_worker *w, struct command *c)
{
    struct slot *s = find_slot(w, c->slot);
    for (struct pending **p = s ? &s->pending : NULL; p && *p; p = &(*p)->next) {
        if ((*p)->token != c->token)
            continue;
        struct pending *done = *p;
        *p = done->next;
        w->n_pending--;
        if (s->up && c->reply != XMPP_REPLY_IGNORE) /* K.2.1.3: ignored = no reply */
            send_reply(s, done->stanza, c->reply);
        xmpp_stanza_release(done->stanza);
        free(done);
        break;
    }
    /* connreq.h: start the session once the reply is on its way, even if it was lost. */
    if (c->start_session) {
        struct xmpp_event *ev = calloc(1, sizeof(*ev));
        ev->kind = XMPP_EV_REPLIED;
        ev->slot = c->slot;
        ev->token = c->token;
        ev->start_session = true;
        post(w, ev);
    }
}

/* Take the loop's commands; wait for them a little when a verdict is due or nothing runs
 * (the loop answers within microseconds, so this is how replies go out without delay). */
static struct command *take_commands(struct xmpp_worker *w, bool idle, bool *stop)
{
    pthread_mutex_lock(&w->lock);
    if (!w->commands && !w->stop && idle) {
        pthread_cond_wait(&w->wake, &w->lock); /* no stream, no timer: nothing to do */
    } else if (!w->commands && !w->stop && w->n_pending) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += IDLE_WAIT_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    struct command *list = w->commands;
    w->commands = NULL;
    w->commands_tail = &w->commands;
    *stop = w->stop;
    pthread_mutex_unlock(&w->lock);
    return list;
}

static void run_timers(struct xmpp_worker *w)
{
    double now = now_mono();
    for (struct slot *s = w->slots; s; s = s->next) {
        if (!s->cfg)
            continue;
        if (s->retry_at && now >= s->retry_at)
            slot_connect(s);
        if (s->up && s->cfg->keepalive && now >= s->keepalive_at) {
            xmpp_send_raw(s->conn, " ", 1); /* RFC 6120 4.6.1 whitespace keepalive */
            s->keepalive_at = now + s->cfg->keepalive;
        }
    }
}

static bool any_conn(const struct xmpp_worker *w)
{
    for (const struct slot *s = w->slots; s; s = s->next)
        if (s->conn)
            return true;
    return false;
}

static void on_log(void *arg, xmpp_log_level_t level, const char *area, const char *msg)
{
    struct xmpp_worker *w = arg;
    if (level == XMPP_LEVEL_ERROR && !strcmp(area, "auth"))
        w->auth_failures++;
    if (level >= XMPP_LEVEL_WARN)
        LOG_DEBUG("xmpp", "libstrophe %s: %s", area, msg);
}

static void *thread_main(void *arg)
{
    struct xmpp_worker *w = arg;
    xmpp_log_t log = {on_log, w};
    w->ctx = xmpp_ctx_new(NULL, &log);
    for (bool stop = false; !stop;) {
        bool active = any_conn(w);
        struct command *list = take_commands(w, !active, &stop);
        for (struct command *next; list; list = next) {
            next = list->next;
            if (list->kind == CMD_CONFIGURE)
                apply_configure(w, list);
            else
                apply_reply(w, list);
            xmpp_conn_cfg_free(list->cfg);
            free(list);
        }
        run_timers(w);
        if (!stop && any_conn(w))
            xmpp_run_once(w->ctx, w->n_pending ? 1 : RUN_WAIT_MS);
    }
    while (w->slots) {
        struct slot *s = w->slots;
        w->slots = s->next;
        slot_release(s);
        free(s);
    }
    xmpp_ctx_free(w->ctx);
    return NULL;
}

/* ---- Lifetime ---- */

struct xmpp_worker *xmpp_worker_start(struct event_base *base, const char *ca_file,
                                      xmpp_event_cb cb, void *arg)
{
    struct xmpp_worker *w = calloc(1, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->commands_tail = &w->commands;
    w->events_tail = &w->events;
    w->cb = cb;
    w->cb_arg = arg;
    w->ca_file = dup_or_null(ca_file);
    w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->efd < 0) {
        px_err_set(-1, "eventfd: %s", strerror(errno));
        goto fail;
    }
    w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_events, w);
    event_add(w->ev, NULL);
    xmpp_initialize();
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        px_err_set(-1, "cannot start the XMPP thread");
        goto fail;
    }
    return w;
fail:
    if (w->ev)
        event_free(w->ev);
    if (w->efd >= 0)
        close(w->efd);
    free(w->ca_file);
    free(w);
    return NULL;
}

void xmpp_worker_stop(struct xmpp_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    xmpp_shutdown();
    while (w->commands) {
        struct command *c = w->commands;
        w->commands = c->next;
        xmpp_conn_cfg_free(c->cfg);
        free(c);
    }
    while (w->events) {
        struct xmpp_event *ev = w->events;
        w->events = ev->next;
        xmpp_event_free(ev);
    }
    event_free(w->ev);
    close(w->efd);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->ca_file);
    free(w);
}
