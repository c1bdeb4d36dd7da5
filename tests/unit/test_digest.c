/*
 * test_digest.c: the digest verifier of HTTP connection requests (proxier/connreq/digest.c;
 * TR-069 3.2.2.2, 3.4.5; RFC 2617, RFC 7616): the RFC example vectors, header parsing,
 * nonce-count replay, stale nonces, uri binding, forged and forgotten nonces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/connreq/digest.h"

#define REALM "proxierd"
#define USER "cruser"
#define PASS "crpass"
#define URI "/0123456789abcdef"
#define T0 ((time_t)1700000000)

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
    f->v = digest_verifier_new(REALM, 300, 64);
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
    struct digest_verifier *other = digest_verifier_new(REALM, 300, 16);
    char theirs[DIGEST_NONCE_LEN + 1];
    digest_new_nonce(other, T0, theirs);
    client_header(h, sizeof(h), DIGEST_MD5, USER, PASS, REALM, URI, URI, theirs, 1);
    assert_int_equal(digest_verify(f->v, h, "GET", URI, USER, PASS, T0), DIGEST_BAD_NONCE);
    assert_int_equal(digest_verify(other, h, "GET", URI, USER, PASS, T0), DIGEST_OK);
    digest_verifier_free(other);
}

static void test_forgotten_nonce_is_stale_never_fresh(void **state)
{
    struct digest_verifier *v = digest_verifier_new(REALM, 300, 16);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
