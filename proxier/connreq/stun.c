/*
 * stun.c: RFC 3489 Binding Request encoder and message decoder for TR-069 Annex G
 * (G.2.1.1 binding discovery, G.2.1.2 RESPONSE-ADDRESS for binding-timeout discovery,
 * G.2.1.3 Table 107 attributes). See stun.h.
 */
#include "proxier/connreq/stun.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ATTR_HEADER_LEN 4
#define INTEGRITY_LEN 20
#define HMAC_BLOCK 64

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Append one attribute; value may be NULL for a zero-filled one. Returns the new length. */
static size_t put_attr(uint8_t *out, size_t at, unsigned type, const void *value, size_t len)
{
    put16(out + at, type);
    put16(out + at + 2, (unsigned)len);
    if (value)
        memcpy(out + at + ATTR_HEADER_LEN, value, len);
    else
        memset(out + at + ATTR_HEADER_LEN, 0, len);
    return at + ATTR_HEADER_LEN + len;
}

/* RFC 3489 11.2.8: HMAC-SHA1 over msg[0..len) zero-padded to a multiple of 64 bytes. */
static void integrity_hmac(const uint8_t *msg, size_t len, const char *key,
                           uint8_t mac[INTEGRITY_LEN])
{
    uint8_t text[STUN_MAX_MESSAGE + HMAC_BLOCK] = {0};
    if (len > STUN_MAX_MESSAGE)
        len = STUN_MAX_MESSAGE; /* callers never pass more; keeps the copy bounded */
    memcpy(text, msg, len);
    size_t padded = (len + HMAC_BLOCK - 1) / HMAC_BLOCK * HMAC_BLOCK;
    unsigned mac_len = INTEGRITY_LEN;
    HMAC(EVP_sha1(), key, (int)strlen(key), text, padded, mac, &mac_len);
}

/* Address attribute value (RFC 3489 11.2.1): 0, family, port, address. Returns its length,
 * 0 for an unknown family. */
static size_t address_value(const struct sockaddr_storage *sa, uint8_t v[20])
{
    v[0] = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        v[1] = 0x01;
        memcpy(v + 2, &sin->sin_port, 2); /* both in network order */
        memcpy(v + 4, &sin->sin_addr, 4);
        return 8;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        v[1] = 0x02;
        memcpy(v + 2, &sin6->sin6_port, 2);
        memcpy(v + 4, &sin6->sin6_addr, 16);
        return 20;
    }
    return 0;
}

int stun_build_request(const struct stun_request *req, uint8_t *out, size_t cap)
{
    size_t ulen = req->username ? strlen(req->username) : 0;
    size_t upadded = (ulen + 3) / 4 * 4;
    uint8_t addr[20];
    size_t alen = req->response_address ? address_value(req->response_address, addr) : 0;
    if (ulen > STUN_MAX_USERNAME || cap < STUN_MAX_MESSAGE)
        return -1;
    /* G.2.1.3: 0xC001 only from the primary port; RESPONSE-ADDRESS only from another one */
    if (req->response_address && (!alen || req->connection_request_binding))
        return -1;
    size_t at = STUN_HEADER_LEN;
    if (req->connection_request_binding)
        at = put_attr(out, at, STUN_ATTR_CONNECTION_REQUEST_BINDING, STUN_CRB_VALUE,
                      STUN_CRB_LEN);
    /* Table 107: BINDING-CHANGE only together with CONNECTION-REQUEST-BINDING (so never
     * with RESPONSE-ADDRESS, as G.2.1.3 also requires) */
    if (req->binding_change && req->connection_request_binding)
        at = put_attr(out, at, STUN_ATTR_BINDING_CHANGE, NULL, 0);
    if (alen)
        at = put_attr(out, at, STUN_ATTR_RESPONSE_ADDRESS, addr, alen);
    if (ulen) {
        /* G.2.1.3: "padded with trailing spaces to make its length a multiple of 4" */
        at = put_attr(out, at, STUN_ATTR_USERNAME, NULL, upadded);
        memset(out + at - upadded, ' ', upadded);
        memcpy(out + at - upadded, req->username, ulen);
    }
    size_t total = at + (req->integrity_key ? ATTR_HEADER_LEN + INTEGRITY_LEN : 0);
    put16(out, STUN_BINDING_REQUEST);
    put16(out + 2, (unsigned)(total - STUN_HEADER_LEN));
    memcpy(out + 4, req->txid, STUN_TXID_LEN);
    if (req->integrity_key) {
        uint8_t mac[INTEGRITY_LEN];
        integrity_hmac(out, at, req->integrity_key, mac);
        at = put_attr(out, at, STUN_ATTR_MESSAGE_INTEGRITY, mac, INTEGRITY_LEN);
    }
    return (int)at;
}

/* MAPPED-ADDRESS / XOR-MAPPED-ADDRESS value: 0, family, port, address (RFC 3489 11.2.1). */
static int parse_address(const uint8_t *v, size_t len, const uint8_t *xor_key,
                         struct sockaddr_storage *out)
{
    if (len < 8)
        return -1;
    unsigned port = get16(v + 2);
    if (xor_key)
        port ^= get16(xor_key);
    memset(out, 0, sizeof(*out));
    if (v[1] == 0x01 && len == 8) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        uint8_t *a = (uint8_t *)&sin->sin_addr;
        for (int i = 0; i < 4; i++)
            a[i] = v[4 + i] ^ (xor_key ? xor_key[i] : 0);
        return 0;
    }
    if (v[1] == 0x02 && len == 20) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        for (int i = 0; i < 16; i++)
            sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ (xor_key ? xor_key[i] : 0);
        return 0;
    }
    return -1;
}

/* One attribute into m. Returns -1 if its value is malformed. */
static int parse_attr(struct stun_message *m, unsigned type, const uint8_t *v, size_t len,
                      bool *have_xor, struct sockaddr_storage *xor_mapped)
{
    switch (type) {
    case STUN_ATTR_MAPPED_ADDRESS:
        m->has_mapped = true;
        return parse_address(v, len, NULL, &m->mapped);
    case STUN_ATTR_RESPONSE_ADDRESS:
        m->has_response_address = true;
        return parse_address(v, len, NULL, &m->response_address);
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        /* Classic requests have no magic cookie: the pre-RFC 5389 servers that sent this
         * attribute XORed with the start of the transaction ID (which is the cookie for an
         * RFC 5389 transaction). MAPPED-ADDRESS wins when both are present. */
        *have_xor = true;
        return parse_address(v, len, m->txid, xor_mapped);
    case STUN_ATTR_ERROR_CODE:
        if (len < 4 || (v[2] & 0x07) < 1 || (v[2] & 0x07) > 6 || v[3] > 99)
            return -1;
        m->error_code = (v[2] & 0x07) * 100 + v[3];
        return 0;
    case STUN_ATTR_USERNAME:
        m->username = v;
        m->username_len = len;
        return 0;
    case STUN_ATTR_CONNECTION_REQUEST_BINDING:
        m->connection_request_binding =
            len == STUN_CRB_LEN && !memcmp(v, STUN_CRB_VALUE, STUN_CRB_LEN);
        return 0;
    case STUN_ATTR_BINDING_CHANGE:
        m->binding_change = true;
        return len == 0 ? 0 : -1;
    case STUN_ATTR_CHANGE_REQUEST:
    case STUN_ATTR_SOURCE_ADDRESS:
    case STUN_ATTR_CHANGED_ADDRESS:
    case STUN_ATTR_REFLECTED_FROM:
        return 0; /* G.2.1.1 footnote 29: known, not needed */
    default:
        if (type < 0x8000 && !m->unknown_mandatory)
            m->unknown_mandatory = (uint16_t)type;
        return 0;
    }
}

int stun_parse(const uint8_t *msg, size_t len, struct stun_message *out)
{
    memset(out, 0, sizeof(*out));
    if (len < STUN_HEADER_LEN || len > STUN_MAX_MESSAGE || (msg[0] & 0xFE) != 0)
        return -1;
    size_t body = get16(msg + 2);
    if (body + STUN_HEADER_LEN != len || body % 4 != 0)
        return -1;
    out->type = (uint16_t)get16(msg);
    memcpy(out->txid, msg + 4, STUN_TXID_LEN);
    bool have_xor = false;
    struct sockaddr_storage xor_mapped;
    for (size_t at = STUN_HEADER_LEN; at < len;) {
        if (len - at < ATTR_HEADER_LEN)
            return -1;
        unsigned type = get16(msg + at);
        size_t alen = get16(msg + at + 2);
        const uint8_t *v = msg + at + ATTR_HEADER_LEN;
        if (alen > len - at - ATTR_HEADER_LEN || alen % 4 != 0)
            return -1;
        if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
            if (alen != INTEGRITY_LEN)
                return -1;
            out->integrity_offset = at;
            break; /* RFC 3489 11.2.8: anything after it is ignored */
        }
        if (parse_attr(out, type, v, alen, &have_xor, &xor_mapped) != 0)
            return -1;
        at += ATTR_HEADER_LEN + alen;
    }
    if (!out->has_mapped && have_xor) {
        out->has_mapped = true;
        out->mapped = xor_mapped;
    }
    return 0;
}

bool stun_integrity_valid(const uint8_t *msg, const struct stun_message *m, const char *key)
{
    if (!m->integrity_offset || !key)
        return false;
    uint8_t mac[INTEGRITY_LEN];
    integrity_hmac(msg, m->integrity_offset, key, mac);
    return CRYPTO_memcmp(mac, msg + m->integrity_offset + ATTR_HEADER_LEN, INTEGRITY_LEN) == 0;
}

void stun_format_address(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
    }
}
