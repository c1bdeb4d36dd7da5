/*
 * backup_file.c: the configuration backup format, version 1 (see backup_file.h): the
 * writer, which escapes every field so that any value round-trips, and the strict parser
 * of outside bytes, which refuses anything the writer would not have written (TR-069
 * A.5.1 9018) and bounds size and record count.
 */
#include "proxier/transfer/backup_file.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"

#define MAX_FIELDS 4

static const char hex[] = "0123456789abcdef";

/* ---- Writing ---- */

static bool needs_hex(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static void put_escaped(struct buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        const char *esc = *p == '\\'   ? "\\\\"
                          : *p == '\t' ? "\\t"
                          : *p == '\n' ? "\\n"
                          : *p == '\r' ? "\\r"
                                       : NULL;
        if (esc) {
            buf_puts(b, esc);
        } else if (needs_hex(*p)) {
            char x[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, x, 4);
        } else {
            buf_append(b, (const char *)p, 1);
        }
    }
}

void backup_file_write_header(struct buf *b, const char *comment)
{
    buf_puts(b, BACKUP_FILE_HEADER "\n");
    if (!comment)
        return;
    buf_puts(b, "# ");
    for (const unsigned char *p = (const unsigned char *)comment; *p; p++)
        buf_append(b, needs_hex(*p) ? " " : (const char *)p, 1);
    buf_puts(b, "\n");
}

void backup_file_write_record(struct buf *b, const struct backup_record *r)
{
    static const char *const kinds[] = {
        [BACKUP_INSTANCE] = "instance", [BACKUP_VALUE] = "value", [BACKUP_ATTR] = "attr"};
    buf_puts(b, kinds[r->kind]);
    buf_puts(b, "\t");
    put_escaped(b, r->path);
    if (r->kind == BACKUP_VALUE) {
        buf_puts(b, "\t");
        put_escaped(b, r->value);
    } else if (r->kind == BACKUP_ATTR) {
        buf_printf(b, "\t%d\t", r->notification);
        put_escaped(b, r->access_list);
    }
    buf_puts(b, "\n");
}

/* ---- Parsing ---- */

struct parser {
    unsigned line;
    struct backup_file *out;
};

static int fail(const struct parser *p, const char *why)
{
    return px_err_set(PX_ERR_DOWNLOAD_CORRUPTED, "line %u: %s", p->line, why);
}

static int hex_value(unsigned char c)
{
    const char *d = c ? strchr(hex, c >= 'A' && c <= 'F' ? c + 32 : c) : NULL;
    return d ? (int)(d - hex) : -1;
}

/* The byte an escape after the backslash at s[0] stands for; *used = its length. -1 if
 * it is none. */
static int unescape_one(const unsigned char *s, size_t n, size_t *used)
{
    *used = 2;
    if (n < 2)
        return -1;
    switch (s[1]) {
    case '\\':
        return '\\';
    case 't':
        return '\t';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 'x':
        break;
    default:
        return -1;
    }
    *used = 4;
    int hi = n >= 4 ? hex_value(s[2]) : -1, lo = n >= 4 ? hex_value(s[3]) : -1;
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/* One field [s, s + n) into a malloc'd string. */
static int field_text(const struct parser *p, const char *s, size_t n, char **out)
{
    struct buf b = BUF_INIT;
    int rc = 0;
    buf_append(&b, "", 0);
    for (size_t i = 0; i < n && !rc;) {
        const unsigned char *c = (const unsigned char *)s + i;
        size_t used = 1;
        int byte = *c;
        if (*c == '\\' && (byte = unescape_one(c, n - i, &used)) < 0)
            rc = fail(p, "a backslash starts no escape (\\\\ \\t \\n \\r \\xHH)");
        else if (*c == '\\' && byte == 0)
            rc = fail(p, "a NUL byte (\\x00): no parameter can hold it");
        else if (*c != '\\' && needs_hex(*c))
            rc = px_err_set(PX_ERR_DOWNLOAD_CORRUPTED,
                            "line %u: a raw control byte 0x%02x (write it as \\xHH)", p->line, *c);
        char ch = (char)byte;
        buf_append(&b, &ch, 1);
        i += used;
    }
    if (!rc && buf_failed(&b))
        rc = px_err_set(PX_ERR_INTERNAL, "out of memory");
    *out = rc ? NULL : buf_steal(&b, NULL);
    buf_free(&b);
    return rc;
}

/* The notification field: one digit 0-6 (TR-069 Table 48: 0-2, 3-6 lightweight). */
static int notification_of(const struct parser *p, const char *s, int *out)
{
    if (strlen(s) != 1 || s[0] < '0' || s[0] > '6')
        return fail(p, "the notification is not a digit from 0 to 6");
    *out = s[0] - '0';
    return 0;
}

static int kind_of(const struct parser *p, const char *word, size_t n_fields,
                   enum backup_record_kind *kind)
{
    static const struct {
        const char *word;
        enum backup_record_kind kind;
        size_t fields;
    } kinds[] = {
        {"instance", BACKUP_INSTANCE, 2}, {"value", BACKUP_VALUE, 3}, {"attr", BACKUP_ATTR, 4}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(word, kinds[i].word) != 0)
            continue;
        *kind = kinds[i].kind;
        return n_fields == kinds[i].fields
                   ? 0
                   : fail(p, "wrong number of TAB-separated fields for this record");
    }
    return fail(p, "unknown record (instance, value or attr)");
}

static void record_clear(struct backup_record *r)
{
    free(r->path);
    free(r->value);
    free(r->access_list);
}

/* Split [s, s + n) at TABs into fields (unescaped), at most MAX_FIELDS. */
static int split_fields(const struct parser *p, const char *s, size_t n, char **fields,
                        size_t *count)
{
    *count = 0;
    for (size_t start = 0;;) {
        const char *tab = memchr(s + start, '\t', n - start);
        size_t end = tab ? (size_t)(tab - s) : n;
        if (*count == MAX_FIELDS)
            return fail(p, "too many TAB-separated fields");
        int rc = field_text(p, s + start, end - start, &fields[*count]);
        if (rc)
            return rc;
        (*count)++;
        if (!tab)
            return 0;
        start = end + 1;
    }
}

/* Room for one more record; the array doubles, so a file of N records costs O(N). */
static int grow(struct backup_file *f)
{
    if (f->n < f->cap)
        return 0;
    size_t cap = f->cap ? f->cap * 2 : 64;
    struct backup_record *grown = realloc(f->records, cap * sizeof(*grown));
    if (!grown)
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    f->records = grown;
    f->cap = cap;
    return 0;
}

static int add_record(struct parser *p, const char *s, size_t n)
{
    char *f[MAX_FIELDS] = {0};
    size_t count;
    struct backup_record r = {.line = p->line};
    int rc = split_fields(p, s, n, f, &count);
    if (!rc)
        rc = kind_of(p, f[0], count, &r.kind);
    if (!rc && !*f[1])
        rc = fail(p, "the path is empty");
    if (!rc && r.kind == BACKUP_ATTR)
        rc = notification_of(p, f[2], &r.notification);
    if (!rc && p->out->n >= BACKUP_FILE_MAX_RECORDS)
        rc = fail(p, "more records than this CPE accepts");
    if (!rc) {
        r.path = f[1], f[1] = NULL;
        if (r.kind == BACKUP_VALUE)
            r.value = f[2], f[2] = NULL;
        if (r.kind == BACKUP_ATTR)
            r.access_list = f[3], f[3] = NULL;
        rc = grow(p->out);
        if (rc)
            record_clear(&r);
        else
            p->out->records[p->out->n++] = r;
    }
    for (size_t i = 0; i < MAX_FIELDS; i++)
        free(f[i]);
    return rc;
}

static int check_header(const struct parser *p, const char *s, size_t n)
{
    static const char prefix[] = "# proxierd-config ";
    if (n == strlen(BACKUP_FILE_HEADER) && !memcmp(s, BACKUP_FILE_HEADER, n))
        return 0;
    if (n > sizeof(prefix) - 1 && !memcmp(s, prefix, sizeof(prefix) - 1))
        return px_err_set(PX_ERR_DOWNLOAD_CORRUPTED,
                          "line 1: backup format version \"%.*s\" is not supported (this "
                          "proxierd reads version 1)",
                          (int)(n - (sizeof(prefix) - 1) > 16 ? 16 : n - (sizeof(prefix) - 1)),
                          s + sizeof(prefix) - 1);
    return px_err_set(PX_ERR_DOWNLOAD_CORRUPTED,
                      "line 1: not a proxierd configuration backup (it must start with \"%s\")",
                      BACKUP_FILE_HEADER);
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
    if (n && s[n - 1] == '\r')
        n--; /* CR LF, as an editor may save it */
    if (p->line == 1)
        return check_header(p, s, n);
    if (n == 0 || s[0] == '#')
        return 0;
    return add_record(p, s, n);
}

int backup_file_parse(const char *data, size_t len, struct backup_file *out)
{
    *out = (struct backup_file){0};
    struct parser p = {.line = 0, .out = out};
    int rc = 0;
    if (len > BACKUP_FILE_MAX_BYTES)
        rc = px_err_set(PX_ERR_DOWNLOAD_CORRUPTED, "the file is larger than %u bytes",
                        BACKUP_FILE_MAX_BYTES);
    if (!rc && len == 0)
        rc = px_err_set(PX_ERR_DOWNLOAD_CORRUPTED, "the file is empty");
    for (size_t start = 0; !rc && start < len;) {
        const char *lf = memchr(data + start, '\n', len - start);
        size_t end = lf ? (size_t)(lf - data) : len;
        p.line++;
        rc = parse_line(&p, data + start, end - start);
        start = end + 1;
    }
    if (rc)
        backup_file_free(out);
    return rc;
}

void backup_file_free(struct backup_file *f)
{
    for (size_t i = 0; i < f->n; i++)
        record_clear(&f->records[i]);
    free(f->records);
    *f = (struct backup_file){0};
}
