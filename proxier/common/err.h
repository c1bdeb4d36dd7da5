/*
 * err.h: one set of error codes for the whole daemon, and the human message that goes with
 * the most recent error.
 *
 * The codes are the CPE fault codes of TR-069 Table A.5 (9000-9032) so that an error found
 * deep in the data-model engine reaches the SOAP fault unchanged; PX_OK is 0. The message is
 * set once, where the error is found (px_err_set), and read by the layer that writes the
 * reply (px_err_msg). It is per thread, so a helper thread never overwrites the loop's.
 */
#ifndef PX_ERR_H
#define PX_ERR_H

#include <stdarg.h>

enum px_err {
    PX_OK = 0,
    PX_ERR_METHOD_NOT_SUPPORTED = 9000,
    PX_ERR_REQUEST_DENIED = 9001,
    PX_ERR_INTERNAL = 9002,
    PX_ERR_INVALID_ARGUMENTS = 9003,
    PX_ERR_RESOURCES_EXCEEDED = 9004,
    PX_ERR_INVALID_PARAMETER_NAME = 9005,
    PX_ERR_INVALID_PARAMETER_TYPE = 9006,
    PX_ERR_INVALID_PARAMETER_VALUE = 9007,
    PX_ERR_NON_WRITABLE_PARAMETER = 9008,
    PX_ERR_NOTIFICATION_REJECTED = 9009,
    PX_ERR_DOWNLOAD_FAILURE = 9010,
    PX_ERR_UPLOAD_FAILURE = 9011,
    PX_ERR_FILE_TRANSFER_AUTH = 9012,
    PX_ERR_UNSUPPORTED_PROTOCOL = 9013,
    PX_ERR_DOWNLOAD_JOIN_MULTICAST = 9014,
    PX_ERR_DOWNLOAD_CONTACT_SERVER = 9015,
    PX_ERR_DOWNLOAD_ACCESS_FILE = 9016,
    PX_ERR_DOWNLOAD_INCOMPLETE = 9017,
    PX_ERR_DOWNLOAD_CORRUPTED = 9018,
    PX_ERR_DOWNLOAD_AUTHENTICATION = 9019,
    PX_ERR_DOWNLOAD_TIME_WINDOW = 9020,
    PX_ERR_CANCELATION_NOT_PERMITTED = 9021,
};

/* Record the message for the error about to be returned; returns code, so callers can write
 * "return px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "no such parameter %s", name);". */
int px_err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message of the most recent px_err_set on this thread ("" if none). */
const char *px_err_msg(void);

/* Forget the message (start of a new request). */
void px_err_clear(void);

/* The standard fault string of Table A.5 for a code, or "Internal error" if unknown. */
const char *px_err_default_string(int code);

#endif
