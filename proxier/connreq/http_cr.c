/*
 * http_cr.c: HTTP connection requests (TR-069 3.2.2.2, digest authentication 3.4.5).
 *
 * libmicrohttpd 0.9.75 runs in external-epoll mode inside the daemon's libevent loop: its
 * epoll fd is one persistent EV_READ event that calls MHD_run, and an evtimer follows
 * MHD_get_timeout after every run. One port serves every endpoint; each has a random
 * unguessable path (160 bits, kept as an endpoint setting so it survives restarts), published
 * as ManagementServer.ConnectionRequestURL "http://host:port/path" (3.2.2.2 "The path of
 * this URL value SHOULD be randomly generated"; Annex J.2: unique per CWMP endpoint).
 *
 * A request is answered from its headers (3.2.2.2: "No data is conveyed ... SHOULD be
 * ignored"): unknown path or HTTPConnectionRequestEnable false 404, a method other than GET
 * 405, bad or missing credentials 401 with a fresh challenge (stale=true for an expired
 * nonce), then connreq_admit(): accepted or coalesced 200 with an empty body, rate-limited
 * or offline 503 without Retry-After. An accepted request starts its session
 * from MHD_OPTION_NOTIFY_COMPLETED, once the 200 is on the wire ("prior to it initiating the
 * resulting Session"). Nothing starts a session without valid credentials (3.2.2.2).
 *
 * The request-target must be the endpoint's path byte for byte: nothing is decoded, and a
 * query, fragment, percent-escape or NUL makes it another path (404).
 *
 * Slow clients (slowloris): a request must be read whole and answered within
 * connection_timeout seconds of its start (the accept, or the end of the previous answer on a
 * keep-alive connection), however often the client sends a byte; the connection is closed
 * then. The connection limits are ours (http_slots.h), not libmicrohttpd's: a new connection
 * past max_connections_per_ip or max_connections closes the oldest incomplete one of its
 * address, or of the address that holds the most, so that a valid request gets through while
 * slow clients hold every slot. Closing is shutdown(2) on the socket: libmicrohttpd sees the
 * end of the stream at once and closes the connection itself (it has no call for it).
 */
#include "proxier/connreq/http_cr.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/digest.h"
#include "proxier/connreq/http_slots.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"

#define PATH_BYTES 20 /* >= 128 bits: unguessable */
#define PATH_HEX (2 * PATH_BYTES)
#define ENABLE_PARAM "HTTPConnectionRequestEnable"

/* One endpoint reachable through the listener. */
struct cr_target {
    struct endpoint *ep;
    char path[PATH_HEX + 2]; /* "/<hex>" */
    bool warned_no_username;
};

struct http_cr {
    struct connreq *cr;
    const struct px_config *cfg;
    struct MHD_Daemon *mhd;
    struct event *io;    /* MHD's epoll fd */
    struct event *timer; /* MHD_get_timeout */
    struct digest_verifier *digest;
    struct cr_target *targets;
    size_t n_targets;
    char host[INET6_ADDRSTRLEN + 2]; /* as published: "192.0.2.1" or "[2001:db8::1]" */
    unsigned port;
    bool stopping;
    struct http_slots *slots;
    unsigned long timed_out, reclaimed; /* connections closed: deadline, made room */
    struct log_limit timed_out_log, reclaimed_log;
};

/* One TCP connection (libmicrohttpd's socket context). */
struct cr_conn {
    struct http_cr *h;
    struct MHD_Connection *c;
    struct http_slot *slot;
    struct event *deadline; /* connection_timeout after the start of the request under way */
    char peer[INET6_ADDRSTRLEN];
};

/* One HTTP request: its request-target as received (the digest "uri" must equal it) and the
 * endpoint whose session starts once the answer is sent. */
struct cr_request {
    char *uri;
    /* Where libmicrohttpd's buffer holds the HTTP version if the request-target has no NUL:
     * it parses the request line in place and passes the target to on_request_line up to
     * the first NUL, with the version right after the target's end. */
    const char *version_at;
    bool headers_seen;
    struct endpoint *accepted;
};

/* ---- MHD inside the event loop ---- */

static void rearm(struct http_cr *h)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(h->mhd, &ms) != MHD_YES) {
        evtimer_del(h->timer);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
}

static void on_mhd_ready(evutil_socket_t fd, short what, void *arg)
{
    struct http_cr *h = arg;
    MHD_run(h->mhd);
    rearm(h);
}

static void on_mhd_log(void *arg, const char *fmt, va_list ap)
{
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    LOG_DEBUG("http-cr", "libmicrohttpd: %s", msg);
}

/* ---- Connections: slots and the deadline ---- */

static const char *const limit_keys[] = {
    [HTTP_SLOTS_PER_ADDRESS] = "max_connections_per_ip",
    [HTTP_SLOTS_TOTAL] = "max_connections",
};

static struct cr_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The client's address as the slots' key (IPv4 as ::ffff:a.b.c.d, also from a dual-stack
 * socket) and as text for the log. */
static bool peer_address(struct MHD_Connection *c, unsigned char key[HTTP_SLOTS_ADDR_LEN],
                         char text[INET6_ADDRSTRLEN])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
               HTTP_SLOTS_ADDR_LEN);
    } else {
        return false;
    }
    static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    if (!memcmp(key, v4_mapped, sizeof(v4_mapped)))
        inet_ntop(AF_INET, key + 12, text, INET6_ADDRSTRLEN);
    else
        inet_ntop(AF_INET6, key, text, INET6_ADDRSTRLEN);
    return true;
}

/* Close c: libmicrohttpd reads the end of the stream on its next run and closes it. */
static void hang_up(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        shutdown(ci->connect_fd, SHUT_RDWR);
}

/* The connection gives its slot up at once and is closed. */
static void conn_close(struct cr_conn *conn)
{
    http_slots_release(conn->h->slots, conn->slot);
    evtimer_del(conn->deadline);
    hang_up(conn->c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct cr_conn *conn = arg;
    struct http_cr *h = conn->h;
    if (http_slot_released(conn->slot))
        return;
    h->timed_out++;
    connreq_log_limited(h->cr, &h->timed_out_log, LOG_LVL_WARN, "http-cr",
                        "connection from %s closed: its request was not read and answered "
                        "within %u s (connection_request.connection_timeout)",
                        conn->peer, h->cfg->cr_connection_timeout);
    conn_close(conn);
}

static void arm_deadline(struct cr_conn *conn)
{
    struct timeval tv = {(time_t)conn->h->cfg->cr_connection_timeout, 0};
    evtimer_add(conn->deadline, &tv);
}

/* A new connection took a slot past a limit: close victim (perhaps the new one) for it. */
static void make_room(struct http_cr *h, struct cr_conn *victim, struct cr_conn *newest,
                      enum http_slots_limit why)
{
    unsigned limit = why == HTTP_SLOTS_PER_ADDRESS ? h->cfg->cr_max_connections_per_ip
                                                   : h->cfg->cr_max_connections;
    h->reclaimed++;
    if (victim == newest)
        connreq_log_limited(h->cr, &h->reclaimed_log, LOG_LVL_WARN, "http-cr",
                            "new connection from %s refused: connection_request.%s (%u) "
                            "reached and every connection is being answered",
                            newest->peer, limit_keys[why], limit);
    else
        connreq_log_limited(h->cr, &h->reclaimed_log, LOG_LVL_WARN, "http-cr",
                            "connection from %s closed, its request incomplete, to make room "
                            "for one from %s: connection_request.%s (%u) reached",
                            victim->peer, newest->peer, limit_keys[why], limit);
    conn_close(victim);
}

static void conn_free(struct cr_conn *conn)
{
    if (!conn)
        return;
    if (conn->deadline)
        event_free(conn->deadline);
    if (conn->slot)
        http_slots_close(conn->h->slots, conn->slot);
    free(conn);
}

static struct cr_conn *conn_new(struct http_cr *h, struct MHD_Connection *c)
{
    struct cr_conn *conn = calloc(1, sizeof(*conn));
    unsigned char key[HTTP_SLOTS_ADDR_LEN];
    if (!conn || !peer_address(c, key, conn->peer)) {
        free(conn);
        return NULL;
    }
    conn->h = h;
    conn->c = c;
    conn->deadline = evtimer_new(connreq_base(h->cr), on_deadline, conn);
    conn->slot = conn->deadline ? http_slots_open(h->slots, key, conn) : NULL;
    if (!conn->slot) {
        conn_free(conn);
        return NULL;
    }
    arm_deadline(conn);
    return conn;
}

/* MHD_OPTION_NOTIFY_CONNECTION: a connection is accepted, or closed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_cr *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_free(*socket_context);
        *socket_context = NULL;
        return;
    }
    struct cr_conn *conn = conn_new(h, c);
    *socket_context = conn;
    if (!conn) {
        hang_up(c); /* out of memory: a connection we cannot count is refused */
        return;
    }
    enum http_slots_limit why;
    struct http_slot *victim = http_slots_victim(h->slots, conn->slot, &why);
    if (victim)
        make_room(h, http_slot_owner(victim), conn, why);
}

/* ---- Replies ---- */

/* An empty-bodied reply (Content-Length: 0) with optional WWW-Authenticate values. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             char *const *challenges, size_t n_challenges)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    bool ok = true;
    for (size_t i = 0; i < n_challenges; i++)
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenges[i]) ==
              MHD_YES;
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET") == MHD_YES;
    enum MHD_Result rc = ok ? MHD_queue_response(c, status, r) : MHD_NO;
    MHD_destroy_response(r);
    struct cr_conn *conn = conn_of(c);
    if (rc == MHD_YES && conn)
        http_slots_answering(conn->slot); /* read whole: no victim while it is answered */
    return rc;
}

/* 401 with one challenge per configured algorithm, in the configured order, all with one
 * fresh nonce (connection_request.digest_algorithms; docs/operations.md says why the default
 * is MD5 alone). */
static enum MHD_Result reply_challenge(struct http_cr *h, struct MHD_Connection *c, bool stale)
{
    char nonce[DIGEST_NONCE_LEN + 1], *challenges[DIGEST_ALG_COUNT];
    if (digest_new_nonce(h->digest, time(NULL), nonce) != 0)
        return MHD_NO;
    size_t n = digest_challenges(h->digest, nonce, stale, challenges);
    enum MHD_Result rc = n ? reply(c, MHD_HTTP_UNAUTHORIZED, challenges, n) : MHD_NO;
    for (size_t i = 0; i < n; i++)
        free(challenges[i]);
    return rc;
}

/* ---- Requests ---- */

static struct cr_target *find_target(struct http_cr *h, const char *path)
{
    for (size_t i = 0; i < h->n_targets; i++)
        if (!strcmp(h->targets[i].path, path))
            return &h->targets[i];
    return NULL;
}

static enum digest_result authenticate(struct http_cr *h, struct cr_target *t,
                                       struct MHD_Connection *c, const char *uri)
{
    const char *user = mgmt_get(t->ep, "ConnectionRequestUsername");
    if (!user[0]) {
        if (!t->warned_no_username)
            LOG_WARN("http-cr", "%s: ConnectionRequestUsername is empty: every connection "
                     "request is refused", t->ep->key);
        t->warned_no_username = true;
        return DIGEST_WRONG_USER;
    }
    t->warned_no_username = false;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_AUTHORIZATION);
    return digest_verify(h->digest, auth, "GET", uri, user,
                         mgmt_get(t->ep, "ConnectionRequestPassword"), time(NULL));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_cr *h = cls;
    struct cr_request *rq = *con_cls;
    if (!rq || !rq->uri)
        return MHD_NO;
    /* the raw request-target, not url (decoded, without the query) */
    struct cr_target *t = version == rq->version_at ? find_target(h, rq->uri) : NULL;
    if (!t || !mgmt_get_bool(t->ep, ENABLE_PARAM))
        return reply(c, MHD_HTTP_NOT_FOUND, NULL, 0);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0) /* 3.2.2.2 "MUST use an HTTP 1.1 GET" */
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, 0);
    /* Answer a GET once it has been read whole, so that the connection stays open for the
     * 401 -> 200 handshake (an answer queued earlier makes MHD close it); a body is read
     * and ignored (3.2.2.2). The early answers above close the connection on purpose. */
    if (!rq->headers_seen || *upload_data_size) {
        rq->headers_seen = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    enum digest_result auth = authenticate(h, t, c, rq->uri);
    if (auth != DIGEST_OK) {
        if (auth != DIGEST_MISSING)
            LOG_DEBUG("http-cr", "%s: connection request refused: %s", t->ep->key,
                      digest_result_name(auth));
        return reply_challenge(h, c, auth == DIGEST_STALE);
    }
    enum cr_verdict v = connreq_admit(h->cr, &http_cr_transport, t->ep);
    if (v == CR_ACCEPT)
        rq->accepted = t->ep;
    /* 3.2.2.2: 200 with an empty body; 503 without Retry-After when refused */
    return reply(c, v == CR_ACCEPT || v == CR_COALESCED ? MHD_HTTP_OK
                                                          : MHD_HTTP_SERVICE_UNAVAILABLE,
                 NULL, 0);
}

/* Called with the raw request-target, before MHD splits off and decodes the query: what
 * the digest "uri" is compared with. Its value becomes the request's *con_cls. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct cr_request *rq = calloc(1, sizeof(*rq));
    if (rq) {
        rq->uri = strdup(uri);
        rq->version_at = uri + strlen(uri) + 1;
    }
    return rq;
}

/* The answer is on the wire (or the request ended otherwise): start the accepted session
 * now, whatever the termination code (connreq.h). */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_cr *h = cls;
    struct cr_conn *conn = conn_of(c);
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && conn && !http_slot_released(conn->slot)) {
        /* answered: a further request on this keep-alive connection has its own deadline */
        http_slots_restart(h->slots, conn->slot);
        arm_deadline(conn);
    }
    struct cr_request *rq = *con_cls;
    *con_cls = NULL;
    if (!rq)
        return;
    if (rq->accepted && !h->stopping)
        connreq_start_session(rq->accepted);
    free(rq->uri);
    free(rq);
}

/* ---- Addresses ---- */

static bool is_wildcard(const char *address)
{
    return !address || !*address || !strcmp(address, "0.0.0.0") || !strcmp(address, "::");
}

/* The host of the published URL: the configured address, else the first non-loopback IPv4
 * address of the box, else 127.0.0.1. */
static void choose_host(struct http_cr *h)
{
    const char *address = h->cfg->cr_address;
    if (!is_wildcard(address)) {
        snprintf(h->host, sizeof(h->host), strchr(address, ':') ? "[%s]" : "%s", address);
        return;
    }
    snprintf(h->host, sizeof(h->host), "127.0.0.1");
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return;
    for (struct ifaddrs *i = list; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP) &&
            !(i->ifa_flags & IFF_LOOPBACK)) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, h->host,
                      sizeof(h->host));
            break;
        }
    freeifaddrs(list);
}

/* ---- Publishing ---- */

static void publish(struct http_cr *h, struct cr_target *t)
{
    char url[sizeof(h->host) + sizeof(t->path) + 32] = "";
    if (mgmt_get_bool(t->ep, ENABLE_PARAM))
        snprintf(url, sizeof(url), "http://%s:%u%s", h->host, h->port, t->path);
    connreq_publish_url(t->ep, url);
}

static void on_mgmt_change(void *arg, struct endpoint *ep, const char *const *names, size_t n)
{
    struct http_cr *h = arg;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], ENABLE_PARAM))
            for (size_t k = 0; k < h->n_targets; k++)
                if (h->targets[k].ep == ep)
                    publish(h, &h->targets[k]);
}

/* The endpoint's path: the stored one, or a new random one that is then stored. */
static int load_path(struct endpoint *ep, char path[PATH_HEX + 2])
{
    char *stored = endpoint_setting(ep, HTTP_CR_PATH_SETTING);
    bool ok = stored && strlen(stored) == PATH_HEX + 1 && stored[0] == '/' &&
              strspn(stored + 1, "0123456789abcdef") == PATH_HEX;
    if (ok)
        memcpy(path, stored, PATH_HEX + 2);
    free(stored);
    if (ok)
        return 0;
    unsigned char raw[PATH_BYTES];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return -1;
    path[0] = '/';
    for (size_t i = 0; i < PATH_BYTES; i++)
        snprintf(path + 1 + 2 * i, 3, "%02x", raw[i]);
    /* A cache that cannot store it (full, read-only: logged) must not make the gateway
     * unreachable: the path serves this run, the Inform publishes it. */
    endpoint_setting_set(ep, HTTP_CR_PATH_SETTING, path);
    return 0;
}

static void http_endpoint_added(void *state, struct endpoint *ep)
{
    struct http_cr *h = state;
    struct cr_target *grown = realloc(h->targets, (h->n_targets + 1) * sizeof(*grown));
    if (!grown)
        return;
    h->targets = grown;
    struct cr_target *t = &h->targets[h->n_targets];
    *t = (struct cr_target){.ep = ep};
    if (load_path(ep, t->path) != 0) {
        LOG_ERROR("http-cr", "%s: no connection-request path: %s", ep->key, px_err_msg());
        return;
    }
    h->n_targets++;
    mgmt_observe(ep, on_mgmt_change, h);
    publish(h, t);
}

/* ---- Start and stop ---- */

/* libmicrohttpd's own limit, above ours (http_slots): a connection we closed to make room
 * counts for it until its next run has seen the end of the stream. */
static unsigned connection_limit(const struct px_config *cfg)
{
    return 2 * cfg->cr_max_connections + 16;
}

/* Listen on the configured address; any address (both IP versions) when none is set, or
 * IPv4 only if ipv4_only. */
static struct MHD_Daemon *start_mhd(struct http_cr *h, bool ipv4_only)
{
    const struct px_config *cfg = h->cfg;
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } addr = {0};
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    const char *address = is_wildcard(cfg->cr_address) ? (ipv4_only ? "0.0.0.0" : "::")
                                                         : cfg->cr_address;
    if (!strcmp(address, "::")) {
        flags |= MHD_USE_DUAL_STACK;
        addr.v6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    } else if (inet_pton(AF_INET, address, &addr.v4.sin_addr) == 1) {
        addr.v4.sin_family = AF_INET;
    } else if (inet_pton(AF_INET6, address, &addr.v6.sin6_addr) == 1) {
        addr.v6.sin6_family = AF_INET6;
        flags |= MHD_USE_IPv6;
    } else {
        px_err_set(-1, "connection_request.address \"%s\" is not an IP address",
                   cfg->cr_address);
        return NULL;
    }
    if (addr.sa.sa_family == AF_INET)
        addr.v4.sin_port = htons((uint16_t)cfg->cr_port);
    else
        addr.v6.sin6_port = htons((uint16_t)cfg->cr_port);
    return MHD_start_daemon(
        flags, (uint16_t)cfg->cr_port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, h, MHD_OPTION_SOCK_ADDR, &addr.sa,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit(cfg),
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->cr_connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->cr_max_request_bytes,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, h, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_END);
}

static void http_stop(void *state)
{
    struct http_cr *h = state;
    if (!h)
        return;
    h->stopping = true;
    for (size_t i = 0; i < h->n_targets; i++)
        mgmt_unobserve(h->targets[i].ep, on_mgmt_change, h);
    if (h->io)
        event_free(h->io);
    if (h->timer)
        event_free(h->timer);
    if (h->mhd)
        MHD_stop_daemon(h->mhd); /* closes every connection: on_connection frees it */
    http_slots_free(h->slots);
    connreq_forget_log(h->cr, &h->timed_out_log);
    connreq_forget_log(h->cr, &h->reclaimed_log);
    digest_verifier_free(h->digest);
    free(h->targets);
    free(h);
}

static int listen_in_loop(struct http_cr *h)
{
    const union MHD_DaemonInfo *fd = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!fd || !port)
        return px_err_set(-1, "libmicrohttpd gives no epoll descriptor");
    h->port = port->port;
    struct event_base *base = connreq_base(h->cr);
    h->io = event_new(base, fd->epoll_fd, EV_READ | EV_PERSIST, on_mhd_ready, h);
    h->timer = evtimer_new(base, on_mhd_ready, h);
    if (!h->io || !h->timer || event_add(h->io, NULL) != 0)
        return px_err_set(-1, "cannot watch the listener");
    rearm(h);
    return 0;
}

static void *http_start(struct connreq *cr, bool *failed)
{
    const struct px_config *cfg = connreq_config(cr);
    if (cfg->cr_port == 0) {
        LOG_INFO("http-cr", "connection_request.port is 0: no HTTP connection requests");
        return NULL;
    }
    struct http_cr *h = calloc(1, sizeof(*h));
    if (!h) {
        *failed = true;
        px_err_set(-1, "out of memory");
        return NULL;
    }
    h->cr = cr;
    h->cfg = cfg;
    struct digest_offer offer;
    if (digest_offer_parse(cfg->cr_digest_algorithms, &offer) != 0)
        goto fail; /* config_set checked it already */
    h->digest = digest_verifier_new(cfg->cr_realm ? cfg->cr_realm : "proxierd", &offer,
                                    cfg->cr_nonce_lifetime, cfg->cr_nonce_table);
    if (!h->digest) {
        px_err_set(-1, "cannot set up digest authentication");
        goto fail;
    }
    h->slots = http_slots_new(cfg->cr_max_connections, cfg->cr_max_connections_per_ip);
    if (!h->slots) {
        px_err_set(-1, "out of memory");
        goto fail;
    }
    px_err_clear();
    h->mhd = start_mhd(h, false);
    if (!h->mhd && is_wildcard(cfg->cr_address))
        h->mhd = start_mhd(h, true); /* a host without IPv6 */
    if (!h->mhd) {
        if (!px_err_msg()[0])
            px_err_set(-1, "cannot listen on port %u (address %s)", cfg->cr_port,
                       is_wildcard(cfg->cr_address) ? "any" : cfg->cr_address);
        goto fail;
    }
    if (listen_in_loop(h) != 0)
        goto fail;
    choose_host(h);
    LOG_INFO("http-cr", "listening for HTTP connection requests on port %u", h->port);
    return h;
fail:
    *failed = true;
    http_stop(h);
    return NULL;
}

/* Connections closed at their deadline, and to make room (docs/operations.md). */
static void http_status(const void *state, char *buf, size_t size)
{
    const struct http_cr *h = state;
    snprintf(buf, size, " cr_http_timed_out=%lu cr_http_reclaimed=%lu", h ? h->timed_out : 0,
             h ? h->reclaimed : 0);
}

const struct connreq_transport http_cr_transport = {
    .name = "HTTP",
    .label = "HTTP",
    .start = http_start,
    .endpoint_added = http_endpoint_added,
    .stop = http_stop,
    .status = http_status,
};
