/*
 * util.h: small helpers of the core: randomness, TR-106 dateTime, percent-encoding.
 */
#ifndef PX_UTIL_H
#define PX_UTIL_H

#include <stddef.h>
#include <time.h>

/* Uniform in [0, 1), from the OpenSSL CSPRNG. */
double util_random_unit(void);
/* Random bytes as lower-case hex (2*n characters + NUL into out). */
void util_random_hex(char *out, size_t n);

/* Parse a TR-106 dateTime ("2026-11-22T05:01:54Z", offsets, fractions). The Unknown Time
 * "0001-01-01T00:00:00Z" and "" give *out = 0. Returns 0 or -1. */
int util_parse_datetime(const char *s, time_t *out);

/* RFC 3986 percent-encoding of every byte that is not 0-9, A-Z, a-z or '_' (TR-069 3.4.4).
 * Returns a malloc'd string. */
char *util_percent_encode(const char *s);

#endif
