/*
 * test_http_slots.c: the connection slots of the HTTP connection-request listener
 * (proxier/connreq/http_slots.c): which connection gives its slot up when a new one exceeds
 * max_connections_per_ip or max_connections, so that a valid request gets through a
 * slow-client attack from one address or from several.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proxier/connreq/http_slots.h"

/* ::ffff:127.0.0.<last>, valid until the next call (http_slots_open copies it) */
static const unsigned char *addr(unsigned char last)
{
    static unsigned char p[HTTP_SLOTS_ADDR_LEN];
    memset(p, 0, HTTP_SLOTS_ADDR_LEN);
    p[10] = p[11] = 0xff;
    p[12] = 127;
    p[15] = last;
    return p;
}

/* Open one connection from 127.0.0.<last>, owned by tag; returns the victim (or NULL). */
static struct http_slot *open_one(struct http_slots *s, unsigned char last, int *tag,
                                  struct http_slot **opened, enum http_slots_limit *why)
{
    *opened = http_slots_open(s, addr(last), tag);
    assert_non_null(*opened);
    return http_slots_victim(s, *opened, why);
}

static void test_within_limits_nothing_is_closed(void **state)
{
    struct http_slots *s = http_slots_new(4, 2);
    int tags[4];
    struct http_slot *c;
    enum http_slots_limit why;
    assert_null(open_one(s, 1, &tags[0], &c, &why));
    assert_null(open_one(s, 1, &tags[1], &c, &why));
    assert_int_equal(why, HTTP_SLOTS_WITHIN);
    assert_null(open_one(s, 2, &tags[2], &c, &why));
    assert_int_equal(http_slots_live(s), 3);
    assert_int_equal(http_slot_address_live(c), 1);
    assert_ptr_equal(http_slot_owner(c), &tags[2]);
    http_slots_free(s);
}

static void test_per_address_closes_that_address_oldest_incomplete(void **state)
{
    struct http_slots *s = http_slots_new(100, 3);
    int tags[5];
    struct http_slot *c[5];
    enum http_slots_limit why;
    assert_null(open_one(s, 1, &tags[0], &c[0], &why));
    assert_null(open_one(s, 2, &tags[1], &c[1], &why)); /* another address, older */
    assert_null(open_one(s, 1, &tags[2], &c[2], &why));
    assert_null(open_one(s, 1, &tags[3], &c[3], &why));
    http_slots_answering(c[0]); /* being answered: kept */
    struct http_slot *victim = open_one(s, 1, &tags[4], &c[4], &why);
    assert_int_equal(why, HTTP_SLOTS_PER_ADDRESS);
    assert_ptr_equal(victim, c[2]);
    http_slots_release(s, victim);
    assert_true(http_slot_released(victim));
    assert_int_equal(http_slot_address_live(c[4]), 3);
    assert_int_equal(http_slots_live(s), 4);
    http_slots_close(s, victim);
    assert_int_equal(http_slots_live(s), 4);
    http_slots_free(s);
}

static void test_total_closes_the_oldest_of_the_heaviest_address(void **state)
{
    struct http_slots *s = http_slots_new(5, 10);
    int tags[6];
    struct http_slot *c[6];
    enum http_slots_limit why;
    assert_null(open_one(s, 9, &tags[0], &c[0], &why)); /* the oldest, alone: the ACS */
    assert_null(open_one(s, 2, &tags[1], &c[1], &why));
    assert_null(open_one(s, 3, &tags[2], &c[2], &why));
    assert_null(open_one(s, 3, &tags[3], &c[3], &why));
    assert_null(open_one(s, 2, &tags[4], &c[4], &why));
    /* 2 and 3 hold two each: the oldest of them, c[1], goes; never the ACS's */
    struct http_slot *victim = open_one(s, 4, &tags[5], &c[5], &why);
    assert_int_equal(why, HTTP_SLOTS_TOTAL);
    assert_ptr_equal(victim, c[1]);
    http_slots_release(s, victim);
    assert_int_equal(http_slots_live(s), 5);
    http_slots_free(s);
}

static void test_the_new_one_goes_when_every_other_is_answering(void **state)
{
    struct http_slots *s = http_slots_new(2, 2);
    int tags[3];
    struct http_slot *c[3];
    enum http_slots_limit why;
    assert_null(open_one(s, 1, &tags[0], &c[0], &why));
    assert_null(open_one(s, 2, &tags[1], &c[1], &why));
    http_slots_answering(c[0]);
    http_slots_answering(c[1]);
    struct http_slot *victim = open_one(s, 3, &tags[2], &c[2], &why);
    assert_ptr_equal(victim, c[2]);
    assert_int_equal(why, HTTP_SLOTS_TOTAL);
    http_slots_free(s);
}

static void test_restart_makes_a_keep_alive_connection_the_youngest(void **state)
{
    struct http_slots *s = http_slots_new(100, 2);
    int tags[3];
    struct http_slot *c[3];
    enum http_slots_limit why;
    assert_null(open_one(s, 1, &tags[0], &c[0], &why));
    assert_null(open_one(s, 1, &tags[1], &c[1], &why));
    http_slots_answering(c[0]);
    http_slots_restart(s, c[0]); /* answered, a second request starts on it */
    struct http_slot *victim = open_one(s, 1, &tags[2], &c[2], &why);
    assert_ptr_equal(victim, c[1]);
    http_slots_free(s);
}

static void test_closing_frees_the_address(void **state)
{
    struct http_slots *s = http_slots_new(100, 1);
    int tags[2];
    struct http_slot *c[2];
    enum http_slots_limit why;
    assert_null(open_one(s, 1, &tags[0], &c[0], &why));
    http_slots_close(s, c[0]);
    assert_int_equal(http_slots_live(s), 0);
    assert_null(open_one(s, 1, &tags[1], &c[1], &why));
    assert_int_equal(http_slot_address_live(c[1]), 1);
    http_slots_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_within_limits_nothing_is_closed),
        cmocka_unit_test(test_per_address_closes_that_address_oldest_incomplete),
        cmocka_unit_test(test_total_closes_the_oldest_of_the_heaviest_address),
        cmocka_unit_test(test_the_new_one_goes_when_every_other_is_answering),
        cmocka_unit_test(test_restart_makes_a_keep_alive_connection_the_youngest),
        cmocka_unit_test(test_closing_frees_the_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
