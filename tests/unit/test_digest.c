/*
 * test_digest.c: the digest verifier of HTTP connection requests (proxier/connreq/digest.c;
 * TR-069 3.2.2.2, 3.4.5; RFC 2617, RFC 7616): the RFC example vectors, header parsing,
 * nonce-count replay, stale nonces, uri binding, forged and forgotten nonces, and the offer:
 * which algorithms are challenged, in which order, and that only those are accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/connreq/digest.h"

#define REALM "proxierd"
#define USER "cruser"
#define PASS "crpass"
#define URI "/0123456789abcdef"
#define T0 ((time_t)1700000000)

static const struct digest_offer ALL = {
    {DIGEST_MD5, DIGEST_MD5_SESS, DIGEST_SHA256, DIGEST_SHA256_SESS}, 4};
static const struct digest_offer MD5_ONLY = {{DIGEST_MD5}, 1};

/* ---- RFC vectors ---- */

static void test_rfc2617_md5_vector(void **state)
{
    char out[DIGEST_HEX_MAX];
    assert_int_equal(digest_response(DIGEST_MD5, "Mufasa", "testrealm@host.com",
                                     "Circle Of Life", "GET", "/dir/index.html",
                                     "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
                                     "0a4f113b", out),
                     0);
    assert_string_equal(out, "6629fae49393a05397450978507c4ef1"); /* RFC 2617 3.5 */
}

static void test_rfc7616_md5_and_sha256_vectors(void **state)
{
    static const char nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    static const char cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    char out[DIGEST_HEX_MAX];
    assert_int_equal(digest_response(DIGEST_MD5, "Mufasa", "http-auth@example.org",
                                     "Circle of Life", "GET", "/dir/index.html", nonce,
                                     "00000001", cnonce, out),
                     0);
    assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec"); /* RFC 7616 3.9.1 */
    assert_int_equal(digest_response(DIGEST_SHA256, "Mufasa", "http-auth@example.org",
                                     "Circle of Life", "GET", "/dir/index.html", nonce,
                                     "00000001", cnonce, out),
                     0);
    assert_string_equal(out, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void test_md5_sess_vector(void **state)
{
    /* H(H(u:r:p):N:C) as HA1 (RFC 2617 3.2.2.2); value from Python's hashlib */
    char out[DIGEST_HEX_MAX];
    assert_int_equal(
        digest_response(DIGEST_MD5_SESS, "u", "r", "p", "GET", "/x", "N", "00000001", "C", out),
        0);
    assert_string_equal(out, "788ad15034a6ad9289524125c81f7b88");
}

static void test_algorithm_names(void **state)
{
    assert_int_equal(digest_alg_parse("md5"), DIGEST_MD5);
    assert_int_equal(digest_alg_parse("MD5-sess"), DIGEST_MD5_SESS);
    assert_int_equal(digest_alg_parse("SHA-256"), DIGEST_SHA256);
    assert_int_equal(digest_alg_parse("SHA-512-256"), -1);
    assert_string_equal(digest_alg_name(DIGEST_SHA256_SESS), "SHA-256-sess");
}

/* ---- Parsing ---- */

static void test_parse_quoted_token_and_escapes(void **state)
{
    struct digest_params p;
    assert_int_equal(digest_parse("Digest username=\"a\\\"b\", realm=\"r\",nonce=\"n\", "
                                  "uri=\"/p?q=1\", response=\"ab\", algorithm=SHA-256, "
                                  "qop=auth, nc=00000001, cnonce=\"c\", foo=bar",
                                  &p),
                     1);
    assert_string_equal(p.username, "a\"b");
    assert_string_equal(p.uri, "/p?q=1");
    assert_string_equal(p.algorithm, "SHA-256");
    assert_string_equal(p.qop, "auth");
    assert_string_equal(p.nc, "00000001");
}

static void test_parse_rejects_bad_headers(void **state)
{
    struct digest_params p;
    assert_int_equal(digest_parse("Basic dXNlcjpwYXNz", &p), 0);
    assert_int_equal(digest_parse("Digestive x=1", &p), 0);
    assert_int_equal(digest_parse("Digest username=\"a\", username=\"b\"", &p), -1);
    assert_int_equal(digest_parse("Digest username=\"unterminated", &p), -1);
    assert_int_equal(digest_parse("Digest username", &p), -1);
    assert_int_equal(digest_parse("Digest a=1 b=2", &p), -1);
    char big[600];
    snprintf(big, sizeof(big), "Digest username=\"%0500d\"", 0);
    assert_int_equal(digest_parse(big, &p), -1);
}

/* ---- Verification ---- */

struct fixture {
    struct digest_verifier *v;
    char nonce[DIGEST_NONCE_LEN + 1];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->v = digest_verifier_new(REALM, &ALL, 300, 64);
    assert_non_null(f->v);
    assert_int_equal(digest_new_nonce(f->v, T0, f->nonce), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    digest_verifier_free(f->v);
    free(f);
    return 0;
}

/* An Authorization header as a client computes it: response over signed_uri, uri field
 * uri_field. */
static void client_header(char *out, size_t size, enum digest_alg alg, const char *user,
                          const char *pass, const char *realm, const char *signed_uri,
                          const char *uri_field, const char *nonce, unsigned nc)
{
    char ncs[9], resp[DIGEST_HEX_MAX];
    snprintf(ncs, sizeof(ncs), "%08x", nc);
    assert_int_equal(
        digest_response(alg, user, realm, pass, "GET", signed_uri, nonce, ncs, "cn0", resp), 0);
    snprintf(out, size,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", algorithm=%s, "
             "qop=auth, nc=%s, cnonce=\"cn0\", response=\"%s\"",
             user, realm, nonce, uri_field, digest_alg_name(alg), ncs, resp);
}

static enum digest_result check(struct fixture *f, enum digest_alg alg, const char *pass,
                                unsigned nc, time_t now)
{
    char h[1024];
    client_header(h, sizeof(h), alg, USER, pass, REALM, URI, URI, f->nonce, nc);
    return digest_verify(f->v, h, "GET", URI, USER, PASS, now);
}

static void test_every_algorithm_is_accepted(void **state)
{
    struct fixture *f = *state;
    for (int alg = DIGEST_MD5; alg <= DIGEST_SHA256_SESS; alg++) {
        char nonce[DIGEST_NONCE_LEN + 1];
        assert_int_equal(digest_new_nonce(f->v, T0, nonce), 0);
        char h[1024];
        client_header(h, sizeof(h), alg, USER, PASS, REALM, URI, URI, nonce, 1);
        assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0 + 1), DIGEST_OK);
    }
}

static void test_nonce_count_replay_is_refused(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(check(f, DIGEST_MD5, PASS, 1, T0), DIGEST_OK);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 1, T0), DIGEST_REPLAY); /* same header */
    assert_int_equal(check(f, DIGEST_MD5, PASS, 2, T0), DIGEST_OK);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 5, T0), DIGEST_OK);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 3, T0), DIGEST_REPLAY); /* not greater */
}

static void test_wrong_password_costs_no_nonce_count(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(check(f, DIGEST_MD5, "guess", 1, T0), DIGEST_WRONG_RESPONSE);
    assert_int_equal(check(f, DIGEST_SHA256, "guess", 2, T0), DIGEST_WRONG_RESPONSE);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 1, T0), DIGEST_OK);
}

static void test_expired_nonce_is_stale_only_with_right_credentials(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(check(f, DIGEST_MD5, PASS, 1, T0 + 300), DIGEST_OK);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 2, T0 + 301), DIGEST_STALE);
    assert_int_equal(check(f, DIGEST_MD5, "guess", 3, T0 + 301), DIGEST_WRONG_RESPONSE);
    assert_int_equal(check(f, DIGEST_MD5, PASS, 3, T0 - 5), DIGEST_STALE); /* clock went back */
}

static void test_uri_is_bound_to_the_request(void **state)
{
    struct fixture *f = *state;
    char h[1024];
    /* signed for another path and honest about it */
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, "/other", "/other", f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_URI_MISMATCH);
    /* signed for another path, claiming this one */
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, "/other", URI, f->nonce, 2);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_WRONG_RESPONSE);
    /* a query is part of the request-target */
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, f->nonce, 3);
    assert_int_equal(digest_verify(f->v, h, "GET", URI "?x=1", USER, PASS, T0),
                     DIGEST_URI_MISMATCH);
}

static void test_identity_and_parameters_are_checked(void **state)
{
    struct fixture *f = *state;
    char h[1024];
    client_header(h, sizeof(h), DIGEST_MD5, "intruder", PASS, REALM, URI, URI, f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_WRONG_USER);
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, "elsewhere", URI, URI, f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_WRONG_REALM);
    assert_int_equal(digest_verify(f->v, NULL, "GET", URI, USER, PASS, T0), DIGEST_MISSING);
    assert_int_equal(digest_verify(f->v, "Basic Y3J1c2VyOmNycGFzcw==", "GET", URI, USER, PASS,
                                   T0),
                     DIGEST_MISSING);
    char bad[1100];
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, f->nonce, 1);
    snprintf(bad, sizeof(bad), "%s", h);
    memcpy(strstr(bad, "qop=auth"), "qop=xxxx", 8);
    assert_int_equal(digest_verify(f->v, bad, "GET", URI, USER, PASS, T0), DIGEST_BAD_PARAMETER);
    snprintf(bad, sizeof(bad), "%s", h);
    memcpy(strstr(bad, "nc=00000001"), "nc=0000000g", 11);
    assert_int_equal(digest_verify(f->v, bad, "GET", URI, USER, PASS, T0), DIGEST_BAD_PARAMETER);
    snprintf(bad, sizeof(bad), "%s", h);
    *strstr(bad, ", cnonce") = '\0';
    assert_int_equal(digest_verify(f->v, bad, "GET", URI, USER, PASS, T0), DIGEST_MALFORMED);
    /* all of the above left the nonce unused */
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
}

static void test_forged_nonce_is_refused(void **state)
{
    struct fixture *f = *state;
    char forged[DIGEST_NONCE_LEN + 1];
    memcpy(forged, f->nonce, sizeof(forged));
    forged[20] = forged[20] == '0' ? '1' : '0'; /* random part changed: MAC fails */
    char h[1024];
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, forged, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_BAD_NONCE);
    /* a nonce of another daemon (another secret) */
    struct digest_verifier *other = digest_verifier_new(REALM, &ALL, 300, 16);
    char theirs[DIGEST_NONCE_LEN + 1];
    digest_new_nonce(other, T0, theirs);
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, theirs, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_BAD_NONCE);
    assert_int_equal(digest_verify(other, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
    digest_verifier_free(other);
}

static void test_forgotten_nonce_is_stale_never_fresh(void **state)
{
    struct digest_verifier *v = digest_verifier_new(REALM, &ALL, 300, 16);
    char first[DIGEST_NONCE_LEN + 1], later[DIGEST_NONCE_LEN + 1], h[1024];
    digest_new_nonce(v, T0, first);
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, first, 1);
    assert_int_equal(digest_verify(v, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
    for (int i = 0; i < 16; i++) /* a flood of challenges pushes it out of the table */
        digest_new_nonce(v, T0, later);
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, first, 2);
    assert_int_equal(digest_verify(v, h, "GET", URI, USER, PASS, T0), DIGEST_STALE);
    digest_verifier_free(v);
}

static void test_many_clients_with_independent_nonces(void **state)
{
    struct fixture *f = *state;
    enum { N = 20 };
    char nonces[N][DIGEST_NONCE_LEN + 1], h[1024];
    for (int i = 0; i < N; i++)
        digest_new_nonce(f->v, T0, nonces[i]);
    for (int round = 1; round <= 2; round++)
        for (int i = N - 1; i >= 0; i--) { /* interleaved, answered in any order */
            client_header(h, sizeof(h), i % 2 ? DIGEST_SHA256 : DIGEST_MD5, USER, PASS, REALM,
                          URI, URI, nonces[i], (unsigned)round);
            assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
        }
}

static void test_challenge_text(void **state)
{
    struct fixture *f = *state;
    char *c = digest_challenge(f->v, DIGEST_MD5, f->nonce, false);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "Digest realm=\"proxierd\", qop=\"auth\", algorithm=MD5, nonce=\"%s\"", f->nonce);
    assert_string_equal(c, expected);
    free(c);
    c = digest_challenge(f->v, DIGEST_SHA256, f->nonce, true);
    assert_non_null(strstr(c, "algorithm=SHA-256"));
    assert_non_null(strstr(c, ", stale=true"));
    free(c);
    assert_int_equal(strlen(f->nonce), DIGEST_NONCE_LEN);
}

/* ---- The offer: connection_request.digest_algorithms ---- */

static void test_offer_parse(void **state)
{
    struct digest_offer o;
    assert_int_equal(digest_offer_parse("MD5", &o), 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.algs[0], DIGEST_MD5);
    assert_int_equal(digest_offer_parse(" sha-256 ,MD5 ", &o), 0);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.algs[0], DIGEST_SHA256);
    assert_int_equal(o.algs[1], DIGEST_MD5);
    assert_int_equal(digest_offer_parse("MD5,MD5-sess,SHA-256,SHA-256-sess", &o), 0);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.algs[3], DIGEST_SHA256_SESS);
}

static void test_offer_parse_refuses_bad_lists(void **state)
{
    struct digest_offer o;
    assert_int_equal(digest_offer_parse("", &o), -1);
    assert_non_null(strstr(px_err_msg(), "is empty"));
    assert_int_equal(digest_offer_parse("  ", &o), -1);
    assert_int_equal(digest_offer_parse("MD5,", &o), -1);
    assert_non_null(strstr(px_err_msg(), "\"\" in \"MD5,\" is not a digest algorithm"));
    assert_int_equal(digest_offer_parse(",MD5", &o), -1);
    assert_int_equal(digest_offer_parse("MD5,SHA-1", &o), -1);
    assert_non_null(strstr(px_err_msg(), "\"SHA-1\" in \"MD5,SHA-1\""));
    assert_int_equal(digest_offer_parse("SHA-256-sess-and-then-some", &o), -1);
    assert_int_equal(digest_offer_parse("MD5, SHA-256, md5", &o), -1);
    assert_non_null(strstr(px_err_msg(), "MD5 is named twice"));
    struct digest_offer empty = {{DIGEST_MD5}, 0};
    assert_null(digest_verifier_new(REALM, &empty, 300, 16));
}

static void test_challenges_follow_the_offer(void **state)
{
    struct digest_offer o;
    assert_int_equal(digest_offer_parse("SHA-256,MD5", &o), 0);
    struct digest_verifier *v = digest_verifier_new(REALM, &o, 300, 16);
    char nonce[DIGEST_NONCE_LEN + 1], *c[DIGEST_ALG_COUNT];
    digest_new_nonce(v, T0, nonce);
    assert_int_equal(digest_challenges(v, nonce, false, c), 2);
    assert_non_null(strstr(c[0], "algorithm=SHA-256,"));
    assert_non_null(strstr(c[1], "algorithm=MD5,"));
    assert_non_null(strstr(c[1], nonce)); /* one nonce for both */
    free(c[0]);
    free(c[1]);
    digest_verifier_free(v);
    v = digest_verifier_new(REALM, &MD5_ONLY, 300, 16);
    assert_int_equal(digest_challenges(v, nonce, true, c), 1);
    assert_non_null(strstr(c[0], "algorithm=MD5,"));
    assert_non_null(strstr(c[0], ", stale=true"));
    free(c[0]);
    digest_verifier_free(v);
}

/* A verifier offering offer, one fresh nonce, one header of alg: the verdict. */
static enum digest_result verify_with_offer(const struct digest_offer *offer, enum digest_alg alg)
{
    struct digest_verifier *v = digest_verifier_new(REALM, offer, 300, 16);
    char nonce[DIGEST_NONCE_LEN + 1], h[1024];
    digest_new_nonce(v, T0, nonce);
    client_header(h, sizeof(h), alg, USER, PASS, REALM, URI, URI, nonce, 1);
    enum digest_result r = digest_verify(v, h, "GET", URI, USER, PASS, T0);
    digest_verifier_free(v);
    return r;
}

static void test_only_offered_algorithms_are_accepted(void **state)
{
    assert_int_equal(verify_with_offer(&MD5_ONLY, DIGEST_MD5), DIGEST_OK);
    assert_int_equal(verify_with_offer(&MD5_ONLY, DIGEST_SHA256), DIGEST_NOT_OFFERED);
    assert_int_equal(verify_with_offer(&MD5_ONLY, DIGEST_MD5_SESS), DIGEST_NOT_OFFERED);
    struct digest_offer sha = {{DIGEST_SHA256}, 1};
    assert_int_equal(verify_with_offer(&sha, DIGEST_SHA256), DIGEST_OK);
    assert_int_equal(verify_with_offer(&sha, DIGEST_MD5), DIGEST_NOT_OFFERED); /* no downgrade */
    assert_int_equal(verify_with_offer(&sha, DIGEST_SHA256_SESS), DIGEST_NOT_OFFERED);
    struct digest_offer sess = {{DIGEST_MD5_SESS}, 1};
    assert_int_equal(verify_with_offer(&sess, DIGEST_MD5_SESS), DIGEST_OK);
}

/* Without algorithm= the client means MD5 (RFC 7616 3.4): accepted only where MD5 is
 * offered. */
static void test_absent_algorithm_means_md5(void **state)
{
    struct digest_offer offers[] = {MD5_ONLY, {{DIGEST_SHA256}, 1}};
    enum digest_result expected[] = {DIGEST_OK, DIGEST_NOT_OFFERED};
    for (size_t i = 0; i < 2; i++) {
        struct digest_verifier *v = digest_verifier_new(REALM, &offers[i], 300, 16);
        char nonce[DIGEST_NONCE_LEN + 1], h[1024];
        digest_new_nonce(v, T0, nonce);
        client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, nonce, 1);
        char *alg = strstr(h, " algorithm=MD5,");
        memmove(alg, alg + strlen(" algorithm=MD5,"), strlen(alg + strlen(" algorithm=MD5,")) + 1);
        assert_null(strstr(h, "algorithm"));
        assert_int_equal(digest_verify(v, h, "GET", URI, USER, PASS, T0), expected[i]);
        digest_verifier_free(v);
    }
}

/* An Authorization hashed with one algorithm and naming another, written the way GenieACS
 * writes it (no blanks after the commas). */
static void mislabelled_header(char *out, size_t size, enum digest_alg hashed_with,
                               const char *named, const char *nonce, unsigned nc)
{
    char ncs[9], resp[DIGEST_HEX_MAX];
    snprintf(ncs, sizeof(ncs), "%08x", nc);
    assert_int_equal(
        digest_response(hashed_with, USER, REALM, PASS, "GET", URI, nonce, ncs, "cn0", resp), 0);
    snprintf(out, size,
             "Digest username=\"%s\",realm=\"%s\",nonce=\"%s\",uri=\"%s\",algorithm=%s,"
             "qop=auth,nc=%s,cnonce=\"cn0\",response=\"%s\"",
             USER, REALM, nonce, URI, named, ncs, resp);
}

/* The GenieACS case (docs/operations.md): it read algorithm=SHA-256 from the last challenge,
 * echoes it, and hashes with MD5, its only algorithm. Refused, named, nonce left unused. */
static void test_md5_response_named_sha256_is_refused(void **state)
{
    struct fixture *f = *state;
    char h[1024];
    mislabelled_header(h, sizeof(h), DIGEST_MD5, "SHA-256", f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_ALG_MISMATCH);
    assert_string_equal(digest_result_name(DIGEST_ALG_MISMATCH),
                        "response not computed with the algorithm named");
    /* a SHA-256 response named MD5 */
    mislabelled_header(h, sizeof(h), DIGEST_SHA256, "MD5", f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_ALG_MISMATCH);
    /* the same kind of header, hashed as named, is fine: the failures cost no nonce-count */
    mislabelled_header(h, sizeof(h), DIGEST_MD5, "MD5", f->nonce, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc2617_md5_vector),
        cmocka_unit_test(test_rfc7616_md5_and_sha256_vectors),
        cmocka_unit_test(test_md5_sess_vector),
        cmocka_unit_test(test_algorithm_names),
        cmocka_unit_test(test_parse_quoted_token_and_escapes),
        cmocka_unit_test(test_parse_rejects_bad_headers),
        cmocka_unit_test_setup_teardown(test_every_algorithm_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonce_count_replay_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_costs_no_nonce_count, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expired_nonce_is_stale_only_with_right_credentials,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_is_bound_to_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_and_parameters_are_checked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_forged_nonce_is_refused, setup, teardown),
        cmocka_unit_test(test_forgotten_nonce_is_stale_never_fresh),
        cmocka_unit_test_setup_teardown(test_many_clients_with_independent_nonces, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_challenge_text, setup, teardown),
        cmocka_unit_test(test_offer_parse),
        cmocka_unit_test(test_offer_parse_refuses_bad_lists),
        cmocka_unit_test(test_challenges_follow_the_offer),
        cmocka_unit_test(test_only_offered_algorithms_are_accepted),
        cmocka_unit_test(test_absent_algorithm_means_md5),
        cmocka_unit_test_setup_teardown(test_md5_response_named_sha256_is_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
