/*
 * http_internal.h: what http.c shares with the other users of its curl multi inside
 * proxier/session/ (http_fetch.c, the file transfers of TR-069 A.3.2.8 / A.4.1.5): every easy
 * handle on the multi has CURLOPT_PRIVATE pointing to a struct http_job, whose finish is
 * called from the loop when its transfer ends. Nothing outside proxier/session/ includes it
 * but the fuzz target of the cookie hand-over (tests/fuzz/fuzz_cookie.c).
 */
#ifndef PX_HTTP_INTERNAL_H
#define PX_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "proxier/session/http.h"

struct http_job {
    void (*finish)(struct http_job *job, CURLcode rc); /* after curl is done with the handle */
};

/* Add / remove an easy handle (its PRIVATE a struct http_job) to / from the multi. Removing
 * an unfinished one aborts its transfer without a finish call. The owner removes its
 * handles before http_multi_free. */
int http_multi_add_job(struct http_multi *hm, CURL *easy);
void http_multi_remove_job(struct http_multi *hm, CURL *easy);

/* The TLS settings of cfg (CA file/path, client certificate, verification) on easy: file
 * transfers use the same trust as the ACS session. */
void http_set_tls(CURL *easy, const struct http_conn_config *cfg);

/* TR-069 3.4.2: before easy follows a redirect to target, give every cookie it holds a
 * copy for target's host ("without performing domain validation"). Exposed for
 * tests/fuzz/fuzz_cookie.c, which feeds it the cookie jar an ACS could fill. */
void http_cookies_follow(CURL *easy, const char *target);

#endif
