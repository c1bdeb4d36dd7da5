/*
 * transfer_apply.h: applying a downloaded file by its FileType (TR-069 A.3.2.8), apart
 * from fetching it: "1 Firmware Upgrade Image" and "3 Vendor Configuration File" run the
 * configured command ([transfer] firmware_action / config_action, %f = the file) without
 * blocking the loop; a firmware that installed asks for a reboot, after which the
 * completion is reported with "1 BOOT" (Table 8); a firmware without a command is refused
 * (there is no safe default for flashing). A configuration file without a command is
 * restored as a configuration backup (backup.h), once no session runs, so that the ACS
 * never sees values change under it within a session. Every other type ("2 Web Content",
 * "4 Tone File", "5 Ringer File", vendor "X ..." types) is stored in [transfer] dir under
 * its target name.
 */
#ifndef PX_TRANSFER_APPLY_H
#define PX_TRANSFER_APPLY_H

#include <stdbool.h>

struct endpoint;
struct px_config;
struct transfer_apply;

/* Can this FileType be applied with this configuration? 0, or 9003 with px_err_msg(). */
int transfer_apply_supported(const struct px_config *cfg, const char *file_type);

/* fault 0 = applied; reboot = the file takes effect after a reboot (firmware). */
typedef void (*transfer_apply_cb)(void *arg, int fault, const char *fault_string, bool reboot);

/* Apply the file at path to ep (the apply consumes the file: moved or deleted); local: the
 * transfer was started on the CPE (a restore is then a local change). cb is called once
 * from the loop. NULL (with px_err_msg) if it could not even start. */
struct transfer_apply *transfer_apply_start(struct endpoint *ep, const char *file_type,
                                            const char *path, const char *target_name, bool local,
                                            transfer_apply_cb cb, void *arg);
/* Stop waiting (a running command is left to finish on its own); no callback. */
void transfer_apply_cancel(struct transfer_apply *a);

#endif
