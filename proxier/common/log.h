/*
 * log.h: levelled logging to stderr or syslog, the in-memory ring of recent lines, and the
 * protocol trace.
 *
 * Every module logs through these macros so that a gateway vendor reading logs for years sees
 * one format: "LEVEL [module] message". The trace (log_trace_soap) dumps SOAP with the content
 * of every <Password>-like element masked; it is off unless enabled in the configuration.
 *
 * The ring keeps the last N lines written (in the stderr format, whatever the target), for
 * an Upload of "2 Vendor Log File" (TR-069 A.4.1.5): bounded memory, and no trace in it.
 * Messages never carry a password's value (hidden parameters are logged as ***), so neither
 * does the ring. It may be written from any thread.
 *
 * A message that a peer can make us repeat at will (a refused connection request in a flood)
 * goes through a struct log_limit: the first one is logged at once, the next ones within
 * log.repeat_interval seconds are only counted, and one line sums them up when the interval
 * is over: "<the last of them> (N more in the last S s)". One limit belongs to one thread.
 */
#ifndef PX_LOG_H
#define PX_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

void log_setup(enum log_target target, enum log_level level, bool trace);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_trace_enabled(void);

/* Keep the last `lines` lines in memory (0 = none; what was kept is forgotten). */
void log_ring_setup(unsigned lines);
/* The kept lines, oldest first, each ending in '\n', as one malloc'd string of *len bytes
 * ("" when none); NULL if out of memory. */
char *log_ring_text(size_t *len);

/* Parse "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *name);

/* Longest message kept of one log_write (longer ones are cut). */
#define LOG_MESSAGE_MAX 2048

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Repeated messages ---- */

/* [log] repeat_interval: seconds in which repeats are counted, 0 = log every one. */
void log_set_repeat_interval(unsigned seconds);
unsigned log_get_repeat_interval(void);

#define LOG_LIMIT_TEXT 256

struct log_limit {
    double since;               /* monotonic start of the open interval, 0 = none open */
    unsigned held;              /* occurrences counted in it, not logged */
    enum log_level level;       /* of the held ones */
    char module[16];
    char last[LOG_LIMIT_TEXT];  /* the text of the last held one */
};

/* Log one occurrence through l. Returns true when it was held back: the caller then makes
 * sure log_limit_flush(l) runs once log_limit_due(l) seconds have passed (a timer), so that
 * the count is written even if the repeats stop. */
bool log_limited(struct log_limit *l, enum log_level level, const char *module,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool log_vlimited(struct log_limit *l, enum log_level level, const char *module,
                  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* If l's interval is over: write the summary line of what it held (if anything) and start
 * a new interval after it (or close it when nothing was held). Cheap when nothing is due. */
void log_limit_flush(struct log_limit *l);
/* Seconds until l's open interval with held occurrences ends (>= 0), or -1 if none. */
double log_limit_due(const struct log_limit *l);

/* Dump one SOAP message (direction ">>" sent, "<<" received) with passwords masked. */
void log_trace_soap(const char *endpoint, const char *direction, const char *xml, size_t len);

/* Copy xml into a new string with the text of Password/ConnectionRequestPassword/... masked
 * as "***". Exposed for the unit test; the caller frees the result. */
char *log_mask_passwords(const char *xml, size_t len);

#define LOG_ERROR(mod, ...) log_write(LOG_LVL_ERROR, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) log_write(LOG_LVL_WARN, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) log_write(LOG_LVL_INFO, mod, __VA_ARGS__)
#define LOG_DEBUG(mod, ...)                                                                    \
    do {                                                                                       \
        if (log_get_level() >= LOG_LVL_DEBUG)                                                  \
            log_write(LOG_LVL_DEBUG, mod, __VA_ARGS__);                                        \
    } while (0)

#endif
