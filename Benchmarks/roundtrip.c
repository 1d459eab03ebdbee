// roundtrip.c -- median round trip of `bash {"command":"true"}` over HTTP vs a bare posix_spawn of
// `/bin/sh -c true` (+ waitpid), interleaved in one run so both see the same machine noise.
//
//   cc -O2 -o roundtrip roundtrip.c
//   ./roundtrip PORT API_KEY AGENT_ID N [BODY]
// Prints: mode n median_us p90_us p99_us  (one line each), then the ratio line.
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

/// One keep-alive request; reads the response by Content-Length.
static double http_once(int fd, const char *request, size_t length) {
    static char buffer[1 << 16];
    double start = now_us();
    if (write(fd, request, length) != (ssize_t)length) { perror("write"); exit(2); }
    size_t have = 0;
    long body = -1;
    char *header_end = NULL;
    for (;;) {
        ssize_t n = read(fd, buffer + have, sizeof buffer - 1 - have);
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

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: roundtrip PORT API_KEY AGENT_ID N [BODY]\n"); return 2; }
    int port = atoi(argv[1]), n = atoi(argv[4]);
    const char *body = argc > 5 ? argv[5] : "{\"command\":\"true\"}";
    char request[2048];
    size_t length = snprintf(request, sizeof request,
        "POST /v1/agents/%s/sandbox/bash HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: %s\r\n"
        "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", argv[3], argv[2], strlen(body), body);
    int fd = connect_to(port);
    int warm = n / 20 + 5;
    double *spawn = calloc(n, sizeof(double)), *http = calloc(n, sizeof(double));
    for (int i = 0; i < warm; i++) { spawn_once(); http_once(fd, request, length); }
    for (int i = 0; i < n; i++) {
        if (i % 2) { spawn[i] = spawn_once(); http[i] = http_once(fd, request, length); }
        else { http[i] = http_once(fd, request, length); spawn[i] = spawn_once(); }
    }
    report("posix_spawn", spawn, n);
    report("http-bash", http, n);
    double base = spawn[n / 2], tool = http[n / 2], target = 1.5 * base + 300;
    printf("ratio http-bash/posix_spawn = %.2fx; target <= 1.5x + 0.3 ms = %.0f us: %s\n", tool / base, target, tool <= target ? "MET" : "MISSED");
    return 0;
}
