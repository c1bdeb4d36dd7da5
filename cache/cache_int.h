/*
 * cache_int.h: what the files of cache/ share with each other (and with its unit test):
 * the connection object, the prepared-statement table and the schema migrations.
 * Nothing outside cache/ and tests/unit/test_cache.c includes this file.
 */
#ifndef PX_CACHE_INT_H
#define PX_CACHE_INT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "cache/cache.h"

/* Every statement the store runs, prepared once per connection on first use and then only
 * reset and re-bound: calls come from the event loop and must not re-parse SQL. */
enum cache_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_EVENT_ADD,
    ST_EVENT_LIST,
    ST_EVENT_DELETE,
    ST_EVENT_DELETE_CODE,
    ST_EVENT_HAS,
    ST_VALUE_SET,
    ST_VALUE_GET,
    ST_VALUE_DELETE_PREFIX,
    ST_VALUE_LIST,
    ST_ATTR_SET,
    ST_ATTR_GET,
    ST_ATTR_DELETE_PREFIX,
    ST_ATTR_LIST,
    ST_INSTANCE_ADD,
    ST_INSTANCE_DELETE,
    ST_INSTANCE_LIST,
    ST_INSTANCE_NEXT_GET,
    ST_INSTANCE_NEXT_SET,
    ST_INSTANCE_NEXT_LIST,
    ST_NOTIFY_ADD,
    ST_NOTIFY_LIST,
    ST_NOTIFY_CLEAR,
    ST_NOTIFY_DELETE,
    ST_SETTING_SET,
    ST_SETTING_GET,
    ST_SETTING_DELETE,
    ST_WIPE_EVENT,
    ST_WIPE_VALUE,
    ST_WIPE_ATTR,
    ST_WIPE_INSTANCE,
    ST_WIPE_INSTANCE_NEXT,
    ST_WIPE_SETTING,
    ST_TRANSFER_ADD,
    ST_TRANSFER_UPDATE,
    ST_TRANSFER_LIST,
    ST_TRANSFER_DELETE,
    ST_WIPE_TRANSFER,
    ST_COUNT
};

/* The SQL of each statement, indexed by enum cache_stmt (cache_store.c). */
extern const char *const cache_stmt_sql[ST_COUNT];

struct cache {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[ST_COUNT];
    int depth;   /* cache_begin nesting; only depth 0 <-> 1 reaches SQLite */
    bool doomed; /* the open transaction was rolled back; refuse work until it is closed */
    char errmsg[512];
    int errcode;          /* SQLite's extended code behind errmsg; 0 for a message of ours */
    char errwhy[320];     /* SQLite's part of errmsg: message, code (and errno) */
    int os_errno;         /* the system's errno behind errcode, 0 if none */
    int tx_changes;       /* sqlite3_total_changes at the outermost begin */
    bool failing;         /* the last write failed (cache_health) */
    char health_msg[256]; /* its SQLite message */
    int health_code;      /* and extended code */
    cache_health_cb health_cb;
    void *health_arg;
    int claim_fd; /* cache_claim's lock on the file, -1 if none */
};

/* Schema migrations: step i (0-based) takes the database from user_version i to i + 1. */
extern const char *const cache_migrations[];
extern const int cache_migration_count;

/* cache_open with an explicit migration list (the unit test adds steps to prove upgrades). */
int cache_open_schema(struct cache **out, const char *path, enum cache_sync sync,
                      const char *const *migrations, int count);

/* The statement `id`, reset and bound from `fmt`: one letter per parameter, in order:
 *   'k' a key string (endpoint, path...): NULL is an error
 *   't' a text value: NULL is stored as ""
 *   'i' an int64_t, 'u' an unsigned, 'd' an int.
 * Returns NULL with cache_errmsg set if the transaction is doomed, the statement is already
 * running (re-entrant use from a list callback) or binding fails. */
sqlite3_stmt *cache_stmt_bind(struct cache *c, const char *op, enum cache_stmt id, const char *fmt,
                              ...);

/* Step a statement that returns no rows; reset it. CACHE_OK or CACHE_ERROR. */
int cache_stmt_run(struct cache *c, const char *op, sqlite3_stmt *st);

/* Record the failure of `op` (sqlite's message and code), reset `st` (may be NULL), roll
 * back and doom an open transaction so no half of it is ever committed. Returns CACHE_ERROR. */
int cache_fail(struct cache *c, const char *op, sqlite3_stmt *st);

/* Set a message of our own; same transaction handling as cache_fail. */
int cache_fail_msg(struct cache *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The raw connection, for tests and diagnostics only. */
sqlite3 *cache_sqlite(struct cache *c);

#endif
