/*
 * test_udp_cr.c: UDP connection-request datagrams (TR-069 G.2.2.3) and their validation and
 * authentication (G.2.1.4): parsing, the HMAC-SHA1 signature, the ts/id replay rules, and
 * the STUN keep-alive period (G.2.1.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proxier/connreq/udp_cr.h"

/* The computed vector of connection-requests.md 1.3 (openssl dgst -sha1 -hmac crpass). */
#define VECTOR_SIG "bf61f47e9d846e1d4434c99039a8470a33787318"

static int parse(const char *text, struct udp_cr_request *r)
{
    return udp_cr_parse(text, strlen(text), r);
}

static void test_genieacs_datagram_and_vector(void **state)
{
    (void)state;
    struct udp_cr_request r;
    const char *dgram = "GET http://10.1.1.1:8080?ts=1120673700&id=1234&un=CPE57689"
                        "&cn=XTGRWIPC6D3IPXS3&sig=" VECTOR_SIG " HTTP/1.1\r\n"
                        "Host: 10.1.1.1:8080\r\n\r\n";
    assert_int_equal(parse(dgram, &r), 0);
    assert_true(r.ts == 1120673700ULL);
    assert_string_equal(r.ts_text, "1120673700");
    assert_string_equal(r.id, "1234");
    assert_string_equal(r.un, "CPE57689");
    assert_string_equal(r.cn, "XTGRWIPC6D3IPXS3");
    char sig[UDP_CR_SIG_LEN + 1];
    udp_cr_signature("crpass", &r, sig);
    assert_string_equal(sig, VECTOR_SIG);
    struct udp_cr_replay fresh = {0};
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &fresh), UDP_CR_OK);
}

static void test_signature_is_case_insensitive_and_checked(void **state)
{
    (void)state;
    struct udp_cr_request r;
    assert_int_equal(parse("GET http://h?ts=1120673700&id=1234&un=CPE57689&cn=XTGRWIPC6D3IPXS3"
                           "&sig=BF61F47E9D846E1D4434C99039A8470A33787318 HTTP/1.1\r\n\r\n",
                           &r),
                     0);
    struct udp_cr_replay fresh = {0};
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &fresh), UDP_CR_OK);
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpasss", &fresh), UDP_CR_BAD_SIG);
    assert_int_equal(udp_cr_check(&r, "cpe57689", "crpass", &fresh), UDP_CR_WRONG_USER);
    assert_int_equal(udp_cr_check(&r, "", "crpass", &fresh), UDP_CR_WRONG_USER);
    r.cn[0] = 'Y'; /* the signature covers cn */
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &fresh), UDP_CR_BAD_SIG);
}

/* G.2.1.4: ts strictly greater, id different, both against the last accepted request. */
static void test_replay_rules(void **state)
{
    (void)state;
    struct udp_cr_request r;
    assert_int_equal(parse("GET http://h:1?ts=1120673700&id=1234&un=CPE57689&cn=XTGRWIPC6D3IPXS3"
                           "&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
                           &r),
                     0);
    struct udp_cr_replay last = {1120673700, "1"};
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &last), UDP_CR_OLD_TS);
    last.ts = 1120673701;
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &last), UDP_CR_OLD_TS);
    last.ts = 1120673699;
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &last), UDP_CR_OK);
    snprintf(last.id, sizeof(last.id), "1234");
    assert_int_equal(udp_cr_check(&r, "CPE57689", "crpass", &last), UDP_CR_SAME_ID);
    assert_string_equal(udp_cr_check_name(UDP_CR_SAME_ID), "same id");
}

/* x-www-form-urlencoded values are decoded before the signature is computed. */
static void test_percent_decoding(void **state)
{
    (void)state;
    struct udp_cr_request r;
    assert_int_equal(parse("GET HTTP://[::1]:7547/?cn=a%2Bb+c&un=us%65r%20x&ts=5&id=9&x=1"
                           "&sig=0000000000000000000000000000000000000000 HTTP/1.1\r\n"
                           "Host: x\r\nContent-Length: 3\r\n\r\nabc",
                           &r),
                     0);
    assert_string_equal(r.un, "user x");
    assert_string_equal(r.cn, "a+b c");
    char sig[UDP_CR_SIG_LEN + 1];
    udp_cr_signature("k", &r, sig);
    struct udp_cr_request same = r;
    snprintf(same.un, sizeof(same.un), "user x");
    char again[UDP_CR_SIG_LEN + 1];
    udp_cr_signature("k", &same, again);
    assert_string_equal(sig, again);
    memcpy(r.sig, sig, sizeof(sig));
    struct udp_cr_replay fresh = {0};
    assert_int_equal(udp_cr_check(&r, "user x", "k", &fresh), UDP_CR_OK);
}

static void test_malformed_datagrams(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "POST http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.0\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n",   /* no end */
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\n\n",   /* bare LF */
        "GET /?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",      /* relative */
        "GET https://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h/p?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n", /* path */
        "GET http://?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",    /* host */
        "GET http://h?id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",        /* no ts */
        "GET http://h?ts=1&ts=2&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=-1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=99999999999999999999&id=1&un=u&cn=c&sig=" VECTOR_SIG
        " HTTP/1.1\r\n\r\n", /* > 2^64 */
        "GET http://h?ts=1&id=x&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=bf61 HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=zf61f47e9d846e1d4434c99039a8470a33787318"
        " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u%0&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u%00&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG "#f HTTP/1.1\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\nBad header\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG " HTTP/1.1\r\n: x\r\n\r\n",
        "GET http://h?ts=1&id=1&un=u&cn=c&sig=" VECTOR_SIG "  HTTP/1.1\r\n\r\n",
        "",
    };
    struct udp_cr_request r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &r) != -1)
            fail_msg("accepted #%zu: %s", i, bad[i]);
    }
    /* bounds: a username longer than TR-181's string(256), a datagram over the limit */
    char big[UDP_CR_MAX_DATAGRAM + 64];
    int n = snprintf(big, sizeof(big), "GET http://h?ts=1&id=1&cn=c&sig=" VECTOR_SIG "&un=");
    memset(big + n, 'u', 257);
    snprintf(big + n + 257, sizeof(big) - (size_t)n - 257, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(big, &r), -1);
    big[n + 1] = '\0';
    snprintf(big + n + 1, sizeof(big) - (size_t)n - 1, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(big, &r), 0);
    memset(big, 'G', sizeof(big));
    assert_int_equal(udp_cr_parse(big, UDP_CR_MAX_DATAGRAM + 1, &r), -1);
}

/* G.2.1.2: never more often than Minimum; Maximum when given; a default otherwise. */
static void test_keepalive_period(void **state)
{
    (void)state;
    assert_int_equal(udp_cr_keepalive_period(0, -1), UDP_CR_DEFAULT_KEEPALIVE);
    assert_int_equal(udp_cr_keepalive_period(0, 0), UDP_CR_DEFAULT_KEEPALIVE);
    assert_int_equal(udp_cr_keepalive_period(10, -1), 10);
    assert_int_equal(udp_cr_keepalive_period(10, 60), 60);
    assert_int_equal(udp_cr_keepalive_period(1, 1), 1);
    assert_int_equal(udp_cr_keepalive_period(90, 60), 90);
}

/* Run the search against a NAT that keeps an idle binding timeout seconds; the periods
 * tested go into tested (0-terminated). Returns the period found. */
static unsigned search_against(long min, long max, unsigned timeout, unsigned *tested, size_t cap)
{
    struct udp_cr_search s;
    udp_cr_search_start(&s, min, max);
    size_t n = 0;
    for (unsigned t; (t = udp_cr_search_next(&s)) != 0;) {
        assert_true(n + 1 < cap); /* it ends */
        assert_true(t > s.held && t < s.lost);
        tested[n++] = t;
        udp_cr_search_result(&s, t, t <= timeout);
    }
    tested[n] = 0;
    return s.held;
}

/* G.2.1.2: doubling from the minimum until a loss, then halving the gap down to 1 s; the
 * result stays between STUNMinimumKeepAlivePeriod and STUNMaximumKeepAlivePeriod. */
static void test_binding_timeout_search(void **state)
{
    (void)state;
    unsigned t[32];
    assert_int_equal(search_against(1, 10, 2, t, 32), 2);
    assert_int_equal(t[0], 2);
    assert_int_equal(t[1], 4);
    assert_int_equal(t[2], 3);
    assert_int_equal(t[3], 0);

    assert_int_equal(search_against(5, 120, 47, t, 32), 47); /* 10 20 40 80 60 50 45 47 48 */
    static const unsigned seq[] = {10, 20, 40, 80, 60, 50, 45, 47, 48, 0};
    assert_memory_equal(t, seq, sizeof(seq));

    /* the maximum holds: it is tested and used, never exceeded */
    assert_int_equal(search_against(10, 30, 600, t, 32), 30);
    assert_int_equal(t[0], 20);
    assert_int_equal(t[1], 30);
    assert_int_equal(t[2], 0);
    /* even the minimum is lost: the minimum it is (G.2.1.2 forbids anything more often) */
    assert_int_equal(search_against(10, 30, 3, t, 32), 10);
    /* no maximum: up to the ceiling; Minimum 0 starts from 1 s */
    assert_int_equal(search_against(0, -1, 100000, t, 32), UDP_CR_SEARCH_CEILING);
    assert_int_equal(t[0], 2);
    assert_int_equal(search_against(0, -1, 29, t, 32), 29);
}

/* Monitoring: a loss of the found period restarts the search below it. */
static void test_binding_timeout_shrinks(void **state)
{
    (void)state;
    struct udp_cr_search s;
    udp_cr_search_start(&s, 1, 60);
    udp_cr_search_result(&s, 40, true);
    udp_cr_search_result(&s, 41, false);
    assert_int_equal(udp_cr_search_next(&s), 0);
    assert_int_equal(s.held, 40);
    udp_cr_search_result(&s, 40, true); /* a monitoring test that holds changes nothing */
    assert_int_equal(udp_cr_search_next(&s), 0);
    udp_cr_search_result(&s, 40, false); /* the NAT now forgets sooner */
    assert_int_equal(s.held, 1);
    assert_int_equal(udp_cr_search_next(&s), 20);
    for (unsigned t; (t = udp_cr_search_next(&s)) != 0;)
        udp_cr_search_result(&s, t, t <= 15);
    assert_int_equal(s.held, 15);
}

/* G.2.1.2 asks for discovery only when the bounds differ and leave a choice. */
static void test_binding_timeout_search_needed(void **state)
{
    (void)state;
    assert_true(udp_cr_search_needed(0, -1));
    assert_true(udp_cr_search_needed(1, 10));
    assert_true(udp_cr_search_needed(30, -1));
    assert_false(udp_cr_search_needed(10, 10));
    assert_false(udp_cr_search_needed(90, 60)); /* Min above Max: Min it is */
    assert_false(udp_cr_search_needed(0, 1));   /* 1 s is both the floor and the maximum */
    assert_false(udp_cr_search_needed(UDP_CR_SEARCH_CEILING, -1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genieacs_datagram_and_vector),
        cmocka_unit_test(test_signature_is_case_insensitive_and_checked),
        cmocka_unit_test(test_replay_rules),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_malformed_datagrams),
        cmocka_unit_test(test_keepalive_period),
        cmocka_unit_test(test_binding_timeout_search),
        cmocka_unit_test(test_binding_timeout_shrinks),
        cmocka_unit_test(test_binding_timeout_search_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
