/*
 * rawtcp.c - C floor for the aemp-bench `oneway` workloads (raw TCP, no framing
 * library, no serialisation).
 *
 * One-way throughput over loopback between two OS processes:
 *   - the parent listens on 127.0.0.1 (kernel-chosen port), then fork()s;
 *   - the child connects and is the receiver: it reads with large read()s,
 *     splits the stream into records of 8 + PAYLOAD bytes (an 8-byte sequence
 *     number followed by the payload), checks that sequence numbers run 1..N
 *     without gaps, and writes one byte back after record N;
 *   - the parent is the sender: one write() per record, TCP_NODELAY on, and
 *     times from the first write to the receipt of that one-byte reply.
 * A warm-up batch (untimed, also checked) runs first on the same connection.
 *
 * Output (stdout, one line):
 *   rawtcp payload=P n=N secs=S msgs_per_s=R mb_per_s=M floor=c
 * mb_per_s = msgs_per_s * PAYLOAD / 1e6 (payload bytes only, as aemp-bench).
 *
 * Usage: rawtcp PAYLOAD [N]
 * Build: gcc -O2 -Wall -Wextra -o rawtcp rawtcp.c
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

#define DEFAULT_N 2000000L
#define WARMUP 20000L
#define SEQ_SIZE 8
#define READ_BUF (256 * 1024)

static void die(const char *what)
{
    perror(what);
    exit(2);
}

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

static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        die("setsockopt(TCP_NODELAY)");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Receive one batch of n records of rec bytes; check sequence numbers 1..n;
 * acknowledge with one byte.  A partial record at the end of a read() is moved
 * to the start of buf and completed by the next read().
 */
static int receive_batch(int fd, long n, size_t rec, char *buf)
{
    size_t have = 0; /* bytes at the start of buf not yet consumed */
    long next = 1;
    while (next <= n) {
        ssize_t r = read(fd, buf + have, READ_BUF - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "error: receiver: connection lost at record %ld\n", next);
            return -1;
        }
        have += (size_t)r;
        size_t off = 0;
        while (have - off >= rec && next <= n) {
            uint64_t seq;
            memcpy(&seq, buf + off, sizeof seq);
            if (seq != (uint64_t)next) {
                fprintf(stderr, "error: sequence check failed: expected %ld, got %llu\n",
                        next, (unsigned long long)seq);
                return -1;
            }
            next++;
            off += rec;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    if (have != 0) {
        fprintf(stderr, "error: receiver: %zu unexpected trailing bytes\n", have);
        return -1;
    }
    return write_all(fd, "k", 1);
}

static void receiver(uint16_t port, long n, size_t rec)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("connect");
    set_nodelay(fd);
    char *buf = malloc(READ_BUF);
    if (!buf)
        die("malloc");
    int rc = receive_batch(fd, WARMUP, rec, buf) == 0 && receive_batch(fd, n, rec, buf) == 0 ? 0 : 1;
    free(buf);
    close(fd);
    _exit(rc);
}

/* Send n records; wait for the one-byte acknowledgement. */
static int send_batch(int fd, long n, char *rec, size_t rec_len)
{
    for (long i = 1; i <= n; i++) {
        uint64_t seq = (uint64_t)i;
        memcpy(rec, &seq, sizeof seq);
        if (write_all(fd, rec, rec_len) < 0)
            return -1;
    }
    char ack;
    for (;;) {
        ssize_t r = read(fd, &ack, 1);
        if (r < 0 && errno == EINTR)
            continue;
        return r == 1 ? 0 : -1;
    }
}

int main(int argc, char **argv)
{
    long payload = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : DEFAULT_N;
    if (payload <= 0 || payload > 64 * 1024 || n <= 0) {
        fprintf(stderr, "usage: %s PAYLOAD [N]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    size_t rec_len = SEQ_SIZE + (size_t)payload;

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
        receiver(ntohs(addr.sin_port), n, rec_len);
    }

    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        die("accept");
    close(lfd);
    set_nodelay(fd);

    char *rec = malloc(rec_len);
    if (!rec)
        die("malloc");
    for (size_t i = 0; i < rec_len; i++)
        rec[i] = (char)(i & 0xff);

    int ok = send_batch(fd, WARMUP, rec, rec_len) == 0;
    double t0 = now_s();
    ok = ok && send_batch(fd, n, rec, rec_len) == 0;
    double secs = now_s() - t0;
    close(fd);

    int status = 0;
    waitpid(child, &status, 0);
    free(rec);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "error: rawtcp run failed (receiver status %d)\n", status);
        return 1;
    }
    double rate = (double)n / secs;
    printf("rawtcp payload=%ld n=%ld secs=%.3f msgs_per_s=%.0f mb_per_s=%.2f floor=c\n", payload,
           n, secs, rate, rate * (double)payload / 1e6);
    return 0;
}
