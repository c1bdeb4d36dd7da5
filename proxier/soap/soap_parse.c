/*
 * soap_parse.c: reading one SOAP 1.1 envelope from the ACS into a struct soap_msg
 * (TR-069 3.5 "Use of SOAP", Annex A.3/A.4 arguments, A.5 faults).
 *
 * Safety first: the bytes come from the network. libxml2 runs without network access,
 * without entity substitution and without DTD loading; a DOCTYPE is refused the moment the
 * parser sees it (SOAP 1.1 section 3 forbids DTDs), so an entity bomb or an external entity
 * costs nothing. Size, element depth and array length are bounded (SOAP_MAX_*).
 *
 * Leniency where real ACSs are sloppy but unambiguous (interop/acs-behaviour.md): any prefix
 * (we match namespace URIs), argument elements matched by local name whatever their
 * namespace, namespace errors such as perl-cwmp's undeclared attribute prefixes are not
 * fatal, arrays need no soap-enc:arrayType, unknown argument elements are ignored.
 *
 * The arguments of each method are described by a table (struct arg_spec) read by one
 * generic walker, the way icwmp describes its RPCs.
 */
#include "proxier/soap/soap.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"

#define NS_SOAP_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* ---------------- Argument tables ---------------- */

enum arg_kind {
    ARG_NAME,      /* string, surrounding whitespace trimmed (paths, URLs, file types) */
    ARG_TEXT,      /* string exactly as received (values, keys, passwords) */
    ARG_VALUE,     /* ARG_TEXT plus its xsi:type into aux */
    ARG_UINT,      /* unsigned */
    ARG_U64,       /* uint64_t */
    ARG_INT,       /* int */
    ARG_BOOL,      /* bool: "true", "false", "1", "0" (A.2.1 Table 12) */
    ARG_STRINGS,   /* array of <string>: char ** at offset, size_t count at aux */
    ARG_STRUCTS,   /* array of structs: pointer at offset, size_t count at aux */
    ARG_INLINE,    /* array of structs stored in place at offset (at most sub->max), count at aux */
};

struct struct_spec;

struct arg_spec {
    const char *name;
    enum arg_kind kind;
    bool required;
    size_t offset;
    size_t aux;
    const struct struct_spec *sub;
};

struct struct_spec {
    size_t size;
    size_t max; /* ARG_INLINE only: capacity of the in-place array */
    const struct arg_spec *fields;
};

#define MSG(f) offsetof(struct soap_msg, f)
#define END {NULL, ARG_NAME, false, 0, 0, NULL}

static const struct arg_spec param_value_fields[] = {
    {"Name", ARG_NAME, true, offsetof(struct soap_param_value, name), 0, NULL},
    {"Value", ARG_VALUE, true, offsetof(struct soap_param_value, value),
     offsetof(struct soap_param_value, type), NULL},
    END,
};
static const struct struct_spec param_value_struct = {sizeof(struct soap_param_value), 0,
                                                      param_value_fields};

static const struct arg_spec set_attribute_fields[] = {
    {"Name", ARG_NAME, true, offsetof(struct soap_set_attribute, name), 0, NULL},
    {"NotificationChange", ARG_BOOL, true,
     offsetof(struct soap_set_attribute, notification_change), 0, NULL},
    {"Notification", ARG_INT, true, offsetof(struct soap_set_attribute, notification), 0, NULL},
    {"AccessListChange", ARG_BOOL, true, offsetof(struct soap_set_attribute, access_list_change),
     0, NULL},
    {"AccessList", ARG_STRINGS, false, offsetof(struct soap_set_attribute, access_list),
     offsetof(struct soap_set_attribute, n_access_list), NULL},
    END,
};
static const struct struct_spec set_attribute_struct = {sizeof(struct soap_set_attribute), 0,
                                                        set_attribute_fields};

static const struct arg_spec time_window_fields[] = {
    {"WindowStart", ARG_UINT, true, offsetof(struct soap_time_window, window_start), 0, NULL},
    {"WindowEnd", ARG_UINT, true, offsetof(struct soap_time_window, window_end), 0, NULL},
    {"WindowMode", ARG_NAME, true, offsetof(struct soap_time_window, window_mode), 0, NULL},
    {"UserMessage", ARG_TEXT, false, offsetof(struct soap_time_window, user_message), 0, NULL},
    {"MaxRetries", ARG_INT, false, offsetof(struct soap_time_window, max_retries), 0, NULL},
    END,
};
/* TR-069 A.4.1.8: TimeWindowList holds one or two TimeWindowStruct. */
static const struct struct_spec time_window_struct = {sizeof(struct soap_time_window), 2,
                                                      time_window_fields};

/* ParameterKey is required by the schema but some ACSs omit it on AddObject/DeleteObject;
 * has_parameter_key tells the caller. */
#define ARG_PARAMETER_KEY {"ParameterKey", ARG_TEXT, false, MSG(parameter_key), 0, NULL}
#define ARG_COMMAND_KEY(req) {"CommandKey", ARG_TEXT, req, MSG(command_key), 0, NULL}
#define ARG_PARAMETER_NAMES {"ParameterNames", ARG_STRINGS, true, MSG(names), MSG(n_names), NULL}
#define ARG_T(name, kind, req, field) {name, kind, req, MSG(transfer.field), 0, NULL}
#define ARG_TRANSFER_COMMON                                                                    \
    ARG_COMMAND_KEY(false), ARG_T("FileType", ARG_NAME, true, file_type),                      \
        ARG_T("URL", ARG_NAME, true, url), ARG_T("Username", ARG_TEXT, false, username),       \
        ARG_T("Password", ARG_TEXT, false, password)

static const struct arg_spec no_args[] = {END};
static const struct arg_spec spv_args[] = {
    {"ParameterList", ARG_STRUCTS, true, MSG(values), MSG(n_values), &param_value_struct},
    ARG_PARAMETER_KEY, END,
};
static const struct arg_spec names_args[] = {ARG_PARAMETER_NAMES, END};
static const struct arg_spec gpn_args[] = {
    {"ParameterPath", ARG_NAME, true, MSG(parameter_path), 0, NULL},
    {"NextLevel", ARG_BOOL, true, MSG(next_level), 0, NULL},
    END,
};
static const struct arg_spec spa_args[] = {
    {"ParameterList", ARG_STRUCTS, true, MSG(attributes), MSG(n_attributes),
     &set_attribute_struct},
    END,
};
static const struct arg_spec object_args[] = {
    {"ObjectName", ARG_NAME, true, MSG(object_name), 0, NULL}, ARG_PARAMETER_KEY, END,
};
static const struct arg_spec reboot_args[] = {ARG_COMMAND_KEY(false), END};
static const struct arg_spec cancel_args[] = {ARG_COMMAND_KEY(true), END};
static const struct arg_spec download_args[] = {
    ARG_TRANSFER_COMMON,
    ARG_T("FileSize", ARG_U64, false, file_size),
    ARG_T("TargetFileName", ARG_TEXT, false, target_file_name),
    ARG_T("DelaySeconds", ARG_UINT, false, delay_seconds),
    ARG_T("SuccessURL", ARG_NAME, false, success_url),
    ARG_T("FailureURL", ARG_NAME, false, failure_url),
    END,
};
static const struct arg_spec schedule_download_args[] = {
    ARG_TRANSFER_COMMON,
    ARG_T("FileSize", ARG_U64, false, file_size),
    ARG_T("TargetFileName", ARG_TEXT, false, target_file_name),
    {"TimeWindowList", ARG_INLINE, true, MSG(transfer.windows), MSG(transfer.n_windows),
     &time_window_struct},
    END,
};
static const struct arg_spec upload_args[] = {
    ARG_TRANSFER_COMMON, ARG_T("DelaySeconds", ARG_UINT, false, delay_seconds), END,
};
static const struct arg_spec schedule_inform_args[] = {
    {"DelaySeconds", ARG_UINT, true, MSG(delay_seconds), 0, NULL}, ARG_COMMAND_KEY(false), END,
};
static const struct arg_spec inform_response_args[] = {
    {"MaxEnvelopes", ARG_UINT, false, MSG(max_envelopes), 0, NULL}, END,
};
static const struct arg_spec rpc_methods_response_args[] = {
    {"MethodList", ARG_STRINGS, true, MSG(names), MSG(n_names), NULL}, END,
};
static const struct arg_spec cwmp_fault_args[] = {
    {"FaultCode", ARG_INT, true, MSG(fault_code), 0, NULL},
    {"FaultString", ARG_TEXT, false, MSG(fault_string), 0, NULL},
    END,
};

/* The arguments we read for each method we know; NULL = not a method we receive.
 * ChangeDUState, SetVouchers and GetOptions are recognised but answered with 9000, so
 * their arguments are not read. */
static const struct arg_spec *const method_args[] = {
    [SOAP_GetRPCMethods] = no_args,
    [SOAP_SetParameterValues] = spv_args,
    [SOAP_GetParameterValues] = names_args,
    [SOAP_GetParameterNames] = gpn_args,
    [SOAP_SetParameterAttributes] = spa_args,
    [SOAP_GetParameterAttributes] = names_args,
    [SOAP_AddObject] = object_args,
    [SOAP_DeleteObject] = object_args,
    [SOAP_Reboot] = reboot_args,
    [SOAP_Download] = download_args,
    [SOAP_ScheduleDownload] = schedule_download_args,
    [SOAP_Upload] = upload_args,
    [SOAP_FactoryReset] = no_args,
    [SOAP_GetQueuedTransfers] = no_args,
    [SOAP_GetAllQueuedTransfers] = no_args,
    [SOAP_CancelTransfer] = cancel_args,
    [SOAP_ScheduleInform] = schedule_inform_args,
    [SOAP_ChangeDUState] = no_args,
    [SOAP_SetVouchers] = no_args,
    [SOAP_GetOptions] = no_args,
    [SOAP_InformResponse] = inform_response_args,
    [SOAP_GetRPCMethodsResponse] = rpc_methods_response_args,
    [SOAP_TransferCompleteResponse] = no_args,
    [SOAP_AutonomousTransferCompleteResponse] = no_args,
    [SOAP_DUStateChangeCompleteResponse] = no_args,
    [SOAP_AutonomousDUStateChangeCompleteResponse] = no_args,
    [SOAP_RequestDownloadResponse] = no_args,
    [SOAP_KickedResponse] = no_args,
};

#define N_METHOD_ARGS (sizeof(method_args) / sizeof(method_args[0]))

/* ---------------- Tree helpers ---------------- */

static bool node_is(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

static bool node_in_ns(const xmlNode *n, const char *uri)
{
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, uri) == 0;
}

/* The CWMP version of a cwmp namespace URI, or -1 (TR-069 A.6 Table 89). */
static int cwmp_ns_version(const xmlNode *n)
{
    if (!n->ns || !n->ns->href)
        return -1;
    for (int v = CWMP_V1_0; v <= CWMP_V1_2; v++) {
        if (strcmp((const char *)n->ns->href, soap_namespace((enum cwmp_version)v)) == 0)
            return v;
    }
    return -1;
}

static xmlNode *first_element(xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE)
            return n;
    }
    return NULL;
}

static xmlNode *next_element(xmlNode *n)
{
    return first_element(n->next);
}

/* Arguments are unqualified (3.5) but some ACSs qualify them: match the local name only. */
static xmlNode *find_child(xmlNode *parent, const char *local)
{
    for (xmlNode *c = first_element(parent->children); c; c = next_element(c)) {
        if (node_is(c, local))
            return c;
    }
    return NULL;
}

/* An attribute by local name in namespace uri. An undeclared prefix (perl-cwmp's
 * soap:mustUnderstand) leaves libxml2 with an unqualified attribute named "soap:..." (a
 * namespace error, not fatal): accept any such prefix, and no prefix at all. */
static bool attr_matches(const xmlAttr *a, const char *local, const char *uri)
{
    const char *name = (const char *)a->name;
    if (a->ns)
        return a->ns->href && strcmp((const char *)a->ns->href, uri) == 0 &&
               strcmp(name, local) == 0;
    const char *colon = strrchr(name, ':');
    return strcmp(colon ? colon + 1 : name, local) == 0;
}

static xmlChar *attr_get(xmlNode *n, const char *local, const char *uri)
{
    for (xmlAttr *a = n->properties; a; a = a->next) {
        if (attr_matches(a, local, uri))
            return xmlNodeListGetString(n->doc, a->children, 1);
    }
    return NULL;
}

static bool must_understand(xmlNode *n)
{
    xmlChar *v = attr_get(n, "mustUnderstand", NS_SOAP_ENV);
    bool yes = v && (strcmp((const char *)v, "1") == 0 || strcmp((const char *)v, "true") == 0);
    xmlFree(v);
    return yes;
}

static char *node_text(xmlNode *n, bool trim)
{
    xmlChar *content = xmlNodeGetContent(n);
    const char *s = content ? (const char *)content : "";
    size_t len = strlen(s);
    if (trim) {
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        while (len && isspace((unsigned char)*s)) {
            s++;
            len--;
        }
    }
    char *out = strndup(s, len);
    xmlFree(content);
    return out;
}

/* ---------------- Scalar conversions (A.2.1 Table 12) ---------------- */

static int parse_bool(const char *s, bool *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, int *out)
{
    const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;
    if (!isdigit((unsigned char)*digits))
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

/* Convert the trimmed text of a scalar argument into its field. */
static int store_number(const struct arg_spec *a, const char *s, void *field)
{
    uint64_t u;
    switch (a->kind) {
    case ARG_UINT:
        if (parse_u64(s, UINT_MAX, &u) < 0)
            return -1;
        *(unsigned *)field = (unsigned)u;
        return 0;
    case ARG_U64:
        return parse_u64(s, UINT64_MAX, (uint64_t *)field);
    case ARG_INT:
        return parse_int(s, (int *)field);
    case ARG_BOOL:
        return parse_bool(s, (bool *)field);
    default:
        return -1;
    }
}

/* ---------------- The generic argument walker ---------------- */

static int parse_args(xmlNode *parent, const struct arg_spec *specs, void *base,
                      const char *where);

static int count_items(xmlNode *list, size_t max, const char *where, size_t *out)
{
    size_t n = 0;
    for (xmlNode *c = first_element(list->children); c; c = next_element(c)) {
        if (++n > max)
            return px_err_set(PX_ERR_INVALID_ARGUMENTS, "%s: more than %zu array items",
                              where, max);
    }
    *out = n;
    return 0;
}

static int parse_strings(xmlNode *list, char ***out, size_t *n_out, const char *where)
{
    size_t n = 0;
    int rc = count_items(list, SOAP_MAX_ITEMS, where, &n);
    if (rc)
        return rc;
    char **items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "%s: out of memory", where);
    *out = items;
    for (xmlNode *c = first_element(list->children); c; c = next_element(c)) {
        if (!(items[*n_out] = node_text(c, true)))
            return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "%s: out of memory", where);
        (*n_out)++;
    }
    return 0;
}

/* Parse the struct items of list into items (already sized for them), counting in *n_out so
 * that whatever was filled can be freed on error. */
static int parse_struct_items(xmlNode *list, const struct struct_spec *ss, char *items,
                              size_t *n_out, const char *where)
{
    for (xmlNode *c = first_element(list->children); c; c = next_element(c)) {
        int rc = parse_args(c, ss->fields, items + *n_out * ss->size, where);
        (*n_out)++;
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_structs(xmlNode *list, const struct arg_spec *a, char *base, const char *where)
{
    size_t n = 0, *count = (size_t *)(base + a->aux);
    bool inline_storage = a->kind == ARG_INLINE;
    int rc = count_items(list, inline_storage ? a->sub->max : SOAP_MAX_ITEMS, where, &n);
    if (rc)
        return rc;
    if (inline_storage && n == 0)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "%s: empty", where);
    char *items = base + a->offset;
    if (!inline_storage) {
        items = calloc(n ? n : 1, a->sub->size);
        if (!items)
            return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "%s: out of memory", where);
        *(void **)(base + a->offset) = items;
    }
    return parse_struct_items(list, a->sub, items, count, where);
}

static int parse_value_type(xmlNode *n, const struct arg_spec *a, char *base)
{
    xmlChar *type = attr_get(n, "type", NS_XSI);
    if (!type)
        return 0;
    char **field = (char **)(base + a->aux);
    *field = strdup((const char *)type);
    xmlFree(type);
    return *field ? 0 : -1;
}

static int parse_arg(xmlNode *n, const struct arg_spec *a, char *base, const char *where)
{
    char *field = base + a->offset;
    switch (a->kind) {
    case ARG_STRINGS:
        return parse_strings(n, (char ***)field, (size_t *)(base + a->aux), where);
    case ARG_STRUCTS:
    case ARG_INLINE:
        return parse_structs(n, a, base, where);
    case ARG_NAME:
    case ARG_TEXT:
    case ARG_VALUE:
        *(char **)field = node_text(n, a->kind == ARG_NAME);
        if (!*(char **)field || (a->kind == ARG_VALUE && parse_value_type(n, a, base) < 0))
            return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "%s: out of memory", where);
        return 0;
    default:
        break;
    }
    char *text = node_text(n, true);
    int rc = text ? store_number(a, text, field) : -1;
    if (rc < 0)
        rc = px_err_set(PX_ERR_INVALID_ARGUMENTS, "%s: %s \"%.64s\" is not a valid %s", where,
                        a->name, text ? text : "", a->kind == ARG_BOOL ? "boolean" : "number");
    free(text);
    return rc;
}

static int parse_args(xmlNode *parent, const struct arg_spec *specs, void *base,
                      const char *where)
{
    for (const struct arg_spec *a = specs; a->name; a++) {
        xmlNode *n = find_child(parent, a->name);
        if (!n) {
            if (a->required)
                return px_err_set(PX_ERR_INVALID_ARGUMENTS, "%s: missing argument %s", where,
                                  a->name);
            continue;
        }
        int rc = parse_arg(n, a, base, where);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------- Header (TR-069 3.5, Table 7 "SOAP Header elements") ---------------- */

/* SOAP 1.1 4.2.3: a header we do not understand with mustUnderstand="1" must fail the
 * request; remember the first one for the caller. */
static void note_unknown_header(struct soap_header *hd, xmlNode *h)
{
    if (must_understand(h) && !hd->unknown_must_understand)
        hd->unknown_must_understand = strdup((const char *)h->name);
}

/* The header elements of TR-069 3.5 Table 4. Each has one value per message: an envelope
 * that carries one twice (two cwmp:ID, which would the response echo?) is malformed. */
static const char *const table4_headers[] = {"ID", "HoldRequests", "SessionTimeout",
                                             "SupportedCWMPVersions", "UseCWMPVersion"};

/* 0, or 9003 if h is a Table 4 header already seen (bit i of *seen: table4_headers[i]). */
static int header_once(xmlNode *h, unsigned *seen)
{
    for (unsigned i = 0; i < sizeof(table4_headers) / sizeof(table4_headers[0]); i++) {
        if (!node_is(h, table4_headers[i]))
            continue;
        if (*seen & (1u << i))
            return px_err_set(PX_ERR_INVALID_ARGUMENTS, "header %s appears more than once "
                              "(TR-069 3.5 Table 4)", table4_headers[i]);
        *seen |= 1u << i;
    }
    return 0;
}

static int header_known(struct soap_msg *msg, xmlNode *h)
{
    struct soap_header *hd = &msg->header;
    char *text = node_text(h, !node_is(h, "ID")); /* the ID is echoed byte for byte */
    if (!text)
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "header: out of memory");
    int rc = 0;
    uint64_t timeout;
    /* header_once has made sure that each of these comes once. */
    if (node_is(h, "ID")) {
        hd->id_must_understand = must_understand(h);
        hd->id = text;
        return 0;
    }
    if (node_is(h, "UseCWMPVersion")) {
        hd->use_cwmp_version = text;
        return 0;
    }
    if (node_is(h, "SupportedCWMPVersions")) {
        hd->supported_cwmp_versions = text;
        return 0;
    }
    if (node_is(h, "HoldRequests")) {
        hd->hold_requests_present = true;
        if (parse_bool(text, &hd->hold_requests) < 0)
            rc = px_err_set(PX_ERR_INVALID_ARGUMENTS,
                            "header HoldRequests \"%.32s\" is not a boolean", text);
    } else if (node_is(h, "SessionTimeout")) {
        if (parse_u64(text, UINT_MAX, &timeout) < 0)
            rc = px_err_set(PX_ERR_INVALID_ARGUMENTS,
                            "header SessionTimeout \"%.32s\" is not an unsignedInt", text);
        else
            hd->session_timeout = (unsigned)timeout;
    } else {
        note_unknown_header(hd, h);
    }
    free(text);
    return rc;
}

static int parse_header(struct soap_msg *msg, xmlNode *header, int *ns_version)
{
    int first_error = 0;
    unsigned seen = 0;
    for (xmlNode *h = first_element(header->children); h; h = next_element(h)) {
        int v = cwmp_ns_version(h);
        if (v < 0) {
            note_unknown_header(&msg->header, h);
            continue;
        }
        if (*ns_version < 0)
            *ns_version = v;
        /* Keep reading after an error so that the ID is known for the fault. */
        int rc = header_once(h, &seen);
        if (!rc)
            rc = header_known(msg, h);
        if (rc && !first_error)
            first_error = rc;
    }
    return first_error;
}

/* ---------------- Body ---------------- */

static int parse_fault(struct soap_msg *msg, xmlNode *fault, int *ns_version)
{
    msg->method = SOAP_Fault;
    xmlNode *detail = find_child(fault, "detail");
    xmlNode *cwmp_fault = detail ? find_child(detail, "Fault") : NULL;
    if (cwmp_fault) {
        int v = cwmp_ns_version(cwmp_fault);
        if (v >= 0 && *ns_version < 0)
            *ns_version = v;
        return parse_args(cwmp_fault, cwmp_fault_args, msg, "Fault");
    }
    /* A plain SOAP fault without the CWMP detail: keep its faultstring. */
    xmlNode *fs = find_child(fault, "faultstring");
    if (fs && !(msg->fault_string = node_text(fs, true)))
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "Fault: out of memory");
    return 0;
}

static enum soap_method method_by_name(const char *name)
{
    for (size_t m = 1; m < N_METHOD_ARGS; m++) {
        if (method_args[m] && strcmp(soap_method_name((enum soap_method)m), name) == 0)
            return (enum soap_method)m;
    }
    return SOAP_Unknown;
}

static int parse_body(struct soap_msg *msg, xmlNode *body, int *ns_version)
{
    xmlNode *call = first_element(body->children);
    if (!call)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "SOAP Body holds no method element");
    if (next_element(call))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "SOAP Body holds more than one element");
    if (!(msg->method_name = strdup((const char *)call->name)))
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "out of memory");
    if (node_in_ns(call, NS_SOAP_ENV) && node_is(call, "Fault"))
        return parse_fault(msg, call, ns_version);
    int v = cwmp_ns_version(call);
    if (v < 0)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "Body element %s is not in a CWMP "
                          "namespace (%s)", call->name,
                          call->ns && call->ns->href ? (const char *)call->ns->href : "none");
    *ns_version = v;
    msg->method = method_by_name(msg->method_name);
    if (msg->method == SOAP_Unknown)
        return 0;
    int rc = parse_args(call, method_args[msg->method], msg, msg->method_name);
    msg->has_parameter_key = msg->parameter_key != NULL;
    return rc;
}

static int parse_envelope(struct soap_msg *msg, xmlDoc *doc)
{
    xmlNode *env = xmlDocGetRootElement(doc);
    if (!env || !node_is(env, "Envelope") || !node_in_ns(env, NS_SOAP_ENV))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "not a SOAP 1.1 envelope (root %s%s%s)",
                          env ? (const char *)env->name : "missing",
                          env && env->ns ? " in " : "",
                          env && env->ns ? (const char *)env->ns->href : "");
    xmlNode *header = NULL, *body = NULL;
    for (xmlNode *c = first_element(env->children); c; c = next_element(c)) {
        if (!node_in_ns(c, NS_SOAP_ENV))
            continue;
        if (node_is(c, "Header") && !header)
            header = c;
        else if (node_is(c, "Body") && body)
            return px_err_set(PX_ERR_INVALID_ARGUMENTS, "more than one SOAP Body (TR-069 3.5)");
        else if (node_is(c, "Body"))
            body = c;
    }
    int ns_version = -1;
    int rc = header ? parse_header(msg, header, &ns_version) : 0;
    if (!rc)
        rc = body ? parse_body(msg, body, &ns_version)
                  : px_err_set(PX_ERR_INVALID_ARGUMENTS, "SOAP envelope without Body");
    msg->version = ns_version < 0 ? CWMP_V1_0 : (enum cwmp_version)ns_version;
    return rc;
}

/* ---------------- libxml2 with guards ---------------- */

struct parse_guard {
    unsigned depth;
    bool too_deep;
    bool doctype;
    int ns_errors;
    char error[200]; /* the first fatal error */
};

static struct parse_guard *guard_of(void *ctx)
{
    return ((xmlParserCtxt *)ctx)->_private;
}

/* A DOCTYPE is the door to entity bombs and external entities: stop right here. */
static void guard_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                          const xmlChar *system_id)
{
    guard_of(ctx)->doctype = true;
    xmlStopParser(ctx);
}

static void guard_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    struct parse_guard *g = guard_of(ctx);
    if (++g->depth > SOAP_MAX_DEPTH) {
        g->too_deep = true;
        xmlStopParser(ctx);
        return;
    }
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
                          nb_attributes, nb_defaulted, attributes);
}

static void guard_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                      const xmlChar *uri)
{
    guard_of(ctx)->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void guard_error(void *ctx, xmlError *e)
{
    struct parse_guard *g = guard_of(ctx);
    if (e->domain == XML_FROM_NAMESPACE) {
        g->ns_errors++;
        return;
    }
    if (e->level < XML_ERR_ERROR || g->error[0] || !e->message)
        return;
    snprintf(g->error, sizeof(g->error), "line %d: %s", e->line, e->message);
    size_t n = strlen(g->error);
    while (n && g->error[n - 1] == '\n')
        g->error[--n] = '\0';
}

/* libxml2 reports some errors (badly encoded input: "encoding error : input conversion
 * failed", "I/O error : encoder error") through its global handlers, not the context's
 * serror and despite XML_PARSE_NOERROR; their default writes to stderr behind the logger.
 * Both handlers are per thread in libxml2, so each parsing thread routes them once. */
static void xml_generic_error(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void xml_generic_error(void *ctx, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (n)
        LOG_DEBUG("soap", "libxml2: %s", text);
}

static void xml_structured_error(void *ctx, xmlError *e)
{
    if (e && e->message)
        xml_generic_error(ctx, "%s", e->message);
}

void soap_route_xml_errors(void)
{
    static _Thread_local bool routed;
    if (routed)
        return;
    xmlSetGenericErrorFunc(NULL, xml_generic_error);
    xmlSetStructuredErrorFunc(NULL, xml_structured_error);
    routed = true;
}

static int xml_read(const char *data, size_t len, xmlDoc **out)
{
    soap_route_xml_errors();
    struct parse_guard g = {0};
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return px_err_set(PX_ERR_RESOURCES_EXCEEDED, "out of memory for the XML parser");
    ctxt->_private = &g;
    ctxt->sax->internalSubset = guard_doctype;
    ctxt->sax->startElementNs = guard_start;
    ctxt->sax->endElementNs = guard_end;
    ctxt->sax->serror = guard_error;
    /* No XML_PARSE_NOENT (no entity substitution), no DTDLOAD, no HUGE: libxml2's own
     * limits stay on too. */
    int options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, options);
    int rc = 0;
    if (g.doctype)
        rc = px_err_set(PX_ERR_INVALID_ARGUMENTS, "a SOAP message must not contain a DOCTYPE");
    else if (g.too_deep)
        rc = px_err_set(PX_ERR_INVALID_ARGUMENTS, "XML nested deeper than %u elements",
                        SOAP_MAX_DEPTH);
    else if (!doc || !ctxt->wellFormed)
        rc = px_err_set(PX_ERR_INVALID_ARGUMENTS, "not well-formed XML: %s",
                        g.error[0] ? g.error : "parse failed");
    else if (g.ns_errors)
        LOG_DEBUG("soap", "%d XML namespace errors ignored", g.ns_errors);
    xmlFreeParserCtxt(ctxt);
    if (rc) {
        xmlFreeDoc(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

static bool only_whitespace(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)data[i]))
            return false;
    }
    return true;
}

int soap_parse(const char *data, size_t len, struct soap_msg *msg)
{
    memset(msg, 0, sizeof(*msg));
    if (only_whitespace(data, len))
        return 0; /* SOAP_NONE: an empty HTTP body (TR-069 3.7.2.4) */
    if (len > SOAP_MAX_ENVELOPE)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "envelope of %zu bytes exceeds the "
                          "limit of %u bytes", len, SOAP_MAX_ENVELOPE);
    xmlDoc *doc = NULL;
    int rc = xml_read(data, len, &doc);
    if (rc)
        return rc;
    rc = parse_envelope(msg, doc);
    xmlFreeDoc(doc);
    if (rc)
        LOG_DEBUG("soap", "rejected %s: %s", msg->method_name ? msg->method_name : "message",
                  px_err_msg());
    return rc;
}

/* ---------------- Freeing ---------------- */

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_transfer(struct soap_transfer_args *t)
{
    free(t->file_type);
    free(t->url);
    free(t->username);
    free(t->password);
    free(t->target_file_name);
    free(t->success_url);
    free(t->failure_url);
    for (size_t i = 0; i < t->n_windows; i++) {
        free(t->windows[i].window_mode);
        free(t->windows[i].user_message);
    }
}

void soap_msg_free(struct soap_msg *msg)
{
    struct soap_header *h = &msg->header;
    free(h->id);
    free(h->use_cwmp_version);
    free(h->supported_cwmp_versions);
    free(h->unknown_must_understand);
    free(msg->method_name);
    free_strings(msg->names, msg->n_names);
    for (size_t i = 0; i < msg->n_values; i++) {
        free(msg->values[i].name);
        free(msg->values[i].value);
        free(msg->values[i].type);
    }
    free(msg->values);
    for (size_t i = 0; i < msg->n_attributes; i++) {
        free(msg->attributes[i].name);
        free_strings(msg->attributes[i].access_list, msg->attributes[i].n_access_list);
    }
    free(msg->attributes);
    free(msg->parameter_key);
    free(msg->parameter_path);
    free(msg->object_name);
    free(msg->command_key);
    free_transfer(&msg->transfer);
    free(msg->fault_string);
    memset(msg, 0, sizeof(*msg));
}
