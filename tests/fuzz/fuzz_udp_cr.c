/*
 * fuzz_udp_cr.c: libFuzzer target for the UDP connection-request parser (TR-069 G.2.2.3,
 * G.2.1.4), which reads datagrams from anyone who can reach the port.
 *
 * Besides "no crash", it checks: an accepted request has every field within its bound and a
 * 40-hex signature; re-signed with a key, it validates for its own username against an
 * empty replay record, and no longer once that record holds it (ts not greater).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/connreq/udp_cr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(struct udp_cr_request *r)
{
    if (strlen(r->un) > UDP_CR_MAX_FIELD || strlen(r->cn) > UDP_CR_MAX_FIELD || !*r->cn ||
        strlen(r->id) > UDP_CR_MAX_ID || strlen(r->sig) != UDP_CR_SIG_LEN)
        abort();
    for (size_t i = 0; i < UDP_CR_SIG_LEN; i++)
        if (!isxdigit((unsigned char)r->sig[i]))
            abort();
    struct udp_cr_replay last = {0};
    udp_cr_signature("fuzzkey", r, r->sig);
    enum udp_cr_check want = *r->un ? (r->ts > 0 ? UDP_CR_OK : UDP_CR_OLD_TS)
                                    : UDP_CR_WRONG_USER;
    if (udp_cr_check(r, r->un, "fuzzkey", &last) != want)
        abort();
    last.ts = r->ts;
    if (*r->un && udp_cr_check(r, r->un, "fuzzkey", &last) != UDP_CR_OLD_TS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct udp_cr_request r;
    if (udp_cr_parse((const char *)data, size, &r) == 0)
        check_accepted(&r);
    return 0;
}
