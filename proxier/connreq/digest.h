/*
 * digest.h: HTTP Digest authentication, server side, for HTTP connection requests (TR-069
 * 3.2.2.2 "The CPE MUST use HTTP digest authentication", 3.4.5; RFC 2617, RFC 7616).
 *
 * Our own verifier on OpenSSL EVP rather than libmicrohttpd's, which accepts replays
 * (interop/connection-requests.md 3.2). Pure functions of their arguments and of the
 * verifier's nonce table: no sockets, no clock (callers pass `now`), so unit tests and the
 * fuzz target drive it directly.
 *
 * - A verifier offers a configured list of algorithms, one challenge each with qop="auth" and
 *   the same nonce, in the configured order ([connection_request] digest_algorithms; the
 *   default is MD5 alone: TR-069 3.4.5 names MD5 and most ACSs parse only one challenge, see
 *   docs/operations.md). MD5-sess (3.4.5 "MUST additionally support the MD5-sess digest
 *   algorithm"), SHA-256 and SHA-256-sess can be offered too.
 * - A response is accepted only for an algorithm that was offered (no downgrade to MD5 when
 *   only SHA-256 is offered), and only if it was computed with the algorithm it names.
 * - Server nonces are hex(timestamp | random | HMAC-SHA256(secret, timestamp | random)):
 *   a forged nonce fails the MAC without any table lookup; an expired one is answered
 *   stale=true (RFC 7616 3.3) so that the client retries without asking for a password.
 * - Each issued nonce has an entry in a bounded table (least recently used first out) that
 *   holds the highest nonce-count seen: a request whose nc is not greater is a replay
 *   (RFC 7616 3.4). A nonce evicted from the table is treated as stale, never as fresh.
 * - uri must equal the request-target, username and realm must match, the response is
 *   compared in constant time (CRYPTO_memcmp). Independent nonces let any number of ACS
 *   requests run at once.
 */
#ifndef PX_DIGEST_H
#define PX_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum digest_alg { DIGEST_MD5 = 0, DIGEST_MD5_SESS, DIGEST_SHA256, DIGEST_SHA256_SESS };

#define DIGEST_ALG_COUNT 4

/* The algorithms offered, in the order of the challenges, each at most once. */
struct digest_offer {
    enum digest_alg algs[DIGEST_ALG_COUNT];
    size_t n;
};

/* Room for a SHA-256 hex digest and its NUL. */
#define DIGEST_HEX_MAX 65
/* Length of a server nonce: hex of 8 (time) + 16 (random) + 16 (MAC) bytes. */
#define DIGEST_NONCE_LEN 80

/* "MD5", "MD5-sess", "SHA-256", "SHA-256-sess" (RFC 7616 6.1). */
const char *digest_alg_name(enum digest_alg alg);
/* The algorithm named (case-insensitive); -1 if unknown. */
int digest_alg_parse(const char *name);
/* A comma-separated list of algorithm names ("MD5", "SHA-256,MD5"; blanks around names are
 * allowed) into out. Returns 0, or -1 with px_err_msg set if the list is empty, names an
 * unknown algorithm or names one twice. */
int digest_offer_parse(const char *list, struct digest_offer *out);

/* The request-digest of RFC 7616 3.4.1 with qop=auth, as lower-case hex in out.
 * Returns 0, or -1 if the hash could not be computed. Used by the verifier and by clients
 * in the tests and the bench. */
int digest_response(enum digest_alg alg, const char *username, const char *realm,
                    const char *password, const char *method, const char *uri,
                    const char *nonce, const char *nc, const char *cnonce,
                    char out[DIGEST_HEX_MAX]);

/* The parameters of an Authorization: Digest header (values unquoted, unescaped). */
struct digest_params {
    char username[256];
    char realm[128];
    char nonce[128];
    char uri[2048];
    char response[DIGEST_HEX_MAX];
    char algorithm[16];
    char cnonce[128];
    char qop[16];
    char nc[16];
    char opaque[128];
    char userhash[8];
};

/* Parse an Authorization header value. Returns 1 if it is a Digest header that parsed,
 * 0 if it is another scheme, -1 if it is malformed (syntax, duplicate or oversized
 * parameter). Unknown parameters are ignored (RFC 7616 3.4). */
int digest_parse(const char *header, struct digest_params *p);

struct digest_verifier;

/* realm and offer are copied (offer must hold at least one algorithm); nonce_lifetime in
 * seconds; max_nonces bounds the nonce table. NULL if the offer is empty or the random secret
 * could not be drawn. Free with digest_verifier_free. */
struct digest_verifier *digest_verifier_new(const char *realm, const struct digest_offer *offer,
                                            unsigned nonce_lifetime, size_t max_nonces);
void digest_verifier_free(struct digest_verifier *v);

/* Issue a fresh nonce (recorded in the table, evicting the least recently used entry when
 * full) into out. Returns 0, or -1 if no random bytes could be drawn. */
int digest_new_nonce(struct digest_verifier *v, time_t now, char out[DIGEST_NONCE_LEN + 1]);

/* A WWW-Authenticate value offering alg with nonce (stale=true if asked). The caller frees
 * it. */
char *digest_challenge(const struct digest_verifier *v, enum digest_alg alg, const char *nonce,
                       bool stale);
/* One challenge per offered algorithm, in the offer's order, into out (the caller frees
 * each). Returns how many, or 0 (nothing to free) if one could not be made. */
size_t digest_challenges(const struct digest_verifier *v, const char *nonce, bool stale,
                         char *out[DIGEST_ALG_COUNT]);

enum digest_result {
    DIGEST_OK = 0,
    DIGEST_MISSING,        /* no Authorization header, or not Digest */
    DIGEST_MALFORMED,      /* unparsable, or a required parameter is missing */
    DIGEST_BAD_PARAMETER,  /* qop other than auth, unknown algorithm, userhash, bad nc */
    DIGEST_WRONG_REALM,
    DIGEST_WRONG_USER,
    DIGEST_URI_MISMATCH,   /* uri is not the request-target */
    DIGEST_BAD_NONCE,      /* not one of ours (MAC) */
    DIGEST_WRONG_RESPONSE, /* wrong password (or anything else hashed) */
    DIGEST_STALE,          /* right credentials, expired or forgotten nonce */
    DIGEST_REPLAY,         /* right credentials, nc not greater than one already seen */
    DIGEST_NOT_OFFERED,    /* algorithm (MD5 when absent) is not one this verifier offers */
    DIGEST_ALG_MISMATCH,   /* the response is not as long as a digest of the algorithm named
                              (a client that hashed with another one) */
};

const char *digest_result_name(enum digest_result r);

/* Check one request: authorization is the header value (NULL if absent), method and uri
 * the request line's ("GET", the request-target exactly as received), username and
 * password the credentials expected. On DIGEST_OK the nonce-count is recorded. */
enum digest_result digest_verify(struct digest_verifier *v, const char *authorization,
                                 const char *method, const char *uri, const char *username,
                                 const char *password, time_t now);

#endif
