/*
 * log.h: levelled logging to stderr or syslog, and the protocol trace.
 *
 * Every module logs through these macros so that a gateway vendor reading logs for years sees
 * one format: "LEVEL [module] message". The trace (log_trace_soap) dumps SOAP with the content
 * of every <Password>-like element masked; it is off unless enabled in the configuration.
 */
#ifndef PX_LOG_H
#define PX_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum log_target { LOG_TARGET_STDERR = 0, LOG_TARGET_SYSLOG };

void log_setup(enum log_target target, enum log_level level, bool trace);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_trace_enabled(void);

/* Parse "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *name);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
