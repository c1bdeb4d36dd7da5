/*
 * test_cache.c: the SQLite store of cache/: every function against a real file in a fresh
 * temporary directory (and :memory:), reopen survival, subtree matching ("X.1." is not
 * "X.10."), nested transactions, the factory-reset wipe, schema migration and refusal of
 * foreign or newer files, a full disk, and crash safety with a SIGKILLed writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_int.h"
#include "proxier/common/buf.h"

#define EP "gateway"
#define OTHER "vdev-1"

struct fixture {
    char dir[64];
    char path[96];
};

/* ---- Fixture and helpers ---- */

static void remove_db_files(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char name[128];
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
        unlink(name);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/px_cache_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/cache.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_db_files(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct cache *open_ok(const char *path)
{
    struct cache *c = NULL;
    int rc = cache_open(&c, path, CACHE_SYNC_FULL);
    if (rc != CACHE_OK)
        fail_msg("cache_open(%s): %s", path, cache_errmsg(NULL));
    return c;
}

static const char *text(const struct buf *b)
{
    return b->data ? b->data : "";
}

static char *query_text(struct cache *c, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(cache_sqlite(c), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *s = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return s;
}

static void assert_query(struct cache *c, const char *sql, const char *expected)
{
    char *got = query_text(c, sql);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_errmsg_has(const char *msg, const char *needle)
{
    if (!strstr(msg, needle))
        fail_msg("error message \"%s\" does not mention \"%s\"", msg, needle);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* Run raw SQL on a file with plain sqlite3, outside the cache (to forge old/foreign files). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* List collectors: one line per row into a struct buf. */
static void collect_event(void *arg, const struct cache_event *ev)
{
    buf_printf(arg, "%s|%s\n", ev->code, ev->command_key);
}

static void collect_event_id(void *arg, const struct cache_event *ev)
{
    buf_printf(arg, "%lld,", (long long)ev->id);
}

static void collect_value(void *arg, const char *path, const char *value, int64_t updated,
                          const char *origin)
{
    buf_printf(arg, "%s=%s(%s)\n", path, value, origin);
}

static void collect_attr(void *arg, const char *path, int notification, const char *access)
{
    buf_printf(arg, "%s:%d:%s\n", path, notification, access);
}

static void collect_instance(void *arg, const char *table, unsigned number, const char *alias)
{
    buf_printf(arg, "%s%u[%s]\n", table, number, alias);
}

static void collect_next(void *arg, const char *table, unsigned next)
{
    buf_printf(arg, "%s>%u\n", table, next);
}

static void collect_notify(void *arg, const char *path, int notification)
{
    buf_printf(arg, "%s:%d\n", path, notification);
}

static char *list_values(struct cache *c, const char *endpoint, const char *prefix)
{
    struct buf b = BUF_INIT;
    assert_int_equal(cache_value_list(c, endpoint, prefix, collect_value, &b), CACHE_OK);
    buf_puts(&b, "");
    return buf_steal(&b, NULL);
}

static void assert_values(struct cache *c, const char *endpoint, const char *prefix,
                          const char *expected)
{
    char *got = list_values(c, endpoint, prefix);
    assert_string_equal(got, expected);
    free(got);
}

static void assert_has_value(struct cache *c, const char *endpoint, const char *path,
                             const char *expected)
{
    char *v = NULL;
    assert_int_equal(cache_value_get(c, endpoint, path, &v), CACHE_OK);
    assert_string_equal(v, expected);
    free(v);
}

/* ---- Open and configuration ---- */

static void test_open_configures_connection(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_schema_version(c), cache_migration_count);
    assert_query(c, "PRAGMA journal_mode", "wal");
    assert_query(c, "PRAGMA synchronous", "2"); /* FULL */
    assert_query(c, "PRAGMA foreign_keys", "1");
    assert_query(c, "PRAGMA application_id", "1347961665");
    cache_close(c);

    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_NORMAL), CACHE_OK);
    assert_query(c, "PRAGMA synchronous", "1"); /* NORMAL */
    cache_close(c);

    assert_int_equal(cache_open(&c, ":memory:", CACHE_SYNC_NORMAL), CACHE_OK);
    assert_int_equal(cache_schema_version(c), cache_migration_count);
    assert_int_equal(cache_value_set(c, EP, "Device.A", "1", "test"), CACHE_OK);
    assert_has_value(c, EP, "Device.A", "1");
    cache_close(c);
    cache_close(NULL);
}

static void test_open_unwritable_path_fails(void **state)
{
    static char sentinel;
    struct cache *c = (struct cache *)&sentinel; /* cache_open must set it to NULL */
    assert_int_equal(cache_open(&c, "/nonexistent-dir/x/cache.db", CACHE_SYNC_FULL), CACHE_ERROR);
    assert_null(c);
    assert_errmsg_has(cache_errmsg(NULL), "/nonexistent-dir/x/cache.db");
    /* SQLite's own text and code, and what is wrong with the directory (not a stale errno) */
    assert_errmsg_has(cache_errmsg(NULL), "unable to open database file (sqlite error 14)");
    assert_errmsg_has(cache_errmsg(NULL), "directory /nonexistent-dir/x: No such file");
    assert_int_equal(cache_errcode(NULL), SQLITE_CANTOPEN);
}

/* ---- Events ---- */

static void test_events_survive_reopen_in_order(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    int64_t before = time(NULL), id[4];
    assert_int_equal(cache_event_add(c, EP, "0 BOOTSTRAP", NULL, &id[0]), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "M Reboot", "key-reboot", &id[1]), CACHE_OK);
    assert_int_equal(cache_event_add(c, OTHER, "1 BOOT", "", &id[2]), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "M Download", "dl-7", &id[3]), CACHE_OK);
    assert_true(id[0] < id[1] && id[1] < id[2] && id[2] < id[3]);
    cache_close(c);

    c = open_ok(f->path);
    struct buf b = BUF_INIT;
    assert_int_equal(cache_event_list(c, EP, collect_event, &b), CACHE_OK);
    assert_string_equal(text(&b), "0 BOOTSTRAP|\nM Reboot|key-reboot\nM Download|dl-7\n");
    buf_reset(&b);
    assert_int_equal(cache_event_list(c, EP, collect_event_id, &b), CACHE_OK);
    char expected[96];
    snprintf(expected, sizeof(expected), "%lld,%lld,%lld,", (long long)id[0], (long long)id[1],
             (long long)id[3]);
    assert_string_equal(text(&b), expected);
    buf_free(&b);

    /* created is the time of the add */
    char *created = query_text(c, "SELECT min(created) FROM event");
    assert_true(atoll(created) >= before && atoll(created) <= time(NULL));
    free(created);
    cache_close(c);
}

static void test_events_delete_by_id_and_code(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    int64_t boot, dl1, dl2, other, last;
    assert_int_equal(cache_event_add(c, EP, "1 BOOT", "", &boot), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "M Download", "a", &dl1), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "M Download", "b", &dl2), CACHE_OK);
    assert_int_equal(cache_event_add(c, OTHER, "M Download", "c", &other), CACHE_OK);
    assert_true(cache_event_has(c, EP, "M Download"));
    assert_false(cache_event_has(c, EP, "2 PERIODIC"));

    /* by id: only within the endpoint */
    assert_int_equal(cache_event_delete(c, OTHER, boot), CACHE_NOTFOUND);
    assert_int_equal(cache_event_delete(c, EP, boot), CACHE_OK);
    assert_int_equal(cache_event_delete(c, EP, boot), CACHE_NOTFOUND);
    assert_false(cache_event_has(c, EP, "1 BOOT"));

    /* by code: every event of that code of this endpoint */
    assert_int_equal(cache_event_delete_code(c, EP, "M Download"), CACHE_OK);
    assert_false(cache_event_has(c, EP, "M Download"));
    assert_true(cache_event_has(c, OTHER, "M Download"));
    assert_int_equal(cache_event_delete_code(c, EP, "M Download"), CACHE_OK);

    /* ids are never reused, even after the newest row was deleted (AUTOINCREMENT) */
    assert_int_equal(cache_event_add(c, EP, "6 CONNECTION REQUEST", "", &last), CACHE_OK);
    assert_true(last > other);
    assert_int_equal(cache_event_delete(c, EP, last), CACHE_OK);
    cache_close(c);
    c = open_ok(f->path);
    int64_t newer;
    assert_int_equal(cache_event_add(c, EP, "6 CONNECTION REQUEST", "", &newer), CACHE_OK);
    assert_true(newer > last);
    assert_int_equal(cache_event_add(c, EP, "2 PERIODIC", "", NULL), CACHE_OK);

    /* NULL code: all of the endpoint, not the other one */
    assert_int_equal(cache_event_delete_code(c, EP, NULL), CACHE_OK);
    struct buf b = BUF_INIT;
    assert_int_equal(cache_event_list(c, EP, collect_event, &b), CACHE_OK);
    assert_string_equal(text(&b), "");
    assert_int_equal(cache_event_list(c, OTHER, collect_event, &b), CACHE_OK);
    assert_string_equal(text(&b), "M Download|c\n");
    buf_free(&b);

    /* a NULL key is an error with a message, not a crash */
    assert_int_equal(cache_event_add(c, NULL, "1 BOOT", "", NULL), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "missing key");
    cache_close(c);
}

/* ---- Values and attributes ---- */

static void fill_tree(struct cache *c, const char *endpoint)
{
    static const char *const paths[] = {
        "X.1.Name", "X.1.Sub.2.Val", "X.10.Name", "X.2.Name", "X.2.NameLong", "Y.Name",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_int_equal(cache_value_set(c, endpoint, paths[i], "v", "dev"), CACHE_OK);
        assert_int_equal(cache_attr_set(c, endpoint, paths[i], 1, "Subscriber"), CACHE_OK);
    }
}

static void test_values_round_trip_and_prefix_delete(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    char *v = (char *)"untouched";
    assert_int_equal(cache_value_get(c, EP, "X.1.Name", &v), CACHE_NOTFOUND);
    assert_null(v);

    fill_tree(c, EP);
    fill_tree(c, OTHER);
    assert_int_equal(cache_value_set(c, EP, "X.1.Name", "eth0 & <x>", "acs"), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "Y.Empty", NULL, NULL), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    assert_has_value(c, EP, "X.1.Name", "eth0 & <x>");
    assert_has_value(c, EP, "Y.Empty", "");
    assert_values(c, EP, "X.1.", "X.1.Name=eth0 & <x>(acs)\nX.1.Sub.2.Val=v(dev)\n");
    assert_values(c, EP, "X.2.Name", "X.2.Name=v(dev)\n");
    char *updated = query_text(c, "SELECT min(updated) FROM param_value");
    assert_true(atoll(updated) > 1600000000);
    free(updated);

    /* X.1. does not reach X.10.; a full name does not reach a longer sibling */
    assert_int_equal(cache_value_delete_prefix(c, EP, "X.1."), CACHE_OK);
    assert_int_equal(cache_value_delete_prefix(c, EP, "X.2.Name"), CACHE_OK);
    assert_values(c, EP, "", "X.10.Name=v(dev)\nX.2.NameLong=v(dev)\nY.Empty=()\nY.Name=v(dev)\n");
    cache_close(c);
}

static void test_values_prefix_delete_all_and_other_endpoint(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    fill_tree(c, EP);
    fill_tree(c, OTHER);
    assert_int_equal(cache_value_delete_prefix(c, EP, "X.1"), CACHE_OK); /* no such param */
    char *all = list_values(c, EP, "");
    assert_non_null(strstr(all, "X.1.Name=")); /* "X.1" without '.' is one parameter name */
    free(all);
    assert_int_equal(cache_value_delete_prefix(c, EP, ""), CACHE_OK);
    assert_values(c, EP, "", "");
    assert_values(c, OTHER, "Y.", "Y.Name=v(dev)\n");
    assert_int_equal(cache_value_set(c, EP, NULL, "v", "x"), CACHE_ERROR);
    cache_close(c);
}

static void test_attributes_round_trip_and_prefix_delete(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    fill_tree(c, EP);
    fill_tree(c, OTHER);
    assert_int_equal(cache_attr_set(c, EP, "X.10.Name", 2, ""), CACHE_OK);
    int n = -1;
    char *acl = NULL;
    assert_int_equal(cache_attr_get(c, EP, "Nope", &n, &acl), CACHE_NOTFOUND);
    assert_null(acl);
    cache_close(c);

    c = open_ok(f->path);
    assert_int_equal(cache_attr_get(c, EP, "X.10.Name", &n, &acl), CACHE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(acl, "");
    free(acl);
    assert_int_equal(cache_attr_get(c, EP, "X.1.Name", &n, &acl), CACHE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(acl, "Subscriber");
    free(acl);
    /* Notification values outside TR-069 Table 48 are refused by the schema */
    assert_int_equal(cache_attr_set(c, EP, "X.1.Name", 9, ""), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "cache_attr_set");

    assert_int_equal(cache_attr_delete_prefix(c, EP, "X.1."), CACHE_OK);
    assert_int_equal(cache_attr_delete_prefix(c, EP, "X.2.Name"), CACHE_OK);
    struct buf b = BUF_INIT;
    assert_int_equal(cache_attr_list(c, EP, collect_attr, &b), CACHE_OK);
    assert_string_equal(text(&b), "X.10.Name:2:\nX.2.NameLong:1:Subscriber\nY.Name:1:Subscriber\n");
    buf_reset(&b);
    assert_int_equal(cache_attr_list(c, OTHER, collect_attr, &b), CACHE_OK);
    assert_non_null(strstr(text(&b), "X.1.Sub.2.Val:1:Subscriber\n"));
    buf_free(&b);
    cache_close(c);
}

/* ---- Instances ---- */

static void add_instances(struct cache *c)
{
    assert_int_equal(cache_instance_add(c, EP, "X.", 1, "cpe-a"), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.", 2, NULL), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.", 10, "cpe-ten"), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.1.Y.", 1, ""), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.1.Y.", 2, ""), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.10.Y.", 1, ""), CACHE_OK);
    assert_int_equal(cache_instance_add(c, OTHER, "X.", 1, ""), CACHE_OK);
}

static void assert_instances(struct cache *c, const char *expected)
{
    struct buf b = BUF_INIT;
    assert_int_equal(cache_instance_list(c, EP, collect_instance, &b), CACHE_OK);
    assert_string_equal(text(&b), expected);
    buf_free(&b);
}

static void assert_next(struct cache *c, const char *table, unsigned expected)
{
    unsigned next = 0;
    assert_int_equal(cache_instance_next_get(c, EP, table, &next), CACHE_OK);
    assert_int_equal(next, expected);
}

static void test_instances_delete_subtree_not_siblings(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    add_instances(c);
    assert_instances(c, "X.1[cpe-a]\nX.2[]\nX.10[cpe-ten]\nX.1.Y.1[]\nX.1.Y.2[]\nX.10.Y.1[]\n");

    assert_int_equal(cache_instance_delete(c, EP, "X.1."), CACHE_OK);
    assert_instances(c, "X.2[]\nX.10[cpe-ten]\nX.10.Y.1[]\n");
    assert_int_equal(cache_instance_delete(c, EP, "X.1."), CACHE_NOTFOUND);
    /* without the final '.', X.1 would be a prefix of X.10. */
    assert_int_equal(cache_instance_delete(c, EP, "X.1"), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "must end with '.'");
    assert_instances(c, "X.2[]\nX.10[cpe-ten]\nX.10.Y.1[]\n");

    /* duplicates: number and alias within one table */
    assert_int_equal(cache_instance_add(c, EP, "X.", 2, ""), CACHE_ERROR);
    assert_int_equal(cache_instance_add(c, EP, "X.", 3, "cpe-ten"), CACHE_ERROR);
    assert_int_equal(cache_instance_add(c, EP, "X.", 0, ""), CACHE_ERROR);
    assert_int_equal(cache_instance_add(c, EP, "X.10.Y.", 2, "cpe-ten"), CACHE_OK);

    struct buf b = BUF_INIT;
    assert_int_equal(cache_instance_list(c, OTHER, collect_instance, &b), CACHE_OK);
    assert_string_equal(text(&b), "X.1[]\n");
    buf_free(&b);
    cache_close(c);
}

static void test_instance_next_counter_survives(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    unsigned next = 0;
    assert_int_equal(cache_instance_next_get(c, EP, "X.", &next), CACHE_NOTFOUND);
    assert_int_equal(next, 1);
    add_instances(c);
    assert_next(c, "X.", 11); /* add keeps the counter above every number used */
    assert_int_equal(cache_instance_delete(c, EP, "X.10."), CACHE_OK);
    assert_int_equal(cache_instance_delete(c, EP, "X.2."), CACHE_OK);
    assert_next(c, "X.", 11);
    assert_next(c, "X.10.Y.", 2);
    cache_close(c);

    c = open_ok(f->path);
    assert_next(c, "X.", 11);
    assert_int_equal(cache_instance_next_set(c, EP, "X.", 5), CACHE_OK); /* never lowers */
    assert_next(c, "X.", 11);
    assert_int_equal(cache_instance_next_set(c, EP, "X.", 20), CACHE_OK);
    assert_next(c, "X.", 20);
    assert_int_equal(cache_instance_next_set(c, EP, "Z.", 4), CACHE_OK);
    struct buf b = BUF_INIT;
    assert_int_equal(cache_instance_next_list(c, EP, collect_next, &b), CACHE_OK);
    assert_string_equal(text(&b), "X.>20\nX.1.Y.>3\nX.10.Y.>2\nZ.>4\n");
    buf_reset(&b);
    assert_int_equal(cache_instance_next_list(c, OTHER, collect_next, &b), CACHE_OK);
    assert_string_equal(text(&b), "X.>2\n");
    buf_free(&b);
    cache_close(c);
}

/* ---- Notifications and settings ---- */

static void test_notify_add_list_clear(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_notify_add(c, EP, "Device.B", 1), CACHE_OK);
    assert_int_equal(cache_notify_add(c, EP, "Device.A", 2), CACHE_OK);
    assert_int_equal(cache_notify_add(c, EP, "Device.B", 2), CACHE_OK); /* keeps its place */
    assert_int_equal(cache_notify_add(c, OTHER, "Device.C", 1), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    struct buf b = BUF_INIT;
    assert_int_equal(cache_notify_list(c, EP, collect_notify, &b), CACHE_OK);
    assert_string_equal(text(&b), "Device.B:2\nDevice.A:2\n");
    assert_int_equal(cache_notify_delete(c, EP, "Device.B"), CACHE_OK);
    assert_int_equal(cache_notify_delete(c, EP, "Device.Absent"), CACHE_OK);
    buf_reset(&b);
    assert_int_equal(cache_notify_list(c, EP, collect_notify, &b), CACHE_OK);
    assert_string_equal(text(&b), "Device.A:2\n");
    assert_int_equal(cache_notify_clear(c, EP), CACHE_OK);
    buf_reset(&b);
    assert_int_equal(cache_notify_list(c, EP, collect_notify, &b), CACHE_OK);
    assert_string_equal(text(&b), "");
    assert_int_equal(cache_notify_list(c, OTHER, collect_notify, &b), CACHE_OK);
    assert_string_equal(text(&b), "Device.C:1\n");
    buf_free(&b);
    cache_close(c);
}

static void test_settings_round_trip(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    char *v = NULL;
    assert_int_equal(cache_setting_get(c, EP, "ParameterKey", &v), CACHE_NOTFOUND);
    assert_null(v);
    assert_int_equal(cache_setting_set(c, EP, "ParameterKey", "k1"), CACHE_OK);
    assert_int_equal(cache_setting_set(c, EP, "ParameterKey", "k2"), CACHE_OK);
    assert_int_equal(cache_setting_set(c, OTHER, "ParameterKey", "other"), CACHE_OK);
    assert_int_equal(cache_setting_set(c, EP, "BootstrapDone", "1"), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    assert_int_equal(cache_setting_get(c, EP, "ParameterKey", &v), CACHE_OK);
    assert_string_equal(v, "k2");
    free(v);
    assert_int_equal(cache_setting_delete(c, EP, "ParameterKey"), CACHE_OK);
    assert_int_equal(cache_setting_delete(c, EP, "ParameterKey"), CACHE_NOTFOUND);
    assert_int_equal(cache_setting_get(c, EP, "ParameterKey", &v), CACHE_NOTFOUND);
    assert_int_equal(cache_setting_get(c, OTHER, "ParameterKey", &v), CACHE_OK);
    assert_string_equal(v, "other");
    free(v);
    assert_int_equal(cache_setting_get(c, EP, "BootstrapDone", &v), CACHE_OK);
    assert_string_equal(v, "1");
    free(v);
    cache_close(c);
}

/* ---- Transactions ---- */

static void test_nested_transactions_commit_and_rollback(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    char *v = NULL;

    /* inner commit, outer rollback: nothing stays */
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "A", "1", ""), CACHE_OK);
    assert_int_equal(cache_commit(c), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "1 BOOT", "", NULL), CACHE_OK);
    assert_int_equal(cache_rollback(c), CACHE_OK);
    assert_int_equal(cache_value_get(c, EP, "A", &v), CACHE_NOTFOUND);
    assert_false(cache_event_has(c, EP, "1 BOOT"));

    /* inner rollback dooms the whole transaction: later calls and the outer commit fail */
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "B", "1", ""), CACHE_OK);
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "C", "1", ""), CACHE_OK);
    assert_int_equal(cache_rollback(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "D", "1", ""), CACHE_ERROR);
    assert_int_equal(cache_begin(c), CACHE_ERROR);
    assert_int_equal(cache_commit(c), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "nested cache_rollback");
    assert_values(c, EP, "", "");

    /* unbalanced calls are errors, and the connection keeps working */
    assert_int_equal(cache_commit(c), CACHE_ERROR);
    assert_int_equal(cache_rollback(c), CACHE_ERROR);

    /* a committed nested batch is there after reopen */
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "E", "1", ""), CACHE_OK);
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "F", "2", ""), CACHE_OK);
    assert_int_equal(cache_commit(c), CACHE_OK);
    assert_int_equal(cache_commit(c), CACHE_OK);
    cache_close(c);
    c = open_ok(f->path);
    assert_values(c, EP, "", "E=1()\nF=2()\n");
    cache_close(c);
}

static void test_error_inside_transaction_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "A", "1", ""), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.", 1, ""), CACHE_OK);
    assert_int_equal(cache_instance_add(c, EP, "X.", 1, ""), CACHE_ERROR); /* duplicate */
    assert_errmsg_has(cache_errmsg(c), "UNIQUE");
    assert_int_equal(cache_value_set(c, EP, "B", "1", ""), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "UNIQUE"); /* the first cause is kept */
    assert_int_equal(cache_commit(c), CACHE_ERROR);
    assert_values(c, EP, "", "");
    assert_instances(c, "");
    assert_int_equal(cache_value_set(c, EP, "B", "1", ""), CACHE_OK);
    assert_values(c, EP, "", "B=1()\n");
    cache_close(c);
}

/* A list callback may read other tables; calling the same list again is refused. */
struct reentry {
    struct cache *c;
    int inner_get;
    int inner_list;
};

static void reenter(void *arg, const char *path, const char *value, int64_t updated,
                    const char *origin)
{
    struct reentry *r = arg;
    char *s = NULL;
    r->inner_get = cache_setting_get(r->c, EP, "k", &s);
    free(s);
    r->inner_list = cache_value_list(r->c, EP, "", reenter, r);
}

static void test_list_callback_reentry(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    struct reentry r = {.c = c, .inner_get = -2, .inner_list = -2};
    assert_int_equal(cache_setting_set(c, EP, "k", "v"), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "A", "1", ""), CACHE_OK);
    assert_int_equal(cache_value_list(c, EP, "", reenter, &r), CACHE_OK);
    assert_int_equal(r.inner_get, CACHE_OK);
    assert_int_equal(r.inner_list, CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "inside its own list callback");
    cache_close(c);
}

/* ---- Wipe ---- */

static void fill_everything(struct cache *c, const char *endpoint)
{
    fill_tree(c, endpoint);
    assert_int_equal(cache_event_add(c, endpoint, "1 BOOT", "", NULL), CACHE_OK);
    assert_int_equal(cache_instance_add(c, endpoint, "X.", 3, "a"), CACHE_OK);
    assert_int_equal(cache_notify_add(c, endpoint, "X.1.Name", 2), CACHE_OK);
    assert_int_equal(cache_setting_set(c, endpoint, "ParameterKey", "p"), CACHE_OK);
}

static int endpoint_rows(struct cache *c, const char *endpoint)
{
    static const char *const tables[] = {"event",         "param_value", "param_attr", "instance",
                                         "instance_next", "notify",      "setting"};
    int total = 0;
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE endpoint = '%s'", tables[i],
                 endpoint);
        char *n = query_text(c, sql);
        if (atoi(n) == 0)
            fail_msg("table %s has no rows for %s", tables[i], endpoint);
        total += atoi(n);
        free(n);
    }
    return total;
}

static void test_wipe_removes_only_that_endpoint(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    fill_everything(c, EP);
    fill_everything(c, OTHER);
    int other_rows = endpoint_rows(c, OTHER);
    assert_true(endpoint_rows(c, EP) > 7);
    assert_int_equal(cache_endpoint_wipe(c, EP), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM event WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM param_value WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM param_attr WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM instance WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM instance_next WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM notify WHERE endpoint = '%1$s') +"
             " (SELECT count(*) FROM setting WHERE endpoint = '%1$s')",
             EP);
    assert_query(c, sql, "0");
    assert_int_equal(endpoint_rows(c, OTHER), other_rows);
    /* inside a caller's transaction the wipe is rolled back with it */
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_endpoint_wipe(c, OTHER), CACHE_OK);
    assert_int_equal(cache_rollback(c), CACHE_OK);
    assert_int_equal(endpoint_rows(c, OTHER), other_rows);
    cache_close(c);
}

/* ---- Schema versions and foreign files ---- */

static void test_migration_from_empty_file(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "", 0);
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_schema_version(c), 2);
    assert_query(c, "PRAGMA user_version", "2");
    assert_query(c,
                 "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                 " AND name IN ('event', 'param_value', 'param_attr', 'instance',"
                 " 'instance_next', 'notify', 'setting', 'transfer')",
                 "8");
    assert_int_equal(cache_value_set(c, EP, "A", "kept", ""), CACHE_OK);
    cache_close(c);
    /* reopening does not migrate again (CREATE TABLE would fail) and keeps the data */
    c = open_ok(f->path);
    assert_has_value(c, EP, "A", "kept");
    cache_close(c);
}

static void test_migration_to_next_version(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_value_set(c, EP, "A", "kept", ""), CACHE_OK);
    cache_close(c);

    /* a failing step is rolled back and leaves the version where it was */
    const char *broken[] = {cache_migrations[0], cache_migrations[1],
                            "CREATE TABLE extra (x); CREATE TABLE ("};
    assert_int_equal(cache_open_schema(&c, f->path, CACHE_SYNC_FULL, broken, 3), CACHE_ERROR);
    assert_null(c);
    assert_errmsg_has(cache_errmsg(NULL), "migration to schema version 3 failed");
    c = open_ok(f->path);
    assert_int_equal(cache_schema_version(c), 2);
    assert_query(c, "SELECT count(*) FROM sqlite_master WHERE name = 'extra'", "0");
    cache_close(c);

    /* a v3 step runs once on a v2 file; the data survives */
    const char *v3[] = {cache_migrations[0], cache_migrations[1],
                        "ALTER TABLE param_value ADD COLUMN type TEXT NOT NULL DEFAULT 'string'"};
    assert_int_equal(cache_open_schema(&c, f->path, CACHE_SYNC_FULL, v3, 3), CACHE_OK);
    assert_int_equal(cache_schema_version(c), 3);
    assert_query(c, "SELECT type FROM param_value WHERE path = 'A'", "string");
    assert_has_value(c, EP, "A", "kept");
    cache_close(c);

    /* and now this build (version 2) must refuse it rather than downgrade */
    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_FULL), CACHE_ERROR);
    assert_null(c);
    assert_errmsg_has(cache_errmsg(NULL), "schema version 3");
    assert_errmsg_has(cache_errmsg(NULL), "newer");
}

/* ---- File transfers (schema version 2) ---- */

struct transfer_rows {
    int n;
    int64_t ids[8];
    int states[8];
    char keys[8][40];
    char urls[8][80];
    int64_t sizes[8];
    int faults[8];
    char fault_strings[8][80];
    int64_t event_ids[8];
    bool autonomous[8];
};

static void collect_transfer(void *arg, const struct cache_transfer *t)
{
    struct transfer_rows *r = arg;
    if (r->n >= 8)
        return;
    r->ids[r->n] = t->id;
    r->states[r->n] = t->state;
    snprintf(r->keys[r->n], sizeof(r->keys[0]), "%s", t->command_key);
    snprintf(r->urls[r->n], sizeof(r->urls[0]), "%s", t->url);
    r->sizes[r->n] = t->file_size;
    r->faults[r->n] = t->fault_code;
    snprintf(r->fault_strings[r->n], sizeof(r->fault_strings[0]), "%s", t->fault_string);
    r->event_ids[r->n] = t->event_id;
    r->autonomous[r->n] = t->autonomous;
    r->n++;
}

static void test_v1_database_gains_transfers(void **state)
{
    struct fixture *f = *state;
    /* a database written by the previous release: version 1 only */
    struct cache *c = NULL;
    assert_int_equal(cache_open_schema(&c, f->path, CACHE_SYNC_FULL, cache_migrations, 1),
                     CACHE_OK);
    assert_int_equal(cache_schema_version(c), 1);
    assert_int_equal(cache_value_set(c, EP, "A", "kept", ""), CACHE_OK);
    assert_int_equal(cache_event_add(c, EP, "1 BOOT", "", NULL), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    assert_int_equal(cache_schema_version(c), 2);
    assert_has_value(c, EP, "A", "kept");
    assert_true(cache_event_has(c, EP, "1 BOOT"));
    struct cache_transfer t = {.kind = 1, .command_key = "k1", .url = "http://h/f",
                               .file_size = 5000000000LL, .state = 1, .created = 100};
    int64_t id = 0;
    assert_int_equal(cache_transfer_add(c, EP, &t, &id), CACHE_OK);
    assert_true(id > 0);
    struct transfer_rows rows = {0};
    assert_int_equal(cache_transfer_list(c, EP, collect_transfer, &rows), CACHE_OK);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.sizes[0], 5000000000LL); /* beyond 32 bits */
    cache_close(c);
}

static void test_transfer_queue(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    struct cache_transfer a = {.kind = 1, .command_key = "first", .url = "http://a/1",
                               .username = "u", .password = "p", .state = 1, .created = 10,
                               .due = 20};
    struct cache_transfer b = {.kind = 3, .autonomous = true, .command_key = NULL,
                               .url = "http://b/2", .state = 1, .created = 11};
    int64_t ida, idb, idother;
    assert_int_equal(cache_transfer_add(c, EP, &a, &ida), CACHE_OK);
    assert_int_equal(cache_transfer_add(c, EP, &b, &idb), CACHE_OK);
    assert_int_equal(cache_transfer_add(c, OTHER, &a, &idother), CACHE_OK);
    assert_true(idb > ida);

    /* the mutable part is updated; the arguments stay */
    a.id = ida;
    a.state = 3;
    a.fault_code = 9016;
    a.fault_string = "HTTP 404 from http://a/1";
    a.event_id = 42;
    a.url = "http://changed/"; /* not written by update */
    assert_int_equal(cache_transfer_update(c, EP, &a), CACHE_OK);

    struct transfer_rows rows = {0};
    assert_int_equal(cache_transfer_list(c, EP, collect_transfer, &rows), CACHE_OK);
    assert_int_equal(rows.n, 2);
    assert_int_equal(rows.ids[0], ida);
    assert_int_equal(rows.states[0], 3);
    assert_int_equal(rows.faults[0], 9016);
    assert_string_equal(rows.fault_strings[0], "HTTP 404 from http://a/1");
    assert_int_equal(rows.event_ids[0], 42);
    assert_string_equal(rows.urls[0], "http://a/1");
    assert_string_equal(rows.keys[1], ""); /* NULL is stored as "" */
    assert_true(rows.autonomous[1]);
    assert_false(rows.autonomous[0]);

    assert_int_equal(cache_transfer_delete(c, EP, ida), CACHE_OK);
    assert_int_equal(cache_transfer_delete(c, EP, ida), CACHE_NOTFOUND);
    a.id = ida;
    assert_int_equal(cache_transfer_update(c, EP, &a), CACHE_NOTFOUND);
    /* another endpoint's row is not reachable through this endpoint */
    assert_int_equal(cache_transfer_delete(c, EP, idother), CACHE_NOTFOUND);

    /* ids are never reused */
    int64_t idc;
    assert_int_equal(cache_transfer_add(c, EP, &b, &idc), CACHE_OK);
    assert_true(idc > idother);

    /* a factory reset forgets the endpoint's transfers, not the other's */
    assert_int_equal(cache_endpoint_wipe(c, EP), CACHE_OK);
    memset(&rows, 0, sizeof(rows));
    assert_int_equal(cache_transfer_list(c, EP, collect_transfer, &rows), CACHE_OK);
    assert_int_equal(rows.n, 0);
    assert_int_equal(cache_transfer_list(c, OTHER, collect_transfer, &rows), CACHE_OK);
    assert_int_equal(rows.n, 1);
    cache_close(c);
}

static void test_newer_schema_refused(void **state)
{
    struct fixture *f = *state;
    cache_close(open_ok(f->path));
    raw_exec(f->path, "PRAGMA user_version = 99");
    struct cache *c = NULL;
    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_NORMAL), CACHE_ERROR);
    assert_null(c);
    assert_errmsg_has(cache_errmsg(NULL), "version 99");
    assert_errmsg_has(cache_errmsg(NULL), "no downgrade");
    /* untouched */
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 99);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_garbage_file_refused(void **state)
{
    struct fixture *f = *state;
    char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)("not a database! "[i % 16] ^ (i / 16));
    write_file(f->path, junk, sizeof(junk));
    struct cache *c = NULL;
    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_FULL), CACHE_ERROR);
    assert_null(c);
    assert_errmsg_has(cache_errmsg(NULL), "is not an SQLite database");
    assert_errmsg_has(cache_errmsg(NULL), f->path);
    assert_errmsg_has(cache_errmsg(NULL), "file is not a database (sqlite error 26)");
    assert_int_equal(cache_errcode(NULL), SQLITE_NOTADB);

    /* the file was not modified */
    char back[sizeof(junk) + 1];
    FILE *fp = fopen(f->path, "rb");
    assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(junk));
    fclose(fp);
    assert_memory_equal(back, junk, sizeof(junk));
}

static void test_foreign_database_refused(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path, "CREATE TABLE contacts (name TEXT)");
    struct cache *c = NULL;
    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_FULL), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(NULL), "another program");
    remove_db_files(f->path);
    raw_exec(f->path, "CREATE TABLE t (x); PRAGMA user_version = 1");
    assert_int_equal(cache_open(&c, f->path, CACHE_SYNC_FULL), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(NULL), "another program");
}

/* ---- Full disk ---- */

static void limit_pages(struct cache *c, bool limited)
{
    char *pages = query_text(c, "PRAGMA page_count");
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %s", limited ? pages : "1000000");
    free(pages);
    free(query_text(c, sql));
}

static void assert_only_kept_values(struct cache *c)
{
    char *all = list_values(c, EP, "");
    assert_null(strstr(all, "big."));
    free(all);
    assert_query(c, "SELECT count(*) FROM param_value WHERE path LIKE 'keep.%'", "20");
    assert_query(c, "PRAGMA integrity_check", "ok");
}

static void test_full_disk_keeps_earlier_data(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    char name[32], big[4000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "keep.%d", i);
        assert_int_equal(cache_value_set(c, EP, name, "v", ""), CACHE_OK);
    }

    /* inside a transaction: the failing write dooms it, the commit reports it */
    limit_pages(c, true);
    assert_int_equal(cache_begin(c), CACHE_OK);
    int rc = CACHE_OK;
    for (int i = 0; i < 1000 && rc == CACHE_OK; i++) {
        snprintf(name, sizeof(name), "big.%d", i);
        rc = cache_value_set(c, EP, name, big, "");
    }
    assert_int_equal(rc, CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(c), "full");
    assert_int_equal(cache_event_add(c, EP, "1 BOOT", "", NULL), CACHE_ERROR);
    assert_int_equal(cache_commit(c), CACHE_ERROR);
    limit_pages(c, false);
    assert_only_kept_values(c);
    assert_false(cache_event_has(c, EP, "1 BOOT"));

    /* outside a transaction: the single statement fails alone */
    limit_pages(c, true);
    for (int i = 0; i < 1000 && rc == CACHE_ERROR; i++)
        rc = cache_value_set(c, EP, "big.single", big, "");
    limit_pages(c, false);
    assert_int_equal(rc, CACHE_ERROR);
    assert_only_kept_values(c);
    assert_int_equal(cache_value_set(c, EP, "after", "ok", ""), CACHE_OK);
    cache_close(c);

    c = open_ok(f->path);
    assert_only_kept_values(c);
    assert_has_value(c, EP, "after", "ok");
    cache_close(c);
}

struct health_log {
    int failed, recovered;
    char why[256];
    int code;
};

static void on_health(void *arg, bool ok, const char *why, int code)
{
    struct health_log *h = arg;
    if (ok)
        h->recovered++;
    else
        h->failed++;
    snprintf(h->why, sizeof(h->why), "%s", why);
    h->code = code;
}

/* A full disk: one change to "failing" however many writes fail, with SQLite's message and
 * code; back to healthy at the first write that reaches the file, not at a read. */
static void test_health_follows_writes(void **state)
{
    struct fixture *f = *state;
    struct cache *c = open_ok(f->path);
    struct health_log h = {0};
    cache_set_health_cb(c, on_health, &h);
    char big[4000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_null(cache_health(c, NULL));

    limit_pages(c, true);
    int rc = CACHE_OK;
    for (int i = 0; i < 50 && rc == CACHE_OK; i++)
        rc = cache_value_set(c, EP, "big", big, "");
    assert_int_equal(rc, CACHE_ERROR);
    assert_int_equal(cache_errcode(c), SQLITE_FULL);
    assert_errmsg_has(cache_errmsg(c), "cache_value_set: database or disk is full (sqlite error 13)");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(cache_value_set(c, EP, "big2", big, ""), CACHE_ERROR);
        assert_int_equal(cache_begin(c), CACHE_OK);
        cache_value_set(c, EP, "big3", big, "");
        assert_int_equal(cache_commit(c), CACHE_ERROR);
    }
    assert_int_equal(h.failed, 1);
    assert_int_equal(h.code, SQLITE_FULL);
    assert_string_equal(h.why, "database or disk is full");
    int code = 0;
    assert_string_equal(cache_health(c, &code), "database or disk is full");
    assert_int_equal(code, SQLITE_FULL);

    /* space again: reads and writes that change nothing do not count; a commit does */
    limit_pages(c, false);
    char *v = NULL;
    cache_value_get(c, EP, "big", &v);
    free(v);
    assert_int_equal(cache_notify_clear(c, EP), CACHE_OK); /* nothing to delete */
    assert_non_null(cache_health(c, NULL));
    assert_int_equal(h.recovered, 0);
    assert_int_equal(cache_begin(c), CACHE_OK);
    assert_int_equal(cache_value_set(c, EP, "after", "ok", ""), CACHE_OK);
    assert_int_equal(cache_commit(c), CACHE_OK);
    assert_null(cache_health(c, &code));
    assert_int_equal(code, 0);
    assert_int_equal(h.recovered, 1);
    assert_string_equal(h.why, "database or disk is full"); /* the cause that was cleared */

    /* again, outside a transaction: a failing single write, then a good one */
    limit_pages(c, true);
    for (int i = 0; i < 50 && cache_value_set(c, EP, "big4", big, "") == CACHE_OK; i++)
        ;
    limit_pages(c, false);
    assert_int_equal(cache_value_set(c, EP, "after2", "ok", ""), CACHE_OK);
    assert_int_equal(h.failed, 2);
    assert_int_equal(h.recovered, 2);
    /* a caller's mistake is no storage failure */
    assert_int_equal(cache_value_set(c, EP, NULL, "x", ""), CACHE_ERROR);
    assert_int_equal(cache_errcode(c), 0);
    assert_null(cache_health(c, NULL));
    cache_close(c);
}

/* cache_claim: one process per file; the claim goes with cache_close. */
static void test_claim_is_exclusive(void **state)
{
    struct fixture *f = *state;
    struct cache *a = open_ok(f->path), *b = open_ok(f->path);
    assert_int_equal(cache_claim(a), CACHE_OK);
    assert_int_equal(cache_claim(a), CACHE_OK); /* again: already ours */
    assert_int_equal(cache_claim(b), CACHE_ERROR);
    assert_errmsg_has(cache_errmsg(b), "is in use by another process");
    assert_errmsg_has(cache_errmsg(b), f->path);
    /* the refused one still works as a plain connection, and the owner still writes */
    assert_int_equal(cache_value_set(a, EP, "x", "1", ""), CACHE_OK);
    cache_close(b);
    assert_int_equal(cache_value_set(a, EP, "y", "2", ""), CACHE_OK);
    cache_close(a);
    struct cache *c = open_ok(f->path);
    assert_int_equal(cache_claim(c), CACHE_OK);
    assert_has_value(c, EP, "y", "2");
    cache_close(c);
    struct cache *m = NULL;
    assert_int_equal(cache_open(&m, ":memory:", CACHE_SYNC_NORMAL), CACHE_OK);
    assert_int_equal(cache_claim(m), CACHE_OK);
    cache_close(m);
}

/* ---- Crash safety ---- */

struct crash_record {
    int64_t id;
    int round, i;
};

/* The child: commit events forever, reporting each id only after cache_commit returned. */
static void crash_child(const char *path, int fd, int round)
{
    struct cache *c;
    if (cache_open(&c, path, CACHE_SYNC_FULL) != CACHE_OK)
        _exit(2);
    for (int i = 0;; i++) {
        char key[48], value[48];
        int64_t id;
        snprintf(key, sizeof(key), "r%d-%d", round, i);
        snprintf(value, sizeof(value), "Device.Crash.%d.%d", round, i);
        if (cache_begin(c) != CACHE_OK || cache_event_add(c, EP, "M Crash", key, &id) != CACHE_OK ||
            cache_value_set(c, EP, value, key, "crash") != CACHE_OK || cache_commit(c) != CACHE_OK)
            _exit(3);
        struct crash_record rec = {id, round, i};
        if (write(fd, &rec, sizeof(rec)) != sizeof(rec))
            _exit(4);
    }
}

struct crash_check {
    int64_t last_id;
    bool ascending;
    struct buf seen; /* "id:key;" of every event */
};

static void crash_collect(void *arg, const struct cache_event *ev)
{
    struct crash_check *k = arg;
    k->ascending = k->ascending && ev->id > k->last_id;
    k->last_id = ev->id;
    buf_printf(&k->seen, ";%lld:%s;", (long long)ev->id, ev->command_key);
}

/* Read records (each one atomic pipe write) until `ms` have passed or the pipe closes. */
static size_t crash_read(int fd, struct crash_record *rec, size_t n, size_t max, int ms)
{
    struct timespec now, end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_nsec += (long)ms * 1000000L;
    end.tv_sec += end.tv_nsec / 1000000000L;
    end.tv_nsec %= 1000000000L;
    while (n < max) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = (end.tv_sec - now.tv_sec) * 1000L + (end.tv_nsec - now.tv_nsec) / 1000000L;
        if (ms >= 0 && left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ms >= 0 ? (int)left : -1) <= 0)
            continue;
        if (read(fd, &rec[n], sizeof(rec[n])) != sizeof(rec[n]))
            break;
        n++;
    }
    return n;
}

static int crash_round(const char *path, int round)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(path, fds[1], round);
    }
    close(fds[1]);
    size_t max = 1 << 20;
    struct crash_record *rec = malloc(max * sizeof(*rec));
    assert_non_null(rec);
    /* wait for the first commit, then keep draining the pipe until a random moment */
    assert_int_equal(read(fds[0], &rec[0], sizeof(rec[0])), sizeof(rec[0]));
    size_t n = crash_read(fds[0], rec, 1, max, 10 + rand() % 200);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    n = crash_read(fds[0], rec, n, max, -1); /* what was written before the kill */
    close(fds[0]);

    struct cache *c = open_ok(path);
    assert_query(c, "PRAGMA integrity_check", "ok");
    struct crash_check k = {.last_id = 0, .ascending = true, .seen = BUF_INIT};
    assert_int_equal(cache_event_list(c, EP, crash_collect, &k), CACHE_OK);
    assert_true(k.ascending);
    for (size_t i = 0; i < n; i++) {
        char want[64], value[48], key[48];
        snprintf(key, sizeof(key), "r%d-%d", rec[i].round, rec[i].i);
        snprintf(want, sizeof(want), ";%lld:%s;", (long long)rec[i].id, key);
        if (!strstr(text(&k.seen), want))
            fail_msg("committed event %s (round %d) lost after SIGKILL", want, round);
        snprintf(value, sizeof(value), "Device.Crash.%d.%d", rec[i].round, rec[i].i);
        assert_has_value(c, EP, value, key);
    }
    buf_free(&k.seen);
    free(rec);
    cache_close(c);
    return (int)n;
}

static void test_crash_safety_sigkill(void **state)
{
    struct fixture *f = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    cache_close(open_ok(f->path)); /* create it; the parent holds no connection at fork */
    int total = 0;
    for (int round = 0; round < 4; round++)
        total += crash_round(f->path, round);
    assert_true(total >= 4);
    print_message("crash safety: %d committed events checked over 4 SIGKILLs\n", total);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_configures_connection),
        T(test_open_unwritable_path_fails),
        T(test_events_survive_reopen_in_order),
        T(test_events_delete_by_id_and_code),
        T(test_values_round_trip_and_prefix_delete),
        T(test_values_prefix_delete_all_and_other_endpoint),
        T(test_attributes_round_trip_and_prefix_delete),
        T(test_instances_delete_subtree_not_siblings),
        T(test_instance_next_counter_survives),
        T(test_notify_add_list_clear),
        T(test_settings_round_trip),
        T(test_nested_transactions_commit_and_rollback),
        T(test_error_inside_transaction_rolls_back),
        T(test_list_callback_reentry),
        T(test_wipe_removes_only_that_endpoint),
        T(test_migration_from_empty_file),
        T(test_migration_to_next_version),
        T(test_newer_schema_refused),
        T(test_v1_database_gains_transfers),
        T(test_transfer_queue),
        T(test_garbage_file_refused),
        T(test_foreign_database_refused),
        T(test_full_disk_keeps_earlier_data),
        T(test_health_follows_writes),
        T(test_claim_is_exclusive),
        T(test_crash_safety_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
