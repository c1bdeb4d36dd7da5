/*
 * fuzz_dm_value.c: libFuzzer target for the value gate of the data model
 * (proxier/dm/dm_type.c: dm_value_check, dm_value_text_check; TR-106 3.2, TR-069 A.2.1,
 * A.3.2.1), which every value the ACS sets passes, as do the control socket's, the
 * providers' and the cache's.
 *
 * Input: byte 0 picks the parameter type (one of every TR-106 base type, with and without
 * facets, as scalar and as list), byte 1 the xsi:type the "ACS" claims, the rest is the value
 * (up to its first NUL, as the XML layer hands it over). Besides "no crash, no leak", it
 * checks:
 *  - the gate holds for every type: a value dm_value_text_check refuses is refused;
 *  - an accepted value has a canonical form that is accepted again and is its own canonical
 *    form, and a string never exceeds its maximum length;
 *  - for the integer types, an independent oracle (128-bit arithmetic) agrees on accept or
 *    refuse for every value made of an optional sign and up to 30 digits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/dm/dm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Integer bounds of the oracle; lo > hi stands for "no such range". */
struct int_range {
    __int128 lo, hi;
};

static const struct {
    const char *expr;
    struct int_range ranges[2]; /* for the integer types: the allowed ranges, else unused */
} types[] = {
    {"string", {{0}}},
    {"string(4)", {{0}}},
    {"string(2:8)", {{0}}},
    {"string{HTTP,STUN,XMPP}", {{0}}},
    {"int", {{INT32_MIN, INT32_MAX}, {1, 0}}},
    {"int[-5:5]", {{-5, 5}, {1, 0}}},
    {"int[:-10,10:]", {{INT32_MIN, -10}, {10, INT32_MAX}}},
    {"unsignedInt", {{0, UINT32_MAX}, {1, 0}}},
    {"unsignedInt[1:65535]", {{1, 65535}, {1, 0}}},
    {"long", {{INT64_MIN, INT64_MAX}, {1, 0}}},
    {"long[-9223372036854775808:-1]", {{INT64_MIN, -1}, {1, 0}}},
    {"unsignedLong", {{0, UINT64_MAX}, {1, 0}}},
    {"unsignedLong[5:]", {{5, UINT64_MAX}, {1, 0}}},
    {"boolean", {{0}}},
    {"dateTime", {{0}}},
    {"base64", {{0}}},
    {"base64(4)", {{0}}},
    {"hexBinary", {{0}}},
    {"hexBinary(1:3)", {{0}}},
    {"list<string>", {{0}}},
    {"list(3)<string(4)>", {{0}}},
    {"list<string{HTTP,STUN,XMPP}>", {{0}}},
    {"list<int[-5:5]>", {{0}}},
    {"list(2)<unsignedInt[1:]>", {{0}}},
    {"list<boolean>", {{0}}},
    {"list<dateTime>", {{0}}},
    {"list<base64(2)>", {{0}}},
    {"list<hexBinary>", {{0}}},
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static const char *const xsi_types[] = {
    NULL, "xsd:string", "xsd:int", "xsd:unsignedInt", "xsd:long", "xsd:unsignedLong",
    "xsd:boolean", "xsd:dateTime", "xsd:base64Binary", "xsd:hexBinary", "cwmp:unsignedInt",
    "unsignedInt", "xsd:", "", ":", "xsd:anyType",
};
#define N_XSI (sizeof(xsi_types) / sizeof(xsi_types[0]))

static bool is_integer(enum dm_base_type b)
{
    return b == DM_INT || b == DM_UNSIGNED_INT || b == DM_LONG || b == DM_UNSIGNED_LONG;
}

/* The oracle: 1 accept, 0 refuse, -1 not judged (too many digits). */
static int oracle_integer(const char *v, const struct int_range *ranges)
{
    const char *p = v;
    bool neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    size_t digits = strspn(p, "0123456789");
    if (!*p || p[digits])
        return 0;
    if (digits > 30)
        return -1;
    __int128 n = 0;
    for (; *p; p++)
        n = n * 10 + (*p - '0');
    if (neg)
        n = -n;
    for (int i = 0; i < 2; i++)
        if (ranges[i].lo <= ranges[i].hi && n >= ranges[i].lo && n <= ranges[i].hi)
            return 1;
    return 0;
}

static size_t utf8_chars(const char *v)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static void check_one(const struct dm_type *t, size_t ti, const char *value, const char *xsi)
{
    char *canonical = NULL;
    int rc = dm_value_check(t, value, xsi, &canonical);
    if (rc != 0 && rc != PX_ERR_INVALID_PARAMETER_TYPE && rc != PX_ERR_INVALID_PARAMETER_VALUE)
        abort();
    if (rc != 0 && canonical)
        abort();
    if (dm_value_text_check(value) != 0 && rc == 0)
        abort(); /* the gate holds for every type */
    if (rc == 0) {
        char *again = NULL;
        if (!canonical || dm_value_check(t, canonical, NULL, &again) != 0 ||
            strcmp(again, canonical) != 0)
            abort();
        free(again);
        if (t->base == DM_STRING && !t->is_list && t->max_len && utf8_chars(value) > t->max_len)
            abort();
    }
    if (is_integer(t->base) && !t->is_list && rc != PX_ERR_INVALID_PARAMETER_TYPE) {
        int want = oracle_integer(value, types[ti].ranges);
        if (want >= 0 && want != (rc == 0))
            abort();
    }
    free(canonical);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dm_type parsed[N_TYPES];
    static bool ready;
    if (!ready) {
        for (size_t i = 0; i < N_TYPES; i++)
            if (dm_type_parse(types[i].expr, &parsed[i]) != 0)
                abort();
        ready = true;
    }
    if (size < 2)
        return 0;
    size_t ti = data[0] % N_TYPES;
    const char *xsi = xsi_types[data[1] % N_XSI];
    char *value = strndup((const char *)data + 2, size - 2);
    if (!value)
        return 0;
    check_one(&parsed[ti], ti, value, xsi);
    free(value);
    return 0;
}
