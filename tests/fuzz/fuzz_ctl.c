/*
 * fuzz_ctl.c: libFuzzer target for the control socket's line protocol (proxier/ctl/ctl.c,
 * ctl.h): whatever a local client writes on the socket, here through a bufferevent_pair
 * served by ctl_serve (ctl_internal.h), against the gateway endpoint over an in-memory cache.
 * get and set reach the data model and setvalues as from the socket; download and upload
 * stop at the missing transfer queue (no network from a fuzz target).
 *
 * Besides "no crash, no leak", it checks the protocol's promise (ctl.h): every command line
 * gets exactly one reply line, "ok..." or "error CODE ...", with no control byte in it, and
 * a pending partial line longer than the limit gets one "line too long" error.
 */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/ctl/ctl_internal.h"
#include "proxier/dm/dm.h"
#include "proxier/gateway/gateway.h"

#define CTL_MAX_LINE 4096 /* as in ctl.c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The replies the input must get: one per line with a verb, one for an overlong rest. */
static size_t expected_replies(const uint8_t *data, size_t size)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n')
            continue;
        size_t len = i - start;
        if (len && data[start + len - 1] == '\r')
            len--;
        if (memchr(data + start, '\0', len)) {
            n++; /* refused whole: "a NUL byte in the command line" */
        } else {
            for (size_t j = start; j < start + len; j++) {
                if (data[j] != ' ') {
                    n++; /* a verb */
                    break;
                }
            }
        }
        start = i + 1;
    }
    return n + (size - start > CTL_MAX_LINE);
}

static void check_reply(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            abort();
    if (len >= 2 && !memcmp(line, "ok", 2) && (len == 2 || line[2] == ' '))
        return;
    if (len < 8 || memcmp(line, "error ", 6) != 0 || !isdigit((unsigned char)line[6]))
        abort();
    size_t digits = strspn(line + 6, "0123456789");
    if (line[6 + digits] != ' ')
        abort();
}

static size_t check_replies(struct evbuffer *out)
{
    size_t n = 0, len;
    char *line;
    while ((line = evbuffer_readln(out, &len, EVBUFFER_EOL_LF))) {
        check_reply(line, len);
        free(line);
        n++;
    }
    if (evbuffer_get_length(out))
        abort(); /* a reply without its newline */
    return n;
}

/* One endpoint for the whole run (building it per input is 70 inputs/s): the values the
 * input sets stay, which the checks do not depend on. */
static struct ctl *ctl_once(struct event_base **base)
{
    static struct px_config cfg;
    static struct event_base *b;
    static struct ctl *c;
    if (c) {
        *base = b;
        return c;
    }
    log_set_level(LOG_LVL_ERROR);
    config_defaults(&cfg);
    config_set(&cfg, "acs", "url", "http://127.0.0.1:9/acs");
    struct cache *cache = NULL;
    struct dm_schema *schema = gateway_schema_new();
    b = event_base_new();
    if (!b || cache_open(&cache, ":memory:", CACHE_SYNC_NORMAL) != CACHE_OK || !schema)
        abort();
    struct endpoint_env env = {b, cache, NULL, &cfg};
    struct endpoint *ep = gateway_endpoint_new(&env, schema, NULL);
    if (!ep || !(c = ctl_new_unbound(ep, NULL)))
        abort();
    *base = b;
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event_base *base;
    struct ctl *c = ctl_once(&base);
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(base, 0, pair) != 0)
        abort();
    ctl_serve(c, pair[0]);
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    bufferevent_write(pair[1], data, size);
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (check_replies(bufferevent_get_input(pair[1])) != expected_replies(data, size))
        abort();
    /* EOF on the client's side: the server frees its end (ctl.c on_event). */
    bufferevent_flush(pair[1], EV_WRITE, BEV_FINISHED);
    event_base_loop(base, EVLOOP_NONBLOCK);
    bufferevent_free(pair[1]);
    return 0;
}
