/*
 * test_backup_file.c: the configuration backup format (proxier/transfer/backup_file.h):
 * hostile values round-trip through the writer and the parser byte for byte, and the
 * parser refuses, with 9018 (TR-069 A.5.1) and the line, what the writer never writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/transfer/backup_file.h"

static const char *const hostile[] = {
    "",
    "plain",
    "new\nline",
    "tab\there",
    "cr\rlf\r\n",
    "back\\slash\\",
    "\\x41 is not an escape here",
    "\\",
    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", /* UTF-8 */
    "\xff\xfe not UTF-8 \x80",              /* any byte */
    "\x01\x02\x1f\x7f controls",
    "  spaces around  ",
    "# not a comment",
    "value\tinstance\tattr",
};

static void test_hostile_values_round_trip(void **state)
{
    size_t n = sizeof(hostile) / sizeof(hostile[0]);
    struct buf b = BUF_INIT;
    backup_file_write_header(&b, "gateway \"X\"\nwith a newline");
    struct backup_record inst = {.kind = BACKUP_INSTANCE, .path = "Device.T.3."};
    backup_file_write_record(&b, &inst);
    for (size_t i = 0; i < n; i++) {
        struct backup_record r = {
            .kind = BACKUP_VALUE, .path = "Device.P", .value = (char *)hostile[i]};
        backup_file_write_record(&b, &r);
    }
    struct backup_record attr = {
        .kind = BACKUP_ATTR, .path = "Device.A\tB", .notification = 2, .access_list = "Subscriber"};
    backup_file_write_record(&b, &attr);
    assert_false(buf_failed(&b));
    /* one line per record plus the header and the comment: nothing escaped leaks a LF */
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    assert_int_equal(lines, n + 4);

    struct backup_file f;
    assert_int_equal(backup_file_parse(b.data, b.len, &f), 0);
    assert_int_equal(f.n, n + 2);
    assert_int_equal(f.records[0].kind, BACKUP_INSTANCE);
    assert_string_equal(f.records[0].path, "Device.T.3.");
    assert_int_equal(f.records[0].line, 3);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f.records[1 + i].kind, BACKUP_VALUE);
        assert_string_equal(f.records[1 + i].path, "Device.P");
        assert_string_equal(f.records[1 + i].value, hostile[i]);
    }
    struct backup_record *a = &f.records[n + 1];
    assert_int_equal(a->kind, BACKUP_ATTR);
    assert_string_equal(a->path, "Device.A\tB");
    assert_int_equal(a->notification, 2);
    assert_string_equal(a->access_list, "Subscriber");
    backup_file_free(&f);
    buf_free(&b);
}

static void test_escapes_are_the_documented_ones(void **state)
{
    struct buf b = BUF_INIT;
    struct backup_record r = {.kind = BACKUP_VALUE, .path = "P", .value = "a\\b\tc\nd\re\x01\x7f"};
    backup_file_write_record(&b, &r);
    assert_string_equal(b.data, "value\tP\ta\\\\b\\tc\\nd\\re\\x01\\x7f\n");
    buf_free(&b);
    /* upper-case hex digits, CR LF line ends, comments, empty lines, no final LF */
    const char *text = "# proxierd-config 1\r\n# comment\r\n\r\nvalue\tP\t\\x4A\\x4a\r\n"
                       "value\tQ\t";
    struct backup_file f;
    assert_int_equal(backup_file_parse(text, strlen(text), &f), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.records[0].value, "JJ");
    assert_int_equal(f.records[0].line, 4);
    assert_string_equal(f.records[1].value, "");
    backup_file_free(&f);
}

static void expect_refused(const char *text, size_t len, const char *why)
{
    struct backup_file f;
    px_err_clear();
    assert_int_equal(backup_file_parse(text, len, &f), 9018);
    if (!strstr(px_err_msg(), why))
        fail_msg("\"%s\" does not say \"%s\"", px_err_msg(), why);
    assert_int_equal(f.n, 0);
    assert_null(f.records);
}

#define HDR "# proxierd-config 1\n"
/* A literal with its length, NUL bytes included. */
#define REFUSE(text, why) expect_refused(text, sizeof(text) - 1, why)

static void test_refusals_say_why_and_where(void **state)
{
    REFUSE("", "empty");
    REFUSE("value\tP\tx\n", "line 1: not a proxierd configuration backup");
    REFUSE("# proxierd-config 2\nvalue\tP\tx\n", "version \"2\" is not supported");
    REFUSE(HDR "value\tP\tx\nsetting\tP\tx\n", "line 3: unknown record");
    REFUSE(HDR "value\tP\n", "line 2: wrong number");
    REFUSE(HDR "instance\tT.1.\textra\n", "line 2: wrong number");
    REFUSE(HDR "attr\tP\t2\tSubscriber\tmore\n", "too many");
    REFUSE(HDR "value\tP\ta\\qb\n", "line 2: a backslash starts no escape");
    REFUSE(HDR "value\tP\t\\x4\n", "no escape");
    REFUSE(HDR "value\tP\t\\x4g\n", "no escape");
    REFUSE(HDR "value\tP\tend\\\n", "no escape");
    REFUSE(HDR "value\tP\ta\\x00b\n", "NUL");
    REFUSE(HDR "value\tP\ta\rb\n", "raw control byte 0x0d");
    REFUSE(HDR "value\tP\ta\0b\n", "raw control byte 0x00");
    REFUSE(HDR "value\t\tx\n", "path is empty");
    REFUSE(HDR "attr\tP\t7\t\n", "notification");
    REFUSE(HDR "attr\tP\t02\t\n", "notification");
    char *big = malloc(BACKUP_FILE_MAX_BYTES + 1);
    memset(big, '#', BACKUP_FILE_MAX_BYTES + 1);
    expect_refused(big, BACKUP_FILE_MAX_BYTES + 1, "larger than");
    free(big);
}

static void test_record_count_is_bounded(void **state)
{
    struct buf b = BUF_INIT;
    backup_file_write_header(&b, NULL);
    for (unsigned i = 0; i <= BACKUP_FILE_MAX_RECORDS; i++)
        buf_puts(&b, "instance\tT.1.\n");
    expect_refused(b.data, b.len, "more records");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_values_round_trip),
        cmocka_unit_test(test_escapes_are_the_documented_ones),
        cmocka_unit_test(test_refusals_say_why_and_where),
        cmocka_unit_test(test_record_count_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
