/*
 * session.c: the CPE side of one CWMP session (TR-069 3.7.1, Table 7).
 *
 *   start -> collect Inform parameters (asynchronously, from the providers)
 *         -> POST Inform  -- 8005: POST the identical Inform again
 *         -> InformResponse: events confirmed, version chosen (3.7.1.1)
 *         -> loop: ACS request  -> answer it in the next POST (rpc/)
 *                  empty reply  -> end, if our empty POST with HoldRequests false was sent;
 *                                  otherwise send a pending request or the empty POST
 *         -> end (success) or any failure of 3.7.1.4 (failure)
 *
 * The endpoint is told the outcome once, through endpoint_session_ended, which also frees
 * the session.
 */
#include "proxier/session/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/common/mem.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/core/notify.h"
#include "proxier/dm/dm.h"
#include "proxier/rpc/rpc.h"
#include "proxier/session/http.h"
#include "proxier/soap/soap.h"

/* A session that sent or received a message at least this large gives the heap's free pages
 * back to the system when it is freed (common/mem.h). 256 KiB: an ordinary session's messages
 * (an Inform, a GetParameterValuesResponse of the whole gateway model) stay well below, and
 * libxml2's tree of a message is several times its size; glibc serves blocks above 128 KiB
 * with mmap until the first such block is freed. */
#define SESSION_RELEASE_AFTER_BYTES (256u * 1024)

enum session_state { S_COLLECTING, S_INFORM_SENT, S_RUNNING, S_ENDED };

struct session {
    struct endpoint *ep;
    enum session_state state;
    struct http_conn *conn;
    struct dm_request *inform_req;
    enum cwmp_version offered;  /* version of our Inform */
    enum cwmp_version version;  /* version agreed for the rest of the session */

    /* Inform contents, kept for 8005 re-sends and for confirming delivery */
    struct buf inform_xml;
    struct soap_event *events; /* codes and command keys owned by the session */
    char **event_codes;         /* = events[i].code */
    int64_t *event_ids;
    size_t n_events;
    char **changed;             /* value-change parameters listed in the Inform */
    size_t n_changed;
    unsigned retries;           /* 8005 replies to the Inform */

    /* Our own requests (TransferComplete, ...), announced by the Inform's events */
    struct cpe_request *requests;
    size_t n_requests;
    size_t next_request;        /* the one to send (or sent and awaiting its response) */
    bool request_outstanding;
    struct buf request_xml;     /* kept for 8005 re-sends */
    unsigned request_retries;

    bool hold_requests;
    bool final_empty_sent;      /* empty POST sent while HoldRequests was false */
    struct rpc_call *rpc;       /* ACS request being answered */
    unsigned acs_requests;
    size_t largest_message;     /* bytes of the largest message sent or received */
};

static void session_post(struct session *s, const char *body, size_t len, const char *action);
static void collect_requests(struct session *s);

/* 3.2.1.1 / 3.7.2.1: an ACS that knows only CWMP 1.0 may refuse a newer Inform with an HTTP
 * or SOAP fault. Such a refusal makes the next retry offer 1.0; a refused 1.0 Inform makes
 * the one after offer our own version again. A session that works in 1.0 keeps 1.0 until
 * the daemon restarts. */
static void suspect_old_acs(struct session *s)
{
    if (s->state == S_INFORM_SENT)
        s->ep->revert_to_v10 = s->offered > CWMP_V1_0;
}

static void session_finish(struct session *s, bool success, const char *why)
{
    if (s->state == S_ENDED)
        return;
    s->state = S_ENDED;
    if (success)
        LOG_INFO("session", "%s: session ended (%u ACS requests)", s->ep->key, s->acs_requests);
    else
        LOG_WARN("session", "%s: session failed: %s", s->ep->key, why);
    /* Events of the "not retried" kind (6 CONNECTION REQUEST) leave the queue with the session
     * that carried them, whatever happened (Table 8). */
    if (!success) {
        notify_session_over(s->ep);
        endpoint_begin(s->ep);
        for (size_t i = 0; i < s->n_events; i++)
            if (events_policy(s->event_codes[i])->retry == EV_RETRY_NEVER)
                endpoint_event_delete(s->ep, s->event_ids[i]);
        endpoint_commit(s->ep);
    }
    endpoint_session_ended(s->ep, success);
}

/* ---- Inform ---- */

static void collect_event(void *arg, const struct cache_event *ev)
{
    struct session *s = arg;
    s->events = realloc(s->events, (s->n_events + 1) * sizeof(*s->events));
    s->event_ids = realloc(s->event_ids, (s->n_events + 1) * sizeof(*s->event_ids));
    s->event_codes = realloc(s->event_codes, (s->n_events + 1) * sizeof(*s->event_codes));
    s->event_codes[s->n_events] = strdup(ev->code);
    s->events[s->n_events].code = s->event_codes[s->n_events];
    s->events[s->n_events].command_key = strdup(ev->command_key ? ev->command_key : "");
    s->event_ids[s->n_events] = ev->id;
    s->n_events++;
}

/* A.3.3.1: at most 64 events in an Inform; beyond that the oldest "M" events are discarded
 * (for good: they leave the queue). */
#define INFORM_MAX_EVENTS 64

static void drop_event(struct session *s, size_t i)
{
    struct endpoint *ep = s->ep;
    LOG_WARN("session", "%s: more than %d events: discarding \"%s\" (CommandKey \"%s\")", ep->key,
             INFORM_MAX_EVENTS, s->event_codes[i], s->events[i].command_key);
    endpoint_event_delete(ep, s->event_ids[i]);
    free(s->event_codes[i]);
    free((char *)s->events[i].command_key);
    s->n_events--;
    memmove(&s->events[i], &s->events[i + 1], (s->n_events - i) * sizeof(*s->events));
    memmove(&s->event_codes[i], &s->event_codes[i + 1],
            (s->n_events - i) * sizeof(*s->event_codes));
    memmove(&s->event_ids[i], &s->event_ids[i + 1], (s->n_events - i) * sizeof(*s->event_ids));
}

static void drop_excess_events(struct session *s)
{
    for (size_t i = 0; s->n_events > INFORM_MAX_EVENTS && i < s->n_events;) {
        if (!strncmp(s->event_codes[i], "M ", 2))
            drop_event(s, i); /* oldest first: the queue is in order of arrival */
        else
            i++;
    }
}

/* 3.7.1.1: every version we support, up to the one we offer. */
static const char *supported_versions_text(enum cwmp_version offered)
{
    static const char *const lists[] = {"1.0", "1.0,1.1", "1.0,1.1,1.2", "1.0,1.1,1.2,1.3",
                                        "1.0,1.1,1.2,1.3,1.4"};
    return lists[offered];
}

static void on_inform_values(void *arg, struct dm_request *req)
{
    struct session *s = arg;
    struct endpoint *ep = s->ep;
    s->inform_req = NULL;

    struct soap_value *params = calloc(req->n_items ? req->n_items : 1, sizeof(*params));
    size_t n_params = 0;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        if (it->fault)
            continue; /* a provider that cannot answer does not block the Inform */
        /* a parameter may be forced, listed by InformParameter and changed: list it once */
        bool dup = false;
        for (size_t j = 0; j < n_params && !dup; j++)
            dup = strcmp(params[j].name, it->path) == 0;
        if (dup)
            continue;
        params[n_params].name = it->path;
        params[n_params].value = it->node->hidden ? "" : (it->value ? it->value : "");
        params[n_params].type = dm_type_xsd(&it->node->type);
        n_params++;
    }

    struct soap_inform inform = {
        .device_id = {ep->id.manufacturer, ep->id.oui, ep->id.product_class,
                      ep->id.serial_number},
        .events = s->events,
        .n_events = s->n_events,
        .max_envelopes = 1,
        .current_time = time(NULL),
        .retry_count = ep->retry_count,
        .params = params,
        .n_params = n_params,
    };
    char id[32];
    snprintf(id, sizeof(id), "inform-%ld", (long)time(NULL));
    struct soap_envelope env = {
        .version = s->offered,
        .id = id,
        .supported_versions = s->offered >= CWMP_V1_4,
        .supported_versions_text = supported_versions_text(s->offered),
        /* Table 4: a suggestion to the ACS, only in an Inform, from CWMP 1.3 on. */
        .session_timeout = s->offered >= CWMP_V1_3 ? ep->env.cfg->session_timeout : 0,
    };
    int rc = soap_write_inform(&s->inform_xml, &env, &inform);
    free(params);
    dm_request_free(req);
    if (rc != 0 || buf_failed(&s->inform_xml)) {
        session_finish(s, false, "cannot build the Inform");
        return;
    }
    s->state = S_INFORM_SENT;
    LOG_INFO("session", "%s: Inform with %zu events, RetryCount %u", ep->key, s->n_events,
             ep->retry_count);
    session_post(s, s->inform_xml.data, s->inform_xml.len, "Inform");
}

static void add_inform_param(struct dm_request *req, const struct dm_model *m, const char *path)
{
    int fault;
    const struct dm_node *node = dm_resolve_param(m, path, &fault);
    if (node)
        dm_request_add(req, path, node, NULL);
}

static void add_expanded(void *arg, const char *path, const struct dm_node *node)
{
    dm_request_add(arg, path, node, NULL);
}

/* A row's value as the ManagementServer provider stores it ("" when never set). */
static char *row_value(struct endpoint *ep, unsigned row, const char *name)
{
    char path[128], *v = NULL;
    snprintf(path, sizeof(path), "Device.ManagementServer.InformParameter.%u.%s", row, name);
    if (cache_value_get(ep->env.cache, ep->key, path, &v) != CACHE_OK)
        return strdup("");
    return v;
}

/* TR-181 InformParameter.{i}.EventList: empty means every event. */
static bool event_listed(const struct session *s, const char *list)
{
    if (!*list)
        return true;
    for (size_t i = 0; i < s->n_events; i++) {
        size_t n = strlen(s->event_codes[i]);
        for (const char *p = list; (p = strstr(p, s->event_codes[i])); p += n)
            if ((p == list || p[-1] == ',' || p[-1] == ' ') && (!p[n] || p[n] == ','))
                return true;
    }
    return false;
}

/* ManagementServer.InformParameter (A.3.3.1): the ACS's own additions to the ParameterList,
 * per enabled row whose EventList matches this Inform's events. */
static void add_inform_parameters(struct session *s, struct dm_request *req)
{
    struct endpoint *ep = s->ep;
    /* A.3.3.1: with "4 VALUE CHANGE" the ParameterList holds only the forced and the changed
     * parameters. */
    for (size_t i = 0; i < s->n_events; i++)
        if (!strcmp(s->event_codes[i], EV_VALUE_CHANGE))
            return;
    unsigned rows[256];
    size_t n = dm_instance_list(ep->model, "Device.ManagementServer.InformParameter.", rows,
                                sizeof(rows) / sizeof(rows[0]));
    for (size_t i = 0; i < n; i++) {
        char *enable = row_value(ep, rows[i], "Enable");
        char *name = row_value(ep, rows[i], "ParameterName");
        char *events = row_value(ep, rows[i], "EventList");
        if (!strcmp(enable, "true") && *name && event_listed(s, events) &&
            dm_expand(ep->model, name, add_expanded, req) != 0)
            LOG_DEBUG("session", "%s: InformParameter.%u names nothing: %s", ep->key, rows[i],
                      name);
        free(enable);
        free(name);
        free(events);
    }
}

/* The events of the queue, then the Inform's parameters (forced, InformParameter rows,
 * changed ones) read in one asynchronous request. */
static void session_collect(struct session *s)
{
    struct endpoint *ep = s->ep;
    s->changed = notify_pending(ep, &s->n_changed);
    /* Changes ride on this Inform with "4 VALUE CHANGE" (Table 8). */
    if (s->n_changed > 0)
        endpoint_queue_event(ep, EV_VALUE_CHANGE, "", NULL);
    endpoint_event_list(ep, collect_event, s);
    drop_excess_events(s);
    collect_requests(s);

    struct dm_request *req = dm_request_new(ep->model, DM_OP_GET);
    for (size_t i = 0; notify_forced_inform[i]; i++)
        add_inform_param(req, ep->model, notify_forced_inform[i]);
    add_inform_parameters(s, req);
    for (size_t i = 0; i < s->n_changed; i++)
        add_inform_param(req, ep->model, s->changed[i]);
    s->inform_req = req;
    dm_request_start(req, on_inform_values, s);
}

/* ---- Our own requests (3.7.1.3, 3.7.1.5) ---- */

static bool confirmed_by_request(const char *code)
{
    enum ev_confirm c = events_policy(code)->confirm;
    return c == EV_CONFIRM_TRANSFER_COMPLETE || c == EV_CONFIRM_AUTONOMOUS_TRANSFER_COMPLETE;
}

static bool request_for_event(const struct session *s, int64_t id)
{
    for (size_t i = 0; i < s->n_requests; i++)
        if (s->requests[i].event_id == id)
            return true;
    return false;
}

static bool requests_left(const struct session *s, bool autonomous)
{
    for (size_t i = s->next_request; i < s->n_requests; i++)
        if (s->requests[i].tc.autonomous == autonomous)
            return true;
    return false;
}

/* An event that only a request can confirm but that no request backs (its record is gone,
 * or we never send that request: DUStateChangeComplete, Kicked, RequestDownload) would be
 * sent for ever, one session after the other: it leaves the queue with a warning. */
static void drop_orphans(struct session *s)
{
    for (size_t i = 0; i < s->n_events;) {
        const char *code = s->event_codes[i];
        bool orphan = false;
        if (!strncmp(code, "M ", 2) && confirmed_by_request(code))
            orphan = !request_for_event(s, s->event_ids[i]);
        else if (confirmed_by_request(code))
            orphan = !requests_left(s, events_policy(code)->confirm ==
                                           EV_CONFIRM_AUTONOMOUS_TRANSFER_COMPLETE);
        else
            orphan = events_policy(code)->confirm != EV_CONFIRM_INFORM;
        if (orphan) {
            LOG_WARN("session", "%s: event \"%s\" has nothing left to deliver it: discarded",
                     s->ep->key, code);
            drop_event(s, i);
        } else {
            i++;
        }
    }
}

static void collect_requests(struct session *s)
{
    struct endpoint *ep = s->ep;
    if (ep->requests.collect)
        s->n_requests = ep->requests.collect(ep->requests.arg, ep, s->events, s->event_ids,
                                             s->n_events, &s->requests);
    drop_orphans(s);
}

static void forget_delivered(struct session *s, struct cpe_request *r);

static void find_m_event(void *arg, const struct cache_event *ev)
{
    if (!strncmp(ev->code, "M ", 2) &&
        events_policy(ev->code)->confirm == EV_CONFIRM_TRANSFER_COMPLETE)
        *(bool *)arg = true;
}

/* Is an "M Download"-like event still queued (after this session's were deleted)? */
static bool more_m_events(struct session *s)
{
    bool found = false;
    endpoint_event_list(s->ep, find_m_event, &found);
    return found;
}

/* The ACS answered request r: tell its source, delete the events it delivered, in one
 * transaction (a kill -9 between them would leave an event that nothing backs). */
static void request_delivered(struct session *s, struct cpe_request *r)
{
    struct endpoint *ep = s->ep;
    endpoint_begin(ep);
    forget_delivered(s, r);
    endpoint_commit(ep);
}

static void forget_delivered(struct session *s, struct cpe_request *r)
{
    struct endpoint *ep = s->ep;
    if (ep->requests.delivered)
        ep->requests.delivered(ep->requests.arg, ep, r);
    if (r->event_id)
        endpoint_event_delete(ep, r->event_id);
    s->next_request++;
    s->request_outstanding = false;
    s->request_retries = 0;
    /* "7 TRANSFER COMPLETE" / "10 AUTONOMOUS ..." go when their last request went, unless a
     * transfer that finished during this session already queued its "M" event for the next
     * one ("7" is Single: it would not be added again). */
    if (requests_left(s, r->tc.autonomous) || (!r->tc.autonomous && more_m_events(s)))
        return;
    for (size_t i = 0; i < s->n_events; i++)
        if (strncmp(s->event_codes[i], "M ", 2) != 0 && confirmed_by_request(s->event_codes[i]) &&
            (events_policy(s->event_codes[i])->confirm ==
             EV_CONFIRM_AUTONOMOUS_TRANSFER_COMPLETE) == r->tc.autonomous)
            endpoint_event_delete(ep, s->event_ids[i]);
}

/* ---- Exchanges ---- */

static void on_http_done(void *arg, const struct http_result *res);

static void note_message_size(struct session *s, size_t len)
{
    if (len > s->largest_message)
        s->largest_message = len;
}

static void session_post(struct session *s, const char *body, size_t len, const char *action)
{
    note_message_size(s, len);
    log_trace_soap(s->ep->key, ">>", body, len);
    if (http_conn_post(s->conn, body, len, action, on_http_done, s) != 0)
        session_finish(s, false, "HTTP client refused the request");
}

static void session_post_empty(struct session *s)
{
    if (!s->hold_requests)
        s->final_empty_sent = true;
    session_post(s, NULL, 0, NULL);
}

static void session_post_request(struct session *s)
{
    struct cpe_request *r = &s->requests[s->next_request];
    char id[32];
    snprintf(id, sizeof(id), "cpe-%zu", s->next_request + 1);
    struct soap_envelope env = {.version = s->version, .id = id};
    buf_reset(&s->request_xml);
    if (soap_write_transfer_complete(&s->request_xml, &env, &r->tc) != 0 ||
        buf_failed(&s->request_xml)) {
        session_finish(s, false, "cannot build a TransferComplete");
        return;
    }
    s->request_outstanding = true;
    LOG_INFO("session", "%s: %s CommandKey \"%s\" fault %d", s->ep->key,
             r->tc.autonomous ? "AutonomousTransferComplete" : "TransferComplete",
             r->tc.command_key ? r->tc.command_key : "", r->tc.fault_code);
    session_post(s, s->request_xml.data, s->request_xml.len,
                 r->tc.autonomous ? "AutonomousTransferComplete" : "TransferComplete");
}

/* Table 7 when no ACS request is outstanding: one of our requests if HoldRequests allows
 * and we have not yet said we are done, else the empty POST. */
static void session_next(struct session *s)
{
    if (!s->hold_requests && !s->final_empty_sent && s->next_request < s->n_requests) {
        session_post_request(s);
        return;
    }
    session_post_empty(s);
}

/* The ACS's answer to our outstanding request (3.7.1.6). */
static void handle_request_reply(struct session *s, struct soap_msg *msg)
{
    struct cpe_request *r = &s->requests[s->next_request];
    enum soap_method expected = r->tc.autonomous ? SOAP_AutonomousTransferCompleteResponse
                                                 : SOAP_TransferCompleteResponse;
    s->hold_requests = msg->header.hold_requests;
    if (msg->method == expected) {
        request_delivered(s, r);
    } else if (msg->method == SOAP_Fault && msg->fault_code == 8005 &&
               s->request_retries < s->ep->env.cfg->max_retry_requests) {
        s->request_retries++;
        session_post(s, s->request_xml.data, s->request_xml.len,
                     r->tc.autonomous ? "AutonomousTransferComplete" : "TransferComplete");
        return;
    } else if (msg->method == SOAP_Fault) {
        /* Not retried in this session; its events stay queued for the next one. */
        LOG_WARN("session", "%s: TransferComplete answered with fault %d", s->ep->key,
                 msg->fault_code);
        s->next_request++;
        s->request_outstanding = false;
        s->request_retries = 0;
    } else {
        session_finish(s, false, "the ACS did not answer our request");
        return;
    }
    session_next(s);
}

static void on_rpc_done(void *arg, const char *xml, size_t len)
{
    struct session *s = arg;
    s->rpc = NULL;
    session_post(s, xml, len, "");
}

static bool is_acs_request(enum soap_method m)
{
    return (m >= SOAP_GetRPCMethods && m <= SOAP_GetOptions) || m == SOAP_Unknown;
}

static int negotiate_version(struct session *s, const struct soap_msg *msg)
{
    if (!msg->header.use_cwmp_version) {
        /* Table 6: infer from the namespace; there is no way to infer 1.3. */
        s->version = msg->version < s->offered ? msg->version : s->offered;
        if (s->version > CWMP_V1_2)
            s->version = CWMP_V1_2;
        return 0;
    }
    enum cwmp_version v;
    if (soap_version_parse(msg->header.use_cwmp_version, &v) != 0 || v > s->offered)
        return px_err_set(-1, "ACS chose CWMP version \"%s\" that we did not offer",
                          msg->header.use_cwmp_version);
    s->version = v;
    return 0;
}

static void handle_inform_reply(struct session *s, struct soap_msg *msg)
{
    struct endpoint *ep = s->ep;
    if (msg->method == SOAP_Fault && msg->fault_code == 8005 &&
        s->retries < ep->env.cfg->max_retry_requests) {
        s->retries++;
        LOG_INFO("session", "%s: ACS asked to retry the Inform (8005)", ep->key);
        session_post(s, s->inform_xml.data, s->inform_xml.len, "Inform");
        return;
    }
    if (msg->method == SOAP_Fault) {
        char why[300];
        suspect_old_acs(s);
        snprintf(why, sizeof(why), "Inform answered with fault %d %s", msg->fault_code,
                 msg->fault_string ? msg->fault_string : "");
        session_finish(s, false, why);
        return;
    }
    if (msg->method != SOAP_InformResponse) {
        session_finish(s, false, "expected InformResponse");
        return;
    }
    if (negotiate_version(s, msg) != 0) {
        /* 3.7.1.1: abort session initiation by closing the TCP connection. */
        session_finish(s, false, px_err_msg());
        return;
    }
    endpoint_inform_delivered(ep, s->event_ids, s->event_codes, s->n_events);
    notify_delivered(ep, s->changed, s->n_changed);
    s->state = S_RUNNING;
    s->hold_requests = msg->header.hold_requests;
    LOG_DEBUG("session", "%s: InformResponse, CWMP %s", ep->key, soap_version_string(s->version));
    session_next(s);
}

static void handle_running_reply(struct session *s, struct soap_msg *msg)
{
    if (s->request_outstanding) {
        handle_request_reply(s, msg);
        return;
    }
    s->hold_requests = msg->method != SOAP_NONE && msg->header.hold_requests;
    if (msg->method == SOAP_NONE) {
        /* 3.7.1.4: an empty ACS response ends the session once our final empty POST went. */
        if (s->final_empty_sent)
            session_finish(s, true, NULL);
        else
            session_next(s);
        return;
    }
    if (is_acs_request(msg->method)) {
        s->acs_requests++;
        LOG_DEBUG("session", "%s: ACS request %s", s->ep->key, msg->method_name);
        /* rpc_handle returns NULL when it already answered (synchronously). */
        s->rpc = rpc_handle(s->ep, msg, s->version, on_rpc_done, s);
        return;
    }
    /* A response or fault for a request we did not send: a protocol violation. */
    session_finish(s, false, "unexpected message from the ACS");
}

static void on_http_done(void *arg, const struct http_result *res)
{
    struct session *s = arg;
    char why[512];
    note_message_size(s, res->received);
    if (res->error) {
        snprintf(why, sizeof(why), "HTTP transport: %s",
                 res->error_text ? res->error_text : "error");
        session_finish(s, false, why);
        return;
    }
    if (res->status != 200 && res->status != 204) {
        if (res->status != 401 && res->status != 407)
            suspect_old_acs(s);
        snprintf(why, sizeof(why), "HTTP status %ld from the ACS", res->status);
        session_finish(s, false, why);
        return;
    }
    /* 3.4.7: an ACS that refused gzip gets plain messages from now on, not a 415 in every
     * session. */
    s->ep->gzip_refused |= res->compression_refused;
    log_trace_soap(s->ep->key, "<<", res->body, res->body_len);
    struct soap_msg msg;
    int rc = soap_parse(res->status == 204 ? "" : res->body, res->status == 204 ? 0 : res->body_len,
                        &msg);
    if (rc != 0 && s->state == S_RUNNING && is_acs_request(msg.method)) {
        /* A known request with bad arguments: the envelope is fine, so answer with the
         * fault (A.5.1 9003) and go on. */
        struct buf fault = BUF_INIT;
        LOG_INFO("session", "%s: %s rejected: %s", s->ep->key,
                 soap_method_name(msg.method), px_err_msg());
        rpc_write_fault(&fault, &msg, s->version, rc, px_err_msg());
        s->hold_requests = msg.header.hold_requests;
        soap_msg_free(&msg);
        session_post(s, fault.data, fault.len, "");
        buf_free(&fault);
        return;
    }
    if (rc == 0 && msg.header.unknown_must_understand && !is_acs_request(msg.method)) {
        /* SOAP 1.1 4.2.3: a response we cannot process as the ACS demands; a fault must not
         * answer a response (3.5), so the session ends unsuccessfully (3.7.1.4). */
        rc = px_err_set(PX_ERR_INVALID_ARGUMENTS, "header %s has mustUnderstand=\"1\" and is "
                        "not understood (SOAP 1.1 4.2.3)", msg.header.unknown_must_understand);
    }
    if (rc != 0) {
        /* 3.7.1.4: XML not well-formed or not a valid SOAP structure ends the session. */
        snprintf(why, sizeof(why), "malformed message from the ACS: %s", px_err_msg());
        soap_msg_free(&msg);
        session_finish(s, false, why);
        return;
    }
    if (s->state == S_INFORM_SENT)
        handle_inform_reply(s, &msg);
    else
        handle_running_reply(s, &msg);
    soap_msg_free(&msg);
}

/* ---- Life cycle ---- */

static enum cwmp_version configured_version(const struct endpoint *ep)
{
    enum cwmp_version v = CWMP_V1_4;
    soap_version_parse(ep->env.cfg->cwmp_version, &v);
    return ep->revert_to_v10 ? CWMP_V1_0 : v;
}

struct session *session_start(struct endpoint *ep)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ep = ep;
    s->offered = configured_version(ep);
    s->version = s->offered;
    const struct px_config *cfg = ep->env.cfg;
    const char *username = mgmt_get(ep, "Username");
    struct http_conn_config hc = {
        .url = mgmt_get(ep, "URL"),
        .username = username,
        .password = mgmt_get(ep, "Password"),
        .ca_file = cfg->acs_ca_file,
        .ca_path = cfg->acs_ca_path,
        .client_cert = cfg->acs_client_cert,
        .client_key = cfg->acs_client_key,
        .verify_peer = cfg->acs_verify_peer,
        .gzip = strcmp(mgmt_get(ep, "HTTPCompression"), "GZIP") == 0 && !ep->gzip_refused,
        .timeout_s = cfg->acs_timeout,
    };
    s->conn = http_conn_new(ep->env.http, &hc);
    if (!s->conn) {
        free(s);
        return NULL;
    }
    LOG_INFO("session", "%s: starting session with %s", ep->key, hc.url);
    ep->session = s;
    session_collect(s);
    return s;
}

void session_free(struct session *s)
{
    if (!s)
        return;
    if (s->rpc)
        rpc_cancel(s->rpc);
    if (s->inform_req)
        dm_request_free(s->inform_req);
    http_conn_free(s->conn);
    buf_free(&s->inform_xml);
    for (size_t i = 0; i < s->n_events; i++) {
        free(s->event_codes[i]);
        free((char *)s->events[i].command_key);
    }
    free(s->events);
    free(s->event_codes);
    for (size_t i = 0; i < s->n_requests; i++)
        cpe_request_clear(&s->requests[i]);
    free(s->requests);
    buf_free(&s->request_xml);
    free(s->event_ids);
    for (size_t i = 0; i < s->n_changed; i++)
        free(s->changed[i]);
    free(s->changed);
    size_t largest = s->largest_message;
    free(s);
    /* Everything the large message left is free now: the response buffer and curl's handle
     * went with the connection, the parsed envelope when its reply was handled. */
    if (largest >= SESSION_RELEASE_AFTER_BYTES && mem_release_free())
        LOG_DEBUG("session", "free memory returned to the system after a %zu-byte message",
                  largest);
}
