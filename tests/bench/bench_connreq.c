/*
 * bench_connreq.c: HTTP connection requests (TR-069 3.2.2.2) of the real proxierd, timed
 * from the ACS's side. The ACS is a minimal libevent evhttp server in a thread of its own
 * (InformResponse, then 204 to the empty POST); the connection requests come from this
 * thread over plain sockets with digest MD5 (the 401 -> 200 handshake on one connection,
 * answers computed with proxier/connreq/digest.h).
 *
 * (1) latency: N requests one after another, each when the endpoint is idle; time from the
 *     request's first byte to the 200, and to the "6 CONNECTION REQUEST" Inform arriving at
 *     the ACS (median, p99);
 * (2) rate: complete request -> session cycles per second from (1);
 * (3) load: while the ACS holds a session open (its Inform unanswered), 4 client threads
 *     make N authenticated handshakes each (401 -> 200: the first is accepted for one
 *     session after the held one, the others are coalesced, 3.2.2.2); handshakes per
 *     second and their latency (median, p99): the daemon stays responsive; then exactly
 *     one session with "6 CONNECTION REQUEST" follows.
 *
 * Usage: bench_connreq [--requests N | --quick] [PROXIERD]. Prints figures; fails only when
 * the exchanges do not go as described.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_cr.h"
#include "bench_util.h"

#define LOAD_THREADS 4
#define CR_USER "benchuser"
#define CR_PASS "benchpass"

static const char inform_response[] =
    "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""
    " xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\"><soap-env:Header><cwmp:ID"
    " soap-env:mustUnderstand=\"1\">b</cwmp:ID></soap-env:Header><soap-env:Body>"
    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    "</soap-env:Body></soap-env:Envelope>";

/* The ACS, shared with the client thread through atomics. */
struct acs {
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    unsigned port;
    struct evhttp_request *held; /* an Inform whose answer waits for release */
    atomic_bool hold, release, stop;
    atomic_int informs, cr_informs, sessions_ended;
    _Atomic double last_inform_ms;
    char cr_path[64]; /* learnt from the first Inform */
    atomic_bool have_path;
};

/* ---- ACS ---- */

static void answer_inform(struct evhttp_request *req)
{
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, inform_response, sizeof(inform_response) - 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/xml");
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void learn_path(struct acs *a, const char *body)
{
    const char *url = strstr(body, "http://127.0.0.1:");
    const char *slash = url ? strchr(url + 17, '/') : NULL;
    if (!slash || a->have_path)
        return;
    snprintf(a->cr_path, sizeof(a->cr_path), "%.*s", (int)strcspn(slash, "<"), slash);
    a->have_path = true;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct acs *a = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) { /* empty POST: end of session (TR-069 3.7.1.4) */
        evhttp_send_reply(req, 204, "No Content", NULL);
        a->sessions_ended++;
        return;
    }
    char *body = malloc(len + 1);
    evbuffer_remove(in, body, len);
    body[len] = '\0';
    learn_path(a, body);
    a->last_inform_ms = bench_now_ms();
    if (strstr(body, "6 CONNECTION REQUEST"))
        a->cr_informs++;
    a->informs++;
    free(body);
    if (a->hold)
        a->held = req;
    else
        answer_inform(req);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct acs *a = arg;
    if (a->held && a->release) {
        answer_inform(a->held);
        a->held = NULL;
        a->hold = a->release = false;
    }
    if (a->stop)
        event_base_loopbreak(a->base);
}

static void *acs_thread(void *arg)
{
    struct acs *a = arg;
    event_base_dispatch(a->base);
    return NULL;
}

static int acs_listen(struct acs *a)
{
    a->base = event_base_new();
    a->http = bench_http_listen(a->base, &a->port, on_request, a);
    if (!a->http)
        return -1;
    a->tick = event_new(a->base, -1, EV_PERSIST, on_tick, a);
    struct timeval tv = {0, 2000};
    return event_add(a->tick, &tv);
}


/* ---- The daemon ---- */

static pid_t start_proxierd(const char *exe, unsigned acs_port, unsigned cr_port, const char *db)
{
    char acs_url[64], port[16];
    snprintf(acs_url, sizeof(acs_url), "http://127.0.0.1:%u/acs", acs_port);
    snprintf(port, sizeof(port), "%u", cr_port);
    char *argv[] = {(char *)exe, "--acs-url", acs_url, "--cr-port", port,
                    "--cr-username", CR_USER, "--cr-password", CR_PASS, "--db", (char *)db,
                    "--log-level", "error",
                    "--set", "connection_request.address=127.0.0.1",
                    "--set", "connection_request.rate_interval=0",
                    "--set", "cwmp.periodic_inform_enable=false", NULL};
    return bench_spawn(argv);
}

static bool wait_for(atomic_int *counter, int value, double timeout_ms)
{
    double until = bench_now_ms() + timeout_ms;
    while (*counter < value && bench_now_ms() < until)
        usleep(100);
    return *counter >= value;
}

/* ---- The runs ---- */

struct load_arg {
    unsigned port;
    const char *path;
    size_t n;
    double *lat;
    int bad;
};

static void *load_thread(void *arg)
{
    struct load_arg *l = arg;
    for (size_t i = 0; i < l->n; i++) {
        double t0 = bench_now_ms();
        l->bad += bench_connection_request(l->port, l->path, CR_USER, CR_PASS) != 200;
        l->lat[i] = bench_now_ms() - t0;
    }
    return NULL;
}

/* (1) and (2). Returns 0 or -1. */
static int run_latency(struct acs *a, unsigned cr_port, size_t n, double *to_200,
                       double *to_inform, double *cycles_per_s)
{
    double start = bench_now_ms();
    for (size_t i = 0; i < n; i++) {
        /* the previous session may still be closing at the CPE: then this one is for the
         * session after it, which ends as ended + 1 too */
        int ended = a->sessions_ended;
        double t0 = bench_now_ms();
        int status = bench_connection_request(cr_port, a->cr_path, CR_USER, CR_PASS);
        double t200 = bench_now_ms();
        if (status != 200 || !wait_for(&a->sessions_ended, ended + 1, 10000))
            return -1;
        to_200[i] = t200 - t0;
        to_inform[i] = a->last_inform_ms - t0;
    }
    *cycles_per_s = n / ((bench_now_ms() - start) / 1000.0);
    return 0;
}

/* (3). Returns 0 or -1. */
static int run_load(struct acs *a, unsigned cr_port, size_t per_thread, double *lat,
                    double *per_s)
{
    int informs = a->informs;
    a->hold = true;
    if (bench_connection_request(cr_port, a->cr_path, CR_USER, CR_PASS) != 200 ||
        !wait_for(&a->informs, informs + 1, 10000))
        return -1;
    struct load_arg args[LOAD_THREADS];
    pthread_t th[LOAD_THREADS];
    double t0 = bench_now_ms();
    for (int i = 0; i < LOAD_THREADS; i++) {
        args[i] = (struct load_arg){cr_port, a->cr_path, per_thread, lat + i * per_thread, 0};
        pthread_create(&th[i], NULL, load_thread, &args[i]);
    }
    int bad = 0;
    for (int i = 0; i < LOAD_THREADS; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
    }
    *per_s = LOAD_THREADS * per_thread / ((bench_now_ms() - t0) / 1000.0);
    int cr_informs = a->cr_informs;
    a->release = true;
    /* exactly one session after the held one, whatever the number of requests */
    if (bad || !wait_for(&a->cr_informs, cr_informs + 1, 10000))
        return -1;
    usleep(300 * 1000);
    return a->cr_informs == cr_informs + 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    size_t n = 200;
    const char *exe = getenv("PROXIERD");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            n = 10;
        else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else
            exe = argv[i];
    }
    if (!exe || !n) {
        fprintf(stderr, "usage: bench_connreq [--requests N | --quick] [PROXIERD]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    static struct acs a;
    char *dir = bench_tempdir("px_bench_connreq"), db[600];
    snprintf(db, sizeof(db), "%s/proxierd.db", dir ? dir : "/nonexistent");
    double *to_200 = calloc(n, sizeof(double)), *to_inform = calloc(n, sizeof(double));
    double *lat = calloc(n * LOAD_THREADS, sizeof(double)), cycles = 0, per_s = 0;
    pthread_t acs_th;
    unsigned cr_port = bench_free_port(SOCK_STREAM);
    int rc = 1;
    if (!dir || !to_200 || !to_inform || !lat || acs_listen(&a) != 0 ||
        pthread_create(&acs_th, NULL, acs_thread, &a) != 0) {
        fprintf(stderr, "bench_connreq: setup failed\n");
        return 1;
    }
    pid_t child = start_proxierd(exe, a.port, cr_port, db);
    const char *failed = NULL;
    if (!wait_for(&a.sessions_ended, 1, 10000) || !a.have_path)
        failed = "no first session";
    else if (run_latency(&a, cr_port, n, to_200, to_inform, &cycles) != 0)
        failed = "a connection request did not lead to one session";
    else if (run_load(&a, cr_port, n, lat, &per_s) != 0)
        failed = "requests during a session were not answered 200 with one session after it";
    long rss = bench_proc_kb(child, "VmRSS");
    bench_stop(child);
    a.stop = true;
    pthread_join(acs_th, NULL);
    if (failed) {
        fprintf(stderr, "bench_connreq: %s\n", failed);
        goto exit;
    }
    printf("bench_connreq: %s, %zu connection requests (digest MD5, 401 -> 200 on one "
           "connection), C ACS on 127.0.0.1\n", exe, n);
    printf("  request -> 200          %8.2f ms median %8.2f ms p99\n",
           bench_percentile(to_200, n, 50), bench_percentile(to_200, n, 99));
    printf("  request -> Inform at ACS %7.2f ms median %8.2f ms p99\n",
           bench_percentile(to_inform, n, 50), bench_percentile(to_inform, n, 99));
    printf("  full request -> session cycles: %.0f per second\n", cycles);
    printf("  during a session, %d clients: %.0f handshakes (401 -> 200) per second, "
           "%.2f ms median %.2f ms p99; proxierd VmRSS %.1f MB\n",
           LOAD_THREADS, per_s, bench_percentile(lat, n * LOAD_THREADS, 50),
           bench_percentile(lat, n * LOAD_THREADS, 99), rss / 1024.0);
    printf("summary: bench_connreq HTTP CR -> Inform %.2f ms median, %.2f ms p99; %.0f "
           "CR sessions/s; %.0f handshakes/s during a session (%.2f ms p99)\n",
           bench_percentile(to_inform, n, 50), bench_percentile(to_inform, n, 99), cycles,
           per_s, bench_percentile(lat, n * LOAD_THREADS, 99));
    rc = 0;
exit:
    bench_remove_tree(dir);
    free(dir);
    free(to_200);
    free(to_inform);
    free(lat);
    return rc;
}
