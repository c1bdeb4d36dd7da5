/*
 * test_core.c: the core's pure pieces: configuration parsing and its errors, Table 8 policies,
 * the Table 3 retry ranges, the 3.4.4 username and TR-106 dateTime parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxier/common/err.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/events.h"
#include "proxier/core/util.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/px-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(struct px_config *cfg, const char *text)
{
    char *path = write_temp(text);
    config_defaults(cfg);
    int rc = config_load_file(cfg, path);
    unlink(path);
    return rc;
}

static void test_config_file_sets_values(void **state)
{
    struct px_config cfg;
    assert_int_equal(load(&cfg, "# comment\n[acs]\nurl = http://acs.example/cwmp\n"
                                "password = \"  spaced # not a comment \"\n"
                                "[cwmp]\nperiodic_inform_interval = 600 # trailing\n"
                                "periodic_inform_enable = no\n[log]\nlevel = debug\n"),
                     0);
    assert_string_equal(cfg.acs_url, "http://acs.example/cwmp");
    assert_string_equal(cfg.acs_password, "  spaced # not a comment ");
    assert_int_equal(cfg.periodic_inform_interval, 600);
    assert_false(cfg.periodic_inform_enable);
    assert_int_equal(cfg.log_level, 3);
    assert_int_equal(config_validate(&cfg), 0);
    config_free(&cfg);
}

static void test_config_errors_name_line_and_key(void **state)
{
    struct px_config cfg;
    assert_int_not_equal(load(&cfg, "[acs]\nurl = http://x\n[acs]\nbogus = 1\n"), 0);
    assert_non_null(strstr(px_err_msg(), ":4: unknown key acs.bogus"));
    config_free(&cfg);

    assert_int_not_equal(load(&cfg, "[cwmp]\nretry_interval_multiplier = 999\n"), 0);
    assert_non_null(strstr(px_err_msg(), ":2: cwmp.retry_interval_multiplier"));
    assert_non_null(strstr(px_err_msg(), "[1000, 65535]"));
    config_free(&cfg);

    assert_int_not_equal(load(&cfg, "[acs]\nverify_peer = maybe\n"), 0);
    assert_non_null(strstr(px_err_msg(), "not a boolean"));
    config_free(&cfg);

    assert_int_not_equal(load(&cfg, "url = http://x\n"), 0);
    assert_non_null(strstr(px_err_msg(), "outside of any [section]"));
    config_free(&cfg);

    assert_int_not_equal(load(&cfg, "[acs\n"), 0);
    assert_non_null(strstr(px_err_msg(), "malformed section header"));
    config_free(&cfg);

    assert_int_not_equal(load(&cfg, "[acs]\ncompression = brotli\n"), 0);
    assert_non_null(strstr(px_err_msg(), "acs.compression"));
    config_free(&cfg);
}

static void test_config_validate(void **state)
{
    struct px_config cfg;
    config_defaults(&cfg);
    assert_int_not_equal(config_validate(&cfg), 0);
    assert_non_null(strstr(px_err_msg(), "no ACS URL"));
    assert_int_equal(config_set(&cfg, "acs", "url", "ftp://acs"), 0);
    assert_int_not_equal(config_validate(&cfg), 0);
    assert_int_equal(config_set(&cfg, "acs", "url", "https://acs"), 0);
    assert_int_equal(config_set(&cfg, "device", "oui", "00d09e"), 0);
    assert_int_not_equal(config_validate(&cfg), 0);
    assert_non_null(strstr(px_err_msg(), "device.oui"));
    assert_int_equal(config_set(&cfg, "device", "oui", "00D09E"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    config_free(&cfg);
}

static void test_config_default_table(void **state)
{
    struct px_config cfg;
    config_defaults(&cfg);
    static const struct config_default table[] = {
        CONFIG_DEFAULT("A", CV_STRING, acs_url),
        CONFIG_DEFAULT("B", CV_UINT, periodic_inform_interval),
        CONFIG_DEFAULT("C", CV_BOOL, periodic_inform_enable),
    };
    assert_null(config_default_value(&cfg, table, 3, "A")); /* unset: the schema decides */
    assert_null(config_default_value(&cfg, table, 3, "Z"));
    config_set(&cfg, "acs", "url", "http://acs/");
    config_set(&cfg, "cwmp", "periodic_inform_enable", "no");
    char *a = config_default_value(&cfg, table, 3, "A");
    char *b = config_default_value(&cfg, table, 3, "B");
    char *c = config_default_value(&cfg, table, 3, "C");
    assert_string_equal(a, "http://acs/");
    assert_string_equal(b, "86400");
    assert_string_equal(c, "false");
    free(a);
    free(b);
    free(c);
    config_free(&cfg);
}

static void test_event_policies_follow_table_8(void **state)
{
    assert_false(events_policy(EV_BOOT)->multiple);
    assert_int_equal(events_policy(EV_BOOT)->retry, EV_RETRY_UNTIL_REBOOT);
    assert_int_equal(events_policy(EV_BOOTSTRAP)->retry, EV_RETRY_KEEP_FOREVER);
    assert_int_equal(events_policy(EV_CONNECTION_REQUEST)->retry, EV_RETRY_NEVER);
    assert_int_equal(events_policy(EV_VALUE_CHANGE)->retry, EV_RETRY_UNTIL_REBOOT);
    assert_int_equal(events_policy(EV_PERIODIC)->retry, EV_RETRY_ALWAYS);
    assert_true(events_policy(EV_M_REBOOT)->multiple);
    assert_true(events_policy("M Download")->multiple);
    assert_int_equal(events_policy("M Download")->confirm, EV_CONFIRM_TRANSFER_COMPLETE);
    assert_int_equal(events_policy(EV_TRANSFER_COMPLETE)->confirm, EV_CONFIRM_TRANSFER_COMPLETE);
    assert_int_equal(events_policy("X 00D09E Tamper")->confirm, EV_CONFIRM_INFORM);
    /* At a restart: only what Table 8 says is never discarded survives (3.7.1.5). */
    assert_int_equal(events_policy(EV_CONNECTION_REQUEST)->at_restart, EV_RESTART_DISCARD);
    assert_int_equal(events_policy(EV_BOOT)->at_restart, EV_RESTART_DISCARD);
    assert_int_equal(events_policy(EV_M_SCHEDULE_INFORM)->at_restart, EV_RESTART_KEEP);
    assert_int_equal(events_policy("X 00D09E Tamper")->at_restart, EV_RESTART_DISCARD);
    size_t n;
    const struct ev_policy *rows = events_table(&n);
    for (size_t i = 0; i < n; i++) {
        bool kept = rows[i].retry == EV_RETRY_ALWAYS || rows[i].retry == EV_RETRY_KEEP_FOREVER;
        assert_int_equal(rows[i].at_restart, kept ? EV_RESTART_KEEP : EV_RESTART_DISCARD);
    }
    assert_true(events_code_valid("0 BOOTSTRAP"));
    assert_true(events_code_valid("M X_00D09E_Thing"));
    assert_true(events_code_valid("X ACME_COM MyEvent"));
    assert_false(events_code_valid("BOOTSTRAP"));
    assert_false(events_code_valid("1"));
    assert_false(events_code_valid("M "));
}

static void test_retry_ranges_follow_table_3(void **state)
{
    /* 3.2.1.1: the factory defaults are the values of Table 3's Default column */
    struct px_config cfg;
    config_defaults(&cfg);
    assert_int_equal(cfg.retry_minimum_wait, 5);
    assert_int_equal(cfg.retry_interval_multiplier, 2000);
    config_free(&cfg);

    double lo, hi;
    static const double expected[][2] = {{5, 10},     {10, 20},    {20, 40},    {40, 80},
                                         {80, 160},   {160, 320},  {320, 640},  {640, 1280},
                                         {1280, 2560}, {2560, 5120}, {2560, 5120}};
    for (unsigned n = 1; n <= 11; n++) {
        endpoint_retry_range(5, 2000, n, &lo, &hi);
        assert_true(lo == expected[n - 1][0] && hi == expected[n - 1][1]);
    }
    endpoint_retry_range(30, 1500, 2, &lo, &hi);
    assert_true(lo == 45 && hi == 67.5);
    endpoint_retry_range(1, 1000, 7, &lo, &hi);
    assert_true(lo == 1 && hi == 1);
}

static void test_username_of_3_4_4(void **state)
{
    struct endpoint_identity id = {"Acme", "012345", "Set-Top Box", "0123456789"};
    char *u = mgmt_default_username(&id);
    assert_string_equal(u, "012345-Set%2DTop%20Box-0123456789");
    free(u);
    id.product_class = "";
    id.serial_number = "\xc3\xa9X";
    u = mgmt_default_username(&id);
    assert_string_equal(u, "012345-%C3%A9X");
    free(u);
}

static void test_datetime(void **state)
{
    time_t t;
    assert_int_equal(util_parse_datetime("2026-11-22T05:01:54Z", &t), 0);
    assert_int_equal(t, 1795323714);
    assert_int_equal(util_parse_datetime("2026-11-22T06:01:54.250+01:00", &t), 0);
    assert_int_equal(t, 1795323714);
    assert_int_equal(util_parse_datetime("0001-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(util_parse_datetime("", &t), 0);
    assert_int_equal(t, 0);
    assert_int_not_equal(util_parse_datetime("yesterday", &t), 0);
    assert_int_not_equal(util_parse_datetime("2026-11-22T05:01:54 garbage", &t), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_file_sets_values),
        cmocka_unit_test(test_config_errors_name_line_and_key),
        cmocka_unit_test(test_config_validate),
        cmocka_unit_test(test_config_default_table),
        cmocka_unit_test(test_event_policies_follow_table_8),
        cmocka_unit_test(test_retry_ranges_follow_table_3),
        cmocka_unit_test(test_username_of_3_4_4),
        cmocka_unit_test(test_datetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
