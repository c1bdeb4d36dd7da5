/*
 * http_slots.c: connection slots of the HTTP connection-request listener (http_slots.h).
 *
 * The connections form one list ordered by the start of their request under way, oldest
 * first; each points to its address's record, which counts the connections that hold a slot.
 * Every operation is linear in the connections or addresses at most (max_connections).
 */
#include "proxier/connreq/http_slots.h"

#include <stdlib.h>
#include <string.h>

struct http_peer {
    struct http_peer *next;
    unsigned char addr[HTTP_SLOTS_ADDR_LEN];
    unsigned live; /* connections holding a slot */
    unsigned open; /* connections not closed yet (live or released) */
};

struct http_slot {
    struct http_slot *prev, *next;
    struct http_peer *peer;
    void *owner;
    bool released;
    bool answering;
};

struct http_slots {
    unsigned max_total, max_per_address;
    unsigned live;
    struct http_slot *head, *tail; /* oldest first */
    struct http_peer *peers;
};

struct http_slots *http_slots_new(unsigned max_total, unsigned max_per_address)
{
    struct http_slots *s = calloc(1, sizeof(*s));
    if (s) {
        s->max_total = max_total;
        s->max_per_address = max_per_address;
    }
    return s;
}

void http_slots_free(struct http_slots *s)
{
    if (!s)
        return;
    while (s->head)
        http_slots_close(s, s->head);
    free(s);
}

static struct http_peer *peer_of(struct http_slots *s,
                                 const unsigned char addr[HTTP_SLOTS_ADDR_LEN])
{
    for (struct http_peer *p = s->peers; p; p = p->next)
        if (!memcmp(p->addr, addr, HTTP_SLOTS_ADDR_LEN))
            return p;
    struct http_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    memcpy(p->addr, addr, HTTP_SLOTS_ADDR_LEN);
    p->next = s->peers;
    s->peers = p;
    return p;
}

static void peer_forget(struct http_slots *s, struct http_peer *peer)
{
    for (struct http_peer **pp = &s->peers; *pp; pp = &(*pp)->next)
        if (*pp == peer) {
            *pp = peer->next;
            free(peer);
            return;
        }
}

static void unlink_slot(struct http_slots *s, struct http_slot *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->tail = c->prev;
    c->prev = c->next = NULL;
}

static void append_slot(struct http_slots *s, struct http_slot *c)
{
    c->prev = s->tail;
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
}

struct http_slot *http_slots_open(struct http_slots *s,
                                  const unsigned char addr[HTTP_SLOTS_ADDR_LEN], void *owner)
{
    struct http_slot *c = calloc(1, sizeof(*c));
    struct http_peer *peer = c ? peer_of(s, addr) : NULL;
    if (!peer) {
        free(c);
        return NULL;
    }
    c->peer = peer;
    c->owner = owner;
    peer->live++;
    peer->open++;
    s->live++;
    append_slot(s, c);
    return c;
}

static bool reclaimable(const struct http_slot *c, const struct http_slot *newest)
{
    return c != newest && !c->released && !c->answering;
}

struct http_slot *http_slots_victim(const struct http_slots *s, const struct http_slot *newest,
                                    enum http_slots_limit *why)
{
    struct http_slot *victim = NULL;
    *why = HTTP_SLOTS_WITHIN;
    if (newest->peer->live > s->max_per_address) {
        *why = HTTP_SLOTS_PER_ADDRESS;
        for (victim = s->head; victim; victim = victim->next)
            if (victim->peer == newest->peer && reclaimable(victim, newest))
                break;
    } else if (s->live > s->max_total) {
        *why = HTTP_SLOTS_TOTAL;
        for (struct http_slot *c = s->head; c; c = c->next)
            if (reclaimable(c, newest) && (!victim || c->peer->live > victim->peer->live))
                victim = c;
    } else {
        return NULL;
    }
    return victim ? victim : (struct http_slot *)newest;
}

void http_slots_release(struct http_slots *s, struct http_slot *c)
{
    if (c->released)
        return;
    c->released = true;
    c->peer->live--;
    s->live--;
}

void http_slots_close(struct http_slots *s, struct http_slot *c)
{
    http_slots_release(s, c);
    unlink_slot(s, c);
    if (--c->peer->open == 0)
        peer_forget(s, c->peer);
    free(c);
}

void http_slots_answering(struct http_slot *c)
{
    c->answering = true;
}

void http_slots_restart(struct http_slots *s, struct http_slot *c)
{
    c->answering = false;
    unlink_slot(s, c);
    append_slot(s, c);
}

void *http_slot_owner(const struct http_slot *c)
{
    return c->owner;
}

bool http_slot_released(const struct http_slot *c)
{
    return c->released;
}

unsigned http_slots_live(const struct http_slots *s)
{
    return s->live;
}

unsigned http_slot_address_live(const struct http_slot *c)
{
    return c->peer->live;
}
