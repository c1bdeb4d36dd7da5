/*
 * soap_write.c: writing the CPE's SOAP 1.1 messages (TR-069 3.5, Annex A.3/A.4, A.5.1):
 * Inform, GetRPCMethods, (Autonomous)TransferComplete, every CPE response and CWMP faults.
 *
 * Text is appended straight into a struct buf (no DOM): a GetParameterValuesResponse of
 * 10,000 values is a few hundred KiB written in one pass. Arrays carry soap-enc:arrayType
 * with their item count (3.5); every argument the schema (cwmp-1-2.xsd) requires is always
 * written, so the output validates against spec/xsd.
 */
#include "proxier/soap/soap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"

#define NS_DECLS                                                                               \
    " xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""                            \
    " xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\""                            \
    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""                                          \
    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""

#define DEFAULT_SUPPORTED_VERSIONS "1.0,1.1,1.2,1.3,1.4"

/* ---------------- Element helpers ---------------- */

static void put_open(struct buf *b, const char *name)
{
    buf_puts(b, "<");
    buf_puts(b, name);
    buf_puts(b, ">");
}

static void put_close(struct buf *b, const char *name)
{
    buf_puts(b, "</");
    buf_puts(b, name);
    buf_puts(b, ">");
}

static void put_text(struct buf *b, const char *name, const char *text)
{
    put_open(b, name);
    buf_xml_escaped(b, text ? text : "");
    put_close(b, name);
}

static void put_u64(struct buf *b, const char *name, uint64_t v)
{
    char digits[24], *p = digits + sizeof(digits);
    *--p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_text(b, name, p);
}

static void put_int(struct buf *b, const char *name, int v)
{
    if (v >= 0) {
        put_u64(b, name, (uint64_t)v);
        return;
    }
    put_open(b, name);
    buf_printf(b, "%d", v);
    put_close(b, name);
}

/* xsd:unsignedInt fields (FileSize): a larger size cannot be expressed, so it saturates. */
static void put_u32(struct buf *b, const char *name, uint64_t v)
{
    put_u64(b, name, v > UINT32_MAX ? UINT32_MAX : v);
}

static void put_bool(struct buf *b, const char *name, bool v)
{
    put_text(b, name, v ? "true" : "false");
}

static void put_time(struct buf *b, const char *name, time_t t)
{
    char text[32];
    soap_format_time(t, text);
    put_text(b, name, text);
}

/* A string restricted to max characters (maxLength counts characters, not bytes): cut at
 * a UTF-8 character boundary. */
static void put_text_max(struct buf *b, const char *name, const char *text, size_t max)
{
    const char *s = text ? text : "";
    size_t chars = 0, len = 0;
    for (; s[len]; len++) {
        if (((unsigned char)s[len] & 0xC0) != 0x80 && chars++ == max)
            break;
    }
    if (!s[len]) {
        put_text(b, name, s);
        return;
    }
    char *cut = strndup(s, len);
    put_text(b, name, cut ? cut : "");
    free(cut);
}

/* <Name soap-enc:arrayType="cwmp:Type[n]"> (TR-069 3.5: member elements are named after
 * the type and not namespace qualified). */
static void put_array_open(struct buf *b, const char *name, const char *type, size_t n)
{
    buf_printf(b, "<%s soap-enc:arrayType=\"%s[%zu]\">", name, type, n);
}

static void put_strings(struct buf *b, const char *name, const char *const *v, size_t n)
{
    put_array_open(b, name, "xsd:string", n);
    for (size_t i = 0; i < n; i++)
        put_text(b, "string", v[i]);
    put_close(b, name);
}

static void put_values(struct buf *b, const struct soap_value *v, size_t n)
{
    put_array_open(b, "ParameterList", "cwmp:ParameterValueStruct", n);
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<ParameterValueStruct><Name>");
        buf_xml_escaped(b, v[i].name);
        /* anySimpleType needs its xsi:type (TR-069 3.5). */
        buf_puts(b, "</Name><Value xsi:type=\"");
        buf_xml_escaped(b, v[i].type ? v[i].type : "xsd:string");
        buf_puts(b, "\">");
        buf_xml_escaped(b, v[i].value ? v[i].value : "");
        buf_puts(b, "</Value></ParameterValueStruct>");
    }
    put_close(b, "ParameterList");
}

/* ---------------- Envelope ---------------- */

static void put_header(struct buf *b, const struct soap_envelope *env)
{
    if (!env->id && !env->session_timeout && !env->supported_versions)
        return;
    buf_puts(b, "<soap-env:Header>");
    if (env->id) {
        buf_puts(b, "<cwmp:ID soap-env:mustUnderstand=\"1\">");
        buf_xml_escaped(b, env->id);
        buf_puts(b, "</cwmp:ID>");
    }
    /* TR-069 3.5 Table 7: SessionTimeout and SupportedCWMPVersions carry mustUnderstand 0. */
    if (env->session_timeout)
        buf_printf(b, "<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">%u"
                      "</cwmp:SessionTimeout>", env->session_timeout);
    if (env->supported_versions) {
        buf_puts(b, "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">");
        buf_xml_escaped(b, env->supported_versions_text ? env->supported_versions_text
                                                        : DEFAULT_SUPPORTED_VERSIONS);
        buf_puts(b, "</cwmp:SupportedCWMPVersions>");
    }
    buf_puts(b, "</soap-env:Header>");
}

/* Everything up to and including the opening tag of the Body's element, "cwmp:<method>"
 * (or "soap-env:Fault"). */
static void put_envelope_open(struct buf *b, const struct soap_envelope *env, const char *tag)
{
    buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope" NS_DECLS
                " xmlns:cwmp=\"");
    buf_puts(b, soap_namespace(env->version));
    buf_puts(b, "\">");
    put_header(b, env);
    buf_puts(b, "<soap-env:Body>");
    put_open(b, tag);
}

static int put_envelope_close(struct buf *b, const char *tag)
{
    put_close(b, tag);
    buf_puts(b, "</soap-env:Body></soap-env:Envelope>\n");
    if (buf_failed(b))
        return px_err_set(PX_ERR_INTERNAL, "out of memory writing a SOAP message");
    return 0;
}

/* ---------------- CPE requests ---------------- */

int soap_write_inform(struct buf *out, const struct soap_envelope *env,
                      const struct soap_inform *inform)
{
    const struct soap_device_id *id = &inform->device_id;
    put_envelope_open(out, env, "cwmp:Inform");
    put_open(out, "DeviceId");
    put_text(out, "Manufacturer", id->manufacturer);
    put_text(out, "OUI", id->oui);
    put_text(out, "ProductClass", id->product_class);
    put_text(out, "SerialNumber", id->serial_number);
    put_close(out, "DeviceId");
    put_array_open(out, "Event", "cwmp:EventStruct", inform->n_events);
    for (size_t i = 0; i < inform->n_events; i++) {
        put_open(out, "EventStruct");
        put_text(out, "EventCode", inform->events[i].code);
        put_text(out, "CommandKey", inform->events[i].command_key);
        put_close(out, "EventStruct");
    }
    put_close(out, "Event");
    put_u64(out, "MaxEnvelopes", inform->max_envelopes ? inform->max_envelopes : 1);
    /* A.3.3.1: in the CPE's local time zone, with its offset from UTC. */
    char now[32];
    soap_format_local_time(inform->current_time, now);
    put_text(out, "CurrentTime", now);
    put_u64(out, "RetryCount", inform->retry_count);
    put_values(out, inform->params, inform->n_params);
    return put_envelope_close(out, "cwmp:Inform");
}

int soap_write_get_rpc_methods(struct buf *out, const struct soap_envelope *env)
{
    put_envelope_open(out, env, "cwmp:GetRPCMethods");
    return put_envelope_close(out, "cwmp:GetRPCMethods");
}

static void put_transfer_fault(struct buf *b, const struct soap_transfer_complete *tc)
{
    put_open(b, "FaultStruct");
    put_u64(b, "FaultCode", tc->fault_code > 0 ? (uint64_t)tc->fault_code : 0);
    put_text_max(b, "FaultString", tc->fault_code ? tc->fault_string : "", 256);
    put_close(b, "FaultStruct");
}

int soap_write_transfer_complete(struct buf *out, const struct soap_envelope *env,
                                 const struct soap_transfer_complete *tc)
{
    const char *tag = tc->autonomous ? "cwmp:AutonomousTransferComplete" : "cwmp:TransferComplete";
    put_envelope_open(out, env, tag);
    if (tc->autonomous) { /* TR-069 A.3.3.3 */
        put_text(out, "AnnounceURL", tc->announce_url);
        put_text(out, "TransferURL", tc->transfer_url);
        put_bool(out, "IsDownload", tc->is_download);
        put_text(out, "FileType", tc->file_type);
        put_u32(out, "FileSize", tc->file_size);
        put_text(out, "TargetFileName", tc->target_file_name);
    } else { /* TR-069 A.3.3.2 */
        put_text(out, "CommandKey", tc->command_key);
    }
    put_transfer_fault(out, tc);
    put_time(out, "StartTime", tc->start_time);
    put_time(out, "CompleteTime", tc->complete_time);
    return put_envelope_close(out, tag);
}

/* ---------------- CPE responses ---------------- */

static void put_rpc_methods(struct buf *b, const struct soap_response *r)
{
    put_strings(b, "MethodList", r->methods, r->n_methods);
}

static void put_gpv(struct buf *b, const struct soap_response *r)
{
    put_values(b, r->values, r->n_values);
}

static void put_gpn(struct buf *b, const struct soap_response *r)
{
    put_array_open(b, "ParameterList", "cwmp:ParameterInfoStruct", r->n_names);
    for (size_t i = 0; i < r->n_names; i++) {
        put_open(b, "ParameterInfoStruct");
        put_text(b, "Name", r->names[i].name);
        put_bool(b, "Writable", r->names[i].writable);
        put_close(b, "ParameterInfoStruct");
    }
    put_close(b, "ParameterList");
}

static void put_gpa(struct buf *b, const struct soap_response *r)
{
    put_array_open(b, "ParameterList", "cwmp:ParameterAttributeStruct", r->n_attributes);
    for (size_t i = 0; i < r->n_attributes; i++) {
        const struct soap_attribute *a = &r->attributes[i];
        put_open(b, "ParameterAttributeStruct");
        put_text(b, "Name", a->name);
        put_int(b, "Notification", a->notification);
        put_strings(b, "AccessList", a->access_list, a->n_access_list);
        put_close(b, "ParameterAttributeStruct");
    }
    put_close(b, "ParameterList");
}

static void put_status(struct buf *b, const struct soap_response *r)
{
    put_int(b, "Status", r->status);
}

static void put_add_object(struct buf *b, const struct soap_response *r)
{
    put_u64(b, "InstanceNumber", r->instance_number);
    put_status(b, r);
}

static void put_transfer_status(struct buf *b, const struct soap_response *r)
{
    put_status(b, r);
    put_time(b, "StartTime", r->start_time);
    put_time(b, "CompleteTime", r->complete_time);
}

/* TR-069 A.4.1.1 / A.4.1.7: at most 16 queued transfers are listed. */
#define MAX_QUEUED_TRANSFERS 16

static void put_queued(struct buf *b, const struct soap_response *r, bool all)
{
    size_t n = r->n_transfers > MAX_QUEUED_TRANSFERS ? MAX_QUEUED_TRANSFERS : r->n_transfers;
    const char *item = all ? "AllQueuedTransferStruct" : "QueuedTransferStruct";
    buf_printf(b, "<TransferList soap-enc:arrayType=\"cwmp:%s[%zu]\">", item, n);
    for (size_t i = 0; i < n; i++) {
        const struct soap_queued_transfer *t = &r->transfers[i];
        put_open(b, item);
        put_text(b, "CommandKey", t->command_key);
        put_int(b, "State", t->state);
        if (all) {
            put_bool(b, "IsDownload", t->is_download);
            put_text(b, "FileType", t->file_type);
            put_u32(b, "FileSize", t->file_size);
            put_text(b, "TargetFileName", t->target_file_name);
        }
        put_close(b, item);
    }
    put_close(b, "TransferList");
}

static void put_queued_transfers(struct buf *b, const struct soap_response *r)
{
    put_queued(b, r, false);
}

static void put_all_queued_transfers(struct buf *b, const struct soap_response *r)
{
    put_queued(b, r, true);
}

static void put_nothing(struct buf *b, const struct soap_response *r)
{
}

typedef void (*response_writer)(struct buf *, const struct soap_response *);

/* The body of each CPE response we send (TR-069 Table 5). */
static const response_writer response_writers[] = {
    [SOAP_GetRPCMethods] = put_rpc_methods,
    [SOAP_SetParameterValues] = put_status,
    [SOAP_GetParameterValues] = put_gpv,
    [SOAP_GetParameterNames] = put_gpn,
    [SOAP_SetParameterAttributes] = put_nothing,
    [SOAP_GetParameterAttributes] = put_gpa,
    [SOAP_AddObject] = put_add_object,
    [SOAP_DeleteObject] = put_status,
    [SOAP_Reboot] = put_nothing,
    [SOAP_Download] = put_transfer_status,
    [SOAP_ScheduleDownload] = put_nothing,
    [SOAP_Upload] = put_transfer_status,
    [SOAP_FactoryReset] = put_nothing,
    [SOAP_GetQueuedTransfers] = put_queued_transfers,
    [SOAP_GetAllQueuedTransfers] = put_all_queued_transfers,
    [SOAP_CancelTransfer] = put_nothing,
    [SOAP_ScheduleInform] = put_nothing,
};

int soap_write_response(struct buf *out, const struct soap_envelope *env,
                        const struct soap_response *resp)
{
    size_t n = sizeof(response_writers) / sizeof(response_writers[0]);
    if ((unsigned)resp->method >= n || !response_writers[resp->method])
        return px_err_set(PX_ERR_INTERNAL, "no response writer for method %d", resp->method);
    char tag[64];
    snprintf(tag, sizeof(tag), "cwmp:%sResponse", soap_method_name(resp->method));
    put_envelope_open(out, env, tag);
    response_writers[resp->method](out, resp);
    return put_envelope_close(out, tag);
}

/* ---------------- Faults (TR-069 3.5, A.5.1 Table 87) ---------------- */

/* The SOAP faultcode of a CWMP fault code: "Client" when the request was at fault. */
static const char *fault_source(int code)
{
    switch (code) {
    case 8003:
    case 9003:
    case 9005:
    case 9006:
    case 9007:
    case 9008:
    case 9020:
    case 9021:
        return "Client";
    default:
        return "Server";
    }
}

int soap_write_fault(struct buf *out, const struct soap_envelope *env,
                     const struct soap_fault *fault)
{
    put_envelope_open(out, env, "soap-env:Fault");
    if (fault->soap_faultcode) {
        put_open(out, "faultcode");
        buf_puts(out, "soap-env:");
        buf_xml_escaped(out, fault->soap_faultcode);
        put_close(out, "faultcode");
    } else {
        put_text(out, "faultcode", fault_source(fault->code));
    }
    put_text(out, "faultstring", "CWMP fault");
    buf_puts(out, "<detail><cwmp:Fault>");
    put_int(out, "FaultCode", fault->code);
    put_text(out, "FaultString", fault->string ? fault->string : px_err_default_string(fault->code));
    for (size_t i = 0; i < fault->n_spv_faults; i++) {
        const struct soap_spv_fault *f = &fault->spv_faults[i];
        put_open(out, "SetParameterValuesFault");
        put_text(out, "ParameterName", f->name);
        put_int(out, "FaultCode", f->code);
        put_text(out, "FaultString", f->string ? f->string : px_err_default_string(f->code));
        put_close(out, "SetParameterValuesFault");
    }
    buf_puts(out, "</cwmp:Fault></detail>");
    return put_envelope_close(out, "soap-env:Fault");
}
