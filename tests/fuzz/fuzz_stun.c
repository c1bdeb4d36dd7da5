/*
 * fuzz_stun.c: libFuzzer target for the STUN decoder (RFC 3489 as TR-069 Annex G uses it),
 * which reads whatever arrives on the connection-request port with a first byte 0 or 1.
 *
 * Besides "no crash", it checks: a parsed MESSAGE-INTEGRITY lies inside the message, and a
 * Binding Request built from the input's bytes (username, flags, integrity key) parses back
 * to the same attributes with valid integrity.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/connreq/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const uint8_t *data, size_t size)
{
    char user[STUN_MAX_USERNAME + 1] = "";
    size_t n = size > 1 ? size - 1 : 0;
    if (n > STUN_MAX_USERNAME)
        n = STUN_MAX_USERNAME;
    for (size_t i = 0; i < n; i++)
        user[i] = (char)(data[1 + i] ? data[1 + i] : 'x');
    user[n] = '\0';
    unsigned flags = size ? data[0] : 0;
    struct stun_request req = {.connection_request_binding = flags & 1,
                               .binding_change = flags & 2,
                               .username = user,
                               .integrity_key = (flags & 4) ? "key" : NULL};
    memset(req.txid, (int)flags, sizeof(req.txid));
    uint8_t msg[STUN_MAX_MESSAGE];
    int len = stun_build_request(&req, msg, sizeof(msg));
    struct stun_message m;
    if (len < 0 || stun_parse(msg, (size_t)len, &m) != 0 || m.type != STUN_BINDING_REQUEST ||
        m.connection_request_binding != req.connection_request_binding ||
        m.binding_change != (req.binding_change && req.connection_request_binding) ||
        (n && (m.username_len < n || memcmp(m.username, user, n) != 0)) ||
        (req.integrity_key && !stun_integrity_valid(msg, &m, "key")))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stun_message m;
    if (stun_parse(data, size, &m) == 0) {
        if (m.integrity_offset && m.integrity_offset + 24 > size)
            abort();
        stun_integrity_valid(data, &m, "key");
        char text[64];
        if (m.has_mapped)
            stun_format_address(&m.mapped, text, sizeof(text));
    }
    check_round_trip(data, size);
    return 0;
}
