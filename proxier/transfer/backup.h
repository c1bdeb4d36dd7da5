/*
 * backup.h: an endpoint's configuration as a file, in the format of backup_file.h: what an
 * Upload of "1 Vendor Configuration File" sends (TR-069 A.4.1.5) and a Download of
 * "3 Vendor Configuration File" restores (A.3.2.8) when no command is configured for them.
 *
 * A backup holds what was set on the CPE, read from the cache: every table row of a table
 * the ACS may add to (so that values in rows created by AddObject have their row), every
 * value the ACS or a local user set (origin "acs"), except hidden ones (passwords: an
 * upload must not disclose what GetParameterValues hides, TR-106 3.2), and every attribute
 * the ACS set (A.3.2.4). Not in it: read-only and computed values, what came from the
 * configuration file (the factory state), ParameterKey.
 *
 * A restore is one change, all or nothing: the whole file is read and checked first
 * (format, every row's table, every value as SetParameterValues checks it, every
 * attribute) with nothing changed; then, in one cache transaction, the missing rows are
 * created through their provider (as AddObject does), the attributes set (as
 * SetParameterAttributes does) and the values set through setvalues.h (as one
 * SetParameterValues). It adds and sets, it deletes nothing: rows and values the file does
 * not name stay as they are. ParameterKey is left alone (TR-181: only SetParameterValues,
 * AddObject, DeleteObject and a factory reset change it). A local restore (started on the
 * CPE) is a local change: each value needs the Subscriber's write access, the changes are
 * notified, and attributes are not restored (A.3.2.4: only the ACS changes them).
 * Faults: 9018 for anything wrong with the file (the message names the line), 9001 for a
 * value a local restore may not write, 9002 when the cache fails.
 */
#ifndef PX_BACKUP_H
#define PX_BACKUP_H

#include <stdbool.h>

#include "proxier/common/buf.h"

struct endpoint;
struct backup_restore;

/* Append ep's backup to out. 0, or -1 with px_err_msg() (the cache failed). */
int backup_text(struct endpoint *ep, struct buf *out);

/* fault 0 = restored; else the fault and why (valid during the call). */
typedef void (*backup_restore_cb)(void *arg, int fault, const char *fault_string);

/* Restore the backup in the file at path into ep (local: started on the CPE). cb is called
 * exactly once; when that happens before this returns, the result is NULL. */
struct backup_restore *backup_restore_start(struct endpoint *ep, const char *path, bool local,
                                            backup_restore_cb cb, void *arg);
/* Stop a restore waiting for a provider (at shutdown); cb is not called. */
void backup_restore_cancel(struct backup_restore *r);

#endif
