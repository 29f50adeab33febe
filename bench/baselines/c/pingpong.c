/*
 * pingpong.c - C floor for the aemp-bench `pingpong` workload.
 *
 * Blocking TCP ping-pong over loopback between two OS processes:
 *   - the parent listens on 127.0.0.1 (kernel-chosen port), then fork()s;
 *   - the child connects and echoes every MSG_SIZE-byte message it reads;
 *   - the parent accepts, sends a message, reads the MSG_SIZE-byte echo, and
 *     times each round trip on its own (CLOCK_MONOTONIC).
 * TCP_NODELAY is set on both ends; one write() and blocking read()s per
 * message, no batching, one message in flight.  The first 8 bytes of each
 * message carry a sequence number that the parent checks on every echo.
 *
 * Output (stdout, one line):
 *   pingpong n=N mean_us=A p50_us=B p99_us=C floor=c
 * Percentiles are nearest-rank (value at 1-based rank ceil(P/100*N) of the
 * sorted sample), the same definition the Erlang baseline uses.
 *
 * Usage: pingpong [N]     (default N below; WARMUP untimed round trips first)
 * Build: gcc -O2 -Wall -Wextra -o pingpong pingpong.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 32
#define DEFAULT_N 200000L
#define WARMUP 2000L

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* Write or read exactly len bytes (blocking). Returns 0, or -1 on EOF/error. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt(TCP_NODELAY)");
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Child: connect to the parent and echo messages until EOF. */
static void echo_server(uint16_t port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("connect");
    set_nodelay(fd);
    char buf[MSG_SIZE];
    while (read_all(fd, buf, sizeof buf) == 0)
        if (write_all(fd, buf, sizeof buf) < 0)
            break;
    close(fd);
    _exit(0);
}

/* Parent: n round trips; fills lat_ns (if non-NULL) with each round trip. */
static void run(int fd, long n, int64_t *lat_ns)
{
    char msg[MSG_SIZE], reply[MSG_SIZE];
    memset(msg, 0xab, sizeof msg);
    for (long i = 0; i < n; i++) {
        uint64_t seq = (uint64_t)i + 1, got;
        memcpy(msg, &seq, sizeof seq);
        int64_t t0 = now_ns();
        if (write_all(fd, msg, sizeof msg) < 0 || read_all(fd, reply, sizeof reply) < 0) {
            fprintf(stderr, "error: connection lost at round trip %ld\n", i + 1);
            exit(1);
        }
        int64_t t1 = now_ns();
        memcpy(&got, reply, sizeof got);
        if (got != seq) {
            fprintf(stderr, "error: sequence check failed: expected %llu, got %llu\n",
                    (unsigned long long)seq, (unsigned long long)got);
            exit(1);
        }
        if (lat_ns)
            lat_ns[i] = t1 - t0;
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : DEFAULT_N;
    if (n <= 0) {
        fprintf(stderr, "usage: %s [N]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    /* Listen first so the child can connect as soon as it runs. */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die("socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0)
        die("bind/listen");

    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(lfd);
        echo_server(ntohs(addr.sin_port));
    }

    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        die("accept");
    close(lfd);
    set_nodelay(fd);

    int64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat)
        die("malloc");
    run(fd, WARMUP, NULL);
    run(fd, n, lat);
    close(fd); /* child reads EOF and exits */
    waitpid(child, NULL, 0);

    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += (double)lat[i];
    qsort(lat, (size_t)n, sizeof *lat, cmp_i64);
    long r50 = (50 * n + 99) / 100, r99 = (99 * n + 99) / 100; /* ceil, 1-based */
    if (r50 < 1)
        r50 = 1;
    if (r99 < 1)
        r99 = 1;
    printf("pingpong n=%ld mean_us=%.2f p50_us=%.2f p99_us=%.2f floor=c\n", n,
           sum / (double)n / 1e3, (double)lat[r50 - 1] / 1e3, (double)lat[r99 - 1] / 1e3);
    free(lat);
    return 0;
}
