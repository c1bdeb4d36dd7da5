/*
 * log.c: stderr/syslog logging, the ring of recent lines and the password-masking SOAP
 * trace.
 */
#include "proxier/common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static enum log_level log_level = LOG_LVL_INFO;
static bool log_trace = false;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* The last lines written; a helper thread (XMPP) logs too, hence the lock. */
static struct {
    pthread_mutex_t lock;
    char **lines; /* cap slots, lines[next] is the oldest once count == cap */
    unsigned cap, next, count;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void ring_clear(void)
{
    for (unsigned i = 0; i < ring.cap; i++)
        free(ring.lines[i]);
    free(ring.lines);
    ring.lines = NULL;
    ring.cap = ring.next = ring.count = 0;
}

void log_ring_setup(unsigned lines)
{
    pthread_mutex_lock(&ring.lock);
    ring_clear();
    ring.lines = lines ? calloc(lines, sizeof(*ring.lines)) : NULL;
    ring.cap = ring.lines ? lines : 0;
    pthread_mutex_unlock(&ring.lock);
}

static void ring_push(const char *line)
{
    pthread_mutex_lock(&ring.lock);
    char *copy = ring.cap ? strdup(line) : NULL;
    if (copy) {
        free(ring.lines[ring.next]);
        ring.lines[ring.next] = copy;
        ring.next = (ring.next + 1) % ring.cap;
        if (ring.count < ring.cap)
            ring.count++;
    }
    pthread_mutex_unlock(&ring.lock);
}

char *log_ring_text(size_t *len)
{
    pthread_mutex_lock(&ring.lock);
    unsigned first = ring.cap ? (ring.next + ring.cap - ring.count) % ring.cap : 0;
    size_t total = 0;
    for (unsigned i = 0; i < ring.count; i++)
        total += strlen(ring.lines[(first + i) % ring.cap]) + 1;
    char *out = malloc(total + 1);
    size_t used = 0;
    for (unsigned i = 0; out && i < ring.count; i++) {
        const char *line = ring.lines[(first + i) % ring.cap];
        size_t n = strlen(line);
        memcpy(out + used, line, n);
        out[used + n] = '\n';
        used += n + 1;
    }
    pthread_mutex_unlock(&ring.lock);
    if (out)
        out[used] = '\0';
    *len = out ? used : 0;
    return out;
}

void log_setup(enum log_target target, enum log_level level, bool trace)
{
    log_target = target;
    log_level = level;
    log_trace = trace;
    if (target == LOG_TARGET_SYSLOG)
        openlog("proxierd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

bool log_trace_enabled(void)
{
    return log_trace;
}

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

static void log_vwrite(enum log_level level, const char *module, const char *fmt, va_list ap)
{
    if (level > log_level)
        return;
    char msg[LOG_MESSAGE_MAX], line[LOG_MESSAGE_MAX + 64];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000, level_names[level], module, msg);
    ring_push(line);
    if (log_target == LOG_TARGET_SYSLOG) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level], "[%s] %s", module, msg);
        return;
    }
    fprintf(stderr, "%s\n", line);
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, module, fmt, ap);
    va_end(ap);
}

/* ---- Repeated messages ---- */

static unsigned repeat_interval = 60;

void log_set_repeat_interval(unsigned seconds)
{
    repeat_interval = seconds;
}

unsigned log_get_repeat_interval(void)
{
    return repeat_interval;
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The interval is over once repeat_interval has passed since it began. */
static bool interval_over(const struct log_limit *l, double now)
{
    return !l->since || now - l->since >= repeat_interval;
}

static void write_summary(struct log_limit *l, double now)
{
    log_write(l->level, l->module, "%s (%u more in the last %u s)", l->last, l->held,
              repeat_interval);
    l->held = 0;
    l->since = now; /* a steady flood gives one line per interval */
}

void log_limit_flush(struct log_limit *l)
{
    double now = monotonic_seconds();
    if (!l->since || !interval_over(l, now))
        return;
    if (l->held)
        write_summary(l, now);
    else
        l->since = 0;
}

double log_limit_due(const struct log_limit *l)
{
    if (!l->since || !l->held)
        return -1;
    double left = l->since + repeat_interval - monotonic_seconds();
    return left > 0 ? left : 0;
}

bool log_vlimited(struct log_limit *l, enum log_level level, const char *module,
                  const char *fmt, va_list ap)
{
    double now = monotonic_seconds();
    if (l->since && interval_over(l, now)) {
        if (l->held)
            write_summary(l, now);
        l->since = 0;
    }
    if (!repeat_interval || !l->since) {
        log_vwrite(level, module, fmt, ap);
        l->since = repeat_interval ? now : 0;
        return false;
    }
    vsnprintf(l->last, sizeof(l->last), fmt, ap);
    snprintf(l->module, sizeof(l->module), "%s", module);
    l->level = level;
    l->held++;
    return true;
}

bool log_limited(struct log_limit *l, enum log_level level, const char *module,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool held = log_vlimited(l, level, module, fmt, ap);
    va_end(ap);
    return held;
}

/* An element whose local name ends in "Password" (Password, ConnectionRequestPassword,
 * STUNPassword, ...) or a ParameterValueStruct whose Name ends in "Password" has its text
 * replaced. The second case matters most: SetParameterValues carries passwords as
 * <Name>...Password</Name><Value>secret</Value>. */
static bool ends_with_password(const char *s, size_t n)
{
    static const char suffix[] = "Password";
    size_t sl = sizeof(suffix) - 1;
    return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

char *log_mask_passwords(const char *xml, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool mask_next_value = false;
    for (size_t i = 0; i < len;) {
        if (xml[i] != '<' || i + 1 >= len || xml[i + 1] == '/' || xml[i + 1] == '?' ||
            xml[i + 1] == '!') {
            out[o++] = xml[i++];
            continue;
        }
        const char *gt = memchr(xml + i, '>', len - i);
        if (!gt) {
            out[o++] = xml[i++];
            continue;
        }
        size_t tag_end = (size_t)(gt - xml) + 1;
        /* Element name, without prefix and attributes. */
        size_t ns = i + 1, ne = ns;
        while (ne < tag_end - 1 && xml[ne] != ' ' && xml[ne] != '/' && xml[ne] != '>')
            ne++;
        const char *colon = memchr(xml + ns, ':', ne - ns);
        size_t ls = colon ? (size_t)(colon - xml) + 1 : ns;
        memcpy(out + o, xml + i, tag_end - i);
        o += tag_end - i;
        i = tag_end;
        bool self_closing = xml[tag_end - 2] == '/';
        bool is_value = (ne - ls == 5 && memcmp(xml + ls, "Value", 5) == 0);
        bool is_name = (ne - ls == 4 && memcmp(xml + ls, "Name", 4) == 0);
        bool mask = !self_closing && (ends_with_password(xml + ls, ne - ls) ||
                                      (is_value && mask_next_value));
        if (is_value)
            mask_next_value = false;
        const char *lt = memchr(xml + i, '<', len - i);
        size_t text_end = lt ? (size_t)(lt - xml) : len;
        if (is_name)
            mask_next_value = ends_with_password(xml + i, text_end - i);
        if (mask && text_end > i) {
            memcpy(out + o, "***", 3);
            o += 3;
            i = text_end;
        }
    }
    out[o] = '\0';
    return out;
}

void log_trace_soap(const char *endpoint, const char *direction, const char *xml, size_t len)
{
    if (!log_trace)
        return;
    if (len == 0) {
        log_write(LOG_LVL_INFO, "trace", "%s %s (empty)", endpoint, direction);
        return;
    }
    char *masked = log_mask_passwords(xml, len);
    if (!masked)
        return;
    if (log_target == LOG_TARGET_SYSLOG)
        syslog(LOG_INFO, "[trace] %s %s %s", endpoint, direction, masked);
    else
        fprintf(stderr, "---- %s %s (%zu bytes)\n%s\n----\n", endpoint, direction, len, masked);
    free(masked);
}
