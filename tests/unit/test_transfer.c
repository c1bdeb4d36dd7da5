/*
 * test_transfer.c: the pure parts of proxier/transfer/: ScheduleDownload time windows
 * (TR-069 A.4.1.8: checks, stored form, when a download may start) and the A.5.1 fault of
 * each fetch outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proxier/common/err.h"
#include "proxier/session/http.h"
#include "proxier/transfer/transfer.h"

static struct soap_time_window win(unsigned start, unsigned end, const char *mode)
{
    struct soap_time_window w = {.window_start = start, .window_end = end,
                                 .window_mode = (char *)mode};
    return w;
}

static void test_windows_check(void **state)
{
    struct soap_time_window ok[] = {win(0, 10, "1 At Any Time"), win(10, 20, "3 When Idle")};
    assert_int_equal(transfer_windows_check(ok, 2), 0);
    assert_int_equal(transfer_windows_check(ok, 0), 9003);
    struct soap_time_window confirm[] = {win(0, 10, "4 Confirmation Needed")};
    assert_int_equal(transfer_windows_check(confirm, 1), 9003);
    assert_non_null(strstr(px_err_msg(), "Confirmation Needed"));
    struct soap_time_window overlap[] = {win(0, 10, "2 Immediately"), win(5, 20, "2 Immediately")};
    assert_int_equal(transfer_windows_check(overlap, 2), 9003);
    struct soap_time_window backwards[] = {win(10, 5, "2 Immediately")};
    assert_int_equal(transfer_windows_check(backwards, 1), 9003);
    struct soap_time_window bogus[] = {win(0, 5, "9 Whenever")};
    assert_int_equal(transfer_windows_check(bogus, 1), 9003);
}

static void test_windows_next(void **state)
{
    struct soap_time_window w[] = {win(10, 20, "3 When Idle"), win(100, 200, "2 Immediately")};
    char text[128];
    transfer_windows_format(w, 2, text, sizeof(text));
    assert_string_equal(text, "10,20,3;100,200,2");
    int64_t at = 0;
    /* before the first window: wait for its start */
    assert_int_equal(transfer_windows_next(text, 1000, 1005, false, &at), 0);
    assert_int_equal(at, 1010);
    /* inside a When Idle window while a session runs: look again a second later */
    assert_int_equal(transfer_windows_next(text, 1000, 1012, true, &at), 0);
    assert_int_equal(at, 1013);
    assert_int_equal(transfer_windows_next(text, 1000, 1012, false, &at), 1);
    /* the first window missed: the second one */
    assert_int_equal(transfer_windows_next(text, 1000, 1050, true, &at), 0);
    assert_int_equal(at, 1100);
    assert_int_equal(transfer_windows_next(text, 1000, 1150, true, &at), 1);
    /* every window is over: 9020 for the caller */
    assert_int_equal(transfer_windows_next(text, 1000, 1201, false, &at), -1);
    assert_int_equal(transfer_windows_next("", 1000, 1000, false, &at), -1);
}

static void test_fetch_faults(void **state)
{
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_OK, 200, false), 0);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_CONNECT, 0, false), 9015);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_STATUS, 404, false), 9016);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_INCOMPLETE, 200, false), 9017);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_AUTH, 401, false), 9012);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_TOO_LARGE, 200, false), 9010);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_PROTOCOL, 0, false), 9010);
    /* uploads: 9011 except for authentication (A.5.1) */
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_CONNECT, 0, true), 9011);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_STATUS, 500, true), 9011);
    assert_int_equal(transfer_fetch_fault(HTTP_FETCH_AUTH, 401, true), 9012);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_check),
        cmocka_unit_test(test_windows_next),
        cmocka_unit_test(test_fetch_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
