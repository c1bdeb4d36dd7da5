/*
 * queue.c: an endpoint's event queue (TR-069 3.7.1.5, Table 8): durable in the cache, with
 * what the cache could not take kept in memory.
 *
 *   - An event the cache cannot store (a read-only file, a full disk) is kept in memory: it
 *     still goes in the next Inform, it is only not durable (lost at a restart). The first
 *     such failure is logged (warn) with SQLite's message; the cache's failure itself is
 *     logged once at error level where its health changes (main.c).
 *   - A delivered or discarded event the cache cannot delete is hidden, so that it is never
 *     sent twice in this run.
 *
 * Transactions: a state change and the events it causes are one cache transaction
 * (endpoint_begin ... endpoint_commit), so a kill -9 leaves either both or neither. When the
 * transaction fails as a whole, the events it added and deleted are applied in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "proxier/common/log.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"

struct mem_event {
    int64_t id;
    char *code;
    char *command_key;
    int64_t created;
};

/* One change of the queue inside a transaction, applied in memory if the transaction fails. */
struct tx_op {
    char *code; /* an added event; NULL for a deletion */
    char *command_key;
    int64_t id;      /* the deleted event */
    int64_t *id_out; /* the caller's copy of an added event's id */
};

struct event_queue {
    struct mem_event *events; /* in order of arrival, after the cache's */
    size_t n_events;
    int64_t next_id; /* ids of memory events: ENDPOINT_VOLATILE_ID_MAX and below */
    int64_t *hidden; /* cache ids that should be gone */
    size_t n_hidden;
    unsigned depth; /* endpoint_begin minus endpoint_commit */
    bool opened;    /* the outermost begin reached the cache */
    bool failed;    /* the transaction cannot be committed */
    char why[256];  /* its first cause */
    struct tx_op *ops;
    size_t n_ops;
    bool told; /* the first fallback was logged */
};

static struct event_queue *queue_of(struct endpoint *ep)
{
    if (!ep->queue) {
        ep->queue = calloc(1, sizeof(*ep->queue));
        if (ep->queue)
            ep->queue->next_id = ENDPOINT_VOLATILE_ID_MAX;
    }
    return ep->queue;
}

void endpoint_queue_free(struct endpoint *ep)
{
    struct event_queue *q = ep->queue;
    if (!q)
        return;
    for (size_t i = 0; i < q->n_events; i++) {
        free(q->events[i].code);
        free(q->events[i].command_key);
    }
    for (size_t i = 0; i < q->n_ops; i++) {
        free(q->ops[i].code);
        free(q->ops[i].command_key);
    }
    free(q->events);
    free(q->hidden);
    free(q->ops);
    free(q);
    ep->queue = NULL;
}

static bool is_hidden(const struct event_queue *q, int64_t id)
{
    for (size_t i = 0; q && i < q->n_hidden; i++)
        if (q->hidden[i] == id)
            return true;
    return false;
}

static void tell(struct endpoint *ep, const char *what, const char *code, const char *why)
{
    struct event_queue *q = ep->queue;
    /* warn: the failing cache itself is reported once at error level (its health) */
    if (!q->told)
        LOG_WARN("endpoint",
                 "%s: the cache cannot %s event \"%s\" (%s): kept in memory, this run only",
                 ep->key, what, code, why);
    else
        LOG_WARN("endpoint", "%s: event \"%s\" not durable either: kept in memory", ep->key, code);
    q->told = true;
}

/* ---- Reading ---- */

struct list_ctx {
    const struct event_queue *q;
    endpoint_event_cb cb;
    void *arg;
};

static void list_visible(void *arg, const struct cache_event *ev)
{
    struct list_ctx *lc = arg;
    if (!is_hidden(lc->q, ev->id))
        lc->cb(lc->arg, ev);
}

int endpoint_event_list(struct endpoint *ep, endpoint_event_cb cb, void *arg)
{
    struct list_ctx lc = {ep->queue, cb, arg};
    int rc = cache_event_list(ep->env.cache, ep->key, list_visible, &lc);
    for (size_t i = 0; ep->queue && i < ep->queue->n_events; i++) {
        struct mem_event *m = &ep->queue->events[i];
        struct cache_event ev = {m->id, m->code, m->command_key, m->created};
        cb(arg, &ev);
    }
    return rc == CACHE_OK ? 0 : -1;
}

struct has_ctx {
    const char *code;
    bool found;
};

static void find_code(void *arg, const struct cache_event *ev)
{
    struct has_ctx *hc = arg;
    hc->found = hc->found || !strcmp(ev->code, hc->code);
}

bool endpoint_event_has(struct endpoint *ep, const char *code)
{
    if (!ep->queue || (!ep->queue->n_hidden && !ep->queue->n_events))
        return cache_event_has(ep->env.cache, ep->key, code);
    struct has_ctx hc = {code, false};
    endpoint_event_list(ep, find_code, &hc);
    return hc.found;
}

/* ---- Changes ---- */

static int64_t memory_add(struct endpoint *ep, const char *code, const char *command_key)
{
    struct event_queue *q = ep->queue;
    struct mem_event *grown = realloc(q->events, (q->n_events + 1) * sizeof(*grown));
    if (!grown)
        return 0;
    q->events = grown;
    struct mem_event *m = &q->events[q->n_events];
    m->code = strdup(code);
    m->command_key = strdup(command_key ? command_key : "");
    if (!m->code || !m->command_key) {
        free(m->code);
        free(m->command_key);
        return 0;
    }
    m->id = q->next_id--;
    m->created = time(NULL);
    q->n_events++;
    return m->id;
}

static void hide(struct endpoint *ep, int64_t id)
{
    struct event_queue *q = ep->queue;
    if (is_hidden(q, id))
        return;
    int64_t *grown = realloc(q->hidden, (q->n_hidden + 1) * sizeof(*grown));
    if (!grown)
        return;
    q->hidden = grown;
    q->hidden[q->n_hidden++] = id;
}

static void memory_delete(struct event_queue *q, int64_t id)
{
    for (size_t i = 0; i < q->n_events; i++) {
        if (q->events[i].id != id)
            continue;
        free(q->events[i].code);
        free(q->events[i].command_key);
        q->n_events--;
        memmove(&q->events[i], &q->events[i + 1], (q->n_events - i) * sizeof(*q->events));
        return;
    }
}

static void record_op(struct endpoint *ep, const char *code, const char *command_key, int64_t id,
                      int64_t *id_out)
{
    struct event_queue *q = ep->queue;
    struct tx_op *grown = realloc(q->ops, (q->n_ops + 1) * sizeof(*grown));
    if (!grown)
        return;
    q->ops = grown;
    q->ops[q->n_ops++] =
        (struct tx_op){code ? strdup(code) : NULL,
                       code ? strdup(command_key ? command_key : "") : NULL, id, id_out};
}

static void fail_tx(struct endpoint *ep)
{
    struct event_queue *q = ep->queue;
    if (!q->failed)
        snprintf(q->why, sizeof(q->why), "%s", cache_errmsg(ep->env.cache));
    q->failed = true;
}

int endpoint_queue_event(struct endpoint *ep, const char *code, const char *command_key,
                         int64_t *id)
{
    struct event_queue *q = queue_of(ep);
    int64_t local = 0;
    if (!id)
        id = &local;
    *id = 0;
    if (!q)
        return -1;
    /* Table 8: a "Single" event is in the queue at most once. */
    if (!events_policy(code)->multiple && endpoint_event_has(ep, code))
        return 0;
    if (q->depth) {
        record_op(ep, code, command_key, 0, id == &local ? NULL : id);
        if (!q->failed && cache_event_add(ep->env.cache, ep->key, code,
                                          command_key ? command_key : "", id) != CACHE_OK)
            fail_tx(ep);
        return 0;
    }
    if (cache_event_add(ep->env.cache, ep->key, code, command_key ? command_key : "", id) ==
        CACHE_OK)
        return 0;
    char why[256];
    snprintf(why, sizeof(why), "%s", cache_errmsg(ep->env.cache));
    *id = memory_add(ep, code, command_key);
    if (!*id) {
        LOG_ERROR("endpoint", "%s: cannot queue event %s: %s (and out of memory)", ep->key, code,
                  why);
        return -1;
    }
    tell(ep, "store", code, why);
    return 0;
}

void endpoint_event_delete(struct endpoint *ep, int64_t id)
{
    struct event_queue *q = queue_of(ep);
    if (!q)
        return;
    if (id <= ENDPOINT_VOLATILE_ID_MAX) {
        memory_delete(q, id);
        return;
    }
    if (q->depth) {
        record_op(ep, NULL, NULL, id, NULL);
        if (!q->failed && cache_event_delete(ep->env.cache, ep->key, id) == CACHE_ERROR)
            fail_tx(ep);
        return;
    }
    if (cache_event_delete(ep->env.cache, ep->key, id) != CACHE_ERROR)
        return;
    hide(ep, id);
    if (!q->told)
        LOG_WARN("endpoint", "%s: the cache cannot delete event %lld (%s): hidden in memory",
                 ep->key, (long long)id, cache_errmsg(ep->env.cache));
    q->told = true;
}

/* ---- Transactions ---- */

int endpoint_begin(struct endpoint *ep)
{
    struct event_queue *q = queue_of(ep);
    if (!q)
        return -1;
    /* Only the outermost level reaches the cache: inner ones are part of it. */
    if (q->depth++ == 0) {
        q->failed = false;
        q->opened = cache_begin(ep->env.cache) == CACHE_OK;
        if (!q->opened)
            fail_tx(ep); /* nothing of the transaction reaches the cache */
    }
    return q->failed ? -1 : 0;
}

/* The transaction failed as a whole: what it did to the queue is done in memory. */
static void apply_in_memory(struct endpoint *ep)
{
    struct event_queue *q = ep->queue;
    size_t n = q->n_ops;
    q->n_ops = 0; /* endpoint_event_has below must not see them */
    for (size_t i = 0; i < n; i++) {
        struct tx_op *op = &q->ops[i];
        if (!op->code) {
            hide(ep, op->id);
        } else if (events_policy(op->code)->multiple || !endpoint_event_has(ep, op->code)) {
            int64_t id = memory_add(ep, op->code, op->command_key);
            if (op->id_out)
                *op->id_out = id;
            tell(ep, "store", op->code, q->why);
        } else if (op->id_out) {
            *op->id_out = 0;
        }
        free(op->code);
        free(op->command_key);
    }
}

int endpoint_commit(struct endpoint *ep)
{
    struct event_queue *q = ep->queue;
    if (!q || !q->depth)
        return -1;
    if (--q->depth > 0)
        return q->failed ? -1 : 0;
    /* A doomed cache transaction still has to be closed: its commit reports the failure. */
    if (q->opened && cache_commit(ep->env.cache) != CACHE_OK)
        fail_tx(ep);
    q->opened = false;
    if (q->failed) {
        apply_in_memory(ep);
        return -1;
    }
    for (size_t i = 0; i < q->n_ops; i++) {
        free(q->ops[i].code);
        free(q->ops[i].command_key);
    }
    q->n_ops = 0;
    return 0;
}
