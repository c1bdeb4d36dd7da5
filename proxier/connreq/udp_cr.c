/*
 * udp_cr.c: UDP connection requests (TR-069 Annex G.2.1.4, G.2.2.3) and the STUN client
 * that keeps a NAT binding open for them (G.2.1.1-G.2.1.3, RFC 3489). See udp_cr.h.
 *
 * STUN, per endpoint whose STUNEnable is true:
 *   - the server is STUNServerAddress:STUNServerPort, or the host of the ACS URL (G.2.1.1),
 *     resolved with evdns (never a blocking lookup on the loop);
 *   - every Binding Request leaves the connection-request socket and carries
 *     CONNECTION-REQUEST-BINDING, USERNAME = STUNUsername when set, BINDING-CHANGE in the
 *     first request after the mapped address changed (and after the first discovery), and
 *     MESSAGE-INTEGRITY only in the retry that answers a 401 (G.2.1.1, footnote 28); a
 *     response to a request with integrity must carry a valid one, else it is discarded;
 *   - a request is retransmitted after 100, 200, 400, 800 ms, then every 1.6 s, and has
 *     failed after 9.5 s (RFC 3489 9.3); a failed BINDING-CHANGE is not retried (G.2.1.3);
 *   - keep-alive every udp_cr_keepalive_period() seconds. Active binding-timeout discovery
 *     from a secondary port (G.2.1.2, for Min != Max) is not implemented;
 *   - NATDetected = the mapped address differs from the socket's local address and port;
 *     UDPConnectionRequestAddress = the mapped address (the local one without STUN or
 *     before the first answer). A change is reported with dm_value_changed (and remembered
 *     across restarts) so that notification follows.
 */
#include "proxier/connreq/udp_cr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/connreq/stun.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"

#define MOD "udp-cr"
#define MS "Device.ManagementServer."
#define SETTING_LAST "udp_cr_last"       /* "<ts> <id>" of the last accepted request */
#define SETTING_ADDRESS "udp_cr_address" /* last published UDPConnectionRequestAddress */
#define SETTING_NAT "udp_cr_nat"         /* last published NATDetected */
#define DEFAULT_STUN_PORT 3478
#define READS_PER_WAKEUP 64 /* fairness: other events get the loop between batches */

/* ================================ Requests ================================ */

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* x-www-form-urlencoded value [s, end) into out (cap bytes with the NUL). */
static int form_decode(const char *s, const char *end, char *out, size_t cap)
{
    size_t n = 0;
    for (; s < end; s++) {
        int c = (unsigned char)*s;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = end - s > 2 ? hex_value(s[1]) : -1, lo = hi >= 0 ? hex_value(s[2]) : -1;
            if (lo < 0)
                return px_err_set(-1, "bad percent-encoding");
            c = hi * 16 + lo;
            s += 2;
        }
        if (c == 0 || n + 1 >= cap)
            return px_err_set(-1, "a value is too long or contains NUL");
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

struct query_field {
    const char *name;
    char *dest;
    size_t cap;
    bool seen;
};

/* The query string [q, end): every field once; unknown names are ignored. */
static int parse_query(const char *q, const char *end, struct udp_cr_request *r)
{
    struct query_field f[] = {
        {"ts", r->ts_text, sizeof(r->ts_text), false}, {"id", r->id, sizeof(r->id), false},
        {"un", r->un, sizeof(r->un), false},           {"cn", r->cn, sizeof(r->cn), false},
        {"sig", r->sig, sizeof(r->sig), false},
    };
    size_t nf = sizeof(f) / sizeof(f[0]);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        if (!eq)
            return px_err_set(-1, "query item without '='");
        for (size_t i = 0; i < nf; i++) {
            if ((size_t)(eq - q) != strlen(f[i].name) || memcmp(q, f[i].name, (size_t)(eq - q)))
                continue;
            if (f[i].seen)
                return px_err_set(-1, "%s appears twice", f[i].name);
            if (form_decode(eq + 1, stop, f[i].dest, f[i].cap) != 0)
                return -1;
            f[i].seen = true;
        }
        q = amp ? amp + 1 : end;
    }
    for (size_t i = 0; i < nf; i++)
        if (!f[i].seen)
            return px_err_set(-1, "%s is missing", f[i].name);
    return 0;
}

static int check_fields(struct udp_cr_request *r)
{
    char *end;
    errno = 0;
    r->ts = strtoull(r->ts_text, &end, 10);
    if (!all_digits(r->ts_text) || errno)
        return px_err_set(-1, "ts is not a Unix time");
    if (!all_digits(r->id))
        return px_err_set(-1, "id is not an unsigned integer");
    if (!*r->cn)
        return px_err_set(-1, "cn is empty");
    if (strlen(r->sig) != UDP_CR_SIG_LEN)
        return px_err_set(-1, "sig is not 40 hex digits");
    for (const char *s = r->sig; *s; s++)
        if (hex_value((unsigned char)*s) < 0)
            return px_err_set(-1, "sig is not 40 hex digits");
    return 0;
}

/* Request-URI (G.2.2.3): "http://" authority, an empty path (or "/", which some ACSs
 * send), then the query. */
static int parse_uri(const char *uri, const char *end, struct udp_cr_request *r)
{
    if (end - uri < 7 || strncasecmp(uri, "http://", 7) != 0)
        return px_err_set(-1, "the Request-URI is not an absolute http URI");
    const char *q = memchr(uri, '?', (size_t)(end - uri));
    if (!q)
        return px_err_set(-1, "the Request-URI has no query");
    const char *auth = uri + 7, *slash = memchr(auth, '/', (size_t)(q - auth));
    if (slash ? slash == auth || q - slash != 1 : q == auth)
        return px_err_set(-1, "the Request-URI has no host or a path");
    if (memchr(q, '#', (size_t)(end - q)))
        return px_err_set(-1, "the Request-URI has a fragment");
    return parse_query(q + 1, end, r);
}

static bool is_tchar(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Header lines up to the empty line; the body after it is ignored (G.2.1.4). */
static int check_headers(const char *p, const char *end)
{
    for (;;) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            return px_err_set(-1, "the header section does not end with an empty line");
        if (eol == p)
            return 0;
        const char *c = p;
        while (c < eol && is_tchar((unsigned char)*c))
            c++;
        if (c == p || c == eol || *c != ':')
            return px_err_set(-1, "malformed header line");
        for (; c < eol; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return px_err_set(-1, "control character in a header");
        p = eol + 2;
    }
}

int udp_cr_parse(const char *buf, size_t len, struct udp_cr_request *out)
{
    memset(out, 0, sizeof(*out));
    if (len > UDP_CR_MAX_DATAGRAM)
        return px_err_set(-1, "datagram too long");
    const char *end = buf + len;
    const char *eol = memmem(buf, len, "\r\n", 2);
    if (!eol || eol - buf < 4 || memcmp(buf, "GET ", 4) != 0)
        return px_err_set(-1, "not a GET request line");
    static const char version[] = " HTTP/1.1";
    size_t vlen = sizeof(version) - 1;
    const char *uri = buf + 4;
    if (eol - uri <= (ptrdiff_t)vlen || memcmp(eol - vlen, version, vlen) != 0)
        return px_err_set(-1, "the request line does not end with HTTP/1.1");
    const char *uri_end = eol - vlen;
    for (const char *c = uri; c < uri_end; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return px_err_set(-1, "bad character in the Request-URI");
    if (check_headers(eol + 2, end) != 0 || parse_uri(uri, uri_end, out) != 0)
        return -1;
    return check_fields(out);
}

void udp_cr_signature(const char *key, const struct udp_cr_request *r, char *out)
{
    char text[sizeof(r->ts_text) + sizeof(r->id) + sizeof(r->un) + sizeof(r->cn)];
    int n = snprintf(text, sizeof(text), "%s%s%s%s", r->ts_text, r->id, r->un, r->cn);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)text, (size_t)n, mac,
         &mac_len);
    for (unsigned i = 0; i < mac_len && i < UDP_CR_SIG_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

enum udp_cr_check udp_cr_check(const struct udp_cr_request *r, const char *username,
                               const char *password, const struct udp_cr_replay *last)
{
    if (!*username || strcmp(r->un, username) != 0)
        return UDP_CR_WRONG_USER;
    if (r->ts <= last->ts)
        return UDP_CR_OLD_TS;
    if (!strcmp(r->id, last->id))
        return UDP_CR_SAME_ID;
    char expected[UDP_CR_SIG_LEN + 1], given[UDP_CR_SIG_LEN + 1];
    udp_cr_signature(password, r, expected);
    for (size_t i = 0; i <= UDP_CR_SIG_LEN; i++)
        given[i] = (char)tolower((unsigned char)r->sig[i]);
    return CRYPTO_memcmp(expected, given, UDP_CR_SIG_LEN) == 0 ? UDP_CR_OK : UDP_CR_BAD_SIG;
}

const char *udp_cr_check_name(enum udp_cr_check c)
{
    static const char *const names[] = {"valid", "wrong username", "ts not greater",
                                        "same id", "bad signature"};
    return c <= UDP_CR_BAD_SIG ? names[c] : "?";
}

unsigned udp_cr_keepalive_period(long min, long max)
{
    long p = max > 0 ? max : min;
    if (p < min)
        p = min; /* G.2.1.2: never more often than the minimum */
    return p > 0 ? (unsigned)p : UDP_CR_DEFAULT_KEEPALIVE;
}

/* ================================ The socket ================================ */

struct udp_cr;

/* One endpoint on the socket: its replay record and its STUN client. */
struct udp_ep {
    struct udp_cr *owner;
    struct endpoint *ep;
    struct udp_cr_replay replay;

    bool stun_on;
    struct lookup *lookup;        /* server name being resolved, or NULL */
    struct sockaddr_storage server;
    socklen_t server_len;
    struct sockaddr_storage local; /* our address as the server sees it without NAT */
    struct event *timer;           /* retransmission, or the next keep-alive */
    uint8_t packet[STUN_MAX_MESSAGE];
    size_t packet_len;
    struct stun_request req;       /* the transaction in flight (txid) */
    bool in_flight;
    unsigned attempt;
    bool binding_change;           /* the next request carries BINDING-CHANGE */
    bool integrity;                /* the next request answers a 401 */
    char mapped[64];               /* last mapped address, "" before the first */
    struct udp_ep *next;
};

struct udp_cr {
    struct connreq *cr;
    struct event_base *base;
    evutil_socket_t fd;
    struct event *read_ev;
    struct evdns_base *dns;
    struct sockaddr_storage bound; /* address and port of the socket */
    struct udp_ep *eps;
};

/* An evdns lookup; orphaned (uep = NULL) when its endpoint no longer wants it. */
struct lookup {
    struct udp_ep *uep;
    unsigned port;
};

static void stun_configure(struct udp_ep *u);

static unsigned sa_port(const struct sockaddr_storage *sa)
{
    return sa->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
                                     : ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static void sa_set_port(struct sockaddr_storage *sa, unsigned port)
{
    if (sa->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
}

static socklen_t sa_len(const struct sockaddr_storage *sa)
{
    return sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool sa_any(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
}

static bool sa_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family || sa_port(a) != sa_port(b))
        return false;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

/* ---- Publishing UDPConnectionRequestAddress and NATDetected ---- */

/* Report value as a change of path when it differs from the one last published (also
 * before a restart), so that a notification follows (G.2.1.3). */
static void publish_value(struct endpoint *ep, const char *setting, const char *path,
                          const char *value)
{
    char *before = endpoint_setting(ep, setting);
    if (before && !strcmp(before, value)) {
        free(before);
        return;
    }
    if (before) {
        LOG_INFO(MOD, "%s: %s is now %s", ep->key, path + strlen(MS), value);
        dm_value_changed(ep->model, path, value);
    }
    endpoint_setting_set(ep, setting, value);
    free(before);
}

static void publish(struct udp_ep *u, const char *address, bool nat)
{
    struct endpoint *ep = u->ep;
    if (strcmp(ep->udp_cr_address, address) != 0) {
        free(ep->udp_cr_address);
        ep->udp_cr_address = strdup(address);
    }
    ep->nat_detected = nat;
    publish_value(ep, SETTING_ADDRESS, MS "UDPConnectionRequestAddress", address);
    publish_value(ep, SETTING_NAT, MS "NATDetected", nat ? "true" : "false");
}

/* Our address towards dest (the kernel's route choice, through a connected probe socket,
 * which sends nothing) with the socket's port; the bound address if it is not a wildcard. */
static void local_address(const struct udp_cr *c, const struct sockaddr_storage *dest,
                          struct sockaddr_storage *out)
{
    *out = c->bound;
    if (!sa_any(&c->bound) || !dest)
        return;
    int probe = socket(dest->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage me;
    socklen_t len = sizeof(me);
    if (probe >= 0 && connect(probe, (const struct sockaddr *)dest, sa_len(dest)) == 0 &&
        getsockname(probe, (struct sockaddr *)&me, &len) == 0) {
        *out = me;
        sa_set_port(out, sa_port(&c->bound));
    }
    if (probe >= 0)
        close(probe);
}

static void publish_local(struct udp_ep *u, const struct sockaddr_storage *dest)
{
    struct sockaddr_storage me;
    local_address(u->owner, dest, &me);
    if (sa_any(&me))
        return; /* wildcard and no route known yet: nothing true to say */
    char text[64];
    stun_format_address(&me, text, sizeof(text));
    publish(u, text, false);
}

/* With STUN on, what was published before a restart stays true until the server answers:
 * starting from it avoids reporting the local address and then the mapped one again. */
static void restore_published(struct udp_ep *u)
{
    char *address = endpoint_setting(u->ep, SETTING_ADDRESS);
    char *nat = endpoint_setting(u->ep, SETTING_NAT);
    if (address && mgmt_get_bool(u->ep, "STUNEnable")) {
        free(u->ep->udp_cr_address);
        u->ep->udp_cr_address = strdup(address);
        u->ep->nat_detected = nat && !strcmp(nat, "true");
    }
    free(address);
    free(nat);
}

/* ---- Requests arriving ---- */

static void load_replay(struct udp_ep *u)
{
    char *last = endpoint_setting(u->ep, SETTING_LAST);
    char id[UDP_CR_MAX_ID + 1] = "";
    unsigned long long ts = 0;
    if (last && sscanf(last, "%llu %20s", &ts, id) == 2) {
        u->replay.ts = ts;
        snprintf(u->replay.id, sizeof(u->replay.id), "%s", id);
    }
    free(last);
}

static void accept_request(struct udp_ep *u, const struct udp_cr_request *r)
{
    /* G.2.1.4: only a validated and authenticated request's ts is recorded */
    u->replay.ts = r->ts;
    snprintf(u->replay.id, sizeof(u->replay.id), "%s", r->id);
    char last[2 * UDP_CR_MAX_ID + 2];
    snprintf(last, sizeof(last), "%s %s", r->ts_text, r->id);
    endpoint_setting_set(u->ep, SETTING_LAST, last);
    if (connreq_admit(u->ep, "UDP") == CR_ACCEPT)
        connreq_start_session(u->ep);
}

static void handle_request(struct udp_cr *c, const char *buf, size_t len)
{
    struct udp_cr_request r;
    if (udp_cr_parse(buf, len, &r) != 0) {
        LOG_DEBUG(MOD, "ignored a malformed UDP connection request: %s", px_err_msg());
        return;
    }
    for (struct udp_ep *u = c->eps; u; u = u->next) {
        const struct endpoint *ep = u->ep;
        enum udp_cr_check v = udp_cr_check(&r, mgmt_get(ep, "ConnectionRequestUsername"),
                                           mgmt_get(ep, "ConnectionRequestPassword"),
                                           &u->replay);
        if (v == UDP_CR_OK) {
            accept_request(u, &r);
            return;
        }
        if (v != UDP_CR_WRONG_USER)
            LOG_DEBUG(MOD, "%s: ignored UDP connection request ts=%s id=%s: %s", ep->key,
                      r.ts_text, r.id, udp_cr_check_name(v));
    }
    LOG_DEBUG(MOD, "ignored UDP connection request ts=%s id=%s: no endpoint accepts it",
              r.ts_text, r.id);
}

/* ================================ STUN client ================================ */

/* RFC 3489 9.3: wait after the n-th transmission; after the last one the request failed. */
static const unsigned retransmit_ms[] = {100, 200, 400, 800, 1600, 1600, 1600, 1600, 1600};
#define MAX_SENDS (sizeof(retransmit_ms) / sizeof(retransmit_ms[0]))

static void arm(struct udp_ep *u, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(u->timer, &tv);
}

static long mgmt_long(const struct endpoint *ep, const char *name, long fallback)
{
    const char *v = mgmt_get(ep, name);
    char *end;
    long n = strtol(v, &end, 10);
    return *v && !*end ? n : fallback;
}

static void schedule_keepalive(struct udp_ep *u)
{
    unsigned s = udp_cr_keepalive_period(mgmt_long(u->ep, "STUNMinimumKeepAlivePeriod", 0),
                                         mgmt_long(u->ep, "STUNMaximumKeepAlivePeriod", -1));
    arm(u, s * 1000);
}

static void transmit(struct udp_ep *u)
{
    if (sendto(u->owner->fd, u->packet, u->packet_len, 0, (struct sockaddr *)&u->server,
               u->server_len) < 0)
        LOG_DEBUG(MOD, "%s: STUN send: %s", u->ep->key, strerror(errno));
    arm(u, retransmit_ms[u->attempt++]);
}

/* A new transaction: fresh transaction ID, the attributes G.2.1.3 asks for. */
static void send_binding_request(struct udp_ep *u)
{
    const char *user = mgmt_get(u->ep, "STUNUsername");
    RAND_bytes(u->req.txid, STUN_TXID_LEN);
    u->req.connection_request_binding = true;
    u->req.binding_change = u->binding_change;
    u->req.username = user;
    u->req.integrity_key = u->integrity ? mgmt_get(u->ep, "STUNPassword") : NULL;
    int n = stun_build_request(&u->req, u->packet, sizeof(u->packet));
    if (n < 0) {
        LOG_WARN(MOD, "%s: STUNUsername is too long for a Binding Request", u->ep->key);
        schedule_keepalive(u);
        return;
    }
    u->packet_len = (size_t)n;
    u->in_flight = true;
    u->attempt = 0;
    LOG_DEBUG(MOD, "%s: STUN Binding Request%s%s", u->ep->key,
              u->req.binding_change ? " with BINDING-CHANGE" : "",
              u->req.integrity_key ? " with MESSAGE-INTEGRITY" : "");
    transmit(u);
}

static void transaction_over(struct udp_ep *u)
{
    u->in_flight = false;
    u->integrity = false; /* footnote 28: integrity only when a 401 asks for it */
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct udp_ep *u = arg;
    if (!u->in_flight) {
        send_binding_request(u);
        return;
    }
    if (u->attempt < MAX_SENDS) {
        transmit(u);
        return;
    }
    LOG_WARN(MOD, "%s: no answer from the STUN server", u->ep->key);
    transaction_over(u);
    u->binding_change = false; /* G.2.1.3: not again until the binding changes again */
    schedule_keepalive(u);
}

static void handle_error_response(struct udp_ep *u, const struct stun_message *m)
{
    bool credentials = *mgmt_get(u->ep, "STUNUsername") && *mgmt_get(u->ep, "STUNPassword");
    bool retry = m->error_code == 401 && credentials && !u->req.integrity_key;
    LOG_DEBUG(MOD, "%s: STUN error %d%s", u->ep->key, m->error_code,
              retry ? ": retrying with MESSAGE-INTEGRITY" : "");
    transaction_over(u);
    if (retry) { /* G.2.1.1: resend with USERNAME and MESSAGE-INTEGRITY */
        u->integrity = true;
        send_binding_request(u);
        return;
    }
    if (m->error_code == 401)
        LOG_WARN(MOD, "%s: the STUN server refused our credentials", u->ep->key);
    schedule_keepalive(u);
}

static void handle_binding_response(struct udp_ep *u, const struct stun_message *m)
{
    char mapped[64];
    stun_format_address(&m->mapped, mapped, sizeof(mapped));
    bool sent_change = u->req.binding_change;
    transaction_over(u);
    if (sent_change)
        u->binding_change = false;
    /* G.2.1.1: translation is in use when address or port differ from ours */
    char local[64];
    stun_format_address(&u->local, local, sizeof(local));
    publish(u, mapped, strcmp(mapped, local) != 0);
    if (strcmp(mapped, u->mapped) != 0) {
        LOG_INFO(MOD, "%s: STUN binding %s (local %s)", u->ep->key, mapped, local);
        snprintf(u->mapped, sizeof(u->mapped), "%s", mapped);
        u->binding_change = true;
        /* G.2.1.3: announce it at once, but if the binding moved again while we announced
         * the last change, wait for the keep-alive (a flapping NAT must not make us spin) */
        if (!sent_change) {
            send_binding_request(u);
            return;
        }
    }
    schedule_keepalive(u);
}

static void handle_stun(struct udp_cr *c, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from)
{
    struct stun_message m;
    if (stun_parse(buf, len, &m) != 0) {
        LOG_DEBUG(MOD, "ignored a malformed STUN message");
        return;
    }
    struct udp_ep *u = c->eps;
    while (u && !(u->in_flight && !memcmp(u->req.txid, m.txid, STUN_TXID_LEN)))
        u = u->next;
    if (!u || !sa_equal(from, &u->server))
        return; /* not an answer to a transaction of ours, or not from its server */
    if (u->req.integrity_key && !stun_integrity_valid(buf, &m, u->req.integrity_key)) {
        LOG_DEBUG(MOD, "%s: discarded a STUN response without valid integrity", u->ep->key);
        return; /* G.2.1.1: discard; retransmission goes on */
    }
    if (m.type == STUN_BINDING_ERROR)
        handle_error_response(u, &m);
    else if (m.type == STUN_BINDING_RESPONSE && m.has_mapped)
        handle_binding_response(u, &m);
}

/* ---- Choosing and resolving the server ---- */

/* The host of a URL ("https://[::1]:443/x" -> "::1") into out. */
static void url_host(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strpbrk(p, "@/?#");
    if (at && *at == '@')
        p = at + 1;
    size_t n;
    if (*p == '[') {
        p++;
        n = strcspn(p, "]");
    } else {
        n = strcspn(p, ":/?#");
    }
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static void server_known(struct udp_ep *u, const struct sockaddr *sa, socklen_t len,
                         unsigned port)
{
    memcpy(&u->server, sa, len);
    u->server_len = len;
    sa_set_port(&u->server, port);
    local_address(u->owner, &u->server, &u->local);
    if (!*u->ep->udp_cr_address)
        publish_local(u, &u->server); /* until the first answer (TR-181) */
    send_binding_request(u);
}

static void lookup_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    struct lookup *l = arg;
    struct udp_ep *u = l->uep;
    if (u) {
        u->lookup = NULL;
        if (result == 0 && res) {
            server_known(u, res->ai_addr, res->ai_addrlen, l->port);
        } else {
            LOG_WARN(MOD, "%s: cannot resolve the STUN server: %s", u->ep->key,
                     evutil_gai_strerror(result));
            schedule_keepalive(u); /* the timer retries the lookup */
        }
    }
    if (res)
        evutil_freeaddrinfo(res);
    free(l);
}

static void resolve_server(struct udp_ep *u)
{
    char host[257];
    const char *name = mgmt_get(u->ep, "STUNServerAddress");
    if (*name) /* G.2.1.1: else the host of the ACS URL */
        snprintf(host, sizeof(host), "%s", name);
    else
        url_host(mgmt_get(u->ep, "URL"), host, sizeof(host));
    unsigned port = mgmt_get_uint(u->ep, "STUNServerPort", DEFAULT_STUN_PORT);
    struct udp_cr *c = u->owner;
    if (!c->dns)
        c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    struct lookup *l = calloc(1, sizeof(*l));
    if (!c->dns || !l || !*host) {
        LOG_WARN(MOD, "%s: no STUN server to ask", u->ep->key);
        free(l);
        return;
    }
    l->uep = u;
    l->port = port ? port : DEFAULT_STUN_PORT;
    u->lookup = l;
    struct evutil_addrinfo hints = {0};
    hints.ai_family = c->bound.ss_family;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    /* May call lookup_cb before it returns (literal addresses, /etc/hosts). */
    evdns_getaddrinfo(c->dns, host, NULL, &hints, lookup_cb, l);
}

static void stun_stop(struct udp_ep *u)
{
    if (u->lookup)
        u->lookup->uep = NULL;
    u->lookup = NULL;
    evtimer_del(u->timer);
    u->in_flight = false;
    u->integrity = false;
}

/* (Re)start or stop the STUN client after a change of ManagementServer. */
static void stun_configure(struct udp_ep *u)
{
    stun_stop(u);
    u->stun_on = mgmt_get_bool(u->ep, "STUNEnable");
    if (!u->stun_on) {
        u->mapped[0] = '\0';
        /* TR-181: without STUN, the local address, and NATDetected false */
        char host[257];
        url_host(mgmt_get(u->ep, "URL"), host, sizeof(host));
        struct sockaddr_storage acs;
        int len = sizeof(acs);
        bool literal = evutil_parse_sockaddr_port(host, (struct sockaddr *)&acs, &len) == 0;
        publish_local(u, literal ? &acs : NULL);
        return;
    }
    resolve_server(u);
}

static void mgmt_changed(void *arg, struct endpoint *ep, const char *const *names, size_t n)
{
    (void)ep;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(names[i], "STUN", 4) || !strcmp(names[i], "URL")) {
            stun_configure(arg);
            return;
        }
}

/* ================================ Transport ================================ */

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct udp_cr *c = arg;
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        uint8_t buf[UDP_CR_MAX_DATAGRAM + 1];
        struct sockaddr_storage from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &flen);
        if (n < 0)
            return; /* EAGAIN: drained */
        if (n == 0 || (size_t)n > UDP_CR_MAX_DATAGRAM)
            continue; /* empty or too long: not ours */
        if (buf[0] <= 1) /* G.2.1.4: STUN messages start with 0 or 1 */
            handle_stun(c, buf, (size_t)n, &from);
        else if (isalpha(buf[0]))
            handle_request(c, (const char *)buf, (size_t)n);
    }
}

/* The socket address to bind: [connection_request] address if it is a literal, else any. */
static int bind_address(const struct px_config *cfg, unsigned port,
                        struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    int len = sizeof(*out);
    if (!cfg->cr_address || !*cfg->cr_address ||
        evutil_parse_sockaddr_port(cfg->cr_address, (struct sockaddr *)out, &len) != 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
    }
    sa_set_port(out, port);
    return 0;
}

static void udp_stop(void *state);

static void *udp_start(struct connreq *cr, bool *failed)
{
    const struct px_config *cfg = connreq_config(cr);
    unsigned port = cfg->cr_udp_port == CONFIG_UDP_PORT_SAME ? cfg->cr_port : cfg->cr_udp_port;
    if (port == 0)
        return NULL; /* disabled */
    struct udp_cr *c = calloc(1, sizeof(*c));
    c->cr = cr;
    c->base = connreq_base(cr);
    bind_address(cfg, port, &c->bound);
    c->fd = socket(c->bound.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t blen = sa_len(&c->bound);
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&c->bound, blen) != 0) {
        px_err_set(-1, "UDP port %u: %s", port, strerror(errno));
        goto fail;
    }
    c->read_ev = event_new(c->base, c->fd, EV_READ | EV_PERSIST, read_cb, c);
    if (!c->read_ev || event_add(c->read_ev, NULL) != 0) {
        px_err_set(-1, "cannot watch the UDP socket");
        goto fail;
    }
    LOG_INFO(MOD, "listening for UDP connection requests on port %u", port);
    return c;
fail:
    *failed = true;
    udp_stop(c);
    return NULL;
}

static void udp_endpoint_added(void *state, struct endpoint *ep)
{
    struct udp_cr *c = state;
    struct udp_ep *u = calloc(1, sizeof(*u));
    u->owner = c;
    u->ep = ep;
    u->timer = evtimer_new(c->base, timer_cb, u);
    u->next = c->eps;
    c->eps = u;
    load_replay(u);
    restore_published(u);
    mgmt_observe(ep, mgmt_changed, u);
    stun_configure(u);
}

static void udp_stop(void *state)
{
    struct udp_cr *c = state;
    while (c->eps) {
        struct udp_ep *u = c->eps;
        c->eps = u->next;
        stun_stop(u);
        mgmt_unobserve(u->ep, mgmt_changed, u);
        event_free(u->timer);
        free(u);
    }
    if (c->dns)
        evdns_base_free(c->dns, 1); /* orphaned lookups are failed and freed */
    if (c->read_ev)
        event_free(c->read_ev);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

const struct connreq_transport udp_cr_transport = {
    .name = "STUN", /* TR-181 SupportedConnReqMethods: Annex G */
    .start = udp_start,
    .endpoint_added = udp_endpoint_added,
    .stop = udp_stop,
};
