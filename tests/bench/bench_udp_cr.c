/*
 * bench_udp_cr.c: time from a UDP connection request (TR-069 Annex G.2.2.3) leaving the ACS
 * to the "6 CONNECTION REQUEST" Inform arriving at it, against the real proxierd.
 *
 * The ACS is a C evhttp server on 127.0.0.1; it sends each request as GenieACS does (three
 * identical datagrams, interop/acs-behaviour.md 1.6) from the same loop, answers the Inform
 * and the empty POST (204 ends the session), and sends the next request once the CPE has
 * closed the connection (3.4.2) and a short pause has passed, so that no request lands
 * "during a session". A request that starts nothing within a second is counted as lost and
 * replaced by a new one. The daemon runs with no rate limit and no periodic Inform.
 *
 * Usage: bench_udp_cr [--count N | --quick] [PROXIERD] (PROXIERD defaults to $PROXIERD).
 * Prints figures; fails only if the daemon does not answer at all.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "proxier/connreq/udp_cr.h"

#define USER "benchuser"
#define PASSWORD "benchpass"
#define PAUSE_MS 20     /* after the CPE closed the session's connection */
#define LOST_MS 1000    /* no Inform this long after a request: lost */
#define WATCHDOG_MS 10000

static const char inform_response[] =
    "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""
    " xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\">"
    "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">b</cwmp:ID></soap-env:Header>"
    "<soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>"
    "</soap-env:Body></soap-env:Envelope>";

struct bench {
    struct event_base *base;
    struct evhttp *http;
    struct event *next;     /* send the next request (after the pause, or when lost) */
    int udp;
    unsigned acs_port, udp_port;
    pid_t child;
    unsigned long long ts;  /* of the last request sent */
    double t_sent, t_progress;
    bool waiting;           /* a request is out, its Inform not yet seen */
    double *samples;
    size_t n, wanted, lost;
    const char *error;
};

static void arm_next(struct bench *b, unsigned ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(b->next, &tv);
}

/* One request, three copies (G.2.2.3 "SHOULD send multiple copies"). */
static void send_request(evutil_socket_t fd, short what, void *arg)
{
    struct bench *b = arg;
    double now = bench_now_ms();
    if (b->waiting)
        b->lost++;
    if (now - b->t_progress > WATCHDOG_MS) {
        b->error = "no Inform from proxierd for 10 s";
        event_base_loopexit(b->base, NULL);
        return;
    }
    struct udp_cr_request r = {.ts = ++b->ts};
    snprintf(r.ts_text, sizeof(r.ts_text), "%llu", b->ts);
    snprintf(r.id, sizeof(r.id), "%zu", b->n + b->lost);
    snprintf(r.un, sizeof(r.un), USER);
    snprintf(r.cn, sizeof(r.cn), "%016llx", b->ts * 2654435761ULL);
    udp_cr_signature(PASSWORD, &r, r.sig);
    char dgram[512];
    int len = snprintf(dgram, sizeof(dgram),
                       "GET http://127.0.0.1:%u?ts=%s&id=%s&un=%s&cn=%s&sig=%s HTTP/1.1\r\n"
                       "Host: 127.0.0.1:%u\r\n\r\n",
                       b->udp_port, r.ts_text, r.id, r.un, r.cn, r.sig, b->udp_port);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->udp_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    b->t_sent = bench_now_ms();
    for (int i = 0; i < 3; i++)
        sendto(b->udp, dgram, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to));
    b->waiting = true;
    arm_next(b, LOST_MS);
}

/* 3.4.2: the CPE closes the connection at the end of the session. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct bench *b = arg;
    if (b->n >= b->wanted)
        event_base_loopexit(b->base, NULL);
    else if (!b->waiting)
        arm_next(b, PAUSE_MS);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct bench *b = arg;
    double now = bench_now_ms();
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    if (evbuffer_get_length(in) == 0) {
        evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
        return;
    }
    evbuffer_add(in, "", 1);
    const char *body = (const char *)evbuffer_pullup(in, -1);
    b->t_progress = now;
    if (b->waiting && strstr(body, "6 CONNECTION REQUEST")) {
        b->samples[b->n++] = now - b->t_sent;
        b->waiting = false;
        evtimer_del(b->next);
    }
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, b);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/xml");
    evbuffer_add_reference(evhttp_request_get_output_buffer(req), inform_response,
                           sizeof(inform_response) - 1, NULL, NULL);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static pid_t start_proxierd(const char *exe, struct bench *b, const char *db)
{
    char url[64], udp[64], tcp[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/acs", b->acs_port);
    snprintf(udp, sizeof(udp), "connection_request.udp_port=%u", b->udp_port);
    snprintf(tcp, sizeof(tcp), "connection_request.port=%u", bench_free_port(SOCK_STREAM));
    char *argv[] = {(char *)exe, "--acs-url", url, "--db", (char *)db, "--log-level", "warn",
                    "--set", "cwmp.periodic_inform_enable=false",
                    "--set", "connection_request.address=127.0.0.1",
                    "--set", "connection_request.username=" USER,
                    "--set", "connection_request.password=" PASSWORD,
                    "--set", "connection_request.rate_interval=0",
                    "--set", udp, "--set", tcp, NULL};
    return bench_spawn(argv);
}

static int setup(struct bench *b)
{
    b->base = event_base_new();
    b->http = bench_http_listen(b->base, &b->acs_port, on_request, b);
    if (!b->http)
        return -1;
    b->udp = socket(AF_INET, SOCK_DGRAM, 0);
    b->udp_port = bench_free_port(SOCK_DGRAM);
    b->next = evtimer_new(b->base, send_request, b);
    b->samples = calloc(b->wanted, sizeof(*b->samples));
    b->ts = (unsigned long long)time(NULL);
    return b->udp >= 0 && b->udp_port && b->next && b->samples ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct bench b = {.wanted = 200};
    const char *exe = getenv("PROXIERD");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            b.wanted = 10;
        else if (!strcmp(argv[i], "--count") && i + 1 < argc)
            b.wanted = strtoul(argv[++i], NULL, 10);
        else
            exe = argv[i];
    }
    char *dir = bench_tempdir("px_bench_udp_cr");
    if (!exe || !dir || !b.wanted || setup(&b) != 0) {
        fprintf(stderr, "usage: bench_udp_cr [--count N | --quick] PROXIERD\n");
        return 2;
    }
    char db[600];
    snprintf(db, sizeof(db), "%s/proxierd.db", dir);
    b.child = start_proxierd(exe, &b, db);
    b.t_progress = bench_now_ms();
    arm_next(&b, 500); /* the boot session first: a request during it would be ignored */
    event_base_dispatch(b.base);
    bench_stop(b.child);
    bench_remove_tree(dir);
    free(dir);
    if (b.error || b.n < b.wanted) {
        fprintf(stderr, "bench_udp_cr: %s\n", b.error ? b.error : "stopped early");
        return 1;
    }
    double p50 = bench_percentile(b.samples, b.n, 50), p99 = bench_percentile(b.samples, b.n, 99);
    printf("bench_udp_cr: %s, %zu UDP connection requests (3 copies each) from a C ACS on "
           "127.0.0.1, %zu lost or ignored\n", exe, b.n, b.lost);
    printf("  datagrams sent -> \"6 CONNECTION REQUEST\" Inform received: median %.2f ms, "
           "p99 %.2f ms, min %.2f ms\n", p50, p99, b.samples[0]);
    printf("summary: bench_udp_cr UDP request -> Inform %.2f ms median, %.2f ms p99 (%zu "
           "requests, %zu lost)\n", p50, p99, b.n, b.lost);
    return 0;
}
