/*
 * text.h: what text from outside must be before it enters the daemon's data, and how it is
 * made safe where it leaves: UTF-8 decoding (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), the characters XML 1.0 allows (XML 1.0 2.2 "Char"), and the
 * escaping of a value into one line of a line-based protocol (the control socket).
 */
#ifndef PX_TEXT_H
#define PX_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxier/common/buf.h"

#define TEXT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD REPLACEMENT CHARACTER */

/* Decode the UTF-8 character at s (NUL-terminated). Returns its code point and sets *len to
 * its byte length (>= 1), or returns -1 with *len = 1 when the bytes there are not a valid
 * UTF-8 character (a stray continuation byte, a truncated, overlong or surrogate form, or a
 * value above U+10FFFF). */
int32_t text_utf8_decode(const char *s, size_t *len);

/* XML 1.0 2.2: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
bool text_xml_char(int32_t c);

/* 0 when s is valid UTF-8 made of XML 1.0 characters only; otherwise -1 with px_err_msg
 * saying what is wrong and at which byte ("invalid UTF-8 at byte 5", "character U+0001 at
 * byte 2 is not allowed in XML"). */
int text_check_xml(const char *s);

/* Append s escaped so that it fits on one line and reads back unambiguously: backslash as
 * "\\", LF as "\n", CR as "\r", tab as "\t", every other byte below 0x20, 0x7F, and every
 * byte that is not part of a valid UTF-8 character as "\xHH". Valid UTF-8 above 0x7F is
 * kept as it is. */
void text_escape_line(struct buf *b, const char *s);

#endif
