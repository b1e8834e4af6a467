/* The product: sequential (or threaded) vf_revoke_token calls through the C API.
 *   c_driver revoke URL N [THREADS [CLIENTS]]  N calls split over THREADS threads
 *                                              sharing CLIENTS clients (round robin)
 *   c_driver revoke-ok URL N                   N calls answered 204, as a revoke that works
 *   c_driver cold   URL N                      N calls, each on a new client (a new
 *                                              connection, over TLS a new handshake)
 *   c_driver revoke-ok-logged URL N            the same with a log callback at WARN, which
 *                                              must receive no record (none is formatted)
 *   c_driver bulk   URL N PARALLELISM          mint N tokens, time one vf_revoke_tokens
 *   c_driver bulk-stdin URL N PARALLELISM      one vf_revoke_tokens of N tokens read
 *                                              from stdin (one per line); prints its
 *                                              start in Unix seconds too
 *   c_driver create URL N                      cost of config + client new/free
 *   c_driver heap   URL N                      heap of idle clients and after N calls
 * Each revoke is of an unknown token: VF_STATUS_TOKEN_NOT_FOUND is the expected
 * outcome; with revoke-ok, of a token the stand-in always answers 204 (the
 * library's path for a revoke that worked), so VF_STATUS_OK. Any other outcome
 * ends the driver with status 1. Prints one JSON line (see common.h).
 * With BENCH_CA_FILE set, every client also trusts that CA (an https stand-in). */
#include "common.h"
#include <malloc.h>
#include <pthread.h>
#include <voucherify.h>

#define MAX_THREADS 64

/* Set by revoke-ok-logged: clients log to count_record at WARN. */
static int log_at_warn;
static volatile long records_received;

static void count_record(void *user_data, int level, const char *message) {
    (void)user_data;
    (void)level;
    (void)message;
    records_received++;
}

static vf_client *new_client(const char *url) {
    vf_config *cfg = vf_config_new();
    vf_client *client = NULL;
    const char *ca_file = getenv("BENCH_CA_FILE");
    if (!cfg || (ca_file && vf_config_set_ca_file(cfg, ca_file, NULL)) ||
        (log_at_warn && vf_config_set_log_callback(cfg, count_record, NULL, VF_LOG_LEVEL_WARN, NULL)) ||
        vf_config_set_app_id(cfg, BENCH_APP_ID, NULL) ||
        vf_config_set_secret_key(cfg, BENCH_SECRET, NULL) ||
        vf_config_set_base_url(cfg, url, NULL) ||
        vf_config_set_allow_insecure_http(cfg, true, NULL) ||
        vf_client_new(cfg, &client, NULL)) {
        fprintf(stderr, "c_driver: cannot create a client for %s\n", url);
        exit(1);
    }
    vf_config_free(cfg);
    return client;
}

static const char *revoke_token = BENCH_TOKEN;
static vf_status revoke_expected = VF_STATUS_TOKEN_NOT_FOUND;

static void revoke_once(const vf_client *client) {
    vf_status st = vf_revoke_token(client, revoke_token, NULL);
    if (st != revoke_expected) {
        fprintf(stderr, "c_driver: unexpected %s\n", vf_status_str(st));
        exit(1);
    }
}

struct worker {
    const vf_client *client;
    size_t calls;
    uint64_t *lat;
    pthread_barrier_t *start;
};

static void *work(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < BENCH_WARMUP; i++) revoke_once(w->client);
    pthread_barrier_wait(w->start);
    for (size_t i = 0; i < w->calls; i++) {
        uint64_t t0 = now_ns();
        revoke_once(w->client);
        w->lat[i] = now_ns() - t0;
    }
    return NULL;
}

static int run_revoke(const char *url, size_t n, int threads, int clients) {
    if (threads < 1 || threads > MAX_THREADS || clients < 1 || clients > threads) return 2;
    vf_client *cl[MAX_THREADS];
    for (int c = 0; c < clients; c++) cl[c] = new_client(url);
    uint64_t *lat = calloc(n, sizeof *lat);
    struct worker w[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, threads + 1);
    size_t off = 0;
    for (int t = 0; t < threads; t++) {
        size_t calls = n / threads + ((size_t)t < n % threads);
        w[t] = (struct worker){cl[t % clients], calls, lat + off, &start};
        off += calls;
        if (threads == 1) break; /* run inline below: no thread at all */
        pthread_create(&tid[t], NULL, work, &w[t]);
    }
    uint64_t t0;
    if (threads == 1) {
        for (int i = 0; i < BENCH_WARMUP; i++) revoke_once(w[0].client);
        t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            uint64_t c0 = now_ns();
            revoke_once(w[0].client);
            lat[i] = now_ns() - c0;
        }
    } else {
        pthread_barrier_wait(&start);
        t0 = now_ns();
        for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    }
    uint64_t total = now_ns() - t0;
    report(lat, n, total);
    for (int c = 0; c < clients; c++) vf_client_free(cl[c]);
    free(lat);
    return 0;
}

static int run_cold(const char *url, size_t n) {
    for (int i = 0; i < BENCH_WARMUP / 10; i++) {
        vf_client *client = new_client(url);
        revoke_once(client);
        vf_client_free(client);
    }
    uint64_t *lat = calloc(n, sizeof *lat);
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t c0 = now_ns();
        vf_client *client = new_client(url);
        revoke_once(client);
        vf_client_free(client);
        lat[i] = now_ns() - c0;
    }
    report(lat, n, now_ns() - t0);
    free(lat);
    return 0;
}

/* One timed vf_revoke_tokens of `tokens`, every one of which must be revoked. */
static int time_bulk(vf_client *client, char **tokens, size_t n, unsigned parallelism) {
    vf_status *statuses = calloc(n, sizeof *statuses);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t t0 = now_ns();
    vf_status st = vf_revoke_tokens(client, (const char *const *)tokens, n, parallelism,
                                    statuses, NULL, NULL);
    uint64_t total = now_ns() - t0;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) ok += statuses[i] == VF_STATUS_OK;
    free(statuses);
    if (st != VF_STATUS_OK || ok != n) {
        fprintf(stderr, "c_driver: bulk revoke: %s, %zu of %zu revoked\n", vf_status_str(st), ok, n);
        return 1;
    }
    printf("{\"calls\":%zu,\"secs\":%.6f,\"cps\":%.1f,\"parallelism\":%u,\"start_unix\":%.6f}\n", n,
           total / 1e9, n / (total / 1e9), parallelism, wall.tv_sec + wall.tv_nsec / 1e9);
    return 0;
}

static int run_bulk(const char *url, size_t n, unsigned parallelism) {
    vf_client *client = new_client(url);
    char **tokens = calloc(n, sizeof *tokens);
    vf_token **minted = calloc(n, sizeof *minted);
    for (size_t i = 0; i < n; i++) {
        if (vf_generate_token(client, "api", &minted[i], NULL)) {
            fprintf(stderr, "c_driver: cannot mint token %zu\n", i);
            return 1;
        }
        tokens[i] = (char *)vf_token_access_token(minted[i]);
    }
    int rc = time_bulk(client, tokens, n, parallelism);
    for (size_t i = 0; i < n; i++) vf_token_free(minted[i]);
    free(minted);
    free(tokens);
    vf_client_free(client);
    return rc;
}

static int run_bulk_stdin(const char *url, size_t n, unsigned parallelism) {
    char **tokens = calloc(n, sizeof *tokens);
    char line[512];
    for (size_t i = 0; i < n; i++) {
        if (!fgets(line, sizeof line, stdin)) {
            fprintf(stderr, "c_driver: %zu tokens on stdin, %zu expected\n", i, n);
            return 1;
        }
        line[strcspn(line, "\r\n")] = 0;
        tokens[i] = strdup(line);
    }
    vf_client *client = new_client(url);
    int rc = time_bulk(client, tokens, n, parallelism);
    vf_client_free(client);
    for (size_t i = 0; i < n; i++) free(tokens[i]);
    free(tokens);
    return rc;
}

static int run_create(const char *url, size_t n) {
    uint64_t *lat = calloc(n, sizeof *lat);
    uint64_t t0 = now_ns();
    vf_client_free(new_client(url)); /* the first: loads the trust store */
    uint64_t first = now_ns() - t0;
    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t c0 = now_ns();
        vf_client_free(new_client(url));
        lat[i] = now_ns() - c0;
    }
    uint64_t total = now_ns() - t0;
    qsort(lat, n, sizeof lat[0], cmp_u64);
    printf("{\"calls\":%zu,\"first_us\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"cps\":%.1f}\n", n,
           first / 1e3, lat[n / 2] / 1e3, lat[(size_t)(n * 0.99)] / 1e3, n / (total / 1e9));
    free(lat);
    return 0;
}

static long heap_now(void) { return (long)mallinfo2().uordblks; }

static int run_heap(const char *url, size_t n) {
    long base = heap_now();
    vf_client *client = new_client(url);
    long idle = heap_now();
    vf_client *more[9];
    for (int i = 0; i < 9; i++) more[i] = new_client(url);
    long ten = heap_now();
    for (int i = 0; i < 9; i++) vf_client_free(more[i]);
    revoke_once(client);
    long one_call = heap_now();
    for (size_t i = 1; i < n / 10; i++) revoke_once(client);
    long tenth = heap_now();
    for (size_t i = n / 10; i < n; i++) revoke_once(client);
    long all = heap_now();
    vf_client_free(client);
    printf("{\"calls\":%zu,\"first_client_bytes\":%ld,\"further_client_bytes\":%ld,"
           "\"after_1_call\":%ld,\"after_tenth\":%ld,\"after_all\":%ld,\"growth_bytes\":%ld}\n",
           n, idle - base, (ten - idle) / 9, one_call - base, tenth - base, all - base, all - tenth);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: c_driver revoke|revoke-ok|revoke-ok-logged|cold|bulk|bulk-stdin|create|heap URL N [ARGS]\n");
        return 2;
    }
    const char *mode = argv[1], *url = argv[2];
    size_t n = strtoul(argv[3], NULL, 10);
    if (n < 1 || n > 10000000) return 2;
    if (!strcmp(mode, "revoke"))
        return run_revoke(url, n, argc > 4 ? atoi(argv[4]) : 1, argc > 5 ? atoi(argv[5]) : 1);
    if (!strcmp(mode, "revoke-ok") || !strcmp(mode, "revoke-ok-logged")) {
        revoke_token = BENCH_TOKEN_204;
        revoke_expected = VF_STATUS_OK;
        log_at_warn = !strcmp(mode, "revoke-ok-logged");
        int status = run_revoke(url, n, 1, 1);
        if (records_received != 0) {
            fprintf(stderr, "c_driver: %ld log records on calls that succeeded at once\n", records_received);
            return 1;
        }
        return status;
    }
    if (!strcmp(mode, "cold")) return run_cold(url, n);
    if (!strcmp(mode, "bulk")) return run_bulk(url, n, argc > 4 ? atoi(argv[4]) : 4);
    if (!strcmp(mode, "bulk-stdin")) return run_bulk_stdin(url, n, argc > 4 ? atoi(argv[4]) : 4);
    if (!strcmp(mode, "create")) return run_create(url, n);
    if (!strcmp(mode, "heap")) return run_heap(url, n);
    return 2;
}
