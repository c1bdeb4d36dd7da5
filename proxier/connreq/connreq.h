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
 *   CR_BUSY          503             ignored         error 503 service-unavailable
 *   CR_RATE_LIMITED  503             ignored         error 503 service-unavailable
 *   CR_OFFLINE       503             ignored         error 503 service-unavailable
 *
 * After CR_ACCEPT the transport calls connreq_start_session() once its reply is on its way
 * (HTTP: when the 200 has been sent, 3.2.2.2 "prior to initiating the resulting Session"), in
 * every case, even if the reply could not be delivered. The session carries
 * "6 CONNECTION REQUEST" and starts at once (3.2.2.1 allows 30 s).
 *
 * Rules (3.2.2.1): a request while a session is pending (accepted, not yet started) is
 * answered with success and starts nothing more; a request during a session (including its
 * establishment) is refused with a transport error and starts nothing; accepted requests are
 * rate limited per endpoint by a token bucket ([connection_request] rate_burst and
 * rate_interval); coalesced ones cost nothing. Everything runs on the event loop; a transport
 * with its own thread (XMPP) posts to the loop first.
 */
#ifndef PX_CONNREQ_H
#define PX_CONNREQ_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct endpoint;
struct px_config;
struct connreq;

enum cr_verdict { CR_ACCEPT = 0, CR_COALESCED, CR_BUSY, CR_RATE_LIMITED, CR_OFFLINE };

const char *connreq_verdict_name(enum cr_verdict v);

/* The admission rule for one authenticated request. transport is for the log ("HTTP"). */
enum cr_verdict connreq_admit(struct endpoint *ep, const char *transport);
/* After CR_ACCEPT: queue "6 CONNECTION REQUEST" and start the session. */
void connreq_start_session(struct endpoint *ep);

/* A transport: started once with the service, told about each endpoint, stopped at exit.
 * start returns the transport's state, or NULL when it is disabled by the configuration or
 * failed (px_err_msg says why; *failed tells which). */
struct connreq_transport {
    const char *name;
    void *(*start)(struct connreq *cr, bool *failed);
    void (*endpoint_added)(void *state, struct endpoint *ep);
    void (*stop)(void *state);
};

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
