/*
 * dm_type.c: TR-106 parameter types (TR-106 3.2, TR-069 A.2.1): parsing the type
 * expressions of the schema text format and checking SetParameterValues values against them.
 *
 * Lengths: string(N) counts characters, i.e. UTF-8 code points (the XML layer has already
 * decoded entities); base64(N) and hexBinary(N) count decoded bytes (TR-069 A.2.1,
 * cwmp-datamodel-1-15.xsd: "Length is that of the actual string, not the encoded string").
 * Lists are comma-separated with the items trimmed of surrounding spaces (TR-106 3.2.3);
 * list(N) limits the number of items.
 *
 * xsi:type (TR-069 A.3.2.1, 9006): the ACS's xsi:type, prefix ignored, must be the
 * parameter's xsd type, except that "string" is accepted for every type as long as the value
 * itself parses: real ACSs send xsd:string for everything (interop/acs-behaviour.md 1.7).
 */
#include "proxier/dm/dm.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/text.h"

#define TYPE_ERR(...) px_err_set(PX_ERR_INVALID_PARAMETER_VALUE, __VA_ARGS__)

/* ---------------- Parsing the type expression ---------------- */

static const struct {
    const char *name;
    enum dm_base_type base;
    const char *xsd;
} base_names[] = {
    {"string", DM_STRING, "xsd:string"},
    {"int", DM_INT, "xsd:int"},
    {"unsignedInt", DM_UNSIGNED_INT, "xsd:unsignedInt"},
    {"long", DM_LONG, "xsd:long"},
    {"unsignedLong", DM_UNSIGNED_LONG, "xsd:unsignedLong"},
    {"boolean", DM_BOOLEAN, "xsd:boolean"},
    {"dateTime", DM_DATETIME, "xsd:dateTime"},
    {"base64", DM_BASE64, "xsd:base64Binary"},
    {"hexBinary", DM_HEXBINARY, "xsd:hexBinary"},
};

static bool type_is_numeric(enum dm_base_type b)
{
    return b == DM_INT || b == DM_UNSIGNED_INT || b == DM_LONG || b == DM_UNSIGNED_LONG;
}

static bool type_has_length(enum dm_base_type b)
{
    return b == DM_STRING || b == DM_BASE64 || b == DM_HEXBINARY;
}

/* The text between open (at *p) and its matching close; *p is moved past close. Returns a
 * malloc'd copy or NULL if unterminated. */
static char *take_bracketed(const char **p, char open, char close)
{
    const char *start = *p + 1;
    const char *end = strchr(start, close);
    if (**p != open || !end)
        return NULL;
    *p = end + 1;
    return strndup(start, (size_t)(end - start));
}

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static void trim_span(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* "1:65535,70000:" -> ranges. */
static int parse_ranges(const char *text, struct dm_type *t)
{
    char *copy = strdup(text), *save = NULL;
    int rc = -1;
    for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(r, ':');
        if (!colon)
            goto exit;
        *colon = '\0';
        struct dm_range range = {0};
        const char *lo = r, *hi = colon + 1;
        if (*lo && (parse_i64(lo, &range.min) < 0))
            goto exit;
        if (*hi && (parse_i64(hi, &range.max) < 0))
            goto exit;
        range.has_min = *lo != '\0';
        range.has_max = *hi != '\0';
        if (range.has_min && range.has_max && range.min > range.max)
            goto exit;
        struct dm_range *n = realloc(t->ranges, (t->n_ranges + 1) * sizeof(*n));
        if (!n)
            goto exit;
        t->ranges = n;
        t->ranges[t->n_ranges++] = range;
    }
    rc = t->n_ranges ? 0 : -1;
exit:
    free(copy);
    return rc;
}

/* "A, B ,C" -> enums (trimmed). */
static int parse_enums(const char *text, struct dm_type *t)
{
    const char *p = text;
    while (true) {
        const char *comma = strchr(p, ',');
        const char *s = p, *e = comma ? comma : p + strlen(p);
        trim_span(&s, &e);
        if (s == e)
            return -1;
        char **n = realloc(t->enums, (t->n_enums + 1) * sizeof(*n));
        if (!n)
            return -1;
        t->enums = n;
        t->enums[t->n_enums++] = strndup(s, (size_t)(e - s));
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* "(max)" or "(min:max)" after string/base64/hexBinary. */
static int parse_size(const char *text, struct dm_type *t)
{
    const char *colon = strchr(text, ':');
    int64_t lo = 0, hi = 0;
    if (colon) {
        char *lo_text = strndup(text, (size_t)(colon - text));
        int rc = *lo_text ? parse_i64(lo_text, &lo) : 0;
        free(lo_text);
        if (rc < 0 || (colon[1] && parse_i64(colon + 1, &hi) < 0))
            return -1;
    } else if (parse_i64(text, &hi) < 0) {
        return -1;
    }
    if (lo < 0 || hi < 0 || (hi && lo > hi))
        return -1;
    t->min_len = (size_t)lo;
    t->max_len = (size_t)hi;
    return 0;
}

static int parse_facet(const char **p, char open, char close, int (*fn)(const char *,
                                                                         struct dm_type *),
                       struct dm_type *t)
{
    char *inner = take_bracketed(p, open, close);
    if (!inner)
        return -1;
    int rc = fn(inner, t);
    free(inner);
    return rc;
}

static int parse_base(const char *p, const char *full, struct dm_type *t)
{
    size_t best = 0;
    for (size_t i = 0; i < sizeof(base_names) / sizeof(base_names[0]); i++) {
        size_t n = strlen(base_names[i].name);
        if (n > best && strncmp(p, base_names[i].name, n) == 0) {
            best = n;
            t->base = base_names[i].base;
        }
    }
    if (!best)
        return px_err_set(-1, "unknown type '%s'", full);
    p += best;
    if (*p == '(' && type_has_length(t->base) && parse_facet(&p, '(', ')', parse_size, t) < 0)
        return px_err_set(-1, "bad size in type '%s'", full);
    if (*p == '{' && t->base == DM_STRING && parse_facet(&p, '{', '}', parse_enums, t) < 0)
        return px_err_set(-1, "bad enumeration in type '%s'", full);
    if (*p == '[' && type_is_numeric(t->base) && parse_facet(&p, '[', ']', parse_ranges, t) < 0)
        return px_err_set(-1, "bad range in type '%s'", full);
    if (*p)
        return px_err_set(-1, "unexpected '%s' in type '%s'", p, full);
    return 0;
}

int dm_type_parse(const char *text, struct dm_type *out)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    char *inner = NULL;
    int rc = -1;
    if (strncmp(p, "list", 4) == 0 && (p[4] == '<' || p[4] == '(')) {
        out->is_list = true;
        p += 4;
        int64_t max_items = 0;
        char *count = *p == '(' ? take_bracketed(&p, '(', ')') : NULL;
        bool bad_count = count && (parse_i64(count, &max_items) < 0 || max_items < 1);
        free(count);
        size_t n = strlen(p);
        if (bad_count || n < 2 || p[0] != '<' || p[n - 1] != '>') {
            px_err_set(-1, "bad list type '%s'", text);
            goto exit;
        }
        out->list_max_items = (size_t)max_items;
        p = inner = strndup(p + 1, n - 2);
    }
    rc = parse_base(p, text, out);
exit:
    free(inner);
    if (rc < 0)
        dm_type_free(out);
    return rc;
}

void dm_type_free(struct dm_type *t)
{
    for (size_t i = 0; i < t->n_enums; i++)
        free(t->enums[i]);
    free(t->enums);
    free(t->ranges);
    memset(t, 0, sizeof(*t));
}

const char *dm_type_xsd(const struct dm_type *t)
{
    if (t->is_list)
        return "xsd:string";
    for (size_t i = 0; i < sizeof(base_names) / sizeof(base_names[0]); i++)
        if (base_names[i].base == t->base)
            return base_names[i].xsd;
    return "xsd:string";
}

/* ---------------- Checking values ---------------- */

/* An integer value as sign and magnitude; canonical text written to out. */
static int check_integer(const struct dm_type *t, const char *v, struct buf *out)
{
    bool neg = false;
    const char *p = v;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return TYPE_ERR("'%s' is not a number", v);
    uint64_t mag = 0;
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return TYPE_ERR("'%s' is not a number", v);
        unsigned d = (unsigned)(*p - '0');
        if (mag > (UINT64_MAX - d) / 10)
            return TYPE_ERR("'%s' is out of range", v);
        mag = mag * 10 + d;
    }
    if (mag == 0)
        neg = false;
    uint64_t max_pos;
    uint64_t max_neg; /* magnitude of the most negative value */
    switch (t->base) {
    case DM_INT: max_pos = INT32_MAX, max_neg = (uint64_t)INT32_MAX + 1; break;
    case DM_UNSIGNED_INT: max_pos = UINT32_MAX, max_neg = 0; break;
    case DM_LONG: max_pos = INT64_MAX, max_neg = (uint64_t)INT64_MAX + 1; break;
    default: max_pos = UINT64_MAX, max_neg = 0; break;
    }
    if ((neg && mag > max_neg) || (!neg && mag > max_pos))
        return TYPE_ERR("'%s' is out of range for %s", v, dm_type_xsd(t) + 4);
    bool in_range = t->n_ranges == 0;
    for (size_t i = 0; i < t->n_ranges && !in_range; i++) {
        const struct dm_range *r = &t->ranges[i];
        /* Compare sign/magnitude with the int64 bounds without overflow. */
        bool ge_min = !r->has_min ||
                      (neg ? (r->min < 0 && mag <= (uint64_t)(-(r->min + 1)) + 1)
                           : (r->min < 0 || mag >= (uint64_t)r->min));
        bool le_max = !r->has_max ||
                      (neg ? (r->max >= 0 || mag >= (uint64_t)(-(r->max + 1)) + 1)
                           : (r->max >= 0 && mag <= (uint64_t)r->max));
        in_range = ge_min && le_max;
    }
    if (!in_range)
        return TYPE_ERR("'%s' is outside the allowed range", v);
    buf_printf(out, "%s%llu", neg ? "-" : "", (unsigned long long)mag);
    return 0;
}

static int check_boolean(const char *v, struct buf *out)
{
    /* TR-069 A.2.1: "1"/"true" and "0"/"false" are interchangeable. */
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        buf_puts(out, "true");
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        buf_puts(out, "false");
    else
        return TYPE_ERR("'%s' is not a boolean", v);
    return 0;
}

/* Reads exactly n digits at *p into *val. */
static bool take_digits(const char **p, int n, int *val)
{
    *val = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        *val = *val * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* TR-106 3.2.1 / TR-069 A.2.1: YYYY-MM-DDThh:mm:ss[.ffffff][Z|(+|-)hh:mm]; values without
 * a zone are relative times since boot (year < 1000) or local time. */
static bool datetime_valid(const char *v)
{
    const char *p = v;
    int y, mo, d, h, mi, s;
    if (!take_digits(&p, 4, &y) || !take_char(&p, '-') || !take_digits(&p, 2, &mo) ||
        !take_char(&p, '-') || !take_digits(&p, 2, &d) || !take_char(&p, 'T') ||
        !take_digits(&p, 2, &h) || !take_char(&p, ':') || !take_digits(&p, 2, &mi) ||
        !take_char(&p, ':') || !take_digits(&p, 2, &s))
        return false;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return false;
    if (take_char(&p, '.')) {
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (take_char(&p, 'Z') || *p == '\0')
        return *p == '\0';
    int zh, zm;
    if (!take_char(&p, '+') && !take_char(&p, '-'))
        return false;
    return take_digits(&p, 2, &zh) && take_char(&p, ':') && take_digits(&p, 2, &zm) &&
           *p == '\0' && zh <= 14 && zm <= 59;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' || c == '/' ? 62 + (c == '/') : -1;
}

/* Decoded size of base64 text (XML whitespace ignored), or -1 if malformed. */
static long base64_decoded_size(const char *v)
{
    size_t chars = 0, pad = 0;
    for (const char *p = v; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        if (*p == '=') {
            pad++;
        } else if (pad || b64_value(*p) < 0) {
            return -1; /* data after padding, or outside the alphabet */
        }
        chars++;
    }
    if (chars % 4 || pad > 2)
        return -1;
    return (long)(chars / 4 * 3 - pad);
}

static long hex_decoded_size(const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)v[i]))
            return -1;
    return n % 2 ? -1 : (long)(n / 2);
}

static size_t utf8_length(const char *v)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

static int check_length(const struct dm_type *t, size_t len)
{
    if (len < t->min_len)
        return TYPE_ERR("value is shorter than %zu", t->min_len);
    if (t->max_len && len > t->max_len)
        return TYPE_ERR("value is longer than %zu", t->max_len);
    return 0;
}

static int check_string(const struct dm_type *t, const char *v, struct buf *out)
{
    int rc = check_length(t, utf8_length(v));
    if (rc)
        return rc;
    bool listed = t->n_enums == 0;
    for (size_t i = 0; i < t->n_enums && !listed; i++)
        listed = strcmp(v, t->enums[i]) == 0;
    if (!listed)
        return TYPE_ERR("'%s' is not one of the allowed values", v);
    buf_puts(out, v);
    return 0;
}

static int check_binary(const struct dm_type *t, const char *v, struct buf *out)
{
    long size = t->base == DM_BASE64 ? base64_decoded_size(v) : hex_decoded_size(v);
    if (size < 0)
        return TYPE_ERR("'%.64s' is not valid %s", v, dm_type_xsd(t) + 4);
    int rc = check_length(t, (size_t)size);
    if (rc)
        return rc;
    buf_puts(out, v);
    return 0;
}

/* One scalar value (a whole value, or one list item). */
static int check_scalar(const struct dm_type *t, const char *v, struct buf *out)
{
    switch (t->base) {
    case DM_STRING: return check_string(t, v, out);
    case DM_BOOLEAN: return check_boolean(v, out);
    case DM_DATETIME:
        if (!datetime_valid(v))
            return TYPE_ERR("'%s' is not a valid dateTime", v);
        buf_puts(out, v);
        return 0;
    case DM_BASE64:
    case DM_HEXBINARY: return check_binary(t, v, out);
    default: return check_integer(t, v, out);
    }
}

/* TR-106 3.2.3: comma-separated, items trimmed; "" is the empty list. */
static int check_list(const struct dm_type *t, const char *v, struct buf *out)
{
    buf_puts(out, "");
    size_t items = 0;
    for (const char *p = v; *v;) {
        const char *comma = strchr(p, ',');
        const char *s = p, *e = comma ? comma : p + strlen(p);
        trim_span(&s, &e);
        if (t->list_max_items && ++items > t->list_max_items)
            return TYPE_ERR("list has more than %zu items", t->list_max_items);
        if (p != v)
            buf_puts(out, ",");
        char *item = strndup(s, (size_t)(e - s));
        int rc = item ? check_scalar(t, item, out) : PX_ERR_INTERNAL;
        free(item);
        if (rc || !comma)
            return rc;
        p = comma + 1;
    }
    return 0;
}

static int check_xsi_type(const struct dm_type *t, const char *xsi_type)
{
    if (!xsi_type)
        return 0;
    const char *colon = strrchr(xsi_type, ':');
    const char *given = colon ? colon + 1 : xsi_type;
    const char *want = dm_type_xsd(t) + 4; /* skip "xsd:" */
    /* Lenient on purpose: ACSs send xsd:string for every type (acs-behaviour.md 1.7). */
    if (!strcmp(given, want) || !strcmp(given, "string"))
        return 0;
    return px_err_set(PX_ERR_INVALID_PARAMETER_TYPE, "xsi:type %s given for a parameter of type %s",
                      xsi_type, want);
}

/* The value gate: whatever its type, a value is text that goes into XML (TR-069 3.5) and
 * the cache, so it must be valid UTF-8 made of XML 1.0 characters only. Checked before the
 * type so that no later message quotes the bad bytes. */
int dm_value_text_check(const char *v)
{
    if (text_check_xml(v) == 0)
        return 0;
    char why[128];
    snprintf(why, sizeof(why), "%s", px_err_msg());
    return TYPE_ERR("value refused: %s (only valid UTF-8 and XML 1.0 characters)", why);
}

int dm_value_check(const struct dm_type *t, const char *value, const char *xsi_type,
                   char **canonical)
{
    if (canonical)
        *canonical = NULL;
    int rc = check_xsi_type(t, xsi_type);
    if (!rc)
        rc = dm_value_text_check(value);
    if (rc)
        return rc;
    struct buf out = BUF_INIT;
    rc = t->is_list ? check_list(t, value, &out) : check_scalar(t, value, &out);
    if (!rc && out.data == NULL)
        buf_puts(&out, "");
    if (!rc && buf_failed(&out))
        rc = px_err_set(PX_ERR_INTERNAL, "out of memory");
    if (!rc && canonical)
        *canonical = buf_steal(&out, NULL);
    buf_free(&out);
    return rc;
}
