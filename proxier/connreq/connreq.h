/*
 * connreq.h: connection requests (TR-069 3.2.2, Annex G, Annex K): the one admission rule
 * every transport obeys, and the registry of transports.
 *
 * A transport (HTTP, UDP/STUN, XMPP) authenticates a request for an endpoint, then asks
 * connreq_admit() for the verdict and maps it to its own reply:
 *
 *   verdict          HTTP            UDP (Annex G)   XMPP (Annex K)
 *   CR_ACCEPT        200, empty      (no reply)      empty result IQ
 *   CR_COALESCED     200, empty      (no reply)      empty result IQ
 *   CR_RATE_LIMITED  503             ignored         error 503 service-unavailable
 *   CR_OFFLINE       503             ignored         error 503 service-unavailable
 *
 * After CR_ACCEPT the transport calls connreq_start_session() once its reply is on its way
 * (HTTP: when the 200 has been sent, 3.2.2.2 "prior to initiating the resulting Session"), in
 * every case, even if the reply could not be delivered. The session carries
 * "6 CONNECTION REQUEST" and starts at once (3.2.2.1 allows 30 s), or, when a session is
 * running, at once after it.
 *
 * Rules (3.2.2.1): a request that would start a session is accepted when the endpoint's token
 * bucket has a token ([connection_request] rate_burst and rate_interval), else refused with
 * the transport's error. While the session of an accepted request is due (not yet started,
 * or to follow the running one) every further request is answered with success and starts
 * nothing more (coalesced, free). A request during a session (including its establishment)
 * never ends it early: it is accepted for exactly one session after it (3.2.2.2 option (b),
 * the first alternative of K.2.1.3). Refusals are logged at warn, rate-limited
 * (log.repeat_interval), and counted per transport for the control socket's status.
 * Everything runs on the event loop; a transport with its own thread (XMPP) posts to the
 * loop first.
 */
#ifndef PX_CONNREQ_H
#define PX_CONNREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "proxier/common/log.h"

struct event_base;
struct endpoint;
struct px_config;
struct connreq;

enum cr_verdict { CR_ACCEPT = 0, CR_COALESCED, CR_RATE_LIMITED, CR_OFFLINE };

const char *connreq_verdict_name(enum cr_verdict v);

/* A transport: started once with the service, told about each endpoint, stopped at exit.
 * start returns the transport's state, or NULL when it is disabled by the configuration or
 * failed (px_err_msg says why; *failed tells which). */
struct connreq_transport {
    const char *name;  /* TR-181 SupportedConnReqMethods value: "HTTP", "STUN", "XMPP" */
    const char *label; /* in the log and the status: "HTTP", "UDP", "XMPP" */
    void *(*start)(struct connreq *cr, bool *failed);
    void (*endpoint_added)(void *state, struct endpoint *ep);
    void (*stop)(void *state);
    /* Optional: the transport's own counters for the status line, " cr_<label>_<name>=N"
     * each, into buf; state is NULL when the transport is not running (all 0 then). */
    void (*status)(const void *state, char *buf, size_t size);
};

/* The admission rule for one authenticated request that transport t received for ep. */
enum cr_verdict connreq_admit(struct connreq *cr, const struct connreq_transport *t,
                              struct endpoint *ep);
/* After CR_ACCEPT: queue "6 CONNECTION REQUEST" for the session (now, or after the running
 * one). */
void connreq_start_session(struct endpoint *ep);

/* What connreq_admit answered for one transport since the start. */
struct connreq_counts {
    unsigned long accepted, coalesced, refused;
};

/* The counters as "cr_http_accepted=N cr_http_coalesced=N cr_http_refused=N <the transport's
 * own> cr_udp_..." (every transport this daemon has, enabled or not) into buf. */
void connreq_status(const struct connreq *cr, char *buf, size_t size);
const struct connreq_counts *connreq_counts_of(const struct connreq *cr,
                                               const struct connreq_transport *t);

/* log_limited() on the event loop of cr, whose timer writes the count of held repeats when
 * the interval ends. l belongs to the caller and must outlive cr's loop, or be given to
 * connreq_forget_log() first. */
void connreq_log_limited(struct connreq *cr, struct log_limit *l, enum log_level level,
                         const char *module, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void connreq_forget_log(struct connreq *cr, struct log_limit *l);

/* The service: owns the transports, knows the endpoints. */
struct connreq *connreq_new(struct event_base *base, const struct px_config *cfg);
/* Start every transport. Returns 0, or -1 if one that is enabled failed to start. */
int connreq_start(struct connreq *cr);
void connreq_add_endpoint(struct connreq *cr, struct endpoint *ep);
void connreq_free(struct connreq *cr);

struct event_base *connreq_base(const struct connreq *cr);
const struct px_config *connreq_config(const struct connreq *cr);
/* The endpoints, in the order they were added. */
struct endpoint *const *connreq_endpoints(const struct connreq *cr, size_t *n);

/* "HTTP,STUN,XMPP": the names of the transports this daemon has (SupportedConnReqMethods;
 * a transport's name is its TR-181 enumeration value). */
const char *connreq_supported_methods(void);

/* Publish an endpoint's ManagementServer.ConnectionRequestURL. A value that differs from the
 * one last published (also across restarts) is reported as a value change, so that the ACS
 * learns it (3.2.2: "If the URL used for management access changes, the CPE MUST notify the
 * ACS via an Inform message"; the parameter is forceDefaultEnabled active). */
void connreq_publish_url(struct endpoint *ep, const char *url);

#endif
