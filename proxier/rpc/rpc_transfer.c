/*
 * rpc_transfer.c: the file transfer RPCs (TR-069 A.3.2.8 Download, A.4.1.5 Upload,
 * A.4.1.8 ScheduleDownload, A.4.1.9 CancelTransfer, A.4.1.1 GetQueuedTransfers, A.4.1.7
 * GetAllQueuedTransfers) on the endpoint's transfer queue (proxier/transfer/).
 *
 * Download and Upload always answer Status 1 with the Unknown Time: the transfer runs after
 * the response (over a connection of its own, 3.4.3) and its TransferComplete follows, in
 * the same Session or a later one.
 */
#include <stdlib.h>

#include "proxier/common/err.h"
#include "proxier/core/endpoint.h"
#include "proxier/rpc/rpc_internal.h"
#include "proxier/transfer/transfer.h"

static struct transfer_queue *queue_or_fault(struct rpc_call *call)
{
    struct transfer_queue *q = transfer_queue_of(call->ep);
    if (!q)
        rpc_fault(call, PX_ERR_INTERNAL, "this endpoint has no transfer queue");
    return q;
}

static int queue_transfer(struct rpc_call *call, const struct soap_msg *msg,
                          enum transfer_kind kind)
{
    struct transfer_queue *q = queue_or_fault(call);
    if (!q)
        return -1;
    struct transfer_request req = {.kind = kind, .command_key = msg->command_key,
                                   .args = &msg->transfer};
    int rc = transfer_queue_add(q, &req);
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
        return -1;
    }
    /* Tables 34 / 56: 1 = not yet completed; StartTime/CompleteTime the Unknown Time. */
    struct soap_response resp = {.method = msg->method, .status = 1};
    rpc_reply(call, &resp);
    return 0;
}

int rpc_download(struct rpc_call *call, const struct soap_msg *msg)
{
    return queue_transfer(call, msg, XFER_DOWNLOAD);
}

int rpc_upload(struct rpc_call *call, const struct soap_msg *msg)
{
    return queue_transfer(call, msg, XFER_UPLOAD);
}

int rpc_schedule_download(struct rpc_call *call, const struct soap_msg *msg)
{
    return queue_transfer(call, msg, XFER_SCHEDULE_DOWNLOAD);
}

int rpc_cancel_transfer(struct rpc_call *call, const struct soap_msg *msg)
{
    struct transfer_queue *q = queue_or_fault(call);
    if (!q)
        return -1;
    int rc = transfer_queue_cancel(q, msg->command_key);
    if (rc) {
        rpc_fault(call, rc, px_err_msg());
        return -1;
    }
    struct soap_response resp = {.method = SOAP_CancelTransfer};
    rpc_reply(call, &resp);
    return 0;
}

static int list_transfers(struct rpc_call *call, const struct soap_msg *msg, bool all)
{
    struct transfer_queue *q = queue_or_fault(call);
    if (!q)
        return -1;
    struct soap_response resp = {.method = msg->method};
    struct soap_queued_transfer *list = NULL;
    resp.n_transfers = transfer_queue_list(q, all, &list);
    resp.transfers = list;
    rpc_reply(call, &resp);
    free(list);
    return 0;
}

int rpc_get_queued_transfers(struct rpc_call *call, const struct soap_msg *msg)
{
    return list_transfers(call, msg, false);
}

int rpc_get_all_queued_transfers(struct rpc_call *call, const struct soap_msg *msg)
{
    return list_transfers(call, msg, true);
}
