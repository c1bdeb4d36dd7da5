/*
 * notify.c: parameter attributes and value-change notification (TR-069 A.3.2.4, A.3.2.5,
 * 3.2.1 and Table 8 "4 VALUE CHANGE").
 */
#include "proxier/core/notify.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/dm/dm.h"

const char *const notify_forced_inform[] = {
    "Device.RootDataModelVersion",
    "Device.DeviceInfo.HardwareVersion",
    "Device.DeviceInfo.SoftwareVersion",
    "Device.DeviceInfo.ProvisioningCode",
    "Device.ManagementServer.ParameterKey",
    "Device.ManagementServer.ConnectionRequestURL",
    "Device.ManagementServer.AliasBasedAddressing",
    NULL,
};

/* activeNotify="forceDefaultEnabled" in TR-181: active unless the ACS turns it off. */
static const char *const default_active[] = {
    "Device.ManagementServer.ConnectionRequestURL",
    "Device.ManagementServer.ConnReqJabberID",
    NULL,
};

static bool in_list(const char *const *list, const char *path)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], path))
            return true;
    return false;
}

int notify_attr_get(struct endpoint *ep, const char *path, const struct dm_node *node,
                    int *notification, char **access_list)
{
    char *access = NULL;
    int stored = 0;
    int rc = cache_attr_get(ep->env.cache, ep->key, path, &stored, &access);
    if (rc == CACHE_ERROR)
        return px_err_set(PX_ERR_INTERNAL, "cannot read attributes: %s",
                          cache_errmsg(ep->env.cache));
    if (rc == CACHE_NOTFOUND) {
        stored = in_list(default_active, path) ? 2 : 0;
        /* A.3.2.4: before the ACS changes it, the list grants every entity we know. */
        access = strdup("Subscriber");
    }
    if (node->notify == DM_NOTIFY_FORCED)
        stored = 2;
    *notification = stored;
    *access_list = access;
    return 0;
}

int notify_attr_check(const struct dm_node *node, int notification)
{
    if (notification < 0 || notification > 2)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                          "Notification %d is not 0 (off), 1 (passive) or 2 (active)",
                          notification);
    if (notification == 2 && node->notify == DM_NOTIFY_CANDENY)
        return px_err_set(PX_ERR_NOTIFICATION_REJECTED,
                          "active notification is not supported for %s", node->path);
    return 0;
}

int notify_attr_set(struct endpoint *ep, const char *path, const struct dm_node *node,
                    bool set_notification, int notification, bool set_access,
                    const char *access_list)
{
    int cur;
    char *access = NULL;
    int rc = notify_attr_get(ep, path, node, &cur, &access);
    if (rc)
        return rc;
    if (set_notification && node->notify != DM_NOTIFY_FORCED)
        cur = notification;
    rc = cache_attr_set(ep->env.cache, ep->key, path, cur, set_access ? access_list : access);
    free(access);
    return rc == CACHE_OK ? 0
                          : px_err_set(PX_ERR_INTERNAL, "cannot store attributes: %s",
                                       cache_errmsg(ep->env.cache));
}

/* Seconds on the monotonic clock, with their fraction: the throttle's unit is the second,
 * and whole-second clocks would make a 3 s throttle anything from 2 to 3 s. */
static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* DefaultActiveNotificationThrottle: at most one Inform for active notifications per that
 * many seconds; a change inside the window waits for its end. */
static void throttle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct endpoint *ep = arg;
    ep->last_active_inform = monotonic_seconds();
    endpoint_add_event(ep, EV_VALUE_CHANGE, "");
}

static void request_active_inform(struct endpoint *ep)
{
    unsigned throttle = mgmt_get_uint(ep, "DefaultActiveNotificationThrottle", 0);
    double now = monotonic_seconds();
    double due = ep->last_active_inform + throttle;
    if (throttle == 0 || ep->last_active_inform == 0 || now >= due) {
        ep->last_active_inform = now;
        endpoint_add_event(ep, EV_VALUE_CHANGE, "");
        return;
    }
    if (!ep->throttle_timer)
        ep->throttle_timer = evtimer_new(ep->env.base, throttle_cb, ep);
    if (evtimer_pending(ep->throttle_timer, NULL))
        return;
    double wait = due - now;
    struct timeval tv = {(time_t)wait, (suseconds_t)((wait - (time_t)wait) * 1e6)};
    evtimer_add(ep->throttle_timer, &tv);
}

static void on_change(void *arg, const char *path, const struct dm_node *node, const char *value)
{
    struct endpoint *ep = arg;
    int notification;
    char *access = NULL;
    if (notify_attr_get(ep, path, node, &notification, &access) != 0)
        return;
    free(access);
    if (notification == 0)
        return;
    LOG_DEBUG("notify", "%s: %s changed (notification %d)", ep->key, path, notification);
    /* Recorded durably once per parameter, however often it changes (3.2.1), in one
     * transaction with the "4 VALUE CHANGE" of an active notification. */
    endpoint_begin(ep);
    cache_notify_add(ep->env.cache, ep->key, path, notification);
    if (ep->notify_tracking) {
        ep->notify_late = realloc(ep->notify_late, (ep->n_notify_late + 1) * sizeof(char *));
        ep->notify_late[ep->n_notify_late++] = strdup(path);
    }
    if (notification == 2)
        request_active_inform(ep);
    endpoint_commit(ep);
}

void notify_attach(struct endpoint *ep)
{
    dm_model_on_change(ep->model, on_change, ep);
}

struct pending_ctx {
    char **paths;
    size_t n;
};

static void collect_pending(void *arg, const char *path, int notification)
{
    struct pending_ctx *pc = arg;
    pc->paths = realloc(pc->paths, (pc->n + 1) * sizeof(char *));
    pc->paths[pc->n++] = strdup(path);
}

static void forget_late(struct endpoint *ep)
{
    for (size_t i = 0; i < ep->n_notify_late; i++)
        free(ep->notify_late[i]);
    free(ep->notify_late);
    ep->notify_late = NULL;
    ep->n_notify_late = 0;
}

char **notify_pending(struct endpoint *ep, size_t *n)
{
    struct pending_ctx pc = {0};
    cache_notify_list(ep->env.cache, ep->key, collect_pending, &pc);
    /* From now on a change is "late": the Inform being built does not carry it. */
    forget_late(ep);
    ep->notify_tracking = true;
    *n = pc.n;
    return pc.paths;
}

static bool contains(char *const *list, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], path))
            return true;
    return false;
}

void notify_delivered(struct endpoint *ep, char **paths, size_t n)
{
    /* Forget what the Inform listed, except a parameter that changed again after the
     * Inform was built: that change is news for the next session. */
    cache_begin(ep->env.cache);
    for (size_t i = 0; i < n; i++)
        if (!contains(ep->notify_late, ep->n_notify_late, paths[i]))
            cache_notify_delete(ep->env.cache, ep->key, paths[i]);
    cache_commit(ep->env.cache);
    notify_session_over(ep);
}

void notify_session_over(struct endpoint *ep)
{
    forget_late(ep);
    ep->notify_tracking = false;
}

bool notify_subscriber_may_write(struct endpoint *ep, const char *path,
                                 const struct dm_node *node)
{
    int level;
    char *access = NULL;
    if (notify_attr_get(ep, path, node, &level, &access) != 0)
        return false;
    bool allowed = false;
    char *save = NULL;
    for (char *t = strtok_r(access, ",", &save); t && !allowed; t = strtok_r(NULL, ",", &save))
        allowed = !strcmp(t, "Subscriber");
    free(access);
    return allowed;
}
