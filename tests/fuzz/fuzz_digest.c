/*
 * fuzz_digest.c: libFuzzer target for the Authorization header parser and verifier of HTTP
 * connection requests (proxier/connreq/digest.c; TR-069 3.2.2.2, RFC 7616 3.4), which read
 * bytes from anyone who can reach the listener.
 *
 * Besides "no crash, no leak", it checks one property: input that was not computed from a
 * nonce this verifier issued never authenticates, whatever it claims (the nonce MAC).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/connreq/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct digest_verifier *v;
    static const struct digest_offer all = {
        {DIGEST_MD5, DIGEST_MD5_SESS, DIGEST_SHA256, DIGEST_SHA256_SESS}, 4};
    if (!v && !(v = digest_verifier_new("proxierd", &all, 300, 64)))
        abort();
    char *header = malloc(size + 1);
    if (!header)
        return 0;
    memcpy(header, data, size);
    header[size] = '\0';
    struct digest_params p;
    if (digest_parse(header, &p) == 1 && strlen(p.response) >= sizeof(p.response))
        abort();
    const char *uri = p.uri[0] ? p.uri : "/";
    if (digest_verify(v, header, "GET", uri, p.username, "crpass", 1700000000) == DIGEST_OK)
        abort();
    free(header);
    return 0;
}
