/*
 * session.h: one CWMP session of one endpoint (TR-069 3.7.1): the Inform, the ACS's requests
 * and our responses, our own requests, HoldRequests, the empty POST, termination on an empty
 * ACS response, and every failure case of 3.7.1.4. The endpoint starts a session and is told
 * how it ended (endpoint_session_ended).
 */
#ifndef PX_SESSION_H
#define PX_SESSION_H

struct endpoint;
struct session;

/* Build the Inform from the endpoint's queue and start. Returns NULL on a local error (the
 * endpoint then treats it as a failed session). */
struct session *session_start(struct endpoint *ep);
/* Stop at once without reporting to the endpoint (daemon shutdown). */
void session_free(struct session *s);

#endif
