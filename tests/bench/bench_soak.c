/*
 * bench_soak.c: the memory of the real proxierd over many ordinary CWMP sessions (TR-069
 * 3.7.1), and after a burst of very large ACS messages.
 *
 * The ACS is a minimal libevent evhttp server on 127.0.0.1 (dynamic port) in this process.
 * Every session after the first (BOOTSTRAP) is started by an HTTP connection request
 * (3.2.2.2, digest MD5, made from the ACS's own loop with a blocking socket as soon as the
 * previous session has closed; a 503 is tried again 20 ms later) or by a periodic Inform
 * (every 2 s). The ACS answers it the same way:
 *   Inform -> InformResponse; empty POST -> GetParameterValues of 3 parameters (A.3.2.2);
 *   its response -> SetParameterValues of DeviceInfo.ProvisioningCode with a new
 *   ParameterKey (A.3.2.1); its response -> GetParameterValues of Device.DeviceInfo.;
 *   its response -> 204 No Content, which ends the session (3.7.1.4).
 * Phase 1 runs SESSIONS such sessions and prints RssAnon, VmRSS and VmHWM of the daemon
 * (/proc/PID/status) every EVERY sessions: the goal is a flat line.
 * Phase 2 is the hostile burst: HOSTILE sessions in which the ACS answers the empty POST
 * with a very large message instead, in turn
 *   (a) a GetParameterValues of 72,000 names, 3.7 MB, more than SOAP_MAX_ITEMS: the daemon
 *       parses it, answers 9003 and the session goes on;
 *   (b) a valid GetParameterValues of 19,000 names (1 MB) whose response is 3 MB;
 * then the figures right after the burst and again after AFTER ordinary sessions: what the
 * daemon keeps once the large messages are gone.
 *
 * At the end the daemon gets SIGTERM and must exit with status 0: in a sanitizer build
 * (LeakSanitizer reports leaks at exit) or under a wrapper such as valgrind with
 * --error-exitcode, that makes the run a leak check of the same path.
 *
 * Usage: bench_soak [--quick] [--sessions N] [--every K] [--hostile H] [--after A] [PROXIERD]
 *                   [-- WRAPPER ARGS...]
 * (PROXIERD defaults to $PROXIERD; a wrapper runs it, e.g. "-- valgrind --leak-check=full
 * --error-exitcode=9": the figures are then the wrapper's). Defaults: 10,000 sessions,
 * figures every 1,000, 10 large messages, 10 sessions after them; about 5 minutes on a
 * 2-core machine. --quick (the ctest smoke entry): 300 sessions, every 100, 4 large
 * messages. The long run by hand (a Release or RelWithDebInfo build, not the sanitizer one):
 *   build/tests/bench/bench_soak build/proxier/proxierd
 * Prints figures; it fails only when the sessions do not go as described above or the daemon
 * does not exit cleanly.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_cr.h"
#include "bench_util.h"

#define CR_USER "soakuser"
#define CR_PASS "soakpass"
#define WATCHDOG_MS 15000.0       /* no session ended for this long: the run failed ... */
#define WRAPPED_SLOWDOWN 10       /* ... or ten times that under a wrapper (valgrind) */
#define LARGE_INVALID_NAMES 72000 /* (a): 3.7 MB, beyond SOAP_MAX_ITEMS */
#define LARGE_VALID_NAMES 19000   /* (b): within SOAP_MAX_ITEMS */
#define LARGE_NAME "Device.DeviceInfo.SoftwareVersion"

static const char envelope_head[] =
    "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""
    " xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\""
    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
    " xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\">"
    "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">soak</cwmp:ID></soap-env:Header>"
    "<soap-env:Body>";
static const char envelope_tail[] = "</soap-env:Body></soap-env:Envelope>";

/* What the ACS sends next in the session. */
enum step { STEP_INFORM, STEP_GPV, STEP_SPV, STEP_GPV_TREE, STEP_END, STEP_LARGE };

struct figures {
    long rss_anon, vm_rss, vm_hwm; /* kB */
};

struct acs {
    struct event_base *base;
    struct evhttp *http;
    struct event *watchdog, *next_cr;
    unsigned port, cr_port;
    pid_t child;
    double watchdog_ms;
    char cr_path[128]; /* learnt from the first Inform's ConnectionRequestURL */

    /* the plan */
    size_t sessions, every, hostile, after;
    /* progress */
    size_t ended; /* sessions ended, the BOOTSTRAP one included */
    size_t cr_sessions, periodic_sessions, crs_refused;
    size_t large_faults, large_answers; /* 9003 faults, GetParameterValuesResponses */
    bool in_session;
    enum step step;
    bool large_session; /* this session gets a large message */
    size_t large_sent;
    double last_end;

    struct buf gpv, gpv_tree, large[2];
    struct figures start, *rows, after_burst, later;
    size_t n_rows;
    char error[256];
};

/* ---- Failure and figures ---- */

static void acs_fail(struct acs *a, const char *what)
{
    if (!a->error[0])
        snprintf(a->error, sizeof(a->error), "%s", what);
    event_base_loopexit(a->base, NULL);
}

static struct figures read_figures(pid_t pid)
{
    usleep(50000); /* the daemon frees the session from its loop just after the close */
    return (struct figures){bench_proc_kb(pid, "RssAnon"), bench_proc_kb(pid, "VmRSS"),
                            bench_proc_kb(pid, "VmHWM")};
}

/* ---- Replies ---- */

static void reply_xml(struct evhttp_request *req, const struct buf *xml)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/xml; charset=\"utf-8\"");
    evbuffer_add(evhttp_request_get_output_buffer(req), xml->data, xml->len);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void reply_spv(struct acs *a, struct evhttp_request *req)
{
    struct buf spv = BUF_INIT;
    buf_puts(&spv, envelope_head);
    buf_printf(&spv,
               "<cwmp:SetParameterValues><ParameterList soap-enc:arrayType="
               "\"cwmp:ParameterValueStruct[1]\"><ParameterValueStruct>"
               "<Name>Device.DeviceInfo.ProvisioningCode</Name>"
               "<Value xsi:type=\"xsd:string\">soak-%zu</Value></ParameterValueStruct>"
               "</ParameterList><ParameterKey>key-%zu</ParameterKey>"
               "</cwmp:SetParameterValues>",
               a->ended, a->ended);
    buf_puts(&spv, envelope_tail);
    reply_xml(req, &spv);
    buf_free(&spv);
}

/* ---- Sessions ---- */

static void schedule_cr(struct acs *a, long delay_us)
{
    struct timeval tv = {0, delay_us};
    event_add(a->next_cr, &tv);
}

/* Figures at the planned points, and whether the next session gets a large message; false
 * when the run is over. */
static bool plan_next(struct acs *a)
{
    size_t done = a->ended - 1; /* after the BOOTSTRAP session */
    size_t burst_end = a->sessions + a->hostile;
    if (done > 0 && done <= a->sessions && done % a->every == 0)
        a->rows[a->n_rows++] = read_figures(a->child);
    if (done == burst_end)
        a->after_burst = read_figures(a->child);
    a->large_session = done >= a->sessions && done < burst_end;
    if (done < burst_end + a->after)
        return true;
    a->later = read_figures(a->child);
    return false;
}

/* 3.4.2: the CPE closes the connection when the session is over. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct acs *a = arg;
    if (!a->in_session)
        return;
    a->in_session = false;
    if (a->step != STEP_END) {
        acs_fail(a, "the CPE closed the connection before the session was over");
        return;
    }
    a->ended++;
    a->last_end = bench_now_ms();
    if (a->ended == 1)
        a->start = read_figures(a->child);
    if (!plan_next(a)) {
        event_base_loopexit(a->base, NULL);
        return;
    }
    schedule_cr(a, 0);
}

static void learn_cr_path(struct acs *a, const char *body)
{
    const char *url = strstr(body, "ConnectionRequestURL</Name>");
    url = url ? strstr(url, "http://127.0.0.1:") : NULL;
    const char *slash = url ? strchr(url + 17, '/') : NULL;
    if (slash && !a->cr_path[0])
        snprintf(a->cr_path, sizeof(a->cr_path), "%.*s", (int)strcspn(slash, "<"), slash);
}

static void on_inform(struct acs *a, struct evhttp_request *req, const char *body)
{
    if (a->in_session) {
        acs_fail(a, "an Inform arrived inside a session");
        return;
    }
    learn_cr_path(a, body);
    if (a->ended > 0 && strstr(body, "6 CONNECTION REQUEST"))
        a->cr_sessions++;
    else if (a->ended > 0 && strstr(body, "2 PERIODIC"))
        a->periodic_sessions++;
    a->in_session = true;
    a->step = STEP_GPV;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, a);
    struct buf ir = BUF_INIT;
    buf_puts(&ir, envelope_head);
    buf_puts(&ir, "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>");
    buf_puts(&ir, envelope_tail);
    reply_xml(req, &ir);
    buf_free(&ir);
}

static void on_empty_post(struct acs *a, struct evhttp_request *req)
{
    if (!a->in_session || a->step != STEP_GPV) {
        acs_fail(a, "an unexpected empty POST");
        return;
    }
    if (a->large_session) {
        a->step = STEP_LARGE;
        reply_xml(req, &a->large[a->large_sent++ % 2]);
        return;
    }
    a->step = STEP_SPV;
    reply_xml(req, &a->gpv);
}

/* The CPE's answer to what the ACS sent last; the next message of the session. */
static void on_answer(struct acs *a, struct evhttp_request *req, const char *body)
{
    bool gpvr = strstr(body, "<cwmp:GetParameterValuesResponse>") != NULL;
    if (a->step == STEP_SPV && gpvr) {
        a->step = STEP_GPV_TREE;
        reply_spv(a, req);
    } else if (a->step == STEP_GPV_TREE && strstr(body, "<cwmp:SetParameterValuesResponse>")) {
        a->step = STEP_END;
        reply_xml(req, &a->gpv_tree);
    } else if ((a->step == STEP_END && gpvr) ||
               (a->step == STEP_LARGE && (gpvr || strstr(body, "<FaultCode>9003</FaultCode>")))) {
        if (a->step == STEP_LARGE)
            *(gpvr ? &a->large_answers : &a->large_faults) += 1;
        a->step = STEP_END;
        evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
    } else {
        char why[200];
        const char *b = strstr(body, "<soap-env:Body>");
        snprintf(why, sizeof(why), "unexpected message from the CPE: %.150s", b ? b : body);
        acs_fail(a, why);
        evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
    }
}

/* Nagle's algorithm with delayed ACKs would add tens of milliseconds per exchange. */
static void set_nodelay(struct evhttp_request *req)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
    int one = 1;
    setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct acs *a = arg;
    set_nodelay(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    if (evbuffer_get_length(in) == 0) {
        on_empty_post(a, req);
        return;
    }
    evbuffer_add(in, "", 1); /* NUL-terminate for strstr */
    const char *body = (const char *)evbuffer_pullup(in, -1);
    if (strstr(body, "<cwmp:Inform>"))
        on_inform(a, req, body);
    else if (a->in_session)
        on_answer(a, req, body);
    else
        acs_fail(a, "a message outside a session");
}


static void on_next_cr(evutil_socket_t fd, short what, void *arg)
{
    struct acs *a = arg;
    if (a->in_session)
        return; /* a periodic Inform came first; its end schedules the next request */
    if (!a->cr_path[0]) {
        acs_fail(a, "no ConnectionRequestURL in the Inform");
        return;
    }
    int status = bench_connection_request(a->cr_port, a->cr_path, CR_USER, CR_PASS);
    if (status == 503) { /* busy: a session is starting or closing (3.2.2.2) */
        a->crs_refused++;
        schedule_cr(a, 20000);
    } else if (status != 200) {
        acs_fail(a, "connection request refused");
    }
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct acs *a = arg;
    int status;
    if (waitpid(a->child, &status, WNOHANG) == a->child) {
        a->child = 0;
        acs_fail(a, "proxierd exited");
    } else if (bench_now_ms() - a->last_end > a->watchdog_ms) {
        acs_fail(a, "no session ended in time (watchdog)");
    }
}

/* ---- Setup ---- */

static int build_requests(struct acs *a)
{
    static const char *const three[] = {"Device.DeviceInfo.SoftwareVersion",
                                        "Device.DeviceInfo.UpTime",
                                        "Device.ManagementServer.ParameterKey"};
    static const char *const tree[] = {"Device.DeviceInfo."};
    const size_t n_large[2] = {LARGE_INVALID_NAMES, LARGE_VALID_NAMES};
    const char **names = malloc(LARGE_INVALID_NAMES * sizeof(*names));
    if (!names)
        return -1;
    for (size_t i = 0; i < LARGE_INVALID_NAMES; i++)
        names[i] = LARGE_NAME;
    int rc = bench_gpv_request(&a->gpv, "soak", three, 3);
    rc |= bench_gpv_request(&a->gpv_tree, "soak", tree, 1);
    for (int i = 0; i < 2; i++)
        rc |= bench_gpv_request(&a->large[i], "soak", names, n_large[i]);
    free(names);
    a->rows = calloc(a->sessions / a->every + 1, sizeof(*a->rows));
    return rc || !a->rows ? -1 : 0;
}

#define MAX_WRAPPER_ARGS 32

static pid_t start_proxierd(const char *exe, struct acs *a, const char *db, char **wrapper,
                            int n_wrapper)
{
    char acs_url[64], port[16];
    snprintf(acs_url, sizeof(acs_url), "http://127.0.0.1:%u/acs", a->port);
    snprintf(port, sizeof(port), "%u", a->cr_port);
    char *daemon[] = {(char *)exe,
                      "--acs-url",
                      acs_url,
                      "--cr-port",
                      port,
                      "--cr-username",
                      CR_USER,
                      "--cr-password",
                      CR_PASS,
                      "--db",
                      (char *)db,
                      "--log-level",
                      "error",
                      "--set",
                      "connection_request.address=127.0.0.1",
                      "--set",
                      "connection_request.rate_interval=0",
                      "--set",
                      "cwmp.periodic_inform_interval=2"};
    size_t n_daemon = sizeof(daemon) / sizeof(daemon[0]);
    char *argv[MAX_WRAPPER_ARGS + sizeof(daemon) / sizeof(daemon[0]) + 1];
    int argc = 0;
    for (int i = 0; i < n_wrapper && i < MAX_WRAPPER_ARGS; i++)
        argv[argc++] = wrapper[i];
    for (size_t i = 0; i < n_daemon; i++)
        argv[argc++] = daemon[i];
    argv[argc] = NULL;
    return bench_spawn(argv);
}

static int acs_start(struct acs *a)
{
    a->base = event_base_new();
    a->http = bench_http_listen(a->base, &a->port, on_request, a);
    a->cr_port = bench_free_port(SOCK_STREAM);
    if (!a->http || !a->cr_port)
        return -1;
    evhttp_set_max_body_size(a->http, 16 * 1024 * 1024);
    a->next_cr = evtimer_new(a->base, on_next_cr, a);
    a->watchdog = event_new(a->base, -1, EV_PERSIST, on_watchdog, a);
    struct timeval tick = {0, 500000};
    a->last_end = bench_now_ms();
    return a->next_cr && a->watchdog && event_add(a->watchdog, &tick) == 0 ? 0 : -1;
}

static void acs_free(struct acs *a)
{
    if (a->next_cr)
        event_free(a->next_cr);
    if (a->watchdog)
        event_free(a->watchdog);
    if (a->http)
        evhttp_free(a->http);
    if (a->base)
        event_base_free(a->base);
    buf_free(&a->gpv);
    buf_free(&a->gpv_tree);
    for (int i = 0; i < 2; i++)
        buf_free(&a->large[i]);
    free(a->rows);
}

/* ---- Report ---- */

static void print_row(const char *label, const struct figures *f)
{
    printf("  %-28s %9ld %9ld %9ld\n", label, f->rss_anon, f->vm_rss, f->vm_hwm);
}

static void report(const struct acs *a, const char *exe, double seconds)
{
    printf("bench_soak: %s against a C ACS on 127.0.0.1:%u: %zu ordinary sessions, then %zu "
           "large messages (%zu answered 9003, %zu with a GetParameterValuesResponse), then "
           "%zu sessions, in %.1f s\n",
           exe, a->port, a->sessions, a->hostile, a->large_faults, a->large_answers, a->after,
           seconds);
    printf("  after BOOTSTRAP: %zu sessions started by a connection request, %zu by a periodic "
           "Inform; %zu connection requests answered 503 (busy) and made again\n",
           a->cr_sessions, a->periodic_sessions, a->crs_refused);
    printf("  %-28s %9s %9s %9s   (kB)\n", "after", "RssAnon", "VmRSS", "VmHWM");
    print_row("the BOOTSTRAP session", &a->start);
    for (size_t i = 0; i < a->n_rows; i++) {
        char label[64];
        snprintf(label, sizeof(label), "%zu sessions", (i + 1) * a->every);
        print_row(label, &a->rows[i]);
    }
    char label[64];
    snprintf(label, sizeof(label), "%zu large messages", a->hostile);
    print_row(label, &a->after_burst);
    snprintf(label, sizeof(label), "%zu sessions more", a->after);
    print_row(label, &a->later);
    const struct figures *first = a->n_rows ? &a->rows[0] : &a->start;
    const struct figures *last = a->n_rows ? &a->rows[a->n_rows - 1] : &a->start;
    size_t span = a->n_rows > 1 ? (a->n_rows - 1) * a->every : 0;
    long grew = last->rss_anon - first->rss_anon;
    printf("summary: bench_soak ordinary sessions %zu..%zu: RssAnon %ld -> %ld kB (%+ld kB, "
           "%.1f bytes per session)\n",
           a->n_rows ? a->every : 0, a->n_rows * a->every, first->rss_anon, last->rss_anon, grew,
           span ? grew * 1024.0 / (double)span : 0.0);
    printf("summary: bench_soak after %zu large messages and %zu sessions: RssAnon %ld kB "
           "(%+ld kB), VmRSS %ld kB, VmHWM %ld kB\n",
           a->hostile, a->after, a->later.rss_anon, a->later.rss_anon - last->rss_anon,
           a->later.vm_rss, a->later.vm_hwm);
}

static int parse_args(int argc, char **argv, struct acs *a, const char **exe, int *wrapper_at)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            *wrapper_at = i + 1;
            break;
        }
        size_t *opt = !strcmp(argv[i], "--sessions")  ? &a->sessions
                      : !strcmp(argv[i], "--every")   ? &a->every
                      : !strcmp(argv[i], "--hostile") ? &a->hostile
                      : !strcmp(argv[i], "--after")   ? &a->after
                                                      : NULL;
        if (opt && i + 1 < argc) {
            *opt = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--quick")) {
            a->sessions = 300;
            a->every = 100;
            a->hostile = 4;
        } else if (argv[i][0] != '-' && !*exe) {
            *exe = argv[i];
        } else {
            return -1;
        }
    }
    if (!*exe)
        *exe = getenv("PROXIERD");
    return a->sessions > 0 && a->every > 0 && *exe && *exe[0] &&
                   argc - *wrapper_at <= MAX_WRAPPER_ARGS
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    struct acs a = {.sessions = 10000, .every = 1000, .hostile = 10, .after = 10};
    const char *exe = NULL;
    int wrapper_at = argc;
    if (parse_args(argc, argv, &a, &exe, &wrapper_at) != 0) {
        fprintf(stderr, "usage: bench_soak [--quick] [--sessions N] [--every K] [--hostile H] "
                        "[--after A] [PROXIERD] [-- WRAPPER ARGS...]   (or PROXIERD in the "
                        "environment)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char *dir = bench_tempdir("px_bench_soak");
    char db[600];
    snprintf(db, sizeof(db), "%s/proxierd.db", dir ? dir : "/nonexistent");
    int rc = 1;
    if (!dir || build_requests(&a) != 0 || acs_start(&a) != 0) {
        fprintf(stderr, "bench_soak: setup failed\n");
        goto exit;
    }
    double t0 = bench_now_ms();
    bool wrapped = wrapper_at < argc;
    a.watchdog_ms = WATCHDOG_MS * (wrapped ? WRAPPED_SLOWDOWN : 1);
    a.child = start_proxierd(exe, &a, db, argv + wrapper_at, argc - wrapper_at);
    event_base_dispatch(a.base);
    int status = bench_stop_within(a.child, wrapped ? 120.0 : 10.0);
    if (a.error[0] || a.later.vm_rss == 0) {
        fprintf(stderr, "bench_soak: %s (after %zu sessions)\n",
                a.error[0] ? a.error : "interrupted", a.ended);
        goto exit;
    }
    if (status != 0) {
        fprintf(stderr,
                "bench_soak: proxierd%s did not exit cleanly after SIGTERM (status %d):"
                " see the leak or error report above\n",
                wrapped ? " (wrapped)" : "", status);
        goto exit;
    }
    report(&a, exe, (bench_now_ms() - t0) / 1000.0);
    rc = 0;
exit:
    acs_free(&a);
    bench_remove_tree(dir);
    free(dir);
    return rc;
}
