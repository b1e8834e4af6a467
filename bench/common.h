/* Timing and reporting shared by the C benchmark drivers.
 * Every driver prints one JSON line:
 *   {"calls":N,"secs":S,"cps":C,"p50_us":P50,"p99_us":P99}  */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The same unknown token everywhere: the server answers 404 with an empty body. */
#define BENCH_TOKEN "bench-unknown-token"
/* A token the stand-in answers 204 with an empty body, as a revoke that worked. */
#define BENCH_TOKEN_204 "fault-status-204"
#define BENCH_APP_ID "standin-app-id"
#define BENCH_SECRET "standin-secret-key"
#define BENCH_WARMUP 200

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts `lat` (nanoseconds per call) and prints the JSON line. */
static inline void report(uint64_t *lat, size_t n, uint64_t total_ns) {
    qsort(lat, n, sizeof lat[0], cmp_u64);
    double secs = total_ns / 1e9;
    printf("{\"calls\":%zu,\"secs\":%.6f,\"cps\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
           n, secs, n / secs, lat[n / 2] / 1e3, lat[(size_t)(n * 0.99)] / 1e3);
}

/* Splits "http://HOST:PORT" into host and port. Returns 0 on success. */
static inline int split_url(const char *url, char *host, size_t hostlen, int *port) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *colon = strrchr(p, ':');
    if (!colon || (size_t)(colon - p) >= hostlen) return -1;
    memcpy(host, p, colon - p);
    host[colon - p] = 0;
    *port = atoi(colon + 1);
    return 0;
}
#endif
