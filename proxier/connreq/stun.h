/*
 * stun.h: the classic STUN message codec (RFC 3489) as TR-069 Annex G (G.2.1.1-G.2.1.3)
 * uses it: Binding Requests carrying CONNECTION-REQUEST-BINDING (0xC001), BINDING-CHANGE
 * (0xC002), USERNAME, MESSAGE-INTEGRITY and RESPONSE-ADDRESS (binding-timeout discovery from
 * a secondary port, G.2.1.2), and the Binding (Error) Responses that answer them. Bytes in,
 * bytes out: no sockets here (udp_cr.c sends and receives).
 *
 * MESSAGE-INTEGRITY (RFC 3489 11.2.8) is HMAC-SHA1, keyed with the STUNPassword, over the
 * message up to the attribute before it, zero-padded to a multiple of 64 bytes; the header
 * in that text carries the final message length (which counts MESSAGE-INTEGRITY itself).
 * Attributes after MESSAGE-INTEGRITY are ignored, as RFC 3489 requires.
 */
#ifndef PX_STUN_H
#define PX_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_TXID_LEN 16
#define STUN_MAX_MESSAGE 576 /* RFC 3489 9.3: requests fit an IPv4 minimum MTU */
#define STUN_MAX_USERNAME 256

enum stun_type {
    STUN_BINDING_REQUEST = 0x0001,
    STUN_BINDING_RESPONSE = 0x0101,
    STUN_BINDING_ERROR = 0x0111,
};

enum stun_attr {
    STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    STUN_ATTR_RESPONSE_ADDRESS = 0x0002,
    STUN_ATTR_CHANGE_REQUEST = 0x0003,
    STUN_ATTR_SOURCE_ADDRESS = 0x0004,
    STUN_ATTR_CHANGED_ADDRESS = 0x0005,
    STUN_ATTR_USERNAME = 0x0006,
    STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    STUN_ATTR_ERROR_CODE = 0x0009,
    STUN_ATTR_REFLECTED_FROM = 0x000B, /* in the answer to a request with RESPONSE-ADDRESS */
    STUN_ATTR_XOR_MAPPED_ADDRESS = 0x8020,
    STUN_ATTR_CONNECTION_REQUEST_BINDING = 0xC001, /* TR-069 Table 107 */
    STUN_ATTR_BINDING_CHANGE = 0xC002,             /* TR-069 Table 107 */
};

/* The value of CONNECTION-REQUEST-BINDING (Table 107): 20 bytes, the last one a space. */
#define STUN_CRB_VALUE "dslforum.org/TR-111 "
#define STUN_CRB_LEN 20

/* What goes into a Binding Request. The encoder enforces the combinations TR-069 G.2.1.3
 * allows: BINDING-CHANGE only with CONNECTION-REQUEST-BINDING and never with
 * RESPONSE-ADDRESS; CONNECTION-REQUEST-BINDING and RESPONSE-ADDRESS never together (the
 * first marks the primary port, the second a secondary port's test of it, G.2.1.2). */
struct stun_request {
    uint8_t txid[STUN_TXID_LEN];
    bool connection_request_binding; /* sent from the UDP connection-request port */
    bool binding_change;             /* first request after the binding changed */
    const char *username;            /* NULL or "" = no USERNAME; padded with spaces */
    const char *integrity_key;       /* NULL = no MESSAGE-INTEGRITY (only after a 401) */
    const struct sockaddr_storage *response_address; /* NULL = answer the source */
};

/* A parsed message. Pointers point into the buffer given to stun_parse. */
struct stun_message {
    uint16_t type;
    uint8_t txid[STUN_TXID_LEN];
    bool has_mapped;                   /* MAPPED-ADDRESS, else XOR-MAPPED-ADDRESS */
    struct sockaddr_storage mapped;    /* AF_INET or AF_INET6, port set */
    bool has_response_address;         /* RESPONSE-ADDRESS (in requests) */
    struct sockaddr_storage response_address;
    int error_code;                    /* ERROR-CODE as class*100+number, 0 if none */
    const uint8_t *username;           /* USERNAME value (with its padding), or NULL */
    size_t username_len;
    bool connection_request_binding;   /* 0xC001 present with the right value */
    bool binding_change;               /* 0xC002 present */
    size_t integrity_offset;           /* where MESSAGE-INTEGRITY starts, 0 if absent */
    uint16_t unknown_mandatory;        /* first unknown attribute < 0x8000, 0 if none */
};

/* Encode a Binding Request into out (at least STUN_MAX_MESSAGE bytes). Returns its length,
 * or -1 if the username is too long, the response address is neither IPv4 nor IPv6, or
 * CONNECTION-REQUEST-BINDING is asked for together with RESPONSE-ADDRESS. */
int stun_build_request(const struct stun_request *req, uint8_t *out, size_t cap);

/* Decode a message. Returns 0, or -1 if it is not a well-formed STUN message (short, bad
 * lengths, malformed address or error attribute). */
int stun_parse(const uint8_t *msg, size_t len, struct stun_message *out);

/* Whether msg (already parsed into m) carries a MESSAGE-INTEGRITY that is right for key. */
bool stun_integrity_valid(const uint8_t *msg, const struct stun_message *m, const char *key);

/* "192.0.2.1:3478" or "[2001:db8::1]:3478" (TR-181 UDPConnectionRequestAddress form). */
void stun_format_address(const struct sockaddr_storage *sa, char *out, size_t cap);

#endif
