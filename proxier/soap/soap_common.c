/*
 * soap_common.c: the small tables shared by the SOAP parser and writer: CWMP protocol
 * versions and their namespaces (TR-069 3.7.1.1 Table 6, A.6 Table 89), RPC method names
 * (Table 5) and the dateTime format of A.2.1 Table 12.
 */
#include "proxier/soap/soap.h"

#include <stdio.h>
#include <string.h>

static const char *const version_strings[] = {
    [CWMP_V1_0] = "1.0", [CWMP_V1_1] = "1.1", [CWMP_V1_2] = "1.2",
    [CWMP_V1_3] = "1.3", [CWMP_V1_4] = "1.4",
};

/* TR-069 A.6 Table 89: 1.3 and 1.4 keep the cwmp-1-2 namespace. */
static const char *const version_namespaces[] = {
    [CWMP_V1_0] = "urn:dslforum-org:cwmp-1-0", [CWMP_V1_1] = "urn:dslforum-org:cwmp-1-1",
    [CWMP_V1_2] = "urn:dslforum-org:cwmp-1-2", [CWMP_V1_3] = "urn:dslforum-org:cwmp-1-2",
    [CWMP_V1_4] = "urn:dslforum-org:cwmp-1-2",
};

#define N_VERSIONS (sizeof(version_strings) / sizeof(version_strings[0]))

const char *soap_version_string(enum cwmp_version v)
{
    return (unsigned)v < N_VERSIONS ? version_strings[v] : "1.0";
}

const char *soap_namespace(enum cwmp_version v)
{
    return (unsigned)v < N_VERSIONS ? version_namespaces[v] : version_namespaces[CWMP_V1_0];
}

int soap_version_parse(const char *s, enum cwmp_version *out)
{
    if (!s)
        return -1;
    for (size_t v = 0; v < N_VERSIONS; v++) {
        if (strcmp(s, version_strings[v]) == 0) {
            *out = (enum cwmp_version)v;
            return 0;
        }
    }
    return -1;
}

static const char *const method_names[] = {
    [SOAP_GetRPCMethods] = "GetRPCMethods",
    [SOAP_SetParameterValues] = "SetParameterValues",
    [SOAP_GetParameterValues] = "GetParameterValues",
    [SOAP_GetParameterNames] = "GetParameterNames",
    [SOAP_SetParameterAttributes] = "SetParameterAttributes",
    [SOAP_GetParameterAttributes] = "GetParameterAttributes",
    [SOAP_AddObject] = "AddObject",
    [SOAP_DeleteObject] = "DeleteObject",
    [SOAP_Reboot] = "Reboot",
    [SOAP_Download] = "Download",
    [SOAP_ScheduleDownload] = "ScheduleDownload",
    [SOAP_Upload] = "Upload",
    [SOAP_FactoryReset] = "FactoryReset",
    [SOAP_GetQueuedTransfers] = "GetQueuedTransfers",
    [SOAP_GetAllQueuedTransfers] = "GetAllQueuedTransfers",
    [SOAP_CancelTransfer] = "CancelTransfer",
    [SOAP_ScheduleInform] = "ScheduleInform",
    [SOAP_ChangeDUState] = "ChangeDUState",
    [SOAP_SetVouchers] = "SetVouchers",
    [SOAP_GetOptions] = "GetOptions",
    [SOAP_InformResponse] = "InformResponse",
    [SOAP_GetRPCMethodsResponse] = "GetRPCMethodsResponse",
    [SOAP_TransferCompleteResponse] = "TransferCompleteResponse",
    [SOAP_AutonomousTransferCompleteResponse] = "AutonomousTransferCompleteResponse",
    [SOAP_DUStateChangeCompleteResponse] = "DUStateChangeCompleteResponse",
    [SOAP_AutonomousDUStateChangeCompleteResponse] = "AutonomousDUStateChangeCompleteResponse",
    [SOAP_RequestDownloadResponse] = "RequestDownloadResponse",
    [SOAP_KickedResponse] = "KickedResponse",
    [SOAP_Fault] = "Fault",
};

const char *soap_method_name(enum soap_method m)
{
    if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
        return NULL;
    return method_names[m];
}

void soap_format_time(time_t t, char out[32])
{
    struct tm tm;
    /* TR-069 A.2.1: "Unknown Time" is 0001-01-01T00:00:00Z. */
    if (t == 0 || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1) {
        snprintf(out, 32, "0001-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void soap_format_local_time(time_t t, char out[32])
{
    struct tm tm;
    if (t == 0 || !localtime_r(&t, &tm) || tm.tm_year + 1900 > 9999) {
        soap_format_time(0, out);
        return;
    }
    /* TR-106 dateTime with the offset as "+hh:mm" (strftime's %z has no colon). */
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, "%c%02ld:%02ld", sign, off / 3600, (off % 3600) / 60);
}
