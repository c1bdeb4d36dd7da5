/*
 * fuzz_cookie.c: libFuzzer target for the cookie handling of the ACS session
 * (proxier/session/http.c; TR-069 3.4.2): libcurl's in-memory cookie engine holds what the
 * ACS sent in Set-Cookie, and on a redirect http_cookies_follow reads that jar back
 * (CURLINFO_COOKIELIST, Netscape format) and gives each cookie a copy for the new host.
 *
 * Input: the first line is the redirect target URL; every further line goes to the jar
 * through CURLOPT_COOKIELIST as the ACS (or a hostile one) could make it: "Set-Cookie: ..."
 * header lines with any attributes, or Netscape lines. No network. Besides "no crash, no
 * leak", it checks that after the hand-over every cookie name of the jar is also there for
 * the target's host, when the target has a host and the copy fits curl's limits.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxier/session/http_internal.h"

#define MAX_JAR_LINES 64
#define MAX_CHECKED_LINE 4000 /* curl refuses longer cookie lines and name+value over 4 KB */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Netscape fields: domain, tailmatch, path, secure, expiry, name, value. */
struct cookie_fields {
    const char *f[7];
    size_t len[7];
};

static bool split_fields(const char *line, struct cookie_fields *out)
{
    if (strncmp(line, "#HttpOnly_", 10) == 0)
        line += 10;
    for (int i = 0; i < 7; i++) {
        const char *tab = i < 6 ? strchr(line, '\t') : line + strlen(line);
        if (!tab)
            return false;
        out->f[i] = line;
        out->len[i] = (size_t)(tab - line);
        line = tab + 1;
    }
    return true;
}

/* Whether jar holds a cookie of want's name for host. Only the name: the copies of two
 * cookies whose name and path curl takes for the same (it compares sanitized paths, and
 * names without case) replace one another, and the last one wins, as it would had the ACS
 * sent both. */
static bool jar_has_copy(struct curl_slist *jar, const char *host,
                         const struct cookie_fields *want)
{
    /* curl drops the leading dot of a Netscape domain: a host ".x" (not one DNS knows)
     * gets its copy as "x", unless a cookie was listed as ".x" already. */
    const char *undotted = host + (*host == '.');
    for (struct curl_slist *l = jar; l; l = l->next) {
        struct cookie_fields c;
        if (split_fields(l->data, &c) &&
            ((c.len[0] == strlen(host) && strncasecmp(c.f[0], host, c.len[0]) == 0) ||
             (c.len[0] == strlen(undotted) && strncasecmp(c.f[0], undotted, c.len[0]) == 0)) &&
            c.len[5] == want->len[5] && strncasecmp(c.f[5], want->f[5], c.len[5]) == 0)
            return true;
    }
    return false;
}

/* Only cookies that cannot expire during the run and whose copy curl takes are checked. */
static bool checkable(const char *line, const struct cookie_fields *c, const char *host)
{
    long long expiry = strtoll(c->f[4], NULL, 10);
    return strlen(line) + strlen(host) < MAX_CHECKED_LINE &&
           (expiry == 0 || expiry > (long long)time(NULL) + 3600);
}

static char *url_host_of(const char *url)
{
    char *host = NULL;
    CURLU *u = curl_url();
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_cleanup(u);
    return host;
}

static void check_follow(CURL *easy, const char *target)
{
    struct curl_slist *before = NULL, *after = NULL;
    if (curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &before) != CURLE_OK)
        return;
    http_cookies_follow(easy, target);
    char *host = url_host_of(target);
    if (host && curl_easy_getinfo(easy, CURLINFO_COOKIELIST, &after) == CURLE_OK) {
        for (struct curl_slist *l = before; l; l = l->next) {
            struct cookie_fields c;
            if (split_fields(l->data, &c) && checkable(l->data, &c, host) &&
                !jar_has_copy(after, host, &c))
                abort();
        }
    }
    curl_free(host);
    curl_slist_free_all(before);
    curl_slist_free_all(after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        ready = true;
    }
    char *text = strndup((const char *)data, size), *rest = text;
    CURL *easy = curl_easy_init();
    if (!text || !easy)
        abort();
    curl_easy_setopt(easy, CURLOPT_COOKIEFILE, ""); /* the engine, in memory: as http.c */
    char *target = strsep(&rest, "\n"), *line;
    for (int n = 0; rest && n < MAX_JAR_LINES && (line = strsep(&rest, "\n")); n++) {
        /* RELOAD and FLUSH reach files (COOKIEFILE, COOKIEJAR): not something an ACS sends. */
        if (strcasecmp(line, "RELOAD") != 0 && strcasecmp(line, "FLUSH") != 0)
            curl_easy_setopt(easy, CURLOPT_COOKIELIST, line);
    }
    check_follow(easy, target);
    curl_easy_cleanup(easy);
    free(text);
    return 0;
}
