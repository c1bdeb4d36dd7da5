/*
 * bench_util.c: helpers shared by the benchmarks (see bench_util.h): clock, percentiles,
 * /proc memory figures, temporary directories, the daemon as a child process, free ports and
 * the ACS's GetParameterValues envelope (TR-069 3.5, A.3.2.2).
 */
#include "bench_util.h"

#include <event2/http.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(double *samples, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(samples, n, sizeof(*samples), compare_doubles);
    /* nearest rank: the smallest sample with at least p% of the samples at or below it */
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return samples[rank - 1];
}

static void proc_path(char *out, size_t size, pid_t pid, const char *file)
{
    if (pid)
        snprintf(out, size, "/proc/%ld/%s", (long)pid, file);
    else
        snprintf(out, size, "/proc/self/%s", file);
}

long bench_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    proc_path(path, sizeof(path), pid, "status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t flen = strlen(field);
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (!strncmp(line, field, flen) && line[flen] == ':')
            kb = strtol(line + flen + 1, NULL, 10);
    fclose(f);
    return kb;
}

bool bench_reset_hwm(pid_t pid)
{
    char path[64];
    proc_path(path, sizeof(path), pid, "clear_refs");
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

char *bench_tempdir(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    char templ[512];
    snprintf(templ, sizeof(templ), "%s/%s_XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    return mkdtemp(templ) ? strdup(templ) : NULL;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

void bench_remove_tree(const char *dir)
{
    if (dir)
        nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int bench_gpv_request(struct buf *out, const char *id, const char *const *names, size_t n)
{
    buf_puts(out, "<soap-env:Envelope"
                  " xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\""
                  " xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\""
                  " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
                  " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
                  " xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\">"
                  "<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">");
    buf_xml_escaped(out, id);
    buf_printf(out,
               "</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:GetParameterValues>"
               "<ParameterNames soap-enc:arrayType=\"xsd:string[%zu]\">",
               n);
    for (size_t i = 0; i < n; i++) {
        buf_puts(out, "<string>");
        buf_xml_escaped(out, names[i]);
        buf_puts(out, "</string>");
    }
    buf_puts(out, "</ParameterNames></cwmp:GetParameterValues></soap-env:Body>"
                  "</soap-env:Envelope>");
    return buf_failed(out) ? -1 : 0;
}

size_t bench_count(const char *text, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *p = strstr(text, needle); p; p = strstr(p + len, needle))
        n++;
    return n;
}

pid_t bench_spawn(char *const argv[])
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    return pid;
}

void bench_stop(pid_t pid)
{
    bench_stop_within(pid, 5.0);
}

int bench_stop_within(pid_t pid, double seconds)
{
    int status;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (double waited = 0; waited < seconds; waited += 0.01) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0)
            return -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

unsigned bench_free_port(int type)
{
    int s = socket(AF_INET, type, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    unsigned port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(s, (struct sockaddr *)&sin, &len) == 0)
        port = ntohs(sin.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

struct evhttp *bench_http_listen(struct event_base *base, unsigned *port,
                                 void (*cb)(struct evhttp_request *req, void *arg), void *arg)
{
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    struct evhttp_bound_socket *bound =
        http ? evhttp_bind_socket_with_handle(http, "127.0.0.1", 0) : NULL;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    if (!bound ||
        getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len) != 0) {
        if (http)
            evhttp_free(http);
        return NULL;
    }
    *port = ntohs(sin.sin_port);
    evhttp_set_gencb(http, cb, arg);
    return http;
}
