/*
 * buf.c: growable NUL-terminated buffer.
 */
#include "proxier/common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/text.h"

static bool buf_reserve(struct buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_append(struct buf *b, const char *data, size_t len)
{
    if (!buf_reserve(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* The replacement of one byte of text in XML character data, or NULL to keep it. *len is
 * the length of the character that starts there (it is kept or replaced whole). */
static const char *xml_replacement(const char *s, size_t *len)
{
    unsigned char c = (unsigned char)*s;
    *len = 1;
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&apos;";
    case '\r': return "&#13;";
    default: break;
    }
    if (c >= 0x20 && c < 0x80)
        return NULL;
    /* Defence in depth: whatever is in memory, the output stays well-formed XML. */
    int32_t cp = text_utf8_decode(s, len);
    return cp >= 0 && text_xml_char(cp) ? NULL : TEXT_REPLACEMENT;
}

void buf_xml_escaped(struct buf *b, const char *s)
{
    const char *run = s;
    while (*s) {
        size_t n;
        const char *rep = xml_replacement(s, &n);
        if (!rep) {
            s += n;
            continue;
        }
        buf_append(b, run, (size_t)(s - run));
        buf_puts(b, rep);
        s += n;
        run = s;
    }
    buf_append(b, run, (size_t)(s - run));
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    *b = (struct buf)BUF_INIT;
}

bool buf_failed(const struct buf *b)
{
    return b->failed;
}

char *buf_steal(struct buf *b, size_t *len)
{
    if (!b->data)
        buf_reserve(b, 0);
    if (b->data)
        b->data[b->len] = '\0';
    char *p = b->failed ? NULL : b->data;
    if (b->failed)
        free(b->data);
    if (len)
        *len = p ? b->len : 0;
    *b = (struct buf)BUF_INIT;
    return p;
}
