/*
 * cache_store.c: the data of the SQLite store, per endpoint: the durable event queue
 * (TR-069 3.7.1.5 and Table 8: an event row is deleted only once delivered), parameter values,
 * attributes (Notification, AccessList: A.3.2.4), table instances with never-reused numbers
 * (A.3.2.6) and aliases, pending value-change notifications, endpoint settings, and the
 * file transfer queue, and the factory-reset wipe. The connection, statements and transactions are in cache.c.
 *
 * Subtree matching: a path ending in '.' (a partial path, TR-069 A.3.2.1) or "" selects
 * everything below it; any other path selects that one parameter. The match is an exact
 * prefix comparison (substr), so "X.1." never selects "X.10."; the range bounds around it
 * only let SQLite use the primary key.
 */
#include "cache/cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBTREE(col, p)                                                                            \
    "(" col " >= " p " AND " col " < " p " || char(1114111) AND (" col " = " p " OR ((" p          \
    " = '' OR substr(" p ", -1) = '.') AND substr(" col ", 1, length(" p ")) = " p ")))"
#define WIPE(table) "DELETE FROM " table " WHERE endpoint = ?1"

const char *const cache_stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_EVENT_ADD] =
        "INSERT INTO event (endpoint, code, command_key, created) VALUES (?1, ?2, ?3, ?4)",
    [ST_EVENT_LIST] =
        "SELECT id, code, command_key, created FROM event WHERE endpoint = ?1 ORDER BY id",
    [ST_EVENT_DELETE] = "DELETE FROM event WHERE endpoint = ?1 AND id = ?2",
    [ST_EVENT_DELETE_CODE] = "DELETE FROM event WHERE endpoint = ?1 AND (?2 IS NULL OR code = ?2)",
    [ST_EVENT_HAS] = "SELECT 1 FROM event WHERE endpoint = ?1 AND code = ?2 LIMIT 1",
    [ST_VALUE_SET] = "INSERT INTO param_value (endpoint, path, value, updated, origin)"
                     " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint, path) DO UPDATE"
                     " SET value = excluded.value, updated = excluded.updated,"
                     " origin = excluded.origin",
    [ST_VALUE_GET] = "SELECT value FROM param_value WHERE endpoint = ?1 AND path = ?2",
    [ST_VALUE_DELETE_PREFIX] =
        "DELETE FROM param_value WHERE endpoint = ?1 AND " SUBTREE("path", "?2"),
    [ST_VALUE_LIST] = "SELECT path, value, updated, origin FROM param_value"
                      " WHERE endpoint = ?1 AND " SUBTREE("path", "?2") " ORDER BY path",
    [ST_ATTR_SET] = "INSERT INTO param_attr (endpoint, path, notification, access_list)"
                    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (endpoint, path) DO UPDATE"
                    " SET notification = excluded.notification,"
                    " access_list = excluded.access_list",
    [ST_ATTR_GET] =
        "SELECT notification, access_list FROM param_attr WHERE endpoint = ?1 AND path = ?2",
    [ST_ATTR_DELETE_PREFIX] =
        "DELETE FROM param_attr WHERE endpoint = ?1 AND " SUBTREE("path", "?2"),
    [ST_ATTR_LIST] = "SELECT path, notification, access_list FROM param_attr"
                     " WHERE endpoint = ?1 ORDER BY path",
    [ST_INSTANCE_ADD] = "INSERT INTO instance (endpoint, table_path, number, alias)"
                        " VALUES (?1, ?2, ?3, ?4)",
    /* The instance itself, and every instance of the tables below it. */
    [ST_INSTANCE_DELETE] = "DELETE FROM instance WHERE endpoint = ?1 AND"
                           " (table_path || number || '.' = ?2 OR " SUBTREE("table_path", "?2") ")",
    [ST_INSTANCE_LIST] = "SELECT table_path, number, alias FROM instance WHERE endpoint = ?1"
                         " ORDER BY table_path, number",
    [ST_INSTANCE_NEXT_GET] =
        "SELECT next FROM instance_next WHERE endpoint = ?1 AND table_path = ?2",
    /* max(): the counter only grows, so a number is never handed out twice. */
    [ST_INSTANCE_NEXT_SET] = "INSERT INTO instance_next (endpoint, table_path, next)"
                             " VALUES (?1, ?2, ?3) ON CONFLICT (endpoint, table_path) DO UPDATE"
                             " SET next = max(next, excluded.next)",
    [ST_INSTANCE_NEXT_LIST] = "SELECT table_path, next FROM instance_next WHERE endpoint = ?1"
                              " ORDER BY table_path",
    [ST_NOTIFY_ADD] = "INSERT INTO notify (endpoint, path, notification) VALUES (?1, ?2, ?3)"
                      " ON CONFLICT (endpoint, path) DO UPDATE"
                      " SET notification = excluded.notification",
    [ST_NOTIFY_LIST] = "SELECT path, notification FROM notify WHERE endpoint = ?1 ORDER BY id",
    [ST_NOTIFY_CLEAR] = WIPE("notify"),
    [ST_NOTIFY_DELETE] = "DELETE FROM notify WHERE endpoint = ?1 AND path = ?2",
    [ST_SETTING_SET] = "INSERT INTO setting (endpoint, key, value) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (endpoint, key) DO UPDATE SET value = excluded.value",
    [ST_SETTING_GET] = "SELECT value FROM setting WHERE endpoint = ?1 AND key = ?2",
    [ST_SETTING_DELETE] = "DELETE FROM setting WHERE endpoint = ?1 AND key = ?2",
    [ST_WIPE_EVENT] = WIPE("event"),
    [ST_WIPE_VALUE] = WIPE("param_value"),
    [ST_WIPE_ATTR] = WIPE("param_attr"),
    [ST_WIPE_INSTANCE] = WIPE("instance"),
    [ST_WIPE_INSTANCE_NEXT] = WIPE("instance_next"),
    [ST_WIPE_SETTING] = WIPE("setting"),
    [ST_TRANSFER_ADD] =
        "INSERT INTO transfer (endpoint, kind, autonomous, command_key, file_type, url, username,"
        " password, file_size, target_file_name, windows, state, created, due, start_time,"
        " complete_time, fault_code, fault_string, event_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19)",
    [ST_TRANSFER_UPDATE] = "UPDATE transfer SET state = ?3, due = ?4, start_time = ?5,"
                           " complete_time = ?6, fault_code = ?7, fault_string = ?8,"
                           " event_id = ?9 WHERE endpoint = ?1 AND id = ?2",
    [ST_TRANSFER_LIST] =
        "SELECT id, kind, autonomous, command_key, file_type, url, username, password,"
        " file_size, target_file_name, windows, state, created, due, start_time,"
        " complete_time, fault_code, fault_string, event_id FROM transfer"
        " WHERE endpoint = ?1 ORDER BY id",
    [ST_TRANSFER_DELETE] = "DELETE FROM transfer WHERE endpoint = ?1 AND id = ?2",
    [ST_WIPE_TRANSFER] = WIPE("transfer"),
};

/* ---- Helpers ---- */

static const char *col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

/* Run a one-row query: CACHE_OK with the row current (the caller reads it, then resets),
 * CACHE_NOTFOUND or CACHE_ERROR with the statement reset. */
static int fetch_row(struct cache *c, const char *op, sqlite3_stmt *st)
{
    if (!st)
        return CACHE_ERROR;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return CACHE_OK;
    if (rc != SQLITE_DONE)
        return cache_fail(c, op, st);
    sqlite3_reset(st);
    return CACHE_NOTFOUND;
}

/* Column 0 of a one-row query as a malloc'd string (NULL unless CACHE_OK). */
static int fetch_text(struct cache *c, const char *op, sqlite3_stmt *st, char **out)
{
    *out = NULL;
    int rc = fetch_row(c, op, st);
    if (rc != CACHE_OK)
        return rc;
    *out = strdup(col_text(st, 0));
    sqlite3_reset(st);
    return *out ? CACHE_OK : cache_fail_msg(c, "%s: out of memory", op);
}

/* A delete of one row: CACHE_NOTFOUND if there was none. */
static int run_delete(struct cache *c, const char *op, sqlite3_stmt *st)
{
    int rc = cache_stmt_run(c, op, st);
    if (rc == CACHE_OK && sqlite3_changes(c->db) == 0)
        return CACHE_NOTFOUND;
    return rc;
}

/* One list call: `emit` turns the current row into a call of the typed callback. */
struct row_sink {
    void (*emit)(const struct row_sink *s, sqlite3_stmt *st);
    union {
        cache_event_cb event;
        cache_value_cb value;
        cache_attr_cb attr;
        cache_instance_cb instance;
        cache_next_cb next;
        cache_notify_cb notify;
        cache_transfer_cb transfer;
    } cb;
    void *arg;
};

static int list_rows(struct cache *c, const char *op, sqlite3_stmt *st, const struct row_sink *s)
{
    if (!st)
        return CACHE_ERROR;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        s->emit(s, st);
    if (rc != SQLITE_DONE)
        return cache_fail(c, op, st);
    sqlite3_reset(st);
    return CACHE_OK;
}

/* ---- Event queue ---- */

int cache_event_add(struct cache *c, const char *endpoint, const char *code,
                    const char *command_key, int64_t *out_id)
{
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_EVENT_ADD, "kkti", endpoint, code,
                                       command_key, (int64_t)time(NULL));
    if (cache_stmt_run(c, __func__, st) != CACHE_OK)
        return CACHE_ERROR;
    if (out_id)
        *out_id = sqlite3_last_insert_rowid(c->db);
    return CACHE_OK;
}

static void emit_event(const struct row_sink *s, sqlite3_stmt *st)
{
    struct cache_event ev = {
        .id = sqlite3_column_int64(st, 0),
        .code = col_text(st, 1),
        .command_key = col_text(st, 2),
        .created = sqlite3_column_int64(st, 3),
    };
    s->cb.event(s->arg, &ev);
}

int cache_event_list(struct cache *c, const char *endpoint, cache_event_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_event, .cb.event = cb, .arg = arg};
    return list_rows(c, __func__, cache_stmt_bind(c, __func__, ST_EVENT_LIST, "k", endpoint), &s);
}

int cache_event_delete(struct cache *c, const char *endpoint, int64_t id)
{
    return run_delete(c, __func__,
                      cache_stmt_bind(c, __func__, ST_EVENT_DELETE, "ki", endpoint, id));
}

int cache_event_delete_code(struct cache *c, const char *endpoint, const char *code)
{
    return cache_stmt_run(c, __func__,
                          cache_stmt_bind(c, __func__, ST_EVENT_DELETE_CODE, "kn", endpoint, code));
}

bool cache_event_has(struct cache *c, const char *endpoint, const char *code)
{
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_EVENT_HAS, "kk", endpoint, code);
    if (fetch_row(c, __func__, st) != CACHE_OK)
        return false;
    sqlite3_reset(st);
    return true;
}

/* ---- Parameter values ---- */

int cache_value_set(struct cache *c, const char *endpoint, const char *path, const char *value,
                    const char *origin)
{
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_VALUE_SET, "kktit", endpoint, path, value,
                                       (int64_t)time(NULL), origin);
    return cache_stmt_run(c, __func__, st);
}

int cache_value_get(struct cache *c, const char *endpoint, const char *path, char **value)
{
    return fetch_text(c, __func__, cache_stmt_bind(c, __func__, ST_VALUE_GET, "kk", endpoint, path),
                      value);
}

int cache_value_delete_prefix(struct cache *c, const char *endpoint, const char *prefix)
{
    return cache_stmt_run(
        c, __func__, cache_stmt_bind(c, __func__, ST_VALUE_DELETE_PREFIX, "kt", endpoint, prefix));
}

static void emit_value(const struct row_sink *s, sqlite3_stmt *st)
{
    s->cb.value(s->arg, col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2),
                col_text(st, 3));
}

int cache_value_list(struct cache *c, const char *endpoint, const char *prefix, cache_value_cb cb,
                     void *arg)
{
    struct row_sink s = {.emit = emit_value, .cb.value = cb, .arg = arg};
    return list_rows(c, __func__,
                     cache_stmt_bind(c, __func__, ST_VALUE_LIST, "kt", endpoint, prefix), &s);
}

/* ---- Attributes ---- */

int cache_attr_set(struct cache *c, const char *endpoint, const char *path, int notification,
                   const char *access_list)
{
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_ATTR_SET, "kkdt", endpoint, path,
                                       notification, access_list);
    return cache_stmt_run(c, __func__, st);
}

int cache_attr_get(struct cache *c, const char *endpoint, const char *path, int *notification,
                   char **access_list)
{
    *access_list = NULL;
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_ATTR_GET, "kk", endpoint, path);
    int rc = fetch_row(c, __func__, st);
    if (rc != CACHE_OK)
        return rc;
    *notification = sqlite3_column_int(st, 0);
    *access_list = strdup(col_text(st, 1));
    sqlite3_reset(st);
    return *access_list ? CACHE_OK : cache_fail_msg(c, "%s: out of memory", __func__);
}

int cache_attr_delete_prefix(struct cache *c, const char *endpoint, const char *prefix)
{
    return cache_stmt_run(
        c, __func__, cache_stmt_bind(c, __func__, ST_ATTR_DELETE_PREFIX, "kt", endpoint, prefix));
}

static void emit_attr(const struct row_sink *s, sqlite3_stmt *st)
{
    s->cb.attr(s->arg, col_text(st, 0), sqlite3_column_int(st, 1), col_text(st, 2));
}

int cache_attr_list(struct cache *c, const char *endpoint, cache_attr_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_attr, .cb.attr = cb, .arg = arg};
    return list_rows(c, __func__, cache_stmt_bind(c, __func__, ST_ATTR_LIST, "k", endpoint), &s);
}

/* ---- Instances ---- */

int cache_instance_add(struct cache *c, const char *endpoint, const char *table_path,
                       unsigned number, const char *alias)
{
    if (cache_begin(c) != CACHE_OK)
        return CACHE_ERROR;
    /* Keep the counter above every number in use, even one the caller chose (A.3.2.6). */
    if (cache_stmt_run(c, __func__,
                       cache_stmt_bind(c, __func__, ST_INSTANCE_ADD, "kkut", endpoint, table_path,
                                       number, alias)) != CACHE_OK ||
        cache_stmt_run(c, __func__,
                       cache_stmt_bind(c, __func__, ST_INSTANCE_NEXT_SET, "kki", endpoint,
                                       table_path, (int64_t)number + 1)) != CACHE_OK) {
        cache_rollback(c);
        return CACHE_ERROR;
    }
    return cache_commit(c);
}

int cache_instance_delete(struct cache *c, const char *endpoint, const char *instance_path)
{
    size_t len = instance_path ? strlen(instance_path) : 0;
    /* Without the final '.', "X.1" would also be a prefix of "X.10." */
    if (len == 0 || instance_path[len - 1] != '.')
        return cache_fail_msg(c, "%s: instance path \"%s\" must end with '.'", __func__,
                              instance_path ? instance_path : "(null)");
    return run_delete(
        c, __func__,
        cache_stmt_bind(c, __func__, ST_INSTANCE_DELETE, "kk", endpoint, instance_path));
}

static void emit_instance(const struct row_sink *s, sqlite3_stmt *st)
{
    s->cb.instance(s->arg, col_text(st, 0), (unsigned)sqlite3_column_int64(st, 1), col_text(st, 2));
}

int cache_instance_list(struct cache *c, const char *endpoint, cache_instance_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_instance, .cb.instance = cb, .arg = arg};
    return list_rows(c, __func__, cache_stmt_bind(c, __func__, ST_INSTANCE_LIST, "k", endpoint),
                     &s);
}

int cache_instance_next_get(struct cache *c, const char *endpoint, const char *table_path,
                            unsigned *next)
{
    *next = 1;
    sqlite3_stmt *st =
        cache_stmt_bind(c, __func__, ST_INSTANCE_NEXT_GET, "kk", endpoint, table_path);
    int rc = fetch_row(c, __func__, st);
    if (rc != CACHE_OK)
        return rc;
    *next = (unsigned)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return CACHE_OK;
}

int cache_instance_next_set(struct cache *c, const char *endpoint, const char *table_path,
                            unsigned next)
{
    return cache_stmt_run(
        c, __func__,
        cache_stmt_bind(c, __func__, ST_INSTANCE_NEXT_SET, "kku", endpoint, table_path, next));
}

static void emit_next(const struct row_sink *s, sqlite3_stmt *st)
{
    s->cb.next(s->arg, col_text(st, 0), (unsigned)sqlite3_column_int64(st, 1));
}

int cache_instance_next_list(struct cache *c, const char *endpoint, cache_next_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_next, .cb.next = cb, .arg = arg};
    return list_rows(c, __func__,
                     cache_stmt_bind(c, __func__, ST_INSTANCE_NEXT_LIST, "k", endpoint), &s);
}

/* ---- Pending notifications ---- */

int cache_notify_add(struct cache *c, const char *endpoint, const char *path, int notification)
{
    return cache_stmt_run(
        c, __func__,
        cache_stmt_bind(c, __func__, ST_NOTIFY_ADD, "kkd", endpoint, path, notification));
}

static void emit_notify(const struct row_sink *s, sqlite3_stmt *st)
{
    s->cb.notify(s->arg, col_text(st, 0), sqlite3_column_int(st, 1));
}

int cache_notify_list(struct cache *c, const char *endpoint, cache_notify_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_notify, .cb.notify = cb, .arg = arg};
    return list_rows(c, __func__, cache_stmt_bind(c, __func__, ST_NOTIFY_LIST, "k", endpoint), &s);
}

int cache_notify_clear(struct cache *c, const char *endpoint)
{
    return cache_stmt_run(c, __func__,
                          cache_stmt_bind(c, __func__, ST_NOTIFY_CLEAR, "k", endpoint));
}

int cache_notify_delete(struct cache *c, const char *endpoint, const char *path)
{
    return cache_stmt_run(c, __func__,
                          cache_stmt_bind(c, __func__, ST_NOTIFY_DELETE, "kk", endpoint, path));
}

/* ---- Endpoint settings ---- */

int cache_setting_set(struct cache *c, const char *endpoint, const char *key, const char *value)
{
    return cache_stmt_run(
        c, __func__, cache_stmt_bind(c, __func__, ST_SETTING_SET, "kkt", endpoint, key, value));
}

int cache_setting_get(struct cache *c, const char *endpoint, const char *key, char **value)
{
    return fetch_text(c, __func__,
                      cache_stmt_bind(c, __func__, ST_SETTING_GET, "kk", endpoint, key), value);
}

int cache_setting_delete(struct cache *c, const char *endpoint, const char *key)
{
    return run_delete(c, __func__,
                      cache_stmt_bind(c, __func__, ST_SETTING_DELETE, "kk", endpoint, key));
}

/* ---- File transfers ---- */

int cache_transfer_add(struct cache *c, const char *endpoint, const struct cache_transfer *t,
                       int64_t *out_id)
{
    sqlite3_stmt *st = cache_stmt_bind(
        c, __func__, ST_TRANSFER_ADD, "kddtttttittdiiiidti", endpoint, t->kind,
        (int)t->autonomous, t->command_key, t->file_type, t->url, t->username, t->password,
        t->file_size, t->target_file_name, t->windows, t->state, t->created, t->due,
        t->start_time, t->complete_time, t->fault_code, t->fault_string, t->event_id);
    if (cache_stmt_run(c, __func__, st) != CACHE_OK)
        return CACHE_ERROR;
    if (out_id)
        *out_id = sqlite3_last_insert_rowid(c->db);
    return CACHE_OK;
}

int cache_transfer_update(struct cache *c, const char *endpoint, const struct cache_transfer *t)
{
    sqlite3_stmt *st = cache_stmt_bind(c, __func__, ST_TRANSFER_UPDATE, "kidiiidti", endpoint,
                                       t->id, t->state, t->due, t->start_time, t->complete_time,
                                       t->fault_code, t->fault_string, t->event_id);
    return run_delete(c, __func__, st); /* CACHE_NOTFOUND when no row has that id */
}

static void emit_transfer(const struct row_sink *s, sqlite3_stmt *st)
{
    struct cache_transfer t = {
        .id = sqlite3_column_int64(st, 0),
        .kind = sqlite3_column_int(st, 1),
        .autonomous = sqlite3_column_int(st, 2) != 0,
        .command_key = col_text(st, 3),
        .file_type = col_text(st, 4),
        .url = col_text(st, 5),
        .username = col_text(st, 6),
        .password = col_text(st, 7),
        .file_size = sqlite3_column_int64(st, 8),
        .target_file_name = col_text(st, 9),
        .windows = col_text(st, 10),
        .state = sqlite3_column_int(st, 11),
        .created = sqlite3_column_int64(st, 12),
        .due = sqlite3_column_int64(st, 13),
        .start_time = sqlite3_column_int64(st, 14),
        .complete_time = sqlite3_column_int64(st, 15),
        .fault_code = sqlite3_column_int(st, 16),
        .fault_string = col_text(st, 17),
        .event_id = sqlite3_column_int64(st, 18),
    };
    s->cb.transfer(s->arg, &t);
}

int cache_transfer_list(struct cache *c, const char *endpoint, cache_transfer_cb cb, void *arg)
{
    struct row_sink s = {.emit = emit_transfer, .cb.transfer = cb, .arg = arg};
    return list_rows(c, __func__, cache_stmt_bind(c, __func__, ST_TRANSFER_LIST, "k", endpoint),
                     &s);
}

int cache_transfer_delete(struct cache *c, const char *endpoint, int64_t id)
{
    return run_delete(c, __func__,
                      cache_stmt_bind(c, __func__, ST_TRANSFER_DELETE, "ki", endpoint, id));
}

/* ---- Whole endpoint ---- */

int cache_endpoint_wipe(struct cache *c, const char *endpoint)
{
    static const enum cache_stmt wipe[] = {
        ST_WIPE_EVENT,         ST_WIPE_VALUE,   ST_WIPE_ATTR,    ST_WIPE_INSTANCE,
        ST_WIPE_INSTANCE_NEXT, ST_NOTIFY_CLEAR, ST_WIPE_SETTING, ST_WIPE_TRANSFER,
    };
    if (cache_begin(c) != CACHE_OK)
        return CACHE_ERROR;
    for (size_t i = 0; i < sizeof(wipe) / sizeof(wipe[0]); i++) {
        sqlite3_stmt *st = cache_stmt_bind(c, __func__, wipe[i], "k", endpoint);
        if (cache_stmt_run(c, __func__, st) != CACHE_OK) {
            cache_rollback(c);
            return CACHE_ERROR;
        }
    }
    return cache_commit(c);
}
