/*
 * endpoint.h: one CWMP endpoint (TR-069 3.2, 3.7; Annex J): the gateway itself, and later
 * each Virtual CWMP Device. An endpoint is a value: the daemon holds a list of them, each
 * with its own identity, data model, durable event queue, retry state, timers and session,
 * so that hundreds can run side by side on one event loop.
 *
 * The endpoint decides *when* to talk to the ACS (events, periodic and scheduled Informs,
 * the retry schedule of Table 3); proxier/session/ runs one session; proxier/rpc/ answers
 * the ACS's requests; the endpoint's ManagementServer object is served by mgmt.c.
 */
#ifndef PX_ENDPOINT_H
#define PX_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proxier/soap/soap.h"

struct event;
struct event_base;
struct cache;
struct http_multi;
struct dm_model;
struct px_config;
struct session;
struct endpoint;
struct event_queue;
struct cache_event;

/* A request of the CPE to the ACS (TR-069 Table 5 "ACS methods") that delivers queued
 * events: TransferComplete for "M Download"/"M Upload"/"M ScheduleDownload" (with
 * "7 TRANSFER COMPLETE"), AutonomousTransferComplete for "10 AUTONOMOUS TRANSFER COMPLETE".
 * The strings of tc point into `owned`, freed by cpe_request_clear. */
struct cpe_request {
    int64_t event_id; /* the "M ..." event it delivers, 0 for an autonomous completion */
    int64_t record;   /* the source's own id for what backs it */
    struct soap_transfer_complete tc;
    char *owned[8];
};

void cpe_request_clear(struct cpe_request *r);

/* Who has requests for the ACS (the transfer queue). collect is asked, when an Inform is
 * built, for the requests that its events announce; delivered is told when the ACS
 * answered one successfully (the session then deletes the event it delivered). */
struct cpe_request_source {
    size_t (*collect)(void *arg, struct endpoint *ep, const struct soap_event *events,
                      const int64_t *event_ids, size_t n_events, struct cpe_request **out);
    void (*delivered)(void *arg, struct endpoint *ep, const struct cpe_request *req);
    void *arg;
};

/* Services every endpoint shares, owned by the daemon. */
struct endpoint_env {
    struct event_base *base;
    struct cache *cache;
    struct http_multi *http;
    const struct px_config *cfg;
};

struct endpoint_identity {
    char *manufacturer;
    char *oui;
    char *product_class;
    char *serial_number;
};

/* What the host (the daemon) does for the endpoint after a session that asked for it. */
struct endpoint_hooks {
    void (*reboot)(void *arg, struct endpoint *ep);
    void (*factory_reset)(void *arg, struct endpoint *ep);
    void *arg;
};

/* A value of a ManagementServer parameter (kept in memory, persisted in the cache). */
struct mgmt_value {
    char *name;  /* "PeriodicInformInterval" (single-instance parameters only) */
    char *value;
};

struct endpoint {
    char *key; /* cache key: "gateway", "vdev:<oui>-<serial>", ... */
    struct endpoint_identity id;
    struct endpoint_env env;
    struct endpoint_hooks hooks;
    struct dm_model *model;

    /* ManagementServer values (mgmt.c) */
    struct mgmt_value *mgmt;
    size_t n_mgmt;
    char *connection_request_url; /* published by the HTTP connection-request listener */
    char *udp_cr_address;         /* UDPConnectionRequestAddress (Annex G), "" if none */
    bool nat_detected;            /* NATDetected (STUN) */
    char *conn_req_jabber_id;     /* ConnReqJabberID (Annex K), "" if none */
    struct mgmt_observer *mgmt_observers; /* told after the ACS changed ManagementServer */

    /* Session state */
    struct session *session;    /* non-NULL while a session runs */
    bool session_wanted;        /* start another session as soon as this one ends (or as
                                   soon as the last hold is released) */
    unsigned session_holds;     /* endpoint_hold() minus endpoint_release() */
    struct event *kick;         /* zero-delay event that starts a session */
    struct session *finished_session; /* ended, freed from the loop by free_session */
    struct event *free_session;
    char **after_session;       /* event codes to queue when the running session ends */
    size_t n_after_session;
    struct event *retry_timer;  /* Table 3 wait after a failed session */
    bool retry_waiting;
    unsigned retry_count;       /* persisted: RetryCount of the next Inform */
    unsigned post_boot_retries; /* chooses the Table 3 interval; reset at boot */
    enum cwmp_version max_version;
    bool gzip_refused;          /* the ACS answered 415 to gzip: send plain until restart */
    bool revert_to_v10;         /* 3.2.1.1: sessions offer only CWMP 1.0 (see session.c) */

    /* What the cache could not take: events kept in memory, transactions (queue.c) */
    struct event_queue *queue;

    /* Periodic and scheduled Informs */
    struct event *periodic_timer;
    time_t periodic_due;        /* when the armed periodic Inform is due */
    struct event *schedule_timer;
    long long schedule_fired_upto; /* ScheduleInforms due until then have fired, even if
                                      the cache could not forget them */

    /* Connection requests (connreq.c): accepted but the session has not started yet; the
     * token bucket of the rate limit; a proxied device that is gone (Annex J.2.3) */
    bool cr_pending;
    double cr_tokens;
    double cr_refilled_at;
    bool offline;

    /* Actions requested in the current session, run after it ends (3.7.1.4) */
    bool reboot_pending;
    bool factory_reset_pending;

    /* Parameters that changed after the current Inform was built: they stay pending when
     * its InformResponse confirms the others (notify.c) */
    char **notify_late;
    size_t n_notify_late;
    bool notify_tracking;

    /* Active notification throttle (DefaultActiveNotificationThrottle) */
    double last_active_inform;   /* monotonic seconds, 0 = never */
    struct event *throttle_timer;

    struct cpe_request_source requests; /* collect == NULL: none */

    bool stopping;
    void *host_data; /* owned by whoever created the endpoint (gateway.c, vdev/) */
};

struct endpoint *endpoint_new(const struct endpoint_env *env, const char *key,
                              const struct endpoint_identity *id, struct dm_model *model,
                              const struct endpoint_hooks *hooks);
/* Boot: apply Table 8's reboot policy to the stored queue, add BOOTSTRAP/BOOT/M Reboot as
 * due, arm the timers and start the first session. */
int endpoint_start(struct endpoint *ep);
void endpoint_free(struct endpoint *ep);

/* ---- Event queue (durable, in the cache; queue.c) ----
 * Every state change and the events it causes are one transaction: endpoint_begin, the
 * changes (cache calls, endpoint_add_event, ...), endpoint_commit. Transactions nest (only
 * the outermost reaches the cache). If the cache cannot take an event (a read-only file, a
 * full disk), the event is kept in memory instead: it goes in the next Inform all the same,
 * it is only lost at a restart; the first such failure is logged at error level. A failed
 * transaction is not durable in any part; its events are applied in memory. */
int endpoint_begin(struct endpoint *ep);
/* 0 if the transaction reached the cache, -1 if it failed (its events are in memory). */
int endpoint_commit(struct endpoint *ep);

/* Events kept in memory have ids ENDPOINT_VOLATILE_ID_MAX and below (cache ids are
 * positive): a caller may use other negative ids as its own markers. */
#define ENDPOINT_VOLATILE_ID_MAX (-1000000)

/* Add an event with Table 8's cumulative behaviour and start (or schedule) a session. */
int endpoint_add_event(struct endpoint *ep, const char *code, const char *command_key);
/* Queue code for a session of its own: at once when no session runs, else when the running
 * one ends, which then starts the next one at once (TR-069 3.2.2.2: "initiate the Session
 * immediately after the existing Session is complete"). Queued at once it would be taken
 * for the one the running session's Inform carries and leave with it. Once per code. */
void endpoint_add_event_after_session(struct endpoint *ep, const char *code);
/* The same without starting a session: *id (may be NULL) is the event's id, 0 if a "Single"
 * event was already queued. In a transaction that fails, *id is updated by endpoint_commit
 * to the id in memory: keep it valid until then. -1 only when not even memory could take
 * it. */
int endpoint_queue_event(struct endpoint *ep, const char *code, const char *command_key,
                         int64_t *id);
/* The queue in order of arrival (the cache's, then those kept in memory). */
typedef void (*endpoint_event_cb)(void *arg, const struct cache_event *ev);
int endpoint_event_list(struct endpoint *ep, endpoint_event_cb cb, void *arg);
bool endpoint_event_has(struct endpoint *ep, const char *code);
/* Delivered or discarded: gone from the queue (hidden in memory if the cache cannot delete
 * it, so it is not sent twice). */
void endpoint_event_delete(struct endpoint *ep, int64_t id);
void endpoint_queue_free(struct endpoint *ep);
/* Start a session now if none runs (after the current one otherwise, or after the last
 * hold is released). */
void endpoint_request_session(struct endpoint *ep);
/* Holds: while at least one is taken, no session starts; a session that is wanted meanwhile
 * (events, retries, connection requests) starts when the last hold is released. A running
 * session is not affected. A transport takes one so that the session carrying "1 BOOT" waits
 * for it (TR-069 K.2.1: the XMPP stream before that Inform) and must release it within a
 * bounded time; holds nest. */
void endpoint_hold(struct endpoint *ep);
void endpoint_release(struct endpoint *ep);

/* Session outcome, reported by session.c */
void endpoint_inform_delivered(struct endpoint *ep, const int64_t *event_ids,
                               char *const *event_codes, size_t n);
void endpoint_session_ended(struct endpoint *ep, bool success);

/* ---- ManagementServer values (mgmt.c) ---- */
const char *mgmt_get(const struct endpoint *ep, const char *name);
unsigned mgmt_get_uint(const struct endpoint *ep, const char *name, unsigned fallback);
bool mgmt_get_bool(const struct endpoint *ep, const char *name);
int mgmt_load(struct endpoint *ep);
/* Read the values again from the cache (after a rolled-back set). */
void mgmt_reload(struct endpoint *ep);
void mgmt_free(struct endpoint *ep);
/* The provider serving Device.ManagementServer. of ep's model. */
void mgmt_mount(struct endpoint *ep);
/* Called after a SetParameterValues changed parameters of ManagementServer (names relative
 * to it, e.g. "STUNEnable"), once per request. */
typedef void (*mgmt_change_cb)(void *arg, struct endpoint *ep, const char *const *names,
                               size_t n);
void mgmt_observe(struct endpoint *ep, mgmt_change_cb cb, void *arg);
void mgmt_unobserve(struct endpoint *ep, mgmt_change_cb cb, void *arg);

/* ACS username per TR-069 3.4.4: "<OUI>-<ProductClass>-<SerialNumber>" percent-encoded. */
char *mgmt_default_username(const struct endpoint_identity *id);

#define SETTING_PARAMETER_KEY "parameter_key"
#define SETTING_REBOOT_KEY "reboot_command_key"

/* A provider's SetParameterValues storage: every item of req as the ACS's value (origin
 * "acs") in one cache transaction. Returns 0, or -1 with the request's fault set (9002,
 * saying why the cache refused); the caller still calls dm_request_done. */
struct dm_request;
int endpoint_store_set(struct endpoint *ep, struct dm_request *req);

/* Persisted per-endpoint settings (small strings in the cache). */
char *endpoint_setting(const struct endpoint *ep, const char *key); /* caller frees */
int endpoint_setting_set(struct endpoint *ep, const char *key, const char *value);

/* TR-069 Table 3: the wait range in seconds before the n-th retry (n >= 1) for
 * CWMPRetryMinimumWaitInterval m and CWMPRetryIntervalMultiplier k. */
void endpoint_retry_range(unsigned m, unsigned k, unsigned n, double *lo, double *hi);

/* Timers that depend on ManagementServer values (periodic inform). */
void endpoint_rearm_periodic(struct endpoint *ep);
/* ScheduleInform (A.4.1.4): persisted, survives a restart. */
int endpoint_schedule_inform(struct endpoint *ep, unsigned delay_seconds,
                             const char *command_key);

#endif
