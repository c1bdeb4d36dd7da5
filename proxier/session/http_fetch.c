/*
 * http_fetch.c: file transfers over HTTP(S) for Download and Upload (TR-069 A.3.2.8,
 * A.4.1.5, 3.4.3's authentication of file servers), on the curl multi of http.c so that
 * nothing blocks the event loop. A GET streams its body into a file with a size cap; a PUT
 * streams a file out. Each transfer has its own easy handle and connection.
 *
 * What a failure was matters to the ACS (A.5.1 distinguishes "unable to contact file
 * server", "unable to access file", "unable to complete download", authentication...), so
 * the outcome is classified here from curl's code and the HTTP status.
 */
#include "proxier/session/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/session/http_internal.h"

#define FETCH_CONNECT_TIMEOUT_S 30
#define FETCH_STALL_TIMEOUT_S 60

struct http_fetch {
    struct http_job job; /* first: CURLOPT_PRIVATE points here */
    struct http_multi *hm;
    CURL *easy;
    FILE *file;
    bool upload;
    uint64_t max_size;
    uint64_t bytes;
    bool too_large;
    bool write_failed;
    char *url;
    http_fetch_cb done;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    char text[CURL_ERROR_SIZE + 300];
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct http_fetch *f = arg;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300)
        return len; /* an error page or a challenge: not the file */
    if (f->max_size && f->bytes + len > f->max_size) {
        f->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (fwrite(data, 1, len, f->file) != len) {
        f->write_failed = true;
        return 0;
    }
    f->bytes += len;
    return len;
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* Authentication (401, then the same PUT with credentials) re-sends the body from 0. */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
    struct http_fetch *f = arg;
    if (fseeko(f->file, (off_t)offset, origin) != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    f->bytes = (uint64_t)ftello(f->file);
    return CURL_SEEKFUNC_OK;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct http_fetch *f = arg;
    size_t got = fread(buf, 1, size * n, f->file);
    if (got == 0 && ferror(f->file)) {
        f->write_failed = true;
        return CURL_READFUNC_ABORT;
    }
    f->bytes += got;
    return got;
}

static bool is_tls_error(CURLcode rc)
{
    return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER ||
           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
           rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS ||
           rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_USE_SSL_FAILED;
}

/* Did the transfer ever reach the server? (a timeout before that is "cannot contact") */
static bool connected(CURL *easy)
{
    curl_off_t t = 0;
    return curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK && t > 0;
}

static enum http_fetch_error classify(struct http_fetch *f, CURLcode rc, long status)
{
    if (f->too_large)
        return HTTP_FETCH_TOO_LARGE;
    if (f->write_failed)
        return HTTP_FETCH_LOCAL;
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_FILESIZE_EXCEEDED: /* the Content-Length said so before the body came */
        return HTTP_FETCH_TOO_LARGE;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return HTTP_FETCH_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return connected(f->easy) ? HTTP_FETCH_INCOMPLETE : HTTP_FETCH_CONNECT;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
        return HTTP_FETCH_PROTOCOL;
    default:
        if (is_tls_error(rc))
            return HTTP_FETCH_TLS;
        return HTTP_FETCH_INCOMPLETE; /* partial file, receive error, nothing received... */
    }
    if (status == 401 || status == 407)
        return HTTP_FETCH_AUTH;
    if (status < 200 || status >= 300)
        return HTTP_FETCH_STATUS;
    return HTTP_FETCH_OK;
}

static void describe(struct http_fetch *f, enum http_fetch_error e, CURLcode rc, long status)
{
    const char *what = f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc);
    switch (e) {
    case HTTP_FETCH_OK:
        snprintf(f->text, sizeof(f->text), "%s %s: %llu bytes", f->upload ? "PUT" : "GET",
                 f->url, (unsigned long long)f->bytes);
        break;
    case HTTP_FETCH_TOO_LARGE:
        snprintf(f->text, sizeof(f->text), "%s is larger than %llu bytes", f->url,
                 (unsigned long long)f->max_size);
        break;
    case HTTP_FETCH_LOCAL:
        snprintf(f->text, sizeof(f->text), "cannot %s the local file: %s",
                 f->upload ? "read" : "write", strerror(errno));
        break;
    case HTTP_FETCH_AUTH:
        snprintf(f->text, sizeof(f->text), "%s refused our credentials (HTTP %ld)", f->url,
                 status);
        break;
    case HTTP_FETCH_STATUS:
        snprintf(f->text, sizeof(f->text), "%s answered HTTP %ld", f->url, status);
        break;
    case HTTP_FETCH_INCOMPLETE:
        snprintf(f->text, sizeof(f->text), "transfer of %s broke off after %llu bytes: %s",
                 f->url, (unsigned long long)f->bytes, what);
        break;
    default:
        snprintf(f->text, sizeof(f->text), "%s: %s", f->url, what);
        break;
    }
}

static void fetch_free(struct http_fetch *f)
{
    if (f->easy)
        curl_easy_cleanup(f->easy);
    if (f->file)
        fclose(f->file);
    free(f->url);
    free(f);
}

static void fetch_finish(struct http_job *job, CURLcode rc)
{
    struct http_fetch *f = (struct http_fetch *)job;
    http_multi_remove_job(f->hm, f->easy);
    long status = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
    /* Flush before the caller looks at the file. */
    if (f->file && !f->upload && fflush(f->file) != 0)
        f->write_failed = true;
    enum http_fetch_error e = classify(f, rc, status);
    describe(f, e, rc, status);
    struct http_fetch_result res = {.error = e, .status = status, .bytes = f->bytes,
                                    .text = f->text};
    if (e != HTTP_FETCH_OK)
        LOG_WARN("http", "file transfer failed: %s", f->text);
    http_fetch_cb done = f->done;
    void *arg = f->arg;
    fclose(f->file);
    f->file = NULL;
    done(arg, &res);
    fetch_free(f);
}

static void set_options(struct http_fetch *f, const struct http_fetch_config *cfg)
{
    CURL *e = f->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_URL, cfg->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* A.3.2.8 / 3.4.3: never from HTTPS to plain HTTP by a redirect. */
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
                     strncasecmp(cfg->url, "https:", 6) == 0 ? "https" : "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "proxierd/" PROXIER_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                     (long)(cfg->connect_timeout_s ? cfg->connect_timeout_s
                                                   : FETCH_CONNECT_TIMEOUT_S));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                     (long)(cfg->stall_timeout_s ? cfg->stall_timeout_s : FETCH_STALL_TIMEOUT_S));
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 0L);
    if (cfg->username && cfg->username[0]) {
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
    }
    if (cfg->upload) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, f);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, f);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard); /* the PUT's reply is no file */
    } else {
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
        if (cfg->max_size)
            curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_size);
    }
    if (cfg->tls)
        http_set_tls(e, cfg->tls);
}

static FILE *open_file(const struct http_fetch_config *cfg)
{
    return fopen(cfg->path, cfg->upload ? "rb" : "wb");
}

struct http_fetch *http_fetch_start(struct http_multi *hm, const struct http_fetch_config *cfg,
                                    http_fetch_cb done, void *arg)
{
    struct http_fetch *f = calloc(1, sizeof(*f));
    if (!f) {
        px_err_set(-1, "out of memory");
        return NULL;
    }
    f->job.finish = fetch_finish;
    f->hm = hm;
    f->upload = cfg->upload;
    f->max_size = cfg->max_size;
    f->done = done;
    f->arg = arg;
    f->url = strdup(cfg->url);
    f->file = open_file(cfg);
    if (!f->file) {
        px_err_set(-1, "cannot open %s: %s", cfg->path, strerror(errno));
        goto fail;
    }
    f->easy = curl_easy_init();
    if (!f->url || !f->easy) {
        px_err_set(-1, "out of memory");
        goto fail;
    }
    set_options(f, cfg);
    if (cfg->upload) {
        if (fseek(f->file, 0, SEEK_END) == 0) {
            long size = ftell(f->file);
            rewind(f->file);
            curl_easy_setopt(f->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        }
    }
    if (http_multi_add_job(hm, f->easy) != 0) {
        px_err_set(-1, "cannot start the transfer");
        goto fail;
    }
    return f;
fail:
    fetch_free(f);
    return NULL;
}

void http_fetch_cancel(struct http_fetch *f)
{
    if (!f)
        return;
    http_multi_remove_job(f->hm, f->easy);
    fetch_free(f);
}
