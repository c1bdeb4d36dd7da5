/*
 * test_common.c: the shared helpers of proxier/common: buffers, errors, password masking.
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
#include "proxier/common/log.h"
#include "proxier/common/text.h"

static void test_buf_escapes_xml(void **state)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "<a>");
    buf_xml_escaped(&b, "x<y & \"z\" 'w'>");
    buf_printf(&b, "%d", 42);
    assert_false(buf_failed(&b));
    assert_string_equal(b.data, "<a>x&lt;y &amp; &quot;z&quot; &apos;w&apos;&gt;42");
    size_t len;
    char *s = buf_steal(&b, &len);
    assert_int_equal(len, strlen(s));
    assert_null(b.data);
    free(s);
}

static void test_err_message_is_kept(void **state)
{
    int rc = px_err_set(PX_ERR_INVALID_PARAMETER_NAME, "no parameter %s", "Device.X");
    assert_int_equal(rc, 9005);
    assert_string_equal(px_err_msg(), "no parameter Device.X");
    assert_string_equal(px_err_default_string(9008), "Attempt to set a non-writable parameter");
    px_err_clear();
    assert_string_equal(px_err_msg(), "");
}

static void test_trace_masks_passwords(void **state)
{
    const char *xml = "<cwmp:SetParameterValues><ParameterList>"
                      "<ParameterValueStruct><Name>Device.ManagementServer.Password</Name>"
                      "<Value xsi:type=\"xsd:string\">s3cret</Value></ParameterValueStruct>"
                      "<ParameterValueStruct><Name>Device.ManagementServer.URL</Name>"
                      "<Value>http://acs</Value></ParameterValueStruct>"
                      "</ParameterList></cwmp:SetParameterValues><Password>p2</Password>";
    char *m = log_mask_passwords(xml, strlen(xml));
    assert_null(strstr(m, "s3cret"));
    assert_null(strstr(m, "p2<"));
    assert_non_null(strstr(m, "http://acs"));
    assert_non_null(strstr(m, "<Password>***</Password>"));
    free(m);
}

/* The ring keeps the last N lines in order, in the stderr format; 0 keeps nothing. */
static void test_log_ring_keeps_the_last_lines(void **state)
{
    log_setup(LOG_TARGET_STDERR, LOG_LVL_INFO, false);
    log_ring_setup(3);
    size_t len;
    char *text = log_ring_text(&len);
    assert_string_equal(text, "");
    free(text);
    for (int i = 1; i <= 5; i++)
        log_write(LOG_LVL_INFO, "test", "line %d", i);
    log_write(LOG_LVL_DEBUG, "test", "filtered by the level");
    text = log_ring_text(&len);
    assert_int_equal(len, strlen(text));
    const char *p3 = strstr(text, "info  [test] line 3\n");
    const char *p5 = strstr(text, "info  [test] line 5\n");
    assert_non_null(p3);
    assert_non_null(p5);
    assert_true(p3 < p5);
    assert_null(strstr(text, "line 2"));
    assert_null(strstr(text, "filtered"));
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    assert_memory_equal(text + 4, "-", 1); /* "2026-..." starts the line */
    free(text);
    log_ring_setup(0);
    log_write(LOG_LVL_INFO, "test", "not kept");
    text = log_ring_text(&len);
    assert_string_equal(text, "");
    assert_int_equal(len, 0);
    free(text);
}

/* RFC 3629: shortest forms only, no surrogates, nothing above U+10FFFF. */
static void test_utf8_decode(void **state)
{
    size_t n;
    assert_int_equal(text_utf8_decode("A", &n), 'A');
    assert_int_equal(n, 1);
    assert_int_equal(text_utf8_decode("\xc3\xa9", &n), 0xE9);
    assert_int_equal(n, 2);
    assert_int_equal(text_utf8_decode("\xe2\x82\xac", &n), 0x20AC);
    assert_int_equal(n, 3);
    assert_int_equal(text_utf8_decode("\xf0\x9f\x98\x80", &n), 0x1F600);
    assert_int_equal(n, 4);
    assert_int_equal(text_utf8_decode("\xf4\x8f\xbf\xbf", &n), 0x10FFFF);
    const char *bad[] = {
        "\x80",             /* stray continuation byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong, three bytes */
        "\xf0\x80\x80\xaf", /* overlong, four bytes */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte beyond F4 */
        "\xff",
        "\xe2\x82",         /* truncated */
        "\xc3(",            /* continuation missing */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(text_utf8_decode(bad[i], &n), -1);
        assert_int_equal(n, 1);
    }
}

/* XML 1.0 2.2 Char. */
static void test_xml_chars(void **state)
{
    assert_int_equal(text_check_xml(""), 0);
    assert_int_equal(text_check_xml("tab\there\nCR\r \xc3\xa9\xef\xbf\xbd\xf0\x9f\x98\x80"), 0);
    assert_int_equal(text_check_xml("ab\x01" "cd"), -1);
    assert_string_equal(px_err_msg(), "character U+0001 at byte 3 is not allowed in XML");
    assert_int_equal(text_check_xml("abcd\xff" "ef"), -1);
    assert_string_equal(px_err_msg(), "invalid UTF-8 at byte 5");
    assert_int_equal(text_check_xml("\x7f"), 0); /* DEL is a Char in XML 1.0 */
    assert_int_equal(text_check_xml("\xef\xbf\xbe"), -1); /* U+FFFE */
    assert_int_equal(text_check_xml("\xef\xbf\xbf"), -1); /* U+FFFF */
    assert_int_equal(text_check_xml("\xed\x9f\xbf"), 0);  /* U+D7FF */
    assert_int_equal(text_check_xml("\xee\x80\x80"), 0);  /* U+E000 */
    assert_false(text_xml_char(0x1F));
    assert_true(text_xml_char(0x20));
}

/* Whatever is in memory, the XML text written is well-formed: bad bytes become U+FFFD. */
static void test_buf_xml_replaces_what_xml_cannot_hold(void **state)
{
    struct buf b = BUF_INIT;
    buf_xml_escaped(&b, "a\x01" "b\xff" "c\xc0\xaf" "d\xed\xa0\x80" "e\xef\xbf\xbe" "f\xe2\x82");
    assert_string_equal(b.data, "a" TEXT_REPLACEMENT "b" TEXT_REPLACEMENT "c" TEXT_REPLACEMENT
                                TEXT_REPLACEMENT "d" TEXT_REPLACEMENT TEXT_REPLACEMENT
                                TEXT_REPLACEMENT "e" TEXT_REPLACEMENT "f" TEXT_REPLACEMENT
                                TEXT_REPLACEMENT);
    assert_int_equal(text_check_xml(b.data), 0);
    buf_reset(&b);
    buf_xml_escaped(&b, "\xc3\xa9\t\n\r<&>");
    assert_string_equal(b.data, "\xc3\xa9\t\n&#13;&lt;&amp;&gt;");
    buf_free(&b);
}

/* One value, one line: nothing in it can end the line or be mistaken for an escape. */
static void test_escape_line(void **state)
{
    struct buf b = BUF_INIT;
    text_escape_line(&b, "x\nok forged\r\\n\t\x01\x7f\xff\xc3\xa9 end");
    assert_string_equal(b.data, "x\\nok forged\\r\\\\n\\t\\x01\\x7F\\xFF\xc3\xa9 end");
    assert_null(strchr(b.data, '\n'));
    buf_reset(&b);
    text_escape_line(&b, "");
    assert_true(b.data == NULL || b.data[0] == '\0');
    buf_free(&b);
}

static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static char *ring(void)
{
    size_t len;
    return log_ring_text(&len);
}

/* The first occurrence at once, repeats within the interval counted, one summary line when
 * it is over (by the flush timer, or by the next occurrence); 0 logs every one. */
static void test_log_limited_counts_repeats(void **state)
{
    log_setup(LOG_TARGET_STDERR, LOG_LVL_INFO, false);
    log_ring_setup(50);
    log_set_repeat_interval(60);
    struct log_limit l = {0};
    assert_false(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", 1));
    for (int i = 2; i <= 5; i++)
        assert_true(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", i));
    assert_true(log_limit_due(&l) > 59 && log_limit_due(&l) <= 60);
    log_limit_flush(&l); /* not due yet: nothing */
    char *text = ring();
    assert_int_equal(count_lines(text, "[test] refused"), 1);
    assert_non_null(strstr(text, "warn  [test] refused 1\n"));
    free(text);

    l.since -= 61; /* the interval is over: the timer flushes */
    log_limit_flush(&l);
    text = ring();
    assert_non_null(strstr(text, "warn  [test] refused 5 (4 more in the last 60 s)\n"));
    assert_int_equal(count_lines(text, "[test] refused"), 2);
    free(text);
    assert_int_equal(log_limit_due(&l), -1);

    /* a new interval began with the summary: a repeat is held, then summed up alone */
    assert_true(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", 6));
    l.since -= 61;
    log_limit_flush(&l);
    l.since -= 61;
    log_limit_flush(&l); /* nothing held: the interval closes without a line */
    text = ring();
    assert_non_null(strstr(text, "refused 6 (1 more in the last 60 s)\n"));
    assert_int_equal(count_lines(text, "[test] refused"), 3);
    free(text);
    assert_false(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", 7));

    /* no timer: the next occurrence after the interval writes the count first */
    assert_true(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", 8));
    l.since -= 61;
    assert_false(log_limited(&l, LOG_LVL_WARN, "test", "refused %d", 9));
    text = ring();
    const char *sum = strstr(text, "refused 8 (1 more in the last 60 s)\n");
    const char *nine = strstr(text, "refused 9\n");
    assert_non_null(sum);
    assert_non_null(nine);
    assert_true(sum < nine);
    assert_int_equal(count_lines(text, "[test] refused"), 6);
    free(text);

    log_set_repeat_interval(0);
    struct log_limit every = {0};
    for (int i = 0; i < 3; i++)
        assert_false(log_limited(&every, LOG_LVL_INFO, "test", "each %d", i));
    assert_int_equal(log_limit_due(&every), -1);
    text = ring();
    assert_int_equal(count_lines(text, "[test] each"), 3);
    free(text);
    log_set_repeat_interval(60);
    log_ring_setup(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_escapes_xml),
        cmocka_unit_test(test_err_message_is_kept),
        cmocka_unit_test(test_trace_masks_passwords),
        cmocka_unit_test(test_log_ring_keeps_the_last_lines),
        cmocka_unit_test(test_utf8_decode),
        cmocka_unit_test(test_xml_chars),
        cmocka_unit_test(test_buf_xml_replaces_what_xml_cannot_hold),
        cmocka_unit_test(test_escape_line),
        cmocka_unit_test(test_log_limited_counts_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
