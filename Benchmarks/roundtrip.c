// roundtrip.c -- median round trip of `bash {"command":"true"}` over HTTP vs a bare posix_spawn of
// `/bin/sh -c true` (+ waitpid), interleaved in one run so both see the same machine noise.
//
//   cc -O2 -o roundtrip roundtrip.c
//   ./roundtrip API_KEY AGENT_ID N LABEL=PORT [LABEL=PORT...]
// Every server gets the same request, round robin with the bare spawn, so all see the same noise.
// Prints: mode n median_us p90_us p99_us (one line each), then each server's ratio to the spawn.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *mode, double *v, int n) {
    qsort(v, n, sizeof *v, cmp);
    printf("%-14s n=%d median_us=%.0f p90_us=%.0f p99_us=%.0f\n", mode, n, v[n / 2], v[n * 9 / 10], v[n * 99 / 100]);
}

static double spawn_once(void) {
    char *argv[] = {"/bin/sh", "-c", "true", NULL};
    double start = now_us();
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) { perror("posix_spawn"); exit(2); }
    int status;
    waitpid(pid, &status, 0);
    return now_us() - start;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); exit(2); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int reconnects;

/// One keep-alive request; reads the response by Content-Length. A connection the server closed
/// before answering (its idle/header timeout while other servers took their turn: a first call that
/// creates an agent can take seconds under load) is reopened once and the request sent again; the
/// count is printed at the end.
static double http_once(int *fd, int port, const char *request, size_t length) {
    static char buffer[1 << 16];
    double start = now_us();
    int retried = 0;
retry:
    if (write(*fd, request, length) != (ssize_t)length) {
        if (!retried) { retried = 1; reconnects++; close(*fd); *fd = connect_to(port); goto retry; }
        perror("write"); exit(2);
    }
    size_t have = 0;
    long body = -1;
    char *header_end = NULL;
    for (;;) {
        ssize_t n = read(*fd, buffer + have, sizeof buffer - 1 - have);
        if (n <= 0 && have == 0 && !retried) { retried = 1; reconnects++; close(*fd); *fd = connect_to(port); goto retry; }
        if (n <= 0) { perror("read"); exit(2); }
        have += n;
        buffer[have] = 0;
        if (!header_end && (header_end = strstr(buffer, "\r\n\r\n"))) {
            char *cl = strcasestr(buffer, "content-length:");
            body = cl ? strtol(cl + 15, NULL, 10) : 0;
            if (strncmp(buffer, "HTTP/1.1 200", 12) != 0) { fprintf(stderr, "bad response: %s\n", buffer); exit(2); }
        }
        if (header_end && (size_t)(header_end + 4 - buffer) + body <= have) break;
    }
    if (!strstr(header_end, "\"exit_code\":0")) { fprintf(stderr, "unexpected body: %s\n", header_end + 4); exit(2); }
    return now_us() - start;
}

#define MAX_SERVERS 8

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: roundtrip API_KEY AGENT_ID N LABEL=PORT [LABEL=PORT...]\n"); return 2; }
    const char *key = argv[1], *agent = argv[2];
    int n = atoi(argv[3]), servers = argc - 4;
    if (servers > MAX_SERVERS) servers = MAX_SERVERS;
    const char *body = "{\"command\":\"true\"}";
    char request[2048];
    size_t length = snprintf(request, sizeof request,
        "POST /v1/agents/%s/sandbox/bash HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", agent, key, strlen(body), body);
    char labels[MAX_SERVERS][64];
    int fds[MAX_SERVERS], ports[MAX_SERVERS];
    double *samples[MAX_SERVERS + 1];
    for (int s = 0; s < servers; s++) {
        const char *spec = argv[4 + s], *eq = strchr(spec, '=');
        snprintf(labels[s], sizeof labels[s], "%.*s", eq ? (int)(eq - spec) : 6, eq ? spec : "server");
        ports[s] = atoi(eq ? eq + 1 : spec);
        fds[s] = connect_to(ports[s]);
        samples[s] = calloc(n, sizeof(double));
    }
    samples[servers] = calloc(n, sizeof(double));
    for (int i = 0; i < n / 20 + 5; i++) {
        spawn_once();
        for (int s = 0; s < servers; s++) http_once(&fds[s], ports[s], request, length);
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k <= servers; k++) {
            int s = (i + k) % (servers + 1);  // rotate the order every iteration
            samples[s][i] = s == servers ? spawn_once() : http_once(&fds[s], ports[s], request, length);
        }
    }
    report("posix_spawn", samples[servers], n);
    for (int s = 0; s < servers; s++) report(labels[s], samples[s], n);
    double base = samples[servers][n / 2];
    for (int s = 0; s < servers; s++) {
        double tool = samples[s][n / 2];
        printf("%-10s median %.0f us = %.2fx posix_spawn (%.0f us); issue-3 target 1.5x + 0.3 ms = %.0f us: %s\n", labels[s], tool,
               tool / base, base, 1.5 * base + 300, tool <= 1.5 * base + 300 ? "met" : "missed");
    }
    if (servers > 1) {
        double first = samples[0][n / 2];
        for (int s = 1; s < servers; s++) printf("%s / %s = %.2fx\n", labels[s], labels[0], samples[s][n / 2] / first);
    }
    if (reconnects) printf("(%d closed keep-alive connection(s) reopened)\n", reconnects);
    return 0;
}
