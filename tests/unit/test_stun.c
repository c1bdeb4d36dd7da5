/*
 * test_stun.c: the RFC 3489 codec of TR-069 Annex G (proxier/connreq/stun.c): Binding
 * Requests with CONNECTION-REQUEST-BINDING / BINDING-CHANGE / USERNAME / MESSAGE-INTEGRITY
 * (G.2.1.1, G.2.1.3 Table 107), RESPONSE-ADDRESS for binding-timeout discovery from a
 * secondary port (G.2.1.2), and the responses the client reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proxier/connreq/stun.h"

static const uint8_t TXID[STUN_TXID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static size_t build(const struct stun_request *req, uint8_t *out)
{
    int n = stun_build_request(req, out, STUN_MAX_MESSAGE);
    assert_true(n >= STUN_HEADER_LEN);
    return (size_t)n;
}

static void test_request_carries_table_107_attributes(void **state)
{
    (void)state;
    struct stun_request req = {.connection_request_binding = true, .username = "cpe1x"};
    memcpy(req.txid, TXID, sizeof(TXID));
    uint8_t msg[STUN_MAX_MESSAGE];
    size_t n = build(&req, msg);
    /* header 20 + C001 (4 + 20) + USERNAME (4 + 8: "cpe1x" padded with spaces) */
    assert_int_equal(n, 20 + 24 + 12);
    static const uint8_t head[] = {0x00, 0x01, 0x00, 36};
    assert_memory_equal(msg, head, 4);
    assert_memory_equal(msg + 4, TXID, 16);
    static const uint8_t crb[] = {0xC0, 0x01, 0x00, 0x14, 0x64, 0x73, 0x6C, 0x66, 0x6F, 0x72,
                                  0x75, 0x6D, 0x2E, 0x6F, 0x72, 0x67, 0x2F, 0x54, 0x52, 0x2D,
                                  0x31, 0x31, 0x31, 0x20};
    assert_memory_equal(msg + 20, crb, sizeof(crb));
    assert_memory_equal(msg + 44, "\x00\x06\x00\x08" "cpe1x   ", 12);

    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_REQUEST);
    assert_memory_equal(m.txid, TXID, 16);
    assert_true(m.connection_request_binding);
    assert_false(m.binding_change);
    assert_int_equal(m.username_len, 8);
    assert_memory_equal(m.username, "cpe1x   ", 8);
    assert_int_equal(m.integrity_offset, 0);
    assert_false(stun_integrity_valid(msg, &m, "anything"));
}

static void test_binding_change_only_with_crb(void **state)
{
    (void)state;
    struct stun_request req = {.connection_request_binding = true, .binding_change = true};
    uint8_t msg[STUN_MAX_MESSAGE];
    size_t n = build(&req, msg);
    assert_int_equal(n, 20 + 24 + 4);
    assert_memory_equal(msg + 44, "\xC0\x02\x00\x00", 4); /* length 0 (Table 107) */
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_true(m.binding_change);
    assert_null(m.username);

    /* Table 107: "MUST only be used where the CONNECTION-REQUEST-BINDING is also included" */
    req.connection_request_binding = false;
    assert_int_equal(build(&req, msg), 20);
}

static void set_v4(struct sockaddr_storage *sa, const char *ip, unsigned port)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)sa;
    memset(sa, 0, sizeof(*sa));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sin->sin_addr);
}

/* G.2.1.2: a secondary port's request names the primary's mapped address in RESPONSE-ADDRESS
 * (RFC 3489 11.2.2: the MAPPED-ADDRESS format); G.2.1.3: it carries neither
 * CONNECTION-REQUEST-BINDING nor BINDING-CHANGE. */
static void test_response_address(void **state)
{
    (void)state;
    struct sockaddr_storage to;
    set_v4(&to, "203.0.113.7", 40000);
    struct stun_request req = {.response_address = &to};
    memcpy(req.txid, TXID, sizeof(TXID));
    uint8_t msg[STUN_MAX_MESSAGE];
    size_t n = build(&req, msg);
    assert_int_equal(n, 20 + 12);
    static const uint8_t head[] = {0x00, 0x01, 0x00, 12};
    assert_memory_equal(msg, head, 4);
    static const uint8_t ra[] = {0x00, 0x02, 0x00, 0x08, 0x00, 0x01, 0x9C, 0x40, 203, 0, 113, 7};
    assert_memory_equal(msg + 20, ra, sizeof(ra));
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_true(m.has_response_address);
    assert_int_equal(m.unknown_mandatory, 0);
    char text[64];
    stun_format_address(&m.response_address, text, sizeof(text));
    assert_string_equal(text, "203.0.113.7:40000");

    /* BINDING-CHANGE is dropped (it needs 0xC001), 0xC001 with RESPONSE-ADDRESS refused */
    req.binding_change = true;
    assert_int_equal(build(&req, msg), 20 + 12);
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_false(m.binding_change);
    req.connection_request_binding = true;
    assert_int_equal(stun_build_request(&req, msg, sizeof(msg)), -1);

    /* an IPv6 primary: family 2, 16 address bytes */
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;
    memset(&to, 0, sizeof(to));
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(3478);
    inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
    req.connection_request_binding = false;
    n = build(&req, msg);
    assert_int_equal(n, 20 + 24);
    assert_memory_equal(msg + 20, "\x00\x02\x00\x14\x00\x02\x0D\x96", 8);
    assert_memory_equal(msg + 28, &s6->sin6_addr, 16);
    assert_int_equal(stun_parse(msg, n, &m), 0);
    stun_format_address(&m.response_address, text, sizeof(text));
    assert_string_equal(text, "[2001:db8::1]:3478");

    to.ss_family = AF_UNIX; /* no STUN encoding for it */
    assert_int_equal(stun_build_request(&req, msg, sizeof(msg)), -1);
}

/* After a 401 the secondary's retry signs the whole message, RESPONSE-ADDRESS included. */
static void test_response_address_with_integrity(void **state)
{
    (void)state;
    struct sockaddr_storage to;
    set_v4(&to, "198.51.100.9", 5000);
    struct stun_request req = {.response_address = &to, .username = "user",
                               .integrity_key = "stunpass"};
    uint8_t msg[STUN_MAX_MESSAGE];
    size_t n = build(&req, msg);
    assert_int_equal(n, 20 + 12 + 8 + 24);
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_true(stun_integrity_valid(msg, &m, "stunpass"));
    msg[31] ^= 1; /* the last byte of the address */
    assert_false(stun_integrity_valid(msg, &m, "stunpass"));
}

/* RFC 3489 11.2.8 computed here independently: HMAC-SHA1 over the message before the
 * attribute, zero-padded to 64 bytes. */
static void test_message_integrity(void **state)
{
    (void)state;
    struct stun_request req = {.connection_request_binding = true, .username = "user",
                               .integrity_key = "stunpass"};
    memcpy(req.txid, TXID, sizeof(TXID));
    uint8_t msg[STUN_MAX_MESSAGE];
    size_t n = build(&req, msg);
    assert_int_equal(n, 20 + 24 + 8 + 24);
    assert_int_equal((msg[2] << 8 | msg[3]), n - 20); /* length counts MESSAGE-INTEGRITY */
    assert_memory_equal(msg + n - 24, "\x00\x08\x00\x14", 4);

    uint8_t text[128] = {0}, mac[20];
    unsigned mac_len = sizeof(mac);
    memcpy(text, msg, n - 24);
    HMAC(EVP_sha1(), "stunpass", 8, text, 64, mac, &mac_len);
    assert_memory_equal(msg + n - 20, mac, 20);

    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_int_equal(m.integrity_offset, n - 24);
    assert_true(stun_integrity_valid(msg, &m, "stunpass"));
    assert_false(stun_integrity_valid(msg, &m, "stunpasS"));
    msg[30] ^= 1; /* a changed byte of the CONNECTION-REQUEST-BINDING value */
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_false(stun_integrity_valid(msg, &m, "stunpass"));
}

/* A Binding Response as a server writes it. */
static size_t response(uint8_t *msg, uint16_t type, const uint8_t *attrs, size_t alen)
{
    msg[0] = (uint8_t)(type >> 8);
    msg[1] = (uint8_t)type;
    msg[2] = (uint8_t)(alen >> 8);
    msg[3] = (uint8_t)alen;
    memcpy(msg + 4, TXID, 16);
    memcpy(msg + 20, attrs, alen);
    return 20 + alen;
}

static void test_mapped_address(void **state)
{
    (void)state;
    /* MAPPED-ADDRESS 203.0.113.5:40000, then an optional attribute we do not know */
    static const uint8_t attrs[] = {0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9C, 0x40, 203, 0, 113,
                                    5,    0x80, 0x22, 0x00, 0x04, 'x',  'y',  'z',  'w'};
    uint8_t msg[128];
    size_t n = response(msg, STUN_BINDING_RESPONSE, attrs, sizeof(attrs));
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_RESPONSE);
    assert_true(m.has_mapped);
    assert_int_equal(m.unknown_mandatory, 0);
    char text[64];
    stun_format_address(&m.mapped, text, sizeof(text));
    assert_string_equal(text, "203.0.113.5:40000");
}

static void test_xor_mapped_address(void **state)
{
    (void)state;
    /* XOR-MAPPED-ADDRESS of 198.51.100.7:5000 with the transaction ID's first bytes */
    uint8_t attrs[] = {0x80, 0x20, 0x00, 0x08, 0x00, 0x01, 0, 0, 198, 51, 100, 7};
    attrs[6] = (5000 >> 8) ^ TXID[0];
    attrs[7] = (5000 & 0xFF) ^ TXID[1];
    for (int i = 0; i < 4; i++)
        attrs[8 + i] ^= TXID[i];
    uint8_t msg[128];
    size_t n = response(msg, STUN_BINDING_RESPONSE, attrs, sizeof(attrs));
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    char text[64];
    stun_format_address(&m.mapped, text, sizeof(text));
    assert_string_equal(text, "198.51.100.7:5000");

    /* MAPPED-ADDRESS wins when both are present, in either order */
    uint8_t both[sizeof(attrs) + 12];
    memcpy(both, attrs, sizeof(attrs));
    static const uint8_t plain[] = {0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x50, 10, 0, 0, 1};
    memcpy(both + sizeof(attrs), plain, sizeof(plain));
    n = response(msg, STUN_BINDING_RESPONSE, both, sizeof(both));
    assert_int_equal(stun_parse(msg, n, &m), 0);
    stun_format_address(&m.mapped, text, sizeof(text));
    assert_string_equal(text, "10.0.0.1:80");
}

static void test_error_response_and_ipv6(void **state)
{
    (void)state;
    static const uint8_t err[] = {0x00, 0x09, 0x00, 0x10, 0, 0, 4, 1, 'U', 'n', 'a', 'u',
                                  't',  'h',  'o',  'r',  'i', 'z', 'e', 'd'};
    uint8_t msg[128];
    size_t n = response(msg, STUN_BINDING_ERROR, err, sizeof(err));
    struct stun_message m;
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_ERROR);
    assert_int_equal(m.error_code, 401);
    assert_false(m.has_mapped);

    uint8_t v6[] = {0x00, 0x01, 0x00, 0x14, 0x00, 0x02, 0x0D, 0x96};
    uint8_t attrs[sizeof(v6) + 16];
    memcpy(attrs, v6, sizeof(v6));
    inet_pton(AF_INET6, "2001:db8::1", attrs + sizeof(v6));
    n = response(msg, STUN_BINDING_RESPONSE, attrs, sizeof(attrs));
    assert_int_equal(stun_parse(msg, n, &m), 0);
    char text[64];
    stun_format_address(&m.mapped, text, sizeof(text));
    assert_string_equal(text, "[2001:db8::1]:3478");
}

static void test_malformed_messages_are_refused(void **state)
{
    (void)state;
    static const uint8_t mapped[] = {0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9C, 0x40, 1, 2, 3, 4};
    uint8_t msg[128];
    struct stun_message m;
    size_t n = response(msg, STUN_BINDING_RESPONSE, mapped, sizeof(mapped));
    assert_int_equal(stun_parse(msg, n, &m), 0);
    assert_int_equal(stun_parse(msg, n - 4, &m), -1); /* length field says more */
    assert_int_equal(stun_parse(msg, 19, &m), -1);    /* shorter than a header */
    msg[0] = 0x02;                                    /* not a STUN first byte */
    assert_int_equal(stun_parse(msg, n, &m), -1);
    msg[0] = 0x01;
    msg[23] = 0x0C; /* attribute runs past the end */
    assert_int_equal(stun_parse(msg, n, &m), -1);
    msg[23] = 0x04; /* an IPv4 address needs 8 bytes */
    msg[3] = 8;
    assert_int_equal(stun_parse(msg, 28, &m), -1);
    /* a BINDING-CHANGE with a value, a bad ERROR-CODE class */
    static const uint8_t bc[] = {0xC0, 0x02, 0x00, 0x04, 0, 0, 0, 0};
    assert_int_equal(stun_parse(msg, response(msg, 0x0001, bc, sizeof(bc)), &m), -1);
    static const uint8_t ec[] = {0x00, 0x09, 0x00, 0x04, 0, 0, 7, 1};
    assert_int_equal(stun_parse(msg, response(msg, 0x0111, ec, sizeof(ec)), &m), -1);
    /* RFC 3489 response attributes the client need not use are known, not "unknown" */
    static const uint8_t known[] = {0x00, 0x0B, 0x00, 0x08, 0x00, 0x01, 0x9C, 0x40, 1, 2, 3, 4,
                                    0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0D, 0x96, 1, 2, 3, 5};
    assert_int_equal(stun_parse(msg, response(msg, 0x0101, known, sizeof(known)), &m), 0);
    assert_int_equal(m.unknown_mandatory, 0);
    /* an unknown comprehension-required attribute is reported */
    static const uint8_t unk[] = {0x00, 0x77, 0x00, 0x00};
    assert_int_equal(stun_parse(msg, response(msg, 0x0101, unk, sizeof(unk)), &m), 0);
    assert_int_equal(m.unknown_mandatory, 0x0077);
}

static void test_username_limit(void **state)
{
    (void)state;
    char user[STUN_MAX_USERNAME + 2];
    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    struct stun_request req = {.connection_request_binding = true, .username = user};
    uint8_t msg[STUN_MAX_MESSAGE];
    assert_int_equal(stun_build_request(&req, msg, sizeof(msg)), -1);
    user[STUN_MAX_USERNAME] = '\0';
    req.integrity_key = "k";
    assert_true(stun_build_request(&req, msg, sizeof(msg)) <= STUN_MAX_MESSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_carries_table_107_attributes),
        cmocka_unit_test(test_binding_change_only_with_crb),
        cmocka_unit_test(test_response_address),
        cmocka_unit_test(test_response_address_with_integrity),
        cmocka_unit_test(test_message_integrity),
        cmocka_unit_test(test_mapped_address),
        cmocka_unit_test(test_xor_mapped_address),
        cmocka_unit_test(test_error_response_and_ipv6),
        cmocka_unit_test(test_malformed_messages_are_refused),
        cmocka_unit_test(test_username_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
