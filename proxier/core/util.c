/*
 * util.c: randomness, dateTime parsing and percent-encoding for the core.
 */
#include "proxier/core/util.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double util_random_unit(void)
{
    uint64_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
        r = (uint64_t)random() << 31 ^ (uint64_t)random();
    return (double)(r >> 11) / (double)(1ULL << 53);
}

void util_random_hex(char *out, size_t n)
{
    unsigned char bytes[64];
    if (n > sizeof(bytes))
        n = sizeof(bytes);
    if (RAND_bytes(bytes, (int)n) != 1)
        for (size_t i = 0; i < n; i++)
            bytes[i] = (unsigned char)random();
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

int util_parse_datetime(const char *s, time_t *out)
{
    *out = 0;
    if (!s || !*s)
        return 0;
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return -1;
    if (y <= 1) /* the Unknown Time of TR-106 */
        return 0;
    const char *p = s + n;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    long offset = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return -1;
        offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
    } else if (*p && *p != 'Z') {
        return -1;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    *out = timegm(&tm) - offset;
    return 0;
}

char *util_percent_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '_')
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}
