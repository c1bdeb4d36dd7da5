/*
 * http.h: the asynchronous HTTP client of CWMP sessions (TR-069 3.4), libcurl multi driven by
 * the libevent loop. Every ACS session of every endpoint runs through one struct http_multi;
 * each session owns one struct http_conn for its whole length, which keeps the persistent
 * TCP/TLS connection (3.4.1), the cookies (3.4.2), the authentication state (3.4.4) and the
 * redirected URL (3.4.5) until http_conn_free.
 *
 * What the connection does for the session layer:
 *  - POST text/xml; charset="utf-8" (an empty POST has no body and no Content-Type),
 *    with the SOAPAction header the caller gives (3.4.1: "" = the header with no value, as
 *    a POST carrying a SOAP response or fault needs; an empty POST never has one);
 *  - Basic and Digest (MD5, MD5-sess, qop=auth) with the configured credentials; Basic is
 *    sent preemptively over TLS, otherwise the first 401 picks the scheme; a second 401
 *    after authenticating is reported as status 401 (the session then fails, 3.7.1.4);
 *  - cookies received in the session are returned on every later POST of the session;
 *  - 301/302/307 (and 308) are followed with the same method and body, at most 5 hops in a
 *    session; later POSTs go to the redirected URL; the configured URL is never changed;
 *    the cookies follow to a new host; a redirect from HTTPS to plain HTTP is refused
 *    (error CURLE_UNSUPPORTED_PROTOCOL) so that credentials never travel in clear;
 *  - HTTPS verifies the server against the CA file/path; an optional client certificate;
 *  - gzip: with compression on, request bodies are sent Content-Encoding: gzip; a 415 reply
 *    switches compression off for the rest of the connection and re-sends the same body
 *    uncompressed (one extra round trip, invisible to the caller). Responses in gzip are
 *    always accepted;
 *  - TCP_NODELAY; a per-request timeout (3.7.1.4: not less than 30 s by default);
 *  - a POST is sent once: one that gets no byte of response (the ACS closed or reset the
 *    connection) fails with CURLE_GOT_NOTHING and is not re-sent, where libcurl would send
 *    it again on a new connection (3.7.1.4; http.c says how). Only a response (401, 3xx,
 *    415) makes the same body go again;
 *  - the response body is limited to HTTP_MAX_RESPONSE bytes (after gzip decoding).
 * http_conn_free closes the TCP connection (3.4.2: closed when the session ends).
 */
#ifndef PX_HTTP_H
#define PX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest response body accepted (the SOAP envelope limit); beyond it the transfer is
 * aborted with the error "response too large". */
#define HTTP_MAX_RESPONSE (4u * 1024 * 1024)
/* Redirects followed in one connection (TR-069 3.4.2: up to 5); the 6th is an error. */
#define HTTP_MAX_REDIRECTS 5u

struct event_base;
struct http_multi;
struct http_conn;

struct http_conn_config {
    const char *url;          /* the ACS URL */
    const char *username;     /* NULL or "" = no authentication */
    const char *password;
    const char *ca_file;      /* NULL = system default */
    const char *ca_path;
    const char *client_cert;  /* PEM, NULL = none */
    const char *client_key;
    bool verify_peer;         /* default true; false only for tests that say so */
    bool gzip;                /* HTTPCompression = GZIP */
    unsigned timeout_s;       /* per request; 0 = 30 */
    const char *user_agent;   /* NULL = "proxierd/<version>" */
};

struct http_result {
    int error;            /* 0, or a libcurl error (connection refused, timeout, TLS, ...) */
    const char *error_text;
    long status;          /* HTTP status of the final response (after redirects), 0 if none */
    const char *body;     /* NUL-terminated; valid during the callback only */
    size_t body_len;
    size_t received;      /* response body bytes received, also when the POST failed (a
                           * response too large stops at HTTP_MAX_RESPONSE) */
    const char *content_type;
    const char *effective_url; /* the URL that answered (after redirects) */
    unsigned redirects;   /* redirects followed so far in this connection */
    bool compression_refused; /* a 415 made this connection stop compressing (3.4.7) */
};

typedef void (*http_done_cb)(void *arg, const struct http_result *res);

struct http_multi *http_multi_new(struct event_base *base);
/* Cancels every transfer without callbacks; connections still alive become inert (their
 * POSTs fail with -1) and must still be freed with http_conn_free. Not from a callback. */
void http_multi_free(struct http_multi *hm);

/* Strings of cfg are copied. NULL if cfg->url is missing or on allocation failure. */
struct http_conn *http_conn_new(struct http_multi *hm, const struct http_conn_config *cfg);
/* Send one POST (body NULL/len 0 = empty POST; soap_action NULL = no SOAPAction header,
 * "" = "SOAPAction:" with no value, anything else is sent verbatim, quotes included).
 * body and soap_action are copied. done is called once from the loop (never from inside
 * http_conn_post); it may post again or free the connection. Only one POST at a time per
 * connection: returns -1 if one is in flight (or on allocation failure), 0 otherwise. */
int http_conn_post(struct http_conn *c, const char *body, size_t len, const char *soap_action,
                   http_done_cb done, void *arg);
/* Abort an in-flight POST without calling done; closes the connection. */
void http_conn_free(struct http_conn *c);

/* ---- File transfers (http_fetch.c; TR-069 A.3.2.8 Download, A.4.1.5 Upload) ----
 * One GET into a file or one PUT of a file, on the same multi and loop as the sessions, with
 * its own connection. Basic or Digest as the file server asks (credentials are never sent
 * to another host after a redirect); up to HTTP_MAX_REDIRECTS redirects, never from HTTPS to
 * plain HTTP; HTTPS with the TLS settings of the ACS. The outcome is classified for the
 * caller, who maps it to CWMP faults. */
struct http_fetch;

struct http_fetch_config {
    const char *url;
    const char *username;      /* NULL or "" = no authentication */
    const char *password;
    const struct http_conn_config *tls; /* ca_file, ca_path, client cert, verify_peer */
    const char *path;          /* GET: written here (truncated first); PUT: read from here */
    bool upload;               /* PUT instead of GET */
    uint64_t max_size;         /* GET: abort beyond this many bytes; 0 = no limit */
    unsigned connect_timeout_s; /* 0 = 30 */
    unsigned stall_timeout_s;  /* abort after this long below 1 byte/s; 0 = 60 */
};

enum http_fetch_error {
    HTTP_FETCH_OK = 0,
    HTTP_FETCH_CONNECT,    /* no connection: refused, unresolvable, unreachable, timeout */
    HTTP_FETCH_TLS,        /* TLS handshake or server certificate refused */
    HTTP_FETCH_AUTH,       /* 401/407 after authenticating (or no credentials) */
    HTTP_FETCH_STATUS,     /* any other status that is not a success */
    HTTP_FETCH_TOO_LARGE,  /* the body went beyond max_size */
    HTTP_FETCH_INCOMPLETE, /* the connection broke or stalled mid-body, short body */
    HTTP_FETCH_LOCAL,      /* the local file could not be written or read */
    HTTP_FETCH_PROTOCOL,   /* not an http(s) URL, or a refused redirect */
};

struct http_fetch_result {
    enum http_fetch_error error;
    long status;       /* final HTTP status, 0 if none */
    uint64_t bytes;    /* body bytes received (GET) or sent (PUT) */
    const char *text;  /* what happened, for logs and fault strings; valid in the call */
};

typedef void (*http_fetch_cb)(void *arg, const struct http_fetch_result *res);

/* Start a transfer; cfg's strings are copied. done is called once from the loop (never from
 * inside http_fetch_start), after which the handle is gone. NULL on a local failure (the
 * file cannot be opened: px_err_msg says why). */
struct http_fetch *http_fetch_start(struct http_multi *hm, const struct http_fetch_config *cfg,
                                    http_fetch_cb done, void *arg);
/* Abort a transfer in progress without calling done. */
void http_fetch_cancel(struct http_fetch *f);

#endif
