/*
 * bench_util.h: what the benchmarks share: a monotonic clock, order statistics of samples,
 * a process's memory figures from /proc/PID/status, a temporary directory, and the ACS's
 * GetParameterValues request (TR-069 A.3.2.2) as it goes on the wire.
 *
 * Benchmarks print figures; nothing here judges them.
 */
#ifndef PX_BENCH_UTIL_H
#define PX_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proxier/common/buf.h"

/* Milliseconds on CLOCK_MONOTONIC. */
double bench_now_ms(void);

/* The p-th percentile (0..100, nearest rank) of n samples; sorts samples in place.
 * 0 when n is 0. */
double bench_percentile(double *samples, size_t n, double p);

/* A field of /proc/PID/status in kB ("VmRSS", "VmHWM"); pid 0 = this process. -1 if absent. */
long bench_proc_kb(pid_t pid, const char *field);
/* Reset VmHWM to the current VmRSS (Linux clear_refs "5"). False if the kernel refused. */
bool bench_reset_hwm(pid_t pid);

/* mkdtemp under $TMPDIR (or /tmp) from a prefix such as "px_bench_gpv"; the caller owns
 * the returned string and removes the directory with bench_remove_tree. NULL on error. */
char *bench_tempdir(const char *prefix);
/* Remove a directory and everything in it. */
void bench_remove_tree(const char *dir);

/* Write an ACS GetParameterValues envelope (cwmp-1-2 namespace, cwmp:ID id) asking for
 * names. Returns 0, or -1 if the buffer could not grow. */
int bench_gpv_request(struct buf *out, const char *id, const char *const *names, size_t n);

/* Start a program (argv[0] is its path, or a name looked up in PATH) as a child; -1 if
 * fork failed. */
pid_t bench_spawn(char *const argv[]);
/* SIGTERM the child, SIGKILL it if it has not exited within 5 s, and reap it. */
void bench_stop(pid_t pid);
/* The same with a grace of `seconds` (a daemon under valgrind needs time for its leak
 * report); its exit status (0..255), or -1 if it died of a signal or pid was not a child. */
int bench_stop_within(pid_t pid, double seconds);
/* A loopback port of the given socket type (SOCK_STREAM, SOCK_DGRAM) free a moment ago. */
unsigned bench_free_port(int type);

/* An evhttp server on 127.0.0.1 and a free port (*port), every request to cb: the benches'
 * minimal ACS. NULL on error. */
struct event_base;
struct evhttp;
struct evhttp_request;
struct evhttp *bench_http_listen(struct event_base *base, unsigned *port,
                                 void (*cb)(struct evhttp_request *req, void *arg), void *arg);

/* Occurrences of needle in the NUL-terminated text. */
size_t bench_count(const char *text, const char *needle);

#endif
