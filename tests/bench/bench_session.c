/*
 * bench_session.c: end-to-end latency of CWMP sessions (TR-069 3.7.1) of the real proxierd
 * against a minimal ACS written in C (libevent evhttp on 127.0.0.1, TCP_NODELAY on every
 * accepted connection) so that the ACS adds no measurable time.
 *
 * proxierd runs as a child with periodic Informs every second and a temporary database.
 * Every session goes: Inform -> InformResponse; the CPE's empty POST -> one
 * GetParameterValues (A.3.2.2); its response -> 204 No Content. The CPE has then sent its
 * empty POST with HoldRequests false and has nothing left to send, so the 204 ends the session
 * (3.7.1.4) and the CPE closes the TCP connection (3.4.2). Per session the ACS measures
 *   (a) Inform received -> GetParameterValuesResponse received,
 *   (b) Inform received -> session end: the CPE closing the connection (or, if it sends
 *       one more empty POST, after that POST, since the close comes later still).
 * The first session (BOOTSTRAP, BOOT) is a warm-up; then SESSIONS sessions ask for one
 * parameter and SESSIONS sessions for 50 (the first 50 parameters of the gateway model).
 * At the end the daemon's VmRSS and VmHWM are read from /proc/PID/status and the daemon is
 * stopped by its PID.
 *
 * Usage: bench_session [--sessions N | --quick] [PROXIERD] [-- extra proxierd arguments]
 * (PROXIERD defaults to $PROXIERD). Prints figures; it fails only when the sessions do not
 * go as described above.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"

#define ONE_PARAM "Device.DeviceInfo.SoftwareVersion"
#define MANY_PARAMS 50
#define WATCHDOG_MS 10000.0 /* no Inform for this long: the run failed */

static const char inform_response[] =
    "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""
    " xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\""
    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
    " xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\">"
    "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">bench</cwmp:ID></soap-env:Header>"
    "<soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    "</soap-env:Body></soap-env:Envelope>";

/* The runs, in order; each has its own GetParameterValues. */
enum run_case { CASE_WARMUP = 0, CASE_ONE, CASE_MANY, CASE_DONE };

struct samples {
    double *to_gpv; /* (a) */
    double *to_end; /* (b) */
    size_t n;
};

struct acs {
    struct event_base *base;
    struct evhttp *http;
    struct event *watchdog;
    unsigned port;
    pid_t child;
    size_t per_case;
    struct buf gpv[CASE_DONE];  /* the request of each case */
    size_t expected[CASE_DONE]; /* values its response must carry */
    struct samples results[CASE_DONE];
    enum run_case current;

    /* the session in progress */
    bool in_session, gpv_sent, gpv_answered;
    double t_inform, t_gpv, t_last_post;
    double last_inform;

    char error[256];
};

/* ---- Failure ---- */

static void acs_fail(struct acs *a, const char *what)
{
    if (!a->error[0])
        snprintf(a->error, sizeof(a->error), "%s", what);
    event_base_loopexit(a->base, NULL);
}

/* ---- Replies ---- */

static void reply_xml(struct evhttp_request *req, const char *xml, size_t len)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/xml; charset=\"utf-8\"");
    evbuffer_add_reference(evhttp_request_get_output_buffer(req), xml, len, NULL, NULL);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void reply_empty(struct evhttp_request *req)
{
    evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
}

/* ---- Sessions ---- */

static void record_session(struct acs *a, double t_end)
{
    struct samples *s = &a->results[a->current];
    s->to_gpv[s->n] = a->t_gpv - a->t_inform;
    s->to_end[s->n] = t_end - a->t_inform;
    s->n++;
    size_t wanted = a->current == CASE_WARMUP ? 1 : a->per_case;
    if (s->n == wanted)
        a->current++;
    if (a->current == CASE_DONE)
        event_base_loopexit(a->base, NULL);
}

/* 3.4.2: the CPE closes the connection when the session is over. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct acs *a = arg;
    if (!a->in_session)
        return;
    a->in_session = false;
    if (!a->gpv_answered) {
        acs_fail(a, "the CPE closed the connection before answering GetParameterValues");
        return;
    }
    double now = bench_now_ms();
    record_session(a, now > a->t_last_post ? now : a->t_last_post);
}

static void on_inform(struct acs *a, struct evhttp_request *req, double now)
{
    if (a->in_session) {
        acs_fail(a, "an Inform arrived inside a session");
        return;
    }
    a->in_session = true;
    a->gpv_sent = a->gpv_answered = false;
    a->t_inform = a->last_inform = now;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, a);
    reply_xml(req, inform_response, sizeof(inform_response) - 1);
}

static void on_empty_post(struct acs *a, struct evhttp_request *req)
{
    if (!a->in_session) {
        acs_fail(a, "an empty POST arrived outside a session");
        return;
    }
    if (a->gpv_sent) {
        reply_empty(req); /* nothing more to ask */
        return;
    }
    a->gpv_sent = true;
    reply_xml(req, a->gpv[a->current].data, a->gpv[a->current].len);
}

static void on_gpv_response(struct acs *a, struct evhttp_request *req, const char *body, double now)
{
    if (!a->in_session || !a->gpv_sent || a->gpv_answered) {
        acs_fail(a, "an unexpected GetParameterValuesResponse");
        return;
    }
    a->t_gpv = now;
    a->gpv_answered = true;
    size_t n = bench_count(body, "<ParameterValueStruct>");
    if (n != a->expected[a->current]) {
        char why[128];
        snprintf(why, sizeof(why), "GetParameterValuesResponse with %zu values, not %zu", n,
                 a->expected[a->current]);
        acs_fail(a, why);
        return;
    }
    reply_empty(req);
}

/* Nagle's algorithm with the client's delayed ACK would add tens of milliseconds to every
 * exchange; evhttp gives no hook at accept time, so it is set on each request's socket
 * before the first reply goes out. */
static void set_nodelay(struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct acs *a = arg;
    double now = bench_now_ms();
    set_nodelay(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    a->t_last_post = now;
    if (len == 0) {
        on_empty_post(a, req);
        return;
    }
    evbuffer_add(in, "", 1); /* NUL-terminate for strstr */
    const char *body = (const char *)evbuffer_pullup(in, -1);
    if (strstr(body, "<cwmp:Inform>")) {
        on_inform(a, req, now);
    } else if (strstr(body, "<cwmp:GetParameterValuesResponse>")) {
        on_gpv_response(a, req, body, now);
    } else {
        char why[200];
        snprintf(why, sizeof(why), "unexpected message from the CPE: %.150s",
                 strstr(body, "<soap-env:Body>") ? strstr(body, "<soap-env:Body>") : body);
        acs_fail(a, why);
        reply_empty(req);
    }
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct acs *a = arg;
    int status;
    if (waitpid(a->child, &status, WNOHANG) == a->child) {
        a->child = 0;
        acs_fail(a, "proxierd exited");
    } else if (bench_now_ms() - a->last_inform > WATCHDOG_MS) {
        acs_fail(a, "no Inform from proxierd for 10 s");
    }
}

/* ---- The requests: one parameter, and the first 50 of the gateway model ---- */

struct name_list {
    char *names[MANY_PARAMS];
    size_t n;
};

static void collect_name(void *arg, const char *path, const struct dm_node *node)
{
    struct name_list *nl = arg;
    if (nl->n < MANY_PARAMS)
        nl->names[nl->n++] = strdup(path);
}

static int build_requests(struct acs *a)
{
    struct dm_schema *schema = gateway_schema_new();
    struct dm_model *model = schema ? dm_model_new(schema, NULL) : NULL;
    struct name_list nl = {.n = 0};
    if (model)
        dm_expand(model, "Device.", collect_name, &nl);
    const char *one[] = {ONE_PARAM};
    int rc = nl.n == MANY_PARAMS ? 0 : -1;
    for (enum run_case c = CASE_WARMUP; c < CASE_DONE && rc == 0; c++) {
        bool many = c == CASE_MANY;
        a->expected[c] = many ? nl.n : 1;
        rc = bench_gpv_request(&a->gpv[c], "bench-gpv", many ? (const char *const *)nl.names : one,
                               a->expected[c]);
    }
    for (size_t i = 0; i < nl.n; i++)
        free(nl.names[i]);
    if (model)
        dm_model_free(model);
    if (schema)
        dm_schema_free(schema);
    return rc;
}

/* ---- The daemon ---- */

static pid_t start_proxierd(const char *exe, unsigned port, const char *db, char **extra,
                            int n_extra)
{
    char url[64], db_arg[600];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/acs", port);
    snprintf(db_arg, sizeof(db_arg), "%s", db);
    char *argv[16 + 64] = {(char *)exe, "--acs-url", url,
                           "--db",      db_arg,      "--log-level",
                           "warn",      "--set",     "cwmp.periodic_inform_interval=1"};
    int argc = 9;
    for (int i = 0; i < n_extra && i < 64; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    return bench_spawn(argv);
}

/* ---- Setup and report ---- */

static int acs_listen(struct acs *a)
{
    a->base = event_base_new();
    a->http = bench_http_listen(a->base, &a->port, on_request, a);
    return a->http ? 0 : -1;
}

static void acs_free(struct acs *a)
{
    if (a->watchdog)
        event_free(a->watchdog);
    if (a->http)
        evhttp_free(a->http);
    if (a->base)
        event_base_free(a->base);
    for (int c = 0; c < CASE_DONE; c++) {
        buf_free(&a->gpv[c]);
        free(a->results[c].to_gpv);
        free(a->results[c].to_end);
    }
}

struct case_stats {
    const char *label;
    double a50, a99, amin, b50, b99;
};

static struct case_stats case_stats(const char *label, struct samples *s)
{
    struct case_stats st = {.label = label};
    st.a50 = bench_percentile(s->to_gpv, s->n, 50);
    st.a99 = bench_percentile(s->to_gpv, s->n, 99);
    st.amin = s->to_gpv[0]; /* sorted by bench_percentile */
    st.b50 = bench_percentile(s->to_end, s->n, 50);
    st.b99 = bench_percentile(s->to_end, s->n, 99);
    return st;
}

static void report(struct acs *a, const char *exe, const long *kb)
{
    struct case_stats st[] = {case_stats("1 parameter", &a->results[CASE_ONE]),
                              case_stats("50 parameters", &a->results[CASE_MANY])};
    printf("bench_session: %s against a C ACS on 127.0.0.1:%u, %zu sessions per case after "
           "1 warm-up, periodic Inform every 1 s\n",
           exe, a->port, a->per_case);
    printf("  (a) Inform received -> GetParameterValuesResponse received\n"
           "  (b) Inform received -> session end (the CPE closes the connection after the 204)\n");
    printf("  %-16s %9s %9s %9s   %9s %9s   (ms)\n", "GPV of", "(a) med", "(a) p99", "(a) min",
           "(b) med", "(b) p99");
    for (size_t i = 0; i < 2; i++)
        printf("  %-16s %9.2f %9.2f %9.2f   %9.2f %9.2f\n", st[i].label, st[i].a50, st[i].a99,
               st[i].amin, st[i].b50, st[i].b99);
    printf("  proxierd memory after the runs: VmRSS %.1f MB (anonymous %.1f MB, files and shared"
           " libraries %.1f MB), VmHWM %.1f MB\n",
           kb[0] / 1024.0, kb[2] / 1024.0, kb[3] / 1024.0, kb[1] / 1024.0);
    printf("  reference, Inform -> response of a one-parameter GPV: netcwmp 1 ms, easycwmp 17 ms,"
           " icwmp 80 ms, at 6-12 MB RSS\n");
    for (size_t i = 0; i < 2; i++)
        printf("summary: bench_session GPV of %s: Inform->GPV response %.2f ms median, %.2f ms "
               "p99; Inform->session end %.2f ms median, %.2f ms p99\n",
               st[i].label, st[i].a50, st[i].a99, st[i].b50, st[i].b99);
    printf("summary: bench_session proxierd memory: VmRSS %.1f MB (%.1f MB of it private, the "
           "rest shared library pages), VmHWM %.1f MB (references: 1 ms netcwmp, 17 ms "
           "easycwmp, 80 ms icwmp; 6-12 MB)\n",
           kb[0] / 1024.0, kb[2] / 1024.0, kb[1] / 1024.0);
}

static int parse_args(int argc, char **argv, size_t *per_case, const char **exe, int *extra_at)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            *per_case = 3;
        } else if (!strcmp(argv[i], "--sessions") && i + 1 < argc) {
            *per_case = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--")) {
            *extra_at = i + 1;
            break;
        } else if (argv[i][0] != '-' && !*exe) {
            *exe = argv[i];
        } else {
            return -1;
        }
    }
    if (!*exe)
        *exe = getenv("PROXIERD");
    return *per_case > 0 && *exe && *exe[0] ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct acs a = {.per_case = 30};
    const char *exe = NULL;
    int extra_at = argc;
    if (parse_args(argc, argv, &a.per_case, &exe, &extra_at) != 0) {
        fprintf(stderr, "usage: bench_session [--sessions N | --quick] [PROXIERD] "
                        "[-- proxierd arguments]   (or PROXIERD in the environment)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int c = 0; c < CASE_DONE; c++) {
        a.results[c].to_gpv = calloc(a.per_case, sizeof(double));
        a.results[c].to_end = calloc(a.per_case, sizeof(double));
    }
    char *dir = bench_tempdir("px_bench_session");
    char db[600];
    snprintf(db, sizeof(db), "%s/proxierd.db", dir ? dir : "/nonexistent");
    int rc = 1;
    if (!dir || build_requests(&a) != 0 || acs_listen(&a) != 0) {
        fprintf(stderr, "bench_session: setup failed\n");
        goto exit;
    }
    a.child = start_proxierd(exe, a.port, db, argv + extra_at, argc - extra_at);
    a.last_inform = bench_now_ms();
    a.watchdog = event_new(a.base, -1, EV_PERSIST, on_watchdog, &a);
    struct timeval tick = {0, 500000};
    event_add(a.watchdog, &tick);
    event_base_dispatch(a.base);
    static const char *const fields[] = {"VmRSS", "VmHWM", "RssAnon", "RssFile"};
    long kb[4];
    for (int i = 0; i < 4; i++)
        kb[i] = a.child > 0 ? bench_proc_kb(a.child, fields[i]) : -1;
    bench_stop(a.child);
    if (a.error[0] || a.current != CASE_DONE) {
        fprintf(stderr, "bench_session: %s\n", a.error[0] ? a.error : "interrupted");
        goto exit;
    }
    report(&a, exe, kb);
    rc = 0;
exit:
    acs_free(&a);
    bench_remove_tree(dir);
    free(dir);
    return rc;
}
