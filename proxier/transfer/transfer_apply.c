/*
 * transfer_apply.c: the apply half of a Download (TR-069 A.3.2.8: "successfully applied
 * only after the file is installed and in use"): a configured command per FileType, run
 * through /bin/sh in a child process watched from the loop, a configuration restore
 * (backup.c), or storing the file.
 */
#include "proxier/transfer/transfer_apply.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxier/common/buf.h"
#include "proxier/common/err.h"
#include "proxier/common/log.h"
#include "proxier/core/config.h"
#include "proxier/core/endpoint.h"
#include "proxier/transfer/backup.h"

#define FT_FIRMWARE "1 Firmware Upgrade Image"
#define FT_CONFIG "3 Vendor Configuration File"
#define CHILD_POLL_MS 100
#define SESSION_POLL_S 1

struct transfer_apply {
    struct event *timer;
    pid_t child;     /* 0 = no command: the result is already known */
    struct endpoint *ep;
    char *restore_path;             /* a configuration to restore, until it is restored */
    struct backup_restore *restore; /* while the restore waits for a provider */
    bool local;
    bool reboot;
    int fault;
    char fault_string[1040]; /* up to 256 UTF-8 characters (A.3.3.2 FaultString) */
    transfer_apply_cb cb;
    void *arg;
};

static const char *action_of(const struct px_config *cfg, const char *file_type)
{
    if (!strcmp(file_type, FT_FIRMWARE))
        return cfg->transfer_firmware_action;
    if (!strcmp(file_type, FT_CONFIG))
        return cfg->transfer_config_action;
    return NULL;
}

/* Table 33's types we keep as files, and vendor types "X <VENDOR> <id>". */
static bool stored_type(const char *file_type)
{
    static const char *const types[] = {"2 Web Content", "4 Tone File", "5 Ringer File"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(file_type, types[i]))
            return true;
    return !strncmp(file_type, "X ", 2) && strchr(file_type + 2, ' ');
}

int transfer_apply_supported(const struct px_config *cfg, const char *file_type)
{
    if (!strcmp(file_type, FT_FIRMWARE)) {
        const char *action = action_of(cfg, file_type);
        if (!action || !*action)
            return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                              "FileType \"%s\" is not supported: "
                              "no [transfer] firmware_action configured",
                              file_type);
        return 0;
    }
    if (!strcmp(file_type, FT_CONFIG) || stored_type(file_type))
        return 0;
    return px_err_set(PX_ERR_INVALID_ARGUMENTS, "FileType \"%s\" is not supported", file_type);
}

/* The command with every %f replaced by the single-quoted path (%% = %). */
static void expand_command(struct buf *out, const char *action, const char *path)
{
    for (const char *p = action; *p; p++) {
        if (p[0] != '%' || (p[1] != 'f' && p[1] != '%')) {
            buf_append(out, p, 1);
            continue;
        }
        p++;
        if (*p == '%') {
            buf_append(out, "%", 1);
            continue;
        }
        buf_append(out, "'", 1);
        for (const char *q = path; *q; q++)
            if (*q == '\'')
                buf_append(out, "'\\''", 4);
            else
                buf_append(out, q, 1);
        buf_append(out, "'", 1);
    }
}

static void finish(struct transfer_apply *a)
{
    transfer_apply_cb cb = a->cb;
    void *arg = a->arg;
    int fault = a->fault;
    bool reboot = a->reboot;
    char text[sizeof(a->fault_string)];
    snprintf(text, sizeof(text), "%s", a->fault_string);
    transfer_apply_cancel(a);
    cb(arg, fault, text, reboot);
}

static void arm(struct transfer_apply *a, time_t s, suseconds_t us)
{
    struct timeval tv = {s, us};
    evtimer_add(a->timer, &tv);
}

static void restored(void *arg, int fault, const char *fault_string)
{
    struct transfer_apply *a = arg;
    a->restore = NULL;
    a->fault = fault;
    snprintf(a->fault_string, sizeof(a->fault_string), "%s", fault_string);
    unlink(a->restore_path);
    free(a->restore_path);
    a->restore_path = NULL;
    arm(a, 0, 0); /* finish from the loop, never from inside backup_restore_start */
}

/* Restore once no session runs (the ACS must not see values change within one).
 * true while the result is not known yet. */
static bool restore_step(struct transfer_apply *a)
{
    if (!a->restore_path)
        return false;
    if (a->restore)
        return true;
    if (a->ep->session) {
        arm(a, SESSION_POLL_S, 0);
        return true;
    }
    a->restore = backup_restore_start(a->ep, a->restore_path, a->local, restored, a);
    return true;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct transfer_apply *a = arg;
    if (restore_step(a))
        return;
    if (a->child > 0) {
        int status;
        pid_t r = waitpid(a->child, &status, WNOHANG);
        if (r == 0) {
            arm(a, 0, CHILD_POLL_MS * 1000);
            return;
        }
        a->child = 0;
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            /* A.5.1 9018: the file was fetched but could not be used. */
            a->fault = PX_ERR_DOWNLOAD_CORRUPTED;
            a->reboot = false;
            snprintf(a->fault_string, sizeof(a->fault_string),
                     "the file was rejected by the apply action (%s %d)",
                     r >= 0 && WIFEXITED(status) ? "exit status" : "signal",
                     r >= 0 && WIFEXITED(status) ? WEXITSTATUS(status)
                                                 : (r >= 0 ? WTERMSIG(status) : -1));
        }
    }
    finish(a);
}

static int run_action(struct transfer_apply *a, const char *action, const char *path)
{
    struct buf cmd = BUF_INIT;
    expand_command(&cmd, action, path);
    if (buf_failed(&cmd))
        return px_err_set(PX_ERR_INTERNAL, "out of memory");
    LOG_INFO("transfer", "apply: %s", cmd.data);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd.data, (char *)NULL);
        _exit(127);
    }
    buf_free(&cmd);
    if (pid < 0)
        return px_err_set(PX_ERR_INTERNAL, "cannot start the apply action: %s", strerror(errno));
    a->child = pid;
    return 0;
}

/* Store under the target name in the directory of path (the transfer directory). */
static void store_file(struct transfer_apply *a, const char *path, const char *target)
{
    struct buf dest = BUF_INIT;
    const char *slash = strrchr(path, '/');
    buf_append(&dest, path, slash ? (size_t)(slash - path + 1) : 0);
    buf_printf(&dest, "%s", target);
    if (buf_failed(&dest) || rename(path, dest.data) != 0) {
        a->fault = PX_ERR_DOWNLOAD_FAILURE;
        snprintf(a->fault_string, sizeof(a->fault_string), "cannot store the file as %s: %s",
                 dest.data ? dest.data : target, strerror(errno));
    } else {
        LOG_INFO("transfer", "stored %s", dest.data);
    }
    buf_free(&dest);
}

struct transfer_apply *transfer_apply_start(struct endpoint *ep, const char *file_type,
                                            const char *path, const char *target_name, bool local,
                                            transfer_apply_cb cb, void *arg)
{
    const struct px_config *cfg = ep->env.cfg;
    struct transfer_apply *a = calloc(1, sizeof(*a));
    if (!a) {
        px_err_set(PX_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    a->cb = cb;
    a->arg = arg;
    a->ep = ep;
    a->local = local;
    a->timer = evtimer_new(ep->env.base, on_timer, a);
    const char *action = action_of(cfg, file_type);
    int rc = 0;
    if (action && *action) {
        rc = run_action(a, action, path);
        a->reboot = !strcmp(file_type, FT_FIRMWARE);
    } else if (!strcmp(file_type, FT_CONFIG)) {
        a->restore_path = strdup(path);
    } else {
        store_file(a, path, target_name);
    }
    if (rc != 0 || !a->timer) {
        transfer_apply_cancel(a);
        return NULL;
    }
    arm(a, 0, a->child ? CHILD_POLL_MS * 1000 : 0);
    return a;
}

void transfer_apply_cancel(struct transfer_apply *a)
{
    if (!a)
        return;
    if (a->timer)
        event_free(a->timer);
    backup_restore_cancel(a->restore);
    free(a->restore_path);
    free(a);
}
