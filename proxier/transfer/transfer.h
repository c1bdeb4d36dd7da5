/*
 * transfer.h: the file transfer queue of an endpoint (TR-069 A.3.2.8 Download, A.4.1.5
 * Upload, A.4.1.8 ScheduleDownload, A.4.1.7/A.4.1.10 GetQueuedTransfers and
 * GetAllQueuedTransfers, A.4.1.9 CancelTransfer; their completion through A.3.3.2
 * TransferComplete and A.3.3.3 AutonomousTransferComplete with Table 8's events).
 *
 * Every transfer is a row of the cache (schema v2) from the request until the ACS has
 * acknowledged its completion, so queued, running and completed transfers survive a restart
 * (A.3.2.8: "Queued downloads MUST be retained across reboots"). A transfer goes
 *   queued -> running (fetching) -> applying -> done (reported) -> deleted,
 * and the fetch (http_fetch.c) is apart from the apply (transfer_apply.c), so that later a
 * proxied device's adapter can apply what the same machinery fetched.
 *
 * The queue is the endpoint's cpe_request_source: the session asks it for the
 * TransferComplete / AutonomousTransferComplete requests its Inform's events announce.
 */
#ifndef PX_TRANSFER_H
#define PX_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxier/soap/soap.h"

struct endpoint;
struct transfer_queue;

enum transfer_kind { XFER_DOWNLOAD = 1, XFER_SCHEDULE_DOWNLOAD = 2, XFER_UPLOAD = 3 };

/* Stored states; GetQueuedTransfers reports queued as 1, running/applying as 2, done as 3. */
enum transfer_state { XS_QUEUED = 1, XS_RUNNING = 2, XS_APPLYING = 3, XS_DONE = 4 };

/* A request, from the ACS or local. Strings are copied. */
struct transfer_request {
    enum transfer_kind kind;
    bool autonomous; /* started locally: reported with AutonomousTransferComplete */
    const char *command_key;
    const struct soap_transfer_args *args;
};

/* Create the transfer directory if it is missing (mode 0700: downloads and configuration
 * backups are the owner's only) and check that it is a writable directory. 0, or -1 with
 * px_err_msg() naming the directory and the reason: the daemon does not start then. */
int transfer_dir_prepare(const char *dir);

/* Attach a queue to ep (ep->requests): load the stored transfers and recover what a
 * restart interrupted. Call before endpoint_start, so that completions that waited for the
 * reboot go out with "1 BOOT". NULL on failure. */
struct transfer_queue *transfer_attach(struct endpoint *ep);
/* Stop every transfer (their rows stay) and detach. Before http_multi_free. */
void transfer_detach(struct endpoint *ep);
/* The queue attached to ep, or NULL. */
struct transfer_queue *transfer_queue_of(struct endpoint *ep);

/* Queue a transfer. Returns 0, or a CWMP fault code with px_err_msg() saying why:
 * 9003 bad arguments (userinfo in the URL, a bad TargetFileName or time window, an
 * unsupported WindowMode or FileType), 9004 queue full, 9010 FileSize beyond the limit,
 * 9013 not an http(s) URL, 9002 the cache failed. */
int transfer_queue_add(struct transfer_queue *q, const struct transfer_request *req);

/* CancelTransfer (A.4.1.9): cancels every matching transfer not yet started; 9021 if a
 * matching one is running or done (the others are still cancelled); 0 if none matched. */
int transfer_queue_cancel(struct transfer_queue *q, const char *command_key);

/* GetQueuedTransfers / GetAllQueuedTransfers: fills *out (malloc'd array whose strings
 * point into the queue, valid until the queue changes; free the array only). */
size_t transfer_queue_list(struct transfer_queue *q, bool all, struct soap_queued_transfer **out);

/* ---- For tests and the apply step ---- */

/* A.5.1 fault for the outcome of a fetch (enum http_fetch_error); download or upload. */
int transfer_fetch_fault(int http_fetch_error, long status, bool upload);

/* ScheduleDownload TimeWindowList: check it (A.4.1.8), and the text form stored in the
 * cache ("start,end,mode;...", mode 1-3). 0 or 9003 with px_err_msg(). */
int transfer_windows_check(const struct soap_time_window *w, size_t n);
void transfer_windows_format(const struct soap_time_window *w, size_t n, char *out, size_t len);

/* When a transfer of `created` with windows `text` may start, seen at `now` while
 * `busy` (a session runs): *start = when to look again (or now). Returns 1 if it may start
 * now, 0 to wait until *start, -1 if no window is left (9020). */
int transfer_windows_next(const char *text, int64_t created, int64_t now, bool busy,
                          int64_t *start);

#endif
