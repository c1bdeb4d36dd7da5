/*
 * test_notify.c: value-change bookkeeping of an endpoint (TR-069 3.2.1, A.3.2.4): attributes
 * and their defaults, one record per parameter however often it changes, and a change that
 * arrives after the Inform was built staying pending when that Inform is confirmed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/notify.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"

#define PII "Device.ManagementServer.PeriodicInformInterval"
#define URL "Device.ManagementServer.URL"
#define CRURL "Device.ManagementServer.ConnectionRequestURL"

struct fixture {
    char dir[64];
    struct px_config cfg;
    struct event_base *base;
    struct cache *cache;
    struct dm_schema *schema;
    struct endpoint *ep;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/px-notify-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char db[128];
    snprintf(db, sizeof(db), "%s/db", f->dir);
    config_defaults(&f->cfg);
    config_set(&f->cfg, "acs", "url", "http://127.0.0.1:9/acs");
    f->base = event_base_new();
    assert_int_equal(cache_open(&f->cache, db, CACHE_SYNC_NORMAL), CACHE_OK);
    f->schema = gateway_schema_new();
    struct endpoint_env env = {f->base, f->cache, NULL, &f->cfg};
    f->ep = gateway_endpoint_new(&env, f->schema, NULL);
    assert_non_null(f->ep);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    gateway_endpoint_free(f->ep);
    dm_schema_free(f->schema);
    cache_close(f->cache);
    event_base_free(f->base);
    config_free(&f->cfg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static const struct dm_node *node_of(struct fixture *f, const char *path)
{
    int fault;
    const struct dm_node *n = dm_resolve_param(f->ep->model, path, &fault);
    assert_non_null(n);
    return n;
}

static size_t pending_count(struct fixture *f, const char *path)
{
    size_t n, hits = 0;
    char **list = notify_pending(f->ep, &n);
    for (size_t i = 0; i < n; i++) {
        hits += !strcmp(list[i], path);
        free(list[i]);
    }
    free(list);
    notify_session_over(f->ep);
    return hits;
}

static void test_defaults_and_canDeny(void **state)
{
    struct fixture *f = *state;
    int level;
    char *access;
    assert_int_equal(notify_attr_get(f->ep, CRURL, node_of(f, CRURL), &level, &access), 0);
    assert_int_equal(level, 2); /* forceDefaultEnabled in TR-181 */
    free(access);
    assert_int_equal(notify_attr_get(f->ep, PII, node_of(f, PII), &level, &access), 0);
    assert_int_equal(level, 0);
    free(access);
    const char *sw = "Device.DeviceInfo.SoftwareVersion";
    assert_int_equal(notify_attr_set(f->ep, sw, node_of(f, sw), true, 0, false, NULL), 0);
    assert_int_equal(notify_attr_get(f->ep, sw, node_of(f, sw), &level, &access), 0);
    assert_int_equal(level, 2); /* forced active stays active */
    free(access);
    const char *up = "Device.DeviceInfo.UpTime";
    assert_int_equal(notify_attr_check(node_of(f, up), 2), 9009);
    assert_int_equal(notify_attr_check(node_of(f, up), 1), 0);
    assert_int_equal(notify_attr_check(node_of(f, up), 3), 9003);
}

static void test_changes_recorded_once_and_only_with_notification(void **state)
{
    struct fixture *f = *state;
    dm_value_changed(f->ep->model, URL, "http://a");
    assert_int_equal(pending_count(f, URL), 0);
    assert_int_equal(notify_attr_set(f->ep, PII, node_of(f, PII), true, 1, false, NULL), 0);
    dm_value_changed(f->ep->model, PII, "10");
    dm_value_changed(f->ep->model, PII, "20");
    assert_int_equal(pending_count(f, PII), 1);
    /* passive: no event, no session asked for */
    assert_false(cache_event_has(f->cache, f->ep->key, "4 VALUE CHANGE"));
}

static void test_late_change_survives_the_confirmation(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(notify_attr_set(f->ep, PII, node_of(f, PII), true, 1, false, NULL), 0);
    assert_int_equal(notify_attr_set(f->ep, URL, node_of(f, URL), true, 1, false, NULL), 0);
    dm_value_changed(f->ep->model, PII, "10");
    dm_value_changed(f->ep->model, URL, "http://b");
    size_t n;
    char **inform = notify_pending(f->ep, &n); /* the Inform is built with both */
    assert_int_equal(n, 2);
    dm_value_changed(f->ep->model, PII, "30"); /* changes again before the response */
    notify_delivered(f->ep, inform, n);
    for (size_t i = 0; i < n; i++)
        free(inform[i]);
    free(inform);
    assert_int_equal(pending_count(f, PII), 1);
    assert_int_equal(pending_count(f, URL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_canDeny, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_recorded_once_and_only_with_notification,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_change_survives_the_confirmation, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
