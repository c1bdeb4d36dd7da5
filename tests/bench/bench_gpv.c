/*
 * bench_gpv.c: cost of one GetParameterValues of "Device." (TR-069 A.3.2.2) over a large
 * model, in process, through the real RPC path: soap_parse of the ACS's envelope, then
 * rpc_handle on an endpoint (endpoint_new, as the gateway builds it) whose model is the
 * gateway's schema plus a table of ROWS x 10 parameters (10,000 by default), answered from
 * memory by a provider mounted on "Device." (ManagementServer keeps its own provider).
 *
 * Prints the wall time of rpc_handle until the response envelope is complete (median of
 * RUNS), the response size, and the peak memory growth of one such call measured in a
 * fresh process (VmHWM reset to VmRSS through /proc/self/clear_refs, then VmHWM after).
 *
 * Usage: bench_gpv [--runs N] [--rows N] [--quick]. Prints figures; it is not a pass/fail
 * test (it fails only if the response is not the expected one).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "cache/cache.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"
#include "proxier/rpc/rpc.h"
#include "proxier/soap/soap.h"

#define TABLE "Device.X_BENCH_Host."
#define N_COLUMNS 10

/* The bench table, added to the gateway schema like a vendor extension. */
static const char bench_schema_text[] = "table  " TABLE "{i}. r\n"
                                        "param  Alias string(64) r\n"
                                        "param  Enable boolean r\n"
                                        "param  Status string{Up,Down} r\n"
                                        "param  IPAddress string(45) r\n"
                                        "param  MACAddress string(17) r\n"
                                        "param  HostName string(64) r\n"
                                        "param  LeaseTimeRemaining int[-1:] r\n"
                                        "param  BytesSent unsignedLong r\n"
                                        "param  BytesReceived unsignedLong r\n"
                                        "param  LastChange dateTime r\n";

/* Everything one measurement needs; built and torn down as a whole. */
struct gpv_bench {
    char *dir;
    struct cache *cache;
    struct event_base *base;
    struct px_config cfg;
    struct dm_schema *schema;
    struct dm_model *model;
    struct endpoint *ep;
    unsigned rows;
    int *column_of; /* schema node id -> column of the bench table, -1 for other nodes */
    char **values;  /* rows * N_COLUMNS values, row-major */
};

/* One call's outcome, filled by the rpc_done_cb. */
struct gpv_result {
    bool done;
    size_t len;
    size_t n_values;
    bool fault;
};

/* ---- The in-memory provider ---- */

static void row_values(char **out, unsigned row)
{
    char v[N_COLUMNS][64];
    snprintf(v[0], sizeof(v[0]), "cpe-%u", row);
    snprintf(v[1], sizeof(v[1]), "%s", row % 7 ? "true" : "false");
    snprintf(v[2], sizeof(v[2]), "%s", row % 5 ? "Up" : "Down");
    snprintf(v[3], sizeof(v[3]), "10.%u.%u.%u", row / 65536 % 256, row / 256 % 256, row % 256);
    snprintf(v[4], sizeof(v[4]), "02:00:00:%02X:%02X:%02X", row / 65536 % 256, row / 256 % 256,
             row % 256);
    snprintf(v[5], sizeof(v[5]), "host-%u.lan", row);
    snprintf(v[6], sizeof(v[6]), "%u", 86400 - row % 86400);
    snprintf(v[7], sizeof(v[7]), "%llu", 1000003ULL * row);
    snprintf(v[8], sizeof(v[8]), "%llu", 7000001ULL * row);
    snprintf(v[9], sizeof(v[9]), "2026-01-%02uT12:00:00Z", row % 28 + 1);
    for (int c = 0; c < N_COLUMNS; c++)
        out[c] = strdup(v[c]);
}

/* "Device.X_BENCH_Host.17.HostName" -> row 17 */
static unsigned row_of(const char *path)
{
    return (unsigned)strtoul(path + strlen(TABLE), NULL, 10);
}

static void memory_get(void *ctx, struct dm_request *req)
{
    struct gpv_bench *b = ctx;
    for (size_t i = 0; i < req->n_items; i++) {
        struct dm_item *it = &req->items[i];
        int col = b->column_of[it->node->id];
        unsigned row = col >= 0 ? row_of(it->path) : 0;
        if (col >= 0 && row >= 1 && row <= b->rows)
            dm_item_set_value(it, b->values[(row - 1) * N_COLUMNS + col]);
        else
            dm_item_set_value(it, it->node->default_value ? it->node->default_value : "");
    }
    dm_request_done(req);
}

static const struct dm_provider_ops memory_ops = {.get = memory_get};

/* ---- Setup ---- */

static int map_columns(struct gpv_bench *b)
{
    const struct dm_node *table = dm_schema_find(b->schema, TABLE "{i}.");
    if (!table || table->n_children != N_COLUMNS)
        return px_err_set(-1, "bench table missing from the schema");
    unsigned n = dm_schema_node_count(b->schema);
    b->column_of = malloc(n * sizeof(int));
    for (unsigned i = 0; i < n; i++)
        b->column_of[i] = -1;
    for (size_t c = 0; c < table->n_children; c++)
        b->column_of[table->children[c]->id] = (int)c;
    return 0;
}

static int add_rows(struct gpv_bench *b)
{
    b->values = calloc((size_t)b->rows * N_COLUMNS, sizeof(char *));
    for (unsigned r = 1; r <= b->rows; r++) {
        unsigned got;
        if (dm_instance_add(b->model, TABLE, r, NULL, &got) != 0)
            return -1;
        row_values(&b->values[(size_t)(r - 1) * N_COLUMNS], r);
    }
    return 0;
}

static void bench_teardown(struct gpv_bench *b)
{
    endpoint_free(b->ep);
    if (b->model)
        dm_model_free(b->model);
    if (b->schema)
        dm_schema_free(b->schema);
    if (b->cache)
        cache_close(b->cache);
    if (b->base)
        event_base_free(b->base);
    config_free(&b->cfg);
    for (size_t i = 0; b->values && i < (size_t)b->rows * N_COLUMNS; i++)
        free(b->values[i]);
    free(b->values);
    free(b->column_of);
    bench_remove_tree(b->dir);
    free(b->dir);
}

static int bench_setup(struct gpv_bench *b, unsigned rows)
{
    memset(b, 0, sizeof(*b));
    b->rows = rows;
    config_defaults(&b->cfg);
    b->dir = bench_tempdir("px_bench_gpv");
    char path[600];
    snprintf(path, sizeof(path), "%s/cache.db", b->dir ? b->dir : "/nonexistent");
    if (!b->dir || cache_open(&b->cache, path, CACHE_SYNC_NORMAL) != CACHE_OK)
        return px_err_set(-1, "cannot open a cache in %s", b->dir ? b->dir : "$TMPDIR");
    b->base = event_base_new();
    b->schema = gateway_schema_new();
    if (!b->schema || dm_schema_load(b->schema, bench_schema_text) != 0 || map_columns(b))
        return -1;
    b->model = dm_model_new(b->schema, b->base);
    struct dm_provider p = {&memory_ops, b};
    if (dm_mount(b->model, "Device.", &p) != 0)
        return px_err_set(-1, "cannot mount the provider");
    struct endpoint_env env = {.base = b->base, .cache = b->cache, .cfg = &b->cfg};
    struct endpoint_identity id = {"Bench", "000000", "Bench", "0001"};
    b->ep = endpoint_new(&env, "bench", &id, b->model, NULL);
    if (!b->ep)
        return -1;
    return add_rows(b);
}

/* ---- One GetParameterValues ---- */

static void on_done(void *arg, const char *xml, size_t len)
{
    struct gpv_result *r = arg;
    r->done = true;
    r->len = len;
    r->n_values = bench_count(xml, "<ParameterValueStruct>");
    r->fault = strstr(xml, "Fault>") != NULL;
}

/* Parse the ACS's request and answer it; *ms is the time of rpc_handle until the envelope
 * was complete (the provider answers synchronously, the loop runs in case it did not). */
static int run_gpv(struct gpv_bench *b, struct gpv_result *r, double *ms)
{
    const char *names[] = {"Device."};
    struct buf req = BUF_INIT;
    struct soap_msg msg;
    bench_gpv_request(&req, "bench", names, 1);
    int rc = soap_parse(req.data, req.len, &msg);
    memset(r, 0, sizeof(*r));
    if (rc == 0) {
        double t0 = bench_now_ms();
        rpc_handle(b->ep, &msg, CWMP_V1_2, on_done, r);
        while (!r->done && event_base_loop(b->base, EVLOOP_ONCE) == 0)
            ;
        *ms = bench_now_ms() - t0;
    }
    soap_msg_free(&msg);
    buf_free(&req);
    if (rc || !r->done || r->fault)
        return px_err_set(-1, "GetParameterValues failed (%s)", rc ? px_err_msg() : "fault");
    return 0;
}

struct count_ctx {
    size_t n;
};

static void count_param(void *arg, const char *path, const struct dm_node *node)
{
    ((struct count_ctx *)arg)->n++;
}

/* ---- Memory: one call in a fresh process ---- */

struct mem_figures {
    int ok;
    bool reset_worked;
    long setup_kb;  /* RSS the model and endpoint added */
    long before_kb; /* VmRSS (or VmHWM if the reset failed) just before the call */
    long peak_kb;   /* VmHWM after the call */
};

static void measure_memory_child(int fd, unsigned rows)
{
    struct mem_figures m = {0};
    struct gpv_bench b;
    struct gpv_result r;
    double ms;
    long start_kb = bench_proc_kb(0, "VmRSS");
    if (bench_setup(&b, rows) == 0) {
        m.setup_kb = bench_proc_kb(0, "VmRSS") - start_kb;
        m.reset_worked = bench_reset_hwm(0);
        m.before_kb = bench_proc_kb(0, m.reset_worked ? "VmRSS" : "VmHWM");
        m.ok = run_gpv(&b, &r, &ms) == 0;
        m.peak_kb = bench_proc_kb(0, "VmHWM");
    }
    bench_teardown(&b);
    if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
        _exit(1);
    _exit(0);
}

static int measure_memory(unsigned rows, struct mem_figures *m)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        measure_memory_child(fds[1], rows);
    }
    close(fds[1]);
    ssize_t got = pid > 0 ? read(fds[0], m, sizeof(*m)) : -1;
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof(*m) && m->ok ? 0 : -1;
}

/* ---- Main ---- */

static int parse_args(int argc, char **argv, unsigned *runs, unsigned *rows)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            *runs = 3;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            *runs = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--rows") && i + 1 < argc)
            *rows = (unsigned)strtoul(argv[++i], NULL, 10);
        else
            return -1;
    }
    return *runs && *rows ? 0 : -1;
}

static int time_calls(struct gpv_bench *b, unsigned runs, double *median, size_t *len,
                      size_t *n_values)
{
    double *ms = calloc(runs, sizeof(double));
    struct gpv_result r = {0};
    int rc = 0;
    for (unsigned i = 0; i < runs && !rc; i++)
        rc = run_gpv(b, &r, &ms[i]);
    *median = bench_percentile(ms, runs, 50);
    *len = r.len;
    *n_values = r.n_values;
    free(ms);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned runs = 10, rows = 1000;
    if (parse_args(argc, argv, &runs, &rows) != 0) {
        fprintf(stderr, "usage: bench_gpv [--runs N] [--rows N] [--quick]\n");
        return 2;
    }
    log_setup(LOG_TARGET_STDERR, LOG_LVL_WARN, false);
    struct gpv_bench b;
    struct count_ctx cc = {0};
    double median = 0;
    size_t len = 0, n_values = 0;
    struct mem_figures m;
    int rc = bench_setup(&b, rows);
    if (rc == 0)
        rc = dm_expand(b.model, "Device.", count_param, &cc);
    if (rc == 0)
        rc = time_calls(&b, runs, &median, &len, &n_values);
    bench_teardown(&b);
    if (rc == 0 && n_values != cc.n)
        rc = px_err_set(-1, "the response has %zu values, the model %zu", n_values, cc.n);
    if (rc == 0 && measure_memory(rows, &m) != 0)
        rc = px_err_set(-1, "the memory measurement failed");
    if (rc != 0) {
        fprintf(stderr, "bench_gpv: %s\n", px_err_msg());
        return 1;
    }
    printf("bench_gpv: GetParameterValues \"Device.\" through rpc_handle, %zu parameters "
           "(%u rows x %d + the gateway's own), %u runs\n",
           n_values, rows, N_COLUMNS, runs);
    printf("  model + endpoint setup        %8.1f MB RSS\n", m.setup_kb / 1024.0);
    printf("  wall time (median)            %8.2f ms\n", median);
    printf("  response size                 %8.1f KB (%zu bytes)\n", len / 1024.0, len);
    printf("  peak memory growth of a call  %8.1f MB (%s)\n", (m.peak_kb - m.before_kb) / 1024.0,
           m.reset_worked ? "VmHWM after - VmRSS before, HWM reset by clear_refs"
                          : "VmHWM after - VmHWM before: a lower bound");
    printf("summary: bench_gpv %zu params: %.2f ms median, response %.0f KB, peak +%.1f MB\n",
           n_values, median, len / 1024.0, (m.peak_kb - m.before_kb) / 1024.0);
    return 0;
}
