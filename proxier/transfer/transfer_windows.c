/*
 * transfer_windows.c: the TimeWindowList of ScheduleDownload (TR-069 A.4.1.8, Table 44):
 * checking it, its stored text form, and when a download may start.
 *
 * Modes: "1 At Any Time" and "2 Immediately" start at the window's start (we never defer
 * within a window); "3 When Idle" starts in the window when no session runs; "4 Confirmation
 * Needed" needs a user to ask, which this CPE has not: A.4.1.8 says to reject an unsupported
 * mode with 9003. MaxRetries is not used: a failed attempt is reported, not retried.
 */
#include "proxier/transfer/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxier/common/err.h"

static const char *const modes[] = {"1 At Any Time", "2 Immediately", "3 When Idle"};
#define MODE_WHEN_IDLE 3

static int mode_number(const char *mode)
{
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (mode && !strcmp(mode, modes[i]))
            return (int)i + 1;
    return 0;
}

int transfer_windows_check(const struct soap_time_window *w, size_t n)
{
    if (n < 1 || n > 2)
        return px_err_set(PX_ERR_INVALID_ARGUMENTS, "TimeWindowList must have 1 or 2 windows");
    for (size_t i = 0; i < n; i++) {
        if (!mode_number(w[i].window_mode))
            return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                              "WindowMode \"%s\" is not supported (no user to confirm)",
                              w[i].window_mode ? w[i].window_mode : "");
        if (w[i].window_end < w[i].window_start)
            return px_err_set(PX_ERR_INVALID_ARGUMENTS,
                              "time window %zu ends before it starts", i + 1);
        /* A.4.1.8: windows must not overlap; the second follows the first. */
        if (i > 0 && w[i].window_start < w[i - 1].window_end)
            return px_err_set(PX_ERR_INVALID_ARGUMENTS, "time windows overlap");
    }
    return 0;
}

void transfer_windows_format(const struct soap_time_window *w, size_t n, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%u,%u,%d", i ? ";" : "",
                                 w[i].window_start, w[i].window_end,
                                 mode_number(w[i].window_mode));
}

int transfer_windows_next(const char *text, int64_t created, int64_t now, bool busy,
                          int64_t *start)
{
    const char *p = text;
    while (p && *p) {
        unsigned ws, we;
        int mode;
        if (sscanf(p, "%u,%u,%d", &ws, &we, &mode) != 3)
            break;
        int64_t from = created + ws, to = created + we;
        if (now < from) {
            *start = from;
            return 0;
        }
        if (now <= to) {
            if (mode == MODE_WHEN_IDLE && busy) {
                *start = now + 1; /* look again: the session may be over */
                return 0;
            }
            *start = now;
            return 1;
        }
        p = strchr(p, ';');
        if (p)
            p++;
    }
    return -1;
}
