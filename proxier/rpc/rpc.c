/*
 * rpc.c: dispatch of the ACS's requests (TR-069 Table 5, A.3.2, A.4.1) and the handlers that
 * need nothing but the endpoint: GetRPCMethods, Reboot, FactoryReset, ScheduleInform. The
 * data-model RPCs are in rpc_params.c and rpc_objects.c.
 *
 * A call copies what it needs from the request (the session frees the parsed message as soon
 * as rpc_handle returns) and answers once through its callback.
 */
#include "proxier/rpc/rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/endpoint.h"
#include "proxier/rpc/rpc_internal.h"

static int handle_get_rpc_methods(struct rpc_call *call, const struct soap_msg *msg);
static int handle_reboot(struct rpc_call *call, const struct soap_msg *msg);
static int handle_factory_reset(struct rpc_call *call, const struct soap_msg *msg);
static int handle_schedule_inform(struct rpc_call *call, const struct soap_msg *msg);

/* The methods we answer (the transfer methods are in rpc_transfer.c); ChangeDUState,
 * SetVouchers and GetOptions are optional and answered with 9000. */
static const struct rpc_method {
    enum soap_method method;
    int (*handler)(struct rpc_call *call, const struct soap_msg *msg);
    enum cwmp_version min_version;
} methods[] = {
    {SOAP_GetRPCMethods, handle_get_rpc_methods, CWMP_V1_0},
    {SOAP_SetParameterValues, rpc_set_parameter_values, CWMP_V1_0},
    {SOAP_GetParameterValues, rpc_get_parameter_values, CWMP_V1_0},
    {SOAP_GetParameterNames, rpc_get_parameter_names, CWMP_V1_0},
    {SOAP_SetParameterAttributes, rpc_set_parameter_attributes, CWMP_V1_0},
    {SOAP_GetParameterAttributes, rpc_get_parameter_attributes, CWMP_V1_0},
    {SOAP_AddObject, rpc_add_object, CWMP_V1_0},
    {SOAP_DeleteObject, rpc_delete_object, CWMP_V1_0},
    {SOAP_Reboot, handle_reboot, CWMP_V1_0},
    {SOAP_FactoryReset, handle_factory_reset, CWMP_V1_0},
    {SOAP_ScheduleInform, handle_schedule_inform, CWMP_V1_0},
    {SOAP_Download, rpc_download, CWMP_V1_0},
    {SOAP_Upload, rpc_upload, CWMP_V1_0},
    {SOAP_GetQueuedTransfers, rpc_get_queued_transfers, CWMP_V1_0},
    {SOAP_GetAllQueuedTransfers, rpc_get_all_queued_transfers, CWMP_V1_1},
    {SOAP_ScheduleDownload, rpc_schedule_download, CWMP_V1_2},
    {SOAP_CancelTransfer, rpc_cancel_transfer, CWMP_V1_2},
};

size_t rpc_method_names(const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]) && n < max; i++)
        out[n++] = soap_method_name(methods[i].method);
    return n;
}

static struct soap_envelope call_envelope(const struct rpc_call *call)
{
    struct soap_envelope env = {.version = call->version, .id = call->id};
    return env;
}

/* ---- Completion ---- */

static void call_free(struct rpc_call *call)
{
    free(call->id);
    free(call->parameter_key);
    free(call->object_name);
    buf_free(&call->out);
    free(call);
}

void rpc_finish(struct rpc_call *call)
{
    if (call->cancelled) {
        call_free(call);
        return;
    }
    call->finished = true;
    if (call->in_handler)
        return; /* rpc_handle delivers it when the handler returns */
    call->done(call->arg, call->out.data, call->out.len);
    call_free(call);
}

void rpc_reply(struct rpc_call *call, const struct soap_response *resp)
{
    struct soap_envelope env = call_envelope(call);
    buf_reset(&call->out);
    if (soap_write_response(&call->out, &env, resp) != 0 || buf_failed(&call->out)) {
        rpc_fault(call, PX_ERR_INTERNAL, "cannot write the response");
        return;
    }
    rpc_finish(call);
}

static void call_fault(struct rpc_call *call, const struct soap_fault *f)
{
    struct soap_envelope env = call_envelope(call);
    LOG_INFO("rpc", "%s: %s fault %d: %s", call->ep->key, call->method_name, f->code, f->string);
    buf_reset(&call->out);
    soap_write_fault(&call->out, &env, f);
    rpc_finish(call);
}

void rpc_fault_spv(struct rpc_call *call, int code, const char *message,
                   const struct soap_spv_fault *faults, size_t n)
{
    struct soap_fault f = {
        .code = code,
        .string = message && *message ? message : px_err_default_string(code),
        .spv_faults = faults,
        .n_spv_faults = n,
    };
    call_fault(call, &f);
}

/* SOAP 1.1 4.2.3: a header marked mustUnderstand="1" that we do not know fails the whole
 * request, answered with faultcode MustUnderstand (4.4.1). The detail is the CWMP Fault
 * TR-069 3.5 requires of every fault response: 9003, the request cannot be taken as sent. */
static void fault_must_understand(struct rpc_call *call, const char *header)
{
    char text[200];
    snprintf(text, sizeof(text), "SOAP header %.64s has mustUnderstand=\"1\" and is not "
             "understood (SOAP 1.1 4.2.3)", header);
    struct soap_fault f = {.code = PX_ERR_INVALID_ARGUMENTS, .string = text,
                           .soap_faultcode = "MustUnderstand"};
    call_fault(call, &f);
}

void rpc_fault(struct rpc_call *call, int code, const char *message)
{
    rpc_fault_spv(call, code, message, NULL, 0);
}

int rpc_write_fault(struct buf *out, const struct soap_msg *msg, enum cwmp_version v, int code,
                    const char *message)
{
    struct soap_envelope env = {.version = v, .id = msg ? msg->header.id : NULL};
    struct soap_fault f = {.code = code,
                           .string = message && *message ? message
                                                         : px_err_default_string(code)};
    return soap_write_fault(out, &env, &f);
}

/* ---- Dispatch ---- */

static const struct rpc_method *find_method(enum soap_method m)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (methods[i].method == m)
            return &methods[i];
    return NULL;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* ParameterKey and CommandKey are string(32) (A.3.2.1, A.3.2.9, A.4.1.3): a longer one
 * would come back in the ParameterKey parameter or an Inform's EventStruct, where the
 * schema does not allow it. */
static int check_keys(const struct soap_msg *msg)
{
    if (msg->parameter_key && utf8_length(msg->parameter_key) > 32)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                          "ParameterKey is longer than 32 characters");
    if (msg->command_key && utf8_length(msg->command_key) > 32)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "CommandKey is longer than 32 characters");
    return 0;
}

struct rpc_call *rpc_handle(struct endpoint *ep, const struct soap_msg *msg,
                            enum cwmp_version v, rpc_done_cb done, void *arg)
{
    struct rpc_call *call = calloc(1, sizeof(*call));
    call->ep = ep;
    call->version = v;
    call->done = done;
    call->arg = arg;
    call->id = msg->header.id ? strdup(msg->header.id) : NULL;
    call->method = msg->method;
    call->method_name = msg->method_name ? msg->method_name : "?";
    call->in_handler = true;
    px_err_clear();

    const struct rpc_method *m = find_method(msg->method);
    if (msg->header.unknown_must_understand) {
        fault_must_understand(call, msg->header.unknown_must_understand);
    } else if (!m || v < m->min_version) {
        char text[160];
        snprintf(text, sizeof(text), "method %s is not supported", call->method_name);
        rpc_fault(call, PX_ERR_METHOD_NOT_SUPPORTED, text);
    } else if (check_keys(msg) != 0) {
        rpc_fault(call, PX_ERR_INVALID_ARGUMENTS, px_err_msg());
    } else {
        m->handler(call, msg);
    }
    call->method_name = soap_method_name(msg->method); /* msg is about to be freed */
    if (!call->method_name)
        call->method_name = "?";
    call->in_handler = false;
    if (!call->finished)
        return call;
    done(arg, call->out.data, call->out.len);
    call_free(call);
    return NULL;
}

void rpc_cancel(struct rpc_call *call)
{
    call->cancelled = true;
}

/* ---- Simple handlers ---- */

static int handle_get_rpc_methods(struct rpc_call *call, const struct soap_msg *msg)
{
    const char *names[32];
    struct soap_response resp = {.method = SOAP_GetRPCMethods};
    resp.methods = names;
    resp.n_methods = rpc_method_names(names, 32);
    rpc_reply(call, &resp);
    return 0;
}

/* A.3.2.9: the reboot waits for the end of the session (3.7.1.4); the CommandKey comes back
 * with "M Reboot" after it. */
static int handle_reboot(struct rpc_call *call, const struct soap_msg *msg)
{
    struct endpoint *ep = call->ep;
    if (endpoint_setting_set(ep, SETTING_REBOOT_KEY, msg->command_key ? msg->command_key : "")) {
        rpc_fault(call, PX_ERR_INTERNAL, "cannot record the reboot request");
        return -1;
    }
    ep->reboot_pending = true;
    struct soap_response resp = {.method = SOAP_Reboot};
    rpc_reply(call, &resp);
    return 0;
}

static int handle_factory_reset(struct rpc_call *call, const struct soap_msg *msg)
{
    call->ep->factory_reset_pending = true;
    struct soap_response resp = {.method = SOAP_FactoryReset};
    rpc_reply(call, &resp);
    return 0;
}

static int handle_schedule_inform(struct rpc_call *call, const struct soap_msg *msg)
{
    if (msg->delay_seconds == 0) {
        rpc_fault(call, PX_ERR_INVALID_ARGUMENTS, "DelaySeconds must be greater than 0");
        return -1;
    }
    if (endpoint_schedule_inform(call->ep, msg->delay_seconds, msg->command_key) != 0) {
        rpc_fault(call, PX_ERR_INTERNAL, "cannot record the scheduled Inform");
        return -1;
    }
    struct soap_response resp = {.method = SOAP_ScheduleInform};
    rpc_reply(call, &resp);
    return 0;
}
