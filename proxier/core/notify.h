/*
 * notify.h: parameter attributes and value-change notification (TR-069 A.3.2.4, A.3.2.5,
 * 3.2.1, Table 8 "4 VALUE CHANGE").
 *
 * Attributes live in the cache; a parameter without a stored attribute has its default: 2
 * (active) for forced-active parameters and for ConnectionRequestURL-like ones whose active
 * notification is on by default, 0 otherwise. A change reported by a provider (never an ACS
 * SetParameterValues) of a parameter with notification 1 or 2 is recorded durably; 2 also
 * adds "4 VALUE CHANGE" and asks for a session, respecting DefaultActiveNotificationThrottle.
 * The next Inform lists each changed parameter once with its current value.
 */
#ifndef PX_NOTIFY_H
#define PX_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct endpoint;
struct dm_node;

/* Install the change callback on ep's model. */
void notify_attach(struct endpoint *ep);

/* Current attribute of a parameter (default when never set). access_list is malloc'd. */
int notify_attr_get(struct endpoint *ep, const char *path, const struct dm_node *node,
                    int *notification, char **access_list);
/* Check whether notification may be set on node (9009 when active is refused). */
int notify_attr_check(const struct dm_node *node, int notification);
int notify_attr_set(struct endpoint *ep, const char *path, const struct dm_node *node,
                    bool set_notification, int notification, bool set_access,
                    const char *access_list);

/* A.3.2.4: may a LAN-side entity ("Subscriber": the control socket) change this parameter? */
bool notify_subscriber_may_write(struct endpoint *ep, const char *path,
                                 const struct dm_node *node);

/* Parameters to report in the next Inform (changed since the last one). The caller frees
 * the array and strings. */
char **notify_pending(struct endpoint *ep, size_t *n);
/* The Inform that listed them was answered: forget them (changes that arrived later stay). */
void notify_delivered(struct endpoint *ep, char **paths, size_t n);
/* The session ended without a confirmed Inform: stop tracking late changes. */
void notify_session_over(struct endpoint *ep);

/* The forced Inform parameters of the Device:2 root (A.3.3.1, TR-181 forcedInform). */
extern const char *const notify_forced_inform[];

#endif
