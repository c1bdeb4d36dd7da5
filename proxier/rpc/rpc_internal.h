/*
 * rpc_internal.h: what the RPC handlers share: the call in progress and how to answer it.
 */
#ifndef PX_RPC_INTERNAL_H
#define PX_RPC_INTERNAL_H

#include <stdbool.h>

#include "proxier/common/buf.h"
#include "proxier/rpc/rpc.h"
#include "proxier/soap/soap.h"

struct rpc_call {
    struct endpoint *ep;
    enum cwmp_version version;
    enum soap_method method;
    const char *method_name;
    char *id;             /* the ACS's cwmp:ID, echoed */
    char *parameter_key;  /* SetParameterValues, AddObject, DeleteObject */
    char *object_name;    /* AddObject, DeleteObject */
    struct buf out;       /* the envelope to send */
    rpc_done_cb done;
    void *arg;
    bool in_handler;
    bool finished;
    bool cancelled;
};

void rpc_reply(struct rpc_call *call, const struct soap_response *resp);
void rpc_fault(struct rpc_call *call, int code, const char *message);
void rpc_fault_spv(struct rpc_call *call, int code, const char *message,
                   const struct soap_spv_fault *faults, size_t n);
/* Deliver call->out (already written). */
void rpc_finish(struct rpc_call *call);

int rpc_get_parameter_values(struct rpc_call *call, const struct soap_msg *msg);
int rpc_set_parameter_values(struct rpc_call *call, const struct soap_msg *msg);
int rpc_get_parameter_names(struct rpc_call *call, const struct soap_msg *msg);
int rpc_get_parameter_attributes(struct rpc_call *call, const struct soap_msg *msg);
int rpc_set_parameter_attributes(struct rpc_call *call, const struct soap_msg *msg);
int rpc_add_object(struct rpc_call *call, const struct soap_msg *msg);
int rpc_delete_object(struct rpc_call *call, const struct soap_msg *msg);
/* rpc_transfer.c */
int rpc_download(struct rpc_call *call, const struct soap_msg *msg);
int rpc_upload(struct rpc_call *call, const struct soap_msg *msg);
int rpc_schedule_download(struct rpc_call *call, const struct soap_msg *msg);
int rpc_cancel_transfer(struct rpc_call *call, const struct soap_msg *msg);
int rpc_get_queued_transfers(struct rpc_call *call, const struct soap_msg *msg);
int rpc_get_all_queued_transfers(struct rpc_call *call, const struct soap_msg *msg);

#endif
