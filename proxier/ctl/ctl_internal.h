/*
 * ctl_internal.h: the control socket's line protocol without the socket, for the fuzz target
 * (tests/fuzz/fuzz_ctl.c). A struct ctl made by ctl_new_unbound has no listener; ctl_serve
 * serves one connection's bufferevent (for instance one end of a bufferevent_pair) exactly
 * as an accepted connection is served: one command per line, replies on its output, and the
 * bufferevent freed at EOF or error. ctl_free releases an unbound ctl too.
 */
#ifndef PX_CTL_INTERNAL_H
#define PX_CTL_INTERNAL_H

#include "proxier/ctl/ctl.h"

struct bufferevent;

struct ctl *ctl_new_unbound(struct endpoint *ep, const struct connreq *cr);
void ctl_serve(struct ctl *c, struct bufferevent *bev);

#endif
