/*
 * soap.h: the SOAP 1.1 envelope codec of CWMP (TR-069 3.5, Annex A).
 *
 * In: the bytes of an ACS HTTP response body; out: one typed struct soap_msg (a request of
 * Table 5 from the ACS, a response of the ACS to a CPE request, or a SOAP fault). Out: typed
 * structs of the CPE (Inform and the other CPE requests, every CPE response, faults), in: a
 * struct buf of XML.
 *
 * The parser uses libxml2 with no network access and no entity expansion, bounded size
 * (SOAP_MAX_ENVELOPE), depth (SOAP_MAX_DEPTH) and element count (SOAP_MAX_ITEMS per array).
 * It accepts every namespace cwmp-1-0 .. cwmp-1-2 (1.3 and 1.4 use cwmp-1-2) and any prefix.
 * The writer always emits well-formed, schema-valid messages (checked against
 * shared/spec/xsd by the unit tests).
 *
 * Ownership: soap_parse fills a struct soap_msg whose strings and arrays all belong to it;
 * soap_msg_free releases them. Writers never take ownership of their inputs.
 */
#ifndef PX_SOAP_H
#define PX_SOAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proxier/common/buf.h"

#define SOAP_MAX_ENVELOPE (4u * 1024u * 1024u) /* bytes accepted from the ACS */
#define SOAP_MAX_DEPTH 32u                     /* element nesting */
#define SOAP_MAX_ITEMS 20000u                  /* entries in one array argument */

/* CWMP protocol versions (3.7.1.1, Table 6). The namespace is cwmp-1-0, cwmp-1-1 or cwmp-1-2;
 * 1.3 and 1.4 use cwmp-1-2. */
enum cwmp_version { CWMP_V1_0 = 0, CWMP_V1_1, CWMP_V1_2, CWMP_V1_3, CWMP_V1_4 };

const char *soap_version_string(enum cwmp_version v);   /* "1.2" */
const char *soap_namespace(enum cwmp_version v);        /* "urn:dslforum-org:cwmp-1-2" */
int soap_version_parse(const char *s, enum cwmp_version *out); /* "1.4" -> CWMP_V1_4; -1 bad */

enum soap_method {
    SOAP_NONE = 0, /* no envelope: an empty HTTP body */
    /* ACS -> CPE requests (Table 5, "CPE methods") */
    SOAP_GetRPCMethods,
    SOAP_SetParameterValues,
    SOAP_GetParameterValues,
    SOAP_GetParameterNames,
    SOAP_SetParameterAttributes,
    SOAP_GetParameterAttributes,
    SOAP_AddObject,
    SOAP_DeleteObject,
    SOAP_Reboot,
    SOAP_Download,
    SOAP_ScheduleDownload,
    SOAP_Upload,
    SOAP_FactoryReset,
    SOAP_GetQueuedTransfers,
    SOAP_GetAllQueuedTransfers,
    SOAP_CancelTransfer,
    SOAP_ScheduleInform,
    SOAP_ChangeDUState,
    SOAP_SetVouchers,
    SOAP_GetOptions,
    /* ACS -> CPE responses to the CPE's requests (Table 5, "ACS methods") */
    SOAP_InformResponse,
    SOAP_GetRPCMethodsResponse,
    SOAP_TransferCompleteResponse,
    SOAP_AutonomousTransferCompleteResponse,
    SOAP_DUStateChangeCompleteResponse,
    SOAP_AutonomousDUStateChangeCompleteResponse,
    SOAP_RequestDownloadResponse,
    SOAP_KickedResponse,
    /* A SOAP fault from the ACS (3.4.7, A.5: 8000-8006) */
    SOAP_Fault,
    /* A request in a cwmp namespace that we do not know: answered with fault 9000 */
    SOAP_Unknown,
};

/* "GetParameterValues" etc; NULL for SOAP_NONE/SOAP_Unknown. */
const char *soap_method_name(enum soap_method m);

struct soap_header {
    char *id;                 /* cwmp:ID, echoed in the response; NULL if absent */
    bool id_must_understand;  /* mustUnderstand="1" on cwmp:ID */
    bool hold_requests;       /* cwmp:HoldRequests (false if absent) */
    bool hold_requests_present;
    char *use_cwmp_version;   /* cwmp:UseCWMPVersion text ("1.4"), NULL if absent */
    unsigned session_timeout; /* cwmp:SessionTimeout seconds, 0 if absent */
    char *supported_cwmp_versions; /* cwmp:SupportedCWMPVersions text, NULL if absent */
    char *unknown_must_understand; /* name of a header with mustUnderstand="1" that we do
                                      not know (SOAP 1.1: answer a MustUnderstand fault) */
};

struct soap_param_value {
    char *name;
    char *value;
    char *type; /* xsi:type as received ("xsd:string"), or NULL */
};

struct soap_set_attribute {
    char *name;
    bool notification_change;
    int notification;
    bool access_list_change;
    char **access_list;
    size_t n_access_list;
};

/* Download, ScheduleDownload (first fields) and Upload arguments (A.3.2.8, A.4.1.5, A.4.1.8) */
struct soap_time_window {
    unsigned window_start; /* seconds from the time of the request */
    unsigned window_end;
    char *window_mode;     /* "1 At Any Time", "2 Immediately", "3 When Idle", "4 Confirmation Needed" */
    char *user_message;
    int max_retries;
};

struct soap_transfer_args {
    char *file_type;
    char *url;
    char *username;
    char *password;
    uint64_t file_size;
    char *target_file_name;
    unsigned delay_seconds;
    char *success_url;
    char *failure_url;
    struct soap_time_window windows[2];
    size_t n_windows;
};

struct soap_msg {
    enum cwmp_version version; /* from the envelope's cwmp namespace */
    struct soap_header header;
    enum soap_method method;
    char *method_name; /* local name of the Body element, as received */

    /* GetParameterValues, GetParameterAttributes (ParameterNames),
     * GetRPCMethodsResponse (MethodList) */
    char **names;
    size_t n_names;

    /* SetParameterValues */
    struct soap_param_value *values;
    size_t n_values;

    /* SetParameterValues, AddObject, DeleteObject */
    char *parameter_key;
    bool has_parameter_key;

    /* GetParameterNames */
    char *parameter_path;
    bool next_level;

    /* SetParameterAttributes */
    struct soap_set_attribute *attributes;
    size_t n_attributes;

    /* AddObject, DeleteObject */
    char *object_name;

    /* Reboot, ScheduleInform, Download, ScheduleDownload, Upload, CancelTransfer */
    char *command_key;

    /* ScheduleInform */
    unsigned delay_seconds;

    /* Download, ScheduleDownload, Upload */
    struct soap_transfer_args transfer;

    /* InformResponse */
    unsigned max_envelopes;

    /* SOAP_Fault: the cwmp:Fault detail (FaultCode 8000-8006, FaultString) */
    int fault_code;
    char *fault_string;
};

/*
 * Parse one message from the ACS. len 0 (or only whitespace) yields method SOAP_NONE.
 * Returns 0, or a CWMP fault code with px_err_msg() saying what was wrong:
 *   9003 the envelope is not well-formed XML, not a SOAP 1.1 envelope, too big/deep/long,
 *        or a known method's arguments are missing or of the wrong form.
 * On a parse error msg->header.id is still filled when it could be read, so the caller can
 * answer with a fault that carries the right ID. Unknown methods parse successfully as
 * SOAP_Unknown with method_name set.
 * When the envelope was sound but a known method's arguments were not, msg->method is already
 * set (answer with a 9003 fault); for XML or envelope errors it stays SOAP_NONE.
 * Call soap_msg_free afterwards whatever soap_parse returned.
 */
int soap_parse(const char *data, size_t len, struct soap_msg *msg);
/* Route libxml2's own error output to the logger (debug) for the calling thread instead of
 * stderr; soap_parse does it for its thread, main calls it after xmlInitParser. */
void soap_route_xml_errors(void);
void soap_msg_free(struct soap_msg *msg);

/* ---- Writing ---- */

/* The envelope of one CPE message. */
struct soap_envelope {
    enum cwmp_version version; /* decides the namespace */
    const char *id;            /* cwmp:ID: for a response the ACS's ID (with mustUnderstand
                                  echoed), for a CPE request our own; NULL = no ID header */
    bool supported_versions;   /* add cwmp:SupportedCWMPVersions (Inform, CWMP >= 1.4) */
    const char *supported_versions_text; /* e.g. "1.0,1.1,1.2,1.3,1.4" */
    unsigned session_timeout;  /* add cwmp:SessionTimeout if > 0 (CWMP >= 1.3 Inform) */
};

struct soap_device_id {
    const char *manufacturer;
    const char *oui;
    const char *product_class;
    const char *serial_number;
};

struct soap_event {
    const char *code;        /* "0 BOOTSTRAP", "M Reboot", ... */
    const char *command_key; /* "" if none */
};

/* A value with its xsd type ("xsd:string", "xsd:unsignedInt", "xsd:dateTime", ...). */
struct soap_value {
    const char *name;
    const char *value;
    const char *type;
};

struct soap_inform {
    struct soap_device_id device_id;
    const struct soap_event *events;
    size_t n_events;
    unsigned max_envelopes; /* always 1 */
    time_t current_time;
    unsigned retry_count;
    const struct soap_value *params;
    size_t n_params;
};

int soap_write_inform(struct buf *out, const struct soap_envelope *env,
                      const struct soap_inform *inform);

/* CPE requests other than Inform. */
struct soap_transfer_complete {
    const char *command_key;
    int fault_code; /* 0 = success */
    const char *fault_string;
    time_t start_time;    /* 0 = unknown (written as 0001-01-01T00:00:00Z) */
    time_t complete_time;
    /* AutonomousTransferComplete only */
    bool autonomous;
    const char *announce_url;
    const char *transfer_url;
    bool is_download;
    const char *file_type;
    uint64_t file_size;
    const char *target_file_name;
};

int soap_write_get_rpc_methods(struct buf *out, const struct soap_envelope *env);
int soap_write_transfer_complete(struct buf *out, const struct soap_envelope *env,
                                 const struct soap_transfer_complete *tc);

/* CPE responses to ACS requests. Only the fields of `method` are read. */
struct soap_name_info {
    const char *name;
    bool writable;
};

struct soap_attribute {
    const char *name;
    int notification;
    const char *const *access_list;
    size_t n_access_list;
};

struct soap_queued_transfer {
    const char *command_key;
    int state; /* 1 not yet started, 2 in progress, 3 completed */
    bool is_download;
    const char *file_type;
    uint64_t file_size;
    const char *target_file_name;
};

struct soap_response {
    enum soap_method method; /* the request this answers (SOAP_GetParameterValues, ...) */

    /* GetRPCMethods */
    const char *const *methods;
    size_t n_methods;

    /* GetParameterValues */
    const struct soap_value *values;
    size_t n_values;

    /* GetParameterNames */
    const struct soap_name_info *names;
    size_t n_names;

    /* GetParameterAttributes */
    const struct soap_attribute *attributes;
    size_t n_attributes;

    /* SetParameterValues, AddObject, DeleteObject, Download, Upload, ScheduleDownload */
    int status;
    /* AddObject */
    unsigned instance_number;
    /* Download, Upload */
    time_t start_time;
    time_t complete_time;

    /* GetQueuedTransfers, GetAllQueuedTransfers */
    const struct soap_queued_transfer *transfers;
    size_t n_transfers;
};

int soap_write_response(struct buf *out, const struct soap_envelope *env,
                        const struct soap_response *resp);

/* A CPE fault (A.5.1): SOAP Fault "Client" for 9003/9005-9009 etc, "Server" for 9002... with
 * a cwmp:Fault detail. For SetParameterValues, the per-parameter faults are listed. */
struct soap_spv_fault {
    const char *name;
    int code;
    const char *string;
};

struct soap_fault {
    int code;
    const char *string;
    const struct soap_spv_fault *spv_faults;
    size_t n_spv_faults;
    /* NULL: faultcode "Client" or "Server" by code (A.5.1); else a SOAP 1.1 4.4.1 fault
     * code written qualified, e.g. "MustUnderstand" -> soap-env:MustUnderstand (4.2.3). */
    const char *soap_faultcode;
};

int soap_write_fault(struct buf *out, const struct soap_envelope *env,
                     const struct soap_fault *fault);

/* "2026-11-22T05:01:54Z"; t == 0 gives "0001-01-01T00:00:00Z" (the Unknown Time of TR-106). */
void soap_format_time(time_t t, char out[32]);
/* Local time with its offset from UTC, "2026-11-22T06:01:54+01:00" (the Inform's
 * CurrentTime, A.3.3.1); t == 0 gives the Unknown Time. */
void soap_format_local_time(time_t t, char out[32]);

#endif
