/*
 * text.c: UTF-8 and XML character checks, and line escaping (see text.h).
 */
#include "proxier/common/text.h"

#include <stdio.h>

#include "proxier/common/err.h"

/* RFC 3629 section 4: the shortest form only, so a lead byte fixes the range of the
 * value; the second byte's range is restricted for E0, ED, F0 and F4. */
int32_t text_utf8_decode(const char *s, size_t *len)
{
    const unsigned char *p = (const unsigned char *)s;
    *len = 1;
    if (p[0] < 0x80)
        return p[0];
    size_t n;
    int32_t c, min;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        n = 2, c = p[0] & 0x1F, min = 0x80;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3, c = p[0] & 0x0F, min = 0x800;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4, c = p[0] & 0x07, min = 0x10000;
    } else {
        return -1; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return -1; /* also stops at the NUL of a truncated character */
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *len = n;
    return c;
}

bool text_xml_char(int32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

int text_check_xml(const char *s)
{
    for (const char *p = s; *p;) {
        size_t n;
        int32_t c = text_utf8_decode(p, &n);
        if (c < 0)
            return px_err_set(-1, "invalid UTF-8 at byte %zu", (size_t)(p - s) + 1);
        if (!text_xml_char(c))
            return px_err_set(-1, "character U+%04X at byte %zu is not allowed in XML",
                              (unsigned)c, (size_t)(p - s) + 1);
        p += n;
    }
    return 0;
}

static const char *line_escape_of(unsigned char c)
{
    switch (c) {
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return NULL;
    }
}

void text_escape_line(struct buf *b, const char *s)
{
    const char *run = s, *p = s;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        size_t n = 1;
        bool plain = c >= 0x20 && c != 0x7F && c != '\\' &&
                     (c < 0x80 || text_utf8_decode(p, &n) >= 0);
        if (plain) {
            p += n;
            continue;
        }
        buf_append(b, run, (size_t)(p - run));
        const char *esc = line_escape_of(c);
        if (esc)
            buf_puts(b, esc);
        else
            buf_printf(b, "\\x%02X", c);
        run = ++p;
    }
    buf_append(b, run, (size_t)(p - run));
}
