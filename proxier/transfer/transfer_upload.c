/*
 * transfer_upload.c: the source of an Upload by FileType (TR-069 A.4.1.5), see
 * transfer_upload.h. A snapshot is taken when the upload starts, so that what the ACS gets
 * is what the CPE had then, and a restart during the upload takes a new one.
 */
#include "proxier/transfer/transfer_upload.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/transfer/backup.h"

#define FT_CONFIG "1 Vendor Configuration File"
#define FT_LOG "2 Vendor Log File"

/* A built-in source: writes the snapshot to path; 0 or -1 with px_err_msg(). */
typedef int (*snapshot_fn)(struct endpoint *ep, const char *path);

static int write_all(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return px_err_set(-1, "cannot create %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    int err = done < len ? errno : 0;
    if (close(fd) != 0 && !err)
        err = errno;
    if (err)
        return px_err_set(-1, "cannot write %s: %s", path, strerror(err));
    return 0;
}

static int snapshot_log(struct endpoint *ep, const char *path)
{
    size_t len;
    char *text = log_ring_text(&len);
    if (!text)
        return px_err_set(-1, "out of memory");
    int rc = write_all(path, text, len);
    free(text);
    return rc;
}

static int snapshot_config(struct endpoint *ep, const char *path)
{
    struct buf b = BUF_INIT;
    int rc = backup_text(ep, &b);
    if (rc == 0)
        rc = write_all(path, b.data, b.len);
    buf_free(&b);
    return rc;
}

static bool log_ring_on(const struct endpoint *ep)
{
    return ep->env.cfg->log_ring_lines > 0;
}

struct source {
    const char *file_type;
    size_t configured;    /* offset of its char * in struct px_config: the file that wins */
    snapshot_fn snapshot; /* the built-in source, or NULL */
    bool (*builtin_on)(const struct endpoint *ep); /* NULL: always, when there is one */
    const char *why_not;                           /* neither is there */
};

static const struct source sources[] = {
    {FT_CONFIG, offsetof(struct px_config, transfer_upload_config), snapshot_config, NULL, ""},
    {FT_LOG, offsetof(struct px_config, transfer_upload_log), snapshot_log, log_ring_on,
     "no [transfer] upload_log configured and log.ring_lines is 0"},
};

static const struct source *source_of(const char *file_type)
{
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (!strcmp(file_type, sources[i].file_type))
            return &sources[i];
    return NULL;
}

static const char *configured(const struct endpoint *ep, const struct source *src)
{
    const char *path = *(char *const *)((const char *)ep->env.cfg + src->configured);
    return path && *path ? path : NULL;
}

/* Whether src's built-in snapshot can be made with this configuration. */
static bool builtin_on(const struct endpoint *ep, const struct source *src)
{
    return src->snapshot && (!src->builtin_on || src->builtin_on(ep));
}

int transfer_upload_supported(const struct endpoint *ep, const char *file_type)
{
    const struct source *src = source_of(file_type);
    if (!src)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "FileType \"%s\" cannot be uploaded",
                          file_type);
    if (!configured(ep, src) && !builtin_on(ep, src))
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "FileType \"%s\" cannot be uploaded: %s",
                          file_type, src->why_not);
    return 0;
}

const char *transfer_upload_source(struct endpoint *ep, const char *file_type, const char *scratch)
{
    if (transfer_upload_supported(ep, file_type) != 0)
        return NULL;
    const struct source *src = source_of(file_type);
    const char *path = configured(ep, src);
    if (path)
        return path;
    return src->snapshot(ep, scratch) == 0 ? scratch : NULL;
}
