/*
 * transfer.c: the file transfer queue (see transfer.h): requests, scheduling (DelaySeconds
 * of A.3.2.8, TimeWindowList of A.4.1.8), fetching through http_fetch, applying through
 * transfer_apply, the completion record and its events (Table 8: "7 TRANSFER COMPLETE" with
 * "M Download" / "M ScheduleDownload" / "M Upload", "10 AUTONOMOUS TRANSFER COMPLETE"), the
 * TransferComplete requests of the session, and recovery after a restart.
 *
 * Exactly once: a completion is stored before its events are queued; the row is deleted
 * when the ACS acknowledged its TransferComplete (delivered), before the session deletes
 * the event, so a crash in between leaves an event without a row, which the session drops.
 */
#include "proxier/transfer/transfer.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"
#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/session/http.h"
#include "proxier/transfer/transfer_apply.h"
#include "proxier/transfer/transfer_upload.h"

#define EV_AUTONOMOUS "10 AUTONOMOUS TRANSFER COMPLETE"
/* A.3.2.8: a download that cannot begin within an hour of its time has failed. */
#define START_GRACE_S 3600
/* event_id of an autonomous completion announced with "10 AUTONOMOUS TRANSFER COMPLETE". */
#define ANNOUNCED_AUTONOMOUS (-1)

struct xfer {
    struct xfer *next;
    struct transfer_queue *q;
    int64_t id;
    enum transfer_kind kind;
    bool autonomous;
    char *command_key, *file_type, *url, *username, *password, *target, *windows;
    int64_t file_size, created, due, start_time, complete_time, event_id;
    enum transfer_state state;
    int fault_code;
    char *fault_string;
    const struct session *session; /* requested in this session (DelaySeconds > 0) */
    bool event_queued;             /* recovery: its "M ..." event is still in the queue */
    struct event *timer;
    struct http_fetch *fetch;
    struct transfer_apply *apply;
};

struct transfer_queue {
    struct endpoint *ep;
    struct xfer *list; /* in order of arrival */
};

static void consider(struct xfer *x);

/* ---- Records ---- */

static char *dup0(const char *s)
{
    return strdup(s ? s : "");
}

static struct cache_transfer to_row(const struct xfer *x)
{
    struct cache_transfer t = {
        .id = x->id, .kind = x->kind, .autonomous = x->autonomous,
        .command_key = x->command_key, .file_type = x->file_type, .url = x->url,
        .username = x->username, .password = x->password, .file_size = x->file_size,
        .target_file_name = x->target, .windows = x->windows, .state = x->state,
        .created = x->created, .due = x->due, .start_time = x->start_time,
        .complete_time = x->complete_time, .fault_code = x->fault_code,
        .fault_string = x->fault_string, .event_id = x->event_id,
    };
    return t;
}

static void announce(struct xfer *x);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct xfer *x = arg;
    if (x->state == XS_DONE && x->event_id == 0)
        announce(x);
    else
        consider(x);
}

static struct xfer *xfer_new(struct transfer_queue *q, const struct cache_transfer *t)
{
    struct xfer *x = calloc(1, sizeof(*x));
    x->q = q;
    x->id = t->id;
    x->kind = (enum transfer_kind)t->kind;
    x->autonomous = t->autonomous;
    x->command_key = dup0(t->command_key);
    x->file_type = dup0(t->file_type);
    x->url = dup0(t->url);
    x->username = dup0(t->username);
    x->password = dup0(t->password);
    x->target = dup0(t->target_file_name);
    x->windows = dup0(t->windows);
    x->file_size = t->file_size;
    x->created = t->created;
    x->due = t->due;
    x->start_time = t->start_time;
    x->complete_time = t->complete_time;
    x->event_id = t->event_id;
    x->state = (enum transfer_state)t->state;
    x->fault_code = t->fault_code;
    x->fault_string = dup0(t->fault_string);
    x->timer = evtimer_new(q->ep->env.base, on_timer, x);
    struct xfer **tail = &q->list;
    while (*tail)
        tail = &(*tail)->next;
    *tail = x;
    return x;
}

static void xfer_stop(struct xfer *x)
{
    evtimer_del(x->timer);
    http_fetch_cancel(x->fetch);
    x->fetch = NULL;
    transfer_apply_cancel(x->apply);
    x->apply = NULL;
}

static void xfer_free(struct xfer *x)
{
    xfer_stop(x);
    event_free(x->timer);
    free(x->command_key);
    free(x->file_type);
    free(x->url);
    free(x->username);
    free(x->password);
    free(x->target);
    free(x->windows);
    free(x->fault_string);
    free(x);
}

/* The file a download is fetched into, in the transfer directory. */
static void part_path(const struct xfer *x, char *out, size_t len)
{
    snprintf(out, len, "%s/.transfer-%lld.part", x->q->ep->env.cfg->transfer_dir,
             (long long)x->id);
}

/* Forget x: row and memory (and a partial file). */
static void xfer_remove(struct xfer *x)
{
    struct transfer_queue *q = x->q;
    cache_transfer_delete(q->ep->env.cache, q->ep->key, x->id);
    char part[512];
    part_path(x, part, sizeof(part));
    unlink(part);
    for (struct xfer **p = &q->list; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    xfer_free(x);
}

static int save(struct xfer *x)
{
    struct cache_transfer t = to_row(x);
    struct endpoint *ep = x->q->ep;
    if (cache_transfer_update(ep->env.cache, ep->key, &t) != CACHE_OK) {
        LOG_ERROR("transfer", "%s: cannot store transfer %lld: %s", ep->key, (long long)x->id,
                  cache_errmsg(ep->env.cache));
        return -1;
    }
    return 0;
}

/* ---- Completion ---- */

static const char *event_code(enum transfer_kind k)
{
    return k == XFER_UPLOAD ? "M Upload"
                            : k == XFER_SCHEDULE_DOWNLOAD ? "M ScheduleDownload" : "M Download";
}

static bool in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)); p += n)
        if ((p == list || p[-1] == ',' || p[-1] == ' ') && (!p[n] || p[n] == ','))
            return true;
    return false;
}

/* TR-181 ManagementServer.AutonomousTransferCompletePolicy: report this one? */
static bool policy_allows(const struct xfer *x)
{
    struct endpoint *ep = x->q->ep;
    const char *p = "AutonomousTransferCompletePolicy.";
    char name[96];
    snprintf(name, sizeof(name), "%sEnable", p);
    if (!mgmt_get_bool(ep, name))
        return false;
    snprintf(name, sizeof(name), "%sTransferTypeFilter", p);
    const char *types = mgmt_get(ep, name);
    if (strcmp(types, "Both") && strcmp(types, x->kind == XFER_UPLOAD ? "Upload" : "Download"))
        return false;
    snprintf(name, sizeof(name), "%sResultTypeFilter", p);
    const char *results = mgmt_get(ep, name);
    if (strcmp(results, "Both") && strcmp(results, x->fault_code ? "Failure" : "Success"))
        return false;
    snprintf(name, sizeof(name), "%sFileTypeFilter", p);
    const char *files = mgmt_get(ep, name);
    return !*files || in_list(files, x->file_type);
}

/* Queue the events that make the session report x (x is stored as done). Not while a
 * session runs: its Inform may already carry "7 TRANSFER COMPLETE", which it deletes once
 * its own TransferCompletes went, and a new "M ..." event would then be left without it. */
static void announce(struct xfer *x)
{
    struct endpoint *ep = x->q->ep;
    if (ep->session) {
        struct timeval tv = {1, 0};
        evtimer_add(x->timer, &tv);
        return;
    }
    if (x->autonomous) {
        if (!policy_allows(x)) {
            LOG_INFO("transfer", "%s: autonomous transfer %lld not reported (policy)", ep->key,
                     (long long)x->id);
            xfer_remove(x);
            return;
        }
        /* The transfer as announced and its event: one transaction (a kill -9 between them
         * would report it twice or never). */
        x->event_id = ANNOUNCED_AUTONOMOUS;
        endpoint_begin(ep);
        save(x);
        endpoint_add_event(ep, EV_AUTONOMOUS, "");
        if (endpoint_commit(ep) != 0)
            LOG_WARN("transfer", "%s: the completion of transfer %lld is not durable", ep->key,
                     (long long)x->id);
        return;
    }
    /* "M Download" with the transfer that records it and "7 TRANSFER COMPLETE": one
     * transaction. If the cache cannot take it, the events are kept in memory (x->event_id
     * is then the id in memory) and the transfer is reported in this run only. */
    endpoint_begin(ep);
    endpoint_queue_event(ep, event_code(x->kind), x->command_key, &x->event_id);
    save(x);
    endpoint_add_event(ep, EV_TRANSFER_COMPLETE, "");
    if (endpoint_commit(ep) != 0)
        LOG_WARN("transfer", "%s: the completion of transfer %lld is not durable", ep->key,
                 (long long)x->id);
}

static void set_outcome(struct xfer *x, int fault, const char *text)
{
    x->state = XS_DONE;
    x->complete_time = time(NULL);
    x->fault_code = fault;
    free(x->fault_string);
    x->fault_string = strdup(fault ? (text && *text ? text : px_err_default_string(fault)) : "");
    x->event_id = 0;
}

static void complete(struct xfer *x, int fault, const char *text)
{
    struct endpoint *ep = x->q->ep;
    char part[512];
    xfer_stop(x);
    part_path(x, part, sizeof(part));
    unlink(part); /* a partial or rejected file is of no use */
    set_outcome(x, fault, text);
    if (fault)
        LOG_WARN("transfer", "%s: transfer %lld (%s) failed: %d %s", ep->key, (long long)x->id,
                 x->url, fault, x->fault_string);
    else
        LOG_INFO("transfer", "%s: transfer %lld (%s) completed", ep->key, (long long)x->id,
                 x->url);
    if (save(x) == 0)
        announce(x);
}

/* A.3.2.8: a firmware that needs a reboot is reported after it, with "1 BOOT": the done
 * record is stored unannounced, and transfer_attach announces it at the next start. */
static void complete_after_reboot(struct xfer *x)
{
    struct endpoint *ep = x->q->ep;
    set_outcome(x, 0, NULL);
    if (save(x) != 0) {
        complete(x, PX_ERR_INTERNAL, "cannot record the installed firmware");
        return;
    }
    LOG_INFO("transfer", "%s: firmware installed, rebooting", ep->key);
    if (ep->session)
        ep->reboot_pending = true; /* after the session, like a Reboot RPC (3.7.1.4) */
    else if (ep->hooks.reboot)
        ep->hooks.reboot(ep->hooks.arg, ep);
}

/* ---- Fetch and apply ---- */

int transfer_fetch_fault(int error, long status, bool upload)
{
    switch ((enum http_fetch_error)error) {
    case HTTP_FETCH_OK:
        return 0;
    case HTTP_FETCH_AUTH:
        return PX_ERR_FILE_TRANSFER_AUTH;
    case HTTP_FETCH_CONNECT:
    case HTTP_FETCH_TLS:
        return upload ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_CONTACT_SERVER;
    case HTTP_FETCH_STATUS:
        return upload ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_ACCESS_FILE;
    case HTTP_FETCH_INCOMPLETE:
        return upload ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_INCOMPLETE;
    case HTTP_FETCH_TOO_LARGE:
    case HTTP_FETCH_LOCAL:
    case HTTP_FETCH_PROTOCOL:
        break;
    }
    return upload ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_FAILURE;
}

/* The name a stored file gets: TargetFileName, else the last segment of the URL. */
static void target_name(const struct xfer *x, char *out, size_t len)
{
    if (*x->target) {
        snprintf(out, len, "%s", x->target);
        return;
    }
    const char *path = strstr(x->url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    const char *last = path ? strrchr(path, '/') + 1 : "";
    size_t n = strcspn(last, "?#");
    if (n == 0 || (n <= 2 && last[0] == '.'))
        snprintf(out, len, "file-%lld", (long long)x->id);
    else
        snprintf(out, len, "%.*s", (int)n, last);
}

static void on_applied(void *arg, int fault, const char *fault_string, bool reboot)
{
    struct xfer *x = arg;
    x->apply = NULL;
    char part[512];
    part_path(x, part, sizeof(part));
    unlink(part); /* consumed by a command; a stored file was moved away */
    if (fault)
        complete(x, fault, fault_string);
    else if (reboot)
        complete_after_reboot(x);
    else
        complete(x, 0, NULL);
}

static void on_fetched(void *arg, const struct http_fetch_result *res)
{
    struct xfer *x = arg;
    struct endpoint *ep = x->q->ep;
    x->fetch = NULL;
    bool upload = x->kind == XFER_UPLOAD;
    if (res->error != HTTP_FETCH_OK) {
        complete(x, transfer_fetch_fault(res->error, res->status, upload), res->text);
        return;
    }
    if (upload) {
        complete(x, 0, NULL);
        return;
    }
    /* A.4.1.8: a scheduled download is applied only within one of its time windows (here
     * by time alone: a session running now does not close a "When Idle" window). */
    int64_t at;
    if (x->kind == XFER_SCHEDULE_DOWNLOAD &&
        transfer_windows_next(x->windows, x->created, time(NULL), false, &at) != 1) {
        complete(x, PX_ERR_DOWNLOAD_TIME_WINDOW,
                 "the download ended after its time window had closed: not applied");
        return;
    }
    /* A.3.2.8: FileSize is a hint; a download MUST NOT fail only because it was wrong. */
    if (x->file_size && (uint64_t)x->file_size != res->bytes)
        LOG_WARN("transfer", "%s: %s has %llu bytes, FileSize said %lld", ep->key, x->url,
                 (unsigned long long)res->bytes, (long long)x->file_size);
    x->state = XS_APPLYING;
    save(x);
    char part[512], name[300];
    part_path(x, part, sizeof(part));
    target_name(x, name, sizeof(name));
    x->apply = transfer_apply_start(ep, x->file_type, part, name, x->autonomous, on_applied, x);
    if (!x->apply)
        complete(x, PX_ERR_DOWNLOAD_FAILURE, px_err_msg());
}

static void start(struct xfer *x)
{
    struct endpoint *ep = x->q->ep;
    const struct px_config *cfg = ep->env.cfg;
    bool upload = x->kind == XFER_UPLOAD;
    char part[512];
    part_path(x, part, sizeof(part));
    struct http_conn_config tls = {
        .ca_file = cfg->acs_ca_file, .ca_path = cfg->acs_ca_path,
        .client_cert = cfg->acs_client_cert, .client_key = cfg->acs_client_key,
        .verify_peer = cfg->acs_verify_peer,
    };
    struct http_fetch_config fc = {
        .url = x->url,
        .username = x->username,
        .password = x->password,
        .tls = &tls,
        .path = upload ? transfer_upload_source(ep, x->file_type, part) : part,
        .upload = upload,
        .max_size = (uint64_t)cfg->transfer_max_file_size << 20,
        .stall_timeout_s = cfg->transfer_stall_timeout,
    };
    x->state = XS_RUNNING;
    x->start_time = time(NULL);
    if (save(x) != 0)
        return;
    LOG_INFO("transfer", "%s: %s %s (%s)", ep->key, upload ? "uploading to" : "downloading", x->url,
             x->file_type);
    x->fetch = fc.path ? http_fetch_start(ep->env.http, &fc, on_fetched, x) : NULL;
    if (!x->fetch)
        complete(x, upload ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_FAILURE, px_err_msg());
}

static void arm(struct xfer *x, int64_t at)
{
    int64_t now = time(NULL);
    struct timeval tv = {at > now ? (time_t)(at - now) : 0, 0};
    evtimer_add(x->timer, &tv);
}

/* Start x if its time has come, or arm its timer. */
static void consider(struct xfer *x)
{
    struct endpoint *ep = x->q->ep;
    if (x->state != XS_QUEUED)
        return;
    int64_t now = time(NULL), at = x->due;
    if (x->kind == XFER_SCHEDULE_DOWNLOAD) {
        int r = transfer_windows_next(x->windows, x->created, now, ep->session != NULL, &at);
        if (r < 0) {
            complete(x, PX_ERR_DOWNLOAD_TIME_WINDOW,
                     "no time window of the ScheduleDownload was usable");
            return;
        }
        if (r == 0) {
            arm(x, at);
            return;
        }
    } else if (now < x->due) {
        arm(x, x->due);
        return;
    } else if (now > x->due + START_GRACE_S) {
        complete(x, x->kind == XFER_UPLOAD ? PX_ERR_UPLOAD_FAILURE : PX_ERR_DOWNLOAD_FAILURE,
                 "could not start within one hour of the requested time");
        return;
    }
    /* A.3.2.8: with a non-zero DelaySeconds, not in the Session of the request. */
    if (x->session && x->session == ep->session) {
        arm(x, now + 1);
        return;
    }
    x->session = NULL;
    start(x);
}

/* ---- Requests ---- */

static size_t active_count(const struct transfer_queue *q)
{
    size_t n = 0;
    for (const struct xfer *x = q->list; x; x = x->next)
        n += x->state != XS_DONE;
    return n;
}

static int check_url(const char *url)
{
    const char *rest;
    if (!strncasecmp(url, "http://", 7))
        rest = url + 7;
    else if (!strncasecmp(url, "https://", 8))
        rest = url + 8;
    else
        return px_err_set(PX_ERR_UNSUPPORTED_PROTOCOL,
                          "URL \"%s\": only http and https are supported", url);
    size_t authority = strcspn(rest, "/?#");
    if (memchr(rest, '@', authority))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                          "URL must not carry userinfo (A.3.2.8): use Username/Password");
    if (authority == 0)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "URL \"%s\" has no host", url);
    return 0;
}

/* We store files flat in the transfer directory: a name, not a path. */
static int check_target(const char *t)
{
    if (t && (strchr(t, '/') || !strcmp(t, ".") || !strcmp(t, "..") || strlen(t) > 255))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                          "TargetFileName \"%s\" must be a plain file name", t);
    return 0;
}

static int check_request(const struct transfer_queue *q, const struct transfer_request *req)
{
    const struct soap_transfer_args *a = req->args;
    const struct px_config *cfg = q->ep->env.cfg;
    int rc = check_url(a->url ? a->url : "");
    if (rc)
        return rc;
    if (req->kind == XFER_UPLOAD) {
        if ((rc = transfer_upload_supported(q->ep, a->file_type ? a->file_type : "")))
            return rc;
    } else {
        if ((rc = transfer_apply_supported(cfg, a->file_type ? a->file_type : "")) ||
            (rc = check_target(a->target_file_name)))
            return rc;
        if (a->file_size > (uint64_t)cfg->transfer_max_file_size << 20)
            return px_err_set(PX_ERR_DOWNLOAD_FAILURE,
                              "FileSize %llu is more than the %u MiB this CPE accepts",
                              (unsigned long long)a->file_size, cfg->transfer_max_file_size);
    }
    if (req->kind == XFER_SCHEDULE_DOWNLOAD &&
        (rc = transfer_windows_check(a->windows, a->n_windows)))
        return rc;
    if (active_count(q) >= cfg->transfer_max_queue)
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED,
                          "the transfer queue is full (%u transfers)", cfg->transfer_max_queue);
    return 0;
}

int transfer_queue_add(struct transfer_queue *q, const struct transfer_request *req)
{
    int rc = check_request(q, req);
    if (rc)
        return rc;
    const struct soap_transfer_args *a = req->args;
    char windows[256] = "";
    if (req->kind == XFER_SCHEDULE_DOWNLOAD)
        transfer_windows_format(a->windows, a->n_windows, windows, sizeof(windows));
    int64_t now = time(NULL);
    struct cache_transfer t = {
        .kind = req->kind, .autonomous = req->autonomous, .command_key = req->command_key,
        .file_type = a->file_type, .url = a->url, .username = a->username,
        .password = a->password, .file_size = (int64_t)a->file_size,
        .target_file_name = a->target_file_name, .windows = windows, .state = XS_QUEUED,
        .created = now, .due = req->kind == XFER_SCHEDULE_DOWNLOAD ? now : now + a->delay_seconds,
    };
    struct endpoint *ep = q->ep;
    if (cache_transfer_add(ep->env.cache, ep->key, &t, &t.id) != CACHE_OK)
        return px_err_set(PX_ERR_INTERNAL, "cannot record the transfer: %s",
                          cache_errmsg(ep->env.cache));
    struct xfer *x = xfer_new(q, &t);
    if (req->kind != XFER_SCHEDULE_DOWNLOAD && a->delay_seconds > 0)
        x->session = ep->session;
    LOG_INFO("transfer", "%s: queued transfer %lld: %s %s, CommandKey \"%s\"", ep->key,
             (long long)x->id, x->file_type, x->url, x->command_key);
    /* From the loop: a Download with no delay starts right after its response is built. */
    arm(x, now);
    return 0;
}

int transfer_queue_cancel(struct transfer_queue *q, const char *command_key)
{
    int rc = 0;
    const char *key = command_key ? command_key : "";
    for (struct xfer *x = q->list, *next; x; x = next) {
        next = x->next;
        if (x->autonomous || strcmp(x->command_key, key) != 0)
            continue;
        if (x->state != XS_QUEUED) {
            rc = px_err_set(PX_ERR_CANCELATION_NOT_PERMITTED,
                            "transfer \"%s\" is %s", key,
                            x->state == XS_DONE ? "already complete" : "in progress");
            continue;
        }
        LOG_INFO("transfer", "%s: transfer %lld cancelled", q->ep->key, (long long)x->id);
        xfer_remove(x);
    }
    return rc;
}

size_t transfer_queue_list(struct transfer_queue *q, bool all, struct soap_queued_transfer **out)
{
    size_t n = 0;
    for (struct xfer *x = q->list; x; x = x->next)
        n++;
    *out = calloc(n ? n : 1, sizeof(**out));
    n = 0;
    for (struct xfer *x = q->list; x; x = x->next) {
        if (!all && x->autonomous)
            continue; /* A.4.1.7: the transfers the ACS requested */
        struct soap_queued_transfer *t = &(*out)[n++];
        t->command_key = x->command_key;
        t->state = x->state == XS_QUEUED ? 1 : x->state == XS_DONE ? 3 : 2;
        t->is_download = x->kind != XFER_UPLOAD;
        t->file_type = x->file_type;
        t->file_size = (uint64_t)x->file_size;
        t->target_file_name = x->target;
    }
    return n;
}

/* ---- The session's requests ---- */

static struct xfer *find(struct transfer_queue *q, int64_t id)
{
    for (struct xfer *x = q->list; x; x = x->next)
        if (x->id == id)
            return x;
    return NULL;
}

static void fill_request(struct cpe_request *r, const struct xfer *x, int64_t event_id)
{
    memset(r, 0, sizeof(*r));
    r->event_id = event_id;
    r->record = x->id;
    r->owned[0] = strdup(x->command_key);
    r->owned[1] = strdup(x->fault_string);
    r->tc.command_key = r->owned[0];
    r->tc.fault_code = x->fault_code;
    r->tc.fault_string = r->owned[1];
    r->tc.start_time = (time_t)x->start_time;
    r->tc.complete_time = (time_t)x->complete_time;
    if (!x->autonomous)
        return;
    r->owned[2] = strdup(x->url);
    r->owned[3] = strdup(x->file_type);
    r->owned[4] = strdup(x->target);
    r->tc.autonomous = true;
    r->tc.announce_url = "";
    r->tc.transfer_url = r->owned[2];
    r->tc.is_download = x->kind != XFER_UPLOAD;
    r->tc.file_type = r->owned[3];
    r->tc.file_size = (uint64_t)x->file_size;
    r->tc.target_file_name = r->owned[4];
}

static struct cpe_request *grow(struct cpe_request **out, size_t n)
{
    *out = realloc(*out, (n + 1) * sizeof(**out));
    return &(*out)[n];
}

static size_t collect(void *arg, struct endpoint *ep, const struct soap_event *events,
                      const int64_t *event_ids, size_t n_events, struct cpe_request **out)
{
    struct transfer_queue *q = arg;
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < n_events; i++) {
        bool autonomous = !strcmp(events[i].code, EV_AUTONOMOUS);
        for (struct xfer *x = q->list; x; x = x->next) {
            if (x->state != XS_DONE)
                continue;
            if (autonomous ? (x->autonomous && x->event_id == ANNOUNCED_AUTONOMOUS)
                           : (!x->autonomous && x->event_id == event_ids[i]))
                fill_request(grow(out, n), x, autonomous ? 0 : event_ids[i]), n++;
        }
    }
    return n;
}

static void delivered(void *arg, struct endpoint *ep, const struct cpe_request *req)
{
    struct xfer *x = find(arg, req->record);
    if (x) {
        LOG_INFO("transfer", "%s: completion of transfer %lld delivered", ep->key,
                 (long long)x->id);
        xfer_remove(x);
    }
}

/* ---- Life cycle ---- */

int transfer_dir_prepare(const char *dir)
{
    if (!dir || !*dir)
        return px_err_set(-1, "transfer.dir is empty");
    bool created = mkdir(dir, 0700) == 0;
    if (!created && errno != EEXIST)
        return px_err_set(-1, "cannot create the transfer directory %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0)
        return px_err_set(-1, "transfer directory %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return px_err_set(-1, "transfer directory %s: %s", dir, strerror(ENOTDIR));
    /* mkdir's mode went through the umask, which may have taken more than group/other. */
    if (created && chmod(dir, 0700) != 0)
        return px_err_set(-1, "transfer directory %s: %s", dir, strerror(errno));
    if (access(dir, W_OK | X_OK) != 0)
        return px_err_set(-1, "transfer directory %s is not writable: %s", dir, strerror(errno));
    if (created)
        LOG_INFO("transfer", "created the transfer directory %s (mode 0700)", dir);
    else if (st.st_mode & 077)
        LOG_WARN("transfer",
                 "transfer directory %s is open to other users (mode %04o): it "
                 "holds downloads and configuration backups",
                 dir, (unsigned)(st.st_mode & 07777));
    return 0;
}

static void load_row(void *arg, const struct cache_transfer *t)
{
    xfer_new(arg, t);
}

static void note_event(void *arg, const struct cache_event *ev)
{
    struct transfer_queue *q = arg;
    for (struct xfer *x = q->list; x; x = x->next)
        if (x->event_id == ev->id)
            x->event_queued = true;
}

/* After a restart: every transfer continues where it can, and each completion is reported
 * once (A.3.2.8: queued transfers survive a reboot). */
static void recover(struct transfer_queue *q)
{
    struct endpoint *ep = q->ep;
    endpoint_event_list(ep, note_event, q);
    for (struct xfer *x = q->list, *next; x; x = next) {
        next = x->next;
        switch (x->state) {
        case XS_QUEUED:
            consider(x);
            break;
        case XS_RUNNING: /* interrupted mid-transfer: start again (within the hour) */
            LOG_INFO("transfer", "%s: transfer %lld was interrupted by a restart: again",
                     ep->key, (long long)x->id);
            x->state = XS_QUEUED;
            x->start_time = 0;
            save(x);
            consider(x);
            break;
        case XS_APPLYING:
            complete(x, PX_ERR_DOWNLOAD_FAILURE, "interrupted by a restart while applying");
            break;
        case XS_DONE:
            if (x->event_id == 0)
                announce(x); /* a firmware after its reboot, or a crash before announcing */
            else if (x->event_id == ANNOUNCED_AUTONOMOUS)
                endpoint_add_event(ep, EV_AUTONOMOUS, "");
            else if (x->event_queued)
                endpoint_add_event(ep, EV_TRANSFER_COMPLETE, "");
            else
                xfer_remove(x); /* its event went (delivered, or discarded): never twice */
            break;
        }
    }
}

struct transfer_queue *transfer_attach(struct endpoint *ep)
{
    struct transfer_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->ep = ep;
    if (cache_transfer_list(ep->env.cache, ep->key, load_row, q) != CACHE_OK) {
        LOG_ERROR("transfer", "%s: cannot read the transfer queue: %s", ep->key,
                  cache_errmsg(ep->env.cache));
        free(q);
        return NULL;
    }
    ep->requests = (struct cpe_request_source){collect, delivered, q};
    recover(q);
    return q;
}

struct transfer_queue *transfer_queue_of(struct endpoint *ep)
{
    return ep->requests.collect == collect ? ep->requests.arg : NULL;
}

void transfer_detach(struct endpoint *ep)
{
    struct transfer_queue *q = transfer_queue_of(ep);
    if (!q)
        return;
    while (q->list) {
        struct xfer *x = q->list;
        q->list = x->next;
        xfer_free(x);
    }
    ep->requests = (struct cpe_request_source){0};
    free(q);
}
