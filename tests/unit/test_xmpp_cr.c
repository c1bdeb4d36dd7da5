/*
 * test_xmpp_cr.c: the XMPP connection-request transport's own logic (TR-069 Annex K,
 * Appendix III): the ConnReqAllowedJabberIDs match, the reconnect window of III.4.5, the
 * reply stanzas of Figures 20-22, the Device.XMPP. schema, the thread hand-off (a
 * stream to a closed port reports its status to the loop through the eventfd), and the
 * endpoint hold the boot wait (K.2.1) relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cache/cache.h"
#include "proxier/connreq/xmpp_cr.h"
#include "proxier/connreq/xmpp_internal.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"
#include "proxier/session/http.h"

static void test_allowed_jids(void **state)
{
    const char *list = "ACS1@tr069.example.com, ACS2@tr-069.example.com/resource1";
    /* TR-181's own example */
    assert_true(xmpp_jid_allowed(list, "ACS1@tr069.example.com/resource2"));
    assert_true(xmpp_jid_allowed(list, "ACS2@tr-069.example.com/resource1"));
    assert_false(xmpp_jid_allowed(list, "ACS2@tr-069.example.com/resource2"));
    /* local part and domain are case-insensitive, the resource is not */
    assert_true(xmpp_jid_allowed(list, "acs1@TR069.example.COM/x"));
    assert_true(xmpp_jid_allowed(list, "acs2@tr-069.example.com/resource1"));
    assert_false(xmpp_jid_allowed(list, "ACS2@tr-069.example.com/Resource1"));
    /* no prefix or suffix matches */
    assert_false(xmpp_jid_allowed(list, "ACS@tr069.example.com/r"));
    assert_false(xmpp_jid_allowed(list, "ACS11@tr069.example.com/r"));
    assert_false(xmpp_jid_allowed(list, "ACS2@tr-069.example.com/resource10"));
    assert_false(xmpp_jid_allowed(list, "evil@example.com/x"));
    assert_false(xmpp_jid_allowed(list, ""));
    /* an empty list (or one of blanks) allows everyone */
    assert_true(xmpp_jid_allowed("", "anyone@anywhere/x"));
    assert_true(xmpp_jid_allowed(" , ", "anyone@anywhere/x"));
    /* a bare entry also matches a sender without a resource */
    assert_true(xmpp_jid_allowed("acs@example.com", "acs@example.com"));
    assert_false(xmpp_jid_allowed("acs@example.com/r", "acs@example.com"));
}

static void test_retry_window(void **state)
{
    /* TR-181 defaults: 60 s, x2, at most 30720 s: {1, 2, 4, ... 512, 512} minutes */
    assert_true(xmpp_retry_window(60, 2000, 30720, 1) == 60);
    assert_true(xmpp_retry_window(60, 2000, 30720, 2) == 120);
    assert_true(xmpp_retry_window(60, 2000, 30720, 10) == 30720);
    assert_true(xmpp_retry_window(60, 2000, 30720, 11) == 30720);
    assert_true(xmpp_retry_window(60, 2000, 30720, 1000) == 30720);
    assert_true(xmpp_retry_window(10, 1500, 100, 3) == 22.5);
    assert_true(xmpp_retry_window(1, 2000, 2, 5) == 2);
}

static const char request_text[] =
    "<iq from='acs@example.com/a' to='cpe@example.com/cwmp' id='cr001' type='get'>"
    "<connectionRequest xmlns='" XMPP_CR_NS "'><username>u</username><password>p</password>"
    "</connectionRequest></iq>";

static xmpp_stanza_t *reply_to_request(xmpp_ctx_t *ctx, enum xmpp_reply r)
{
    xmpp_stanza_t *req = xmpp_stanza_new_from_string(ctx, request_text);
    assert_non_null(req);
    xmpp_stanza_t *reply = xmpp_cr_reply_stanza(ctx, req, r, "cpe@example.com/cwmp");
    xmpp_stanza_release(req);
    assert_string_equal(xmpp_stanza_get_name(reply), "iq");
    assert_string_equal(xmpp_stanza_get_id(reply), "cr001");
    assert_string_equal(xmpp_stanza_get_to(reply), "acs@example.com/a");
    assert_string_equal(xmpp_stanza_get_from(reply), "cpe@example.com/cwmp");
    return reply;
}

/* The error child of an error reply; checks the echoed request (Figures 21, 22). */
static xmpp_stanza_t *error_of(xmpp_stanza_t *reply)
{
    assert_string_equal(xmpp_stanza_get_type(reply), "error");
    xmpp_stanza_t *echo =
        xmpp_stanza_get_child_by_name_and_ns(reply, "connectionRequest", XMPP_CR_NS);
    assert_non_null(echo);
    assert_non_null(xmpp_stanza_get_child_by_name(echo, "username"));
    xmpp_stanza_t *error = xmpp_stanza_get_child_by_name(reply, "error");
    assert_non_null(error);
    assert_string_equal(xmpp_stanza_get_type(error), "cancel");
    return error;
}

static void test_reply_stanzas(void **state)
{
    xmpp_initialize();
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);

    xmpp_stanza_t *ok = reply_to_request(ctx, XMPP_REPLY_RESULT); /* Figure 20 */
    assert_string_equal(xmpp_stanza_get_type(ok), "result");
    assert_null(xmpp_stanza_get_children(ok));
    xmpp_stanza_release(ok);

    xmpp_stanza_t *busy = reply_to_request(ctx, XMPP_REPLY_UNAVAILABLE); /* Figure 21 */
    xmpp_stanza_t *error = error_of(busy);
    assert_string_equal(xmpp_stanza_get_attribute(error, "code"), "503");
    assert_non_null(xmpp_stanza_get_child_by_name_and_ns(
        error, "service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    xmpp_stanza_release(busy);

    xmpp_stanza_t *denied = reply_to_request(ctx, XMPP_REPLY_NOT_AUTHORIZED); /* Figure 22 */
    error = error_of(denied);
    assert_null(xmpp_stanza_get_attribute(error, "code"));
    assert_non_null(xmpp_stanza_get_child_by_name_and_ns(
        error, "not-authorized", "urn:ietf:params:xml:ns:xmpp-stanzas"));
    xmpp_stanza_release(denied);

    xmpp_ctx_free(ctx);
    xmpp_shutdown();
}

/* The thread answers what xmpp_iq_classify says: Figure 19 goes to the loop, a ping gets
 * a result, other gets and sets service-unavailable, results and errors nothing. */
static enum xmpp_iq_kind classify(xmpp_ctx_t *ctx, const char *text, char **username,
                                  char **password)
{
    xmpp_stanza_t *iq = xmpp_stanza_new_from_string(ctx, text);
    assert_non_null(iq);
    xmpp_stanza_t *cr;
    enum xmpp_iq_kind kind = xmpp_iq_classify(iq, &cr);
    assert_true((kind == XMPP_IQ_CONN_REQUEST) == (cr != NULL));
    if (cr) {
        *username = xmpp_cr_child_text(cr, "username");
        *password = xmpp_cr_child_text(cr, "password");
    }
    xmpp_stanza_release(iq);
    return kind;
}

static void test_iq_classify(void **state)
{
    xmpp_initialize();
    xmpp_ctx_t *ctx = xmpp_ctx_new(NULL, NULL);
    char *user = NULL, *pass = NULL;
    assert_int_equal(classify(ctx, request_text, &user, &pass), XMPP_IQ_CONN_REQUEST);
    assert_string_equal(user, "u");
    assert_string_equal(pass, "p");
    free(user);
    free(pass);
    assert_int_equal(classify(ctx,
                              "<iq type='set' id='a'><connectionRequest xmlns='" XMPP_CR_NS
                              "'><username>a&amp;b</username></connectionRequest></iq>",
                              &user, &pass),
                     XMPP_IQ_CONN_REQUEST);
    assert_string_equal(user, "a&b");
    assert_string_equal(pass, ""); /* missing: empty, never wrongly equal to a set one */
    free(user);
    free(pass);
    assert_int_equal(classify(ctx, "<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
                              NULL, NULL),
                     XMPP_IQ_PING);
    assert_int_equal(classify(ctx,
                              "<iq type='get' id='w'><connectionRequest xmlns='urn:other'/>"
                              "</iq>",
                              NULL, NULL),
                     XMPP_IQ_OTHER);
    assert_int_equal(classify(ctx,
                              "<iq type='result' id='r'><connectionRequest xmlns='" XMPP_CR_NS
                              "'/></iq>",
                              NULL, NULL),
                     XMPP_IQ_NOT_OURS);
    assert_int_equal(classify(ctx, "<iq id='n'><ping xmlns='urn:xmpp:ping'/></iq>", NULL, NULL),
                     XMPP_IQ_NOT_OURS);
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
}

static void test_schema_has_xmpp(void **state)
{
    struct dm_schema *s = gateway_schema_new();
    assert_non_null(s);
    const struct dm_node *t = dm_schema_find(s, "Device.XMPP.Connection.{i}.");
    assert_non_null(t);
    assert_int_equal(t->kind, DM_TABLE);
    assert_true(t->writable);
    const struct dm_node *pw = dm_schema_find(s, "Device.XMPP.Connection.{i}.Password");
    assert_true(pw->hidden && pw->writable);
    assert_false(dm_schema_find(s, "Device.XMPP.Connection.{i}.JabberID")->writable);
    assert_non_null(dm_schema_find(s, "Device.XMPP.Connection.{i}.Server.{i}.Port"));
    assert_non_null(dm_schema_find(s, "Device.XMPP.Connection.{i}.Stats.ReceivedMessages"));
    assert_non_null(dm_schema_find(s, "Device.ManagementServer.ConnReqXMPPConnection"));
    dm_schema_free(s);
}

/* ---- The thread hand-off ---- */

struct seen {
    struct event_base *base;
    char statuses[4][32];
    int n;
};

static void on_event(void *arg, struct xmpp_event *ev)
{
    struct seen *seen = arg;
    if (ev->kind == XMPP_EV_STATUS && seen->n < 4)
        snprintf(seen->statuses[seen->n++], sizeof(seen->statuses[0]), "%s", ev->status);
    if (seen->n == 2)
        event_base_loopbreak(seen->base);
    xmpp_event_free(ev);
}

/* A port on 127.0.0.1 where nothing listens. */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_worker_reports_status_to_the_loop(void **state)
{
    struct seen seen = {.base = event_base_new()};
    struct xmpp_worker *w = xmpp_worker_start(seen.base, NULL, on_event, &seen);
    assert_non_null(w);
    struct xmpp_conn_cfg cfg = {.jid = "cpe@localhost/cwmp", .password = "x",
                                .host = "127.0.0.1", .port = closed_port(), .use_tls = true,
                                .keepalive = 60, .retry_initial = 60, .retry_multiplier = 2000,
                                .retry_max = 60};
    xmpp_worker_configure(w, 0, &cfg);
    struct timeval limit = {10, 0};
    event_base_loopexit(seen.base, &limit);
    event_base_dispatch(seen.base);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.statuses[0], "Connecting");
    assert_string_equal(seen.statuses[1], "ServerNotPresent");
    struct xmpp_stats st;
    xmpp_worker_stats(w, 0, &st);
    assert_int_equal(st.received, 0);
    xmpp_worker_configure(w, 0, NULL);
    xmpp_worker_stop(w);
    event_base_free(seen.base);
}

/* ---- The endpoint hold (the boot wait of K.2.1) ---- */

struct booted {
    char dir[64];
    char *db;
    struct px_config cfg;
    struct event_base *base;
    struct cache *cache;
    struct http_multi *http;
    struct dm_schema *schema;
    struct endpoint *ep;
};

/* A gateway endpoint whose ACS refuses connections: every session fails at once and counts
 * a retry, so ep->retry_count tells how many sessions were attempted. */
static void boot_gateway(struct booted *b)
{
    snprintf(b->dir, sizeof(b->dir), "/tmp/test_xmpp_cr.XXXXXX");
    assert_non_null(mkdtemp(b->dir));
    assert_true(asprintf(&b->db, "%s/px.db", b->dir) > 0);
    config_defaults(&b->cfg);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/acs", closed_port());
    assert_int_equal(config_set(&b->cfg, "acs", "url", url), 0);
    assert_int_equal(config_set(&b->cfg, "device", "serial_number", "HOLD0001"), 0);
    assert_int_equal(config_set(&b->cfg, "cwmp", "retry_minimum_wait", "60"), 0);
    assert_int_equal(config_set(&b->cfg, "cwmp", "periodic_inform_enable", "false"), 0);
    b->base = event_base_new();
    assert_int_equal(cache_open(&b->cache, b->db, CACHE_SYNC_NORMAL), CACHE_OK);
    b->http = http_multi_new(b->base);
    b->schema = gateway_schema_new();
    struct endpoint_env env = {b->base, b->cache, b->http, &b->cfg};
    b->ep = gateway_endpoint_new(&env, b->schema, NULL);
    assert_non_null(b->ep);
}

static void unboot_gateway(struct booted *b)
{
    gateway_endpoint_free(b->ep);
    http_multi_free(b->http);
    dm_schema_free(b->schema);
    cache_close(b->cache);
    event_base_free(b->base);
    config_free(&b->cfg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", b->dir);
    assert_int_equal(system(cmd), 0);
    free(b->db);
}

/* Run the loop until n sessions were attempted or `seconds` passed. */
static void run_until_attempts(struct booted *b, unsigned n, double seconds)
{
    for (double t = 0; t < seconds && b->ep->retry_count < n; t += 0.05) {
        struct timeval slice = {0, 50000};
        event_base_loopexit(b->base, &slice);
        event_base_dispatch(b->base);
    }
}

static void test_endpoint_hold_defers_the_boot_session(void **state)
{
    struct booted b;
    boot_gateway(&b);
    /* As at daemon start: endpoint_start queued the boot session, then a transport holds. */
    assert_int_equal(gateway_endpoint_start(b.ep), 0);
    endpoint_hold(b.ep);
    endpoint_hold(b.ep); /* holds nest */
    run_until_attempts(&b, 1, 0.5);
    assert_int_equal(b.ep->retry_count, 0);
    assert_null(b.ep->session);
    assert_true(b.ep->session_wanted);
    /* a new event while held is remembered, not started */
    assert_int_equal(endpoint_add_event(b.ep, "4 VALUE CHANGE", ""), 0);
    endpoint_release(b.ep);
    run_until_attempts(&b, 1, 0.5);
    assert_int_equal(b.ep->retry_count, 0);
    /* the last release starts the one remembered session */
    endpoint_release(b.ep);
    run_until_attempts(&b, 1, 5);
    assert_int_equal(b.ep->retry_count, 1);
    assert_int_equal(b.ep->session_holds, 0);
    endpoint_release(b.ep); /* an extra release is harmless */
    assert_int_equal(b.ep->session_holds, 0);
    unboot_gateway(&b);
}

static void test_conn_cfg_compare(void **state)
{
    struct xmpp_conn_cfg a = {.jid = "a@b/c", .password = "p", .host = NULL, .keepalive = 60};
    struct xmpp_conn_cfg *b = xmpp_conn_cfg_copy(&a);
    assert_true(xmpp_conn_cfg_equal(&a, b));
    b->keepalive = 30;
    assert_false(xmpp_conn_cfg_equal(&a, b));
    assert_false(xmpp_conn_cfg_equal(&a, NULL));
    assert_true(xmpp_conn_cfg_equal(NULL, NULL));
    xmpp_conn_cfg_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_jids),
        cmocka_unit_test(test_retry_window),
        cmocka_unit_test(test_reply_stanzas),
        cmocka_unit_test(test_iq_classify),
        cmocka_unit_test(test_schema_has_xmpp),
        cmocka_unit_test(test_worker_reports_status_to_the_loop),
        cmocka_unit_test(test_conn_cfg_compare),
        cmocka_unit_test(test_endpoint_hold_defers_the_boot_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
