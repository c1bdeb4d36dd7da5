/*
 * err.c: the per-thread error message and the fault strings of TR-069 Table A.5.
 */
#include "proxier/common/err.h"

#include <stdio.h>

static _Thread_local char err_message[512];

int px_err_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_message, sizeof(err_message), fmt, ap);
    va_end(ap);
    return code;
}

const char *px_err_msg(void)
{
    return err_message;
}

void px_err_clear(void)
{
    err_message[0] = '\0';
}

const char *px_err_default_string(int code)
{
    switch (code) {
    case PX_ERR_METHOD_NOT_SUPPORTED: return "Method not supported";
    case PX_ERR_REQUEST_DENIED: return "Request denied";
    case PX_ERR_INTERNAL: return "Internal error";
    case PX_ERR_INVALID_ARGUMENTS: return "Invalid arguments";
    case PX_ERR_RESOURCES_EXCEEDED: return "Resources exceeded";
    case PX_ERR_INVALID_PARAMETER_NAME: return "Invalid parameter name";
    case PX_ERR_INVALID_PARAMETER_TYPE: return "Invalid parameter type";
    case PX_ERR_INVALID_PARAMETER_VALUE: return "Invalid parameter value";
    case PX_ERR_NON_WRITABLE_PARAMETER: return "Attempt to set a non-writable parameter";
    case PX_ERR_NOTIFICATION_REJECTED: return "Notification request rejected";
    case PX_ERR_DOWNLOAD_FAILURE: return "Download failure";
    case PX_ERR_UPLOAD_FAILURE: return "Upload failure";
    case PX_ERR_FILE_TRANSFER_AUTH: return "File transfer server authentication failure";
    case PX_ERR_UNSUPPORTED_PROTOCOL: return "Unsupported protocol for file transfer";
    case PX_ERR_DOWNLOAD_JOIN_MULTICAST: return "Download failure: unable to join multicast group";
    case PX_ERR_DOWNLOAD_CONTACT_SERVER: return "Download failure: unable to contact file server";
    case PX_ERR_DOWNLOAD_ACCESS_FILE: return "Download failure: unable to access file";
    case PX_ERR_DOWNLOAD_INCOMPLETE: return "Download failure: unable to complete download";
    case PX_ERR_DOWNLOAD_CORRUPTED: return "Download failure: file corrupted";
    case PX_ERR_DOWNLOAD_AUTHENTICATION: return "Download failure: file authentication failure";
    case PX_ERR_DOWNLOAD_TIME_WINDOW: return "Download failure: unable to complete download within specified time windows";
    case PX_ERR_CANCELATION_NOT_PERMITTED: return "Cancelation of file transfer not permitted in current transfer state";
    default: return "Internal error";
    }
}
