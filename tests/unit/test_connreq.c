/*
 * test_connreq.c: the admission rule every connection-request transport obeys
 * (proxier/connreq/connreq.c, TR-069 3.2.2.1): accept, coalesce while the session is due,
 * one session after a running one, offline (Annex J.2.3), the per-endpoint token bucket that
 * only requests starting a session drain, the counters per transport and the rate-limited
 * warning of refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/log.h"
#include "proxier/connreq/connreq.h"
#include "proxier/connreq/http_cr.h"
#include "proxier/connreq/udp_cr.h"
#include "proxier/connreq/xmpp_cr.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"

struct fixture {
    struct px_config cfg;
    struct endpoint ep;
    struct connreq *cr;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.cfg.cr_rate_burst = 2;
    f.cfg.cr_rate_interval = 10;
    f.ep.key = "gateway";
    f.ep.env.cfg = &f.cfg;
    f.cr = connreq_new(NULL, &f.cfg);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    connreq_free(f->cr);
    log_ring_setup(0);
    return 0;
}

static enum cr_verdict admit(struct fixture *f, const struct connreq_transport *t)
{
    return connreq_admit(f->cr, t, &f->ep);
}

#define HTTP (&http_cr_transport)

/* The accepted session started (endpoint.c clears cr_pending then) and ended. */
static void session_done(struct endpoint *ep)
{
    ep->cr_pending = false;
}

static void test_accept_then_coalesce_while_pending(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    assert_true(f->ep.cr_pending);
    for (int i = 0; i < 5; i++) /* 3.2.2.1: success, but no additional session */
        assert_int_equal(admit(f, HTTP), CR_COALESCED);
    session_done(&f->ep);
    /* coalesced requests cost no token: the second one of the burst is still there */
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
}

/* 3.2.2.2 (b): during a session (also while it is being established) the first request is
 * accepted for one session after it, every further one is coalesced into that one. */
static void test_during_a_session_one_session_follows(void **state)
{
    struct fixture *f = *state;
    f->ep.session = (struct session *)&f->ep; /* any non-NULL: a session runs */
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    assert_true(f->ep.cr_pending);
    for (int i = 0; i < 10; i++)
        assert_int_equal(admit(f, &xmpp_transport), CR_COALESCED);
    /* the session after it starts: a request now is for yet another one */
    session_done(&f->ep);
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    session_done(&f->ep);
    /* two sessions started, the burst of 2 is spent: the limit holds during sessions too */
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    assert_false(f->ep.cr_pending);
    f->ep.session = NULL;
}

static void test_offline_comes_first(void **state)
{
    struct fixture *f = *state;
    f->ep.offline = true;
    assert_int_equal(admit(f, HTTP), CR_OFFLINE);
    f->ep.session = (struct session *)&f->ep;
    assert_int_equal(admit(f, HTTP), CR_OFFLINE);
    f->ep.cr_pending = true;
    assert_int_equal(admit(f, HTTP), CR_OFFLINE);
    f->ep.session = NULL;
}

static void test_token_bucket_limits_and_refills(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    assert_false(f->ep.cr_pending); /* refused: no session (3.2.2.1) */
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    /* one interval later: exactly one more token */
    f->ep.cr_refilled_at -= 10.5;
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    /* a long idle time refills to the burst, not beyond */
    f->ep.cr_refilled_at -= 1000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(admit(f, HTTP), CR_ACCEPT);
        session_done(&f->ep);
    }
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
}

/* The defaults: 10 requests within a second, each for a session of its own, are all
 * accepted; a flood of one per 10 ms for a minute starts burst + 60 / interval sessions. */
static void test_defaults_accept_an_acs_and_bound_a_flood(void **state)
{
    struct fixture *f = *state;
    config_defaults(&f->cfg);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(admit(f, HTTP), CR_ACCEPT);
        session_done(&f->ep);
    }
    memset(&f->ep, 0, sizeof(f->ep));
    f->ep.key = "gateway";
    f->ep.env.cfg = &f->cfg;
    unsigned started = 0;
    for (int ms = 0; ms < 60000; ms += 10) {
        if (admit(f, HTTP) == CR_ACCEPT) {
            started++;
            session_done(&f->ep);
        }
        f->ep.cr_refilled_at -= 0.010; /* 10 ms pass */
    }
    unsigned bound = f->cfg.cr_rate_burst + 60 / f->cfg.cr_rate_interval;
    assert_true(started <= bound + 1);
    assert_true(started >= bound - 1);
    assert_true(bound <= 40);
    config_free(&f->cfg);
}

static void test_interval_zero_means_no_limit(void **state)
{
    struct fixture *f = *state;
    f->cfg.cr_rate_interval = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(admit(f, HTTP), CR_ACCEPT);
        session_done(&f->ep);
    }
}

static void test_counters_per_transport(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    assert_int_equal(admit(f, &udp_cr_transport), CR_COALESCED);
    assert_int_equal(admit(f, &udp_cr_transport), CR_COALESCED);
    session_done(&f->ep);
    assert_int_equal(admit(f, &xmpp_transport), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    f->ep.offline = true;
    assert_int_equal(admit(f, HTTP), CR_OFFLINE);
    const struct connreq_counts *h = connreq_counts_of(f->cr, HTTP);
    assert_int_equal(h->accepted, 1);
    assert_int_equal(h->coalesced, 0);
    assert_int_equal(h->refused, 2);
    char status[512];
    connreq_status(f->cr, status, sizeof(status));
    assert_string_equal(status, "cr_http_accepted=1 cr_http_coalesced=0 cr_http_refused=2 "
                                "cr_http_timed_out=0 cr_http_reclaimed=0 "
                                "cr_udp_accepted=0 cr_udp_coalesced=2 cr_udp_refused=0 "
                                "cr_xmpp_accepted=1 cr_xmpp_coalesced=0 cr_xmpp_refused=0");
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* A flood of refusals: one warn line at once, the count when the interval ends (the timer
 * of the service on its loop), not one line each. */
static void test_refusals_warn_once_then_a_count(void **state)
{
    struct fixture *f = *state;
    struct event_base *base = event_base_new();
    connreq_free(f->cr);
    f->cr = connreq_new(base, &f->cfg);
    log_setup(LOG_TARGET_STDERR, LOG_LVL_INFO, false);
    log_ring_setup(50);
    log_set_repeat_interval(1);
    f->cfg.cr_rate_burst = 1;
    assert_int_equal(admit(f, HTTP), CR_ACCEPT);
    session_done(&f->ep);
    for (int i = 0; i < 7; i++)
        assert_int_equal(admit(f, HTTP), CR_RATE_LIMITED);
    size_t len;
    char *text = log_ring_text(&len);
    assert_int_equal(count(text, "warn  [connreq] gateway: HTTP connection request refused"), 1);
    assert_int_equal(count(text, "more in the last"), 0);
    free(text);
    struct timeval tv = {1, 300000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    text = log_ring_text(&len);
    assert_int_equal(count(text, "warn  [connreq] gateway: HTTP connection request refused"), 2);
    assert_int_equal(count(text, "(6 more in the last 1 s)\n"), 1);
    free(text);
    connreq_free(f->cr);
    f->cr = NULL;
    event_base_free(base);
    log_set_repeat_interval(60);
}

static void test_verdict_names(void **state)
{
    assert_string_equal(connreq_verdict_name(CR_ACCEPT), "accepted");
    assert_string_equal(connreq_verdict_name(CR_COALESCED), "coalesced");
    assert_string_equal(connreq_verdict_name(CR_RATE_LIMITED), "rate-limited");
    assert_string_equal(connreq_verdict_name(CR_OFFLINE), "offline");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_accept_then_coalesce_while_pending, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_during_a_session_one_session_follows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_offline_comes_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_bucket_limits_and_refills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_accept_an_acs_and_bound_a_flood, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_interval_zero_means_no_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_per_transport, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_warn_once_then_a_count, setup, teardown),
        cmocka_unit_test(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
