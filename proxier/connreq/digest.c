/*
 * digest.c: HTTP Digest authentication, server side (RFC 2617, RFC 7616) for connection
 * requests (TR-069 3.2.2.2, 3.4.5). See digest.h for the design: stateless nonce MAC and
 * expiry, a bounded LRU table of nonce-counts against replay, constant-time comparison.
 */
#include "proxier/connreq/digest.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "proxier/common/err.h"

#define NONCE_TIME_BYTES 8
#define NONCE_RANDOM_BYTES 16
#define NONCE_MAC_BYTES 16
#define NONCE_BYTES (NONCE_TIME_BYTES + NONCE_RANDOM_BYTES + NONCE_MAC_BYTES)
#define SECRET_BYTES 32

struct nonce_entry {
    unsigned char id[NONCE_RANDOM_BYTES];
    unsigned long nc_max;  /* highest nonce-count accepted, 0 = none yet */
    unsigned long long used; /* LRU tick; 0 = free slot */
};

struct digest_verifier {
    char *realm;
    struct digest_offer offer;
    unsigned lifetime;
    unsigned char secret[SECRET_BYTES];
    struct nonce_entry *table;
    size_t size;
    unsigned long long tick;
};

static const char *const alg_names[] = {"MD5", "MD5-sess", "SHA-256", "SHA-256-sess"};

const char *digest_alg_name(enum digest_alg alg)
{
    return alg <= DIGEST_SHA256_SESS ? alg_names[alg] : "?";
}

int digest_alg_parse(const char *name)
{
    for (int i = 0; i <= DIGEST_SHA256_SESS; i++)
        if (!strcasecmp(name, alg_names[i]))
            return i;
    return -1;
}

static bool offered(const struct digest_offer *offer, enum digest_alg alg)
{
    for (size_t i = 0; i < offer->n; i++)
        if (offer->algs[i] == alg)
            return true;
    return false;
}

int digest_offer_parse(const char *list, struct digest_offer *out)
{
    out->n = 0;
    if (!list[strspn(list, " \t")])
        return px_err_set(-1, "the list of digest algorithms is empty");
    for (const char *s = list;; s++) {
        size_t len = strcspn(s, ",");
        const char *name = s + strspn(s, " \t");
        int n = (int)(len - (size_t)(name - s));
        while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
            n--;
        char text[16] = ""; /* stays "" (unknown) for an empty or overlong name */
        if (n < (int)sizeof(text))
            memcpy(text, name, (size_t)n);
        int alg = digest_alg_parse(text);
        if (alg < 0)
            return px_err_set(-1, "\"%.*s\" in \"%s\" is not a digest algorithm (MD5, "
                              "MD5-sess, SHA-256, SHA-256-sess)", n, name, list);
        if (offered(out, (enum digest_alg)alg))
            return px_err_set(-1, "digest algorithm %s is named twice in \"%s\"",
                              alg_names[alg], list);
        out->algs[out->n++] = (enum digest_alg)alg;
        s += len;
        if (!*s)
            return 0;
    }
}

const char *digest_result_name(enum digest_result r)
{
    static const char *const names[] = {
        "ok",          "no credentials", "malformed",        "unsupported parameter",
        "wrong realm", "wrong username", "uri mismatch",     "unknown nonce",
        "wrong response", "stale nonce", "replayed nonce count",
        "algorithm not offered", "response not computed with the algorithm named",
    };
    return r <= DIGEST_ALG_MISMATCH ? names[r] : "?";
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* we issue lower case only */
}

static int from_hex(const char *in, unsigned char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_digit(in[2 * i]), lo = hi < 0 ? -1 : hex_digit(in[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* ---- The request-digest (RFC 7616 3.4.1) ---- */

/* hex(H(a ":" b ":" c ...)) of the NULL-terminated parts. */
static int hash_parts(const EVP_MD *md, char out[DIGEST_HEX_MAX], const char *const *parts)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);
    for (size_t i = 0; ok && parts[i]; i++)
        ok = (i == 0 || EVP_DigestUpdate(ctx, ":", 1)) &&
             EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    ok = ok && EVP_DigestFinal_ex(ctx, raw, &len) && len * 2 < DIGEST_HEX_MAX;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    to_hex(raw, len, out);
    return 0;
}

int digest_response(enum digest_alg alg, const char *username, const char *realm,
                    const char *password, const char *method, const char *uri,
                    const char *nonce, const char *nc, const char *cnonce,
                    char out[DIGEST_HEX_MAX])
{
    const EVP_MD *md = (alg == DIGEST_MD5 || alg == DIGEST_MD5_SESS) ? EVP_md5() : EVP_sha256();
    char ha1[DIGEST_HEX_MAX], ha2[DIGEST_HEX_MAX];
    if (hash_parts(md, ha1, (const char *[]){username, realm, password, NULL}) != 0)
        return -1;
    if ((alg == DIGEST_MD5_SESS || alg == DIGEST_SHA256_SESS) &&
        hash_parts(md, ha1, (const char *[]){ha1, nonce, cnonce, NULL}) != 0)
        return -1;
    if (hash_parts(md, ha2, (const char *[]){method, uri, NULL}) != 0)
        return -1;
    return hash_parts(md, out, (const char *[]){ha1, nonce, nc, cnonce, "auth", ha2, NULL});
}

/* ---- Authorization header parsing (RFC 7616 3.4, RFC 7235 2.1 auth-param) ---- */

struct field {
    const char *name;
    size_t offset, size;
};

#define FIELD(f) {#f, offsetof(struct digest_params, f), sizeof(((struct digest_params *)0)->f)}
static const struct field fields[] = {
    FIELD(username), FIELD(realm), FIELD(nonce),  FIELD(uri),    FIELD(response), FIELD(algorithm),
    FIELD(cnonce),   FIELD(qop),   FIELD(nc),     FIELD(opaque), FIELD(userhash),
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* A token or quoted-string at s into out (size bytes); returns the end, NULL if invalid
 * or too long. */
static const char *parse_value(const char *s, char *out, size_t size)
{
    size_t n = 0;
    if (*s != '"') {
        while (is_tchar(*s) || *s == '/' || *s == ':') { /* lenient: uri and nc unquoted */
            if (n + 1 >= size)
                return NULL;
            out[n++] = *s++;
        }
        out[n] = '\0';
        return n ? s : NULL;
    }
    for (s++; *s != '"'; s++) {
        if (*s == '\\')
            s++;
        if (*s == '\0' || n + 1 >= size)
            return NULL;
        out[n++] = *s;
    }
    out[n] = '\0';
    return s + 1;
}

int digest_parse(const char *header, struct digest_params *p)
{
    memset(p, 0, sizeof(*p));
    const char *s = skip_ows(header);
    if (strncasecmp(s, "Digest", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
        return 0;
    bool seen[N_FIELDS] = {false};
    char name[32], scratch[64];
    for (s = skip_ows(s + 6); *s;) {
        size_t n = 0;
        while (is_tchar(*s) && n + 1 < sizeof(name))
            name[n++] = *s++;
        name[n] = '\0';
        s = skip_ows(s);
        if (!n || *s++ != '=')
            return -1;
        s = skip_ows(s);
        const struct field *f = NULL;
        for (size_t i = 0; i < N_FIELDS && !f; i++)
            if (!strcasecmp(name, fields[i].name)) {
                if (seen[i])
                    return -1;
                seen[i] = true;
                f = &fields[i];
            }
        s = f ? parse_value(s, (char *)p + f->offset, f->size)
              : parse_value(s, scratch, sizeof(scratch));
        if (!s)
            return -1;
        s = skip_ows(s);
        if (*s == ',')
            s = skip_ows(s + 1);
        else if (*s)
            return -1;
    }
    return 1;
}

/* ---- Nonces ---- */

struct digest_verifier *digest_verifier_new(const char *realm, const struct digest_offer *offer,
                                            unsigned nonce_lifetime, size_t max_nonces)
{
    if (!offer->n || offer->n > DIGEST_ALG_COUNT)
        return NULL;
    struct digest_verifier *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->offer = *offer;
    v->realm = strdup(realm);
    v->lifetime = nonce_lifetime;
    v->size = max_nonces ? max_nonces : 1;
    v->table = calloc(v->size, sizeof(*v->table));
    if (!v->realm || !v->table || RAND_bytes(v->secret, sizeof(v->secret)) != 1) {
        digest_verifier_free(v);
        return NULL;
    }
    return v;
}

void digest_verifier_free(struct digest_verifier *v)
{
    if (!v)
        return;
    OPENSSL_cleanse(v->secret, sizeof(v->secret));
    free(v->realm);
    free(v->table);
    free(v);
}

static void nonce_mac(const struct digest_verifier *v, const unsigned char *msg,
                      unsigned char mac[NONCE_MAC_BYTES])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), v->secret, sizeof(v->secret), msg, NONCE_TIME_BYTES + NONCE_RANDOM_BYTES,
         full, &len);
    memcpy(mac, full, NONCE_MAC_BYTES);
}

static struct nonce_entry *table_find(struct digest_verifier *v, const unsigned char *id)
{
    for (size_t i = 0; i < v->size; i++)
        if (v->table[i].used && !memcmp(v->table[i].id, id, NONCE_RANDOM_BYTES))
            return &v->table[i];
    return NULL;
}

/* A free slot, or the least recently used one. */
static struct nonce_entry *table_slot(struct digest_verifier *v)
{
    struct nonce_entry *lru = &v->table[0];
    for (size_t i = 0; i < v->size && lru->used; i++)
        if (v->table[i].used < lru->used)
            lru = &v->table[i];
    return lru;
}

int digest_new_nonce(struct digest_verifier *v, time_t now, char out[DIGEST_NONCE_LEN + 1])
{
    unsigned char raw[NONCE_BYTES];
    uint64_t t = (uint64_t)now;
    for (int i = 0; i < NONCE_TIME_BYTES; i++)
        raw[i] = (unsigned char)(t >> (8 * (NONCE_TIME_BYTES - 1 - i)));
    if (RAND_bytes(raw + NONCE_TIME_BYTES, NONCE_RANDOM_BYTES) != 1)
        return -1;
    nonce_mac(v, raw, raw + NONCE_TIME_BYTES + NONCE_RANDOM_BYTES);
    struct nonce_entry *e = table_slot(v);
    memcpy(e->id, raw + NONCE_TIME_BYTES, NONCE_RANDOM_BYTES);
    e->nc_max = 0;
    e->used = ++v->tick;
    to_hex(raw, NONCE_BYTES, out);
    return 0;
}

/* Whether text can go inside a quoted-string as is (our realm and nonces always can). */
static bool quotable(const char *text)
{
    return !strpbrk(text, "\"\\\r\n");
}

char *digest_challenge(const struct digest_verifier *v, enum digest_alg alg, const char *nonce,
                       bool stale)
{
    if (!quotable(v->realm) || !quotable(nonce))
        return NULL;
    char *out = NULL;
    if (asprintf(&out, "Digest realm=\"%s\", qop=\"auth\", algorithm=%s, nonce=\"%s\"%s",
                 v->realm, digest_alg_name(alg), nonce, stale ? ", stale=true" : "") < 0)
        return NULL;
    return out;
}

size_t digest_challenges(const struct digest_verifier *v, const char *nonce, bool stale,
                         char *out[DIGEST_ALG_COUNT])
{
    for (size_t i = 0; i < v->offer.n; i++)
        if (!(out[i] = digest_challenge(v, v->offer.algs[i], nonce, stale))) {
            while (i)
                free(out[--i]);
            return 0;
        }
    return v->offer.n;
}

/* Decode and authenticate a nonce: its issue time into *issued and its random part into id.
 * False if it is not one of ours. */
static bool nonce_open(const struct digest_verifier *v, const char *nonce, time_t *issued,
                       unsigned char id[NONCE_RANDOM_BYTES])
{
    unsigned char raw[NONCE_BYTES], mac[NONCE_MAC_BYTES];
    if (strlen(nonce) != DIGEST_NONCE_LEN || from_hex(nonce, raw, NONCE_BYTES) != 0)
        return false;
    nonce_mac(v, raw, mac);
    if (CRYPTO_memcmp(mac, raw + NONCE_TIME_BYTES + NONCE_RANDOM_BYTES, NONCE_MAC_BYTES) != 0)
        return false;
    uint64_t t = 0;
    for (int i = 0; i < NONCE_TIME_BYTES; i++)
        t = t << 8 | raw[i];
    *issued = (time_t)t;
    memcpy(id, raw + NONCE_TIME_BYTES, NONCE_RANDOM_BYTES);
    return true;
}

/* ---- Verification ---- */

/* The nonce-count: exactly 8 hex digits (RFC 7616 3.4), not zero. */
static bool parse_nc(const char *text, unsigned long *nc)
{
    if (strlen(text) != 8 || strspn(text, "0123456789abcdefABCDEF") != 8)
        return false;
    *nc = strtoul(text, NULL, 16);
    return *nc != 0;
}

/* The checks that need no hashing, in the order a log reader expects. */
static enum digest_result check_fields(const struct digest_verifier *v,
                                       const struct digest_params *p, const char *uri,
                                       const char *username, int *alg, unsigned long *nc)
{
    if (!p->username[0] || !p->realm[0] || !p->nonce[0] || !p->uri[0] || !p->response[0] ||
        !p->cnonce[0] || !p->qop[0] || !p->nc[0])
        return DIGEST_MALFORMED;
    *alg = p->algorithm[0] ? digest_alg_parse(p->algorithm) : DIGEST_MD5;
    if (*alg < 0 || strcmp(p->qop, "auth") != 0 || !parse_nc(p->nc, nc) ||
        (p->userhash[0] && strcasecmp(p->userhash, "false") != 0))
        return DIGEST_BAD_PARAMETER;
    if (!offered(&v->offer, (enum digest_alg)*alg))
        return DIGEST_NOT_OFFERED;
    if (strcmp(p->realm, v->realm) != 0)
        return DIGEST_WRONG_REALM;
    if (strcmp(p->username, username) != 0)
        return DIGEST_WRONG_USER;
    if (strcmp(p->uri, uri) != 0)
        return DIGEST_URI_MISMATCH;
    return DIGEST_OK;
}

static bool response_matches(const struct digest_params *p, const char *expected)
{
    size_t n = strlen(expected);
    if (strlen(p->response) != n)
        return false;
    char given[DIGEST_HEX_MAX];
    for (size_t i = 0; i <= n; i++)
        given[i] = (char)tolower((unsigned char)p->response[i]);
    return CRYPTO_memcmp(given, expected, n) == 0;
}

enum digest_result digest_verify(struct digest_verifier *v, const char *authorization,
                                 const char *method, const char *uri, const char *username,
                                 const char *password, time_t now)
{
    struct digest_params p;
    int parsed = authorization ? digest_parse(authorization, &p) : 0;
    if (parsed <= 0)
        return parsed == 0 ? DIGEST_MISSING : DIGEST_MALFORMED;
    int alg;
    unsigned long nc;
    enum digest_result r = check_fields(v, &p, uri, username, &alg, &nc);
    if (r != DIGEST_OK)
        return r;
    time_t issued;
    unsigned char id[NONCE_RANDOM_BYTES];
    if (!nonce_open(v, p.nonce, &issued, id))
        return DIGEST_BAD_NONCE;
    char expected[DIGEST_HEX_MAX];
    if (digest_response(alg, username, v->realm, password, method, uri, p.nonce, p.nc, p.cnonce,
                        expected) != 0)
        return DIGEST_WRONG_RESPONSE;
    /* An MD5-long response under algorithm=SHA-256 (an ACS that read the SHA-256 challenge
     * but hashes with MD5 only): refused like any wrong response, named for the log. */
    if (strlen(p.response) != strlen(expected))
        return DIGEST_ALG_MISMATCH;
    if (!response_matches(&p, expected))
        return DIGEST_WRONG_RESPONSE;
    /* The credentials are right from here on: stale and replay are about the nonce. */
    struct nonce_entry *e = table_find(v, id);
    if (!e || now > issued + (time_t)v->lifetime || now < issued)
        return DIGEST_STALE;
    if (nc <= e->nc_max)
        return DIGEST_REPLAY;
    e->nc_max = nc;
    e->used = ++v->tick;
    return DIGEST_OK;
}
