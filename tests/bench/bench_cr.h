/*
 * bench_cr.h: the benchmarks' connection-request client (TR-069 3.2.2.2): a GET, its 401
 * with an MD5 digest challenge, and the authenticated GET on the same connection, as an
 * ACS sends it. Blocking; loopback only.
 */
#ifndef PX_BENCH_CR_H
#define PX_BENCH_CR_H

/* One handshake to 127.0.0.1:port path with the credentials; the final HTTP status, -1 if
 * the connection failed or the first answer was not a 401 with a nonce. */
int bench_connection_request(unsigned port, const char *path, const char *username,
                             const char *password);

#endif
