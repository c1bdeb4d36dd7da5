/*
 * test_http.c: the CWMP HTTP client (proxier/session/http.c, TR-069 3.4) against a real
 * server, tests/unit/http_fixture.py, on a real libevent loop. The fixture echoes what it
 * received (headers, decoded body, which TCP connection), so every assertion is about the
 * bytes the client really put on the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proxier/session/http.h"
#include "proxier/session/http_internal.h"

#define SOAP_BODY "<soap:Envelope><soap:Body><cwmp:Inform/></soap:Body></soap:Envelope>"

static struct {
    pid_t pid;
    int port;
    int tls_port;
    char dir[64];        /* temporary: the fixture's certificate and another CA's */
    char cert[128], key[128], other_ca[128];
    struct event_base *base;
    struct http_multi *hm;
} fx;

/* What one POST came back with, copied out of the callback. */
struct outcome {
    int calls;
    int error;
    long status;
    char *error_text;
    char *body;
    size_t body_len;
    char *content_type;
    char *effective_url;
    unsigned redirects;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void outcome_clear(struct outcome *o)
{
    free(o->error_text);
    free(o->body);
    free(o->content_type);
    free(o->effective_url);
    memset(o, 0, sizeof(*o));
}

static void on_done(void *arg, const struct http_result *r)
{
    struct outcome *o = arg;
    o->calls++;
    o->error = r->error;
    o->status = r->status;
    o->error_text = dup_or_null(r->error_text);
    o->body = malloc(r->body_len + 1);
    memcpy(o->body, r->body, r->body_len + 1);
    o->body_len = r->body_len;
    o->content_type = dup_or_null(r->content_type);
    o->effective_url = dup_or_null(r->effective_url);
    o->redirects = r->redirects;
    event_base_loopbreak(fx.base);
}

static void on_deadline(evutil_socket_t fd, short events, void *arg)
{
    *(bool *)arg = true;
}

/* Run the loop until o has its callback (o NULL: for the whole time) or seconds pass. */
static void run_loop(const struct outcome *o, double seconds)
{
    bool expired = false;
    struct event *deadline = evtimer_new(fx.base, on_deadline, &expired);
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
    evtimer_add(deadline, &tv);
    while (!expired && (!o || o->calls == 0))
        event_base_loop(fx.base, EVLOOP_ONCE);
    event_free(deadline);
}

static struct http_conn *conn_new(const char *path, const char *user, const char *password,
                                  bool gzip)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", fx.port, path);
    struct http_conn_config cfg = {.url = url, .username = user, .password = password,
                                   .verify_peer = true, .gzip = gzip, .timeout_s = 10};
    struct http_conn *c = http_conn_new(fx.hm, &cfg);
    assert_non_null(c);
    return c;
}

/* One POST, waited for; o is cleared first. */
static void post(struct http_conn *c, const char *body, const char *soap_action,
                 struct outcome *o)
{
    outcome_clear(o);
    assert_int_equal(http_conn_post(c, body, body ? strlen(body) : 0, soap_action, on_done, o),
                     0);
    run_loop(o, 15);
    assert_int_equal(o->calls, 1);
}

/* A POST expected to succeed with 200. */
static void post_ok(struct http_conn *c, const char *body, const char *soap_action,
                    struct outcome *o)
{
    post(c, body, soap_action, o);
    if (o->error)
        fail_msg("POST failed: %s", o->error_text);
    assert_int_equal(o->status, 200);
}

/* The value of "key=" in the fixture's echo (a line of its own), or NULL. The returned
 * string lives until the next call. */
static const char *echo_line(const struct outcome *o, const char *prefix)
{
    static char value[1024];
    size_t plen = strlen(prefix);
    const char *body_start = strstr(o->body, "\nbody=");
    for (const char *p = o->body; p && (!body_start || p <= body_start); ) {
        if (strncmp(p, prefix, plen) == 0) {
            size_t n = strcspn(p + plen, "\n");
            snprintf(value, sizeof(value), "%.*s", (int)n, p + plen);
            return value;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

static const char *echo_field(const struct outcome *o, const char *key)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s=", key);
    return echo_line(o, prefix);
}

static const char *echo_header(const struct outcome *o, const char *name)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "H %s: ", name);
    return echo_line(o, prefix);
}

static const char *echo_body(const struct outcome *o)
{
    const char *p = strstr(o->body, "\nbody=");
    assert_non_null(p);
    return p + strlen("\nbody=");
}

/* --- the fixture ------------------------------------------------------------------------- */

/* A self-signed certificate for 127.0.0.1 (it is also the CA and the client certificate). */
static int make_cert(const char *cert, const char *key)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

static int make_certs(void)
{
    char other_key[128];
    snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_http.XXXXXX");
    if (!mkdtemp(fx.dir))
        return -1;
    snprintf(fx.cert, sizeof(fx.cert), "%s/cert.pem", fx.dir);
    snprintf(fx.key, sizeof(fx.key), "%s/key.pem", fx.dir);
    snprintf(fx.other_ca, sizeof(fx.other_ca), "%s/other.pem", fx.dir);
    snprintf(other_key, sizeof(other_key), "%s/other-key.pem", fx.dir);
    return make_cert(fx.cert, fx.key) || make_cert(fx.other_ca, other_key) ? -1 : 0;
}

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemon does */
    if (make_certs() != 0) {
        fprintf(stderr, "openssl could not make the test certificates\n");
        return -1;
    }
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    fx.pid = fork();
    if (fx.pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execlp("python3", "python3", PX_SOURCE_DIR "/tests/unit/http_fixture.py", fx.cert,
               fx.key, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    int n = f ? fscanf(f, "%d %d", &fx.port, &fx.tls_port) : 0;
    if (f)
        fclose(f);
    if (n != 2 || fx.port <= 0 || fx.tls_port <= 0) {
        fprintf(stderr, "http_fixture.py did not start\n");
        return -1;
    }
    fx.base = event_base_new();
    fx.hm = http_multi_new(fx.base);
    return fx.base && fx.hm ? 0 : -1;
}

static int group_teardown(void **state)
{
    http_multi_free(fx.hm);
    event_base_free(fx.base);
    if (fx.pid > 0) {
        kill(fx.pid, SIGTERM);
        waitpid(fx.pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* --- tests ------------------------------------------------------------------------------- */

/* TR-069 3.4.1: text/xml, SOAPAction as given ("" = no value), nothing for an empty POST. */
static void test_request_headers(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/echo", NULL, NULL, false);

    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "method"), "POST");
    assert_string_equal(echo_header(&o, "Content-Type"), "text/xml; charset=\"utf-8\"");
    assert_string_equal(echo_header(&o, "SOAPAction"), "");
    assert_null(echo_header(&o, "Expect"));
    assert_null(echo_header(&o, "Content-Encoding"));
    assert_int_equal(atoi(echo_header(&o, "Content-Length")), strlen(SOAP_BODY));
    assert_string_equal(echo_body(&o), SOAP_BODY);
    assert_string_equal(o.content_type, "text/xml; charset=\"utf-8\"");
    assert_string_equal(o.error_text, "");

    post_ok(c, SOAP_BODY, "\"urn:dslforum-org:cwmp-1-2#Inform\"", &o);
    assert_string_equal(echo_header(&o, "SOAPAction"), "\"urn:dslforum-org:cwmp-1-2#Inform\"");

    post_ok(c, SOAP_BODY, NULL, &o);
    assert_null(echo_header(&o, "SOAPAction"));

    post_ok(c, NULL, "", &o); /* empty POST: the SOAPAction given is dropped */
    assert_string_equal(echo_header(&o, "Content-Length"), "0");
    assert_null(echo_header(&o, "Content-Type"));
    assert_null(echo_header(&o, "SOAPAction"));
    assert_string_equal(echo_body(&o), "");

    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: one TCP connection for the session; a second POST while one is in flight
 * is refused. */
static void test_connection_reused(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/echo", NULL, NULL, false);
    char first[32];

    post_ok(c, "a", "", &o);
    snprintf(first, sizeof(first), "%s", echo_field(&o, "conn"));
    for (int i = 0; i < 2; i++) {
        post_ok(c, "b", "", &o);
        assert_string_equal(echo_field(&o, "conn"), first);
    }
    outcome_clear(&o);
    assert_int_equal(http_conn_post(c, "x", 1, "", on_done, &o), 0);
    assert_int_equal(http_conn_post(c, "y", 1, "", on_done, &o), -1);
    run_loop(&o, 15);
    assert_int_equal(o.calls, 1);
    assert_string_equal(echo_body(&o), "x");

    /* A different session gets a different connection. */
    struct http_conn *other = conn_new("/echo", NULL, NULL, false);
    post_ok(other, "c", "", &o);
    assert_string_not_equal(echo_field(&o, "conn"), first);
    outcome_clear(&o);
    http_conn_free(other);
    http_conn_free(c);
}

/* TR-069 3.4.2: a connection the server closes is replaced by a new one. */
static void test_server_close_reconnects(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/close", NULL, NULL, false);
    char first[32];
    post_ok(c, "one", "", &o);
    snprintf(first, sizeof(first), "%s", echo_field(&o, "conn"));
    post_ok(c, "two", "", &o);
    assert_string_not_equal(echo_field(&o, "conn"), first);
    assert_string_equal(echo_body(&o), "two");
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: the CPE closes the connection when the session ends (http_conn_free). */
static void test_free_closes_connection(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/echo", NULL, NULL, false);
    char freed[32];
    post_ok(c, "a", "", &o);
    snprintf(freed, sizeof(freed), ",%s,", echo_field(&o, "conn"));
    http_conn_free(c);

    /* The fixture lists the connections still open as ",id,id,"; the server notices the
     * close a moment later. */
    bool closed = false;
    for (int i = 0; i < 50 && !closed; i++) {
        struct http_conn *probe = conn_new("/stats", NULL, NULL, false);
        post_ok(probe, NULL, NULL, &o);
        http_conn_free(probe);
        assert_non_null(strstr(o.body, "open=,"));
        closed = strstr(o.body, freed) == NULL;
        if (!closed)
            run_loop(NULL, 0.1);
    }
    assert_true(closed);
    outcome_clear(&o);
}

static void test_basic_auth(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/basic", "cpe", "secret", false);
    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "auth"), "basic");
    assert_string_equal(echo_body(&o), SOAP_BODY);
    post_ok(c, "again", "", &o);
    assert_string_equal(echo_field(&o, "auth"), "basic");
    http_conn_free(c);

    /* TR-069 3.7.1.4: a 401 after authenticating reaches the session as 401. */
    c = conn_new("/basic", "cpe", "wrong", false);
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 401);
    http_conn_free(c);

    c = conn_new("/basic", NULL, NULL, false);
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.status, 401);
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.5: Digest with qop=auth, MD5 and MD5-sess; the fixture checks the hash. The
 * authenticated POSTs stay on the connection that got the challenge (3.4.2). */
static void check_digest(const char *path)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new(path, "cpe", "secret", false);
    char first[32];
    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "auth"), "digest");
    assert_string_equal(echo_body(&o), SOAP_BODY);
    snprintf(first, sizeof(first), "%s", echo_field(&o, "conn"));
    assert_string_equal(echo_field(&o, "req"), "2"); /* after the 401, same connection */
    post_ok(c, NULL, NULL, &o);
    assert_string_equal(echo_field(&o, "auth"), "digest");
    assert_string_equal(echo_field(&o, "req"), "3"); /* no new challenge round trip */
    assert_string_equal(echo_field(&o, "conn"), first);
    http_conn_free(c);

    c = conn_new(path, "cpe", "wrong", false);
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.error, 0);
    assert_int_equal(o.status, 401);
    outcome_clear(&o);
    http_conn_free(c);
}

static void test_digest_md5(void **state)
{
    check_digest("/digest");
}

static void test_digest_md5_sess(void **state)
{
    check_digest("/digest-md5sess");
}

/* A 401 (stale nonce) with "Connection: close" on a reused connection: the same POST goes
 * again, with credentials, on a new connection. That second request follows a response:
 * authentication (3.4.5), not a retransmission (3.7.1.4), so it must still be sent. */
static void test_digest_challenge_then_close(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/digest-close", "cpe", "secret", false);
    char before[32];
    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "auth"), "digest");
    for (int i = 0; i < 2; i++) {
        snprintf(before, sizeof(before), "%s", echo_field(&o, "conn"));
        post_ok(c, "again", "", &o);
        assert_string_equal(echo_field(&o, "auth"), "digest");
        assert_string_equal(echo_body(&o), "again");
        assert_string_equal(echo_field(&o, "req"), "1");
        assert_string_not_equal(echo_field(&o, "conn"), before);
    }
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: the session cookie comes back on every later POST, and only in that
 * session. */
static void test_cookies(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/cookie", NULL, NULL, false);
    post_ok(c, "1", "", &o);
    assert_null(echo_header(&o, "Cookie"));
    post_ok(c, "2", "", &o);
    const char *cookie = echo_header(&o, "Cookie");
    assert_non_null(cookie);
    assert_non_null(strstr(cookie, "session=s"));
    post_ok(c, "3", "", &o);
    assert_non_null(echo_header(&o, "Cookie"));
    http_conn_free(c);

    c = conn_new("/cookie", NULL, NULL, false);
    post_ok(c, "1", "", &o);
    assert_null(echo_header(&o, "Cookie"));
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: 301/302/307 followed with the same POST; the session continues at the new
 * URL; a new session starts from the configured one. */
static void test_redirect_chain(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/redirect/3/acs", "cpe", "secret", false);
    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "path"), "/redirect/0/acs");
    assert_string_equal(echo_field(&o, "method"), "POST");
    assert_string_equal(echo_body(&o), SOAP_BODY);
    assert_string_equal(echo_header(&o, "Content-Type"), "text/xml; charset=\"utf-8\"");
    assert_int_equal(o.redirects, 3);
    assert_non_null(strstr(o.effective_url, "/redirect/0/acs"));

    post_ok(c, "next", "", &o);
    assert_string_equal(echo_field(&o, "path"), "/redirect/0/acs");
    assert_string_equal(echo_body(&o), "next");
    assert_int_equal(o.redirects, 3);
    http_conn_free(c);

    c = conn_new("/redirect/3/acs", NULL, NULL, false);
    post_ok(c, "again", "", &o);
    assert_int_equal(o.redirects, 3);
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: the session's cookies follow a redirect to another host ("without
 * performing domain validation"), on the re-sent POST and the later ones. */
static void test_redirect_carries_cookies(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/cookie-move", NULL, NULL, false);
    post_ok(c, "body", "", &o);
    assert_non_null(strstr(echo_header(&o, "Host"), "localhost:"));
    assert_string_equal(echo_header(&o, "Cookie"), "session=moved");
    assert_string_equal(echo_body(&o), "body");
    assert_int_equal(o.redirects, 1);
    post_ok(c, "next", "", &o);
    assert_non_null(strstr(echo_header(&o, "Host"), "localhost:"));
    assert_string_equal(echo_header(&o, "Cookie"), "session=moved");
    outcome_clear(&o);
    http_conn_free(c);
}

/* TR-069 3.4.2: 5 redirects are allowed, the 6th ends the session. */
/* The value of the cookie name that easy holds for host, or NULL (caller frees). */
static char *jar_value(CURL *easy, const char *host, const char *name)
{
    struct curl_slist *list = NULL;
    char *found = NULL;
    assert_int_equal(curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &list), CURLE_OK);
    for (struct curl_slist *l = list; l && !found; l = l->next) {
        char domain[64], tail[8], path[64], secure[8], cname[64], value[64] = "";
        long long expiry;
        if (sscanf(l->data, "%63[^\t]\t%7[^\t]\t%63[^\t]\t%7[^\t]\t%lld\t%63[^\t]\t%63s",
                   domain, tail, path, secure, &expiry, cname, value) >= 6 &&
            !strcmp(domain, host) && !strcmp(cname, name))
            found = strdup(value);
    }
    curl_slist_free_all(list);
    return found;
}

/* TR-069 3.4.2 on a redirect: an expired cookie that curl still lists (a Netscape line from
 * the past) gets no copy for the new host, where it would replace a live cookie of the same
 * name and path; the live one is copied. (Found by tests/fuzz/fuzz_cookie.c.) */
static void test_redirect_skips_expired_cookies(void **state)
{
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");
    /* Live on a and expired on b, and the other way round: whichever host curl lists
     * first, one of the two would see the expired copy last. */
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "acs-a.example\tFALSE\t/\tFALSE\t0\tx\tlive");
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "acs-b.example\tFALSE\t/\tFALSE\t1\tx\tgone");
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "acs-a.example\tFALSE\t/\tFALSE\t1\ty\tgone");
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "acs-b.example\tFALSE\t/\tFALSE\t0\ty\tlive");
    curl_easy_setopt(easy, CURLOPT_COOKIELIST, "acs-b.example\tFALSE\t/\tFALSE\t1\told\tgone");
    http_cookies_follow(easy, "http://acs-c.example:7547/cwmp");
    for (const char *const *name = (const char *const[]){"x", "y", NULL}; *name; name++) {
        char *value = jar_value(easy, "acs-c.example", *name);
        assert_non_null(value);
        assert_string_equal(value, "live");
        free(value);
    }
    assert_null(jar_value(easy, "acs-c.example", "old"));
    curl_easy_cleanup(easy);
}

static void test_redirect_limit(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = conn_new("/redirect/5/acs", NULL, NULL, false);
    post_ok(c, "five", "", &o);
    assert_int_equal(o.redirects, 5);
    http_conn_free(c);

    c = conn_new("/redirect/6/acs", NULL, NULL, false);
    post(c, "six", "", &o);
    assert_int_equal(o.error, CURLE_TOO_MANY_REDIRECTS);
    assert_non_null(strstr(o.error_text, "too many HTTP redirects"));
    outcome_clear(&o);
    http_conn_free(c);
}

/* A body long enough for gzip to matter, not a string the fixture could fake. */
static char *long_body(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    size_t cap = 20000, len = 0;
    char *s = malloc(cap);
    while (len + 64 < cap)
        len += (size_t)snprintf(s + len, cap - len, "<Value>%ld-%zu</Value>", now.tv_nsec, len);
    return s;
}

/* TR-069 3.4.7: request bodies in gzip when enabled. */
static void test_gzip_request(void **state)
{
    struct outcome o = {0};
    char *body = long_body();
    struct http_conn *c = conn_new("/gzip-ok", NULL, NULL, true);
    post_ok(c, body, "", &o);
    assert_string_equal(echo_field(&o, "encoding"), "gzip");
    assert_string_equal(echo_body(&o), body);
    assert_true((size_t)atoi(echo_header(&o, "Content-Length")) < strlen(body));

    post_ok(c, NULL, NULL, &o); /* nothing to compress in an empty POST */
    assert_string_equal(echo_field(&o, "encoding"), "none");
    assert_string_equal(echo_header(&o, "Content-Length"), "0");
    outcome_clear(&o);
    http_conn_free(c);
    free(body);
}

/* TR-069 3.4.7: a 415 turns compression off; the same body is re-sent uncompressed, and
 * later POSTs of the connection are not compressed. */
static void test_gzip_415_fallback(void **state)
{
    struct outcome o = {0};
    char *body = long_body();
    struct http_conn *c = conn_new("/gzip-415", NULL, NULL, true);
    post_ok(c, body, "", &o);
    assert_string_equal(echo_field(&o, "encoding"), "none");
    assert_string_equal(echo_body(&o), body);
    assert_int_equal(atoi(echo_header(&o, "Content-Length")), strlen(body));

    post_ok(c, "later", "", &o);
    assert_string_equal(echo_field(&o, "encoding"), "none");
    assert_string_equal(echo_body(&o), "later");
    http_conn_free(c);

    /* A new connection starts compressing again. */
    c = conn_new("/gzip-ok", NULL, NULL, true);
    post_ok(c, body, "", &o);
    assert_string_equal(echo_field(&o, "encoding"), "gzip");
    outcome_clear(&o);
    http_conn_free(c);
    free(body);
}

/* How many requests the fixture's /drop mode has received (from its /stats). */
static int drop_requests(void)
{
    struct outcome o = {0};
    struct http_conn *probe = conn_new("/stats", NULL, NULL, false);
    post_ok(probe, NULL, NULL, &o);
    http_conn_free(probe);
    const char *line = strstr(o.body, "\ndrop=");
    assert_non_null(line);
    int n = atoi(line + strlen("\ndrop="));
    outcome_clear(&o);
    return n;
}

/* TR-069 3.7.1.4: a POST that the server reads on a reused connection and answers by
 * closing it, without a byte, fails and is not sent again (libcurl would re-send it on a
 * new connection); for a SOAP body, an empty POST and a gzip body alike. The connection
 * serves the next POST. */
static void test_dropped_post_not_resent(void **state)
{
    char *gz_body = long_body();
    const struct {
        const char *body;
        bool gzip;
    } cases[] = {{SOAP_BODY, false}, {NULL, false}, {gz_body, true}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct outcome o = {0};
        struct http_conn *c = conn_new("/drop", NULL, NULL, cases[i].gzip);
        post_ok(c, "first", "", &o);
        int before = drop_requests();
        post(c, cases[i].body, "", &o);
        assert_int_equal(o.error, CURLE_GOT_NOTHING);
        assert_int_equal(o.status, 0);
        assert_non_null(strstr(o.error_text, "closed the connection without an answer"));
        assert_int_equal(drop_requests() - before, 1);

        post_ok(c, cases[i].body, "", &o);
        assert_string_equal(echo_field(&o, "req"), "1");
        assert_string_equal(echo_body(&o), cases[i].body ? cases[i].body : "");
        if (cases[i].gzip)
            assert_string_equal(echo_field(&o, "encoding"), "gzip");
        outcome_clear(&o);
        http_conn_free(c);
    }
    free(gz_body);
}

static void test_timeout(void **state)
{
    struct outcome o = {0};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", fx.port);
    struct http_conn_config cfg = {.url = url, .verify_peer = true, .timeout_s = 1};
    struct http_conn *c = http_conn_new(fx.hm, &cfg);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    post(c, "x", "", &o);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(o.error, CURLE_OPERATION_TIMEDOUT);
    assert_non_null(strstr(o.error_text, "timed out"));
    assert_true(t1.tv_sec - t0.tv_sec < 3);
    outcome_clear(&o);
    http_conn_free(c);
}

static void test_connection_refused(void **state)
{
    /* A port nobody listens on: bind one, note it, close it. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);

    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/acs", ntohs(sa.sin_port));
    struct http_conn_config cfg = {.url = url, .verify_peer = true};
    struct http_conn *c = http_conn_new(fx.hm, &cfg);
    struct outcome o = {0};
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.error, CURLE_COULDNT_CONNECT);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.error_text, "127.0.0.1"));
    outcome_clear(&o);
    http_conn_free(c);
}

/* Responses over HTTP_MAX_RESPONSE are refused, with or without a Content-Length. */
static void test_response_too_large(void **state)
{
    const char *paths[] = {"/big", "/big-stream"};
    for (size_t i = 0; i < 2; i++) {
        struct outcome o = {0};
        struct http_conn *c = conn_new(paths[i], NULL, NULL, false);
        post(c, "x", "", &o);
        assert_int_not_equal(o.error, 0);
        assert_non_null(strstr(o.error_text, "response too large"));
        assert_int_equal(o.body_len, 0);
        outcome_clear(&o);
        http_conn_free(c);
    }
}

/* Freeing a connection with a POST in flight aborts it without a callback; the multi keeps
 * serving the other connections. */
static void test_free_in_flight(void **state)
{
    struct outcome o = {0}, other = {0};
    struct http_conn *c = conn_new("/slow", NULL, NULL, false);
    assert_int_equal(http_conn_post(c, "x", 1, "", on_done, &o), 0);
    run_loop(NULL, 0.3);
    assert_int_equal(o.calls, 0);
    http_conn_free(c);
    run_loop(NULL, 0.3);
    assert_int_equal(o.calls, 0);

    c = conn_new("/echo", NULL, NULL, false);
    post_ok(c, "still fine", "", &other);
    assert_string_equal(echo_body(&other), "still fine");
    outcome_clear(&other);
    http_conn_free(c);

    /* Also before the loop ever ran the transfer. */
    c = conn_new("/echo", NULL, NULL, false);
    assert_int_equal(http_conn_post(c, "x", 1, "", on_done, &o), 0);
    http_conn_free(c);
    run_loop(NULL, 0.2);
    assert_int_equal(o.calls, 0);
}

/* A callback may start the next POST of the session, as the session layer does. */
struct chain {
    struct http_conn *c;
    int posts;
    struct outcome last;
};

static void on_chain_done(void *arg, const struct http_result *r)
{
    struct chain *ch = arg;
    assert_int_equal(r->status, 200);
    if (++ch->posts < 3) {
        assert_int_equal(http_conn_post(ch->c, "more", 4, "", on_chain_done, ch), 0);
        return;
    }
    on_done(&ch->last, r);
}

static void test_post_from_callback(void **state)
{
    struct chain ch = {.c = conn_new("/echo", NULL, NULL, false)};
    assert_int_equal(http_conn_post(ch.c, "first", 5, "", on_chain_done, &ch), 0);
    run_loop(&ch.last, 15);
    assert_int_equal(ch.posts, 3);
    assert_string_equal(echo_body(&ch.last), "more");
    outcome_clear(&ch.last);
    http_conn_free(ch.c);
}

static struct http_conn *tls_conn_new(const char *path, const char *ca, bool verify,
                                      bool client_cert)
{
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", fx.tls_port, path);
    struct http_conn_config cfg = {.url = url, .username = "cpe", .password = "secret",
                                   .ca_file = ca, .verify_peer = verify, .timeout_s = 10};
    if (client_cert) {
        cfg.client_cert = fx.cert;
        cfg.client_key = fx.key;
    }
    struct http_conn *c = http_conn_new(fx.hm, &cfg);
    assert_non_null(c);
    return c;
}

/* TR-069 3.4.4: over TLS, Basic credentials go with the very first request. */
static void test_tls_preemptive_basic(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = tls_conn_new("/basic", fx.cert, true, false);
    post_ok(c, SOAP_BODY, "", &o);
    assert_string_equal(echo_field(&o, "auth"), "basic");
    assert_string_equal(echo_field(&o, "req"), "1");
    assert_string_equal(echo_field(&o, "client"), "none");
    assert_string_equal(echo_body(&o), SOAP_BODY);
    post_ok(c, NULL, NULL, &o);
    assert_string_equal(echo_field(&o, "req"), "2");
    outcome_clear(&o);
    http_conn_free(c);
}

static void test_tls_client_certificate(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = tls_conn_new("/echo", fx.cert, true, true);
    post_ok(c, "x", "", &o);
    assert_string_equal(echo_field(&o, "client"), "127.0.0.1");
    outcome_clear(&o);
    http_conn_free(c);
}

/* The ACS is verified against the configured CA, unless verification is off. */
static void test_tls_verifies_server(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = tls_conn_new("/echo", fx.other_ca, true, false);
    post(c, "x", "", &o);
    assert_int_equal(o.error, CURLE_PEER_FAILED_VERIFICATION);
    assert_int_equal(o.status, 0);
    http_conn_free(c);

    c = tls_conn_new("/echo", fx.other_ca, false, false);
    post_ok(c, "x", "", &o);
    outcome_clear(&o);
    http_conn_free(c);
}

/* A TLS session is not redirected to plain HTTP, where Basic credentials would be sent in
 * clear. */
static void test_tls_no_downgrade_redirect(void **state)
{
    struct outcome o = {0};
    struct http_conn *c = tls_conn_new("/downgrade", fx.cert, true, false);
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.error, CURLE_UNSUPPORTED_PROTOCOL);
    /* The refused target is not adopted for the next POST either. */
    post(c, SOAP_BODY, "", &o);
    assert_int_equal(o.error, CURLE_UNSUPPORTED_PROTOCOL);
    assert_non_null(strstr(o.effective_url, "https://"));
    outcome_clear(&o);
    http_conn_free(c);
}

static void test_bad_config(void **state)
{
    struct http_conn_config cfg = {.url = NULL};
    assert_null(http_conn_new(fx.hm, &cfg));
    cfg.url = "";
    assert_null(http_conn_new(fx.hm, &cfg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_connection_reused),
        cmocka_unit_test(test_server_close_reconnects),
        cmocka_unit_test(test_free_closes_connection),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_digest_md5),
        cmocka_unit_test(test_digest_md5_sess),
        cmocka_unit_test(test_digest_challenge_then_close),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_redirect_chain),
        cmocka_unit_test(test_redirect_carries_cookies),
        cmocka_unit_test(test_redirect_skips_expired_cookies),
        cmocka_unit_test(test_redirect_limit),
        cmocka_unit_test(test_gzip_request),
        cmocka_unit_test(test_gzip_415_fallback),
        cmocka_unit_test(test_dropped_post_not_resent),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_response_too_large),
        cmocka_unit_test(test_free_in_flight),
        cmocka_unit_test(test_post_from_callback),
        cmocka_unit_test(test_tls_preemptive_basic),
        cmocka_unit_test(test_tls_client_certificate),
        cmocka_unit_test(test_tls_verifies_server),
        cmocka_unit_test(test_tls_no_downgrade_redirect),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
