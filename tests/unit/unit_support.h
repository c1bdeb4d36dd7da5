/*
 * unit_support.h: helpers shared by the cmocka unit tests.
 */
#ifndef PX_UNIT_SUPPORT_H
#define PX_UNIT_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* Validate one CPE message against the official schemas in shared/spec/xsd: the Body with
 * the strict cwmp-1-2 driver, the headers with the lax cwmp-1-4 driver (or strict 1-0/1-1
 * for those namespaces). Runs xmllint offline with the shared catalog. Returns true if
 * valid; otherwise prints xmllint's complaint and the message. */
bool unit_xsd_valid(const char *xml, size_t len);

/* Read a whole file (e.g. a sample from shared/spec/samples); caller frees. */
char *unit_read_file(const char *path, size_t *len);

#endif
