/*
 * cache.h: the SQLite store, the single source of truth that survives a crash or power loss.
 *
 * One database file (WAL journal) holds, per endpoint (a short text key such as "gateway"):
 * the durable event queue (an event row is deleted only when TR-069 Table 8 says it was
 * delivered), parameter values with time and origin, parameter attributes (Notification,
 * AccessList), table instances (numbers never reused, aliases), pending value-change
 * notifications, the endpoint's settings (bootstrap done, ParameterKey, reboot
 * CommandKey, ...) and the file transfer queue. The schema is versioned (PRAGMA
 * user_version) with ordered migrations.
 *
 * cache/ knows SQL and nothing above it: no CWMP type appears here. Every call is one short
 * statement or transaction; callers on the event loop batch writes with cache_begin /
 * cache_commit. Functions return 0 on success, CACHE_NOTFOUND when a row is absent, or
 * CACHE_ERROR with cache_errmsg() saying why (a full disk, a corrupt file, ...): SQLite's own
 * message and extended code, the operation and the file, recorded where the call failed.
 *
 * Ownership: strings returned through char ** are malloc'd and freed by the caller; list
 * callbacks receive strings valid only during the call (never NULL: an absent text is "").
 * A list callback may call other cache functions, but not the same list again and must not
 * modify the rows being listed. Text arguments other than keys may be NULL (stored as "");
 * a NULL endpoint or path is CACHE_ERROR.
 *
 * Paths: object and table paths end in '.'. A "prefix" argument that ends in '.' (or is "")
 * selects the whole subtree; any other string selects that one parameter, so "X.1" never
 * reaches "X.10.".
 *
 * Robustness: a failure inside a transaction (full disk, I/O error, constraint) rolls the
 * whole transaction back at once; every later call fails until the outermost level is closed
 * by cache_commit (which then returns CACHE_ERROR) or cache_rollback. A batch is thus applied
 * entirely or not at all. cache_commit closes its level even when it fails: it is never
 * followed by cache_rollback; a failed cache_begin opened nothing and is not closed either.
 *
 * Health: whether the file takes writes. A write that fails for a storage reason (full disk,
 * I/O error, read-only file, lock, corruption) makes the cache "failing" with SQLite's message
 * and code; the next write that reaches the file (a statement or a commit that changed rows)
 * makes it healthy again. An observer hears each change of state once, not each failure.
 */
#ifndef PX_CACHE_H
#define PX_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define CACHE_OK 0
#define CACHE_NOTFOUND 1
#define CACHE_ERROR (-1)

struct cache;

enum cache_sync { CACHE_SYNC_NORMAL = 0, CACHE_SYNC_FULL };

/* Open (creating and migrating as needed). path ":memory:" works for tests. On failure *out
 * is NULL and cache_errmsg(NULL) says why (not a database, a newer schema, I/O...). */
int cache_open(struct cache **out, const char *path, enum cache_sync sync);
void cache_close(struct cache *c);
const char *cache_errmsg(const struct cache *c);
int cache_schema_version(struct cache *c);
/* SQLite's extended result code behind cache_errmsg (0 when the message is our own); NULL:
 * that of the last failed cache_open. */
int cache_errcode(const struct cache *c);

/* Take the cache for this process alone: an exclusive, non-blocking lock on the file (flock,
 * released by cache_close), so that a second proxierd on the same file refuses to start
 * instead of sharing its queue. Other SQLite readers and writers are not affected. A
 * ":memory:" cache has nothing to claim. CACHE_ERROR with cache_errmsg when the file is taken. */
int cache_claim(struct cache *c);

/* Health (see above). cache_health returns NULL while writes succeed, else the SQLite message
 * of the write that failed, with its extended code in *code (if code is not NULL). */
typedef void (*cache_health_cb)(void *arg, bool ok, const char *why, int code);
const char *cache_health(const struct cache *c, int *code);
/* Called at each change between healthy and failing (why and code: see cache_health; on the
 * way back, the cause that was cleared). The callback must not call the cache. */
void cache_set_health_cb(struct cache *c, cache_health_cb cb, void *arg);

/* Transactions may nest: only the outermost begin/commit reach SQLite. A rollback at any
 * level rolls back the whole transaction (the outer cache_commit then returns CACHE_ERROR). */
int cache_begin(struct cache *c);
int cache_commit(struct cache *c);
int cache_rollback(struct cache *c);

/* ---- Event queue ---- */
struct cache_event {
    int64_t id; /* ascending in order of arrival */
    const char *code;
    const char *command_key;
    int64_t created; /* unix seconds */
};
typedef void (*cache_event_cb)(void *arg, const struct cache_event *ev);

int cache_event_add(struct cache *c, const char *endpoint, const char *code,
                    const char *command_key, int64_t *out_id);
int cache_event_list(struct cache *c, const char *endpoint, cache_event_cb cb, void *arg);
int cache_event_delete(struct cache *c, const char *endpoint, int64_t id);
/* Delete every event of the endpoint with this code ("1 BOOT"), or all if code is NULL.
 * Deleting nothing is not an error. cache_event_delete returns CACHE_NOTFOUND for no row. */
int cache_event_delete_code(struct cache *c, const char *endpoint, const char *code);
bool cache_event_has(struct cache *c, const char *endpoint, const char *code);

/* ---- Parameter values ---- */
typedef void (*cache_value_cb)(void *arg, const char *path, const char *value, int64_t updated,
                               const char *origin);
int cache_value_set(struct cache *c, const char *endpoint, const char *path, const char *value,
                    const char *origin);
int cache_value_get(struct cache *c, const char *endpoint, const char *path, char **value);
int cache_value_delete_prefix(struct cache *c, const char *endpoint, const char *prefix);
int cache_value_list(struct cache *c, const char *endpoint, const char *prefix, cache_value_cb cb,
                     void *arg);

/* ---- Attributes ---- */
typedef void (*cache_attr_cb)(void *arg, const char *path, int notification,
                              const char *access_list);
/* access_list is the comma-separated list ("" = nobody but the ACS, "Subscriber" ...). */
int cache_attr_set(struct cache *c, const char *endpoint, const char *path, int notification,
                   const char *access_list);
int cache_attr_get(struct cache *c, const char *endpoint, const char *path, int *notification,
                   char **access_list);
int cache_attr_delete_prefix(struct cache *c, const char *endpoint, const char *prefix);
int cache_attr_list(struct cache *c, const char *endpoint, cache_attr_cb cb, void *arg);

/* ---- Instances ---- */
typedef void (*cache_instance_cb)(void *arg, const char *table_path, unsigned number,
                                  const char *alias);
/* add: the table's next counter is raised above `number` if needed; a duplicate number or
 * alias within the table is CACHE_ERROR. */
int cache_instance_add(struct cache *c, const char *endpoint, const char *table_path,
                       unsigned number, const char *alias);
/* Deletes the instance ("X.Table.3.", must end in '.') and every instance below it (by path
 * prefix); CACHE_NOTFOUND if there was none. Next counters are kept. */
int cache_instance_delete(struct cache *c, const char *endpoint, const char *instance_path);
/* In table_path order then number, so parents come before children. */
int cache_instance_list(struct cache *c, const char *endpoint, cache_instance_cb cb, void *arg);
/* The next instance number of a table (kept after deletes so numbers are never reused).
 * next_get gives 1 and CACHE_NOTFOUND for a table never seen; next_set never lowers the
 * stored value. */
int cache_instance_next_get(struct cache *c, const char *endpoint, const char *table_path,
                            unsigned *next);
int cache_instance_next_set(struct cache *c, const char *endpoint, const char *table_path,
                            unsigned next);
typedef void (*cache_next_cb)(void *arg, const char *table_path, unsigned next);
int cache_instance_next_list(struct cache *c, const char *endpoint, cache_next_cb cb, void *arg);

/* ---- Pending notifications (value changes to report in the next Inform) ---- */
typedef void (*cache_notify_cb)(void *arg, const char *path, int notification);
/* Adding a path already pending replaces its notification level, keeping its place. */
int cache_notify_add(struct cache *c, const char *endpoint, const char *path, int notification);
int cache_notify_list(struct cache *c, const char *endpoint, cache_notify_cb cb, void *arg);
int cache_notify_clear(struct cache *c, const char *endpoint);
/* Forget one pending parameter (absent: CACHE_OK, nothing happens). */
int cache_notify_delete(struct cache *c, const char *endpoint, const char *path);

/* ---- Endpoint settings (small key/value store) ---- */
int cache_setting_set(struct cache *c, const char *endpoint, const char *key, const char *value);
int cache_setting_get(struct cache *c, const char *endpoint, const char *key, char **value);
/* CACHE_NOTFOUND if the key was not set. */
int cache_setting_delete(struct cache *c, const char *endpoint, const char *key);

/* ---- File transfers (schema version 2) ---- */
/* One queued, running or completed transfer. kind and state are the caller's codes; times
 * are unix seconds (0 = unknown); windows is the caller's text form of a TimeWindowList. */
struct cache_transfer {
    int64_t id; /* ascending in order of arrival, never reused */
    int kind;
    bool autonomous;
    const char *command_key;
    const char *file_type;
    const char *url;
    const char *username;
    const char *password;
    int64_t file_size;
    const char *target_file_name;
    const char *windows;
    int state;
    int64_t created;
    int64_t due;
    int64_t start_time;
    int64_t complete_time;
    int fault_code;
    const char *fault_string;
    int64_t event_id; /* the "M ..." event that reports its completion, 0 = none yet */
};
typedef void (*cache_transfer_cb)(void *arg, const struct cache_transfer *t);

/* add ignores t->id and sets *out_id. update writes the mutable part (state, due, times,
 * fault, event_id) of the row t->id: CACHE_NOTFOUND if it is gone. */
int cache_transfer_add(struct cache *c, const char *endpoint, const struct cache_transfer *t,
                       int64_t *out_id);
int cache_transfer_update(struct cache *c, const char *endpoint, const struct cache_transfer *t);
int cache_transfer_list(struct cache *c, const char *endpoint, cache_transfer_cb cb, void *arg);
int cache_transfer_delete(struct cache *c, const char *endpoint, int64_t id);

/* ---- Whole endpoint ---- */
/* Factory reset: forget everything of the endpoint (events, values, attributes, instances,
 * notifications, settings, transfers) in one transaction. */
int cache_endpoint_wipe(struct cache *c, const char *endpoint);

#endif
