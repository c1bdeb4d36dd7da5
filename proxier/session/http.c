/*
 * http.c: the asynchronous HTTP client of CWMP sessions (TR-069 3.4.1-3.4.7, 3.7.1.4).
 *
 * One libcurl multi handle is driven by the libevent loop: curl tells us which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); we answer
 * with curl_multi_socket_action and collect finished transfers (CURLMSG_DONE). Nothing here
 * blocks the loop (DESIGN.md "Runtime").
 *
 * Each struct http_conn is one easy handle kept for the whole session, so that curl keeps
 * the cookies (in-memory engine, 3.4.2), the Digest state (3.4.4, 3.4.5) and the TCP/TLS
 * connection (3.4.2) from one POST to the next. The connection lives in a connection cache
 * private to the http_conn (a curl share handle), so that http_conn_free really closes it:
 * 3.4.2 wants the CPE to close the connection when the session ends, and the multi's shared
 * cache would otherwise keep it open for reuse. Redirects are followed here, not by curl,
 * to count them over the session and to carry the cookies to the new host (3.4.2).
 *
 * No POST is ever sent twice (TR-069 3.7.1.4: "If the CPE fails to receive an HTTP
 * response, the CPE MUST NOT attempt to retransmit the corresponding HTTP request as part of
 * the same Session"). libcurl does retransmit on its own: when a request on a reused
 * connection gets no byte of response (the peer closed, reset, or the send failed), it
 * assumes the race of a keep-alive connection closed by the server just as it was reused,
 * reconnects and sends the same request again, body included, up to 5 times, with no
 * option to turn it off (libcurl 7.88.1, lib/transfer.c Curl_retry_request, called from
 * lib/multi.c in MSTATE_DO and MSTATE_PERFORM; verbose log "Connection died, retrying a
 * fresh connect"). An ACS that reads a POST and drops the connection unanswered would get
 * it a second time, on a new connection, with the session's cookie. What stops it:
 * CURLOPT_PREREQFUNCTION, which libcurl calls in MSTATE_DO just before it sends each request
 * of a transfer, the first one, the re-send after a 401 (3.4.4/3.4.5 authentication: a
 * legitimate second request) and a silent retry alike. on_request_start refuses a request
 * when one was already sent in this transfer and not a single response header line came
 * back since; libcurl then ends the transfer (CURLE_ABORTED_BY_CALLBACK), and the session
 * sees CURLE_GOT_NOTHING: the session failed, retried by 3.2.1.1 like any connection loss.
 * Alternatives weighed:
 *  - CURLOPT_FORBID_REUSE / CURLOPT_FRESH_CONNECT: curl retries only on reused
 *    connections, but a new TCP (and TLS) connection per POST gives up 3.4.1's persistent
 *    connection for every session to defeat a failure of a few;
 *  - a CURLOPT_READFUNCTION body with a CURLOPT_SEEKFUNCTION that refuses the rewind
 *    (CURLE_SEND_FAIL_REWIND): Curl_retry_request asks for a rewind only when body bytes
 *    were written (req.writebytecount), so an empty POST is re-sent without the seek
 *    callback ever being called (seen: "Connection died, retrying" with no
 *    "rewindbeforesend"); and the body would no longer be CURLOPT_POSTFIELDS;
 *  - CURLOPT_OPENSOCKETFUNCTION refusing the new connection: libcurl opens connections for
 *    legitimate reasons too (the first POST, one the ACS closed between POSTs, the one
 *    after a 401 with "Connection: close") and we would have to create the sockets
 *    ourselves; the pre-request callback is the one place every request passes through.
 * The cost: a POST whose reused connection the ACS happened to close at the very moment it
 * was sent fails the session instead of going out again; curl checks a kept-alive
 * connection before reusing it, so only that exact race is affected, and 3.7.1.4 asks for
 * exactly this.
 */
#include "proxier/session/http.h"
#include "proxier/session/http_internal.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <zlib.h>

#include "proxier/common/buf.h"
#include "proxier/common/log.h"

#define HTTP_DEFAULT_TIMEOUT_S 30 /* TR-069 3.7.1.4: not less than 30 s */

struct http_multi {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct http_conn *conns; /* every live connection, to detach them in http_multi_free */
};

/* One socket curl asked us to watch. */
struct http_sock {
    struct http_multi *hm;
    struct event *ev;
};

struct http_conn {
    struct http_job job;   /* first: CURLOPT_PRIVATE points here (http_internal.h) */
    struct http_multi *hm; /* NULL once http_multi_free detached it */
    struct http_conn *prev, *next;
    CURL *easy;
    CURLSH *share;       /* this session's private connection cache */
    char *url;           /* where the next POST goes: the configured URL, then redirects */
    bool has_credentials;
    bool gzip;           /* still compressing: cleared for good by a 415 (3.4.7) */
    bool gzip_refused;   /* ... which happened */
    unsigned redirects;  /* followed so far in this connection (3.4.2) */
    /* The POST in flight. */
    bool in_flight;
    bool compressed;     /* this attempt's body is the gzip one */
    bool too_large;
    bool request_sent;   /* libcurl has started a request of this transfer ... */
    bool answered;       /* ... and a response header line came since (3.7.1.4) */
    bool resend_refused; /* on_request_start stopped a silent retransmission */
    struct buf body;     /* our copy of the request body */
    char *gz;            /* its gzip form, if compressing */
    size_t gz_len;
    char *soap_action;
    struct curl_slist *headers;
    struct buf resp;
    http_done_cb done;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    char error_text[CURL_ERROR_SIZE + 64];
};

static void multi_process_done(struct http_multi *hm);

/* --- libevent <-> curl multi ------------------------------------------------------------- */

static void on_socket_ready(evutil_socket_t fd, short events, void *arg)
{
    struct http_multi *hm = arg;
    int flags = ((events & EV_READ) ? CURL_CSELECT_IN : 0) |
                ((events & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(hm->multi, fd, flags, &running);
    multi_process_done(hm);
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
    struct http_multi *hm = arg;
    int running;
    curl_multi_socket_action(hm->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    multi_process_done(hm);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl wants, or stop watching it. */
static int on_socket_change(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct http_multi *hm = userp;
    struct http_sock *s = sockp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            event_free(s->ev);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        if (!s)
            return -1;
        s->hm = hm;
        curl_multi_assign(hm->multi, fd, s);
    } else {
        event_free(s->ev);
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
                 ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    s->ev = event_new(hm->base, fd, kind, on_socket_ready, hm);
    if (!s->ev || event_add(s->ev, NULL) != 0)
        return -1;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi; -1 = none wanted. */
static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_multi *hm = userp;
    if (timeout_ms < 0)
        return evtimer_del(hm->timer);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return evtimer_add(hm->timer, &tv);
}

struct http_multi *http_multi_new(struct event_base *base)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    struct http_multi *hm = calloc(1, sizeof(*hm));
    if (!hm)
        goto fail;
    hm->base = base;
    hm->multi = curl_multi_init();
    hm->timer = evtimer_new(base, on_timer, hm);
    if (!hm->multi || !hm->timer)
        goto fail;
    curl_multi_setopt(hm->multi, CURLMOPT_SOCKETFUNCTION, on_socket_change);
    curl_multi_setopt(hm->multi, CURLMOPT_SOCKETDATA, hm);
    curl_multi_setopt(hm->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
    curl_multi_setopt(hm->multi, CURLMOPT_TIMERDATA, hm);
    /* TR-069 3.4.6: no pipelining (and no HTTP/2 multiplexing either). */
    curl_multi_setopt(hm->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    return hm;
fail:
    if (hm) {
        if (hm->multi)
            curl_multi_cleanup(hm->multi);
        if (hm->timer)
            event_free(hm->timer);
        free(hm);
    }
    curl_global_cleanup();
    return NULL;
}

/* Take the connection out of the multi: an in-flight transfer is aborted and its TCP
 * connection closed by curl; no callback. */
static void conn_detach_transfer(struct http_conn *c)
{
    if (c->in_flight && c->hm)
        curl_multi_remove_handle(c->hm->multi, c->easy);
    c->in_flight = false;
}

void http_multi_free(struct http_multi *hm)
{
    if (!hm)
        return;
    while (hm->conns) {
        struct http_conn *c = hm->conns;
        conn_detach_transfer(c);
        hm->conns = c->next;
        c->prev = c->next = NULL;
        c->hm = NULL;
    }
    curl_multi_cleanup(hm->multi);
    event_free(hm->timer);
    free(hm);
    curl_global_cleanup();
}

/* --- request building -------------------------------------------------------------------- */

/* gzip the request body (TR-069 3.4.7, RFC 1952 framing: windowBits 15 + 16). */
static int gzip_body(struct http_conn *c)
{
    free(c->gz);
    c->gz = NULL;
    c->gz_len = 0;
    if (c->body.len > UINT_MAX)
        return -1;
    z_stream zs = {0};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    int rc = -1;
    size_t bound = deflateBound(&zs, c->body.len);
    c->gz = malloc(bound);
    if (!c->gz)
        goto exit;
    zs.next_in = (Bytef *)c->body.data;
    zs.avail_in = (uInt)c->body.len;
    zs.next_out = (Bytef *)c->gz;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        goto exit;
    c->gz_len = zs.total_out;
    rc = 0;
exit:
    deflateEnd(&zs);
    return rc;
}

static int headers_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return -1;
    *list = l;
    return 0;
}

/* The request headers of TR-069 3.4.1 for this attempt. */
static struct curl_slist *build_headers(const struct http_conn *c)
{
    struct curl_slist *h = NULL;
    /* Send the body at once: an ACS need not know 100-continue, and waiting for it costs a
     * round trip per POST. */
    int rc = headers_add(&h, "Expect:");
    if (c->body.len == 0) {
        /* 3.4.1: an empty POST has no Content-Type (curl would add a form type) and no
         * SOAPAction. */
        rc |= headers_add(&h, "Content-Type:");
    } else {
        rc |= headers_add(&h, "Content-Type: text/xml; charset=\"utf-8\"");
        if (c->compressed)
            rc |= headers_add(&h, "Content-Encoding: gzip");
        if (c->soap_action && c->soap_action[0] == '\0') {
            rc |= headers_add(&h, "SOAPAction;"); /* curl's way to send "SOAPAction:" */
        } else if (c->soap_action) {
            struct buf line = BUF_INIT;
            buf_printf(&line, "SOAPAction: %s", c->soap_action);
            rc |= buf_failed(&line) ? -1 : headers_add(&h, line.data);
            buf_free(&line);
        }
    }
    if (rc != 0) {
        curl_slist_free_all(h);
        return NULL;
    }
    return h;
}

static bool url_is_https(const char *url)
{
    return strncasecmp(url, "https:", 6) == 0;
}

/* Options that depend on where this POST goes. */
static void set_target(struct http_conn *c)
{
    bool tls = url_is_https(c->url);
    curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
    if (!c->has_credentials)
        return;
    /* TR-069 3.4.4: over TLS Basic, sent preemptively (curl does so when Basic is the only
     * scheme allowed); in clear the server's first 401 picks Basic or Digest. */
    curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH,
                     tls ? (long)CURLAUTH_BASIC : (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
}

/* Start (or restart, after a 415) the transfer of the POST stored in c. */
static int conn_start(struct http_conn *c)
{
    c->compressed = c->gzip && c->body.len > 0;
    if (c->compressed && gzip_body(c) != 0)
        return -1;
    struct curl_slist *h = build_headers(c);
    if (!h)
        return -1;
    curl_slist_free_all(c->headers);
    c->headers = h;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, h);
    const char *data = c->body.len > 0 ? c->body.data : "";
    size_t len = c->body.len;
    if (c->compressed) {
        data = c->gz;
        len = c->gz_len;
    }
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, data);
    set_target(c);
    buf_reset(&c->resp);
    c->too_large = false;
    c->request_sent = c->answered = c->resend_refused = false;
    c->errbuf[0] = '\0';
    if (curl_multi_add_handle(c->hm->multi, c->easy) != CURLM_OK)
        return -1;
    c->in_flight = true;
    return 0;
}

/* --- response ---------------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct http_conn *c = arg;
    size_t len = size * n;
    if (c->resp.len + len > HTTP_MAX_RESPONSE) {
        c->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    buf_append(&c->resp, data, len);
    return buf_failed(&c->resp) ? 0 : len;
}

/* Every response of the transfer (401 challenges, redirects) starts with its status line:
 * only the last one's body is the answer. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct http_conn *c = arg;
    size_t len = size * n;
    c->answered = true;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        buf_reset(&c->resp);
    return len;
}

/* CURLOPT_PREREQFUNCTION, before each request of the transfer: a second request with no
 * response since the first is libcurl's silent retry, which TR-069 3.7.1.4 forbids (see
 * the top of this file); one after a response (a 401 challenge) is authentication. */
static int on_request_start(void *arg, char *primary_ip, char *local_ip, int primary_port,
                            int local_port)
{
    struct http_conn *c = arg;
    if (c->request_sent && !c->answered) {
        c->resend_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    c->request_sent = true;
    c->answered = false;
    return CURL_PREREQFUNC_OK;
}

static const char *error_text(struct http_conn *c, CURLcode rc)
{
    if (c->resend_refused || rc == CURLE_GOT_NOTHING)
        snprintf(c->error_text, sizeof(c->error_text),
                 "the ACS closed the connection without an answer (the request is not sent "
                 "again, TR-069 3.7.1.4)");
    else if (c->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(c->error_text, sizeof(c->error_text),
                 "response too large (more than %u bytes)", HTTP_MAX_RESPONSE);
    else if (rc == CURLE_TOO_MANY_REDIRECTS)
        snprintf(c->error_text, sizeof(c->error_text),
                 "too many HTTP redirects (more than %u in this session, TR-069 3.4.2)",
                 HTTP_MAX_REDIRECTS);
    else
        snprintf(c->error_text, sizeof(c->error_text), "%s",
                 c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
    return c->error_text;
}

static char *url_host(const char *url)
{
    char *host = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    return host; /* curl_free */
}

/* Whether a cookie line whose fields from the path on are rest ("\tpath\tsecure\texpiry
 * ...") has expired: curl may still list such a cookie, and its copy would delete a live
 * cookie of the same name and path at the new host (an expired cookie is curl's way to
 * delete one). 0 is a session cookie. */
static bool cookie_expired(const char *rest, time_t now)
{
    const char *secure = strchr(rest + 1, '\t');
    const char *expiry = secure ? strchr(secure + 1, '\t') : NULL;
    if (!expiry)
        return false;
    long long at = strtoll(expiry + 1, NULL, 10);
    return at > 0 && at <= (long long)now;
}

/* TR-069 3.4.2: after a redirect the session's cookies go to the new ACS "without
 * performing domain validation": give every cookie a copy for the target host. The lines
 * of CURLINFO_COOKIELIST are Netscape format: domain, tailmatch, path, secure, expiry,
 * name, value, separated by tabs. */
void http_cookies_follow(CURL *easy, const char *target)
{
    struct curl_slist *list = NULL;
    char *host = url_host(target);
    if (!host || curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        goto exit;
    time_t now = time(NULL);
    for (struct curl_slist *l = list; l; l = l->next) {
        const char *domain = l->data;
        if (strncmp(domain, "#HttpOnly_", 10) == 0)
            domain += 10;
        const char *tab = strchr(domain, '\t');
        const char *rest = tab ? strchr(tab + 1, '\t') : NULL;
        if (!rest || cookie_expired(rest, now) ||
            (strlen(host) == (size_t)(tab - domain) &&
             strncasecmp(domain, host, (size_t)(tab - domain)) == 0))
            continue;
        struct buf line = BUF_INIT;
        buf_printf(&line, "%s\tFALSE%s", host, rest);
        if (!buf_failed(&line))
            curl_easy_setopt(easy, CURLOPT_COOKIELIST, line.data);
        buf_free(&line);
    }
exit:
    curl_slist_free_all(list);
    curl_free(host);
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 307 || status == 308;
}

/* TR-069 3.4.2: re-send the same POST to the redirect target, which the rest of the
 * session then uses. Returns CURLE_OK if the POST was re-sent, CURLE_AGAIN if the response
 * is not a redirect to follow, or the error that ends the POST. */
static CURLcode conn_redirect(struct http_conn *c, long status)
{
    char *target = NULL;
    if (!is_redirect(status) || curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &target) ||
        !target)
        return CURLE_AGAIN;
    if (c->redirects >= HTTP_MAX_REDIRECTS)
        return CURLE_TOO_MANY_REDIRECTS;
    bool to_tls = url_is_https(target);
    if (!to_tls && strncasecmp(target, "http:", 5) != 0) {
        snprintf(c->errbuf, sizeof(c->errbuf), "redirect to %s refused: not HTTP", target);
        return CURLE_UNSUPPORTED_PROTOCOL;
    }
    /* A session that started over TLS is never redirected to plain HTTP: the credentials
     * would then travel in clear. */
    if (url_is_https(c->url) && !to_tls) {
        snprintf(c->errbuf, sizeof(c->errbuf), "redirect from HTTPS to %s refused", target);
        return CURLE_UNSUPPORTED_PROTOCOL;
    }
    char *copy = strdup(target); /* target belongs to the transfer we restart */
    if (!copy)
        return CURLE_OUT_OF_MEMORY;
    LOG_INFO("http", "redirected (%ld) from %s to %s", status, c->url, copy);
    http_cookies_follow(c->easy, copy);
    free(c->url);
    c->url = copy;
    c->redirects++;
    return conn_start(c) == 0 ? CURLE_OK : CURLE_OUT_OF_MEMORY;
}

static void conn_finish(struct http_conn *c, CURLcode rc)
{
    curl_multi_remove_handle(c->hm->multi, c->easy);
    c->in_flight = false;

    struct http_result res = {.error = rc, .body = ""};
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (rc == CURLE_OK) {
        CURLcode redirect = conn_redirect(c, res.status);
        if (redirect == CURLE_OK)
            return;
        if (redirect != CURLE_AGAIN)
            res.error = redirect;
    }
    /* TR-069 3.4.7: a 415 means the ACS does not take gzip: stop compressing for the rest
     * of the connection and send the same body again, uncompressed. */
    if (res.error == CURLE_OK && res.status == 415 && c->compressed) {
        LOG_INFO("http", "%s refused gzip (415), sending uncompressed", c->url);
        c->gzip = false;
        c->gzip_refused = true;
        if (conn_start(c) == 0)
            return;
        res.error = CURLE_OUT_OF_MEMORY;
    }
    if (res.error == CURLE_OK && buf_failed(&c->resp))
        res.error = CURLE_OUT_OF_MEMORY;
    if (c->resend_refused)
        res.error = CURLE_GOT_NOTHING; /* what happened, not how we stopped curl */
    if (res.error != CURLE_OK) {
        res.error_text = error_text(c, (CURLcode)res.error);
        LOG_WARN("http", "POST to %s failed: %s", c->url, res.error_text);
    } else {
        res.error_text = "";
        res.body = c->resp.data ? c->resp.data : "";
        res.body_len = c->resp.len;
    }
    res.received = c->resp.len;
    curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &res.content_type);
    res.effective_url = c->url;
    res.redirects = c->redirects;
    res.compression_refused = c->gzip_refused;
    c->done(c->arg, &res); /* may free c */
}

static void multi_process_done(struct http_multi *hm)
{
    CURLMsg *msg;
    int left;
    /* A callback may free other connections: curl_multi_remove_handle drops their pending
     * messages, so the queue never yields a freed handle. */
    while ((msg = curl_multi_info_read(hm->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        struct http_job *job = (struct http_job *)priv;
        job->finish(job, rc);
    }
}

static void conn_job_finish(struct http_job *job, CURLcode rc)
{
    conn_finish((struct http_conn *)job, rc);
}

int http_multi_add_job(struct http_multi *hm, CURL *easy)
{
    return curl_multi_add_handle(hm->multi, easy) == CURLM_OK ? 0 : -1;
}

void http_multi_remove_job(struct http_multi *hm, CURL *easy)
{
    curl_multi_remove_handle(hm->multi, easy);
}

/* --- connections ------------------------------------------------------------------------- */

static void set_optional(CURL *easy, CURLoption opt, const char *value)
{
    if (value && value[0])
        curl_easy_setopt(easy, opt, value);
}

/* TR-069 3.3: a CPE that contacts the ACS before it has accurate absolute time MUST ignore
 * the time-related parts of the ACS certificate. A clock earlier than this source's
 * release (2026-01-01T00:00:00Z) is certainly not accurate: a box without a real-time clock
 * boots at 1970 until NTP runs. */
#define HTTP_CLOCK_FLOOR 1767225600

static CURLcode tls_ctx_setup(CURL *easy, void *ssl_ctx, void *arg)
{
    if (time(NULL) < HTTP_CLOCK_FLOOR) {
        X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ssl_ctx);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
        LOG_WARN("http", "the clock is not set yet: certificate dates are not checked");
    }
    return CURLE_OK;
}

void http_set_tls(CURL *easy, const struct http_conn_config *cfg)
{
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, tls_ctx_setup);
    set_optional(easy, CURLOPT_CAINFO, cfg->ca_file);
    set_optional(easy, CURLOPT_CAPATH, cfg->ca_path);
    set_optional(easy, CURLOPT_SSLCERT, cfg->client_cert);
    set_optional(easy, CURLOPT_SSLKEY, cfg->client_key);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, cfg->verify_peer ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, cfg->verify_peer ? 2L : 0L);
}

static void set_http(struct http_conn *c, const struct http_conn_config *cfg)
{
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    /* TR-069 3.1: no DNS answer kept beyond its TTL; curl's cache ignores TTLs, so none. */
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1); /* TR-069 3.4 */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)(cfg->timeout_s ? cfg->timeout_s
                                                                : HTTP_DEFAULT_TIMEOUT_S));
    curl_easy_setopt(e, CURLOPT_USERAGENT,
                     cfg->user_agent ? cfg->user_agent : "proxierd/" PROXIER_VERSION);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* in-memory cookies, 3.4.2 */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* every coding curl can decode */
    /* Redirects are followed by conn_redirect, not by curl: it needs to count them over the
     * session and carry the cookies to the new host. */
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_RESPONSE);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_request_start);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, c);
    if (c->has_credentials) {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    http_set_tls(e, cfg);
}

struct http_conn *http_conn_new(struct http_multi *hm, const struct http_conn_config *cfg)
{
    if (!hm || !cfg || !cfg->url || !cfg->url[0])
        return NULL;
    struct http_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->job.finish = conn_job_finish;
    c->url = strdup(cfg->url);
    c->easy = curl_easy_init();
    c->share = curl_share_init();
    if (!c->url || !c->easy || !c->share ||
        curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        http_conn_free(c);
        return NULL;
    }
    c->gzip = cfg->gzip;
    c->has_credentials = cfg->username && cfg->username[0];
    set_http(c, cfg);
    c->hm = hm; /* only now in hm's list: http_conn_free unlinks what has hm set */
    c->next = hm->conns;
    if (hm->conns)
        hm->conns->prev = c;
    hm->conns = c;
    return c;
}

int http_conn_post(struct http_conn *c, const char *body, size_t len, const char *soap_action,
                   http_done_cb done, void *arg)
{
    if (!c || !c->hm || c->in_flight || !done)
        return -1;
    buf_reset(&c->body);
    if (body && len > 0)
        buf_append(&c->body, body, len);
    free(c->soap_action);
    c->soap_action = soap_action ? strdup(soap_action) : NULL;
    if (buf_failed(&c->body) || (soap_action && !c->soap_action))
        return -1;
    c->done = done;
    c->arg = arg;
    return conn_start(c);
}

void http_conn_free(struct http_conn *c)
{
    if (!c)
        return;
    conn_detach_transfer(c);
    if (c->hm) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->hm->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    if (c->easy)
        curl_easy_cleanup(c->easy);
    /* Closes the session's TCP connection (TR-069 3.4.2); the easy handle is gone, so the
     * share is no longer in use. */
    if (c->share)
        curl_share_cleanup(c->share);
    curl_slist_free_all(c->headers);
    buf_free(&c->body);
    buf_free(&c->resp);
    free(c->gz);
    free(c->soap_action);
    free(c->url);
    free(c);
}
