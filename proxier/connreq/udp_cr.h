/*
 * udp_cr.h: UDP connection requests and STUN (TR-069 Annex G, the "STUN" value of
 * SupportedConnReqMethods).
 *
 * One non-blocking UDP socket on the event loop ([connection_request] udp_port) serves
 * every endpoint. It is shared by connection-request datagrams and STUN (G.2.1.4: the first
 * byte tells them apart, 0x00/0x01 STUN, a letter a request). It listens whether or not STUN
 * is enabled (G.2.1.4).
 *
 * A request (G.2.2.3) is "GET http://host:port?ts=&id=&un=&cn=&sig= HTTP/1.1". It is valid
 * and authentic for an endpoint (G.2.1.4) when un is the endpoint's
 * ConnectionRequestUsername, ts is strictly greater and id differs from the last request the
 * endpoint accepted (both persisted, so that replays stay dead across restarts), and sig is
 * the hex HMAC-SHA1 of ts|id|un|cn keyed with its ConnectionRequestPassword. Usernames need
 * not be unique: every endpoint with that username is tried. Anything else is dropped
 * silently (debug log); an accepted request goes to connreq_admit() and never gets a reply.
 *
 * With ManagementServer.STUNEnable, each endpoint runs an RFC 3489 client from the same
 * socket (G.2.1.1-G.2.1.3), and, behind a NAT with STUNMinimumKeepAlivePeriod different
 * from STUNMaximumKeepAlivePeriod, discovers the binding timeout from a secondary socket
 * (G.2.1.2): see udp_cr.c.
 */
#ifndef PX_UDP_CR_H
#define PX_UDP_CR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxier/connreq/connreq.h"

#define UDP_CR_MAX_DATAGRAM 2048 /* longer datagrams are dropped unread */
#define UDP_CR_MAX_ID 20         /* "an unsigned integer": up to 2^64-1 */
#define UDP_CR_MAX_FIELD 256     /* un (string(256) in TR-181) and cn */
#define UDP_CR_SIG_LEN 40

/* The query of a request, percent-decoded (application/x-www-form-urlencoded). */
struct udp_cr_request {
    uint64_t ts;
    char ts_text[UDP_CR_MAX_ID + 1]; /* as sent: the signature covers the text */
    char id[UDP_CR_MAX_ID + 1];
    char un[UDP_CR_MAX_FIELD + 1];
    char cn[UDP_CR_MAX_FIELD + 1];
    char sig[UDP_CR_SIG_LEN + 1];
};

/* What the endpoint accepted last (G.2.1.4); ts 0 before any. */
struct udp_cr_replay {
    uint64_t ts;
    char id[UDP_CR_MAX_ID + 1];
};

enum udp_cr_check {
    UDP_CR_OK = 0,
    UDP_CR_WRONG_USER,   /* un is not the ConnectionRequestUsername (or that is empty) */
    UDP_CR_OLD_TS,       /* ts not strictly greater than the last accepted one */
    UDP_CR_SAME_ID,      /* id equal to the last accepted one */
    UDP_CR_BAD_SIG,      /* signature does not match */
};

/* Parse one datagram. Returns 0, or -1 if it is not a well-formed request (the reason is
 * in px_err_msg). */
int udp_cr_parse(const char *buf, size_t len, struct udp_cr_request *out);

/* Lower-case hex HMAC-SHA1(key, ts|id|un|cn) into out (41 bytes). */
void udp_cr_signature(const char *key, const struct udp_cr_request *r, char *out);

/* Validate and authenticate r for an endpoint whose credentials are username/password and
 * whose last accepted request is last (G.2.1.4). The signature is compared in constant
 * time, hex case-insensitively. */
enum udp_cr_check udp_cr_check(const struct udp_cr_request *r, const char *username,
                               const char *password, const struct udp_cr_replay *last);
const char *udp_cr_check_name(enum udp_cr_check c);

/* Seconds between keep-alive Binding Requests for STUNMinimumKeepAlivePeriod min and
 * STUNMaximumKeepAlivePeriod max (-1 = none): max when set (> 0), never below min, and
 * UDP_CR_DEFAULT_KEEPALIVE when neither is set. */
#define UDP_CR_DEFAULT_KEEPALIVE 30
unsigned udp_cr_keepalive_period(long min, long max);

/* G.2.1.2 binding-timeout discovery: the search for the longest keep-alive period that keeps
 * the NAT binding. A test of period T lets the primary binding idle T seconds after a
 * refresh, then asks from a secondary port, with RESPONSE-ADDRESS, for an answer to the
 * primary's mapped address: the binding held if it arrives. Periods double from the
 * minimum until one is lost (or the maximum holds), then the gap is halved down to 1 s.
 * Without STUNMaximumKeepAlivePeriod the search stops at UDP_CR_SEARCH_CEILING. */
#define UDP_CR_SEARCH_CEILING 3600
struct udp_cr_search {
    unsigned floor; /* the shortest period allowed: STUNMinimumKeepAlivePeriod, at least 1 */
    unsigned held;  /* the longest period seen to keep the binding (floor at first) */
    unsigned lost;  /* the shortest period seen to lose it (ceiling + 1 at first) */
    bool seen_loss; /* a loss was seen: halve the gap instead of doubling */
};

/* Whether G.2.1.2 asks for a search: Min != Max, and Max (when set) leaves room above Min. */
bool udp_cr_search_needed(long min, long max);
void udp_cr_search_start(struct udp_cr_search *s, long min, long max);
/* The period to test next, or 0 when the search is over (the result is s->held). */
unsigned udp_cr_search_next(const struct udp_cr_search *s);
/* Record the outcome of a test of period. A loss at or below held (the binding timeout
 * shrank, seen while monitoring) restarts the search from the floor. */
void udp_cr_search_result(struct udp_cr_search *s, unsigned period, bool kept);

extern const struct connreq_transport udp_cr_transport;

#endif
