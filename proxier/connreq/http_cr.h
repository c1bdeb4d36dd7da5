/*
 * http_cr.h: the HTTP connection-request transport (TR-069 3.2.2.2, digest 3.4.5): one
 * libmicrohttpd listener in external-epoll mode on the daemon's event loop, one random
 * path per endpoint published as ManagementServer.ConnectionRequestURL, our own digest
 * verifier (digest.h), verdicts from connreq_admit() mapped to 200 / 503.
 *
 * Configuration: [connection_request] port (0 = no HTTP listener), address, realm,
 * nonce_lifetime, nonce_table, max_connections, max_connections_per_ip,
 * connection_timeout, max_request_bytes (docs/configuration.md).
 */
#ifndef PX_HTTP_CR_H
#define PX_HTTP_CR_H

#include "proxier/connreq/connreq.h"

/* Registered in connreq.c's transports[]; its name is "HTTP" (SupportedConnReqMethods). */
extern const struct connreq_transport http_cr_transport;

/* The endpoint setting (endpoint_setting) that keeps the random path across restarts. */
#define HTTP_CR_PATH_SETTING "cr_http_path"

#endif
