/*
 * transfer_upload.h: what an Upload sends, by its FileType (TR-069 A.4.1.5): the file
 * configured for it ([transfer] upload_config / upload_log), else a built-in one made at
 * the start of the upload: for "1 Vendor Configuration File" a configuration backup
 * (backup.h), for "2 Vendor Log File" the daemon's recent log (the log ring, log.h). Other
 * FileTypes ("3 Vendor Configuration File <i>", "4 Vendor Log File <i>", vendor types) have nothing
 * to send here: 9003 at the request.
 */
#ifndef PX_TRANSFER_UPLOAD_H
#define PX_TRANSFER_UPLOAD_H

struct endpoint;

/* Can file_type be uploaded by ep? 0, or 9003 with px_err_msg(). */
int transfer_upload_supported(const struct endpoint *ep, const char *file_type);

/* The file to send: the configured one, or a snapshot written now at scratch (mode 0600;
 * the transfer deletes it when done). The path, or NULL with px_err_msg() saying why. */
const char *transfer_upload_source(struct endpoint *ep, const char *file_type, const char *scratch);

#endif
