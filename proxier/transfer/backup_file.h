/*
 * backup_file.h: the text format of a configuration backup, version 1: what an Upload of
 * "1 Vendor Configuration File" sends and a Download of "3 Vendor Configuration File"
 * restores (TR-069 A.4.1.5, A.3.2.8; backup.h does both; docs/operations.md documents the
 * format for operators):
 *
 *   # proxierd-config 1                          the first line, exactly this
 *   # any text                                   a comment; empty lines are ignored too
 *   instance<TAB>Device.X.Table.3.               a table row
 *   value<TAB>Device.X.Table.3.Name<TAB>text     a parameter's value
 *   attr<TAB>Device.X.Y<TAB>2<TAB>Subscriber     its Notification (0-6) and AccessList
 *
 * A line ends with LF (a CR just before it is ignored; the last line may lack the LF).
 * Fields are separated by one TAB. Within a field a backslash escapes: "\\" backslash,
 * "\t" TAB, "\n" LF, "\r" CR, and "\xHH" (two hex digits) any other byte below 0x20 or
 * 0x7F; every other byte, UTF-8 or not, stands for itself. So any value round-trips. A
 * raw control byte, an unknown escape, a NUL ("\x00": no parameter holds one), a missing
 * or extra field and an unknown record kind are errors, as are files beyond the limits.
 *
 * This is outside data (any file server's bytes): the parser is fuzzed
 * (tests/fuzz/fuzz_backup_file.c).
 */
#ifndef PX_BACKUP_FILE_H
#define PX_BACKUP_FILE_H

#include <stddef.h>

#include "proxier/common/buf.h"

#define BACKUP_FILE_HEADER "# proxierd-config 1"
#define BACKUP_FILE_MAX_BYTES (4u << 20) /* far above any gateway's configuration */
#define BACKUP_FILE_MAX_RECORDS 65536u

enum backup_record_kind { BACKUP_INSTANCE = 1, BACKUP_VALUE, BACKUP_ATTR };

struct backup_record {
    enum backup_record_kind kind;
    unsigned line;     /* where it was read (0 when written) */
    char *path;        /* an instance path ends with "N."; a parameter path does not */
    char *value;       /* BACKUP_VALUE */
    int notification;  /* BACKUP_ATTR, 0-6 */
    char *access_list; /* BACKUP_ATTR, comma-separated ("" = the ACS only) */
};

struct backup_file {
    struct backup_record *records; /* in the order of the file */
    size_t n;
    size_t cap; /* slots allocated in records */
};

/* Parse a whole file. 0 with *out filled (backup_file_free it), or 9018 (A.5.1 "file
 * corrupted or otherwise unusable") with px_err_msg() saying "line N: why", *out empty. */
int backup_file_parse(const char *data, size_t len, struct backup_file *out);
void backup_file_free(struct backup_file *f);

/* Append the header line, then `comment` (may be NULL) as a comment line, its control
 * bytes replaced by spaces. */
void backup_file_write_header(struct buf *b, const char *comment);
/* Append one record as a line (the fields its kind has, escaped). */
void backup_file_write_record(struct buf *b, const struct backup_record *r);

#endif
