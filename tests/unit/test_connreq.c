/*
 * test_connreq.c: the admission rule every connection-request transport obeys
 * (proxier/connreq/connreq.c, TR-069 3.2.2.1): accept, coalesce while a session is pending,
 * busy during a session, offline (Annex J.2.3), and the per-endpoint token bucket that only
 * accepted requests drain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proxier/connreq/connreq.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"

struct fixture {
    struct px_config cfg;
    struct endpoint ep;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.cfg.cr_rate_burst = 2;
    f.cfg.cr_rate_interval = 10;
    f.ep.key = "gateway";
    f.ep.env.cfg = &f.cfg;
    *state = &f;
    return 0;
}

/* The accepted session started and ended: the endpoint is idle again. */
static void session_done(struct endpoint *ep)
{
    ep->cr_pending = false;
}

static void test_accept_then_coalesce_while_pending(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
    assert_true(f->ep.cr_pending);
    for (int i = 0; i < 5; i++) /* 3.2.2.1: success, but no additional session */
        assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_COALESCED);
    session_done(&f->ep);
    /* coalesced requests cost no token: the second one of the burst is still there */
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
}

static void test_busy_during_a_session(void **state)
{
    struct fixture *f = *state;
    f->ep.session = (struct session *)&f->ep; /* any non-NULL: a session runs */
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_BUSY);
    f->ep.cr_pending = true; /* even with a request pending: the session is being set up */
    assert_int_equal(connreq_admit(&f->ep, "XMPP"), CR_BUSY);
    f->ep.session = NULL;
    f->ep.cr_pending = false;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
}

static void test_offline_comes_first(void **state)
{
    struct fixture *f = *state;
    f->ep.offline = true;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_OFFLINE);
    f->ep.session = (struct session *)&f->ep;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_OFFLINE);
    assert_false(f->ep.cr_pending);
}

static void test_token_bucket_limits_and_refills(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_RATE_LIMITED);
    assert_false(f->ep.cr_pending); /* refused: no session (3.2.2.1) */
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_RATE_LIMITED);
    /* one interval later: exactly one more token */
    f->ep.cr_refilled_at -= 10.5;
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
    session_done(&f->ep);
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_RATE_LIMITED);
    /* a long idle time refills to the burst, not beyond */
    f->ep.cr_refilled_at -= 1000;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
        session_done(&f->ep);
    }
    assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_RATE_LIMITED);
}

static void test_interval_zero_means_no_limit(void **state)
{
    struct fixture *f = *state;
    f->cfg.cr_rate_interval = 0;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(connreq_admit(&f->ep, "HTTP"), CR_ACCEPT);
        session_done(&f->ep);
    }
}

static void test_verdict_names(void **state)
{
    assert_string_equal(connreq_verdict_name(CR_ACCEPT), "accepted");
    assert_string_equal(connreq_verdict_name(CR_COALESCED), "coalesced");
    assert_string_equal(connreq_verdict_name(CR_BUSY), "busy");
    assert_string_equal(connreq_verdict_name(CR_RATE_LIMITED), "rate-limited");
    assert_string_equal(connreq_verdict_name(CR_OFFLINE), "offline");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_accept_then_coalesce_while_pending, setup),
        cmocka_unit_test_setup(test_busy_during_a_session, setup),
        cmocka_unit_test_setup(test_offline_comes_first, setup),
        cmocka_unit_test_setup(test_token_bucket_limits_and_refills, setup),
        cmocka_unit_test_setup(test_interval_zero_means_no_limit, setup),
        cmocka_unit_test(test_verdict_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
