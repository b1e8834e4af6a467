/* The physical floor for this server: one TCP connection, a prebuilt request
 * written with one write(), the response read until its Content-Length is in.
 *   floor URL N */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static char req[1024];
static size_t req_len;

static void once(int fd) {
    static char buf[8192];
    if (write(fd, req, req_len) != (ssize_t)req_len) { perror("floor: write"); exit(1); }
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0) { fprintf(stderr, "floor: connection closed\n"); exit(1); }
        have += r;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        if (strncmp(buf, "HTTP/1.1 404", 12)) { fprintf(stderr, "floor: %.40s\n", buf); exit(1); }
        long body = 0;
        for (char *p = buf; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : p)
            if (!strncasecmp(p, "content-length:", 15)) body = atol(p + 15);
        if ((size_t)(end + 4 - buf) + body <= have) return;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    size_t n = strtoul(argv[2], NULL, 10);
    char host[256];
    int port;
    if (n < 1 || n > 10000000 || split_url(argv[1], host, sizeof host, &port)) return 2;
    const char *body = "access_token=" BENCH_TOKEN;
    req_len = snprintf(req, sizeof req,
                       "POST /v1/oauth/token/revoke HTTP/1.1\r\ncontent-length: %zu\r\n"
                       "user-agent: libvoucherify/0.1.0\r\naccept: application/json\r\n"
                       "host: %s:%d\r\nx-app-id: " BENCH_APP_ID "\r\nx-app-token: " BENCH_SECRET
                       "\r\ncontent-type: application/x-www-form-urlencoded\r\n\r\n%s",
                       strlen(body), host, port, body);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "floor: IPv4 only\n"); return 2; }
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) { perror("floor: connect"); return 1; }
    for (int i = 0; i < BENCH_WARMUP; i++) once(fd);
    uint64_t *lat = calloc(n, sizeof *lat);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t c0 = now_ns();
        once(fd);
        lat[i] = now_ns() - c0;
    }
    report(lat, n, now_ns() - t0);
    close(fd);
    return 0;
}
