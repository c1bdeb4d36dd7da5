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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_escapes_xml),
        cmocka_unit_test(test_err_message_is_kept),
        cmocka_unit_test(test_trace_masks_passwords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
