/*
 * http_slots.h: who holds the connection slots of the HTTP connection-request listener, and
 * which connection gives its slot up when a new one would exceed a limit (a slow client,
 * "slowloris", must not lock the ACS out: TR-069 3.2.2.2 requires the CPE to answer a
 * connection request it can authenticate).
 *
 * Limits: max_total connections, max_per_address from one IP address. A new connection always
 * gets a slot; when that exceeds a limit, http_slots_victim() names the connection to close:
 *   - its address holds more than max_per_address: the oldest incomplete connection of that
 *     address (a valid request completes in milliseconds, an attacker's never does);
 *   - else, more than max_total in all: the oldest incomplete connection of the address that
 *     holds the most (an attack from a few addresses does not close the ACS's connection);
 *   - the new connection itself when no other is incomplete (all are being answered).
 * "Incomplete" is a connection whose request under way has not been read whole; "oldest" is
 * by the start of that request (accept, or the end of the previous answer on a keep-alive
 * connection). Pure bookkeeping: no sockets, no clock (http_cr.c closes and times).
 */
#ifndef PX_HTTP_SLOTS_H
#define PX_HTTP_SLOTS_H

#include <stdbool.h>

#define HTTP_SLOTS_ADDR_LEN 16 /* IPv6, IPv4 as ::ffff:a.b.c.d */

struct http_slots;
struct http_slot; /* one open connection */

enum http_slots_limit { HTTP_SLOTS_WITHIN = 0, HTTP_SLOTS_PER_ADDRESS, HTTP_SLOTS_TOTAL };

struct http_slots *http_slots_new(unsigned max_total, unsigned max_per_address);
/* Frees every slot too. */
void http_slots_free(struct http_slots *s);

/* A new connection from addr, the youngest and incomplete; owner is the caller's (returned by
 * http_slot_owner). NULL when out of memory. */
struct http_slot *http_slots_open(struct http_slots *s,
                                  const unsigned char addr[HTTP_SLOTS_ADDR_LEN], void *owner);
/* After http_slots_open(newest): the connection to close to make room, and which limit *why,
 * or NULL (and HTTP_SLOTS_WITHIN) when every limit holds. */
struct http_slot *http_slots_victim(const struct http_slots *s, const struct http_slot *newest,
                                    enum http_slots_limit *why);
/* c is being closed: it holds no slot from now on (it stays known until http_slots_close). */
void http_slots_release(struct http_slots *s, struct http_slot *c);
/* c is closed: forget it (c is freed). */
void http_slots_close(struct http_slots *s, struct http_slot *c);
/* c's request has been read whole and is being answered: it is no victim. */
void http_slots_answering(struct http_slot *c);
/* A new request starts on c (keep-alive): the youngest and incomplete again. */
void http_slots_restart(struct http_slots *s, struct http_slot *c);

void *http_slot_owner(const struct http_slot *c);
bool http_slot_released(const struct http_slot *c);
/* Connections that hold a slot: in all, and from c's address. */
unsigned http_slots_live(const struct http_slots *s);
unsigned http_slot_address_live(const struct http_slot *c);

#endif
