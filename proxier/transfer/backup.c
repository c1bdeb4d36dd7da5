/*
 * backup.c: writing an endpoint's configuration backup and restoring one (see backup.h;
 * TR-069 A.4.1.5, A.3.2.8, and A.3.2.1 / A.3.2.4 / A.3.2.6 for how each part is applied).
 *
 * A restore runs: read and parse the file; check it, registering the rows it creates in
 * the model only (so that the values in them can be checked), which is undone on any
 * fault; then one cache transaction: each new row through its provider and into the cache,
 * the attributes, the values (setvalues.h), commit. A fault anywhere rolls back the cache,
 * forgets the new rows and reloads the ManagementServer values.
 */
#include "proxier/transfer/backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/notify.h"
#include "proxier/core/setvalues.h"
#include "proxier/dm/dm.h"
#include "proxier/transfer/backup_file.h"

/* A.3.3.2: a FaultString is string(256). */
#define FAULT_STRING_MAX 256

/* ---- Writing ---- */

struct writer {
    struct endpoint *ep;
    struct buf *out;
};

static void write_instance(void *arg, const char *table, unsigned number, const char *alias)
{
    struct writer *w = arg;
    const struct dm_node *node = dm_resolve_table(w->ep->model, table, NULL);
    char path[300];
    snprintf(path, sizeof(path), "%s%u.", table, number);
    /* Rows of read-only tables are the CPE's own: it creates them again by itself. */
    if (!node || !node->writable || !dm_object_exists(w->ep->model, path))
        return;
    struct backup_record r = {.kind = BACKUP_INSTANCE, .path = path};
    backup_file_write_record(w->out, &r);
}

static void write_value(void *arg, const char *path, const char *value, int64_t updated,
                        const char *origin)
{
    struct writer *w = arg;
    const struct dm_node *node = dm_resolve_param(w->ep->model, path, NULL);
    if (strcmp(origin, "acs") != 0 || !node || !node->writable || node->hidden)
        return;
    struct backup_record r = {.kind = BACKUP_VALUE, .path = (char *)path, .value = (char *)value};
    backup_file_write_record(w->out, &r);
}

static void write_attr(void *arg, const char *path, int notification, const char *access)
{
    struct writer *w = arg;
    if (!dm_resolve_param(w->ep->model, path, NULL))
        return;
    struct backup_record r = {.kind = BACKUP_ATTR,
                              .path = (char *)path,
                              .notification = notification,
                              .access_list = (char *)access};
    backup_file_write_record(w->out, &r);
}

int backup_text(struct endpoint *ep, struct buf *out)
{
    struct cache *c = ep->env.cache;
    struct writer w = {ep, out};
    char now[32], comment[512];
    soap_format_time(time(NULL), now);
    snprintf(comment, sizeof(comment), "%s %s-%s-%s, proxierd %s, %s", ep->key, ep->id.oui,
             ep->id.product_class, ep->id.serial_number, PROXIER_VERSION, now);
    backup_file_write_header(out, comment);
    /* Rows first: a restore creates them before it sets the values that live in them. */
    if (cache_instance_list(c, ep->key, write_instance, &w) != CACHE_OK ||
        cache_value_list(c, ep->key, "", write_value, &w) != CACHE_OK ||
        cache_attr_list(c, ep->key, write_attr, &w) != CACHE_OK)
        return px_err_set(-1, "cannot read the configuration: %s", cache_errmsg(c));
    return buf_failed(out) ? px_err_set(-1, "out of memory") : 0;
}

/* ---- Restoring ---- */

struct backup_restore {
    struct endpoint *ep;
    bool local;
    struct backup_file file;
    struct setvalues *values;
    char **created; /* rows registered in the model by this restore, parents first */
    size_t n_created;
    size_t next_add; /* created[next_add] is the next row to hand to its provider */
    struct dm_request *pending_add;
    size_t n_values, n_attrs, n_attrs_skipped;
    bool in_transaction;
    bool applying; /* providers were asked: a failure needs the values in memory reloaded */
    bool starting; /* inside backup_restore_start */
    bool finished;
    backup_restore_cb cb;
    void *arg;
};

static void restore_free(struct backup_restore *r)
{
    if (r->pending_add)
        dm_request_free(r->pending_add);
    setvalues_free(r->values);
    for (size_t i = 0; i < r->n_created; i++)
        free(r->created[i]);
    free(r->created);
    backup_file_free(&r->file);
    free(r);
}

/* A fault string for the ACS: at most FAULT_STRING_MAX characters of valid UTF-8 without
 * control characters (a message may quote a value of the file: any bytes). */
static void fault_text(char *out, size_t size, const char *msg)
{
    size_t o = 0, chars = 0;
    const unsigned char *p = (const unsigned char *)msg;
    while (*p && o + 5 < size && chars < FAULT_STRING_MAX) {
        size_t n = *p < 0x80                           ? 1
                   : (*p & 0xE0) == 0xC0               ? 2
                   : (*p & 0xF0) == 0xE0               ? 3
                   : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 4
                                                       : 0;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                n = 0;
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)) || (n == 2 && *p < 0xC2)) {
            out[o++] = '?';
            p++;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
        chars++;
    }
    out[o] = '\0';
}

static void finish(struct backup_restore *r, int fault, const char *msg)
{
    char text[FAULT_STRING_MAX * 4 + 8];
    fault_text(text, sizeof(text), fault ? msg : "");
    r->finished = true;
    r->cb(r->arg, fault, text);
    if (!r->starting)
        restore_free(r);
}

/* Forget the rows this restore registered, children first (one its add already dropped
 * is gone: that delete fails harmlessly). */
static void forget_rows(struct backup_restore *r)
{
    for (size_t i = r->n_created; i-- > 0;)
        dm_instance_delete(r->ep->model, r->created[i]);
}

/* Undo everything and report fault. */
static void fail(struct backup_restore *r, int fault, const char *msg)
{
    char why[1024];
    snprintf(why, sizeof(why), "%s", msg);
    if (r->in_transaction) {
        r->in_transaction = false;
        cache_rollback(r->ep->env.cache);
    }
    forget_rows(r);
    /* After the rollback: what a provider applied in memory went with it. */
    if (r->applying)
        mgmt_reload(r->ep);
    LOG_WARN("backup", "%s: configuration not restored, nothing changed: %s", r->ep->key, why);
    finish(r, fault, why);
}

static int read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return px_err_set(PX_ERR_INTERNAL, "cannot open %s: %s", path, strerror(errno));
    /* One byte more than the limit, so that the parser sees a file that is too large. */
    *data = malloc(BACKUP_FILE_MAX_BYTES + 1);
    *len = *data ? fread(*data, 1, BACKUP_FILE_MAX_BYTES + 1, f) : 0;
    int failed = !*data || ferror(f);
    fclose(f);
    return failed ? px_err_set(PX_ERR_INTERNAL, "cannot read %s", path) : 0;
}

/* ---- Checking (nothing changes but the rows registered in the model) ---- */

static int line_fault(int code, const struct backup_record *rec, const char *why)
{
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", why);
    return px_err_set(code, "line %u: %s", rec->line, msg);
}

/* "T.3." -> table "T." and 3; 0 if path is no row path. */
static unsigned split_row(const char *path, char *table, size_t size)
{
    size_t n = strlen(path);
    if (n < 3 || path[n - 1] != '.')
        return 0;
    size_t start = n - 1;
    while (start > 0 && path[start - 1] >= '0' && path[start - 1] <= '9')
        start--;
    if (start == n - 1 || start == 0 || path[start - 1] != '.' || path[start] == '0' ||
        n - 1 - start > 9 || start >= size)
        return 0;
    memcpy(table, path, start);
    table[start] = '\0';
    return (unsigned)strtoul(path + start, NULL, 10);
}

/* cwmp.max_instances, as AddObject counts it (rpc_objects.c). */
static bool table_full(const struct backup_restore *r, const char *table)
{
    unsigned max = r->ep->env.cfg->max_instances;
    unsigned *numbers = malloc((max + 1) * sizeof(*numbers));
    size_t rows = numbers ? dm_instance_list(r->ep->model, table, numbers, max + 1) : max;
    free(numbers);
    return rows >= max;
}

/* A.3.2.6: a row of a table the ACS may add to, within cwmp.max_instances. */
static int check_row(struct backup_restore *r, const struct backup_record *rec)
{
    struct dm_model *m = r->ep->model;
    char table[300];
    unsigned number = split_row(rec->path, table, sizeof(table));
    if (!number)
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec, "not a table row path (\"T.N.\")");
    int fault;
    const struct dm_node *node = dm_resolve_table(m, table, &fault);
    if (!node)
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec, px_err_msg());
    if (!node->writable)
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec,
                          "rows of this table are created by the CPE only");
    if (dm_object_exists(m, rec->path))
        return 0; /* there already: nothing to do */
    if (table_full(r, table))
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec,
                          "the table already holds the most rows this CPE supports");
    if (dm_instance_add(m, table, number, NULL, NULL) != 0)
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec, px_err_msg());
    r->created = realloc(r->created, (r->n_created + 1) * sizeof(*r->created));
    r->created[r->n_created++] = strdup(rec->path);
    return 0;
}

static int check_attr(struct backup_restore *r, const struct backup_record *rec)
{
    int fault;
    const struct dm_node *node = dm_resolve_param(r->ep->model, rec->path, &fault);
    if (!node || notify_attr_check(node, rec->notification) != 0)
        return line_fault(PX_ERR_DOWNLOAD_CORRUPTED, rec, px_err_msg());
    r->n_attrs++;
    return 0;
}

static int check_value(struct backup_restore *r, const struct backup_record *rec)
{
    int rc = setvalues_add(r->values, rec->path, rec->value, NULL);
    r->n_values++;
    /* A.5.1: only a local restore's AccessList refusal is "request denied" */
    return rc ? line_fault(rc == PX_ERR_REQUEST_DENIED ? rc : PX_ERR_DOWNLOAD_CORRUPTED, rec,
                           px_err_msg())
              : 0;
}

static int by_path_length(const void *a, const void *b)
{
    size_t la = strlen((*(const struct backup_record *const *)a)->path);
    size_t lb = strlen((*(const struct backup_record *const *)b)->path);
    return la < lb ? -1 : la > lb;
}

/* Rows first, parents before children (a parent's path is shorter), whatever the order of
 * the file; then attributes and values. 0 or the fault with px_err_msg(). */
static int check_all(struct backup_restore *r)
{
    size_t n = r->file.n, k = 0;
    const struct backup_record **rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (r->file.records[i].kind == BACKUP_INSTANCE)
            rows[k++] = &r->file.records[i];
    qsort(rows, k, sizeof(*rows), by_path_length);
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++)
        rc = check_row(r, rows[i]);
    free(rows);
    for (size_t i = 0; i < n && !rc; i++) {
        const struct backup_record *rec = &r->file.records[i];
        if (rec->kind == BACKUP_VALUE)
            rc = check_value(r, rec);
        else if (rec->kind == BACKUP_ATTR && r->local)
            r->n_attrs_skipped++;
        else if (rec->kind == BACKUP_ATTR)
            rc = check_attr(r, rec);
    }
    return rc;
}

/* ---- Applying (one transaction) ---- */

static unsigned value_line(const struct backup_restore *r, const char *path)
{
    for (size_t i = 0; i < r->file.n; i++)
        if (r->file.records[i].kind == BACKUP_VALUE && !strcmp(r->file.records[i].path, path))
            return r->file.records[i].line;
    return 0;
}

static void values_set(void *arg, int fault, const char *fault_string,
                       const struct setvalues_fault *faults, size_t n)
{
    struct backup_restore *r = arg;
    r->values = NULL; /* freed by setvalues after this call */
    char why[1024];
    if (n) { /* a provider refused a value: name its line */
        fault =
            faults[0].code == PX_ERR_REQUEST_DENIED ? faults[0].code : PX_ERR_DOWNLOAD_CORRUPTED;
        snprintf(why, sizeof(why), "line %u: %s", value_line(r, faults[0].name), faults[0].string);
    } else {
        snprintf(why, sizeof(why), "%s", fault_string ? fault_string : "");
    }
    struct cache *c = r->ep->env.cache;
    if (!fault && r->in_transaction) {
        r->in_transaction = false;
        if (cache_commit(c) != CACHE_OK) { /* closed even so: no rollback after it */
            fault = PX_ERR_INTERNAL;
            snprintf(why, sizeof(why), "cannot store the configuration: %s", cache_errmsg(c));
        }
    }
    if (fault) {
        fail(r, fault, why);
        return;
    }
    LOG_INFO("backup", "%s: configuration restored: %zu rows created, %zu attributes, %zu values",
             r->ep->key, r->n_created, r->n_attrs, r->n_values);
    finish(r, 0, NULL);
}

/* A.3.2.4, as SetParameterAttributes sets them (the file holds each attribute whole). */
static int apply_attrs(struct backup_restore *r)
{
    for (size_t i = 0; i < r->file.n && !r->local; i++) {
        const struct backup_record *rec = &r->file.records[i];
        if (rec->kind != BACKUP_ATTR)
            continue;
        const struct dm_node *node = dm_resolve_param(r->ep->model, rec->path, NULL);
        bool subscriber = strstr(rec->access_list, "Subscriber") != NULL;
        if (notify_attr_set(r->ep, rec->path, node, true, rec->notification, true,
                            subscriber ? "Subscriber" : "") != 0)
            return line_fault(PX_ERR_INTERNAL, rec, px_err_msg());
    }
    return 0;
}

static void add_next(struct backup_restore *r);

/* A row's provider created it: keep it in the cache as AddObject does (A.3.2.6). */
static void row_added(void *arg, struct dm_request *req)
{
    struct backup_restore *r = arg;
    r->pending_add = NULL;
    struct endpoint *ep = r->ep;
    struct cache *c = ep->env.cache;
    int fault = 0;
    char why[512] = "", table[300];
    unsigned number = split_row(r->created[r->next_add], table, sizeof(table));
    if (req->fault) {
        fault = PX_ERR_DOWNLOAD_CORRUPTED;
        snprintf(why, sizeof(why), "%s: %s", r->created[r->next_add], req->fault_string);
    } else if (cache_instance_add(c, ep->key, table, number, NULL) != CACHE_OK ||
               cache_instance_next_set(c, ep->key, table, dm_instance_next(ep->model, table)) !=
                   CACHE_OK) {
        fault = PX_ERR_INTERNAL;
        snprintf(why, sizeof(why), "cannot store the new row: %s", cache_errmsg(c));
    }
    dm_request_free(req);
    if (fault) {
        fail(r, fault, why);
        return;
    }
    r->next_add++;
    add_next(r);
}

/* The next new row to its provider, or, when all are there, attributes and values. */
static void add_next(struct backup_restore *r)
{
    if (r->next_add < r->n_created) {
        r->pending_add = dm_request_new(r->ep->model, DM_OP_ADD);
        dm_request_set_object(r->pending_add, r->created[r->next_add]);
        dm_request_start(r->pending_add, row_added, r);
        return;
    }
    if (apply_attrs(r) != 0) {
        fail(r, PX_ERR_INTERNAL, px_err_msg());
        return;
    }
    setvalues_apply(r->values, values_set, r);
}

struct backup_restore *backup_restore_start(struct endpoint *ep, const char *path, bool local,
                                            backup_restore_cb cb, void *arg)
{
    struct backup_restore *r = calloc(1, sizeof(*r));
    if (!r) {
        cb(arg, PX_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    *r = (struct backup_restore){.ep = ep, .local = local, .cb = cb, .arg = arg, .starting = true};
    r->values = setvalues_new(ep, local ? SETVALUES_LOCAL : SETVALUES_ACS);
    char *data = NULL;
    size_t len = 0;
    int rc = r->values ? read_file(path, &data, &len) : px_err_set(PX_ERR_INTERNAL, "no memory");
    if (!rc)
        rc = backup_file_parse(data, len, &r->file);
    free(data);
    if (!rc)
        rc = check_all(r);
    if (rc) {
        fail(r, rc, px_err_msg());
    } else {
        if (r->n_attrs_skipped)
            LOG_INFO("backup",
                     "%s: %zu attributes not restored: only the ACS changes them "
                     "(A.3.2.4)",
                     ep->key, r->n_attrs_skipped);
        r->in_transaction = cache_begin(ep->env.cache) == CACHE_OK;
        r->applying = true;
        add_next(r);
    }
    r->starting = false;
    if (r->finished) {
        restore_free(r);
        return NULL;
    }
    if (r->in_transaction) { /* a provider answers later: it writes on its own */
        r->in_transaction = false;
        cache_commit(ep->env.cache);
    }
    return r;
}

void backup_restore_cancel(struct backup_restore *r)
{
    if (r)
        restore_free(r);
}
