/*
 * bench_cache.c: how fast the SQLite store (cache/) is for the event loop's typical work:
 * many parameter values written in one transaction, listed, read one by one, and events
 * committed one transaction each (every one an fsync with CACHE_SYNC_FULL).
 *
 * Usage: bench_cache [count]   (default 10000). Prints figures; it is not a pass/fail test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cache/cache.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void count_value(void *arg, const char *path, const char *value, int64_t updated,
                        const char *origin)
{
    ++*(long *)arg;
}

static void report(const char *what, long n, double ms)
{
    printf("%-44s %7ld in %9.2f ms  (%8.2f us each)\n", what, n, ms, ms * 1e3 / n);
}

static int fail(struct cache *c, const char *what)
{
    fprintf(stderr, "bench_cache: %s: %s\n", what, cache_errmsg(c));
    return 1;
}

static int bench_values(struct cache *c, long count)
{
    char path[96], value[32];
    double t = now_ms();
    if (cache_begin(c) != CACHE_OK)
        return fail(c, "begin");
    for (long i = 0; i < count; i++) {
        snprintf(path, sizeof(path), "Device.Hosts.Host.%ld.Param%ld", i % 1000 + 1, i / 1000);
        snprintf(value, sizeof(value), "192.168.%ld.%ld", i / 256 % 256, i % 256);
        if (cache_value_set(c, "gateway", path, value, "bench") != CACHE_OK)
            return fail(c, "value_set");
    }
    if (cache_commit(c) != CACHE_OK)
        return fail(c, "commit");
    report("cache_value_set, one transaction", count, now_ms() - t);

    long listed = 0;
    t = now_ms();
    if (cache_value_list(c, "gateway", "", count_value, &listed) != CACHE_OK)
        return fail(c, "value_list");
    report("cache_value_list, whole endpoint", listed, now_ms() - t);

    listed = 0;
    t = now_ms();
    if (cache_value_list(c, "gateway", "Device.Hosts.Host.7.", count_value, &listed) != CACHE_OK)
        return fail(c, "value_list");
    report("cache_value_list, one instance subtree", listed, now_ms() - t);

    t = now_ms();
    for (long i = 0; i < count; i++) {
        char *v;
        snprintf(path, sizeof(path), "Device.Hosts.Host.%ld.Param%ld", i % 1000 + 1, i / 1000);
        if (cache_value_get(c, "gateway", path, &v) != CACHE_OK)
            return fail(c, "value_get");
        free(v);
    }
    report("cache_value_get", count, now_ms() - t);
    return 0;
}

static int bench_events(struct cache *c, long count)
{
    double t = now_ms();
    for (long i = 0; i < count; i++) {
        if (cache_begin(c) != CACHE_OK || cache_event_add(c, "gateway", "M X", "k", NULL) ||
            cache_commit(c) != CACHE_OK)
            return fail(c, "event_add");
    }
    report("cache_event_add, one transaction each", count, now_ms() - t);
    return 0;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 10000;
    char dir[] = "/tmp/px_bench_cache_XXXXXX", path[64];
    if (count <= 0 || !mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/cache.db", dir);
    int rc = 1;
    for (int sync = CACHE_SYNC_NORMAL; sync <= CACHE_SYNC_FULL; sync++) {
        struct cache *c;
        if (cache_open(&c, path, (enum cache_sync)sync) != CACHE_OK)
            return fail(NULL, "open");
        printf("-- synchronous %s, %s\n", sync == CACHE_SYNC_FULL ? "FULL" : "NORMAL", path);
        rc = bench_values(c, count) || bench_events(c, count / 10 ? count / 10 : 1);
        cache_close(c);
        if (rc)
            break;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char name[80];
        snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
        unlink(name);
    }
    rmdir(dir);
    return rc;
}
