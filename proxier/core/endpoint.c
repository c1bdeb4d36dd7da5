/*
 * endpoint.c: when an endpoint talks to its ACS (TR-069 3.2.1, 3.2.1.1, 3.7.1.5, Table 3,
 * Table 8): the durable event queue and its reboot/BOOTSTRAP policies, the session retry
 * schedule, periodic and scheduled Informs, and the actions that wait for the end of a
 * session (Reboot, FactoryReset).
 */
#include "proxier/core/endpoint.h"

#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cache/cache.h"
#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/events.h"
#include "proxier/core/notify.h"
#include "proxier/core/util.h"
#include "proxier/dm/dm.h"
#include "proxier/session/session.h"

#define SETTING_RETRY_COUNT "retry_count"
#define SETTING_BOOTSTRAP_URL "bootstrap_url"
#define SETTING_SCHEDULED "scheduled_informs"

char *endpoint_setting(const struct endpoint *ep, const char *key)
{
    char *value = NULL;
    if (cache_setting_get(ep->env.cache, ep->key, key, &value) != CACHE_OK)
        return NULL;
    return value;
}

int endpoint_setting_set(struct endpoint *ep, const char *key, const char *value)
{
    int rc = value ? cache_setting_set(ep->env.cache, ep->key, key, value)
                   : cache_setting_delete(ep->env.cache, ep->key, key);
    /* warn: a failing cache is reported once at error level (its health, main.c) */
    if (rc == CACHE_ERROR)
        LOG_WARN("endpoint", "%s: cannot store %s: %s", ep->key, key,
                 cache_errmsg(ep->env.cache));
    return rc == CACHE_ERROR ? -1 : 0;
}

void cpe_request_clear(struct cpe_request *r)
{
    for (size_t i = 0; i < sizeof(r->owned) / sizeof(r->owned[0]); i++)
        free(r->owned[i]);
    memset(r, 0, sizeof(*r));
}

int endpoint_store_set(struct endpoint *ep, struct dm_request *req)
{
    struct cache *c = ep->env.cache;
    bool begun = cache_begin(c) == CACHE_OK, ok = begun;
    for (size_t i = 0; ok && i < req->n_items; i++)
        ok = cache_value_set(c, ep->key, req->items[i].path, req->items[i].value, "acs") ==
             CACHE_OK;
    /* cache_commit closes the transaction even when it fails; a failed begin opened none. */
    if (ok && cache_commit(c) == CACHE_OK)
        return 0;
    dm_request_set_fault(req, PX_ERR_INTERNAL, "cannot store the new values: %s",
                         cache_errmsg(c));
    if (begun && !ok)
        cache_rollback(c);
    return -1;
}

/* ---- Event queue ---- */

struct discard_ctx {
    struct endpoint *ep;
    bool (*match)(const struct cache_event *ev);
    const char *why;
    int64_t *ids;
    size_t n, cap;
};

static void collect_matching(void *arg, const struct cache_event *ev)
{
    struct discard_ctx *dc = arg;
    if (!dc->match(ev))
        return;
    LOG_INFO("endpoint", "%s: event \"%s\" discarded %s", dc->ep->key, ev->code, dc->why);
    if (dc->n == dc->cap) {
        dc->cap = dc->cap ? dc->cap * 2 : 8;
        dc->ids = realloc(dc->ids, dc->cap * sizeof(*dc->ids));
    }
    dc->ids[dc->n++] = ev->id;
}

/* Delete every queued event that match() selects (part of the caller's transaction). */
static void discard_events(struct endpoint *ep, bool (*match)(const struct cache_event *ev),
                           const char *why)
{
    struct discard_ctx dc = {.ep = ep, .match = match, .why = why};
    endpoint_event_list(ep, collect_matching, &dc);
    for (size_t i = 0; i < dc.n; i++)
        endpoint_event_delete(ep, dc.ids[i]);
    free(dc.ids);
}

static bool discarded_on_bootstrap(const struct cache_event *ev)
{
    return strcmp(ev->code, EV_BOOTSTRAP) != 0;
}

/* Table 8, applied at every start to what the previous run left: each code's own rule. */
static bool discarded_on_restart(const struct cache_event *ev)
{
    return events_policy(ev->code)->at_restart == EV_RESTART_DISCARD;
}

int endpoint_add_event(struct endpoint *ep, const char *code, const char *command_key)
{
    endpoint_begin(ep);
    if (strcmp(code, EV_BOOTSTRAP) == 0) {
        /* Table 8: all other undelivered events are discarded on BOOTSTRAP, and with
         * "4 VALUE CHANGE" its list of changed parameters. */
        discard_events(ep, discarded_on_bootstrap, "on BOOTSTRAP (Table 8)");
        cache_notify_clear(ep->env.cache, ep->key);
    }
    int rc = endpoint_queue_event(ep, code, command_key, NULL);
    endpoint_commit(ep);
    if (rc != 0)
            return -1;
    LOG_INFO("endpoint", "%s: event \"%s\"%s%s", ep->key, code,
             command_key && *command_key ? " CommandKey " : "",
             command_key && *command_key ? command_key : "");
    /* 3.2.1.1: a new event ends a retry wait early. */
    endpoint_request_session(ep);
    return 0;
}

void endpoint_add_event_after_session(struct endpoint *ep, const char *code)
{
    if (!ep->session) {
        endpoint_add_event(ep, code, "");
        return;
    }
    for (size_t i = 0; i < ep->n_after_session; i++)
        if (!strcmp(ep->after_session[i], code))
            return;
    char **grown = realloc(ep->after_session, (ep->n_after_session + 1) * sizeof(*grown));
    if (!grown)
        return;
    ep->after_session = grown;
    ep->after_session[ep->n_after_session++] = strdup(code);
    ep->session_wanted = true;
}

/* Queue (or, at exit, forget) the events that waited for the session to end. */
static void add_events_after_session(struct endpoint *ep, bool queue)
{
    for (size_t i = 0; i < ep->n_after_session; i++) {
        if (queue && ep->after_session[i])
            endpoint_add_event(ep, ep->after_session[i], "");
        free(ep->after_session[i]);
    }
    free(ep->after_session);
    ep->after_session = NULL;
    ep->n_after_session = 0;
}

void endpoint_inform_delivered(struct endpoint *ep, const int64_t *event_ids,
                               char *const *event_codes, size_t n)
{
    endpoint_begin(ep);
    for (size_t i = 0; i < n; i++) {
        if (events_policy(event_codes[i])->confirm != EV_CONFIRM_INFORM)
            continue;
        endpoint_event_delete(ep, event_ids[i]);
        if (strcmp(event_codes[i], EV_BOOTSTRAP) == 0)
            endpoint_setting_set(ep, SETTING_BOOTSTRAP_URL, mgmt_get(ep, "URL"));
    }
    endpoint_commit(ep);
}

/* ---- Sessions ---- */

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    if (ep->session || ep->stopping)
        return;
    if (ep->session_holds) { /* a hold taken after the kick was queued (endpoint_start) */
        ep->session_wanted = true;
        return;
    }
    ep->session_wanted = false;
    ep->cr_pending = false; /* establishing now: a new request is "during a session" */
    if (ep->retry_waiting) {
        evtimer_del(ep->retry_timer);
        ep->retry_waiting = false;
    }
    if (!session_start(ep))
        endpoint_session_ended(ep, false);
}

void endpoint_request_session(struct endpoint *ep)
{
    if (ep->session || ep->session_holds) {
        ep->session_wanted = true;
        return;
    }
    event_active(ep->kick, 0, 0);
}

void endpoint_hold(struct endpoint *ep)
{
    ep->session_holds++;
}

void endpoint_release(struct endpoint *ep)
{
    if (!ep->session_holds || --ep->session_holds)
        return;
    if (ep->session_wanted && !ep->session)
        endpoint_request_session(ep);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    ep->retry_waiting = false;
    endpoint_request_session(ep);
}

/* TR-069 Table 3: the n-th retry waits a random time in [m*(k/1000)^(n-1), m*(k/1000)^n]
 * seconds; from the tenth retry on the range stays that of the tenth. */
void endpoint_retry_range(unsigned m, unsigned k, unsigned n, double *lo, double *hi)
{
    double factor = k / 1000.0;
    if (n < 1)
        n = 1;
    if (n > 10)
        n = 10;
    *lo = m * pow(factor, n - 1);
    *hi = m * pow(factor, n);
}

static double retry_wait_seconds(const struct endpoint *ep)
{
    double lo, hi;
    endpoint_retry_range(mgmt_get_uint(ep, "CWMPRetryMinimumWaitInterval", 5),
                         mgmt_get_uint(ep, "CWMPRetryIntervalMultiplier", 2000),
                         ep->post_boot_retries, &lo, &hi);
    return lo + (hi - lo) * util_random_unit();
}

static void free_session_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    session_free(ep->finished_session);
    ep->finished_session = NULL;
}

static bool run_pending_actions(struct endpoint *ep)
{
    if (ep->factory_reset_pending && ep->hooks.factory_reset) {
        ep->factory_reset_pending = ep->reboot_pending = false;
        ep->hooks.factory_reset(ep->hooks.arg, ep);
        return true;
    }
    if (ep->reboot_pending && ep->hooks.reboot) {
        ep->reboot_pending = false;
        ep->hooks.reboot(ep->hooks.arg, ep);
        return true;
    }
    return false;
}

struct count_ctx {
    size_t n;
};

static void count_event(void *arg, const struct cache_event *ev)
{
    ((struct count_ctx *)arg)->n++;
}

static size_t queued_events(struct endpoint *ep)
{
    struct count_ctx cc = {0};
    endpoint_event_list(ep, count_event, &cc);
    return cc.n;
}

void endpoint_session_ended(struct endpoint *ep, bool success)
{
    /* The session may be inside its own HTTP callback: free it from the loop. */
    if (ep->session) {
        session_free(ep->finished_session); /* one that ended just before (not yet freed) */
        ep->finished_session = ep->session;
        event_active(ep->free_session, 0, 0);
    }
    ep->session = NULL;
    add_events_after_session(ep, true);
    char count[16];
    if (success) {
        ep->retry_count = 0;
        ep->post_boot_retries = 0;
        endpoint_setting_set(ep, SETTING_RETRY_COUNT, "0");
        if (run_pending_actions(ep))
            return;
        /* Events that arrived during the session go out now (3.7.1.5). */
        if (ep->session_wanted || queued_events(ep) > 0)
            endpoint_request_session(ep);
        return;
    }
    ep->retry_count++;
    ep->post_boot_retries++;
    snprintf(count, sizeof(count), "%u", ep->retry_count);
    endpoint_setting_set(ep, SETTING_RETRY_COUNT, count);
    if (ep->stopping)
        return;
    double wait = retry_wait_seconds(ep);
    struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6)};
    ep->retry_waiting = true;
    evtimer_add(ep->retry_timer, &tv);
    LOG_INFO("endpoint", "%s: retry %u in %.1f s", ep->key, ep->retry_count, wait);
}

/* ---- Periodic Inform (ManagementServer.PeriodicInform*, TR-069 3.2.1) ---- */

static void periodic_arm(struct endpoint *ep, time_t after);

static void periodic_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    endpoint_add_event(ep, EV_PERIODIC, "");
    /* From the instant it was due, not from now: a late or early wake-up keeps the phase. */
    periodic_arm(ep, ep->periodic_due);
}

/* Arm the timer for the first Inform time strictly after `after`. PeriodicInformTime fixes
 * the phase: Informs happen at T + k*interval. The Unknown Time means no phase: one interval
 * after `after`. */
static void periodic_arm(struct endpoint *ep, time_t after)
{
    evtimer_del(ep->periodic_timer);
    if (!mgmt_get_bool(ep, "PeriodicInformEnable"))
        return;
    unsigned interval = mgmt_get_uint(ep, "PeriodicInformInterval", 86400);
    if (interval == 0)
        return;
    time_t phase, next = after + interval;
    if (util_parse_datetime(mgmt_get(ep, "PeriodicInformTime"), &phase) == 0 && phase > 0) {
        long long k = (after - phase) / (long long)interval;
        next = phase + (time_t)(k * (long long)interval);
        while (next <= after)
            next += interval;
    }
    struct timeval now;
    gettimeofday(&now, NULL);
    double delay = (double)next - (now.tv_sec + now.tv_usec / 1e6);
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)delay, (suseconds_t)((delay - (time_t)delay) * 1e6)};
    ep->periodic_due = next;
    evtimer_add(ep->periodic_timer, &tv);
    LOG_DEBUG("endpoint", "%s: next periodic Inform in %.3f s", ep->key, delay);
}

void endpoint_rearm_periodic(struct endpoint *ep)
{
    periodic_arm(ep, time(NULL));
}

/* ---- ScheduleInform (A.4.1.4), persisted as "due<TAB>commandkey" lines ---- */

static void schedule_rearm(struct endpoint *ep);

/* Firing is one transaction: the "M ScheduleInform" events, the list without them and
 * "3 SCHEDULED" (a kill -9 between them would fire twice or lose "3 SCHEDULED"). If the cache
 * cannot take it, the events are kept in memory and schedule_fired_upto stops the same
 * requests firing again in this run. */
static void schedule_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    char *list = endpoint_setting(ep, SETTING_SCHEDULED);
    struct buf keep = BUF_INIT;
    time_t now = time(NULL);
    bool fired = false;
    char *save = NULL;
    endpoint_begin(ep);
    for (char *line = list ? strtok_r(list, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        char *tab = strchr(line, '\t');
        long long due = strtoll(line, NULL, 10);
        if (due > now || !tab) {
            buf_puts(&keep, line);
            buf_puts(&keep, "\n");
            continue;
        }
        if (due <= ep->schedule_fired_upto)
            continue; /* fired before, the cache could not forget it */
        /* Table 8: "3 SCHEDULED" goes with one "M ScheduleInform" per request. */
        endpoint_queue_event(ep, EV_M_SCHEDULE_INFORM, tab + 1, NULL);
        fired = true;
    }
    endpoint_setting_set(ep, SETTING_SCHEDULED, keep.len ? keep.data : NULL);
    if (fired)
        endpoint_queue_event(ep, EV_SCHEDULED, "", NULL);
    endpoint_commit(ep);
    if (now > ep->schedule_fired_upto)
        ep->schedule_fired_upto = now;
    buf_free(&keep);
    free(list);
    if (fired) {
        LOG_INFO("endpoint", "%s: event \"%s\"", ep->key, EV_SCHEDULED);
        endpoint_request_session(ep);
    }
    schedule_rearm(ep);
}

static void schedule_rearm(struct endpoint *ep)
{
    evtimer_del(ep->schedule_timer);
    char *list = endpoint_setting(ep, SETTING_SCHEDULED);
    if (!list)
        return;
    long long earliest = -1;
    for (char *p = list; *p;) {
        long long due = strtoll(p, NULL, 10);
        if (due > ep->schedule_fired_upto && (earliest < 0 || due < earliest))
            earliest = due;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    free(list);
    if (earliest < 0)
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    double delay = (double)earliest - (now.tv_sec + now.tv_usec / 1e6);
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t)delay, (suseconds_t)((delay - (time_t)delay) * 1e6)};
    evtimer_add(ep->schedule_timer, &tv);
}

int endpoint_schedule_inform(struct endpoint *ep, unsigned delay_seconds, const char *command_key)
{
    /* A command key cannot hold a newline or tab of ours: they would break the line format. */
    struct buf key = BUF_INIT;
    buf_puts(&key, "");
    for (const char *c = command_key ? command_key : ""; *c; c++)
        buf_append(&key, (*c == '\n' || *c == '\t') ? " " : c, 1);
    char *list = endpoint_setting(ep, SETTING_SCHEDULED);
    struct buf b = BUF_INIT;
    char *save = NULL;
    for (char *line = list ? strtok_r(list, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        const char *tab = strchr(line, '\t');
        /* A.4.1.2: the same non-empty CommandKey updates the queued request's delay. */
        if (key.len && tab && !strcmp(tab + 1, key.data))
            continue;
        buf_puts(&b, line);
        buf_puts(&b, "\n");
    }
    /* Due at a whole second no earlier than DelaySeconds from now. */
    buf_printf(&b, "%lld\t%s\n", (long long)time(NULL) + 1 + delay_seconds, key.data);
    int rc = endpoint_setting_set(ep, SETTING_SCHEDULED, b.data);
    buf_free(&b);
    buf_free(&key);
    free(list);
    schedule_rearm(ep);
    return rc;
}

/* ---- Life cycle ---- */

static void restore_instance(void *arg, const char *table_path, unsigned number,
                             const char *alias)
{
    struct endpoint *ep = arg;
    unsigned got;
    if (dm_instance_add(ep->model, table_path, number, alias, &got) != 0)
        LOG_WARN("endpoint", "%s: stored instance %s%u. no longer fits the model: %s", ep->key,
                 table_path, number, px_err_msg());
}

static void restore_next(void *arg, const char *table_path, unsigned next)
{
    dm_instance_set_next(((struct endpoint *)arg)->model, table_path, next);
}

/* Instances created earlier (by the ACS or by adapters) come back with their numbers, and
 * the numbers of deleted ones stay used (TR-069 A.3.2.6). Parents are listed first. */
static void restore_instances(struct endpoint *ep)
{
    cache_instance_list(ep->env.cache, ep->key, restore_instance, ep);
    cache_instance_next_list(ep->env.cache, ep->key, restore_next, ep);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

struct endpoint *endpoint_new(const struct endpoint_env *env, const char *key,
                              const struct endpoint_identity *id, struct dm_model *model,
                              const struct endpoint_hooks *hooks)
{
    struct endpoint *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return NULL;
    ep->key = strdup(key);
    ep->env = *env;
    if (hooks)
        ep->hooks = *hooks;
    ep->model = model;
    ep->id.manufacturer = dup_or_empty(id->manufacturer);
    ep->id.oui = dup_or_empty(id->oui);
    ep->id.product_class = dup_or_empty(id->product_class);
    ep->id.serial_number = dup_or_empty(id->serial_number);
    ep->connection_request_url = strdup("");
    ep->udp_cr_address = strdup("");
    ep->conn_req_jabber_id = strdup("");
    ep->kick = event_new(env->base, -1, 0, kick_cb, ep);
    ep->free_session = event_new(env->base, -1, 0, free_session_cb, ep);
    ep->retry_timer = evtimer_new(env->base, retry_cb, ep);
    ep->periodic_timer = evtimer_new(env->base, periodic_cb, ep);
    ep->schedule_timer = evtimer_new(env->base, schedule_cb, ep);
    char *count = endpoint_setting(ep, SETTING_RETRY_COUNT);
    ep->retry_count = count ? (unsigned)strtoul(count, NULL, 10) : 0;
    free(count);
    restore_instances(ep);
    if (mgmt_load(ep) != 0) {
        endpoint_free(ep);
        return NULL;
    }
    mgmt_mount(ep);
    notify_attach(ep);
    return ep;
}

int endpoint_start(struct endpoint *ep)
{
    char *boot_url = endpoint_setting(ep, SETTING_BOOTSTRAP_URL);
    char *reboot_key = endpoint_setting(ep, SETTING_REBOOT_KEY);
    /* One transaction: a kill -9 during the boot must neither lose "M Reboot" nor queue it
     * twice (the CommandKey is forgotten with the same commit). */
    endpoint_begin(ep);
    /* Table 8: each code's policy applies to what a previous run left undelivered. */
    discard_events(ep, discarded_on_restart, "at restart (Table 8)");
    if (!endpoint_event_has(ep, EV_VALUE_CHANGE))
        cache_notify_clear(ep->env.cache, ep->key);

    /* BOOTSTRAP: first contact from the factory, after a factory reset (the cache was
     * wiped) or with a changed ACS URL. */
    if (!boot_url || strcmp(boot_url, mgmt_get(ep, "URL")) != 0)
        endpoint_add_event(ep, EV_BOOTSTRAP, "");
    endpoint_add_event(ep, EV_BOOT, "");
    if (reboot_key) {
        endpoint_add_event(ep, EV_M_REBOOT, reboot_key);
        endpoint_setting_set(ep, SETTING_REBOOT_KEY, NULL);
    }
    endpoint_commit(ep);
    free(boot_url);
    free(reboot_key);
    schedule_rearm(ep);
    endpoint_rearm_periodic(ep);
    endpoint_request_session(ep);
    return 0;
}

void endpoint_free(struct endpoint *ep)
{
    if (!ep)
        return;
    ep->stopping = true;
    if (ep->session)
        session_free(ep->session);
    session_free(ep->finished_session); /* the loop may have stopped before freeing it */
    event_free(ep->free_session);
    event_free(ep->kick);
    event_free(ep->retry_timer);
    event_free(ep->periodic_timer);
    event_free(ep->schedule_timer);
    if (ep->throttle_timer)
        event_free(ep->throttle_timer);
    add_events_after_session(ep, false);
    mgmt_free(ep);
    notify_session_over(ep);
    endpoint_queue_free(ep);
    free(ep->key);
    free(ep->id.manufacturer);
    free(ep->id.oui);
    free(ep->id.product_class);
    free(ep->id.serial_number);
    free(ep->connection_request_url);
    free(ep->udp_cr_address);
    free(ep->conn_req_jabber_id);
    free(ep);
}
