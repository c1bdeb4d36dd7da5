/*
 * buf.h: a growable byte buffer, always NUL-terminated, used to build SOAP and SQL text.
 *
 * Allocation failure is sticky: after one, every append is a no-op and buf_failed() is true,
 * so a writer checks once at the end instead of after every append.
 */
#ifndef PX_BUF_H
#define PX_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    bool failed;
};

#define BUF_INIT {NULL, 0, 0, false}

void buf_append(struct buf *b, const char *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as XML character data: the five XML special characters and CR escaped, and
 * every byte that is not valid UTF-8 or a character XML 1.0 forbids (text.h) replaced by
 * U+FFFD, so the result is always well-formed whatever s holds. */
void buf_xml_escaped(struct buf *b, const char *s);
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
void buf_free(struct buf *b);
bool buf_failed(const struct buf *b);
/* Hand the data to the caller (who frees it) and reset the buffer. */
char *buf_steal(struct buf *b, size_t *len);

#endif
