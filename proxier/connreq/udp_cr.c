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
 *   - keep-alive every udp_cr_keepalive_period() seconds, or, behind a NAT with
 *     STUNMinimumKeepAlivePeriod != STUNMaximumKeepAlivePeriod, by the period that binding-
 *     timeout discovery found (G.2.1.2): after a refresh of the primary binding, the binding
 *     idles T seconds, then a Binding Request from a secondary socket (opened for the
 *     discovery, closed after it) asks with RESPONSE-ADDRESS for the answer to go to the
 *     primary's mapped address. It arrives on the primary socket if the binding held T.
 *     Either way the primary binding is refreshed at once (after a loss that is a new
 *     binding, announced with BINDING-CHANGE) and the search (udp_cr_search_*) picks the
 *     next T. The test carries neither CONNECTION-REQUEST-BINDING nor BINDING-CHANGE
 *     (G.2.1.3), USERNAME and MESSAGE-INTEGRITY only after a 401, and fails after 5 sends
 *     (3.1 s). Once found, the period is tested again every MONITOR_EVERY keep-alives and
 *     searched again if it no longer holds. A server that answers the test to its source
 *     (it ignores RESPONSE-ADDRESS, as RFC 5389 servers do) or with an error ends the
 *     discovery: then the configured period until the STUN parameters change;
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

/* ============================ Binding-timeout search ============================ */

static unsigned search_floor(long min)
{
    return min > 0 ? (unsigned)min : 1;
}

static unsigned search_ceiling(long max)
{
    return max > 0 && max < UDP_CR_SEARCH_CEILING ? (unsigned)max : UDP_CR_SEARCH_CEILING;
}

bool udp_cr_search_needed(long min, long max)
{
    return min != max && search_ceiling(max) > search_floor(min);
}

void udp_cr_search_start(struct udp_cr_search *s, long min, long max)
{
    s->floor = search_floor(min);
    s->held = s->floor;
    s->lost = search_ceiling(max) + 1;
    s->seen_loss = false;
}

unsigned udp_cr_search_next(const struct udp_cr_search *s)
{
    if (s->lost - s->held <= 1)
        return 0;
    if (s->seen_loss)
        return s->held + (s->lost - s->held) / 2;
    return s->held * 2 < s->lost ? s->held * 2 : s->lost - 1;
}

void udp_cr_search_result(struct udp_cr_search *s, unsigned period, bool kept)
{
    if (kept) {
        if (period > s->held)
            s->held = period;
        return;
    }
    if (period <= s->held) /* the timeout shrank below what held before: start over */
        s->held = s->floor;
    if (period < s->lost)
        s->lost = period;
    if (s->lost <= s->held) /* even the floor is lost: nothing shorter is allowed */
        s->lost = s->held + 1;
    s->seen_loss = true;
}

/* ================================ The socket ================================ */

struct udp_cr;

/* One STUN transaction at a time per port: the request, its retransmissions (RFC 3489 9.3)
 * and the timer, which also waits for the next request. */
struct txn {
    struct event *timer;
    struct stun_request req; /* the request in flight (txid) */
    uint8_t packet[STUN_MAX_MESSAGE];
    size_t packet_len;
    bool in_flight;
    unsigned attempt;
    unsigned sends;          /* transmissions before the transaction has failed */
    bool integrity;          /* the next request answers a 401 */
};

enum search_state {
    SEARCH_NONE,      /* not (yet) needed: no NAT, or Min == Max */
    SEARCH_ON,        /* searching or monitoring (G.2.1.2) */
    SEARCH_ABANDONED, /* the server cannot take part: the configured period until a change */
};

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
    struct txn primary;            /* from the connection-request socket; its timer also
                                      waits for the next keep-alive */
    bool binding_change;           /* the next request carries BINDING-CHANGE */
    char mapped[64];               /* last mapped address, "" before the first */
    struct sockaddr_storage mapped_sa;
    bool nat;                      /* the last answer showed translation */

    /* G.2.1.2 binding-timeout discovery */
    enum search_state search_state;
    struct udp_cr_search search;
    struct txn probe;              /* from the secondary port; its timer also waits for it */
    unsigned probe_period;         /* the idle period the probe tests */
    evutil_socket_t probe_fd;      /* the secondary socket, -1 when no test is under way */
    struct event *probe_ev;
    unsigned keepalives;           /* keep-alives since the last monitoring test */
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
    struct log_limit ignored_log[UDP_CR_BAD_SIG + 1]; /* one per reason (WRONG_USER: "no
                                                          endpoint accepts it") */
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
    if (connreq_admit(u->owner->cr, &udp_cr_transport, u->ep) == CR_ACCEPT)
        connreq_start_session(u->ep);
}

/* One line per ignored request, rate-limited per reason (an ACS sends each request several
 * times, G.2.2.3, so the copies of an accepted one are ignored as replays): the reason the
 * endpoint it was for gave, or "no endpoint accepts it" when no username matched. */
static void handle_request(struct udp_cr *c, const char *buf, size_t len)
{
    struct udp_cr_request r;
    if (udp_cr_parse(buf, len, &r) != 0) {
        LOG_DEBUG(MOD, "ignored a malformed UDP connection request: %s", px_err_msg());
        return;
    }
    const struct endpoint *why_ep = NULL;
    enum udp_cr_check why = UDP_CR_WRONG_USER;
    for (struct udp_ep *u = c->eps; u; u = u->next) {
        enum udp_cr_check v = udp_cr_check(&r, mgmt_get(u->ep, "ConnectionRequestUsername"),
                                           mgmt_get(u->ep, "ConnectionRequestPassword"),
                                           &u->replay);
        if (v == UDP_CR_OK) {
            accept_request(u, &r);
            return;
        }
        if (v != UDP_CR_WRONG_USER && !why_ep) {
            why_ep = u->ep;
            why = v;
        }
    }
    connreq_log_limited(c->cr, &c->ignored_log[why], LOG_LVL_INFO, MOD,
                        "%s%signored UDP connection request ts=%s id=%s: %s",
                        why_ep ? why_ep->key : "", why_ep ? ": " : "", r.ts_text, r.id,
                        why_ep ? udp_cr_check_name(why) : "no endpoint accepts it");
}

/* ================================ STUN client ================================ */

/* RFC 3489 9.3: wait after the n-th transmission; after the last one the request failed. */
static const unsigned retransmit_ms[] = {100, 200, 400, 800, 1600, 1600, 1600, 1600, 1600};
#define MAX_SENDS (sizeof(retransmit_ms) / sizeof(retransmit_ms[0]))
/* A test from the secondary port gives up after 3.1 s (5 sends): retransmission still
 * covers a lost datagram, and a binding that timed out is not waited for 9.5 s. */
#define PROBE_SENDS 5
/* Monitoring (G.2.1.2): every this many keep-alives, the found period is tested again. */
#define MONITOR_EVERY 10

static void arm(struct txn *t, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(t->timer, &tv);
}

static long mgmt_long(const struct endpoint *ep, const char *name, long fallback)
{
    const char *v = mgmt_get(ep, name);
    char *end;
    long n = strtol(v, &end, 10);
    return *v && !*end ? n : fallback;
}

static long keepalive_min(const struct udp_ep *u)
{
    return mgmt_long(u->ep, "STUNMinimumKeepAlivePeriod", 0);
}

static long keepalive_max(const struct udp_ep *u)
{
    return mgmt_long(u->ep, "STUNMaximumKeepAlivePeriod", -1);
}

static void schedule_keepalive(struct udp_ep *u)
{
    unsigned s = u->search_state == SEARCH_ON
                     ? u->search.held
                     : udp_cr_keepalive_period(keepalive_min(u), keepalive_max(u));
    arm(&u->primary, s * 1000);
}

static void transmit(struct udp_ep *u, struct txn *t, evutil_socket_t fd)
{
    if (sendto(fd, t->packet, t->packet_len, 0, (struct sockaddr *)&u->server,
               u->server_len) < 0)
        LOG_DEBUG(MOD, "%s: STUN send: %s", u->ep->key, strerror(errno));
    arm(t, retransmit_ms[t->attempt++]);
}

/* Start transaction t with a fresh transaction ID from fd; t->req is filled in but for it.
 * Returns -1 if the request cannot be encoded. */
static int txn_start(struct udp_ep *u, struct txn *t, evutil_socket_t fd, unsigned sends)
{
    RAND_bytes(t->req.txid, STUN_TXID_LEN);
    int n = stun_build_request(&t->req, t->packet, sizeof(t->packet));
    if (n < 0)
        return -1;
    t->packet_len = (size_t)n;
    t->in_flight = true;
    t->attempt = 0;
    t->sends = sends;
    transmit(u, t, fd);
    return 0;
}

static void txn_over(struct txn *t)
{
    evtimer_del(t->timer); /* no retransmission; the caller arms what comes next */
    t->in_flight = false;
    t->integrity = false; /* footnote 28: integrity only when a 401 asks for it */
}

/* The credentials of the retry that answers a 401 (G.2.1.1), or false without them. */
static bool have_credentials(const struct udp_ep *u)
{
    return *mgmt_get(u->ep, "STUNUsername") && *mgmt_get(u->ep, "STUNPassword");
}

/* A Binding Request from the primary port, with the attributes G.2.1.3 asks for. */
static void send_binding_request(struct udp_ep *u)
{
    struct stun_request *r = &u->primary.req;
    r->connection_request_binding = true;
    r->binding_change = u->binding_change;
    r->username = mgmt_get(u->ep, "STUNUsername");
    r->integrity_key = u->primary.integrity ? mgmt_get(u->ep, "STUNPassword") : NULL;
    r->response_address = NULL;
    if (txn_start(u, &u->primary, u->owner->fd, MAX_SENDS) != 0) {
        LOG_WARN(MOD, "%s: STUNUsername is too long for a Binding Request", u->ep->key);
        schedule_keepalive(u);
        return;
    }
    LOG_DEBUG(MOD, "%s: STUN Binding Request%s%s", u->ep->key,
              r->binding_change ? " with BINDING-CHANGE" : "",
              r->integrity_key ? " with MESSAGE-INTEGRITY" : "");
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct udp_ep *u = arg;
    if (!u->primary.in_flight) {
        send_binding_request(u);
        return;
    }
    if (u->primary.attempt < u->primary.sends) {
        transmit(u, &u->primary, u->owner->fd);
        return;
    }
    LOG_WARN(MOD, "%s: no answer from the STUN server", u->ep->key);
    txn_over(&u->primary);
    u->binding_change = false; /* G.2.1.3: not again until the binding changes again */
    schedule_keepalive(u);
}

/* ---- Binding-timeout discovery from the secondary port (G.2.1.2) ---- */

static void secondary_read_cb(evutil_socket_t fd, short what, void *arg);

static void close_secondary(struct udp_ep *u)
{
    if (u->probe_ev)
        event_free(u->probe_ev);
    u->probe_ev = NULL;
    if (u->probe_fd >= 0)
        close(u->probe_fd);
    u->probe_fd = -1;
}

/* A second socket on the primary's address with a port of the kernel's choice, open only
 * while a test is under way. */
static int open_secondary(struct udp_ep *u)
{
    struct sockaddr_storage at = u->owner->bound;
    sa_set_port(&at, 0);
    u->probe_fd = socket(at.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (u->probe_fd < 0 || bind(u->probe_fd, (struct sockaddr *)&at, sa_len(&at)) != 0)
        goto fail;
    u->probe_ev = event_new(u->owner->base, u->probe_fd, EV_READ | EV_PERSIST,
                            secondary_read_cb, u);
    if (u->probe_ev && event_add(u->probe_ev, NULL) == 0)
        return 0;
fail:
    px_err_set(-1, "secondary STUN port: %s", strerror(errno));
    close_secondary(u);
    return -1;
}

static void stop_probe(struct udp_ep *u)
{
    txn_over(&u->probe);
    close_secondary(u);
}

/* The server cannot take part (or we cannot): refresh the binding, which has idled for the
 * test, then keep it alive by the configured period. */
static void abandon_search(struct udp_ep *u, const char *why)
{
    LOG_WARN(MOD, "%s: NAT binding timeout discovery abandoned: %s", u->ep->key, why);
    u->search_state = SEARCH_ABANDONED;
    stop_probe(u);
    if (!u->primary.in_flight)
        send_binding_request(u);
}

/* The test from the secondary port: no CONNECTION-REQUEST-BINDING and no BINDING-CHANGE
 * (G.2.1.3, it is not the primary port), RESPONSE-ADDRESS = the primary's mapped address;
 * USERNAME and MESSAGE-INTEGRITY only in the retry that answers a 401 (G.2.1.1). */
static void send_probe(struct udp_ep *u)
{
    if (u->probe_fd < 0 && open_secondary(u) != 0) {
        abandon_search(u, px_err_msg());
        return;
    }
    struct stun_request *r = &u->probe.req;
    r->connection_request_binding = false;
    r->binding_change = false;
    r->response_address = &u->mapped_sa;
    r->integrity_key = u->probe.integrity ? mgmt_get(u->ep, "STUNPassword") : NULL;
    r->username = u->probe.integrity ? mgmt_get(u->ep, "STUNUsername") : NULL;
    if (txn_start(u, &u->probe, u->probe_fd, PROBE_SENDS) != 0) {
        abandon_search(u, "cannot encode the test request");
        return;
    }
    LOG_DEBUG(MOD, "%s: testing whether the NAT binding held %u s idle", u->ep->key,
              u->probe_period);
}

/* The outcome of a test: record it, then refresh the primary binding at once (after a
 * loss this discovers the new binding, G.2.1.1). */
static void probe_done(struct udp_ep *u, bool kept)
{
    bool was_searching = udp_cr_search_next(&u->search) != 0;
    txn_over(&u->probe);
    udp_cr_search_result(&u->search, u->probe_period, kept);
    LOG_DEBUG(MOD, "%s: the NAT binding %s %u s idle", u->ep->key,
              kept ? "held" : "did not hold", u->probe_period);
    if (udp_cr_search_next(&u->search)) {
        if (!was_searching)
            LOG_INFO(MOD, "%s: the NAT binding no longer holds %u s, discovering again",
                     u->ep->key, u->probe_period);
    } else {
        close_secondary(u);
        if (was_searching)
            LOG_INFO(MOD, "%s: NAT binding timeout discovered: keep-alive period %u s",
                     u->ep->key, u->search.held);
    }
    if (!u->primary.in_flight)
        send_binding_request(u);
}

static void probe_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct udp_ep *u = arg;
    if (!u->probe.in_flight)
        send_probe(u);
    else if (u->probe.attempt < u->probe.sends)
        transmit(u, &u->probe, u->probe_fd);
    else
        probe_done(u, false); /* no answer reached the primary port: the binding is gone */
}

/* The period to test after this refresh of the primary binding, 0 for none: the next step
 * of the search, or, once it is over, the found period every MONITOR_EVERY keep-alives. */
static unsigned next_test(struct udp_ep *u)
{
    if (u->search_state == SEARCH_NONE && u->nat &&
        udp_cr_search_needed(keepalive_min(u), keepalive_max(u))) {
        udp_cr_search_start(&u->search, keepalive_min(u), keepalive_max(u));
        u->search_state = SEARCH_ON;
        u->keepalives = 0;
        LOG_INFO(MOD, "%s: discovering the NAT binding timeout (%u to %u s)", u->ep->key,
                 u->search.floor, u->search.lost - 1);
    }
    if (u->search_state != SEARCH_ON || !u->nat)
        return 0;
    unsigned t = udp_cr_search_next(&u->search);
    if (t)
        return t;
    if (++u->keepalives < MONITOR_EVERY)
        return 0;
    u->keepalives = 0;
    return u->search.held;
}

/* The primary binding was just refreshed: the next test waits from now (the binding idles
 * for the period under test), else the next keep-alive. */
static void binding_refreshed(struct udp_ep *u)
{
    unsigned t = next_test(u);
    if (!t) {
        schedule_keepalive(u);
        return;
    }
    u->probe_period = t;
    arm(&u->probe, t * 1000);
}

static void handle_probe_answer(struct udp_ep *u, const struct stun_message *m, bool on_primary)
{
    if (m->type == STUN_BINDING_ERROR) {
        bool retry = m->error_code == 401 && have_credentials(u) && !u->probe.req.integrity_key;
        txn_over(&u->probe);
        if (!retry) {
            char why[64];
            snprintf(why, sizeof(why), "the STUN server answered the test with error %d",
                     m->error_code);
            abandon_search(u, why);
            return;
        }
        u->probe.integrity = true;
        send_probe(u);
        return;
    }
    if (!on_primary) /* RFC 5389 servers do not know RESPONSE-ADDRESS */
        abandon_search(u, "the STUN server ignores RESPONSE-ADDRESS");
    else
        probe_done(u, true);
}

/* ---- Answers ---- */

static void handle_error_response(struct udp_ep *u, const struct stun_message *m)
{
    bool retry = m->error_code == 401 && have_credentials(u) && !u->primary.req.integrity_key;
    LOG_DEBUG(MOD, "%s: STUN error %d%s", u->ep->key, m->error_code,
              retry ? ": retrying with MESSAGE-INTEGRITY" : "");
    txn_over(&u->primary);
    if (retry) { /* G.2.1.1: resend with USERNAME and MESSAGE-INTEGRITY */
        u->primary.integrity = true;
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
    bool sent_change = u->primary.req.binding_change;
    txn_over(&u->primary);
    if (sent_change)
        u->binding_change = false;
    /* G.2.1.1: translation is in use when address or port differ from ours */
    char local[64];
    stun_format_address(&u->local, local, sizeof(local));
    u->nat = strcmp(mapped, local) != 0;
    u->mapped_sa = m->mapped;
    publish(u, mapped, u->nat);
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
    binding_refreshed(u);
}

/* The endpoint and transaction a message answers: matched by transaction ID and source
 * (the server); the primary's answers only on the primary socket. */
static struct txn *find_txn(struct udp_cr *c, const struct stun_message *m,
                            const struct sockaddr_storage *from, bool on_primary,
                            struct udp_ep **uep)
{
    for (struct udp_ep *u = c->eps; u; u = u->next) {
        struct txn *t = NULL;
        if (on_primary && u->primary.in_flight &&
            !memcmp(u->primary.req.txid, m->txid, STUN_TXID_LEN))
            t = &u->primary;
        else if (u->probe.in_flight && !memcmp(u->probe.req.txid, m->txid, STUN_TXID_LEN))
            t = &u->probe;
        if (t) {
            *uep = u;
            return sa_equal(from, &u->server) ? t : NULL;
        }
    }
    return NULL;
}

static void handle_stun(struct udp_cr *c, const uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, bool on_primary)
{
    struct stun_message m;
    if (stun_parse(buf, len, &m) != 0) {
        LOG_DEBUG(MOD, "ignored a malformed STUN message");
        return;
    }
    struct udp_ep *u = NULL;
    struct txn *t = find_txn(c, &m, from, on_primary, &u);
    if (!t)
        return; /* not an answer to a transaction of ours, or not from its server */
    if (t->req.integrity_key && !stun_integrity_valid(buf, &m, t->req.integrity_key)) {
        LOG_DEBUG(MOD, "%s: discarded a STUN response without valid integrity", u->ep->key);
        return; /* G.2.1.1: discard; retransmission goes on */
    }
    if (m.type != STUN_BINDING_ERROR && (m.type != STUN_BINDING_RESPONSE || !m.has_mapped))
        return;
    if (t == &u->probe)
        handle_probe_answer(u, &m, on_primary);
    else if (m.type == STUN_BINDING_ERROR)
        handle_error_response(u, &m);
    else
        handle_binding_response(u, &m);
}

/* Datagrams on fd (a batch at most, for fairness): STUN to handle_stun, connection
 * requests (only on the primary socket) to handle_request. */
static void read_datagrams(struct udp_cr *c, evutil_socket_t fd, bool on_primary)
{
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
            handle_stun(c, buf, (size_t)n, &from, on_primary);
        else if (on_primary && isalpha(buf[0]))
            handle_request(c, (const char *)buf, (size_t)n);
    }
}

static void secondary_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct udp_ep *u = arg;
    read_datagrams(u->owner, fd, false);
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
    txn_over(&u->primary);
    stop_probe(u);
}

/* (Re)start or stop the STUN client after a change of ManagementServer. */
static void stun_configure(struct udp_ep *u)
{
    stun_stop(u);
    u->search_state = SEARCH_NONE; /* the keep-alive bounds may have changed */
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
    read_datagrams(arg, fd, true);
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
    u->primary.timer = evtimer_new(c->base, timer_cb, u);
    u->probe.timer = evtimer_new(c->base, probe_timer_cb, u);
    u->probe_fd = -1;
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
    for (size_t i = 0; i < sizeof(c->ignored_log) / sizeof(c->ignored_log[0]); i++)
        connreq_forget_log(c->cr, &c->ignored_log[i]);
    while (c->eps) {
        struct udp_ep *u = c->eps;
        c->eps = u->next;
        stun_stop(u);
        mgmt_unobserve(u->ep, mgmt_changed, u);
        event_free(u->primary.timer);
        event_free(u->probe.timer);
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
    .label = "UDP",
    .start = udp_start,
    .endpoint_added = udp_endpoint_added,
    .stop = udp_stop,
};
