/*
 * cache.c: the connection to the SQLite store: open (identity checks, WAL, synchronous,
 * foreign keys, busy timeout), schema migrations, the per-connection prepared-statement
 * cache, error messages and counted (nested) transactions.
 *
 * The schema version lives in PRAGMA user_version; cache_migrations[i] moves a database from
 * version i to i + 1 inside one transaction together with the version bump, so a crash during
 * a migration leaves the old version intact. A database written by a newer proxierd (higher
 * user_version) is refused, never downgraded. The data itself is in cache_store.c.
 *
 * Error policy: any failure inside a transaction rolls the whole transaction back at once
 * (SQLite may already have done so for SQLITE_FULL / SQLITE_IOERR) and "dooms" it: every
 * further call fails until the caller closes the outermost level with cache_commit (which
 * then reports CACHE_ERROR) or cache_rollback. So a batch is applied entirely or not at all.
 */
#include "cache/cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The event loop may wait this long for a lock held by another connection (proxierctl). */
#define CACHE_BUSY_TIMEOUT_MS 2000
/* PRAGMA application_id of our files ("PXCA"), so a foreign SQLite file is recognised. */
#define CACHE_APPLICATION_ID 0x50584341

/* Why the last cache_open failed (there is no struct cache to hold it). */
static _Thread_local char open_errmsg[2048];
static _Thread_local int open_errcode;

/* ---- Schema ---- */

/* Version 1: every table, keyed by endpoint text. Paths end in '.' for objects and tables. */
static const char schema_v1[] =
    "CREATE TABLE event ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT," /* AUTOINCREMENT: ids are never reused */
    "  endpoint TEXT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  command_key TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX event_by_code ON event(endpoint, code);"
    "CREATE TABLE param_value ("
    "  endpoint TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  origin TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (endpoint, path)) WITHOUT ROWID;"
    "CREATE TABLE param_attr ("
    "  endpoint TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  notification INTEGER NOT NULL CHECK (notification BETWEEN 0 AND 6)," /* Table 48 */
    "  access_list TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (endpoint, path)) WITHOUT ROWID;"
    "CREATE TABLE instance ("
    "  endpoint TEXT NOT NULL,"
    "  table_path TEXT NOT NULL CHECK (substr(table_path, -1) = '.'),"
    "  number INTEGER NOT NULL CHECK (number > 0),"
    "  alias TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (endpoint, table_path, number)) WITHOUT ROWID;"
    /* An Alias is unique within its table (TR-069 A.2.2.1 / TR-106 3.6.1). */
    "CREATE UNIQUE INDEX instance_alias ON instance(endpoint, table_path, alias)"
    "  WHERE alias <> '';"
    "CREATE TABLE instance_next ("
    "  endpoint TEXT NOT NULL,"
    "  table_path TEXT NOT NULL,"
    "  next INTEGER NOT NULL CHECK (next > 0),"
    "  PRIMARY KEY (endpoint, table_path)) WITHOUT ROWID;"
    "CREATE TABLE notify ("
    "  id INTEGER PRIMARY KEY," /* keeps the order in which changes were seen */
    "  endpoint TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  notification INTEGER NOT NULL,"
    "  UNIQUE (endpoint, path));"
    "CREATE TABLE setting ("
    "  endpoint TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (endpoint, key)) WITHOUT ROWID;"
    "PRAGMA application_id = 1347961665;"; /* CACHE_APPLICATION_ID in decimal */

/*
 * To change the schema, append a step; never edit a step that has shipped. For example:
 *
 *   static const char schema_v2[] =
 *       "CREATE TABLE device (endpoint TEXT NOT NULL REFERENCES ..., ...);"
 *       "ALTER TABLE param_value ADD COLUMN type TEXT NOT NULL DEFAULT 'string';";
 *
 * and add schema_v2 below: databases at version 1 then run it once on their next open, and
 * the statements of cache_store.c can use the new columns.
 */
/* Version 2: the file transfer queue (TR-069 A.3.2.8, A.4.1.5, A.4.1.8): every request with
 * all its arguments, its state and its outcome, kept until its TransferComplete was
 * delivered (A.3.2.8: queued downloads are retained across reboots). */
static const char schema_v2[] =
    "CREATE TABLE transfer ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  endpoint TEXT NOT NULL,"
    "  kind INTEGER NOT NULL,"          /* what the caller makes of it (Download, Upload...) */
    "  autonomous INTEGER NOT NULL DEFAULT 0,"
    "  command_key TEXT NOT NULL DEFAULT '',"
    "  file_type TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  password TEXT NOT NULL DEFAULT '',"
    "  file_size INTEGER NOT NULL DEFAULT 0,"
    "  target_file_name TEXT NOT NULL DEFAULT '',"
    "  windows TEXT NOT NULL DEFAULT '',"  /* ScheduleDownload TimeWindowList, caller's form */
    "  state INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  due INTEGER NOT NULL DEFAULT 0,"
    "  start_time INTEGER NOT NULL DEFAULT 0,"
    "  complete_time INTEGER NOT NULL DEFAULT 0,"
    "  fault_code INTEGER NOT NULL DEFAULT 0,"
    "  fault_string TEXT NOT NULL DEFAULT '',"
    "  event_id INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX transfer_by_endpoint ON transfer(endpoint, id);";

const char *const cache_migrations[] = {
    schema_v1,
    schema_v2,
};
const int cache_migration_count = sizeof(cache_migrations) / sizeof(cache_migrations[0]);

/* ---- Errors and health ---- */

/* The directory that holds the file `path` (where SQLite also keeps -wal and -shm). */
static void directory_of(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(dir, size, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
}

static void doom(struct cache *c)
{
    if (c->depth == 0 || c->doomed)
        return;
    c->doomed = true;
    /* SQLite may have rolled back already (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM). */
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A failure of the file rather than of the call: the cache as a whole cannot write. */
static bool storage_fault(int code)
{
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_NOLFS:
        return true;
    }
    return false;
}

static void set_health(struct cache *c, bool ok, const char *why, int code)
{
    if (!ok) {
        snprintf(c->health_msg, sizeof(c->health_msg), "%s", why);
        c->health_code = code;
    }
    if (c->failing == !ok)
        return;
    c->failing = !ok;
    if (c->health_cb)
        c->health_cb(c->health_arg, ok, c->health_msg, c->health_code);
}

/* SQLite's message and extended code (and the system's errno where the file could not be
 * opened or read), written into buf: read right after the failing call, before anything
 * else uses the connection. */
static void describe(sqlite3 *db, char *buf, size_t size)
{
    int code = sqlite3_extended_errcode(db);
    int os = sqlite3_system_errno(db);
    /* CANTOPEN: the errno is that of SQLite's last attempt, often misleading (open_failed) */
    bool with_os = os && (code & 0xff) == SQLITE_IOERR;
    snprintf(buf, size, "%s (sqlite error %d%s%s)", sqlite3_errmsg(db), code, with_os ? ", " : "",
             with_os ? strerror(os) : "");
}

/* Keep the first cause: later failures of a doomed transaction are its consequence. */
static void record(struct cache *c, const char *op)
{
    if (c->doomed)
        return;
    int code = sqlite3_extended_errcode(c->db);
    describe(c->db, c->errwhy, sizeof(c->errwhy));
    c->os_errno = sqlite3_system_errno(c->db);
    snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s in %s", op, c->errwhy, c->path);
    c->errcode = code;
    if (storage_fault(code))
        set_health(c, false, sqlite3_errmsg(c->db), code);
}

/* After a full disk, a small write often fits in the space a failed larger one allocated in
 * the WAL file, while the next larger one fails again: counting such a write as recovery
 * would make the health flap at every session. So after SQLITE_FULL the filesystem must also
 * have this much space again. */
#define CACHE_FULL_MARGIN (1024 * 1024)

static bool space_returned(const struct cache *c)
{
    if ((c->health_code & 0xff) != SQLITE_FULL)
        return true;
    char dir[512];
    directory_of(c->path, dir, sizeof(dir));
    struct statvfs vfs;
    if (statvfs(dir, &vfs) != 0)
        return true; /* cannot tell: the write that succeeded is the best evidence */
    return (unsigned long long)vfs.f_bavail * vfs.f_frsize >= CACHE_FULL_MARGIN;
}

/* A write reached the file: the cache is healthy again (after a full disk: if space is). */
static void wrote(struct cache *c)
{
    if (c->failing && space_returned(c))
        set_health(c, true, NULL, 0);
}

int cache_fail(struct cache *c, const char *op, sqlite3_stmt *st)
{
    record(c, op);
    if (st)
        sqlite3_reset(st);
    doom(c);
    return CACHE_ERROR;
}

int cache_fail_msg(struct cache *c, const char *fmt, ...)
{
    if (!c->doomed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
        va_end(ap);
        c->errcode = 0;
    }
    doom(c);
    return CACHE_ERROR;
}

int cache_errcode(const struct cache *c)
{
    return c ? c->errcode : open_errcode;
}

const char *cache_health(const struct cache *c, int *code)
{
    if (code)
        *code = c->failing ? c->health_code : 0;
    return c->failing ? c->health_msg : NULL;
}

void cache_set_health_cb(struct cache *c, cache_health_cb cb, void *arg)
{
    c->health_cb = cb;
    c->health_arg = arg;
}

const char *cache_errmsg(const struct cache *c)
{
    return c ? c->errmsg : open_errmsg;
}

sqlite3 *cache_sqlite(struct cache *c)
{
    return c->db;
}

/* ---- Prepared statements ---- */

static sqlite3_stmt *stmt_get(struct cache *c, const char *op, enum cache_stmt id)
{
    if (c->stmt[id])
        return c->stmt[id];
    if (sqlite3_prepare_v3(c->db, cache_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id],
                           NULL) != SQLITE_OK) {
        cache_fail(c, op, NULL);
        return NULL;
    }
    return c->stmt[id];
}

static int bind_one(struct cache *c, const char *op, sqlite3_stmt *st, int i, char kind,
                    va_list *ap)
{
    const char *s;
    switch (kind) {
    case 'k':
        s = va_arg(*ap, const char *);
        if (!s)
            return cache_fail_msg(c, "%s: missing key (parameter %d is NULL)", op, i);
        return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    case 't':
        s = va_arg(*ap, const char *);
        return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
    case 'n':
        s = va_arg(*ap, const char *);
        return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    case 'i':
        return sqlite3_bind_int64(st, i, va_arg(*ap, int64_t));
    case 'u':
        return sqlite3_bind_int64(st, i, va_arg(*ap, unsigned));
    case 'd':
        return sqlite3_bind_int(st, i, va_arg(*ap, int));
    }
    return cache_fail_msg(c, "%s: bad bind format '%c'", op, kind);
}

sqlite3_stmt *cache_stmt_bind(struct cache *c, const char *op, enum cache_stmt id, const char *fmt,
                              ...)
{
    /* Exit if an earlier failure rolled the open transaction back: errmsg names the cause. */
    if (c->doomed)
        return NULL;
    sqlite3_stmt *st = stmt_get(c, op, id);
    if (!st)
        return NULL;
    if (sqlite3_stmt_busy(st)) {
        cache_fail_msg(c, "%s: called from inside its own list callback", op);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = SQLITE_OK;
    for (int i = 0; fmt[i] && rc == SQLITE_OK; i++)
        rc = bind_one(c, op, st, i + 1, fmt[i], &ap);
    va_end(ap);
    if (rc == CACHE_ERROR)
        return NULL;
    if (rc != SQLITE_OK) {
        cache_fail(c, op, st);
        return NULL;
    }
    return st;
}

int cache_stmt_run(struct cache *c, const char *op, sqlite3_stmt *st)
{
    if (!st)
        return CACHE_ERROR;
    if (sqlite3_step(st) != SQLITE_DONE)
        return cache_fail(c, op, st);
    sqlite3_reset(st);
    if (c->depth == 0 && sqlite3_changes(c->db) > 0)
        wrote(c);
    return CACHE_OK;
}

/* ---- Transactions ---- */

/* BEGIN / COMMIT / ROLLBACK: cached like the others, but allowed while doomed. */
static int tx_exec(struct cache *c, const char *op, enum cache_stmt id)
{
    sqlite3_stmt *st = stmt_get(c, op, id);
    if (!st)
        return CACHE_ERROR;
    if (sqlite3_step(st) != SQLITE_DONE) {
        record(c, op);
        sqlite3_reset(st);
        return CACHE_ERROR;
    }
    sqlite3_reset(st);
    return CACHE_OK;
}

int cache_begin(struct cache *c)
{
    if (c->doomed)
        return CACHE_ERROR;
    /* IMMEDIATE: take the write lock now rather than fail to upgrade halfway. */
    if (c->depth == 0 && tx_exec(c, "cache_begin", ST_BEGIN) != CACHE_OK)
        return CACHE_ERROR;
    if (c->depth == 0)
        c->tx_changes = sqlite3_total_changes(c->db);
    c->depth++;
    return CACHE_OK;
}

int cache_commit(struct cache *c)
{
    if (c->depth == 0)
        return cache_fail_msg(c, "cache_commit without cache_begin");
    c->depth--;
    if (c->doomed) {
        c->doomed = c->depth > 0;
        return CACHE_ERROR;
    }
    if (c->depth > 0)
        return CACHE_OK;
    if (tx_exec(c, "cache_commit", ST_COMMIT) == CACHE_OK) {
        if (sqlite3_total_changes(c->db) != c->tx_changes)
            wrote(c);
        return CACHE_OK;
    }
    /* A failed COMMIT (full disk, I/O error) may leave the transaction open: end it. */
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return CACHE_ERROR;
}

int cache_rollback(struct cache *c)
{
    if (c->depth == 0)
        return cache_fail_msg(c, "cache_rollback without cache_begin");
    int rc = CACHE_OK;
    if (!c->doomed && !sqlite3_get_autocommit(c->db))
        rc = tx_exec(c, "cache_rollback", ST_ROLLBACK);
    c->depth--;
    /* Without savepoints an inner rollback undoes the whole transaction: say so. */
    if (!c->doomed && c->depth > 0)
        snprintf(c->errmsg, sizeof(c->errmsg),
                 "a nested cache_rollback rolled back the whole transaction");
    c->doomed = c->depth > 0;
    return rc;
}

/* ---- Open, migrate, close ---- */

static int open_exec(struct cache *c, const char *op, const char *sql)
{
    if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return cache_fail(c, op, NULL);
    return CACHE_OK;
}

static int query_int(struct cache *c, const char *sql, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
        return cache_fail(c, sql, NULL);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        cache_fail(c, sql, NULL);
        sqlite3_finalize(st);
        return CACHE_ERROR;
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return CACHE_OK;
}

/* Refuse what is not ours: garbage bytes, another program's database, a newer schema. */
static int check_identity(struct cache *c, int known_version)
{
    int version, app_id, tables;
    if (query_int(c, "PRAGMA user_version", &version) != CACHE_OK) {
        if ((c->errcode & 0xff) == SQLITE_NOTADB) {
            cache_fail_msg(c, "%s is not an SQLite database (corrupt or foreign file): %s", c->path,
                           c->errwhy);
            c->errcode = SQLITE_NOTADB;
        }
        return CACHE_ERROR;
    }
    if (version > known_version)
        return cache_fail_msg(c,
                              "%s has cache schema version %d but this build knows only up to "
                              "%d: refusing to open a newer cache (no downgrade)",
                              c->path, version, known_version);
    if (query_int(c, "PRAGMA application_id", &app_id) != CACHE_OK ||
        query_int(c, "SELECT count(*) FROM sqlite_master", &tables) != CACHE_OK)
        return CACHE_ERROR;
    if ((version > 0 && app_id != CACHE_APPLICATION_ID) || (version == 0 && tables > 0))
        return cache_fail_msg(c, "%s is an SQLite database of another program, not a cache",
                              c->path);
    return CACHE_OK;
}

static int configure(struct cache *c, enum cache_sync sync)
{
    /* An in-memory or temporary database (empty file name) has no WAL: that is fine. */
    const char *file = sqlite3_db_filename(c->db, "main");
    bool on_disk = file && *file;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK)
        return cache_fail(c, "journal_mode", NULL);
    int rc = sqlite3_step(st);
    bool wal = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    if (rc != SQLITE_ROW)
        cache_fail(c, "journal_mode", NULL);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return CACHE_ERROR;
    if (on_disk && !wal)
        return cache_fail_msg(c, "%s: cannot switch to the WAL journal", c->path);
    const char *sync_sql =
        sync == CACHE_SYNC_FULL ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    if (open_exec(c, "synchronous", sync_sql) != CACHE_OK)
        return CACHE_ERROR;
    return open_exec(c, "foreign_keys", "PRAGMA foreign_keys = ON");
}

/* Run one migration step if the database is still below `count`. Returns 1 when done. */
static int migrate_step(struct cache *c, const char *const *migrations, int count)
{
    int version;
    char bump[64];
    /* Re-read the version under the write lock: another process may have migrated. */
    if (open_exec(c, "migration", "BEGIN IMMEDIATE") != CACHE_OK)
        return CACHE_ERROR;
    if (query_int(c, "PRAGMA user_version", &version) != CACHE_OK)
        goto fail;
    if (version >= count) {
        if (open_exec(c, "migration", "COMMIT") != CACHE_OK)
            goto fail;
        return 1;
    }
    if (sqlite3_exec(c->db, migrations[version], NULL, NULL, NULL) != SQLITE_OK) {
        cache_fail_msg(c, "%s: migration to schema version %d failed: %s", c->path, version + 1,
                       sqlite3_errmsg(c->db));
        goto fail;
    }
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
    if (open_exec(c, "migration", bump) != CACHE_OK ||
        open_exec(c, "migration", "COMMIT") != CACHE_OK)
        goto fail;
    return CACHE_OK;
fail:
    sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return CACHE_ERROR;
}

static int migrate(struct cache *c, const char *const *migrations, int count)
{
    int rc;
    while ((rc = migrate_step(c, migrations, count)) == CACHE_OK)
        ;
    return rc == 1 ? CACHE_OK : CACHE_ERROR;
}

/* SQLite's errno for a file it cannot open is that of its last attempt (a read-only retry
 * that finds no file says "No such file or directory" for a read-only directory): look at
 * the directory itself. Returns a static text: the directory's problem, else SQLite's errno. */
static const char *directory_problem(const char *path, int os)
{
    static _Thread_local char text[1200];
    char dir[512];
    directory_of(path, dir, sizeof(dir));
    struct stat st;
    if (stat(dir, &st) != 0)
        snprintf(text, sizeof(text), "; directory %s: %s", dir, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        snprintf(text, sizeof(text), "; %s is not a directory", dir);
    else if (access(dir, W_OK | X_OK) != 0)
        snprintf(text, sizeof(text),
                 "; directory %s is not writable (%s): SQLite creates the cache and its -wal "
                 "and -shm files there",
                 dir, strerror(errno));
    else
        text[0] = '\0';
    if (!text[0] && os)
        snprintf(text, sizeof(text), "; system error: %s", strerror(os));
    return text;
}

/* Why cache_open failed, for cache_errmsg(NULL). */
static void open_failed(struct cache *c)
{
    open_errcode = c->errcode;
    int primary = c->errcode & 0xff;
    snprintf(open_errmsg, sizeof(open_errmsg), "%s%s", c->errmsg,
             primary == SQLITE_CANTOPEN ? directory_problem(c->path, c->os_errno)
             : primary == SQLITE_BUSY   ? "; another connection kept a write lock on it for "
                                          "longer than the busy timeout"
                                        : "");
}

int cache_open_schema(struct cache **out, const char *path, enum cache_sync sync,
                      const char *const *migrations, int count)
{
    *out = NULL;
    struct cache *c = calloc(1, sizeof(*c));
    if (!c || !(c->path = strdup(path))) {
        snprintf(open_errmsg, sizeof(open_errmsg), "%s: out of memory", path);
        open_errcode = SQLITE_NOMEM;
        free(c);
        return CACHE_ERROR;
    }
    c->claim_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        if (c->db) {
            c->errcode = sqlite3_extended_errcode(c->db);
            c->os_errno = sqlite3_system_errno(c->db);
            char why[320];
            describe(c->db, why, sizeof(why));
            snprintf(c->errmsg, sizeof(c->errmsg), "cannot open %s: %s", path, why);
        } else {
            snprintf(c->errmsg, sizeof(c->errmsg), "cannot open %s: out of memory", path);
        }
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, CACHE_BUSY_TIMEOUT_MS);
    if (check_identity(c, count) != CACHE_OK || configure(c, sync) != CACHE_OK ||
        migrate(c, migrations, count) != CACHE_OK)
        goto fail;
    *out = c;
    return CACHE_OK;
fail:
    open_failed(c);
    cache_close(c);
    return CACHE_ERROR;
}

int cache_open(struct cache **out, const char *path, enum cache_sync sync)
{
    return cache_open_schema(out, path, sync, cache_migrations, cache_migration_count);
}

void cache_close(struct cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    /* An unfinished transaction is rolled back by SQLite; the last close checkpoints WAL. */
    sqlite3_close_v2(c->db);
    /* Only now: closing a descriptor of the file drops the process's POSIX locks on it,
     * SQLite's included. */
    if (c->claim_fd >= 0)
        close(c->claim_fd);
    free(c->path);
    free(c);
}

int cache_claim(struct cache *c)
{
    const char *file = sqlite3_db_filename(c->db, "main");
    if (!file || !*file || c->claim_fd >= 0)
        return CACHE_OK;
    /* Kept open until cache_close even on failure (see there). */
    c->claim_fd = open(file, O_RDONLY | O_CLOEXEC);
    if (c->claim_fd < 0)
        return cache_fail_msg(c, "cannot open %s to lock it: %s", c->path, strerror(errno));
    if (flock(c->claim_fd, LOCK_EX | LOCK_NB) == 0)
        return CACHE_OK;
    if (errno == EWOULDBLOCK)
        return cache_fail_msg(c,
                              "%s is in use by another process (another proxierd?): it holds "
                              "the lock on the file; stop it first or use another cache.path",
                              c->path);
    return cache_fail_msg(c, "cannot lock %s: %s", c->path, strerror(errno));
}

int cache_schema_version(struct cache *c)
{
    int version;
    if (query_int(c, "PRAGMA user_version", &version) != CACHE_OK)
        return CACHE_ERROR;
    return version;
}
