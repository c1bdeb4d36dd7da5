/*
 * test_dm_type.c: TR-106 types of proxier/dm (dm_type_parse, dm_value_check, dm_type_xsd)
 * and the schema text format with its error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"
#include "proxier/dm/dm.h"

/* Checks value against type text; expect_rc 0 means valid with canonical form want. */
static void check(const char *type, const char *value, const char *xsi, int expect_rc,
                  const char *want)
{
    struct dm_type t;
    if (dm_type_parse(type, &t) != 0)
        fail_msg("type %s does not parse: %s", type, px_err_msg());
    char *canon = NULL;
    int rc = dm_value_check(&t, value, xsi, &canon);
    if (rc != expect_rc)
        fail_msg("%s '%s' (xsi %s): rc %d, expected %d (%s)", type, value, xsi ? xsi : "-", rc,
                 expect_rc, px_err_msg());
    if (!rc && want)
        assert_string_equal(canon, want);
    if (rc)
        assert_null(canon);
    free(canon);
    dm_type_free(&t);
}

#define OK(type, value, want) check(type, value, NULL, 0, want)
#define BAD(type, value) check(type, value, NULL, PX_ERR_INVALID_PARAMETER_VALUE, NULL)

static void test_integers(void **state)
{
    OK("int", "-2147483648", "-2147483648");
    OK("int", "+0042", "42");
    OK("int", "-0", "0");
    BAD("int", "2147483648");
    BAD("int", "-2147483649");
    BAD("int", "");
    BAD("int", "12a");
    BAD("int", " 1");
    OK("unsignedInt", "4294967295", "4294967295");
    BAD("unsignedInt", "4294967296");
    BAD("unsignedInt", "-1");
    OK("long", "-9223372036854775808", "-9223372036854775808");
    BAD("long", "9223372036854775808");
    OK("unsignedLong", "18446744073709551615", "18446744073709551615");
    BAD("unsignedLong", "18446744073709551616");
}

static void test_ranges(void **state)
{
    OK("unsignedInt[1:]", "1", "1");
    BAD("unsignedInt[1:]", "0");
    OK("unsignedInt[1:]", "4294967295", "4294967295");
    OK("int[-1:]", "-1", "-1");
    BAD("int[-1:]", "-2");
    OK("int[:-5]", "-2147483648", "-2147483648");
    BAD("int[:-5]", "-4");
    OK("unsignedInt[1000:65535]", "65535", "65535");
    BAD("unsignedInt[1000:65535]", "999");
    BAD("unsignedInt[1000:65535]", "65536");
    OK("long[-1:65535]", "-1", "-1");
    OK("unsignedInt[0:10,20:30]", "25", "25");
    BAD("unsignedInt[0:10,20:30]", "15");
    OK("unsignedLong[5:]", "18446744073709551615", "18446744073709551615");
    BAD("unsignedLong[:5]", "18446744073709551615");
}

static void test_boolean_datetime(void **state)
{
    OK("boolean", "1", "true");
    OK("boolean", "0", "false");
    OK("boolean", "true", "true");
    OK("boolean", "false", "false");
    BAD("boolean", "TRUE");
    BAD("boolean", "yes");
    OK("dateTime", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
    OK("dateTime", "0001-01-03T03:04:05", "0001-01-03T03:04:05");
    OK("dateTime", "2024-02-29T23:59:59.123456+01:00", NULL);
    OK("dateTime", "2023-12-31T00:00:00-00:00", NULL);
    BAD("dateTime", "2023-02-29T00:00:00Z");
    BAD("dateTime", "1900-02-29T00:00:00Z");
    OK("dateTime", "2000-02-29T00:00:00Z", NULL);
    BAD("dateTime", "2023-13-01T00:00:00Z");
    BAD("dateTime", "2023-04-31T00:00:00Z");
    BAD("dateTime", "2023-01-01T24:00:00Z");
    BAD("dateTime", "2023-01-01T00:60:00Z");
    BAD("dateTime", "2023-01-01T00:00:00.Z");
    BAD("dateTime", "2023-01-01T00:00:00+1:00");
    BAD("dateTime", "2023-01-01 00:00:00Z");
    BAD("dateTime", "0000-01-01T00:00:00Z");
    BAD("dateTime", "2023-01-01T00:00:00ZZ");
}

static void test_binary(void **state)
{
    OK("base64", "", "");
    OK("base64", "QUJD", "QUJD");
    OK("base64", "QUI=", NULL);
    OK("base64", "QQ==", NULL);
    BAD("base64", "QQ=");
    BAD("base64", "Q===");
    BAD("base64", "QU=D");
    BAD("base64", "QU*D");
    OK("base64(3)", "QUJD", NULL); /* 3 bytes decoded: the limit is before encoding */
    BAD("base64(2)", "QUJD");
    OK("base64(2)", "QUI=", NULL);
    OK("hexBinary", "00aBcd", "00aBcd");
    BAD("hexBinary", "abc");
    BAD("hexBinary", "zz");
    OK("hexBinary(2)", "abcd", NULL);
    BAD("hexBinary(2)", "abcdef");
}

static void test_strings(void **state)
{
    OK("string", "", "");
    OK("string(3)", "abc", "abc");
    BAD("string(3)", "abcd");
    /* Four characters, nine bytes: the limit counts characters. */
    OK("string(4)", "\xc3\xa9t\xc3\xa9\xe2\x82\xac", NULL);
    BAD("string(3)", "\xc3\xa9t\xc3\xa9\xe2\x82\xac");
    OK("string(2:4)", "ab", NULL);
    BAD("string(2:4)", "a");
    OK("string{HTTP,STUN,XMPP}", "STUN", "STUN");
    BAD("string{HTTP,STUN,XMPP}", "stun");
    OK("string{Z-Wave, ZigBee}", "ZigBee", NULL);
}

/* The value gate: every type, valid UTF-8 with XML 1.0 characters only (dm.h). */
static void test_value_gate(void **state)
{
    BAD("string", "ab\x01" "cd\xff" "ef");
    assert_non_null(strstr(px_err_msg(), "U+0001 at byte 3"));
    BAD("string", "abcd\xff" "ef");
    assert_non_null(strstr(px_err_msg(), "invalid UTF-8 at byte 5"));
    BAD("string", "\xc0\xaf");           /* overlong */
    BAD("string", "\xed\xa0\x80");       /* surrogate */
    BAD("string", "\xf4\x90\x80\x80");   /* above U+10FFFF */
    BAD("string", "\xef\xbf\xbe");       /* U+FFFE */
    BAD("string", "line\x1b[31m");        /* ESC */
    BAD("base64", "QUJD\x0c");
    BAD("list<string>", "a,\x02");
    OK("string", "tab\tnew\nline\r \xf0\x9f\x98\x80", NULL);
    assert_int_equal(dm_value_text_check("\x7f ok"), 0);
    assert_int_equal(dm_value_text_check("\x08"), PX_ERR_INVALID_PARAMETER_VALUE);
}

static void test_lists(void **state)
{
    OK("list<string{HTTP,STUN,XMPP}>", "", "");
    OK("list<string{HTTP,STUN,XMPP}>", "HTTP, STUN ,XMPP", "HTTP,STUN,XMPP");
    BAD("list<string{HTTP,STUN,XMPP}>", "HTTP,FTP");
    OK("list<unsignedInt[1:10]>", "1,2, 10", "1,2,10");
    BAD("list<unsignedInt[1:10]>", "1,,2");
    OK("list(2)<string>", "a,b", "a,b");
    BAD("list(2)<string>", "a,b,c");
    OK("list<boolean>", "1,false", "true,false");
}

static void test_xsi_type(void **state)
{
    check("unsignedInt", "5", "xsd:unsignedInt", 0, "5");
    check("unsignedInt", "5", "unsignedInt", 0, "5");
    /* Lenient: ACSs send xsd:string for everything; the value must still parse. */
    check("unsignedInt", "5", "xsd:string", 0, "5");
    check("unsignedInt", "x", "xsd:string", PX_ERR_INVALID_PARAMETER_VALUE, NULL);
    check("unsignedInt", "5", "xsd:int", PX_ERR_INVALID_PARAMETER_TYPE, NULL);
    check("string", "5", "xsd:boolean", PX_ERR_INVALID_PARAMETER_TYPE, NULL);
    check("base64", "QUJD", "xsd:base64Binary", 0, NULL);
    check("list<unsignedInt>", "1,2", "xsd:string", 0, "1,2");
}

static void test_type_parse(void **state)
{
    struct dm_type t;
    assert_int_equal(dm_type_parse("list(32)<string(256)>", &t), 0);
    assert_true(t.is_list);
    assert_int_equal(t.list_max_items, 32);
    assert_int_equal(t.max_len, 256);
    assert_string_equal(dm_type_xsd(&t), "xsd:string");
    dm_type_free(&t);
    assert_int_equal(dm_type_parse("unsignedInt[1:65535]", &t), 0);
    assert_int_equal(t.n_ranges, 1);
    assert_int_equal(t.ranges[0].min, 1);
    assert_int_equal(t.ranges[0].max, 65535);
    assert_string_equal(dm_type_xsd(&t), "xsd:unsignedInt");
    dm_type_free(&t);
    assert_int_equal(dm_type_parse("dateTime", &t), 0);
    assert_string_equal(dm_type_xsd(&t), "xsd:dateTime");
    dm_type_free(&t);
    const char *bad[] = {"float", "int[5]", "int[9:1]", "string(x)", "list<int", "string{}",
                         "boolean[1:2]", "list(0)<int>", "stringy", "int[1:]x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dm_type_parse(bad[i], &t) == 0)
            fail_msg("type '%s' should not parse", bad[i]);
}

/* ---------------- Schema text ---------------- */

static const char *schema_text =
    "# comment line\n"
    "object Device.\n"
    "object Device.ManagementServer.\n"
    "param  URL string(256) rw\n"
    "param  Password string(256) rw hidden\n"
    "param  PeriodicInformInterval unsignedInt[1:] rw default=86400\n"
    "param  ConnectionRequestURL string(256) r notify=forced\n"
    "param  Motto string rw default=\"with spaces\"  # trailing comment\n"
    "param  SupportedConnReqMethods list<string{HTTP, STUN, XMPP}> r\n"
    "param  InformParameterNumberOfEntries unsignedInt r\n"
    "table  Device.ManagementServer.InformParameter.{i}. rw count=InformParameterNumberOfEntries\n"
    "param  Enable boolean rw default=1\n";

static void test_schema_loads(void **state)
{
    struct dm_schema *s = dm_schema_new();
    if (dm_schema_load(s, schema_text) != 0)
        fail_msg("%s", px_err_msg());
    const struct dm_node *root = dm_schema_root(s);
    assert_string_equal(root->path, "");
    assert_int_equal(root->n_children, 1);
    const struct dm_node *ms = dm_schema_find(s, "Device.ManagementServer.");
    assert_non_null(ms);
    assert_int_equal(ms->kind, DM_OBJECT);
    /* declaration order */
    assert_string_equal(ms->children[0]->name, "URL");
    assert_string_equal(ms->children[7]->name, "InformParameter");
    const struct dm_node *pw = dm_schema_find(s, "Device.ManagementServer.Password");
    assert_true(pw->hidden && pw->writable);
    assert_int_equal(dm_schema_find(s, "Device.ManagementServer.ConnectionRequestURL")->notify,
                     DM_NOTIFY_FORCED);
    assert_string_equal(dm_schema_find(s, "Device.ManagementServer.Motto")->default_value,
                        "with spaces");
    const struct dm_node *t = dm_schema_find(s, "Device.ManagementServer.InformParameter.{i}.");
    assert_non_null(t);
    assert_int_equal(t->kind, DM_TABLE);
    assert_true(t->writable);
    assert_string_equal(t->name, "InformParameter");
    const struct dm_node *en = dm_schema_find(s, "Device.ManagementServer.InformParameter.{i}.Enable");
    assert_ptr_equal(en->parent, t);
    assert_string_equal(en->default_value, "true");
    const struct dm_node *cnt =
        dm_schema_find(s, "Device.ManagementServer.InformParameterNumberOfEntries");
    assert_true(dm_is_count_param(cnt));
    assert_ptr_equal(cnt->count_of, t);
    assert_false(dm_is_count_param(pw));
    assert_null(dm_schema_find(s, "Device.ManagementServer.URL."));
    assert_null(dm_schema_find(s, "Device.Nothing."));
    assert_int_equal(dm_schema_node_count(s), 12); /* with the root */
    /* A second load (vendor extension) re-opens an object. */
    assert_int_equal(dm_schema_load(s, "object Device.ManagementServer.\n"
                                       "param X_ACME_Extra int rw\n"), 0);
    assert_non_null(dm_schema_find(s, "Device.ManagementServer.X_ACME_Extra"));
    dm_schema_free(s);
}

/* The text must fail with a message containing want. */
static void schema_fails(const char *text, const char *want)
{
    struct dm_schema *s = dm_schema_new();
    int rc = dm_schema_load(s, text);
    if (rc == 0 || !strstr(px_err_msg(), want))
        fail_msg("rc %d, message '%s', expected '%s'", rc, px_err_msg(), want);
    dm_schema_free(s);
}

static void test_schema_errors(void **state)
{
    schema_fails("object Device.\nfrobnicate X\n", "schema:2: unknown keyword 'frobnicate'");
    schema_fails("param X int r\n", "schema:1: parameter 'X' before any object");
    schema_fails("object Device.\n\nparam X float r\n", "schema:3: unknown type 'float'");
    schema_fails("object Device.\nparam X int r\nparam X int r\n", "schema:3: duplicate name 'X'");
    schema_fails("object Device.\ntable Device.T. rw\n", "schema:2: table path 'Device.T.' does "
                                                        "not end in \".{i}.\"");
    schema_fails("object Device.\nobject Device.T.{i}.\n", "schema:2: object path");
    schema_fails("object Device.\nobject Device.A.B.\n", "schema:2: parent object of "
                                                        "'Device.A.B.' is not declared");
    schema_fails("object Device.\ntable Device.A.{i}.B.{i}. rw\n", "schema:2: parent object");
    schema_fails("object Device..X.\n", "schema:1: bad object path");
    schema_fails("object Device.\nparam X int r bogus\n", "schema:2: unexpected 'bogus'");
    schema_fails("object Device.\nparam X unsignedInt[1:] rw default=0\n", "schema:2: bad default");
    schema_fails("object Device.\nparam X string rw default=\"open\n", "schema:2: unbalanced");
    schema_fails("object Device.\ntable Device.T.{i}. rw\nobject Device.T.\n",
                 "schema:3: 'Device.T.' is already declared with another kind");
    schema_fails("object Device.\ntable Device.T.{i}. rw count=TNumberOfEntries\n",
                 "count=TNumberOfEntries must name a read-only unsignedInt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),       cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_boolean_datetime), cmocka_unit_test(test_binary),
        cmocka_unit_test(test_strings),        cmocka_unit_test(test_value_gate),        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_xsi_type),       cmocka_unit_test(test_type_parse),
        cmocka_unit_test(test_schema_loads),   cmocka_unit_test(test_schema_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
