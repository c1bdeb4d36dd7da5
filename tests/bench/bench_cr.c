/*
 * bench_cr.c: the benchmarks' connection-request client (see bench_cr.h).
 */
#include "bench_cr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxier/connreq/digest.h"

#define CNONCE "benchcn"

/* Read one response head (bodies are empty); its status, and the nonce if any. */
static int read_head(int fd, char *nonce, size_t nonce_size)
{
    char head[4096];
    size_t n = 0;
    while (n < sizeof(head) - 1 && !(n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))) {
        ssize_t r = read(fd, head + n, 1);
        if (r <= 0)
            return -1;
        n += (size_t)r;
    }
    head[n] = '\0';
    const char *nn = strstr(head, "nonce=\"");
    if (nonce && nn)
        snprintf(nonce, nonce_size, "%.*s", (int)strcspn(nn + 7, "\""), nn + 7);
    return n > 12 ? atoi(head + 9) : -1;
}

static int send_get(int fd, const char *path, const char *auth)
{
    char req[1024];
    int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n",
                       path, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    return len > 0 && (size_t)len < sizeof(req) && write(fd, req, (size_t)len) == len ? 0 : -1;
}

int bench_connection_request(unsigned port, const char *path, const char *username,
                             const char *password)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, status = -1;
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char nonce[128] = "", resp[DIGEST_HEX_MAX], auth[768];
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || send_get(fd, path, NULL) ||
        read_head(fd, nonce, sizeof(nonce)) != 401 || !nonce[0] ||
        digest_response(DIGEST_MD5, username, "proxierd", password, "GET", path, nonce,
                        "00000001", CNONCE, resp) != 0)
        goto exit;
    snprintf(auth, sizeof(auth),
             "Digest username=\"%s\", realm=\"proxierd\", nonce=\"%s\", uri=\"%s\", "
             "algorithm=MD5, qop=auth, nc=00000001, cnonce=\"" CNONCE "\", response=\"%s\"",
             username, nonce, path, resp);
    if (send_get(fd, path, auth) == 0)
        status = read_head(fd, NULL, 0);
exit:
    close(fd);
    return status;
}
