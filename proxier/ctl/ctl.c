/*
 * ctl.c: the local control socket (see ctl.h). Each connection is a bufferevent; one command
 * per line, at most CTL_MAX_LINE bytes; requests to the data model are asynchronous like the
 * ACS's, and the reply is written when the provider answers.
 */
#include "proxier/ctl/ctl.h"
#include "proxier/ctl/ctl_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cache/cache.h"
#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/common/text.h"
#include "proxier/connreq/connreq.h"
#include "proxier/core/endpoint.h"
#include "proxier/core/setvalues.h"
#include "proxier/dm/dm.h"
#include "proxier/transfer/transfer.h"

#define CTL_MAX_LINE 4096

struct ctl {
    struct evconnlistener *listener;
    struct endpoint *ep;
    const struct connreq *cr;
    char *path;
};

/* One command in flight on a connection; the connection stays alive until it answers. */
struct ctl_cmd {
    struct bufferevent *bev;
    struct endpoint *ep;
    char *path;
    char *value;
};

static void reply(struct bufferevent *bev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One reply is one line (ctl.h): whatever fmt brings in (a value, a fault string quoting
 * one, a path) is escaped with text_escape_line, so nothing can forge a second line. */
static void reply(struct bufferevent *bev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    struct buf line = BUF_INIT;
    text_escape_line(&line, n < 0 ? "error 9002 out of memory" : text);
    buf_puts(&line, "\n");
    if (!buf_failed(&line))
        evbuffer_add(bufferevent_get_output(bev), line.data, line.len);
    buf_free(&line);
    free(text);
}

static void cmd_free(struct ctl_cmd *cmd)
{
    bufferevent_enable(cmd->bev, EV_READ);
    free(cmd->path);
    free(cmd->value);
    free(cmd);
}

static void get_done(void *arg, struct dm_request *req)
{
    struct ctl_cmd *cmd = arg;
    struct dm_item *it = &req->items[0];
    if (it->fault)
        reply(cmd->bev, "error %d %s", it->fault, it->fault_string ? it->fault_string : "");
    else
        reply(cmd->bev, "ok %s", it->node->hidden ? "" : (it->value ? it->value : ""));
    dm_request_free(req);
    cmd_free(cmd);
}

static void set_done(void *arg, int fault, const char *fault_string,
                     const struct setvalues_fault *faults, size_t n)
{
    struct ctl_cmd *cmd = arg;
    if (n) {
        reply(cmd->bev, "error %d %s", faults[0].code, faults[0].string);
    } else if (fault) {
        reply(cmd->bev, "error %d %s", fault, fault_string ? fault_string : "");
    } else {
        /* A password's value never reaches the log (nor the log ring, log.h). */
        const struct dm_node *node = dm_resolve_param(cmd->ep->model, cmd->path, NULL);
        LOG_INFO("ctl", "local change %s = %s", cmd->path,
                 node && node->hidden ? "***" : cmd->value);
        reply(cmd->bev, "ok");
    }
    cmd_free(cmd);
}

static int start_get(struct ctl_cmd *cmd)
{
    int fault;
    const struct dm_node *node = dm_resolve_param(cmd->ep->model, cmd->path, &fault);
    if (!node)
        return fault;
    struct dm_request *req = dm_request_new(cmd->ep->model, DM_OP_GET);
    dm_request_add(req, cmd->path, node, NULL);
    dm_request_start(req, get_done, cmd);
    return 0;
}

/* Checked and applied like an ACS SetParameterValues, as a local change (setvalues.h). */
static int start_set(struct ctl_cmd *cmd)
{
    if (cmd->ep->session)
        return px_err_set(PX_ERR_REQUEST_DENIED,
                          "busy: the ACS is in a session, try again when it ends");
    struct setvalues *s = setvalues_new(cmd->ep, SETVALUES_LOCAL);
    if (!s)
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    int rc = setvalues_add(s, cmd->path, cmd->value, NULL);
    if (rc) {
        setvalues_free(s);
        return rc;
    }
    setvalues_apply(s, set_done, cmd);
    return 0;
}

/* A transfer started locally (TR-069 A.3.3.3: "not specifically requested by the ACS"). */
static void start_transfer(struct bufferevent *bev, struct endpoint *ep, bool upload,
                           const char *url, const char *file_type)
{
    struct transfer_queue *q = transfer_queue_of(ep);
    while (file_type && *file_type == ' ')
        file_type++;
    if (!q || !url || !file_type || !*file_type) {
        reply(bev, "error %d usage: %s URL FILETYPE", PX_ERR_INVALID_ARGUMENTS,
              upload ? "upload" : "download");
        return;
    }
    struct soap_transfer_args args = {.file_type = (char *)file_type, .url = (char *)url};
    struct transfer_request req = {.kind = upload ? XFER_UPLOAD : XFER_DOWNLOAD,
                                   .autonomous = true, .command_key = "", .args = &args};
    px_err_clear();
    int rc = transfer_queue_add(q, &req);
    if (rc)
        reply(bev, "error %d %s", rc, px_err_msg());
    else
        reply(bev, "ok");
}

/* Split "verb arg1 rest" in place. */
static void split(char *line, char **verb, char **arg, char **rest)
{
    *verb = strtok_r(line, " ", rest);
    *arg = *verb ? strtok_r(NULL, " ", rest) : NULL;
}

/* The cache's state comes last: its message has spaces ("database or disk is full"). */
static void reply_status(struct bufferevent *bev, const struct ctl *c)
{
    char counts[512] = "", cache[320] = "ok";
    if (c->cr)
        connreq_status(c->cr, counts, sizeof(counts));
    int code;
    const char *why = cache_health(c->ep->env.cache, &code);
    if (why)
        snprintf(cache, sizeof(cache), "error:%s (%d)", why, code);
    reply(bev, "ok session=%s retry_count=%u%s%s cache=%s", c->ep->session ? "active" : "idle",
          c->ep->retry_count, *counts ? " " : "", counts, cache);
}

static void run_line(struct bufferevent *bev, const struct ctl *c, char *line)
{
    struct endpoint *ep = c->ep;
    char *verb, *arg, *rest;
    split(line, &verb, &arg, &rest);
    if (!verb)
        return;
    if (!strcmp(verb, "status")) {
        reply_status(bev, c);
        return;
    }
    if (!strcmp(verb, "download") || !strcmp(verb, "upload")) {
        start_transfer(bev, ep, !strcmp(verb, "upload"), arg, rest);
        return;
    }
    bool is_get = !strcmp(verb, "get"), is_set = !strcmp(verb, "set");
    if ((!is_get && !is_set) || !arg || (is_set && !rest)) {
        reply(bev, "error %d usage: get PATH | set PATH VALUE | status | "
              "download URL FILETYPE | upload URL FILETYPE",
              PX_ERR_INVALID_ARGUMENTS);
        return;
    }
    struct ctl_cmd *cmd = calloc(1, sizeof(*cmd));
    cmd->bev = bev;
    cmd->ep = ep;
    cmd->path = strdup(arg);
    cmd->value = strdup(is_set ? rest : "");
    bufferevent_disable(bev, EV_READ); /* one command at a time per connection */
    px_err_clear();
    int rc = is_get ? start_get(cmd) : start_set(cmd);
    if (rc) {
        reply(bev, "error %d %s", rc, px_err_msg());
        cmd_free(cmd);
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct ctl *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char *line;
    size_t len;
    while ((bufferevent_get_enabled(bev) & EV_READ) &&
           (line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF))) {
        if (memchr(line, '\0', len)) /* C strings would cut the command short */
            reply(bev, "error %d a NUL byte in the command line (byte %zu)",
                  PX_ERR_INVALID_ARGUMENTS, (size_t)((char *)memchr(line, '\0', len) - line) + 1);
        else
            run_line(bev, c, line);
        free(line);
    }
    if (evbuffer_get_length(in) > CTL_MAX_LINE) {
        reply(bev, "error %d line too long", PX_ERR_INVALID_ARGUMENTS);
        evbuffer_drain(in, evbuffer_get_length(in));
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

void ctl_serve(struct ctl *c, struct bufferevent *bev)
{
    bufferevent_setcb(bev, on_read, NULL, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int len, void *arg)
{
    struct event_base *base = evconnlistener_get_base(l);
    ctl_serve(arg, bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE));
}

struct ctl *ctl_new_unbound(struct endpoint *ep, const struct connreq *cr)
{
    struct ctl *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ep = ep;
    c->cr = cr;
    return c;
}

struct ctl *ctl_new(struct event_base *base, const char *path, struct endpoint *ep,
                    const struct connreq *cr)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        px_err_set(-1, "control socket path %s is too long", path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    mode_t old = umask(0177); /* the socket file is created 0600 */
    struct evconnlistener *l = evconnlistener_new_bind(
        base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 8,
        (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (!l) {
        px_err_set(-1, "cannot listen on %s: %s", path, strerror(errno));
        return NULL;
    }
    struct ctl *c = ctl_new_unbound(ep, cr);
    if (!c) {
        evconnlistener_free(l);
        px_err_set(-1, "out of memory");
        return NULL;
    }
    c->listener = l;
    c->path = strdup(path);
    evconnlistener_set_cb(l, on_accept, c);
    return c;
}

void ctl_free(struct ctl *c)
{
    if (!c)
        return;
    if (c->listener)
        evconnlistener_free(c->listener);
    if (c->path)
        unlink(c->path);
    free(c->path);
    free(c);
}
