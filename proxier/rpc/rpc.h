/*
 * rpc.h: the CPE side of the RPCs of TR-069 Table 5 ("CPE methods"), table-driven: one row per
 * method with its handler and the lowest CWMP version that has it; anything else is answered
 * with fault 9000. Handlers are asynchronous: values come from data-model providers that may
 * answer later, so a call completes through a callback with the whole response envelope.
 */
#ifndef PX_RPC_H
#define PX_RPC_H

#include <stddef.h>

#include "proxier/soap/soap.h"

struct endpoint;
struct rpc_call;

/* xml is the complete envelope to POST (a response or a fault); valid during the call. */
typedef void (*rpc_done_cb)(void *arg, const char *xml, size_t len);

/* Start answering msg (an ACS request) for ep in protocol version v. done is called exactly
 * once unless rpc_cancel is called first. If done was called before rpc_handle returns, the
 * result is NULL; otherwise it is the handle of the pending call. */
struct rpc_call *rpc_handle(struct endpoint *ep, const struct soap_msg *msg,
                            enum cwmp_version v, rpc_done_cb done, void *arg);
/* The session is going away: done will not be called. */
void rpc_cancel(struct rpc_call *call);

/* Names for GetRPCMethodsResponse (the methods with a handler). */
size_t rpc_method_names(const char **out, size_t max);

/* Write a fault envelope answering msg (also used by the session for malformed requests). */
int rpc_write_fault(struct buf *out, const struct soap_msg *msg, enum cwmp_version v, int code,
                    const char *message);

#endif
