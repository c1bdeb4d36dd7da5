/*
 * test_dm_model.c: the concrete model of proxier/dm: instances (numbers never reused),
 * path expansion (A.3.2.2), GetParameterNames (A.3.2.3), NumberOfEntries, change reports,
 * and asynchronous provider requests with their deadline (run on a real libevent loop).
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

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/dm/dm.h"

/* Two top-level tables, one nested table, a single object inside a table row. */
static const char *schema_text =
    "object Device.\n"
    "param  RootDataModelVersion string(32) r default=2.17\n"
    "object Device.ManagementServer.\n"
    "param  URL string(256) rw\n"
    "param  Password string(256) rw hidden\n"
    "param  PeriodicInformInterval unsignedInt[1:] rw default=86400\n"
    "param  InformParameterNumberOfEntries unsignedInt r\n"
    "param  VirtualDeviceNumberOfEntries unsignedInt r\n"
    "table  Device.ManagementServer.InformParameter.{i}. rw count=InformParameterNumberOfEntries\n"
    "param  Enable boolean rw default=false\n"
    "table  Device.ManagementServer.VirtualDevice.{i}. r count=VirtualDeviceNumberOfEntries\n"
    "param  SerialNumber string(64) r\n"
    "object Device.XMPP.\n"
    "param  ConnectionNumberOfEntries unsignedInt r\n"
    "table  Device.XMPP.Connection.{i}. rw count=ConnectionNumberOfEntries\n"
    "param  Enable boolean rw\n"
    "param  ServerNumberOfEntries unsignedInt r\n"
    "table  Device.XMPP.Connection.{i}.Server.{i}. rw count=ServerNumberOfEntries\n"
    "param  Port unsignedInt[0:65535] rw\n"
    "object Device.XMPP.Connection.{i}.Stats.\n"
    "param  ReceivedMessages unsignedInt r\n";

struct fixture {
    struct dm_schema *schema;
    struct dm_model *model;
    struct event_base *base;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->schema = dm_schema_new();
    if (dm_schema_load(f->schema, schema_text) != 0)
        fail_msg("%s", px_err_msg());
    f->base = event_base_new();
    f->model = dm_model_new(f->schema, f->base);
    unsigned n;
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.", 0, NULL, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.", 0, "cpe-2", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.1.Server.", 0, NULL, &n), 0);
    assert_int_equal(dm_instance_add(f->model, "Device.ManagementServer.VirtualDevice.", 5, NULL,
                                     &n), 0);
    assert_int_equal(n, 5);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    dm_model_free(f->model);
    dm_schema_free(f->schema);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* ---------------- Paths and names ---------------- */

static void collect_param(void *arg, const char *path, const struct dm_node *node)
{
    buf_printf(arg, "%s\n", path);
}

static void collect_name(void *arg, const char *name, bool writable)
{
    buf_printf(arg, "%s%s\n", name, writable ? " w" : "");
}

/* dm_names result as text, or "fault NNNN". */
static char *names(struct dm_model *m, const char *path, bool next_level)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "");
    int rc = dm_names(m, path, next_level, collect_name, &b);
    if (rc) {
        buf_reset(&b);
        buf_printf(&b, "fault %d", rc);
    }
    return buf_steal(&b, NULL);
}

static void assert_names(struct dm_model *m, const char *path, bool next_level, const char *want)
{
    char *got = names(m, path, next_level);
    if (strcmp(got, want) != 0)
        fail_msg("GPN '%s' %d:\n--- got\n%s--- want\n%s", path, next_level, got, want);
    free(got);
}

static void test_names_next_level(void **state)
{
    struct fixture *f = *state;
    assert_names(f->model, "", true, "Device.\n");
    assert_names(f->model, "Device.", true,
                 "Device.RootDataModelVersion\nDevice.ManagementServer.\nDevice.XMPP.\n");
    assert_names(f->model, "Device.XMPP.", true,
                 "Device.XMPP.ConnectionNumberOfEntries\nDevice.XMPP.Connection. w\n");
    assert_names(f->model, "Device.XMPP.Connection.", true,
                 "Device.XMPP.Connection.1. w\nDevice.XMPP.Connection.2. w\n");
    assert_names(f->model, "Device.XMPP.Connection.1.", true,
                 "Device.XMPP.Connection.1.Enable w\n"
                 "Device.XMPP.Connection.1.ServerNumberOfEntries\n"
                 "Device.XMPP.Connection.1.Server. w\n"
                 "Device.XMPP.Connection.1.Stats.\n");
    /* A read-only table: neither it nor its rows are writable. */
    assert_names(f->model, "Device.ManagementServer.VirtualDevice.", true,
                 "Device.ManagementServer.VirtualDevice.5.\n");
    /* An empty table, NextLevel true: zero entries. */
    assert_names(f->model, "Device.ManagementServer.InformParameter.", true, "");
    /* Alias addressing resolves to the number. */
    assert_names(f->model, "Device.XMPP.Connection.[cpe-2].Server.", true, "");
}

static void test_names_all(void **state)
{
    struct fixture *f = *state;
    assert_names(f->model, "Device.XMPP.Connection.", false,
                 "Device.XMPP.Connection. w\n"
                 "Device.XMPP.Connection.1. w\n"
                 "Device.XMPP.Connection.1.Enable w\n"
                 "Device.XMPP.Connection.1.ServerNumberOfEntries\n"
                 "Device.XMPP.Connection.1.Server. w\n"
                 "Device.XMPP.Connection.1.Server.1. w\n"
                 "Device.XMPP.Connection.1.Server.1.Port w\n"
                 "Device.XMPP.Connection.1.Stats.\n"
                 "Device.XMPP.Connection.1.Stats.ReceivedMessages\n"
                 "Device.XMPP.Connection.2. w\n"
                 "Device.XMPP.Connection.2.Enable w\n"
                 "Device.XMPP.Connection.2.ServerNumberOfEntries\n"
                 "Device.XMPP.Connection.2.Server. w\n"
                 "Device.XMPP.Connection.2.Stats.\n"
                 "Device.XMPP.Connection.2.Stats.ReceivedMessages\n");
    assert_names(f->model, "Device.XMPP.Connection.1.Server.1.", false,
                 "Device.XMPP.Connection.1.Server.1. w\n"
                 "Device.XMPP.Connection.1.Server.1.Port w\n");
    assert_names(f->model, "Device.ManagementServer.URL", false, "Device.ManagementServer.URL w\n");
    assert_names(f->model, "Device.ManagementServer.VirtualDeviceNumberOfEntries", false,
                 "Device.ManagementServer.VirtualDeviceNumberOfEntries\n");
    /* "" with NextLevel false: everything, starting at Device. (the root has no name). */
    char *all = names(f->model, "", false);
    assert_true(strncmp(all, "Device.\nDevice.RootDataModelVersion\nDevice.ManagementServer.\n",
                        61) == 0);
    assert_non_null(strstr(all, "\nDevice.ManagementServer.VirtualDevice.5.SerialNumber\n"));
    assert_non_null(strstr(all, "\nDevice.ManagementServer.InformParameter. w\n"
                                "Device.ManagementServer.VirtualDevice.\n"));
    free(all);
}

static void test_names_faults(void **state)
{
    struct fixture *f = *state;
    assert_names(f->model, "Device.ManagementServer.URL", true, "fault 9003");
    const char *bad[] = {
        "Device.XMPP.Connection.3.",       /* no such instance */
        "Device.XMPP.Connection.0.",       /* instance numbers are >= 1 */
        "Device.XMPP.Connection.01.",      /* not an instance number */
        "Device.XMPP.Connection.[nope].",  /* no such alias */
        "Device..XMPP.",                   /* empty segment */
        "Device.XMPP",                     /* object without the dot */
        "Device.ManagementServer.URL.",    /* parameter with a dot */
        "Device.Nothing.",
        "Device.XMPP.Connection.{i}.",     /* schema placeholder is not a path */
        "InternetGatewayDevice.",
        "Device.XMPP.Connection.1.Enable.X",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_names(f->model, bad[i], false, "fault 9005");
        assert_names(f->model, bad[i], true, "fault 9005");
    }
    char longpath[400];
    memset(longpath, 0, sizeof(longpath));
    strcpy(longpath, "Device.");
    while (strlen(longpath) < 260)
        strcat(longpath, "XMPP.");
    assert_names(f->model, longpath, false, "fault 9005");
}

static void test_expand(void **state)
{
    struct fixture *f = *state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "");
    assert_int_equal(dm_expand(f->model, "Device.XMPP.", collect_param, &b), 0);
    assert_string_equal(b.data, "Device.XMPP.ConnectionNumberOfEntries\n"
                                "Device.XMPP.Connection.1.Enable\n"
                                "Device.XMPP.Connection.1.ServerNumberOfEntries\n"
                                "Device.XMPP.Connection.1.Server.1.Port\n"
                                "Device.XMPP.Connection.1.Stats.ReceivedMessages\n"
                                "Device.XMPP.Connection.2.Enable\n"
                                "Device.XMPP.Connection.2.ServerNumberOfEntries\n"
                                "Device.XMPP.Connection.2.Stats.ReceivedMessages\n");
    buf_reset(&b);
    assert_int_equal(dm_expand(f->model, "Device.XMPP.Connection.[cpe-2].Enable", collect_param,
                               &b), 0);
    assert_string_equal(b.data, "Device.XMPP.Connection.2.Enable\n");
    buf_reset(&b);
    assert_int_equal(dm_expand(f->model, "Device.ManagementServer.InformParameter.", collect_param,
                               &b), 0);
    assert_string_equal(b.data, ""); /* no parameters below: empty, not an error */
    buf_reset(&b);
    assert_int_equal(dm_expand(f->model, "", collect_param, &b), 0);
    assert_true(strncmp(b.data, "Device.RootDataModelVersion\nDevice.ManagementServer.URL\n", 55) == 0);
    assert_non_null(strstr(b.data, "Device.ManagementServer.VirtualDevice.5.SerialNumber\n"));
    assert_int_equal(dm_expand(f->model, "Device.XMPP.Connection.7.", collect_param, &b), 9005);
    assert_int_equal(dm_expand(f->model, "Device.XMPP.Connection.1.Enable.", collect_param, &b),
                     9005);
    buf_free(&b);

    int fault = 0;
    const struct dm_node *n = dm_resolve_param(f->model, "Device.XMPP.Connection.1.Server.1.Port",
                                               &fault);
    assert_non_null(n);
    assert_string_equal(n->path, "Device.XMPP.Connection.{i}.Server.{i}.Port");
    assert_null(dm_resolve_param(f->model, "Device.XMPP.Connection.2.Server.1.Port", &fault));
    assert_int_equal(fault, 9005);
    assert_true(dm_object_exists(f->model, "Device.XMPP.Connection.2.Stats."));
    assert_false(dm_object_exists(f->model, "Device.XMPP.Connection.3."));
}

/* ---------------- Instances ---------------- */

static void test_instances_not_reused(void **state)
{
    struct fixture *f = *state;
    const char *t = "Device.XMPP.Connection.";
    unsigned n, list[8];
    assert_int_equal(dm_instance_add(f->model, t, 0, NULL, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(dm_instance_delete(f->model, "Device.XMPP.Connection.3."), 0);
    assert_int_equal(dm_instance_delete(f->model, "Device.XMPP.Connection.1."), 0);
    assert_false(dm_object_exists(f->model, "Device.XMPP.Connection.1.Server.1."));
    assert_int_equal(dm_instance_add(f->model, t, 0, NULL, &n), 0);
    assert_int_equal(n, 4); /* neither 1 nor 3 again */
    assert_int_equal(dm_instance_list(f->model, t, list, 8), 2);
    assert_int_equal(list[0], 2);
    assert_int_equal(list[1], 4);
    /* Explicit numbers (restoring rows) keep the list ascending and move next on. */
    assert_int_equal(dm_instance_add(f->model, t, 10, NULL, &n), 0);
    assert_int_equal(dm_instance_add(f->model, t, 3, NULL, &n), 0);
    assert_int_equal(dm_instance_list(f->model, t, list, 8), 4);
    assert_int_equal(list[1], 3);
    assert_int_equal(list[3], 10);
    assert_int_equal(dm_instance_next(f->model, t), 11);
    assert_int_equal(dm_instance_add(f->model, t, 10, NULL, &n), 9004);
    assert_int_equal(dm_instance_add(f->model, t, 0, "cpe-2", &n), 9005); /* alias taken */
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.", 0, NULL, &n), 9005);
    assert_int_equal(dm_instance_delete(f->model, "Device.XMPP."), 9005);
    assert_int_equal(dm_instance_delete(f->model, "Device.XMPP.Connection."), 9005);
    /* The nested table of a deleted row does not restart its numbers. */
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.1.", 0, NULL, &n), 9005);
    assert_int_equal(dm_instance_add(f->model, t, 1, NULL, &n), 0);
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.1.Server.", 0, NULL, &n), 0);
    assert_int_equal(n, 2);
}

static void test_instance_set_next(void **state)
{
    struct fixture *f = *state;
    /* Restored before the rows exist, as after a restart. */
    struct dm_model *m = dm_model_new(f->schema, NULL);
    dm_instance_set_next(m, "Device.ManagementServer.InformParameter.", 42);
    unsigned n;
    assert_int_equal(dm_instance_add(m, "Device.ManagementServer.InformParameter.", 7, NULL, &n), 0);
    assert_int_equal(dm_instance_add(m, "Device.ManagementServer.InformParameter.", 0, NULL, &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(dm_instance_next(m, "Device.ManagementServer.InformParameter."), 43);
    assert_int_equal(dm_count_value(m, "Device.ManagementServer.InformParameterNumberOfEntries"), 2);
    dm_model_free(m);
}

static void test_count_params(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(dm_count_value(f->model, "Device.XMPP.ConnectionNumberOfEntries"), 2);
    assert_int_equal(dm_count_value(f->model, "Device.XMPP.Connection.1.ServerNumberOfEntries"), 1);
    assert_int_equal(dm_count_value(f->model, "Device.XMPP.Connection.2.ServerNumberOfEntries"), 0);
    assert_int_equal(dm_count_value(f->model, "Device.ManagementServer.URL"), 0);
    dm_instance_delete(f->model, "Device.XMPP.Connection.2.");
    assert_int_equal(dm_count_value(f->model, "Device.XMPP.ConnectionNumberOfEntries"), 1);
}

struct change_log {
    int calls;
    char path[128];
    const struct dm_node *node;
    char value[64];
};

static void on_change(void *arg, const char *path, const struct dm_node *node, const char *value)
{
    struct change_log *log = arg;
    log->calls++;
    snprintf(log->path, sizeof(log->path), "%s", path);
    snprintf(log->value, sizeof(log->value), "%s", value);
    log->node = node;
}

static void test_change_callback(void **state)
{
    struct fixture *f = *state;
    struct change_log log = {0};
    dm_value_changed(f->model, "Device.ManagementServer.URL", "http://x"); /* no callback yet */
    dm_model_on_change(f->model, on_change, &log);
    dm_value_changed(f->model, "Device.XMPP.Connection.2.Enable", "true");
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.path, "Device.XMPP.Connection.2.Enable");
    assert_string_equal(log.value, "true");
    assert_string_equal(log.node->path, "Device.XMPP.Connection.{i}.Enable");
    dm_value_changed(f->model, "Device.XMPP.Connection.9.Enable", "true"); /* ignored */
    dm_value_changed(f->model, "Device.XMPP.", "x");                        /* ignored */
    assert_int_equal(log.calls, 1);
    /* The value gate (dm.h): not of its type, or not text XML can carry: dropped. */
    dm_value_changed(f->model, "Device.XMPP.Connection.2.Enable", "maybe");
    dm_value_changed(f->model, "Device.ManagementServer.URL", "http://x/\x01");
    dm_value_changed(f->model, "Device.ManagementServer.URL", "http://x/\xff");
    assert_int_equal(log.calls, 1);
    dm_value_changed(f->model, "Device.ManagementServer.URL", "http://x/\xc3\xa9");
    assert_int_equal(log.calls, 2);
}

static void test_check_set(void **state)
{
    struct fixture *f = *state;
    const struct dm_node *node;
    char *canon;
    assert_int_equal(dm_check_set(f->model, "Device.XMPP.Connection.1.Enable", "1", "xsd:boolean",
                                  &node, &canon), 0);
    assert_string_equal(canon, "true");
    assert_string_equal(node->name, "Enable");
    free(canon);
    assert_int_equal(dm_check_set(f->model, "Device.XMPP.Connection.5.Enable", "1", NULL, &node,
                                  &canon), 9005);
    assert_int_equal(dm_check_set(f->model, "Device.XMPP.ConnectionNumberOfEntries", "1", NULL,
                                  &node, &canon), 9008);
    assert_non_null(strstr(px_err_msg(), "Device.XMPP.ConnectionNumberOfEntries"));
    assert_int_equal(dm_check_set(f->model, "Device.ManagementServer.PeriodicInformInterval", "0",
                                  NULL, &node, &canon), 9007);
    assert_non_null(strstr(px_err_msg(), "Device.ManagementServer.PeriodicInformInterval: "));
    assert_null(canon);
    assert_int_equal(dm_check_set(f->model, "Device.ManagementServer.PeriodicInformInterval", "60",
                                  "xsd:boolean", &node, &canon), 9006);
}

/* ---------------- Requests ---------------- */

/* A provider that answers every get with "<name>@<tag>", now or from a timer. */
struct provider {
    const char *tag;
    struct event_base *base; /* non-NULL: answer from a 10 ms timer */
    bool never;              /* keep the request, answer only when told */
    struct dm_request *held;
    int calls;
    int fail_code;           /* set/add/del: fail with this code */
    char last_object[128];
};

static void provider_answer(struct provider *p, struct dm_request *req)
{
    for (size_t i = 0; i < req->n_items; i++) {
        char v[128];
        snprintf(v, sizeof(v), "%s@%s", req->items[i].node->name, p->tag);
        dm_item_set_value(&req->items[i], v);
    }
    dm_request_done(req);
}

static void provider_timer(evutil_socket_t fd, short what, void *arg)
{
    struct provider *p = arg;
    struct dm_request *req = p->held;
    p->held = NULL;
    provider_answer(p, req);
}

static void provider_get(void *ctx, struct dm_request *req)
{
    struct provider *p = ctx;
    p->calls++;
    if (p->never || p->base) {
        p->held = req;
        if (p->base) {
            struct timeval tv = {0, 10000};
            event_base_once(p->base, -1, EV_TIMEOUT, provider_timer, p, &tv);
        }
        return;
    }
    provider_answer(p, req);
}

static void provider_change(void *ctx, struct dm_request *req)
{
    struct provider *p = ctx;
    p->calls++;
    snprintf(p->last_object, sizeof(p->last_object), "%s", req->object ? req->object : "");
    if (p->fail_code && req->n_items)
        dm_item_set_fault(&req->items[0], p->fail_code, "refused %s", req->items[0].path);
    else if (p->fail_code)
        dm_request_set_fault(req, p->fail_code, "refused");
    dm_request_done(req);
}

static const struct dm_provider_ops provider_ops = {
    .get = provider_get, .set = provider_change, .add = provider_change, .del = provider_change};

struct result {
    int calls;
    int fault;
    char text[1024];
};

/* done: record the answer as "path=value" / "path!fault" lines, and free the request. */
static void on_done(void *arg, struct dm_request *req)
{
    struct result *r = arg;
    r->calls++;
    r->fault = req->fault;
    r->text[0] = '\0';
    for (size_t i = 0; i < req->n_items; i++) {
        size_t len = strlen(r->text);
        const struct dm_item *it = &req->items[i];
        if (it->fault)
            snprintf(r->text + len, sizeof(r->text) - len, "%s!%d %s\n", it->path, it->fault,
                     it->fault_string ? it->fault_string : "");
        else
            snprintf(r->text + len, sizeof(r->text) - len, "%s=%s\n", it->path,
                     it->value ? it->value : "(null)");
    }
    dm_request_free(req);
}

static void add_expanded(void *arg, const char *path, const struct dm_node *node)
{
    dm_request_add(arg, path, node, NULL);
}

/* A provider's answer that XML cannot carry is dropped: that item fails, the others stand. */
static void test_provider_value_gate(void **state)
{
    struct fixture *f = *state;
    struct provider ms = {.tag = "ms"}, bad = {.tag = "b\x01" "d\xff"};
    assert_int_equal(dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &ms}), 0);
    assert_int_equal(dm_mount(f->model, "Device.XMPP.", &(struct dm_provider){&provider_ops, &bad}),
                     0);
    struct dm_request *req = dm_request_new(f->model, DM_OP_GET);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, NULL);
    dm_request_add(req, "Device.XMPP.Connection.1.Stats.ReceivedMessages", NULL, NULL);
    struct result r = {0};
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.text, "Device.ManagementServer.URL=URL@ms\n"
                                "Device.XMPP.Connection.1.Stats.ReceivedMessages!9002 "
                                "Device.XMPP.Connection.1.Stats.ReceivedMessages: the provider "
                                "gave an invalid value\n");
}

static void test_two_providers_one_request(void **state)
{
    struct fixture *f = *state;
    struct provider ms = {.tag = "ms"}, xmpp = {.tag = "xmpp", .base = f->base};
    assert_int_equal(dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &ms}), 0);
    assert_int_equal(dm_mount(f->model, "Device.XMPP.Connection.",
                              &(struct dm_provider){&provider_ops, &xmpp}), 0);
    assert_int_equal(dm_mount(f->model, "Device.Nope.", &(struct dm_provider){&provider_ops, &ms}),
                     9005);
    struct dm_request *req = dm_request_new(f->model, DM_OP_GET);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, NULL);
    assert_int_equal(dm_expand(f->model, "Device.XMPP.", add_expanded, req), 0);
    dm_request_add(req, "Device.ManagementServer.Password", NULL, NULL);
    dm_request_add(req, "Device.ManagementServer.Bogus", NULL, NULL);
    struct result r = {0};
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.calls, 0); /* the XMPP provider answers later */
    event_base_dispatch(f->base);
    assert_int_equal(r.calls, 1);
    assert_int_equal(ms.calls, 1);
    assert_int_equal(xmpp.calls, 1);
    assert_string_equal(r.text,
                        "Device.ManagementServer.URL=URL@ms\n"
                        "Device.XMPP.ConnectionNumberOfEntries=2\n"
                        "Device.XMPP.Connection.1.Enable=Enable@xmpp\n"
                        "Device.XMPP.Connection.1.ServerNumberOfEntries=1\n"
                        "Device.XMPP.Connection.1.Server.1.Port=Port@xmpp\n"
                        "Device.XMPP.Connection.1.Stats.ReceivedMessages=ReceivedMessages@xmpp\n"
                        "Device.XMPP.Connection.2.Enable=Enable@xmpp\n"
                        "Device.XMPP.Connection.2.ServerNumberOfEntries=0\n"
                        "Device.XMPP.Connection.2.Stats.ReceivedMessages=ReceivedMessages@xmpp\n"
                        "Device.ManagementServer.Password=\n"
                        "Device.ManagementServer.Bogus!9005 Device.ManagementServer.Bogus: no such "
                        "object or parameter\n");
    assert_int_equal(r.fault, 9005);
}

static void test_defaults_without_provider(void **state)
{
    struct fixture *f = *state;
    struct dm_request *req = dm_request_new(f->model, DM_OP_GET);
    dm_request_add(req, "Device.ManagementServer.PeriodicInformInterval", NULL, NULL);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, NULL);
    struct result r = {0};
    dm_request_start(req, on_done, &r); /* synchronous: nothing mounted */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fault, 0);
    assert_string_equal(r.text, "Device.ManagementServer.PeriodicInformInterval=86400\n"
                                "Device.ManagementServer.URL=\n");
    req = dm_request_new(f->model, DM_OP_SET);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, "http://acs");
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.fault, 9001);
}

static void test_deadline_and_late_answer(void **state)
{
    struct fixture *f = *state;
    struct provider slow = {.tag = "slow", .never = true};
    dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &slow});
    dm_model_set_deadline(f->model, 30);
    struct dm_request *req = dm_request_new(f->model, DM_OP_GET);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, NULL);
    dm_request_add(req, "Device.XMPP.ConnectionNumberOfEntries", NULL, NULL);
    struct result r = {0};
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.calls, 0);
    assert_non_null(slow.held);
    event_base_dispatch(f->base);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fault, 9002);
    assert_string_equal(r.text, "Device.ManagementServer.URL!9002 provider did not answer "
                                "within 30 ms\nDevice.XMPP.ConnectionNumberOfEntries=2\n");
    /* The caller freed its request in done; the provider's late answer must be harmless
     * (run under ASan/valgrind to see it). */
    provider_answer(&slow, slow.held);
    assert_int_equal(r.calls, 1);
}

static void test_caller_frees_before_answer(void **state)
{
    struct fixture *f = *state;
    struct provider slow = {.tag = "slow", .never = true};
    dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &slow});
    struct dm_request *req = dm_request_new(f->model, DM_OP_GET);
    dm_request_add(req, "Device.ManagementServer.URL", NULL, NULL);
    struct result r = {0};
    dm_request_start(req, on_done, &r);
    dm_request_free(req); /* e.g. the session ended */
    provider_answer(&slow, slow.held);
    assert_int_equal(r.calls, 0);
}

static void test_set_faults(void **state)
{
    struct fixture *f = *state;
    struct provider p = {.tag = "p", .fail_code = 9007};
    dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &p});
    struct dm_request *req = dm_request_new(f->model, DM_OP_SET);
    dm_request_add(req, "Device.XMPP.Connection.1.Enable", NULL, "true");
    struct result r = {0};
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fault, 9003); /* A.3.2.1: per-parameter faults under 9003 */
    assert_string_equal(r.text, "Device.XMPP.Connection.1.Enable!9007 refused "
                                "Device.XMPP.Connection.1.Enable\n");
    p.fail_code = 0;
    req = dm_request_new(f->model, DM_OP_SET);
    dm_request_add(req, "Device.XMPP.Connection.1.Enable", NULL, "true");
    dm_request_start(req, on_done, &r);
    assert_int_equal(r.fault, 0);
    assert_string_equal(r.text, "Device.XMPP.Connection.1.Enable=true\n");
}

/* Add/del, with the instance number in the done callback. */
struct object_result {
    int fault;
    unsigned instance;
    char object[128];
};

static void on_object_done(void *arg, struct dm_request *req)
{
    struct object_result *r = arg;
    r->fault = req->fault;
    r->instance = req->instance;
    snprintf(r->object, sizeof(r->object), "%s", req->object ? req->object : "");
    dm_request_free(req);
}

static struct object_result object_op(struct dm_model *m, enum dm_op op, const char *path)
{
    struct object_result r = {.fault = -1};
    struct dm_request *req = dm_request_new(m, op);
    dm_request_set_object(req, path);
    dm_request_start(req, on_object_done, &r);
    return r;
}

static void test_add_delete(void **state)
{
    struct fixture *f = *state;
    struct provider p = {.tag = "p"};
    dm_mount(f->model, "Device.", &(struct dm_provider){&provider_ops, &p});
    struct object_result r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.");
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.instance, 3);
    assert_string_equal(r.object, "Device.XMPP.Connection.3.");
    assert_string_equal(p.last_object, "Device.XMPP.Connection.3.");
    assert_true(dm_object_exists(f->model, "Device.XMPP.Connection.3.Stats."));
    r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.[mine].");
    assert_int_equal(r.fault, 0);
    assert_true(dm_object_exists(f->model, "Device.XMPP.Connection.[mine]."));
    r = object_op(f->model, DM_OP_DEL, "Device.XMPP.Connection.3.");
    assert_int_equal(r.fault, 0);
    assert_false(dm_object_exists(f->model, "Device.XMPP.Connection.3."));
    /* Faults: not a table / not an instance (9005), read-only table (9001). */
    assert_int_equal(object_op(f->model, DM_OP_ADD, "Device.XMPP.").fault, 9005);
    assert_int_equal(object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.1.Enable").fault,
                     9005);
    assert_int_equal(object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.1.Stats.").fault,
                     9005);
    assert_int_equal(object_op(f->model, DM_OP_ADD, "Device.Nope.").fault, 9005);
    assert_int_equal(object_op(f->model, DM_OP_ADD, "Device.ManagementServer.VirtualDevice.").fault,
                     9001);
    assert_int_equal(object_op(f->model, DM_OP_DEL, "Device.ManagementServer.VirtualDevice.5.")
                         .fault, 9001);
    assert_int_equal(object_op(f->model, DM_OP_DEL, "Device.XMPP.Connection.").fault, 9005);
    assert_int_equal(object_op(f->model, DM_OP_DEL, "Device.XMPP.Connection.3.").fault, 9005);
    /* A provider refusing the add: the instance disappears again, its number stays used. */
    p.fail_code = 9004;
    r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.");
    assert_int_equal(r.fault, 9004);
    assert_false(dm_object_exists(f->model, "Device.XMPP.Connection.5."));
    /* The same with an instance the caller registered itself (the RPC layer does). */
    unsigned n;
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.", 0, NULL, &n), 0);
    assert_int_equal(n, 6);
    r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.6.");
    assert_int_equal(r.fault, 9004);
    assert_false(dm_object_exists(f->model, "Device.XMPP.Connection.6."));
    p.fail_code = 9001;
    assert_int_equal(object_op(f->model, DM_OP_DEL, "Device.XMPP.Connection.1.").fault, 9001);
    assert_true(dm_object_exists(f->model, "Device.XMPP.Connection.1."));
    p.fail_code = 0;
    r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.");
    assert_int_equal(r.instance, 7);
    assert_int_equal(dm_instance_add(f->model, "Device.XMPP.Connection.", 0, NULL, &n), 0);
    r = object_op(f->model, DM_OP_ADD, "Device.XMPP.Connection.8.");
    assert_int_equal(r.fault, 0);
    assert_int_equal(r.instance, 8);
    assert_string_equal(p.last_object, "Device.XMPP.Connection.8.");
    assert_true(dm_object_exists(f->model, "Device.XMPP.Connection.8."));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names_next_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instances_not_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instance_set_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_value_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_providers_one_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_without_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_and_late_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_frees_before_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_delete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
